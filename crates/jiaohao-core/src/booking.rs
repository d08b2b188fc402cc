//! Appointments (预约) and the hall's state that outlives the day ([`Registry`]): booking
//! settings per service, the bookings themselves and, from them, each person's missed
//! appointments. The day's [`Hall`](crate::Hall) state is wiped at each day start; the registry
//! is kept across days (and carried in the day-start snapshot), pruned only of what is too old
//! to matter. Cases that live for weeks (差评 follow-ups) belong here too.
//!
//! What depends on time (an unverified booking lapsing after the hall's
//! [`BookingRules::lapse_min`], a verified one
//! missed once its check-in closes) is read from the bookings and `now`, not stored as events:
//! the log holds only what people did.

use std::collections::BTreeMap;
use std::fmt;

use crate::calendar::HallCalendar;
use crate::case::Case;
use crate::error::Error;
use crate::event::Event;
use crate::identity::PersonKey;
use crate::ids::{ServiceCode, TicketId};
use crate::rating::{ENDED_RATINGS_KEPT_DAYS, RatableTicket, days_after};
use crate::service::Service;
use crate::time::{ClockTime, LocalDate, Millis};

/// The hall's local booking rules (a hall setting, [`HallSettings::booking_rules`]): how long
/// an unverified booking holds its place, and how many missed verified bookings within how
/// many days bar a person from booking for how long. The defaults are the common rule: 10
/// minutes; 3 misses within 180 days bar for 30 days.
///
/// [`HallSettings::booking_rules`]: crate::HallSettings::booking_rules
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingRules {
    /// An unverified booking holds its place this many minutes, then lapses (1 to 60).
    pub lapse_min: u32,
    /// This many misses of verified bookings within [`Self::miss_window_days`] bar a person
    /// (1 to 10).
    pub misses_to_bar: u32,
    /// The days within which misses count together (1 to 365).
    pub miss_window_days: u32,
    /// How long the bar lasts after the miss that caused it, in days (1 to 365).
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

impl BookingRules {
    /// The most of each rule, so the bookings kept for them stay bounded.
    pub const MAX_LAPSE_MIN: u32 = 60;
    pub const MAX_MISSES_TO_BAR: u32 = 10;
    pub const MAX_DAYS: u32 = 365;

    /// How long an unverified booking holds its place.
    pub fn lapse_ms(&self) -> i64 {
        i64::from(self.lapse_min) * Millis::MINUTE
    }

    /// Bookings are kept this many days after their slot (long enough for the bar), then
    /// dropped at a day start.
    pub fn keep_days(&self) -> i64 {
        i64::from(self.miss_window_days) + i64::from(self.bar_days) + 10
    }

    /// Checks each rule is within its range; the message says which, in Chinese and English.
    pub fn validate(&self) -> Result<(), Error> {
        let checks = [
            (
                "lapse_min",
                "未验证预约的保留时间（分钟）",
                self.lapse_min,
                Self::MAX_LAPSE_MIN,
            ),
            (
                "misses_to_bar",
                "限制预约的失约次数",
                self.misses_to_bar,
                Self::MAX_MISSES_TO_BAR,
            ),
            (
                "miss_window_days",
                "失约计数的天数",
                self.miss_window_days,
                Self::MAX_DAYS,
            ),
            ("bar_days", "限制预约的天数", self.bar_days, Self::MAX_DAYS),
        ];
        for (field, name_zh, value, max) in checks {
            if value == 0 || value > max {
                return Err(Error::invalid(format!(
                    "{name_zh}须为 1 到 {max}；booking_rules.{field} must be 1 to {max}, not {value}"
                )));
            }
        }
        Ok(())
    }
}

const DAY_MS: i64 = 24 * 60 * Millis::MINUTE;

/// The characters of a booking code: no 0/O, 1/I, so it can be read aloud and typed.
pub const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// The share of a service's daily cap its booking slots hold by default (a hall setting,
/// `booking_share_pct`): half, as Shenzhen's police household registration splits it.
pub const DEFAULT_SHARE_PCT: u8 = 50;
/// The default rules of a service's bookings: half-hour slots, book 1 to 5 working days
/// ahead, cancel up to 2 hours before the slot, check in from 30 minutes before its start to
/// 15 after.
pub const DEFAULT_SLOT_MIN: u16 = 30;
pub const DEFAULT_DAYS_AHEAD: u8 = 5;
pub const DEFAULT_CANCEL_BEFORE_MIN: u32 = 120;
pub const DEFAULT_CHECK_IN_BEFORE_MIN: u32 = 30;
pub const DEFAULT_CHECK_IN_AFTER_MIN: u32 = 15;

/// A booking's code: 8 characters of [`CODE_ALPHABET`], chosen at random by the caller.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BookingCode(String);

impl BookingCode {
    /// Parses a code; lower case is read as upper case.
    pub fn parse(text: &str) -> Result<BookingCode, Error> {
        let text = text.trim().to_ascii_uppercase();
        if text.len() == 8 && text.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            Ok(BookingCode(text))
        } else {
            Err(Error::invalid(format!(
                "'{text}' is not a booking code: 8 letters and digits without 0, O, 1 or I"
            )))
        }
    }

    /// The code made of 8 random bytes (each taken modulo 32, so every code is as likely).
    pub fn from_random(bytes: [u8; 8]) -> BookingCode {
        BookingCode(
            bytes
                .iter()
                .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BookingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a service takes bookings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingSettings {
    /// The length of a slot: 30 or 60 minutes.
    pub slot_min: u16,
    /// The places of each slot of the day, from the service's opening on; reserved out of its
    /// `daily_cap` (walk-ins get the rest).
    pub capacities: Vec<u32>,
    /// How many working days ahead a citizen may book: 1 to 5 (tomorrow's working day is 1).
    pub days_ahead: u8,
    /// Cancelling closes this long before the slot.
    pub cancel_before_min: u32,
    /// Check-in opens this long before the slot's start …
    pub check_in_before_min: u32,
    /// … and closes this long after it.
    pub check_in_after_min: u32,
}

impl BookingSettings {
    /// Settings whose slots share `share_pct` per cent of the service's daily cap evenly
    /// (earlier slots get the remainder), with the default rules: book 1–5 working days ahead,
    /// cancel up to 2 hours before, check in from 30 minutes before to 15 after the start.
    /// The service needs hours (for its slots) and a daily cap (to share).
    pub fn from_share(service: &Service, slot_min: u16, share_pct: u8) -> Result<Self, Error> {
        let slots = slots_of(service, slot_min)?;
        let cap = service.daily_cap.ok_or_else(|| {
            Error::invalid(format!(
                "service '{}' needs a daily cap to share out among booking slots",
                service.code
            ))
        })?;
        let booked = cap * u32::from(share_pct.min(100)) / 100;
        let count = slots.len() as u32;
        let capacities = (0..count)
            .map(|index| booked / count + u32::from(index < booked % count))
            .collect();
        Ok(BookingSettings {
            slot_min,
            capacities,
            days_ahead: DEFAULT_DAYS_AHEAD,
            cancel_before_min: DEFAULT_CANCEL_BEFORE_MIN,
            check_in_before_min: DEFAULT_CHECK_IN_BEFORE_MIN,
            check_in_after_min: DEFAULT_CHECK_IN_AFTER_MIN,
        })
    }

    /// Checks the settings against the service they are for.
    pub fn validate(&self, service: &Service) -> Result<(), Error> {
        let slots = slots_of(service, self.slot_min)?;
        if self.capacities.len() != slots.len() {
            return Err(Error::invalid(format!(
                "service '{}' has {} slots of {} minutes a day, but {} capacities are given",
                service.code,
                slots.len(),
                self.slot_min,
                self.capacities.len()
            )));
        }
        if self.capacities.iter().any(|&c| c > 10_000) {
            return Err(Error::invalid("a slot holds at most 10000 places"));
        }
        let booked: u32 = self.capacities.iter().sum();
        if let Some(cap) = service.daily_cap
            && booked > cap
        {
            return Err(Error::invalid(format!(
                "the slots of service '{}' hold {booked} places, more than its daily cap of {cap}",
                service.code
            )));
        }
        if !(1..=5).contains(&self.days_ahead) {
            return Err(Error::invalid("bookings open 1 to 5 working days ahead"));
        }
        for (field, value) in [
            ("cancel_before_min", self.cancel_before_min),
            ("check_in_before_min", self.check_in_before_min),
            ("check_in_after_min", self.check_in_after_min),
        ] {
            if value > 24 * 60 {
                return Err(Error::invalid(format!(
                    "{field} must be at most 1440 minutes"
                )));
            }
        }
        Ok(())
    }

    /// The places booked slots hold in a day.
    pub fn booked_capacity(&self) -> u32 {
        self.capacities.iter().sum()
    }
}

/// One slot of a service's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: ClockTime,
    pub end: ClockTime,
}

/// The slots of `slot_min` minutes within the service's hours, from its opening on (a last
/// piece shorter than a slot is no slot).
pub fn slots_of(service: &Service, slot_min: u16) -> Result<Vec<Slot>, Error> {
    if slot_min != 30 && slot_min != 60 {
        return Err(Error::invalid("a booking slot lasts 30 or 60 minutes"));
    }
    let Some((opens, closes)) = service.hours else {
        return Err(Error::invalid(format!(
            "service '{}' needs hours to take bookings",
            service.code
        )));
    };
    let mut slots = Vec::new();
    let mut start = opens.minutes();
    while start + slot_min <= closes.minutes() {
        slots.push(Slot {
            start: ClockTime::from_minutes(start)?,
            end: ClockTime::from_minutes(start + slot_min)?,
        });
        start += slot_min;
    }
    if slots.is_empty() {
        return Err(Error::invalid(format!(
            "service '{}' is open for less than one slot",
            service.code
        )));
    }
    Ok(slots)
}

/// A booking as made; what happened to it since is in its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub code: BookingCode,
    pub service: ServiceCode,
    pub date: LocalDate,
    pub start: ClockTime,
    pub end: ClockTime,
    /// The slot's start as an instant (the caller knows the time zone).
    pub starts_at: Millis,
    pub person: PersonKey,
    /// The ID number as staff see it (`1101**********123X`).
    pub masked_id: String,
    pub booked_at: Millis,
    /// When it lapses unless verified: its booking time plus the hall's
    /// [`BookingRules::lapse_min`] when it was made (a later change of the rule applies to
    /// bookings made after it, so no lapsed booking ever holds its place again).
    pub lapses_at: Millis,
    pub verified_at: Option<Millis>,
    pub cancelled_at: Option<Millis>,
    /// The ticket its check-in issued.
    pub ticket: Option<TicketId>,
    pub checked_in_at: Option<Millis>,
    /// Its ticket was finished at a window.
    pub served: bool,
}

/// Where a booking stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingStatus {
    /// Made, its SMS code not yet entered; holds its place until [`Booking::lapses_at`].
    Booked,
    /// Not verified in time: the place is free again.
    Lapsed,
    Verified,
    Cancelled,
    CheckedIn,
    /// Checked in and finished at a window.
    Served,
    /// Verified, but not checked in before check-in closed.
    NoShow,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Booked => "booked",
            BookingStatus::Lapsed => "lapsed",
            BookingStatus::Verified => "verified",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::CheckedIn => "checked_in",
            BookingStatus::Served => "served",
            BookingStatus::NoShow => "no_show",
        }
    }

    /// Whether the booking holds a place in its slot.
    pub fn holds_place(self) -> bool {
        !matches!(self, BookingStatus::Lapsed | BookingStatus::Cancelled)
    }
}

