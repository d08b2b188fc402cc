//! The hall state machine: [`Hall::apply`] turns a command into events and folds them;
//! [`Hall::evolve`] folds one stored event. The state holds the configuration and today's
//! tickets only; history lives in the caller's event log.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::booking::{
    Booking, BookingCode, BookingRules, BookingSettings, BookingStatus, Registry, Slot,
    bookable_days, slots_of,
};
use crate::calendar::{HallCalendar, Opening};
use crate::case::{CaseState, check_by, check_case_text, due_date};
use crate::dispatch::{Caller, Policy, QueueEntry, Queues};
use crate::error::Error;
use crate::event::{Command, Event, TransferTarget};
use crate::identity::{PersonKey, parse_masked};
use crate::ids::{Prefix, ServiceCode, TicketId, TicketNumber, WindowNumber};
use crate::outcome::Outcome;
use crate::rating::{
    RATING_WINDOW_MS, RatableTicket, Rating, RatingReason, TicketRating, phone_rating_until,
};
use crate::rota::Rota;
use crate::service::Service;
use crate::ticket::{Ticket, TicketStatus, Transfer};
use crate::time::{ClockTime, LocalDate, Millis, Now};

/// One slot of a service's day as a citizen choosing it sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotState {
    pub slot: Slot,
    pub capacity: u32,
    pub remaining: u32,
}
use crate::window::{Window, WindowDef, WindowState};

/// How many of the latest calls the hall remembers for the wall display.
pub const RECENT_CALLS: usize = 10;

/// How much the configured handling estimate weighs against the day's measured handling
/// times, in tickets: with this many tickets done, both weigh the same.
const ESTIMATE_PRIOR_WEIGHT: i64 = 5;

/// The hall as a whole: its names, time zone and public notices (警务公开).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallSettings {
    pub name_zh: String,
    pub name_en: String,
    /// An IANA time zone name such as `Asia/Shanghai`; the caller interprets it.
    pub timezone: String,
    pub notices_zh: Vec<String>,
    pub notices_en: Vec<String>,
    /// When each window is expected to be open (排班); empty when none is set.
    pub rota: Rota,
    /// How many working days a 差评 case has from its rating to its fix (by the calendar).
    pub case_due_working_days: u8,
    /// The share of a service's daily cap, in per cent, that its booking slots hold when its
    /// bookings are switched on without capacities or a share of their own (预约比例).
    pub booking_share_pct: u8,
    /// The hall's local booking rules (lapse of unverified bookings, the no-show bar).
    pub booking_rules: BookingRules,
}

impl Default for HallSettings {
    fn default() -> Self {
        HallSettings {
            name_zh: "公安服务大厅".into(),
            name_en: "Public Security Service Hall".into(),
            timezone: "Asia/Shanghai".into(),
            notices_zh: Vec::new(),
            notices_en: Vec::new(),
            rota: Rota::default(),
            case_due_working_days: crate::case::DEFAULT_DUE_WORKING_DAYS,
            booking_share_pct: crate::booking::DEFAULT_SHARE_PCT,
            booking_rules: BookingRules::default(),
        }
    }
}

impl HallSettings {
    pub fn validate(&self) -> Result<(), Error> {
        if self.name_zh.trim().is_empty() || self.name_en.trim().is_empty() {
            return Err(Error::invalid(
                "the hall needs a Chinese and an English name",
            ));
        }
        if self.timezone.trim().is_empty() || self.timezone.len() > 100 {
            return Err(Error::invalid(
                "the hall needs a time zone name of at most 100 characters",
            ));
        }
        if self.notices_zh.len() > 50 || self.notices_en.len() > 50 {
            return Err(Error::invalid("the hall has more than 50 notices"));
        }
        if self
            .notices_zh
            .iter()
            .chain(&self.notices_en)
            .any(|notice| notice.chars().count() > 500)
        {
            return Err(Error::invalid("a notice is longer than 500 characters"));
        }
        let days = self.case_due_working_days;
        if days == 0 || days > crate::case::MAX_DUE_WORKING_DAYS {
            return Err(Error::invalid(format!(
                "差评工单的整改时限须为 1 到 {max} 个工作日；case_due_working_days must be 1 to {max} working days, not {days}",
                max = crate::case::MAX_DUE_WORKING_DAYS
            )));
        }
        if self.booking_share_pct > 100 {
            return Err(Error::invalid(format!(
                "预约比例须为 0 到 100；booking_share_pct must be 0 to 100 per cent, not {}",
                self.booking_share_pct
            )));
        }
        self.booking_rules.validate()
    }
}

/// One call of a ticket to a window, as the wall display lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub ticket: TicketId,
    pub number: TicketNumber,
    pub service: ServiceCode,
    pub window: WindowNumber,
    pub at: Millis,
    pub recall: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct HandlingTotals {
    total_ms: i64,
    count: i64,
}

/// The hall the moment a day starts: its configuration, the day, and the id its first ticket
/// will get (ids go on across days). Plain data, since the core has no serde: the hub's store
/// keeps one at each day start, so a restart folds only the events after it, not the history.
///
/// At a day start the state is exactly this: no tickets, every window closed since that
/// moment. Every part of the hall's configuration belongs here; [`Hall::from_snapshot`] names
/// every field of the hall, so one added to it cannot be forgotten here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallSnapshot {
    pub date: LocalDate,
    /// When the day started: the time of its [`Event::DayStarted`].
    pub day_started_at: Millis,
    pub next_ticket_id: TicketId,
    pub settings: HallSettings,
    /// The calendar as set; `None` if it never was.
    pub calendar: Option<HallCalendar>,
    /// Ordered by code.
    pub services: Vec<Service>,
    /// Ordered by number.
    pub windows: Vec<WindowDef>,
    /// The state that outlives the day (bookings), as it stands at the day start.
    pub registry: Registry,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hall {
    settings: HallSettings,
    /// The working days; `None` until a calendar is set, and then the hall is open every day
    /// (as halls ran before calendars existed, so an old log keeps its meaning).
    calendar: Option<HallCalendar>,
    date: Option<LocalDate>,
    services: BTreeMap<ServiceCode, Service>,
    windows: BTreeMap<WindowNumber, Window>,
    /// Today's tickets; a ticket's index is its id minus `first_id_today`.
    tickets: Vec<Ticket>,
    first_id_today: u64,
    by_number: HashMap<TicketNumber, TicketId>,
    by_token: HashMap<String, TicketId>,
    by_idempotency_key: HashMap<String, TicketId>,
    /// The last sequence number issued today per prefix, so a number never repeats within a day
    /// even when a service changes its prefix.
    last_seq: BTreeMap<Prefix, u32>,
    issued_today: BTreeMap<ServiceCode, u32>,
    queues: Queues,
    recent_calls: VecDeque<Call>,
    handling: BTreeMap<ServiceCode, HandlingTotals>,
    /// The ticket each window finished last today: the one its rating tablet asks about.
    last_finished: BTreeMap<WindowNumber, TicketId>,
    /// The call-next rule. Not an event: it is how the caller runs the hall, not a change to
    /// it, so the hub always folds its log into [`Policy::Hub`] and only the simulator sets
    /// another.
    policy: Policy,
    /// The state that outlives the day: booking settings and bookings. Not cleared by a day
    /// start (only pruned of old bookings); carried in the day-start snapshot.
    registry: Registry,
    /// Tickets issued today by a booking's check-in, per booked service: they do not count
    /// against the walk-ins' share of the daily cap.
    checked_in_today: BTreeMap<ServiceCode, u32>,
    /// Today's ticket of each known person per service.
    holders: HashMap<(PersonKey, ServiceCode), TicketId>,
}

impl Hall {
    pub fn new() -> Hall {
        Hall::default()
    }

