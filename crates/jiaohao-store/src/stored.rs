//! The stored record: the JSON form of events in the log (and of the hall snapshot), with
//! types of its own, so that a change of the HTTP API can never change the log.
//!
//! This is a contract with every reader of the file (the hub after an upgrade, a standby, the
//! city service): the bytes written for an existing kind never change, kinds and fields are
//! only added, and a reader that meets a kind it does not know says so rather than calling
//! the record damaged. The serde attributes below (field order, defaults, which fields are
//! left out when empty) are part of the contract; `tests::every_kind_is_stored_byte_for_byte`
//! pins them.

use jiaohao_core::identity::parse_masked;
use jiaohao_core::{
    Absence, Booking, BookingCode, BookingRules, BookingSettings, Case, CaseStep, ClockTime, Error,
    Event, HallCalendar, HallSettings, HallSnapshot, LocalDate, Millis, Outcome, PersonKey, Prefix,
    RatableTicket, Rating, RatingReason, Registry, Rota, Service, ServiceCode, Shift, TicketId,
    TicketNumber, TicketRating, TransferTarget, Weekday, WindowDef, WindowNumber,
};
use serde::{Deserialize, Serialize};

/// Every event kind this version reads and writes (the `type` of a stored event).
pub const KNOWN_KINDS: [&str; 27] = [
    "day_started",
    "hall_configured",
    "calendar_configured",
    "service_defined",
    "service_removed",
    "window_defined",
    "window_removed",
    "ticket_issued",
    "ticket_called",
    "ticket_finished",
    "ticket_no_show",
    "ticket_transferred",
    "window_opened",
    "window_closed",
    "window_paused",
    "window_resumed",
    "ticket_rated",
    "booking_configured",
    "ticket_holder",
    "booking_made",
    "booking_verified",
    "booking_cancelled",
    "booking_checked_in",
    "case_opened",
    "case_called_back",
    "case_fixed",
    "case_closed",
];

/// Why a stored event cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The record is of a kind this version does not know: a newer jiaohao wrote it.
    #[error("unknown event kind '{0}'")]
    UnknownKind(String),
    /// The record is damaged or does not fit its kind.
    #[error("{0}")]
    Invalid(String),
}

/// The hall calendar as stored: its own plain form (weekday names, `YYYY-MM-DD` dates), not
/// an API type, so the API can change without changing the log.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredCalendar {
    working_weekdays: Vec<String>,
    holidays: Vec<String>,
    working_days: Vec<String>,
}

impl StoredCalendar {
    pub(crate) fn from_core(calendar: &HallCalendar) -> StoredCalendar {
        let (working_weekdays, holidays, working_days) = calendar.to_parts();
        StoredCalendar {
            working_weekdays,
            holidays,
            working_days,
        }
    }

    pub(crate) fn to_core(&self) -> Result<HallCalendar, Error> {
        HallCalendar::from_parts(&self.working_weekdays, &self.holidays, &self.working_days)
    }
}

/// How a service takes bookings, as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredBookingSettings {
    slot_min: u16,
    capacities: Vec<u32>,
    days_ahead: u8,
    cancel_before_min: u32,
    check_in_before_min: u32,
    check_in_after_min: u32,
}

impl StoredBookingSettings {
    fn from_core(settings: &BookingSettings) -> StoredBookingSettings {
        StoredBookingSettings {
            slot_min: settings.slot_min,
            capacities: settings.capacities.clone(),
            days_ahead: settings.days_ahead,
            cancel_before_min: settings.cancel_before_min,
            check_in_before_min: settings.check_in_before_min,
            check_in_after_min: settings.check_in_after_min,
        }
    }

    fn to_core(&self) -> BookingSettings {
        BookingSettings {
            slot_min: self.slot_min,
            capacities: self.capacities.clone(),
            days_ahead: self.days_ahead,
            cancel_before_min: self.cancel_before_min,
            check_in_before_min: self.check_in_before_min,
            check_in_after_min: self.check_in_after_min,
        }
    }
}

/// A service's booking settings in the snapshot's registry.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredServiceBooking {
    service: String,
    settings: StoredBookingSettings,
}

/// A booking in the snapshot's registry (the log has its events instead).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredBooking {
    code: String,
    service: String,
    date: String,
    start: String,
    end: String,
    starts_at_ms: i64,
    person: String,
    masked_id: String,
    booked_at_ms: i64,
    /// When it lapses unless verified; left out when 10 minutes after `booked_at_ms` (the
    /// only lapse before the booking rules became settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lapses_at_ms: Option<i64>,
    verified_at_ms: Option<i64>,
    cancelled_at_ms: Option<i64>,
    ticket: Option<u64>,
    checked_in_at_ms: Option<i64>,
    served: bool,
}

/// The lapse of a booking before the rules became settings, and their default.
const DEFAULT_LAPSE_MS: i64 = 10 * Millis::MINUTE;

/// A finished ticket of an earlier day in the snapshot's registry (version 5 on): what a
/// rating from the phone needs after the day ended.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredRatableTicket {
    token: String,
    id: u64,
    number: String,
    service: String,
    window: u16,
    date: String,
    issued_at_ms: i64,
    finished_at_ms: i64,
    rate_until: String,
    rating: Option<String>,
    reason: Option<String>,
}

/// The state that outlives the day, as the snapshot stores it.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StoredRegistry {
    booking: Vec<StoredServiceBooking>,
    bookings: Vec<StoredBooking>,
    /// 差评 cases (version 5 on). Empty when left out: a snapshot written before cases existed
    /// (which the city keeps) had none to carry.
    #[serde(default)]
    cases: Vec<StoredCase>,
    /// Tickets of earlier days the phone may still rate (version 5 on); empty when left out.
    #[serde(default)]
    ratable: Vec<StoredRatableTicket>,
}

/// A step of a case in the snapshot's registry.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredCaseStep {
    at_ms: i64,
    date: String,
    by: String,
    text: String,
}

impl StoredCaseStep {
    fn from_core(step: &CaseStep) -> StoredCaseStep {
        StoredCaseStep {
            at_ms: step.at.0,
            date: step.date.to_string(),
            by: step.by.clone(),
            text: step.text.clone(),
        }
    }

    fn to_core(&self) -> Result<CaseStep, Error> {
        Ok(CaseStep {
            at: Millis(self.at_ms),
            date: LocalDate::parse(&self.date)?,
            by: self.by.clone(),
            text: self.text.clone(),
        })
    }
}

/// A case in the snapshot's registry (the log has its events instead).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredCase {
    case: u64,
    number: String,
    service: String,
    window: u16,
    date: String,
    rating: String,
    reason: Option<String>,
    opened_at_ms: i64,
    due: String,
    called_back: Option<StoredCaseStep>,
    fixed: Option<StoredCaseStep>,
    closed: Option<StoredCaseStep>,
}

impl StoredCase {
    fn from_core(case: &Case) -> StoredCase {
        StoredCase {
            case: case.ticket.0,
            number: case.number.to_string(),
            service: case.service.to_string(),
            window: case.window.get(),
            date: case.date.to_string(),
            rating: case.rating.as_str().to_owned(),
            reason: case.reason.map(|r| r.as_str().to_owned()),
            opened_at_ms: case.opened_at.0,
            due: case.due.to_string(),
            called_back: case.called_back.as_ref().map(StoredCaseStep::from_core),
            fixed: case.fixed.as_ref().map(StoredCaseStep::from_core),
            closed: case.closed.as_ref().map(StoredCaseStep::from_core),
        }
    }

    fn to_core(&self) -> Result<Case, Error> {
        let step =
            |step: &Option<StoredCaseStep>| step.as_ref().map(StoredCaseStep::to_core).transpose();
        Ok(Case {
            ticket: TicketId(self.case),
            number: TicketNumber::parse(&self.number)?,
            service: ServiceCode::parse(&self.service)?,
            window: window(self.window)?,
            date: LocalDate::parse(&self.date)?,
            rating: parse_rating(&self.rating)?,
            reason: parse_reason(self.reason.as_deref())?,
            opened_at: Millis(self.opened_at_ms),
            due: LocalDate::parse(&self.due)?,
            called_back: step(&self.called_back)?,
            fixed: step(&self.fixed)?,
            closed: step(&self.closed)?,
        })
    }
}