impl Booking {
    /// The status at `now`, given when its service's check-in closes after a slot's start.
    pub fn status(&self, now: Millis, check_in_after_min: u32) -> BookingStatus {
        if self.cancelled_at.is_some() {
            BookingStatus::Cancelled
        } else if self.ticket.is_some() {
            if self.served {
                BookingStatus::Served
            } else {
                BookingStatus::CheckedIn
            }
        } else if self.verified_at.is_some() {
            if now > self.check_in_closes(check_in_after_min) {
                BookingStatus::NoShow
            } else {
                BookingStatus::Verified
            }
        } else if now >= self.lapses_at {
            BookingStatus::Lapsed
        } else {
            BookingStatus::Booked
        }
    }

    pub fn check_in_closes(&self, check_in_after_min: u32) -> Millis {
        self.starts_at
            .plus_ms(i64::from(check_in_after_min) * Millis::MINUTE)
    }
}

/// The hall's state that outlives the day: booking settings and bookings (and so each
/// person's missed appointments), and the finished tickets of earlier days their citizens may
/// still rate from the phone. Evolved by the same events as the hall, never cleared by a day
/// start, only pruned of bookings older than [`BookingRules::keep_days`] and of tickets whose time to rate
/// ended more than [`ENDED_RATINGS_KEPT_DAYS`] ago.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    /// Booking settings of the services that take bookings.
    pub booking: BTreeMap<ServiceCode, BookingSettings>,
    /// The bookings kept, by code.
    pub bookings: BTreeMap<BookingCode, Booking>,
    /// Every 差评 case, by id (its ticket's id). Kept whatever their age: a case is a record
    /// the hall is asked about, and there are few.
    pub cases: BTreeMap<TicketId, Case>,
    /// The tickets finished on earlier days (rated or not), by id, kept while they may be
    /// rated from the phone and for [`ENDED_RATINGS_KEPT_DAYS`] after.
    pub ratable: BTreeMap<TicketId, RatableTicket>,
}