    /// The hall as it stands once a day starts: equal to the hall [`Hall::evolve`] makes of
    /// `snapshot`'s day start, so folding what followed it gives the hall of the whole log.
    pub fn from_snapshot(snapshot: &HallSnapshot) -> Hall {
        let HallSnapshot {
            date,
            day_started_at,
            next_ticket_id,
            settings,
            calendar,
            services,
            windows,
            registry,
        } = snapshot;
        let mut hall = Hall {
            settings: settings.clone(),
            calendar: calendar.clone(),
            date: Some(*date),
            services: services
                .iter()
                .map(|service| (service.code.clone(), service.clone()))
                .collect(),
            windows: windows
                .iter()
                .map(|def| {
                    let window = Window {
                        def: def.clone(),
                        state: WindowState::Closed,
                        state_since: *day_started_at,
                        consecutive_green: 0,
                    };
                    (def.number, window)
                })
                .collect(),
            tickets: Vec::new(),
            first_id_today: next_ticket_id.0,
            by_number: HashMap::new(),
            by_token: HashMap::new(),
            by_idempotency_key: HashMap::new(),
            last_seq: BTreeMap::new(),
            issued_today: BTreeMap::new(),
            queues: Queues::default(),
            recent_calls: VecDeque::new(),
            handling: BTreeMap::new(),
            last_finished: BTreeMap::new(),
            policy: Policy::default(),
            registry: registry.clone(),
            checked_in_today: BTreeMap::new(),
            holders: HashMap::new(),
        };
        hall.refresh_loads();
        hall
    }

    /// The snapshot of this hall once a day starts on `date` at `at` (what folding
    /// `DayStarted { date }` at `at` into it makes), without changing or copying today's
    /// tickets: the hub takes it just before the command that starts a day.
    pub fn day_start_snapshot(&self, date: LocalDate, at: Millis) -> HallSnapshot {
        let mut registry = self.registry.clone();
        registry.start_day(
            &self.settings.booking_rules,
            date,
            at,
            self.finished_today(),
        );
        HallSnapshot {
            date,
            day_started_at: at,
            next_ticket_id: TicketId(self.first_id_today + self.tickets.len() as u64),
            settings: self.settings.clone(),
            calendar: self.calendar.clone(),
            services: self.services.values().cloned().collect(),
            windows: self
                .windows
                .values()
                .map(|window| window.def.clone())
                .collect(),
            registry,
        }
    }

    /// The hall with another call-next rule, for the simulator's comparisons.
    pub fn with_policy(mut self, policy: Policy) -> Hall {
        self.policy = policy;
        self
    }

    /// The call-next rule the hall runs; [`Policy::Hub`] unless built otherwise.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    // ----- reading -----

    pub fn settings(&self) -> &HallSettings {
        &self.settings
    }

    /// The hall's calendar as set, or `None` if it never was (then it is open every day).
    pub fn calendar(&self) -> Option<&HallCalendar> {
        self.calendar.as_ref()
    }

    /// Whether the hall works on `date` by its calendar.
    pub fn is_open_on(&self, date: LocalDate) -> bool {
        self.calendar.as_ref().is_none_or(|c| c.is_open(date))
    }

    /// The earliest time any offered service starts issuing tickets (midnight for a service
    /// without hours, or when no service is offered).
    pub fn opening_time(&self) -> ClockTime {
        self.services
            .values()
            .filter(|service| service.enabled)
            .map(|service| {
                service
                    .hours
                    .map_or(ClockTime::MIDNIGHT, |(opens, _)| opens)
            })
            .min()
            .unwrap_or(ClockTime::MIDNIGHT)
    }

    /// When the hall next opens after `now`: the next open day (today if its opening time is
    /// still ahead) at the earliest service opening time. `None` if no open day is ahead
    /// within a year.
    pub fn next_opening(&self, now: Now) -> Option<Opening> {
        let every_day = HallCalendar::every_day();
        let calendar = self.calendar.as_ref().unwrap_or(&every_day);
        calendar.next_opening(now, self.opening_time())
    }

    /// The local day the hall is in; `None` before the first command.
    pub fn date(&self) -> Option<LocalDate> {
        self.date
    }

    /// The services, ordered by ticket prefix.
    pub fn services(&self) -> Vec<&Service> {
        let mut services: Vec<&Service> = self.services.values().collect();
        services.sort_by_key(|service| service.prefix);
        services
    }

    pub fn service(&self, code: &ServiceCode) -> Option<&Service> {
        self.services.get(code)
    }

    pub fn windows(&self) -> impl Iterator<Item = &Window> {
        self.windows.values()
    }

    pub fn window(&self, number: WindowNumber) -> Option<&Window> {
        self.windows.get(&number)
    }

    /// Today's tickets in issue order.
    pub fn tickets(&self) -> &[Ticket] {
        &self.tickets
    }

    pub fn ticket(&self, id: TicketId) -> Option<&Ticket> {
        let index = id.0.checked_sub(self.first_id_today)?;
        self.tickets.get(usize::try_from(index).ok()?)
    }

    pub fn ticket_by_token(&self, token: &str) -> Option<&Ticket> {
        self.ticket(*self.by_token.get(token)?)
    }

    pub fn ticket_by_number(&self, number: TicketNumber) -> Option<&Ticket> {
        self.ticket(*self.by_number.get(&number)?)
    }

    pub fn ticket_by_idempotency_key(&self, key: &str) -> Option<&Ticket> {
        self.ticket(*self.by_idempotency_key.get(key)?)
    }

    /// The ticket a window finished last today, which its citizen may still rate.
    pub fn last_finished(&self, window: WindowNumber) -> Option<&Ticket> {
        self.ticket(*self.last_finished.get(&window)?)
    }

    pub fn queues(&self) -> &Queues {
        &self.queues
    }

    /// The state that outlives the day: booking settings and bookings.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A service's slots on `date` with the places left at `now`, or why the day cannot be
    /// booked (not a working day within the booking horizon, or the service takes none). The
    /// horizon starts tomorrow, so no slot offered has begun.
    pub fn booking_slots(
        &self,
        code: &ServiceCode,
        date: LocalDate,
        now: Now,
    ) -> Result<Vec<SlotState>, Error> {
        let (service, settings) = self.bookable(code)?;
        self.check_bookable_day(settings, date, now)?;
        let slots = slots_of(service, settings.slot_min)?;
        Ok(slots
            .into_iter()
            .enumerate()
            .map(|(index, slot)| {
                let capacity = settings.capacities.get(index).copied().unwrap_or(0);
                let held = self.registry.held(code, date, slot.start, now.at);
                SlotState {
                    slot,
                    capacity,
                    remaining: capacity.saturating_sub(held),
                }
            })
            .collect())
    }

    /// The working days a service may be booked for from `now`'s day.
    pub fn bookable_days(&self, code: &ServiceCode, now: Now) -> Result<Vec<LocalDate>, Error> {
        let (_, settings) = self.bookable(code)?;
        Ok(self.booking_days(settings, now))
    }

    /// How many walk-in tickets a service may issue today at `now`, if it has a cap: the cap
    /// less the places today's bookings still hold ([`Hall::places_booked_today`]). Slot
    /// capacities reserve places only while they can be booked: bookings close the day
    /// before, so at the day start a slot's unbooked places go to walk-ins (a day nobody
    /// could book, such as the first day a service takes bookings, keeps its whole cap for
    /// walk-ins), and a verified booking's place goes back to them when its check-in closes
    /// without it.
    pub fn walk_in_cap(&self, code: &ServiceCode, now: Millis) -> Option<u32> {
        let cap = self.services.get(code)?.daily_cap?;
        Some(cap.saturating_sub(self.places_booked_today(code, now)))
    }

    /// Whether the service's walk-in tickets today have reached [`Hall::walk_in_cap`] at `now`.
    pub fn walk_in_cap_reached(&self, code: &ServiceCode, now: Millis) -> bool {
        self.walk_in_cap(code, now)
            .is_some_and(|cap| self.walk_ins_today(code) >= cap)
    }

