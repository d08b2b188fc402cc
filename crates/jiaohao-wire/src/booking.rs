//! The JSON of appointments (预约): slots, booking, verifying, cancelling, checking in, the
//! admin's list and a service's booking settings.

use serde::{Deserialize, Serialize};

use crate::IssuedTicket;

/// `GET /api/bookings/slots`: a service's slots on a day, or why the day cannot be booked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingSlots {
    pub service: String,
    pub date: String,
    /// Whether the day can be booked at all.
    pub bookable: bool,
    /// Why not, in Chinese and English, when it cannot.
    pub reason: Option<String>,
    pub slots: Vec<BookingSlot>,
    /// The days that can be booked now (`YYYY-MM-DD`).
    pub days: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingSlot {
    pub start: String,
    pub end: String,
    pub capacity: u32,
    pub remaining: u32,
}

/// `POST /api/bookings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    pub service: String,
    pub date: String,
    pub start: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
}

/// The answer to `POST /api/bookings` (201).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingCreated {
    /// 8 characters without 0/O/1/I.
    pub code: String,
    pub service: String,
    pub date: String,
    pub start: String,
    pub end: String,
    /// Needed to cancel; shown to the citizen only.
    pub cancel_token: String,
    /// The booking's page.
    pub url: String,
    pub verified: bool,
}

/// `POST /api/bookings/{code}/verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBooking {
    pub sms_code: String,
}

/// `POST /api/bookings/check-in`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInById {
    pub id_number: String,
}

/// The answer to a check-in: the ticket as `POST /api/tickets` answers it, and the booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckedIn {
    #[serde(flatten)]
    pub ticket: IssuedTicket,
    pub booking: String,
    /// The booked slot, `HH:MM` to `HH:MM` (absent from hubs before the slot was sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_end: Option<String>,
}

/// A person who missed verified bookings within the last 180 days (`GET
/// /api/bookings/no-shows`): known by the masked ID number of their latest missed booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoShowPerson {
    pub masked_id: String,
    /// Missed bookings within the last 180 days.
    pub misses: u32,
    /// The date of the latest missed booking.
    pub last_missed: String,
    /// The day the person's bar from booking ends (three misses within 180 days bar booking
    /// for 30 days from the third); `None` when not barred.
    pub barred_until: Option<String>,
}

/// One booking as staff see it (`GET /api/bookings`): the ID number masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingEntry {
    pub code: String,
    pub service: String,
    pub date: String,
    pub start: String,
    pub end: String,
    /// `booked`, `lapsed`, `verified`, `cancelled`, `checked_in`, `served` or `no_show`.
    pub status: String,
    pub masked_id: String,
    pub booked_at: String,
    /// The ticket its check-in issued, today.
    pub ticket: Option<String>,
}

/// A service's booking settings (`GET`/`PUT /api/services/{code}/booking`, and a hall file's
/// `[service.booking]`). `GET` gives every field but `share_pct`. On `PUT` every field may be
/// left out, and keeps what the service has (or the default when it takes no bookings yet):
/// `slot_min` 30, `days_ahead` 5, `cancel_before_min` 120, `check_in_before_min` 30,
/// `check_in_after_min` 15. The places: `capacities` (one per slot of the day) as given;
/// else `share_pct` per cent of the daily cap spread over the slots; else the service's
/// capacities when the slot length stays; else the hall's `booking_share_pct` (default 50).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingSettingsDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_min: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_pct: Option<u8>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacities: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_ahead: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_before_min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in_before_min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in_after_min: Option<u32>,
}

/// The hall's local booking rules, as in `[hall.booking_rules]` of a hall file and the hall
/// settings of the admin API; a rule left out is its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BookingRules {
    /// An unverified booking holds its place this many minutes, then lapses (1–60; 10).
    pub lapse_min: u32,
    /// This many missed verified bookings … (1–10; 3)
    pub misses_to_bar: u32,
    /// … within this many days … (1–365; 180)
    pub miss_window_days: u32,
    /// … bar the person from booking for this many days after the last of them (1–365; 30).
    pub bar_days: u32,
}

impl Default for BookingRules {
    fn default() -> Self {
        BookingRules {
            lapse_min: 10,
            misses_to_bar: 3,
            miss_window_days: 180,
            bar_days: 30,
        }
    }
}