impl StoredRegistry {
    fn from_core(registry: &Registry) -> StoredRegistry {
        StoredRegistry {
            booking: registry
                .booking
                .iter()
                .map(|(service, settings)| StoredServiceBooking {
                    service: service.to_string(),
                    settings: StoredBookingSettings::from_core(settings),
                })
                .collect(),
            bookings: registry
                .bookings
                .values()
                .map(|b| StoredBooking {
                    code: b.code.to_string(),
                    service: b.service.to_string(),
                    date: b.date.to_string(),
                    start: b.start.to_string(),
                    end: b.end.to_string(),
                    starts_at_ms: b.starts_at.0,
                    person: b.person.as_str().to_owned(),
                    masked_id: b.masked_id.clone(),
                    booked_at_ms: b.booked_at.0,
                    lapses_at_ms: (b.lapses_at.0 != b.booked_at.0 + DEFAULT_LAPSE_MS)
                        .then_some(b.lapses_at.0),
                    verified_at_ms: b.verified_at.map(|at| at.0),
                    cancelled_at_ms: b.cancelled_at.map(|at| at.0),
                    ticket: b.ticket.map(|id| id.0),
                    checked_in_at_ms: b.checked_in_at.map(|at| at.0),
                    served: b.served,
                })
                .collect(),
            cases: registry.cases.values().map(StoredCase::from_core).collect(),
            ratable: registry
                .ratable
                .values()
                .map(|t| StoredRatableTicket {
                    token: t.token.clone(),
                    id: t.id.0,
                    number: t.number.to_string(),
                    service: t.service.to_string(),
                    window: t.window.get(),
                    date: t.date.to_string(),
                    issued_at_ms: t.issued_at.0,
                    finished_at_ms: t.finished_at.0,
                    rate_until: t.rate_until.to_string(),
                    rating: t.rating.map(|r| r.rating.as_str().to_owned()),
                    reason: t
                        .rating
                        .and_then(|r| r.reason)
                        .map(|reason| reason.as_str().to_owned()),
                })
                .collect(),
        }
    }

    fn to_core(&self) -> Result<Registry, Error> {
        let mut registry = Registry::default();
        for entry in &self.booking {
            registry.booking.insert(
                ServiceCode::parse(&entry.service)?,
                entry.settings.to_core(),
            );
        }
        for b in &self.bookings {
            let booking = Booking {
                code: BookingCode::parse(&b.code)?,
                service: ServiceCode::parse(&b.service)?,
                date: LocalDate::parse(&b.date)?,
                start: ClockTime::parse(&b.start)?,
                end: ClockTime::parse(&b.end)?,
                starts_at: Millis(b.starts_at_ms),
                person: PersonKey::parse(&b.person)?,
                masked_id: parse_masked(&b.masked_id)?,
                booked_at: Millis(b.booked_at_ms),
                lapses_at: Millis(b.lapses_at_ms.unwrap_or(b.booked_at_ms + DEFAULT_LAPSE_MS)),
                verified_at: b.verified_at_ms.map(Millis),
                cancelled_at: b.cancelled_at_ms.map(Millis),
                ticket: b.ticket.map(TicketId),
                checked_in_at: b.checked_in_at_ms.map(Millis),
                served: b.served,
            };
            registry.bookings.insert(booking.code.clone(), booking);
        }
        for case in &self.cases {
            let case = case.to_core()?;
            registry.cases.insert(case.ticket, case);
        }
        for t in &self.ratable {
            let rating = match &t.rating {
                None => None,
                Some(rating) => Some(TicketRating {
                    rating: parse_rating(rating)?,
                    reason: parse_reason(t.reason.as_deref())?,
                }),
            };
            let ticket = RatableTicket {
                token: t.token.clone(),
                id: TicketId(t.id),
                number: TicketNumber::parse(&t.number)?,
                service: ServiceCode::parse(&t.service)?,
                window: window(t.window)?,
                date: LocalDate::parse(&t.date)?,
                issued_at: Millis(t.issued_at_ms),
                finished_at: Millis(t.finished_at_ms),
                rate_until: LocalDate::parse(&t.rate_until)?,
                rating,
            };
            registry.ratable.insert(ticket.id, ticket);
        }
        Ok(registry)
    }
}

/// The hall's settings as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredSettings {
    name_zh: String,
    name_en: String,
    #[serde(default = "default_timezone")]
    timezone: String,
    #[serde(default)]
    notices_zh: Vec<String>,
    #[serde(default)]
    notices_en: Vec<String>,
    /// Added with the rota (排班); left out when empty, so settings without one keep their
    /// old bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rota: Vec<StoredShift>,
    /// Added with 差评 cases; left out at its default (5), so settings keep their old bytes.
    #[serde(
        default = "default_case_due_working_days",
        skip_serializing_if = "is_default_case_due_working_days"
    )]
    case_due_working_days: u8,
    /// Added with booking settings in hall files; left out at its default (50), so settings
    /// keep their old bytes.
    #[serde(
        default = "default_booking_share_pct",
        skip_serializing_if = "is_default_booking_share_pct"
    )]
    booking_share_pct: u8,
    /// Added with the booking rules as settings; left out at their defaults, so settings
    /// keep their old bytes (and an old log reads the defaults).
    #[serde(default, skip_serializing_if = "StoredBookingRules::is_default")]
    booking_rules: StoredBookingRules,
}

/// The hall's booking rules as stored; a rule left out is its default.
#[derive(Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct StoredBookingRules {
    lapse_min: u32,
    misses_to_bar: u32,
    miss_window_days: u32,
    bar_days: u32,
}

impl Default for StoredBookingRules {
    fn default() -> Self {
        StoredBookingRules::from_core(&BookingRules::default())
    }
}

impl StoredBookingRules {
    fn from_core(rules: &BookingRules) -> StoredBookingRules {
        StoredBookingRules {
            lapse_min: rules.lapse_min,
            misses_to_bar: rules.misses_to_bar,
            miss_window_days: rules.miss_window_days,
            bar_days: rules.bar_days,
        }
    }

    fn to_core(&self) -> BookingRules {
        BookingRules {
            lapse_min: self.lapse_min,
            misses_to_bar: self.misses_to_bar,
            miss_window_days: self.miss_window_days,
            bar_days: self.bar_days,
        }
    }

    fn is_default(&self) -> bool {
        *self == StoredBookingRules::default()
    }
}

fn default_booking_share_pct() -> u8 {
    jiaohao_core::booking::DEFAULT_SHARE_PCT
}

fn is_default_booking_share_pct(pct: &u8) -> bool {
    *pct == jiaohao_core::booking::DEFAULT_SHARE_PCT
}

fn default_case_due_working_days() -> u8 {
    jiaohao_core::case::DEFAULT_DUE_WORKING_DAYS
}

fn is_default_case_due_working_days(days: &u8) -> bool {
    *days == jiaohao_core::case::DEFAULT_DUE_WORKING_DAYS
}

/// One shift of the rota as stored: a window, a weekday name, `HH:MM` to `HH:MM`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredShift {
    window: u16,
    weekday: String,
    from: String,
    to: String,
}

fn default_timezone() -> String {
    "Asia/Shanghai".to_owned()
}

fn yes() -> bool {
    true
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A service's definition as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredService {
    code: String,
    name_zh: String,
    name_en: String,
    prefix: String,
    wait_target_min: u32,
    handling_target_min: u32,
    handling_estimate_min: u32,
    #[serde(default)]
    daily_cap: Option<u32>,
    #[serde(default)]
    hours: Option<[String; 2]>,
    #[serde(default)]
    documents_zh: Vec<String>,
    #[serde(default)]
    documents_en: Vec<String>,
    #[serde(default)]
    fee_note_zh: String,
    #[serde(default)]
    fee_note_en: String,
    #[serde(default = "yes")]
    enabled: bool,
    /// Left out when false: services defined before it existed look the same.
    #[serde(default, skip_serializing_if = "is_false")]
    identity_required: bool,
}

/// A window's definition as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredWindow {
    number: u16,
    name_zh: String,
    name_en: String,
    #[serde(default)]
    services: Vec<String>,
    /// Left out when empty: definitions written before breaks existed look the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    breaks: Vec<[String; 2]>,
}

impl StoredSettings {
    pub(crate) fn from_core(settings: &HallSettings) -> StoredSettings {
        StoredSettings {
            name_zh: settings.name_zh.clone(),
            name_en: settings.name_en.clone(),
            timezone: settings.timezone.clone(),
            notices_zh: settings.notices_zh.clone(),
            notices_en: settings.notices_en.clone(),
            rota: settings
                .rota
                .shifts()
                .iter()
                .map(|s| StoredShift {
                    window: s.window.get(),
                    weekday: s.weekday.as_str().to_owned(),
                    from: s.from.to_string(),
                    to: s.to.to_string(),
                })
                .collect(),
            case_due_working_days: settings.case_due_working_days,
            booking_share_pct: settings.booking_share_pct,
            booking_rules: StoredBookingRules::from_core(&settings.booking_rules),
        }
    }

    pub(crate) fn to_core(&self) -> Result<HallSettings, Error> {
        let settings = HallSettings {
            name_zh: self.name_zh.trim().to_owned(),
            name_en: self.name_en.trim().to_owned(),
            timezone: self.timezone.trim().to_owned(),
            notices_zh: self.notices_zh.clone(),
            notices_en: self.notices_en.clone(),
            rota: Rota::new(
                self.rota
                    .iter()
                    .map(|s| {
                        Ok(Shift {
                            window: WindowNumber::new(u32::from(s.window))?,
                            weekday: Weekday::parse(&s.weekday)?,
                            from: ClockTime::parse(&s.from)?,
                            to: ClockTime::parse(&s.to)?,
                        })
                    })
                    .collect::<Result<Vec<_>, Error>>()?,
            )?,
            case_due_working_days: self.case_due_working_days,
            booking_share_pct: self.booking_share_pct,
            booking_rules: self.booking_rules.to_core(),
        };
        settings.validate()?;
        Ok(settings)
    }
}