impl Registry {
    pub fn case(&self, id: TicketId) -> Option<&Case> {
        self.cases.get(&id)
    }

    /// Folds a case event (opened or a step); any other event changes nothing.
    pub(crate) fn fold_case(&mut self, event: &Event, at: Millis) {
        if let Some(case) = Case::opened_by(event, at) {
            self.cases.entry(case.ticket).or_insert(case);
        } else if let Some((id, to, step)) = Case::step_of(event, at)
            && let Some(case) = self.cases.get_mut(&id)
        {
            case.fold_step(to, step);
        }
    }

    pub fn booking(&self, code: &BookingCode) -> Option<&Booking> {
        self.bookings.get(code)
    }

    /// The booking settings of a service, if it takes bookings.
    pub fn settings(&self, service: &ServiceCode) -> Option<&BookingSettings> {
        self.booking.get(service)
    }

    /// The check-in close (in minutes after the start) of a service's bookings.
    pub fn check_in_after_min(&self, service: &ServiceCode) -> u32 {
        self.booking
            .get(service)
            .map_or(15, |settings| settings.check_in_after_min)
    }

    /// When a person's misses bar them from booking until, if they do at `now`: the time of
    /// a miss that is the [`BookingRules::misses_to_bar`]th within
    /// [`BookingRules::miss_window_days`], plus [`BookingRules::bar_days`].
    pub fn barred_until(
        &self,
        rules: &BookingRules,
        person: &PersonKey,
        now: Millis,
    ) -> Option<Millis> {
        let mut misses: Vec<Millis> = self
            .bookings
            .values()
            .filter(|b| &b.person == person)
            .filter(|b| self.status(b, now) == BookingStatus::NoShow)
            .map(|b| b.check_in_closes(self.check_in_after_min(&b.service)))
            .collect();
        misses.sort();
        let count = (rules.misses_to_bar as usize).max(1);
        let window = i64::from(rules.miss_window_days) * DAY_MS;
        let bar = i64::from(rules.bar_days) * DAY_MS;
        misses
            .windows(count)
            .filter(|run| run[count - 1].since(run[0]) <= window)
            .map(|run| run[count - 1].plus_ms(bar))
            .filter(|&until| until > now)
            .max()
    }