    /// The places today's bookings of a service hold at `now`: made and not lapsed, verified
    /// and check-in still open, or checked in (cancelled, lapsed and missed bookings hold
    /// none). 0 before the hall's first day.
    pub fn places_booked_today(&self, code: &ServiceCode, now: Millis) -> u32 {
        let Some(today) = self.date else {
            return 0;
        };
        self.registry
            .bookings_on(today, Some(code))
            .into_iter()
            .filter(|booking| {
                matches!(
                    self.registry.status(booking, now),
                    BookingStatus::Booked
                        | BookingStatus::Verified
                        | BookingStatus::CheckedIn
                        | BookingStatus::Served
                )
            })
            .count() as u32
    }

    /// A known person's ticket of a service today (the one a second request reprints).
    pub fn ticket_of(&self, person: &PersonKey, service: &ServiceCode) -> Option<&Ticket> {
        self.ticket(*self.holders.get(&(person.clone(), service.clone()))?)
    }

    fn walk_ins_today(&self, code: &ServiceCode) -> u32 {
        self.issued_today(code)
            .saturating_sub(self.checked_in_today.get(code).copied().unwrap_or(0))
    }

    /// The latest calls, newest first.
    pub fn recent_calls(&self) -> impl Iterator<Item = &Call> {
        self.recent_calls.iter()
    }

    /// How many tickets a service issued today (its daily cap counts these).
    pub fn issued_today(&self, service: &ServiceCode) -> u32 {
        self.issued_today.get(service).copied().unwrap_or(0)
    }

    /// The expected handling time of one ticket of a service, in milliseconds: the configured
    /// estimate blended with the day's measured mean.
    pub fn expected_handling_ms(&self, service: &ServiceCode) -> i64 {
        let prior = self
            .services
            .get(service)
            .map_or(5, |s| i64::from(s.handling_estimate_min))
            * Millis::MINUTE;
        let measured = self.handling.get(service).cloned().unwrap_or_default();
        (prior * ESTIMATE_PRIOR_WEIGHT + measured.total_ms)
            / (ESTIMATE_PRIOR_WEIGHT + measured.count)
    }

    /// Where a waiting ticket stands in the queues, or `None` if it is not waiting.
    pub fn queue_entry(&self, ticket: &Ticket) -> Option<QueueEntry> {
        ticket.status.is_queued().then(|| QueueEntry {
            id: ticket.id,
            queued_at: ticket.queue_time,
            service: ticket.service.clone(),
            green_channel: ticket.green_channel,
            pinned_window: ticket.pinned_window,
        })
    }

    /// How many tickets wait before this one in its own queue (green channel first, then by
    /// issue time); `None` if the ticket is not waiting.
    pub fn ahead_of(&self, ticket: &Ticket) -> Option<usize> {
        if !ticket.status.is_queued() {
            return None;
        }
        let ahead = match ticket.pinned_window {
            Some(window) => self
                .tickets
                .iter()
                .filter(|other| {
                    other.status.is_queued()
                        && other.pinned_window == Some(window)
                        && other.queue_key() < ticket.queue_key()
                })
                .count(),
            None => match self.queues.ahead_in_service(
                &ticket.service,
                ticket.green_channel,
                ticket.queue_key(),
            ) {
                Some(ahead) => ahead,
                None => self
                    .queues
                    .service_order(&ticket.service)
                    .take_while(|&id| id != ticket.id)
                    .count(),
            },
        };
        Some(ahead)
    }

    /// Which windows are assigned a service, primary windows first.
    pub fn windows_serving(&self, service: &ServiceCode) -> Vec<WindowNumber> {
        let mut found: Vec<(usize, WindowNumber)> = self
            .windows
            .values()
            .filter_map(|window| {
                let rank = window
                    .def
                    .services
                    .iter()
                    .position(|code| code == service)?;
                Some((rank, window.number()))
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, number)| number).collect()
    }

    // ----- changing -----

    /// Decides the events a command causes and folds them into the state. On an error the
    /// state is unchanged. A command on a later local date first starts the day; a clock that
    /// steps back across midnight does not start a day again (numbers would repeat).
    pub fn apply(&mut self, command: &Command, now: Now) -> Result<Vec<Event>, Error> {
        if self.date.is_some_and(|today| now.date <= today) {
            let events = self.decide(command, now)?;
            for event in &events {
                self.evolve(event, now.at);
            }
            return Ok(events);
        }
        // A new day: decide on the rolled-over state, and keep it only if the command holds.
        let day_started = Event::DayStarted { date: now.date };
        let mut next = self.clone();
        next.evolve(&day_started, now.at);
        let mut events = next.decide(command, now)?;
        for event in &events {
            next.evolve(event, now.at);
        }
        *self = next;
        events.insert(0, day_started);
        Ok(events)
    }