impl StoredService {
    pub(crate) fn from_core(service: &Service) -> StoredService {
        StoredService {
            code: service.code.to_string(),
            name_zh: service.name_zh.clone(),
            name_en: service.name_en.clone(),
            prefix: service.prefix.to_string(),
            wait_target_min: service.wait_target_min,
            handling_target_min: service.handling_target_min,
            handling_estimate_min: service.handling_estimate_min,
            daily_cap: service.daily_cap,
            hours: service
                .hours
                .map(|(opens, closes)| [opens.to_string(), closes.to_string()]),
            documents_zh: service.documents_zh.clone(),
            documents_en: service.documents_en.clone(),
            fee_note_zh: service.fee_note_zh.clone(),
            fee_note_en: service.fee_note_en.clone(),
            enabled: service.enabled,
            identity_required: service.identity_required,
        }
    }

    pub(crate) fn to_core(&self) -> Result<Service, Error> {
        let hours = match &self.hours {
            Some([opens, closes]) => Some((ClockTime::parse(opens)?, ClockTime::parse(closes)?)),
            None => None,
        };
        let service = Service {
            code: ServiceCode::parse(&self.code)?,
            name_zh: self.name_zh.trim().to_owned(),
            name_en: self.name_en.trim().to_owned(),
            prefix: Prefix::parse(&self.prefix)?,
            wait_target_min: self.wait_target_min,
            handling_target_min: self.handling_target_min,
            handling_estimate_min: self.handling_estimate_min,
            daily_cap: self.daily_cap,
            hours,
            documents_zh: self.documents_zh.clone(),
            documents_en: self.documents_en.clone(),
            fee_note_zh: self.fee_note_zh.clone(),
            fee_note_en: self.fee_note_en.clone(),
            enabled: self.enabled,
            identity_required: self.identity_required,
        };
        service.validate()?;
        Ok(service)
    }
}

impl StoredWindow {
    pub(crate) fn from_core(def: &WindowDef) -> StoredWindow {
        StoredWindow {
            number: def.number.get(),
            name_zh: def.name_zh.clone(),
            name_en: def.name_en.clone(),
            services: def.services.iter().map(ToString::to_string).collect(),
            breaks: def
                .breaks
                .iter()
                .map(|b| [b.from.to_string(), b.to.to_string()])
                .collect(),
        }
    }

    pub(crate) fn to_core(&self) -> Result<WindowDef, Error> {
        WindowDef::parse(
            u32::from(self.number),
            &self.name_zh,
            &self.name_en,
            &self.services,
            &self.breaks,
        )
    }
}

/// The stored form of an event: one JSON object with a `type`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum StoredEvent {
    DayStarted {
        date: String,
    },
    HallConfigured {
        hall: StoredSettings,
    },
    /// Added with the hall calendar.
    CalendarConfigured {
        working_weekdays: Vec<String>,
        holidays: Vec<String>,
        working_days: Vec<String>,
    },
    ServiceDefined {
        service: StoredService,
    },
    ServiceRemoved {
        code: String,
    },
    WindowDefined {
        window: StoredWindow,
    },
    WindowRemoved {
        number: u16,
    },
    TicketIssued {
        id: u64,
        number: String,
        service: String,
        green_channel: bool,
        token: String,
        idempotency_key: Option<String>,
    },
    TicketCalled {
        id: u64,
        window: u16,
        recall: bool,
        out_of_order: Option<String>,
    },
    /// The outcome was added with 办理结果; a record without one (all before it, and every
    /// `done` since) is done, so a done finish keeps its old bytes.
    TicketFinished {
        id: u64,
        window: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        office: Option<String>,
    },
    TicketNoShow {
        id: u64,
        window: u16,
    },
    TicketTransferred {
        id: u64,
        window: u16,
        to_service: Option<String>,
        to_window: Option<u16>,
    },
    WindowOpened {
        window: u16,
    },
    /// The reason was added with reason classes: none in a close of before them.
    WindowClosed {
        window: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// `reason` is a class name since reason classes; before them it was the clerk's words,
    /// which read as their class (a class name) or as `other` with those words.
    WindowPaused {
        window: u16,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    WindowResumed {
        window: u16,
    },
    TicketRated {
        id: u64,
        window: u16,
        rating: String,
        reason: Option<String>,
    },
    /// Added with appointments (预约), as are the kinds below.
    BookingConfigured {
        service: String,
        settings: Option<StoredBookingSettings>,
    },
    TicketHolder {
        ticket: u64,
        person: String,
    },
    BookingMade {
        code: String,
        service: String,
        date: String,
        start: String,
        end: String,
        starts_at_ms: i64,
        person: String,
        masked_id: String,
    },
    BookingVerified {
        code: String,
    },
    BookingCancelled {
        code: String,
    },
    BookingCheckedIn {
        code: String,
        ticket: u64,
        queue_time_ms: i64,
    },
    /// Added with 差评 cases (差评工单), as are the kinds below.
    CaseOpened {
        case: u64,
        number: String,
        service: String,
        window: u16,
        date: String,
        rating: String,
        reason: Option<String>,
        due: String,
    },
    CaseCalledBack {
        case: u64,
        note: String,
        by: String,
        date: String,
    },
    CaseFixed {
        case: u64,
        fix: String,
        by: String,
        date: String,
    },
    CaseClosed {
        case: u64,
        by: String,
        date: String,
    },
}

/// The JSON an event is stored as.
pub fn event_to_json(event: &Event) -> String {
    let stored = match event {
        Event::DayStarted { date } => StoredEvent::DayStarted {
            date: date.to_string(),
        },
        Event::HallConfigured(settings) => StoredEvent::HallConfigured {
            hall: StoredSettings::from_core(settings),
        },
        Event::CalendarConfigured(calendar) => {
            let (working_weekdays, holidays, working_days) = calendar.to_parts();
            StoredEvent::CalendarConfigured {
                working_weekdays,
                holidays,
                working_days,
            }
        }
        Event::ServiceDefined(service) => StoredEvent::ServiceDefined {
            service: StoredService::from_core(service),
        },
        Event::ServiceRemoved { code } => StoredEvent::ServiceRemoved {
            code: code.to_string(),
        },
        Event::WindowDefined(def) => StoredEvent::WindowDefined {
            window: StoredWindow::from_core(def),
        },
        Event::WindowRemoved { number } => StoredEvent::WindowRemoved {
            number: number.get(),
        },
        Event::TicketIssued {
            id,
            number,
            service,
            green_channel,
            token,
            idempotency_key,
        } => StoredEvent::TicketIssued {
            id: id.0,
            number: number.to_string(),
            service: service.to_string(),
            green_channel: *green_channel,
            token: token.clone(),
            idempotency_key: idempotency_key.clone(),
        },
        Event::TicketCalled {
            id,
            window,
            recall,
            out_of_order,
        } => StoredEvent::TicketCalled {
            id: id.0,
            window: window.get(),
            recall: *recall,
            out_of_order: out_of_order.clone(),
        },
        Event::TicketFinished {
            id,
            window,
            outcome,
        } => {
            let (documents, reason, office) = match outcome {
                Outcome::Done => (Vec::new(), None, None),
                Outcome::DocumentsMissing(documents) => (documents.clone(), None, None),
                Outcome::Refused(reason) => (Vec::new(), Some(reason.clone()), None),
                Outcome::Referred(office) => (Vec::new(), None, Some(office.clone())),
            };
            StoredEvent::TicketFinished {
                id: id.0,
                window: window.get(),
                outcome: (!outcome.is_done()).then(|| outcome.kind().to_owned()),
                documents,
                reason,
                office,
            }
        }
        Event::TicketNoShow { id, window } => StoredEvent::TicketNoShow {
            id: id.0,
            window: window.get(),
        },
        Event::TicketTransferred { id, window, to } => {
            let (to_service, to_window) = match to {
                TransferTarget::Service(code) => (Some(code.to_string()), None),
                TransferTarget::Window(number) => (None, Some(number.get())),
            };
            StoredEvent::TicketTransferred {
                id: id.0,
                window: window.get(),
                to_service,
                to_window,
            }
        }
        Event::WindowOpened { window } => StoredEvent::WindowOpened {
            window: window.get(),
        },
        Event::WindowClosed { window, reason } => StoredEvent::WindowClosed {
            window: window.get(),
            reason: reason.as_ref().map(|r| r.class.as_str().to_owned()),
            note: reason
                .as_ref()
                .filter(|r| !r.note.is_empty())
                .map(|r| r.note.clone()),
        },
        Event::WindowPaused { window, reason } => StoredEvent::WindowPaused {
            window: window.get(),
            reason: reason.class.as_str().to_owned(),
            note: (!reason.note.is_empty()).then(|| reason.note.clone()),
        },
        Event::WindowResumed { window } => StoredEvent::WindowResumed {
            window: window.get(),
        },
        Event::TicketRated {
            id,
            window,
            rating,
            reason,
        } => StoredEvent::TicketRated {
            id: id.0,
            window: window.get(),
            rating: rating.as_str().to_owned(),
            reason: reason.map(|r| r.as_str().to_owned()),
        },
        Event::CaseOpened {
            case,
            number,
            service,
            window,
            date,
            rating,
            reason,
            due,
        } => StoredEvent::CaseOpened {
            case: case.0,
            number: number.to_string(),
            service: service.to_string(),
            window: window.get(),
            date: date.to_string(),
            rating: rating.as_str().to_owned(),
            reason: reason.map(|r| r.as_str().to_owned()),
            due: due.to_string(),
        },
        Event::CaseCalledBack {
            case,
            note,
            by,
            date,
        } => StoredEvent::CaseCalledBack {
            case: case.0,
            note: note.clone(),
            by: by.clone(),
            date: date.to_string(),
        },
        Event::CaseFixed {
            case,
            fix,
            by,
            date,
        } => StoredEvent::CaseFixed {
            case: case.0,
            fix: fix.clone(),
            by: by.clone(),
            date: date.to_string(),
        },
        Event::CaseClosed { case, by, date } => StoredEvent::CaseClosed {
            case: case.0,
            by: by.clone(),
            date: date.to_string(),
        },
        Event::BookingConfigured { service, settings } => StoredEvent::BookingConfigured {
            service: service.to_string(),
            settings: settings.as_ref().map(StoredBookingSettings::from_core),
        },
        Event::BookingMade {
            code,
            service,
            date,
            start,
            end,
            starts_at,
            person,
            masked_id,
        } => StoredEvent::BookingMade {
            code: code.to_string(),
            service: service.to_string(),
            date: date.to_string(),
            start: start.to_string(),
            end: end.to_string(),
            starts_at_ms: starts_at.0,
            person: person.as_str().to_owned(),
            masked_id: masked_id.clone(),
        },
        Event::TicketHolder { ticket, person } => StoredEvent::TicketHolder {
            ticket: ticket.0,
            person: person.as_str().to_owned(),
        },
        Event::BookingVerified { code } => StoredEvent::BookingVerified {
            code: code.to_string(),
        },
        Event::BookingCancelled { code } => StoredEvent::BookingCancelled {
            code: code.to_string(),
        },
        Event::BookingCheckedIn {
            code,
            ticket,
            queue_time,
        } => StoredEvent::BookingCheckedIn {
            code: code.to_string(),
            ticket: ticket.0,
            queue_time_ms: queue_time.0,
        },
    };
    serde_json::to_string(&stored).expect("stored events serialize")
}

fn window(number: u16) -> Result<WindowNumber, Error> {
    WindowNumber::new(u32::from(number))
}

fn parse_rating(rating: &str) -> Result<Rating, Error> {
    Rating::parse(rating).ok_or_else(|| Error::invalid(format!("'{rating}' is not a rating")))
}

fn parse_reason(reason: Option<&str>) -> Result<Option<RatingReason>, Error> {
    reason
        .map(|reason| {
            RatingReason::parse(reason)
                .ok_or_else(|| Error::invalid(format!("'{reason}' is not a rating reason")))
        })
        .transpose()
}

/// A stored event's bytes as a reader without the hall's secrets may see them (the city's
/// `ingest` stream): a ticket's page token (which opens its ticket page and rates it) blanked
/// to `""` and its idempotency key (a kiosk's retry handle) to `null`; a booking's code (which
/// opens its page on the public side) replaced by a pseudonym of the same form, the same in
/// every record of that booking (`booking_pseudonym`), so the reader's fold still links them;
/// every other kind, and every other field, verbatim (no other kind carries a secret: names of
/// halls, services and windows, pause reasons and ratings are public; a person is only a keyed
/// hash and a masked ID number). A body that does not decode is withheld (`None`), since what
/// it holds is unknown.
pub fn without_secrets(body: &str) -> Option<String> {
    if body.starts_with(r#"{"type":"booking_"#) {
        let mut stored = serde_json::from_str::<StoredEvent>(body).ok()?;
        match &mut stored {
            StoredEvent::BookingMade { code, .. }
            | StoredEvent::BookingVerified { code }
            | StoredEvent::BookingCancelled { code }
            | StoredEvent::BookingCheckedIn { code, .. } => *code = booking_pseudonym(code),
            _ => return Some(body.to_owned()),
        }
        return serde_json::to_string(&stored).ok();
    }
    if !body.starts_with(r#"{"type":"ticket_issued""#) {
        return Some(body.to_owned());
    }
    match serde_json::from_str::<StoredEvent>(body).ok()? {
        StoredEvent::TicketIssued {
            id,
            number,
            service,
            green_channel,
            ..
        } => serde_json::to_string(&StoredEvent::TicketIssued {
            id,
            number,
            service,
            green_channel,
            token: String::new(),
            idempotency_key: None,
        })
        .ok(),
        _ => None,
    }
}

/// A booking code's stand-in for readers without secrets: 8 characters of the code alphabet
/// drawn from the SHA-256 of the code, so one booking keeps one stand-in, and the stand-in
/// does not give the code back.
pub fn booking_pseudonym(code: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("jiaohao booking pseudonym\n{code}").as_bytes());
    digest
        .iter()
        .take(8)
        .map(|byte| char::from(jiaohao_core::booking::CODE_ALPHABET[usize::from(byte % 32)]))
        .collect()
}