    /// How many places of a slot are held at `now`.
    pub fn held(
        &self,
        service: &ServiceCode,
        date: LocalDate,
        start: ClockTime,
        now: Millis,
    ) -> u32 {
        self.bookings
            .values()
            .filter(|b| &b.service == service && b.date == date && b.start == start)
            .filter(|b| self.status(b, now).holds_place())
            .count() as u32
    }

    /// A person's booking of a service on a date that still holds a place at `now`.
    pub fn booking_of(
        &self,
        person: &PersonKey,
        service: Option<&ServiceCode>,
        date: LocalDate,
        now: Millis,
    ) -> Option<&Booking> {
        self.bookings.values().find(|b| {
            &b.person == person
                && service.is_none_or(|s| &b.service == s)
                && b.date == date
                && self.status(b, now).holds_place()
        })
    }

    /// The bookings of a date (and a service, if given), by slot start then code.
    pub fn bookings_on(&self, date: LocalDate, service: Option<&ServiceCode>) -> Vec<&Booking> {
        let mut found: Vec<&Booking> = self
            .bookings
            .values()
            .filter(|b| b.date == date && service.is_none_or(|s| &b.service == s))
            .collect();
        found.sort_by(|a, b| (a.start, &a.code).cmp(&(b.start, &b.code)));
        found
    }