    fn decide(&self, command: &Command, now: Now) -> Result<Vec<Event>, Error> {
        match command {
            Command::Tick => Ok(Vec::new()),
            Command::ConfigureHall(settings) => {
                settings.validate()?;
                Ok(vec![Event::HallConfigured(settings.clone())])
            }
            Command::SetCalendar(calendar) => {
                calendar.validate()?;
                Ok(vec![Event::CalendarConfigured(calendar.clone())])
            }
            Command::AddService(service) => {
                if self.services.contains_key(&service.code) {
                    return Err(Error::ServiceExists(service.code.clone()));
                }
                self.check_service(service)?;
                Ok(vec![Event::ServiceDefined(service.clone())])
            }
            Command::UpdateService(service) => {
                self.known_service(&service.code)?;
                self.check_service(service)?;
                Ok(vec![Event::ServiceDefined(service.clone())])
            }
            Command::RemoveService(code) => {
                self.known_service(code)?;
                let windows = self.windows_serving(code);
                let has_tickets = self
                    .tickets
                    .iter()
                    .any(|t| &t.service == code && !t.status.is_final());
                if !windows.is_empty() || has_tickets {
                    return Err(Error::ServiceInUse {
                        service: code.clone(),
                        windows,
                    });
                }
                Ok(vec![Event::ServiceRemoved { code: code.clone() }])
            }
            Command::AddWindow(def) => {
                if self.windows.contains_key(&def.number) {
                    return Err(Error::WindowExists(def.number));
                }
                self.check_window(def)?;
                Ok(vec![Event::WindowDefined(def.clone())])
            }
            Command::UpdateWindow(def) => {
                self.known_window(def.number)?;
                self.check_window(def)?;
                Ok(vec![Event::WindowDefined(def.clone())])
            }
            Command::AssignServices { window, services } => {
                let mut def = self.known_window(*window)?.def.clone();
                def.services = services.clone();
                self.check_window(&def)?;
                Ok(vec![Event::WindowDefined(def)])
            }
            Command::RemoveWindow(number) => {
                let window = self.known_window(*number)?;
                if window.state != WindowState::Closed {
                    return Err(Error::WindowNotClosed(*number));
                }
                let waiting = self.queues.pinned_to(*number);
                if waiting > 0 {
                    return Err(Error::WindowHasQueue {
                        window: *number,
                        waiting,
                    });
                }
                Ok(vec![Event::WindowRemoved { number: *number }])
            }
            Command::IssueTicket {
                service,
                green_channel,
                token,
                idempotency_key,
            } => {
                if self
                    .services
                    .get(service)
                    .is_some_and(|s| s.identity_required)
                {
                    return Err(Error::booking(
                        "identity_required",
                        "该业务需凭身份证取号，请刷身份证或输入身份证号码；this service issues tickets only with an ID card: lay it on the reader or type its number",
                    ));
                }
                self.decide_issue(service, *green_channel, token, idempotency_key, now, false)
            }
            Command::IssueForPerson {
                service,
                green_channel,
                token,
                idempotency_key,
                person,
            } => {
                if self.ticket_of(person, service).is_some() {
                    return Ok(Vec::new());
                }
                let mut events =
                    self.decide_issue(service, *green_channel, token, idempotency_key, now, false)?;
                if let Some(ticket) = issued_id(&events) {
                    events.push(Event::TicketHolder {
                        ticket,
                        person: person.clone(),
                    });
                }
                Ok(events)
            }
            Command::CallNext { window } => {
                let (window, mut events) = self.start_call(*window)?;
                let choice = self.policy.choose(&self.queues, self.caller(window));
                if let Some(choice) = choice {
                    events.push(Event::TicketCalled {
                        id: choice.id,
                        window: window.number(),
                        recall: false,
                        out_of_order: None,
                    });
                }
                Ok(events)
            }
            Command::CallTicket {
                window,
                number,
                reason,
            } => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(Error::invalid(
                        "calling a ticket out of order needs a reason",
                    ));
                }
                let ticket = self
                    .ticket_by_number(*number)
                    .ok_or(Error::UnknownTicket(*number))?;
                if !ticket.status.is_queued() {
                    return Err(Error::TicketNotWaiting(*number));
                }
                let (window, mut events) = self.start_call(*window)?;
                let may_call = match ticket.pinned_window {
                    Some(pinned) => pinned == window.number(),
                    None => window.def.services.contains(&ticket.service),
                };
                if !may_call {
                    return Err(Error::NotAssigned {
                        window: window.number(),
                        service: ticket.service.clone(),
                    });
                }
                let in_order = self
                    .policy
                    .choose(&self.queues, self.caller(window))
                    .is_some_and(|choice| choice.id == ticket.id);
                events.push(Event::TicketCalled {
                    id: ticket.id,
                    window: window.number(),
                    recall: false,
                    out_of_order: (!in_order).then(|| reason.to_owned()),
                });
                Ok(events)
            }
            Command::Recall { window } => {
                let (window, ticket) = self.serving(*window)?;
                Ok(vec![Event::TicketCalled {
                    id: ticket.id,
                    window,
                    recall: true,
                    out_of_order: None,
                }])
            }
            Command::NoShow { window } => {
                let (window, ticket) = self.serving(*window)?;
                Ok(vec![Event::TicketNoShow {
                    id: ticket.id,
                    window,
                }])
            }
            Command::Finish { window, outcome } => {
                let (window, ticket) = self.serving(*window)?;
                if !outcome.is_done() {
                    outcome.check(self.known_service(&ticket.service)?)?;
                }
                Ok(vec![Event::TicketFinished {
                    id: ticket.id,
                    window,
                    outcome: outcome.clone(),
                }])
            }
            Command::Transfer { window, to } => {
                let (window, ticket) = self.serving(*window)?;
                match to {
                    TransferTarget::Service(code) => {
                        self.known_service(code)?;
                        if *code == ticket.service {
                            return Err(Error::TransferToSelf);
                        }
                    }
                    TransferTarget::Window(target) => {
                        self.known_window(*target)?;
                        if *target == window {
                            return Err(Error::TransferToSelf);
                        }
                    }
                }
                Ok(vec![Event::TicketTransferred {
                    id: ticket.id,
                    window,
                    to: to.clone(),
                }])
            }
            Command::Open { window } => match &self.known_window(*window)?.state {
                WindowState::Closed => Ok(vec![Event::WindowOpened { window: *window }]),
                WindowState::Paused { .. } => Err(Error::WindowPaused(*window)),
                WindowState::Open | WindowState::Serving { .. } => {
                    Err(Error::WindowAlreadyOpen(*window))
                }
            },
            Command::Close { window, reason } => {
                if let Some(reason) = reason {
                    reason.validate()?;
                }
                let found = self.known_window(*window)?;
                match &found.state {
                    WindowState::Closed => Err(Error::WindowAlreadyClosed(*window)),
                    WindowState::Serving { ticket } => Err(self.serving_error(*window, *ticket)),
                    WindowState::Open | WindowState::Paused { .. } => {
                        Ok(vec![Event::WindowClosed {
                            window: *window,
                            reason: reason.clone(),
                        }])
                    }
                }
            }
            Command::Pause { window, reason } => {
                reason.validate()?;
                let found = self.known_window(*window)?;
                match &found.state {
                    WindowState::Closed => Err(Error::WindowClosed(*window)),
                    WindowState::Paused { .. } => Err(Error::WindowPaused(*window)),
                    WindowState::Serving { ticket } => Err(self.serving_error(*window, *ticket)),
                    WindowState::Open => Ok(vec![Event::WindowPaused {
                        window: *window,
                        reason: reason.clone(),
                    }]),
                }
            }
            Command::Resume { window } => match &self.known_window(*window)?.state {
                WindowState::Paused { .. } => Ok(vec![Event::WindowResumed { window: *window }]),
                _ => Err(Error::WindowNotPaused(*window)),
            },
            Command::ConfigureBooking { service, settings } => {
                let found = self.known_service(service)?;
                if let Some(settings) = settings {
                    settings.validate(found)?;
                }
                Ok(vec![Event::BookingConfigured {
                    service: service.clone(),
                    settings: settings.clone(),
                }])
            }
            Command::Book {
                code,
                service,
                date,
                start,
                starts_at,
                person,
                masked_id,
            } => self.decide_book(
                code, service, *date, *start, *starts_at, person, masked_id, now,
            ),
            Command::VerifyBooking { code } => {
                let booking = self.known_booking(code)?;
                match self.registry.status(booking, now.at) {
                    BookingStatus::Booked => {
                        Ok(vec![Event::BookingVerified { code: code.clone() }])
                    }
                    BookingStatus::Verified => Ok(Vec::new()),
                    BookingStatus::Lapsed => Err(Error::booking(
                        "booking_lapsed",
                        format!(
                            "预约未在 {lapse} 分钟内验证，已失效，请重新预约；the booking was not verified within {lapse} minutes and has lapsed: please book again",
                            lapse = self.settings.booking_rules.lapse_min
                        ),
                    )),
                    status => Err(not_active(code, status)),
                }
            }
            Command::CancelBooking { code } => {
                let booking = self.known_booking(code)?;
                let status = self.registry.status(booking, now.at);
                if !matches!(status, BookingStatus::Booked | BookingStatus::Verified) {
                    return Err(not_active(code, status));
                }
                let before = self
                    .registry
                    .settings(&booking.service)
                    .map_or(120, |s| s.cancel_before_min);
                if now.at
                    > booking
                        .starts_at
                        .plus_ms(-i64::from(before) * Millis::MINUTE)
                {
                    return Err(Error::booking(
                        "cancel_too_late",
                        format!(
                            "预约须在开始前 {before} 分钟以前取消，现在已不能取消；a booking can be cancelled up to {before} minutes before its slot, which has passed"
                        ),
                    ));
                }
                Ok(vec![Event::BookingCancelled { code: code.clone() }])
            }
            Command::CheckIn {
                code,
                green_channel,
                token,
            } => self.decide_check_in(code, *green_channel, token, now),
            Command::RateOwnTicket {
                token,
                rating,
                reason,
            } => {
                check_rating_reason(*rating, *reason)?;
                let Some(ticket) = self.ticket_by_token(token) else {
                    return self.rate_earlier_ticket(token, *rating, *reason, now);
                };
                if ticket.rating.is_some() {
                    return Err(Error::AlreadyRated(ticket.number));
                }
                let (TicketStatus::Done, Some(window)) = (ticket.status, ticket.window) else {
                    return Err(Error::NotFinished(ticket.number));
                };
                Ok(self.rating_events(
                    (ticket.id, ticket.number, &ticket.service),
                    window,
                    *rating,
                    *reason,
                    now,
                ))
            }
            Command::RateTicket {
                window,
                number,
                rating,
                reason,
            } => {
                check_rating_reason(*rating, *reason)?;
                self.known_window(*window)?;
                let ticket = self
                    .ticket_by_number(*number)
                    .ok_or(Error::UnknownTicket(*number))?;
                if ticket.rating.is_some() {
                    return Err(Error::AlreadyRated(*number));
                }
                let ratable = ticket.status == TicketStatus::Done
                    && self.last_finished.get(window) == Some(&ticket.id)
                    && ticket
                        .finished_at
                        .is_some_and(|at| now.at.since(at) <= RATING_WINDOW_MS);
                if !ratable {
                    return Err(Error::NotRatable {
                        window: *window,
                        ticket: *number,
                    });
                }
                Ok(self.rating_events(
                    (ticket.id, ticket.number, &ticket.service),
                    *window,
                    *rating,
                    *reason,
                    now,
                ))
            }
            Command::CallBackCase { case, note, by } => {
                check_case_text("note", note)?;
                self.case_step(*case, CaseState::CalledBack, by)?;
                Ok(vec![Event::CaseCalledBack {
                    case: *case,
                    note: note.trim().to_owned(),
                    by: by.clone(),
                    date: self.today(now),
                }])
            }
            Command::FixCase { case, fix, by } => {
                check_case_text("fix", fix)?;
                self.case_step(*case, CaseState::Fixed, by)?;
                Ok(vec![Event::CaseFixed {
                    case: *case,
                    fix: fix.trim().to_owned(),
                    by: by.clone(),
                    date: self.today(now),
                }])
            }
            Command::CloseCase { case, by } => {
                self.case_step(*case, CaseState::Closed, by)?;
                Ok(vec![Event::CaseClosed {
                    case: *case,
                    by: by.clone(),
                    date: self.today(now),
                }])
            }
        }
    }

    /// The events of a rating, however it was given: `TicketRated`, and for a 差评 the
    /// `CaseOpened` that follows it, due by the calendar.
    fn rating_events(
        &self,
        ticket: (TicketId, TicketNumber, &ServiceCode),
        window: WindowNumber,
        rating: Rating,
        reason: Option<RatingReason>,
        now: Now,
    ) -> Vec<Event> {
        let (id, number, service) = ticket;
        let mut events = vec![Event::TicketRated {
            id,
            window,
            rating,
            reason,
        }];
        if rating.is_bad() {
            let date = self.today(now);
            events.push(Event::CaseOpened {
                case: id,
                number,
                service: service.clone(),
                window,
                date,
                rating,
                reason,
                due: due_date(
                    self.calendar.as_ref(),
                    date,
                    self.settings.case_due_working_days,
                ),
            });
        }
        events
    }

    /// Checks a step of a case: it exists, is in the state just before, and `by` names someone.
    fn case_step(&self, case: TicketId, to: CaseState, by: &str) -> Result<(), Error> {
        check_by(by)?;
        self.registry
            .case(case)
            .ok_or(Error::UnknownCase(case))?
            .check_step(to)
    }

    /// The hall's day: the clock's date, unless the hall is on a later one already.
    fn today(&self, now: Now) -> LocalDate {
        self.date.unwrap_or(now.date).max(now.date)
    }

    /// The phone's rating of a ticket finished on an earlier day: allowed until the end of the
    /// next working day after it.
    fn rate_earlier_ticket(
        &self,
        token: &str,
        rating: Rating,
        reason: Option<RatingReason>,
        now: Now,
    ) -> Result<Vec<Event>, Error> {
        let ticket = self
            .registry
            .ratable_by_token(token)
            .ok_or(Error::UnknownToken)?;
        if ticket.rating.is_some() {
            return Err(Error::AlreadyRated(ticket.number));
        }
        if now.date > ticket.rate_until {
            return Err(Error::RatingEnded {
                ticket: ticket.number,
                until: ticket.rate_until,
            });
        }
        Ok(self.rating_events(
            (ticket.id, ticket.number, &ticket.service),
            ticket.window,
            rating,
            reason,
            now,
        ))
    }

    fn decide_issue(
        &self,
        code: &ServiceCode,
        green_channel: bool,
        token: &str,
        idempotency_key: &Option<String>,
        now: Now,
        booked: bool,
    ) -> Result<Vec<Event>, Error> {
        if let Some(key) = idempotency_key {
            if key.is_empty() || key.len() > 200 {
                return Err(Error::invalid(
                    "an Idempotency-Key must have 1 to 200 characters",
                ));
            }
            if let Some(earlier) = self.ticket_by_idempotency_key(key) {
                // Compare with the service the ticket was issued for: a transfer changes its
                // service but records where it came from, and a prefix may change during the day.
                let issued_for = earlier
                    .transfers
                    .first()
                    .map_or(&earlier.service, |hop| &hop.from_service);
                let same = issued_for == code && earlier.green_channel == green_channel;
                return if same {
                    Ok(Vec::new())
                } else {
                    Err(Error::IdempotencyKeyReused)
                };
            }
        }
        let service = self.known_service(code)?;
        // The hall's day, not the clock's date: a clock stepped back over midnight does not
        // take the hall back to yesterday.
        let today = self.date.unwrap_or(now.date).max(now.date);
        if !self.is_open_on(today) {
            return Err(Error::HallClosed {
                date: today,
                kind: self
                    .calendar
                    .as_ref()
                    .map_or(crate::calendar::DayKind::Workday, |c| c.day_kind(today)),
                next: self.next_opening(now),
            });
        }
        if !service.enabled {
            return Err(Error::ServiceDisabled(code.clone()));
        }
        // A booking's check-in keeps to its slot's check-in times and places, not to the
        // walk-in hours and share of the cap.
        if let Some((opens, closes)) = service.hours
            && !service.issues_at(now.time)
            && !booked
        {
            return Err(Error::ServiceNotOpen {
                service: code.clone(),
                opens,
                closes,
            });
        }
        if let Some(cap) = self.walk_in_cap(code, now.at)
            && self.walk_in_cap_reached(code, now.at)
            && !booked
        {
            return Err(Error::DailyCapReached {
                service: code.clone(),
                cap,
            });
        }
        if token.len() < 16 || token.len() > 128 || self.by_token.contains_key(token) {
            return Err(Error::invalid(
                "a ticket needs a new token of 16 to 128 characters",
            ));
        }
        let seq = self.last_seq.get(&service.prefix).copied().unwrap_or(0) + 1;
        Ok(vec![Event::TicketIssued {
            id: TicketId(self.first_id_today + self.tickets.len() as u64),
            number: TicketNumber {
                prefix: service.prefix,
                seq,
            },
            service: code.clone(),
            green_channel,
            token: token.to_owned(),
            idempotency_key: idempotency_key.clone(),
        }])
    }

    /// A service that takes bookings, with its booking settings.
    fn bookable(&self, code: &ServiceCode) -> Result<(&Service, &BookingSettings), Error> {
        let service = self.known_service(code)?;
        let settings = self.registry.settings(code).ok_or_else(|| {
            Error::booking(
                "booking_closed",
                format!(
                    "{}不接受预约；service '{code}' takes no bookings",
                    service.name_zh
                ),
            )
        })?;
        if !service.enabled {
            return Err(Error::ServiceDisabled(code.clone()));
        }
        Ok((service, settings))
    }

    fn booking_days(&self, settings: &BookingSettings, now: Now) -> Vec<LocalDate> {
        let every_day = HallCalendar::every_day();
        let calendar = self.calendar.as_ref().unwrap_or(&every_day);
        let today = self.date.unwrap_or(now.date).max(now.date);
        bookable_days(calendar, today, settings.days_ahead)
    }

    fn check_bookable_day(
        &self,
        settings: &BookingSettings,
        date: LocalDate,
        now: Now,
    ) -> Result<(), Error> {
        if self.booking_days(settings, now).contains(&date) {
            return Ok(());
        }
        let why = if !self.is_open_on(date) {
            let kind = self.calendar.as_ref().map(|c| c.day_kind(date));
            if kind == Some(crate::calendar::DayKind::Holiday) {
                ("法定节假日不办公", "it is a public holiday")
            } else {
                ("当日不办公", "the hall is closed that day")
            }
        } else {
            (
                "不在可预约的日期内",
                "it is not within the days open for booking",
            )
        };
        Err(Error::booking(
            "booking_day_closed",
            format!(
                "{date} 不能预约：{}，可预约今后 {} 个工作日；{date} cannot be booked: {}; bookings open for the next {} working days",
                why.0, settings.days_ahead, why.1, settings.days_ahead
            ),
        ))
    }

    fn known_booking(&self, code: &BookingCode) -> Result<&Booking, Error> {
        self.registry
            .booking(code)
            .ok_or_else(|| Error::UnknownBooking(code.clone()))
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_book(
        &self,
        code: &BookingCode,
        service: &ServiceCode,
        date: LocalDate,
        start: ClockTime,
        starts_at: Millis,
        person: &PersonKey,
        masked_id: &str,
        now: Now,
    ) -> Result<Vec<Event>, Error> {
        parse_masked(masked_id)?;
        let (found, settings) = self.bookable(service)?;
        let slots = slots_of(found, settings.slot_min)?;
        let (index, slot) = slots
            .iter()
            .enumerate()
            .find(|(_, slot)| slot.start == start)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "没有 {start} 开始的预约时段；no slot of service '{service}' starts at {start}"
                ))
            })?;
        self.check_bookable_day(settings, date, now)?;
        if self.registry.bookings.contains_key(code) {
            return Err(Error::booking(
                "booking_code_taken",
                "the booking code is taken: choose another",
            ));
        }
        let rules = &self.settings.booking_rules;
        if self.registry.barred_until(rules, person, now.at).is_some() {
            let BookingRules {
                misses_to_bar: misses,
                miss_window_days: window,
                bar_days: bar,
                ..
            } = *rules;
            return Err(Error::booking(
                "booking_barred",
                format!(
                    "{window} 天内已有 {misses} 次预约未到，{bar} 天内不能预约，可现场取号；{misses} booked appointment(s) were missed within {window} days, so booking is barred for {bar} days: walk-in tickets are still possible"
                ),
            ));
        }
        if self
            .registry
            .booking_of(person, Some(service), date, now.at)
            .is_some()
        {
            return Err(Error::booking(
                "already_booked",
                format!(
                    "您当天已预约该业务，每人每天每项业务限约一次；you already have a booking of this service on {date}: one per person, service and day"
                ),
            ));
        }
        let capacity = settings.capacities.get(index).copied().unwrap_or(0);
        if self.registry.held(service, date, start, now.at) >= capacity {
            return Err(Error::booking(
                "slot_full",
                format!(
                    "{date} {start} 时段已约满，请选择其他时段；the slot at {start} on {date} is full: please choose another"
                ),
            ));
        }
        Ok(vec![Event::BookingMade {
            code: code.clone(),
            service: service.clone(),
            date,
            start: slot.start,
            end: slot.end,
            starts_at,
            person: person.clone(),
            masked_id: masked_id.to_owned(),
        }])
    }

    fn decide_check_in(
        &self,
        code: &BookingCode,
        green_channel: bool,
        token: &str,
        now: Now,
    ) -> Result<Vec<Event>, Error> {
        let booking = self.known_booking(code)?;
        let today = self.date.unwrap_or(now.date).max(now.date);
        let status = self.registry.status(booking, now.at);
        if booking.date != today {
            return Err(Error::booking(
                "check_in_other_day",
                format!(
                    "该预约是 {} 的，不是今天的；the booking is for {}, not today",
                    booking.date, booking.date
                ),
            ));
        }
        let settings = self.registry.settings(&booking.service);
        let before = settings.map_or(30, |s| s.check_in_before_min);
        let after = settings.map_or(15, |s| s.check_in_after_min);
        let opens = booking
            .starts_at
            .plus_ms(-i64::from(before) * Millis::MINUTE);
        if status == BookingStatus::Verified && now.at < opens {
            let minutes = booking.start.minutes().saturating_sub(before as u16);
            let at = ClockTime::from_minutes(minutes).unwrap_or(ClockTime::MIDNIGHT);
            return Err(Error::booking(
                "check_in_too_early",
                format!(
                    "签到时间未到，请于 {at} 以后签到；check-in for this booking opens at {at}"
                ),
            ));
        }
        if status == BookingStatus::NoShow {
            return Err(Error::booking(
                "check_in_too_late",
                format!(
                    "已超过签到时间（时段开始后 {after} 分钟），请现场取号；check-in closed {after} minutes after the slot's start: please take a walk-in ticket"
                ),
            ));
        }
        if status != BookingStatus::Verified {
            return Err(not_active(code, status));
        }
        let mut events =
            self.decide_issue(&booking.service, green_channel, token, &None, now, true)?;
        let ticket = issued_id(&events).expect("an issue that holds makes a ticket");
        events.push(Event::TicketHolder {
            ticket,
            person: booking.person.clone(),
        });
        events.push(Event::BookingCheckedIn {
            code: code.clone(),
            ticket,
            queue_time: booking.starts_at.max(now.at),
        });
        Ok(events)
    }

    fn known_service(&self, code: &ServiceCode) -> Result<&Service, Error> {
        self.services
            .get(code)
            .ok_or_else(|| Error::UnknownService(code.clone()))
    }

    fn known_window(&self, number: WindowNumber) -> Result<&Window, Error> {
        self.windows
            .get(&number)
            .ok_or(Error::UnknownWindow(number))
    }

    fn check_service(&self, service: &Service) -> Result<(), Error> {
        service.validate()?;
        if let Some(other) = self
            .services
            .values()
            .find(|other| other.prefix == service.prefix && other.code != service.code)
        {
            return Err(Error::PrefixTaken {
                prefix: service.prefix.letter(),
                service: other.code.clone(),
            });
        }
        Ok(())
    }

    fn check_window(&self, def: &WindowDef) -> Result<(), Error> {
        def.validate()?;
        for code in &def.services {
            self.known_service(code)?;
        }
        Ok(())
    }

    fn caller<'a>(&self, window: &'a Window) -> Caller<'a> {
        Caller {
            window: window.number(),
            services: &window.def.services,
            consecutive_green: window.consecutive_green,
        }
    }

    fn serving_error(&self, window: WindowNumber, ticket: TicketId) -> Error {
        match self.ticket(ticket) {
            Some(ticket) => Error::WindowServing {
                window,
                ticket: ticket.number,
            },
            None => Error::WindowNotServing(window),
        }
    }

    /// Checks that a window may call, and finishes the ticket it is serving.
    fn start_call(&self, number: WindowNumber) -> Result<(&Window, Vec<Event>), Error> {
        let window = self.known_window(number)?;
        match &window.state {
            WindowState::Closed => Err(Error::WindowClosed(number)),
            WindowState::Paused { .. } => Err(Error::WindowPaused(number)),
            WindowState::Open => Ok((window, Vec::new())),
            WindowState::Serving { ticket } => Ok((
                window,
                vec![Event::TicketFinished {
                    id: *ticket,
                    window: number,
                    outcome: Outcome::Done,
                }],
            )),
        }
    }

    fn serving(&self, number: WindowNumber) -> Result<(WindowNumber, &Ticket), Error> {
        let window = self.known_window(number)?;
        window
            .serving()
            .and_then(|id| self.ticket(id))
            .map(|ticket| (number, ticket))
            .ok_or(Error::WindowNotServing(number))
    }

    /// Folds one event into the state. Events come from [`Hall::apply`], now or before a
    /// restart; one that does not fit the state (a damaged log) changes nothing it cannot.
    pub fn evolve(&mut self, event: &Event, at: Millis) {
        self.fold(event, at);
        if matches!(
            event,
            Event::DayStarted { .. }
                | Event::ServiceDefined(_)
                | Event::ServiceRemoved { .. }
                | Event::WindowDefined(_)
                | Event::WindowRemoved { .. }
        ) {
            self.refresh_loads();
        }
    }

    /// Tells the queues how many windows are assigned each service (what the hub's call-next
    /// rule weighs between nearly tied services).
    fn refresh_loads(&mut self) {
        let counts = self
            .services
            .keys()
            .map(|code| {
                let windows = self
                    .windows
                    .values()
                    .filter(|window| window.def.services.contains(code))
                    .count() as u32;
                (code.clone(), windows)
            })
            .collect();
        self.queues.set_windows_assigned(counts);
    }

    fn fold(&mut self, event: &Event, at: Millis) {
        match event {
            Event::DayStarted { date } => self.start_day(*date, at),
            Event::HallConfigured(settings) => self.settings = settings.clone(),
            Event::CalendarConfigured(calendar) => self.calendar = Some(calendar.clone()),
            Event::ServiceDefined(service) => {
                self.services.insert(service.code.clone(), service.clone());
            }
            Event::ServiceRemoved { code } => {
                self.services.remove(code);
                self.registry.service_removed(code);
            }
            Event::WindowDefined(def) => {
                self.windows
                    .entry(def.number)
                    .and_modify(|window| window.def = def.clone())
                    .or_insert_with(|| Window {
                        def: def.clone(),
                        state: WindowState::Closed,
                        state_since: at,
                        consecutive_green: 0,
                    });
            }
            Event::WindowRemoved { number } => {
                self.windows.remove(number);
            }
            Event::TicketIssued {
                id,
                number,
                service,
                green_channel,
                token,
                idempotency_key,
            } => {
                if self.tickets.is_empty() {
                    self.first_id_today = id.0;
                }
                let ticket = Ticket {
                    id: *id,
                    number: *number,
                    token: token.clone(),
                    service: service.clone(),
                    green_channel: *green_channel,
                    issued_at: at,
                    first_called_at: None,
                    called_at: None,
                    finished_at: None,
                    window: None,
                    pinned_window: None,
                    status: TicketStatus::Waiting,
                    transfers: Vec::new(),
                    recalls: 0,
                    idempotency_key: idempotency_key.clone(),
                    rating: None,
                    queue_time: at,
                    booking: None,
                };
                if let Some(entry) = self.queue_entry(&ticket) {
                    self.queues.push(&entry);
                }
                let last = self.last_seq.entry(number.prefix).or_insert(0);
                *last = (*last).max(number.seq);
                *self.issued_today.entry(service.clone()).or_insert(0) += 1;
                self.by_number.insert(*number, *id);
                self.by_token.insert(token.clone(), *id);
                if let Some(key) = idempotency_key {
                    self.by_idempotency_key.insert(key.clone(), *id);
                }
                self.tickets.push(ticket);
            }
            Event::TicketCalled {
                id,
                window,
                recall,
                out_of_order: _,
            } => self.called(*id, *window, *recall, at),
            Event::TicketFinished { id, window, .. } => {
                self.end_service(*id, *window, TicketStatus::Done, at)
            }
            Event::TicketNoShow { id, window } => {
                self.end_service(*id, *window, TicketStatus::NoShow, at)
            }
            Event::TicketTransferred { id, window, to } => self.transferred(*id, *window, to, at),
            Event::WindowOpened { window } => self.set_window_state(*window, WindowState::Open, at),
            Event::WindowClosed { window, .. } => {
                self.set_window_state(*window, WindowState::Closed, at)
            }
            Event::WindowPaused { window, reason } => {
                let state = WindowState::Paused {
                    reason: reason.clone(),
                };
                self.set_window_state(*window, state, at)
            }
            Event::WindowResumed { window } => {
                self.set_window_state(*window, WindowState::Open, at)
            }
            Event::TicketRated {
                id, rating, reason, ..
            } => {
                let given = Some(TicketRating {
                    rating: *rating,
                    reason: *reason,
                });
                if let Some(ticket) = self.ticket_mut(*id) {
                    ticket.rating = given;
                } else if let Some(ticket) = self.registry.ratable.get_mut(id) {
                    ticket.rating = given;
                }
            }
            Event::BookingConfigured { service, settings } => match settings {
                Some(settings) => {
                    self.registry
                        .booking
                        .insert(service.clone(), settings.clone());
                }
                None => {
                    self.registry.booking.remove(service);
                }
            },
            Event::TicketHolder { ticket, person } => {
                if let Some(found) = self.ticket(*ticket) {
                    let key = (person.clone(), found.service.clone());
                    self.holders.insert(key, *ticket);
                }
            }
            Event::BookingMade {
                code,
                service,
                date,
                start,
                end,
                starts_at,
                person,
                masked_id,
            } => {
                let booking = Booking {
                    code: code.clone(),
                    service: service.clone(),
                    date: *date,
                    start: *start,
                    end: *end,
                    starts_at: *starts_at,
                    person: person.clone(),
                    masked_id: masked_id.clone(),
                    booked_at: at,
                    lapses_at: at.plus_ms(self.settings.booking_rules.lapse_ms()),
                    verified_at: None,
                    cancelled_at: None,
                    ticket: None,
                    checked_in_at: None,
                    served: false,
                };
                self.registry.bookings.insert(code.clone(), booking);
            }
            Event::BookingVerified { code } => {
                if let Some(booking) = self.registry.bookings.get_mut(code) {
                    booking.verified_at = Some(at);
                }
            }
            Event::BookingCancelled { code } => {
                if let Some(booking) = self.registry.bookings.get_mut(code) {
                    booking.cancelled_at = Some(at);
                }
            }
            Event::BookingCheckedIn {
                code,
                ticket,
                queue_time,
            } => self.checked_in(code, *ticket, *queue_time, at),
            Event::CaseOpened { .. }
            | Event::CaseCalledBack { .. }
            | Event::CaseFixed { .. }
            | Event::CaseClosed { .. } => self.registry.fold_case(event, at),
        }
    }

    fn checked_in(&mut self, code: &BookingCode, id: TicketId, queue_time: Millis, at: Millis) {
        let Some(booking) = self.registry.bookings.get_mut(code) else {
            return;
        };
        booking.ticket = Some(id);
        booking.checked_in_at = Some(at);
        let service = booking.service.clone();
        *self.checked_in_today.entry(service).or_insert(0) += 1;
        let Some(ticket) = self.ticket(id) else {
            return;
        };
        if let Some(entry) = self.queue_entry(ticket) {
            self.queues.remove(&entry);
        }
        let Some(ticket) = self.ticket_mut(id) else {
            return;
        };
        ticket.queue_time = queue_time;
        ticket.booking = Some(code.clone());
        let ticket = ticket.clone();
        if let Some(entry) = self.queue_entry(&ticket) {
            self.queues.push(&entry);
        }
    }

    /// Today's finished tickets, as the registry keeps them once the day ends: the citizen
    /// may rate them from the phone until the end of the next working day.
    fn finished_today(&self) -> Vec<RatableTicket> {
        let Some(today) = self.date else {
            return Vec::new();
        };
        let rate_until = phone_rating_until(self.calendar.as_ref(), today);
        self.tickets
            .iter()
            .filter(|ticket| ticket.status == TicketStatus::Done)
            .filter_map(|ticket| {
                Some(RatableTicket {
                    token: ticket.token.clone(),
                    id: ticket.id,
                    number: ticket.number,
                    service: ticket.service.clone(),
                    window: ticket.window?,
                    date: today,
                    issued_at: ticket.issued_at,
                    finished_at: ticket.finished_at?,
                    rate_until,
                    rating: ticket.rating,
                })
            })
            .collect()
    }

    fn start_day(&mut self, date: LocalDate, at: Millis) {
        let finished = self.finished_today();
        self.date = Some(date);
        self.first_id_today += self.tickets.len() as u64;
        self.tickets.clear();
        self.by_number.clear();
        self.by_token.clear();
        self.by_idempotency_key.clear();
        self.last_seq.clear();
        self.issued_today.clear();
        self.queues = Queues::default();
        self.recent_calls.clear();
        self.handling.clear();
        self.last_finished.clear();
        self.checked_in_today.clear();
        self.holders.clear();
        self.registry
            .start_day(&self.settings.booking_rules, date, at, finished);
        for window in self.windows.values_mut() {
            window.state = WindowState::Closed;
            window.consecutive_green = 0;
            window.state_since = at;
        }
    }

    fn ticket_mut(&mut self, id: TicketId) -> Option<&mut Ticket> {
        let index = id.0.checked_sub(self.first_id_today)?;
        self.tickets.get_mut(usize::try_from(index).ok()?)
    }

    fn set_window_state(&mut self, number: WindowNumber, state: WindowState, at: Millis) {
        if let Some(window) = self.windows.get_mut(&number) {
            window.state = state;
            window.state_since = at;
        }
    }

    fn called(&mut self, id: TicketId, window: WindowNumber, recall: bool, at: Millis) {
        let Some(ticket) = self.ticket(id) else {
            return;
        };
        let entry = self.queue_entry(ticket);
        let green_call = ticket.green_channel && ticket.pinned_window.is_none();
        if let Some(entry) = entry {
            self.queues.remove(&entry);
        }
        let Some(ticket) = self.ticket_mut(id) else {
            return;
        };
        if recall {
            ticket.recalls += 1;
        } else {
            ticket.status = TicketStatus::Called;
            ticket.called_at = Some(at);
            ticket.first_called_at.get_or_insert(at);
            ticket.window = Some(window);
            ticket.pinned_window = None;
        }
        let call = Call {
            ticket: id,
            number: ticket.number,
            service: ticket.service.clone(),
            window,
            at,
            recall,
        };
        if !recall {
            if let Some(found) = self.windows.get_mut(&window) {
                found.consecutive_green = if green_call {
                    found.consecutive_green + 1
                } else {
                    0
                };
            }
            self.set_window_state(window, WindowState::Serving { ticket: id }, at);
        }
        self.recent_calls.push_front(call);
        self.recent_calls.truncate(RECENT_CALLS);
    }

    /// Counts the time a window spent on a ticket towards its service's handling estimate.
    fn count_handling(&mut self, id: TicketId, at: Millis) {
        let Some(ticket) = self.ticket(id) else {
            return;
        };
        if let Some(called_at) = ticket.called_at {
            let totals = self.handling.entry(ticket.service.clone()).or_default();
            totals.total_ms += at.since(called_at);
            totals.count += 1;
        }
    }

    fn end_service(
        &mut self,
        id: TicketId,
        window: WindowNumber,
        status: TicketStatus,
        at: Millis,
    ) {
        if status == TicketStatus::Done {
            self.count_handling(id, at);
            self.last_finished.insert(window, id);
            let booking = self.ticket(id).and_then(|ticket| ticket.booking.clone());
            if let Some(booking) = booking.and_then(|code| self.registry.bookings.get_mut(&code)) {
                booking.served = true;
            }
        }
        if let Some(ticket) = self.ticket_mut(id) {
            ticket.status = status;
            ticket.finished_at = Some(at);
        }
        self.set_window_state(window, WindowState::Open, at);
    }

    fn transferred(&mut self, id: TicketId, window: WindowNumber, to: &TransferTarget, at: Millis) {
        self.count_handling(id, at);
        let Some(ticket) = self.ticket_mut(id) else {
            return;
        };
        ticket.transfers.push(Transfer {
            from_service: ticket.service.clone(),
            from_window: window,
            to: to.clone(),
            at,
        });
        ticket.status = TicketStatus::Transferred;
        match to {
            TransferTarget::Service(code) => {
                ticket.service = code.clone();
                ticket.pinned_window = None;
            }
            TransferTarget::Window(target) => ticket.pinned_window = Some(*target),
        }
        let ticket = ticket.clone();
        if let Some(entry) = self.queue_entry(&ticket) {
            self.queues.push(&entry);
        }
        self.set_window_state(window, WindowState::Open, at);
    }

    /// Checks the invariants that must hold after any sequence of commands; used by the
    /// property tests here and in the simulator. Returns what is broken.
    pub fn check_invariants(&self) -> Result<(), String> {
        let queued = self.tickets.iter().filter(|t| t.status.is_queued()).count();
        if self.queues.len() != queued {
            return Err(format!(
                "{} tickets in the queues but {queued} tickets waiting",
                self.queues.len()
            ));
        }
        if self.by_number.len() != self.tickets.len() || self.by_token.len() != self.tickets.len() {
            return Err("a ticket number or token repeats today".into());
        }
        let issued: u32 = self.issued_today.values().sum();
        if issued as usize != self.tickets.len() {
            return Err(format!(
                "{issued} tickets counted as issued but {} exist",
                self.tickets.len()
            ));
        }
        for (index, ticket) in self.tickets.iter().enumerate() {
            if ticket.id.0 != self.first_id_today + index as u64 {
                return Err(format!("ticket {} is out of place", ticket.number));
            }
            let holders: Vec<WindowNumber> = self
                .windows
                .values()
                .filter(|w| w.serving() == Some(ticket.id))
                .map(Window::number)
                .collect();
            let expected = match ticket.status {
                TicketStatus::Called => 1,
                _ => 0,
            };
            if holders.len() != expected {
                return Err(format!(
                    "ticket {} ({}) is held by windows {holders:?}",
                    ticket.number,
                    ticket.status.as_str()
                ));
            }
            if ticket.status == TicketStatus::Called && ticket.window != holders.first().copied() {
                return Err(format!("ticket {} is at the wrong window", ticket.number));
            }
        }
        for window in self.windows.values() {
            if let Some(id) = window.serving()
                && self.ticket(id).is_none()
            {
                return Err(format!(
                    "window {} serves a ticket that does not exist",
                    window.number()
                ));
            }
        }
        Ok(())
    }
}