/// Just the kind of a stored event, read when the whole does not decode.
#[derive(Deserialize)]
struct KindOnly {
    #[serde(rename = "type")]
    kind: String,
}

/// Reads a stored event back.
pub fn event_from_json(text: &str) -> Result<Event, DecodeError> {
    match serde_json::from_str::<StoredEvent>(text) {
        Ok(stored) => stored_to_event(stored).map_err(|e| DecodeError::Invalid(e.to_string())),
        Err(error) => {
            // Only on failure is the kind looked at on its own, so reading a sound log costs
            // one parse per event.
            match serde_json::from_str::<KindOnly>(text) {
                Ok(KindOnly { kind }) if !KNOWN_KINDS.contains(&kind.as_str()) => {
                    Err(DecodeError::UnknownKind(kind))
                }
                _ => Err(DecodeError::Invalid(error.to_string())),
            }
        }
    }
}

fn stored_to_event(stored: StoredEvent) -> Result<Event, Error> {
    let event = match stored {
        StoredEvent::DayStarted { date } => Event::DayStarted {
            date: LocalDate::parse(&date)?,
        },
        StoredEvent::HallConfigured { hall } => Event::HallConfigured(hall.to_core()?),
        StoredEvent::CalendarConfigured {
            working_weekdays,
            holidays,
            working_days,
        } => Event::CalendarConfigured(HallCalendar::from_parts(
            &working_weekdays,
            &holidays,
            &working_days,
        )?),
        StoredEvent::ServiceDefined { service } => Event::ServiceDefined(service.to_core()?),
        StoredEvent::ServiceRemoved { code } => Event::ServiceRemoved {
            code: ServiceCode::parse(&code)?,
        },
        StoredEvent::WindowDefined { window } => Event::WindowDefined(window.to_core()?),
        StoredEvent::WindowRemoved { number } => Event::WindowRemoved {
            number: window(number)?,
        },
        StoredEvent::TicketIssued {
            id,
            number,
            service,
            green_channel,
            token,
            idempotency_key,
        } => Event::TicketIssued {
            id: TicketId(id),
            number: TicketNumber::parse(&number)?,
            service: ServiceCode::parse(&service)?,
            green_channel,
            token,
            idempotency_key,
        },
        StoredEvent::TicketCalled {
            id,
            window: number,
            recall,
            out_of_order,
        } => Event::TicketCalled {
            id: TicketId(id),
            window: window(number)?,
            recall,
            out_of_order,
        },
        StoredEvent::TicketFinished {
            id,
            window: number,
            outcome,
            documents,
            reason,
            office,
        } => Event::TicketFinished {
            id: TicketId(id),
            window: window(number)?,
            outcome: Outcome::parse(
                outcome.as_deref().unwrap_or("done"),
                documents,
                reason.as_deref(),
                office.as_deref(),
            )?,
        },
        StoredEvent::TicketNoShow { id, window: number } => Event::TicketNoShow {
            id: TicketId(id),
            window: window(number)?,
        },
        StoredEvent::TicketTransferred {
            id,
            window: number,
            to_service,
            to_window,
        } => {
            let to = match (to_service, to_window) {
                (Some(code), None) => TransferTarget::Service(ServiceCode::parse(&code)?),
                (None, Some(target)) => TransferTarget::Window(window(target)?),
                _ => {
                    return Err(Error::invalid(
                        "a transfer names exactly one service or window",
                    ));
                }
            };
            Event::TicketTransferred {
                id: TicketId(id),
                window: window(number)?,
                to,
            }
        }
        StoredEvent::WindowOpened { window: number } => Event::WindowOpened {
            window: window(number)?,
        },
        StoredEvent::WindowClosed {
            window: number,
            reason,
            note,
        } => Event::WindowClosed {
            window: window(number)?,
            reason: match reason {
                Some(class) => Some(Absence::parse(&class, note.as_deref())?),
                None if note.is_some() => {
                    return Err(Error::invalid("a close's note needs its reason class"));
                }
                None => None,
            },
        },
        StoredEvent::WindowPaused {
            window: number,
            reason,
            note,
        } => Event::WindowPaused {
            window: window(number)?,
            reason: match note {
                Some(note) => Absence::parse(&reason, Some(&note))?,
                None => Absence::from_words(&reason),
            },
        },
        StoredEvent::WindowResumed { window: number } => Event::WindowResumed {
            window: window(number)?,
        },
        StoredEvent::TicketRated {
            id,
            window: number,
            rating,
            reason,
        } => Event::TicketRated {
            id: TicketId(id),
            window: window(number)?,
            rating: parse_rating(&rating)?,
            reason: parse_reason(reason.as_deref())?,
        },
        StoredEvent::CaseOpened {
            case,
            number,
            service,
            window: at_window,
            date,
            rating,
            reason,
            due,
        } => Event::CaseOpened {
            case: TicketId(case),
            number: TicketNumber::parse(&number)?,
            service: ServiceCode::parse(&service)?,
            window: window(at_window)?,
            date: LocalDate::parse(&date)?,
            rating: parse_rating(&rating)?,
            reason: parse_reason(reason.as_deref())?,
            due: LocalDate::parse(&due)?,
        },
        StoredEvent::CaseCalledBack {
            case,
            note,
            by,
            date,
        } => Event::CaseCalledBack {
            case: TicketId(case),
            note,
            by,
            date: LocalDate::parse(&date)?,
        },
        StoredEvent::CaseFixed {
            case,
            fix,
            by,
            date,
        } => Event::CaseFixed {
            case: TicketId(case),
            fix,
            by,
            date: LocalDate::parse(&date)?,
        },
        StoredEvent::CaseClosed { case, by, date } => Event::CaseClosed {
            case: TicketId(case),
            by,
            date: LocalDate::parse(&date)?,
        },
        StoredEvent::BookingConfigured { service, settings } => Event::BookingConfigured {
            service: ServiceCode::parse(&service)?,
            settings: settings.as_ref().map(StoredBookingSettings::to_core),
        },
        StoredEvent::BookingMade {
            code,
            service,
            date,
            start,
            end,
            starts_at_ms,
            person,
            masked_id,
        } => Event::BookingMade {
            code: BookingCode::parse(&code)?,
            service: ServiceCode::parse(&service)?,
            date: LocalDate::parse(&date)?,
            start: ClockTime::parse(&start)?,
            end: ClockTime::parse(&end)?,
            starts_at: Millis(starts_at_ms),
            person: PersonKey::parse(&person)?,
            masked_id: parse_masked(&masked_id)?,
        },
        StoredEvent::TicketHolder { ticket, person } => Event::TicketHolder {
            ticket: TicketId(ticket),
            person: PersonKey::parse(&person)?,
        },
        StoredEvent::BookingVerified { code } => Event::BookingVerified {
            code: BookingCode::parse(&code)?,
        },
        StoredEvent::BookingCancelled { code } => Event::BookingCancelled {
            code: BookingCode::parse(&code)?,
        },
        StoredEvent::BookingCheckedIn {
            code,
            ticket,
            queue_time_ms,
        } => Event::BookingCheckedIn {
            code: BookingCode::parse(&code)?,
            ticket: TicketId(ticket),
            queue_time: Millis(queue_time_ms),
        },
    };
    Ok(event)
}