    /// A ticket of an earlier day by its page's token.
    pub fn ratable_by_token(&self, token: &str) -> Option<&RatableTicket> {
        self.ratable.values().find(|ticket| ticket.token == token)
    }

    /// Starts the day `date` at `at`: keeps the finished tickets of the day that ends
    /// (`finished`), drops bookings more than [`BookingRules::keep_days`] before `at` and
    /// tickets whose time
    /// to rate ended more than [`ENDED_RATINGS_KEPT_DAYS`] before `date`.
    pub(crate) fn start_day(
        &mut self,
        rules: &BookingRules,
        date: LocalDate,
        at: Millis,
        finished: impl IntoIterator<Item = RatableTicket>,
    ) {
        let oldest = Millis(at.0 - rules.keep_days() * DAY_MS);
        self.bookings.retain(|_, b| b.starts_at >= oldest);
        self.ratable
            .extend(finished.into_iter().map(|ticket| (ticket.id, ticket)));
        self.ratable
            .retain(|_, ticket| days_after(ticket.rate_until, ENDED_RATINGS_KEPT_DAYS) >= date);
    }

    /// The status of a booking at `now`.
    pub fn status(&self, booking: &Booking, now: Millis) -> BookingStatus {
        booking.status(now, self.check_in_after_min(&booking.service))
    }

    /// Forgets the booking settings of a removed service.
    pub(crate) fn service_removed(&mut self, service: &ServiceCode) {
        self.booking.remove(service);
    }
}

/// The working days on which a booking may be made from `today`: the next `days_ahead`
/// working days after it.
pub fn bookable_days(calendar: &HallCalendar, today: LocalDate, days_ahead: u8) -> Vec<LocalDate> {
    let mut days = Vec::new();
    let mut day = today;
    while days.len() < usize::from(days_ahead) {
        let Some(next) = calendar.next_open_date(day.next_day().unwrap_or(day)) else {
            break;
        };
        if next <= day {
            break;
        }
        days.push(next);
        day = next;
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Prefix;

    fn service() -> Service {
        Service::new(
            ServiceCode::parse("hukou").unwrap(),
            Prefix::parse("A").unwrap(),
            "户籍",
            "Household",
        )
        .with_hours(
            ClockTime::parse("09:00").unwrap(),
            ClockTime::parse("12:00").unwrap(),
        )
        .with_daily_cap(100)
    }

    #[test]
    fn codes_avoid_letters_that_look_like_digits() {
        assert!(BookingCode::parse("ABCD2345").is_ok());
        assert_eq!(BookingCode::parse("abcd2345").unwrap().as_str(), "ABCD2345");
        for bad in ["ABCD234", "ABCD23450", "ABCD234O", "ABCD2341", "ABCDI234"] {
            assert!(BookingCode::parse(bad).is_err(), "{bad}");
        }
        let code = BookingCode::from_random([0, 31, 32, 255, 7, 8, 9, 10]);
        assert!(BookingCode::parse(code.as_str()).is_ok());
    }

    #[test]
    fn a_share_of_the_cap_spreads_over_the_slots() {
        let settings = BookingSettings::from_share(&service(), 30, 50).unwrap();
        assert_eq!(settings.capacities, vec![9, 9, 8, 8, 8, 8]);
        assert_eq!(settings.booked_capacity(), 50);
        settings.validate(&service()).unwrap();
        let hourly = BookingSettings::from_share(&service(), 60, 30).unwrap();
        assert_eq!(hourly.capacities, vec![10, 10, 10]);
        assert!(BookingSettings::from_share(&service(), 45, 30).is_err());
        let mut too_many = settings.clone();
        too_many.capacities[0] = 60;
        assert!(too_many.validate(&service()).is_err());
        let mut wrong_count = settings;
        wrong_count.capacities.pop();
        assert!(wrong_count.validate(&service()).is_err());
    }
}