/// The refusal of a booking that is no longer active (lapsed, cancelled, checked in, …).
fn not_active(code: &BookingCode, status: BookingStatus) -> Error {
    let zh = match status {
        BookingStatus::Lapsed => "已失效",
        BookingStatus::Cancelled => "已取消",
        BookingStatus::CheckedIn | BookingStatus::Served => "已签到",
        BookingStatus::NoShow => "已过期",
        BookingStatus::Booked => "尚未验证",
        BookingStatus::Verified => "有效",
    };
    Error::booking(
        "booking_not_active",
        format!(
            "预约 {code} {zh}；booking {code} is {}",
            status.as_str().replace('_', " ")
        ),
    )
}

/// The ticket an issue's events issued.
fn issued_id(events: &[Event]) -> Option<TicketId> {
    events.iter().find_map(|event| match event {
        Event::TicketIssued { id, .. } => Some(*id),
        _ => None,
    })
}

/// A bad rating needs a reason and a good one takes none.
fn check_rating_reason(
    rating: crate::rating::Rating,
    reason: Option<crate::rating::RatingReason>,
) -> Result<(), Error> {
    match (rating.is_bad(), reason) {
        (true, None) => Err(Error::invalid(
            "a bad rating needs a reason: attitude, waiting, requirements unclear or other",
        )),
        (false, Some(_)) => Err(Error::invalid("only a bad rating takes a reason")),
        _ => Ok(()),
    }
}