/// The version of the hall snapshot's stored form. A snapshot of another version is ignored
/// (the hub folds the log instead and writes a new one), so raise it whenever
/// [`HallSnapshot`] or the form below changes: a snapshot is a cache, the log is the record.
pub const SNAPSHOT_VERSION: i64 = 5;

/// The stored form of a [`HallSnapshot`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredSnapshot {
    date: String,
    day_started_at_ms: i64,
    next_ticket_id: u64,
    hall: StoredSettings,
    #[serde(default)]
    calendar: Option<StoredCalendar>,
    services: Vec<StoredService>,
    windows: Vec<StoredWindow>,
    /// The state that outlives the day (version 3 on; ratable tickets and cases 5 on).
    registry: StoredRegistry,
}

/// The JSON a hall snapshot is stored as (of [`SNAPSHOT_VERSION`]).
pub fn snapshot_to_json(snapshot: &HallSnapshot) -> String {
    let stored = StoredSnapshot {
        date: snapshot.date.to_string(),
        day_started_at_ms: snapshot.day_started_at.0,
        next_ticket_id: snapshot.next_ticket_id.0,
        hall: StoredSettings::from_core(&snapshot.settings),
        calendar: snapshot.calendar.as_ref().map(StoredCalendar::from_core),
        services: snapshot
            .services
            .iter()
            .map(StoredService::from_core)
            .collect(),
        windows: snapshot
            .windows
            .iter()
            .map(StoredWindow::from_core)
            .collect(),
        registry: StoredRegistry::from_core(&snapshot.registry),
    };
    serde_json::to_string(&stored).expect("stored snapshots serialize")
}

/// Reads a hall snapshot of [`SNAPSHOT_VERSION`] back.
pub fn snapshot_from_json(text: &str) -> Result<HallSnapshot, DecodeError> {
    let invalid = |error: &dyn std::fmt::Display| DecodeError::Invalid(error.to_string());
    let stored: StoredSnapshot = serde_json::from_str(text).map_err(|e| invalid(&e))?;
    let snapshot = HallSnapshot {
        date: LocalDate::parse(&stored.date).map_err(|e| invalid(&e))?,
        day_started_at: Millis(stored.day_started_at_ms),
        next_ticket_id: TicketId(stored.next_ticket_id),
        settings: stored.hall.to_core().map_err(|e| invalid(&e))?,
        calendar: stored
            .calendar
            .as_ref()
            .map(StoredCalendar::to_core)
            .transpose()
            .map_err(|e| invalid(&e))?,
        services: stored
            .services
            .iter()
            .map(StoredService::to_core)
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(&e))?,
        windows: stored
            .windows
            .iter()
            .map(StoredWindow::to_core)
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(&e))?,
        registry: stored.registry.to_core().map_err(|e| invalid(&e))?,
    };
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiaohao_core::{AbsenceClass, Break};

    fn code(text: &str) -> ServiceCode {
        ServiceCode::parse(text).unwrap()
    }

    fn number(n: u32) -> WindowNumber {
        WindowNumber::new(n).unwrap()
    }

    fn hukou() -> Service {
        Service {
            code: code("hukou"),
            name_zh: "户籍".into(),
            name_en: "Household registration".into(),
            prefix: Prefix::parse("A").unwrap(),
            wait_target_min: 20,
            handling_target_min: 15,
            handling_estimate_min: 8,
            daily_cap: Some(300),
            hours: Some((
                ClockTime::parse("08:30").unwrap(),
                ClockTime::parse("17:00").unwrap(),
            )),
            documents_zh: vec!["居民户口簿".into()],
            documents_en: vec!["Household register".into()],
            fee_note_zh: "不收费".into(),
            fee_note_en: "Free".into(),
            enabled: true,
            identity_required: false,
        }
    }

    /// One event of every kind (and the optional parts both present and absent), with the
    /// exact JSON the log held for it before the store had types of its own (made by the code
    /// that stored events through the wire types, and never to be edited).
    fn every_event_with_its_bytes() -> Vec<(Event, &'static str)> {
        vec![
            (
                Event::DayStarted {
                    date: LocalDate::new(2026, 11, 23).unwrap(),
                },
                r#"{"type":"day_started","date":"2026-11-23"}"#,
            ),
            (
                Event::HallConfigured(HallSettings::default()),
                r#"{"type":"hall_configured","hall":{"name_zh":"公安服务大厅","name_en":"Public Security Service Hall","timezone":"Asia/Shanghai","notices_zh":[],"notices_en":[]}}"#,
            ),
            (
                Event::CalendarConfigured(HallCalendar {
                    holidays: [LocalDate::new(2027, 1, 1).unwrap()].into(),
                    working_days: [LocalDate::new(2026, 10, 10).unwrap()].into(),
                    ..HallCalendar::default()
                }),
                r#"{"type":"calendar_configured","working_weekdays":["monday","tuesday","wednesday","thursday","friday"],"holidays":["2027-01-01"],"working_days":["2026-10-10"]}"#,
            ),
            (
                Event::ServiceDefined(hukou()),
                r#"{"type":"service_defined","service":{"code":"hukou","name_zh":"户籍","name_en":"Household registration","prefix":"A","wait_target_min":20,"handling_target_min":15,"handling_estimate_min":8,"daily_cap":300,"hours":["08:30","17:00"],"documents_zh":["居民户口簿"],"documents_en":["Household register"],"fee_note_zh":"不收费","fee_note_en":"Free","enabled":true}}"#,
            ),
            (
                Event::ServiceRemoved {
                    code: code("vehicle"),
                },
                r#"{"type":"service_removed","code":"vehicle"}"#,
            ),
            (
                Event::WindowDefined(WindowDef {
                    number: number(3),
                    name_zh: "3号窗口".into(),
                    name_en: "Window 3".into(),
                    services: vec![code("hukou"), code("id_card")],
                    breaks: vec![Break {
                        from: ClockTime::parse("12:00").unwrap(),
                        to: ClockTime::parse("13:30").unwrap(),
                    }],
                }),
                r#"{"type":"window_defined","window":{"number":3,"name_zh":"3号窗口","name_en":"Window 3","services":["hukou","id_card"],"breaks":[["12:00","13:30"]]}}"#,
            ),
            (
                Event::WindowRemoved { number: number(9) },
                r#"{"type":"window_removed","number":9}"#,
            ),
            (
                Event::TicketIssued {
                    id: TicketId(41),
                    number: TicketNumber::parse("A1000").unwrap(),
                    service: code("hukou"),
                    green_channel: true,
                    token: "0123456789abcdef0123456789abcdef".into(),
                    idempotency_key: Some("k-1".into()),
                },
                r#"{"type":"ticket_issued","id":41,"number":"A1000","service":"hukou","green_channel":true,"token":"0123456789abcdef0123456789abcdef","idempotency_key":"k-1"}"#,
            ),
            (
                Event::TicketCalled {
                    id: TicketId(41),
                    window: number(3),
                    recall: false,
                    out_of_order: Some("老人行动不便".into()),
                },
                r#"{"type":"ticket_called","id":41,"window":3,"recall":false,"out_of_order":"老人行动不便"}"#,
            ),
            (
                Event::TicketFinished {
                    id: TicketId(41),
                    window: number(3),
                    outcome: Outcome::Done,
                },
                r#"{"type":"ticket_finished","id":41,"window":3}"#,
            ),
            (
                Event::TicketFinished {
                    id: TicketId(42),
                    window: number(3),
                    outcome: Outcome::DocumentsMissing(vec!["户口簿".into(), "近期照片".into()]),
                },
                r#"{"type":"ticket_finished","id":42,"window":3,"outcome":"documents_missing","documents":["户口簿","近期照片"]}"#,
            ),
            (
                Event::TicketFinished {
                    id: TicketId(43),
                    window: number(3),
                    outcome: Outcome::Refused("不属于本辖区".into()),
                },
                r#"{"type":"ticket_finished","id":43,"window":3,"outcome":"refused","reason":"不属于本辖区"}"#,
            ),
            (
                Event::TicketFinished {
                    id: TicketId(44),
                    window: number(3),
                    outcome: Outcome::Referred("区出入境管理大队".into()),
                },
                r#"{"type":"ticket_finished","id":44,"window":3,"outcome":"referred","office":"区出入境管理大队"}"#,
            ),
            (
                Event::TicketNoShow {
                    id: TicketId(42),
                    window: number(3),
                },
                r#"{"type":"ticket_no_show","id":42,"window":3}"#,
            ),
            (
                Event::TicketTransferred {
                    id: TicketId(43),
                    window: number(3),
                    to: TransferTarget::Service(code("id_card")),
                },
                r#"{"type":"ticket_transferred","id":43,"window":3,"to_service":"id_card","to_window":null}"#,
            ),
            (
                Event::TicketTransferred {
                    id: TicketId(44),
                    window: number(3),
                    to: TransferTarget::Window(number(5)),
                },
                r#"{"type":"ticket_transferred","id":44,"window":3,"to_service":null,"to_window":5}"#,
            ),
            (
                Event::WindowOpened { window: number(3) },
                r#"{"type":"window_opened","window":3}"#,
            ),
            (
                Event::WindowClosed {
                    window: number(3),
                    reason: None,
                },
                r#"{"type":"window_closed","window":3}"#,
            ),
            (
                Event::WindowClosed {
                    window: number(4),
                    reason: Some(Absence::new(AbsenceClass::OffDuty)),
                },
                r#"{"type":"window_closed","window":4,"reason":"off_duty"}"#,
            ),
            (
                Event::WindowClosed {
                    window: number(5),
                    reason: Some(Absence {
                        class: AbsenceClass::Training,
                        note: "新系统培训".into(),
                    }),
                },
                r#"{"type":"window_closed","window":5,"reason":"training","note":"新系统培训"}"#,
            ),
            (
                Event::WindowPaused {
                    window: number(3),
                    reason: Absence::new(AbsenceClass::Break),
                },
                r#"{"type":"window_paused","window":3,"reason":"break"}"#,
            ),
            (
                Event::WindowPaused {
                    window: number(4),
                    reason: Absence {
                        class: AbsenceClass::Other,
                        note: "取材料".into(),
                    },
                },
                r#"{"type":"window_paused","window":4,"reason":"other","note":"取材料"}"#,
            ),
            (
                Event::WindowResumed { window: number(3) },
                r#"{"type":"window_resumed","window":3}"#,
            ),
            (
                Event::TicketRated {
                    id: TicketId(41),
                    window: number(3),
                    rating: Rating::Dissatisfied,
                    reason: Some(RatingReason::RequirementsUnclear),
                },
                r#"{"type":"ticket_rated","id":41,"window":3,"rating":"dissatisfied","reason":"requirements_unclear"}"#,
            ),
            (
                Event::ServiceDefined(Service {
                    code: code("vehicle"),
                    name_zh: "车驾管".into(),
                    name_en: "Vehicles".into(),
                    prefix: Prefix::parse("C").unwrap(),
                    wait_target_min: 30,
                    handling_target_min: 20,
                    handling_estimate_min: 10,
                    daily_cap: None,
                    hours: None,
                    documents_zh: vec![],
                    documents_en: vec![],
                    fee_note_zh: String::new(),
                    fee_note_en: String::new(),
                    enabled: false,
                    identity_required: false,
                }),
                r#"{"type":"service_defined","service":{"code":"vehicle","name_zh":"车驾管","name_en":"Vehicles","prefix":"C","wait_target_min":30,"handling_target_min":20,"handling_estimate_min":10,"daily_cap":null,"hours":null,"documents_zh":[],"documents_en":[],"fee_note_zh":"","fee_note_en":"","enabled":false}}"#,
            ),
            (
                Event::HallConfigured(HallSettings {
                    name_zh: "某某区公安服务大厅".into(),
                    name_en: "District \"Hall\"".into(),
                    timezone: "Asia/Urumqi".into(),
                    notices_zh: vec!["今日下午\n停电".into()],
                    notices_en: vec!["Closed at 16:00".into(), "Bring ID".into()],
                    rota: Rota::default(),
                    case_due_working_days: 5,
                    booking_share_pct: 50,
                    booking_rules: BookingRules::default(),
                }),
                r#"{"type":"hall_configured","hall":{"name_zh":"某某区公安服务大厅","name_en":"District \"Hall\"","timezone":"Asia/Urumqi","notices_zh":["今日下午\n停电"],"notices_en":["Closed at 16:00","Bring ID"]}}"#,
            ),
            (
                Event::HallConfigured(HallSettings {
                    rota: Rota::new(vec![
                        Shift {
                            window: number(3),
                            weekday: Weekday::Saturday,
                            from: ClockTime::parse("09:00").unwrap(),
                            to: ClockTime::parse("12:00").unwrap(),
                        },
                        Shift {
                            window: number(1),
                            weekday: Weekday::Monday,
                            from: ClockTime::parse("08:30").unwrap(),
                            to: ClockTime::parse("17:30").unwrap(),
                        },
                    ])
                    .unwrap(),
                    ..HallSettings::default()
                }),
                r#"{"type":"hall_configured","hall":{"name_zh":"公安服务大厅","name_en":"Public Security Service Hall","timezone":"Asia/Shanghai","notices_zh":[],"notices_en":[],"rota":[{"window":1,"weekday":"monday","from":"08:30","to":"17:30"},{"window":3,"weekday":"saturday","from":"09:00","to":"12:00"}]}}"#,
            ),
            (
                Event::HallConfigured(HallSettings {
                    case_due_working_days: 15,
                    ..HallSettings::default()
                }),
                r#"{"type":"hall_configured","hall":{"name_zh":"公安服务大厅","name_en":"Public Security Service Hall","timezone":"Asia/Shanghai","notices_zh":[],"notices_en":[],"case_due_working_days":15}}"#,
            ),
            (
                Event::HallConfigured(HallSettings {
                    booking_share_pct: 30,
                    ..HallSettings::default()
                }),
                r#"{"type":"hall_configured","hall":{"name_zh":"公安服务大厅","name_en":"Public Security Service Hall","timezone":"Asia/Shanghai","notices_zh":[],"notices_en":[],"booking_share_pct":30}}"#,
            ),
            (
                Event::HallConfigured(HallSettings {
                    booking_rules: BookingRules {
                        lapse_min: 5,
                        misses_to_bar: 2,
                        miss_window_days: 90,
                        bar_days: 60,
                    },
                    ..HallSettings::default()
                }),
                r#"{"type":"hall_configured","hall":{"name_zh":"公安服务大厅","name_en":"Public Security Service Hall","timezone":"Asia/Shanghai","notices_zh":[],"notices_en":[],"booking_rules":{"lapse_min":5,"misses_to_bar":2,"miss_window_days":90,"bar_days":60}}}"#,
            ),
            (
                Event::WindowDefined(WindowDef {
                    number: number(12),
                    name_zh: "12号窗口".into(),
                    name_en: "Window 12".into(),
                    services: vec![],
                    breaks: vec![],
                }),
                r#"{"type":"window_defined","window":{"number":12,"name_zh":"12号窗口","name_en":"Window 12","services":[]}}"#,
            ),
            (
                Event::TicketIssued {
                    id: TicketId(0),
                    number: TicketNumber::parse("B001").unwrap(),
                    service: code("id_card"),
                    green_channel: false,
                    token: "ffffffffffffffffffffffffffffffff".into(),
                    idempotency_key: None,
                },
                r#"{"type":"ticket_issued","id":0,"number":"B001","service":"id_card","green_channel":false,"token":"ffffffffffffffffffffffffffffffff","idempotency_key":null}"#,
            ),
            (
                Event::TicketCalled {
                    id: TicketId(7),
                    window: number(999),
                    recall: true,
                    out_of_order: None,
                },
                r#"{"type":"ticket_called","id":7,"window":999,"recall":true,"out_of_order":null}"#,
            ),
            (
                Event::TicketRated {
                    id: TicketId(7),
                    window: number(1),
                    rating: Rating::VerySatisfied,
                    reason: None,
                },
                r#"{"type":"ticket_rated","id":7,"window":1,"rating":"very_satisfied","reason":null}"#,
            ),
            (
                Event::BookingConfigured {
                    service: code("exit_entry"),
                    settings: Some(BookingSettings {
                        slot_min: 30,
                        capacities: vec![4, 3],
                        days_ahead: 5,
                        cancel_before_min: 120,
                        check_in_before_min: 30,
                        check_in_after_min: 15,
                    }),
                },
                r#"{"type":"booking_configured","service":"exit_entry","settings":{"slot_min":30,"capacities":[4,3],"days_ahead":5,"cancel_before_min":120,"check_in_before_min":30,"check_in_after_min":15}}"#,
            ),
            (
                Event::BookingMade {
                    code: BookingCode::parse("ABCD2345").unwrap(),
                    service: code("exit_entry"),
                    date: LocalDate::new(2026, 12, 8).unwrap(),
                    start: ClockTime::parse("09:30").unwrap(),
                    end: ClockTime::parse("10:00").unwrap(),
                    starts_at: Millis(1_796_693_400_000),
                    person: PersonKey::parse(&"0a".repeat(32)).unwrap(),
                    masked_id: "1101**********002X".into(),
                },
                r#"{"type":"booking_made","code":"ABCD2345","service":"exit_entry","date":"2026-12-08","start":"09:30","end":"10:00","starts_at_ms":1796693400000,"person":"0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a","masked_id":"1101**********002X"}"#,
            ),
            (
                Event::TicketHolder {
                    ticket: TicketId(12),
                    person: PersonKey::parse(&"0a".repeat(32)).unwrap(),
                },
                r#"{"type":"ticket_holder","ticket":12,"person":"0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a"}"#,
            ),
            (
                Event::BookingVerified {
                    code: BookingCode::parse("ABCD2345").unwrap(),
                },
                r#"{"type":"booking_verified","code":"ABCD2345"}"#,
            ),
            (
                Event::BookingCancelled {
                    code: BookingCode::parse("ABCD2345").unwrap(),
                },
                r#"{"type":"booking_cancelled","code":"ABCD2345"}"#,
            ),
            (
                Event::BookingCheckedIn {
                    code: BookingCode::parse("ABCD2345").unwrap(),
                    ticket: TicketId(12),
                    queue_time: Millis(1_796_693_400_000),
                },
                r#"{"type":"booking_checked_in","code":"ABCD2345","ticket":12,"queue_time_ms":1796693400000}"#,
            ),
            (
                Event::CaseOpened {
                    case: TicketId(41),
                    number: TicketNumber::parse("B007").unwrap(),
                    service: code("id_card"),
                    window: number(3),
                    date: LocalDate::new(2026, 12, 7).unwrap(),
                    rating: Rating::VeryDissatisfied,
                    reason: Some(RatingReason::Attitude),
                    due: LocalDate::new(2026, 12, 14).unwrap(),
                },
                r#"{"type":"case_opened","case":41,"number":"B007","service":"id_card","window":3,"date":"2026-12-07","rating":"very_dissatisfied","reason":"attitude","due":"2026-12-14"}"#,
            ),
            (
                Event::CaseCalledBack {
                    case: TicketId(41),
                    note: "已电话回访".into(),
                    by: "wang".into(),
                    date: LocalDate::new(2026, 12, 8).unwrap(),
                },
                r#"{"type":"case_called_back","case":41,"note":"已电话回访","by":"wang","date":"2026-12-08"}"#,
            ),
            (
                Event::CaseFixed {
                    case: TicketId(41),
                    fix: "增开窗口".into(),
                    by: "wang".into(),
                    date: LocalDate::new(2026, 12, 9).unwrap(),
                },
                r#"{"type":"case_fixed","case":41,"fix":"增开窗口","by":"wang","date":"2026-12-09"}"#,
            ),
            (
                Event::CaseClosed {
                    case: TicketId(41),
                    by: "li".into(),
                    date: LocalDate::new(2026, 12, 15).unwrap(),
                },
                r#"{"type":"case_closed","case":41,"by":"li","date":"2026-12-15"}"#,
            ),
        ]
    }

    #[test]
    fn every_kind_is_stored_byte_for_byte() {
        let samples = every_event_with_its_bytes();
        let kinds: std::collections::BTreeSet<&str> =
            samples.iter().map(|(event, _)| event.kind()).collect();
        assert_eq!(
            kinds,
            KNOWN_KINDS.into_iter().collect(),
            "one sample of each event kind, and every kind known to the reader"
        );
        for (event, bytes) in &samples {
            assert_eq!(event_to_json(event), *bytes);
            assert_eq!(event_from_json(bytes).as_ref(), Ok(event), "{bytes}");
        }
    }

    #[test]
    fn tickets_secrets_and_booking_codes_are_withheld_from_readers_without_secrets() {
        for (event, bytes) in every_event_with_its_bytes() {
            let stripped = without_secrets(bytes).unwrap();
            match event {
                Event::TicketIssued { .. } => {
                    let back = event_from_json(&stripped).unwrap();
                    let Event::TicketIssued {
                        token,
                        idempotency_key,
                        ..
                    } = back
                    else {
                        panic!("{stripped}")
                    };
                    assert!(token.is_empty() && idempotency_key.is_none(), "{stripped}");
                    assert!(stripped.contains(r#""token":"","idempotency_key":null}"#));
                }
                Event::BookingMade { code, .. }
                | Event::BookingVerified { code }
                | Event::BookingCancelled { code }
                | Event::BookingCheckedIn { code, .. } => {
                    let stand_in = booking_pseudonym(&code.to_string());
                    assert!(!stripped.contains(&code.to_string()), "{stripped}");
                    assert!(stripped.contains(&stand_in), "{stripped}");
                    // Still a record the reader's fold reads.
                    event_from_json(&stripped).unwrap();
                }
                _ => assert_eq!(stripped, bytes),
            }
        }
        assert_eq!(without_secrets(r#"{"type":"ticket_issued","id":"#), None);
        assert_eq!(booking_pseudonym("ABCD2345"), booking_pseudonym("ABCD2345"));
        assert_ne!(booking_pseudonym("ABCD2345"), booking_pseudonym("ABCD2346"));
    }

    #[test]
    fn a_calendar_that_breaks_its_rules_is_refused() {
        for bad in [
            r#"{"type":"calendar_configured","working_weekdays":["someday"],"holidays":[],"working_days":[]}"#,
            r#"{"type":"calendar_configured","working_weekdays":[],"holidays":["2027-02-30"],"working_days":[]}"#,
            r#"{"type":"calendar_configured","working_weekdays":[],"holidays":["2027-01-01"],"working_days":["2027-01-01"]}"#,
            r#"{"type":"calendar_configured","working_weekdays":["monday","monday"],"holidays":[],"working_days":[]}"#,
            r#"{"type":"calendar_configured","working_weekdays":[],"holidays":["2027-01-01","2027-01-01"],"working_days":[]}"#,
            r#"{"type":"calendar_configured","working_weekdays":[" monday"],"holidays":[],"working_days":[]}"#,
        ] {
            assert!(
                matches!(event_from_json(bad), Err(DecodeError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn records_written_with_fewer_fields_read_as_before() {
        // Optional parts left out read as their defaults (as the log was read before the store
        // had its own types), and names are trimmed.
        for (old, today) in [
            (
                r#"{"type":"hall_configured","hall":{"name_zh":" 大厅 ","name_en":"Hall"}}"#,
                r#"{"type":"hall_configured","hall":{"name_zh":"大厅","name_en":"Hall","timezone":"Asia/Shanghai","notices_zh":[],"notices_en":[]}}"#,
            ),
            (
                r#"{"type":"service_defined","service":{"code":"hukou","name_zh":" 户籍 ","name_en":"Hukou","prefix":"A","wait_target_min":20,"handling_target_min":15,"handling_estimate_min":8}}"#,
                r#"{"type":"service_defined","service":{"code":"hukou","name_zh":"户籍","name_en":"Hukou","prefix":"A","wait_target_min":20,"handling_target_min":15,"handling_estimate_min":8,"daily_cap":null,"hours":null,"documents_zh":[],"documents_en":[],"fee_note_zh":"","fee_note_en":"","enabled":true}}"#,
            ),
            (
                r#"{"type":"window_defined","window":{"number":3,"name_zh":"3号窗口","name_en":" Window 3 "}}"#,
                r#"{"type":"window_defined","window":{"number":3,"name_zh":"3号窗口","name_en":"Window 3","services":[]}}"#,
            ),
            (
                r#"{"type":"ticket_issued","id":1,"number":"A001","service":"hukou","green_channel":false,"token":"0123456789abcdef0123456789abcdef"}"#,
                r#"{"type":"ticket_issued","id":1,"number":"A001","service":"hukou","green_channel":false,"token":"0123456789abcdef0123456789abcdef","idempotency_key":null}"#,
            ),
            (
                r#"{"type":"ticket_called","id":1,"window":3,"recall":false}"#,
                r#"{"type":"ticket_called","id":1,"window":3,"recall":false,"out_of_order":null}"#,
            ),
            (
                r#"{"type":"ticket_rated","id":1,"window":3,"rating":"basic"}"#,
                r#"{"type":"ticket_rated","id":1,"window":3,"rating":"basic","reason":null}"#,
            ),
            (
                r#"{"type":"ticket_transferred","id":1,"window":3,"to_window":4}"#,
                r#"{"type":"ticket_transferred","id":1,"window":3,"to_service":null,"to_window":4}"#,
            ),
            (
                r#"{"type":"window_paused","window":3,"reason":"系统维护"}"#,
                r#"{"type":"window_paused","window":3,"reason":"other","note":"系统维护"}"#,
            ),
            (
                r#"{"type":"window_paused","window":3,"reason":"system_fault"}"#,
                r#"{"type":"window_paused","window":3,"reason":"system_fault"}"#,
            ),
            (
                r#"{"type":"window_paused","window":3,"reason":"会议"}"#,
                r#"{"type":"window_paused","window":3,"reason":"meeting"}"#,
            ),
            (
                r#"{"type":"ticket_finished","id":1,"window":3,"outcome":"done"}"#,
                r#"{"type":"ticket_finished","id":1,"window":3}"#,
            ),
            (
                r#"{"date":"2026-01-01","type":"day_started"}"#,
                r#"{"type":"day_started","date":"2026-01-01"}"#,
            ),
        ] {
            let event = event_from_json(old).unwrap_or_else(|e| panic!("{old}: {e}"));
            assert_eq!(event_to_json(&event), today);
        }
    }

    #[test]
    fn window_definitions_from_before_breaks_still_decode() {
        let old = r#"{"type":"window_defined","window":{"number":3,"name_zh":"3号窗口","name_en":"Window 3","services":["hukou"]}}"#;
        let Ok(Event::WindowDefined(def)) = event_from_json(old) else {
            panic!("{old} does not decode");
        };
        assert!(def.breaks.is_empty());
        // A window without breaks is stored as before.
        assert!(!event_to_json(&Event::WindowDefined(def)).contains("breaks"));
        let broken = old.replace(
            r#""services":["hukou"]"#,
            r#""services":["hukou"],"breaks":[["13:00","12:00"]]"#,
        );
        assert!(event_from_json(&broken).is_err());
    }

    #[test]
    fn damaged_events_are_refused_with_a_reason() {
        for bad in [
            "",
            "{}",
            r#"{"type":"ticket_called","id":1}"#,
            r#"{"type":"window_opened","window":0}"#,
            r#"{"type":"ticket_transferred","id":1,"window":2,"to_service":null,"to_window":null}"#,
            r#"{"type":"day_started","date":"2026-02-30"}"#,
            r#"{"type":"window_opened","window":1,"extra":true}"#,
            r#"{"type":"ticket_rated","id":1,"window":2,"rating":"great","reason":null}"#,
            r#"{"type":"ticket_finished","id":1,"window":2,"outcome":"lost"}"#,
            r#"{"type":"ticket_finished","id":1,"window":2,"outcome":"refused"}"#,
            r#"{"type":"ticket_finished","id":1,"window":2,"outcome":"documents_missing","documents":[]}"#,
            r#"{"type":"ticket_finished","id":1,"window":2,"reason":"x"}"#,
            r#"{"type":"window_closed","window":2,"reason":"nap"}"#,
            r#"{"type":"window_closed","window":2,"note":"x"}"#,
            r#"{"type":"window_paused","window":2,"reason":"nap","note":"x"}"#,
            r#"{"type":17}"#,
            r#"{"type":"service_defined","service":{"code":"hukou","name_zh":"户籍","name_en":"Hukou","prefix":"A","wait_target_min":20,"handling_target_min":15,"handling_estimate_min":8,"extra":1}}"#,
        ] {
            match event_from_json(bad) {
                Err(DecodeError::Invalid(reason)) => assert!(!reason.is_empty(), "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_kind_this_version_does_not_know_is_named() {
        let newer = r#"{"type":"calendar_set","weekdays":[1,2,3,4,5]}"#;
        assert_eq!(
            event_from_json(newer),
            Err(DecodeError::UnknownKind("calendar_set".into()))
        );
    }

    /// The registry the sample events make.
    fn registry_of(samples: &[(Event, &str)]) -> Registry {
        let mut hall = jiaohao_core::Hall::new();
        for (event, _) in samples {
            if matches!(
                event,
                Event::BookingConfigured { .. }
                    | Event::BookingMade { .. }
                    | Event::BookingVerified { .. }
                    | Event::CaseOpened { .. }
                    | Event::CaseCalledBack { .. }
                    | Event::CaseFixed { .. }
            ) {
                hall.evolve(event, Millis(1_796_600_000_000));
            }
        }
        hall.registry().clone()
    }

    #[test]
    fn a_hall_snapshot_reads_back_as_it_was_written() {
        let samples = every_event_with_its_bytes();
        let windows: Vec<WindowDef> = samples
            .iter()
            .filter_map(|(event, _)| match event {
                Event::WindowDefined(def) => Some(def.clone()),
                _ => None,
            })
            .collect();
        let snapshot = HallSnapshot {
            date: LocalDate::new(2026, 12, 7).unwrap(),
            day_started_at: Millis(1_796_572_800_123),
            next_ticket_id: TicketId(1_234_567),
            settings: HallSettings {
                notices_zh: vec!["今日下午停电".into()],
                rota: Rota::new(vec![Shift {
                    window: number(3),
                    weekday: Weekday::Friday,
                    from: ClockTime::parse("08:30").unwrap(),
                    to: ClockTime::parse("12:00").unwrap(),
                }])
                .unwrap(),
                case_due_working_days: 15,
                booking_rules: BookingRules {
                    lapse_min: 20,
                    ..BookingRules::default()
                },
                ..HallSettings::default()
            },
            calendar: Some(HallCalendar {
                holidays: [LocalDate::new(2027, 1, 1).unwrap()].into(),
                ..HallCalendar::default()
            }),
            services: vec![hukou()],
            windows,
            registry: registry_of(&samples),
        };
        let mut snapshot = snapshot;
        for (id, rating) in [
            (7, None),
            (
                8,
                Some(TicketRating {
                    rating: Rating::VeryDissatisfied,
                    reason: Some(RatingReason::Waiting),
                }),
            ),
        ] {
            let ticket = RatableTicket {
                token: format!("token-of-ticket-{id}-abcdef"),
                id: TicketId(id),
                number: TicketNumber::parse(&format!("A00{id}")).unwrap(),
                service: hukou().code,
                window: number(3),
                date: LocalDate::new(2026, 12, 4).unwrap(),
                issued_at: Millis(1_796_390_000_000 + id as i64),
                finished_at: Millis(1_796_400_000_000 + id as i64),
                rate_until: LocalDate::new(2026, 12, 7).unwrap(),
                rating,
            };
            snapshot.registry.ratable.insert(ticket.id, ticket);
        }
        // A booking made under a lapse of 20 minutes keeps it.
        for booking in snapshot.registry.bookings.values_mut() {
            booking.lapses_at = booking.booked_at.plus_ms(20 * Millis::MINUTE);
        }
        assert_eq!(snapshot.registry.bookings.len(), 1);
        assert_eq!(snapshot.registry.cases.len(), 1);
        assert!(snapshot.registry.cases.values().all(|c| c.fixed.is_some()));
        let json = snapshot_to_json(&snapshot);
        assert_eq!(snapshot_from_json(&json), Ok(snapshot), "{json}");
        assert!(matches!(
            snapshot_from_json(&json.replace("day_started_at_ms", "started")),
            Err(DecodeError::Invalid(_))
        ));
    }
}
