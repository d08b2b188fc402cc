//! One hall-day in virtual time, driving the core's [`Hall`] with the very commands the hub
//! sends: windows open when the hall opens, each citizen takes a ticket on arrival, an idle
//! window calls as soon as a ticket it may serve waits (the one idle longest first), a window
//! finishes or marks a no-show when the handling time is up, and a window's break pauses it
//! once the ticket in hand is done.
//!
//! The simulated "day" keeps one calendar date however long it runs, so a scenario whose hours
//! run past midnight (a stationary multi-day run) is one long hall-day to the core.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use jiaohao_core::{
    Absence, AbsenceClass, BookingCode, BookingSettings, Break, ClockTime, Command, Event, Hall,
    LocalDate, Millis, Now, Outcome, PersonKey, Projection, RatingReason, Service, TicketId,
    Window, WindowDef, WindowNumber, WindowState,
};

use crate::citizens::{
    CHECK_IN_AFTER_MIN, CHECK_IN_BEFORE_MIN, Citizen, MINUTE_MS, VisitOutcome,
    draw_no_show_bookings, slot_capacities,
};
use crate::policy::BenchPolicy;
use crate::scenario::Scenario;

/// What to do besides simulating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Check after every command the hall's invariants, after every step that no idle window
    /// leaves a ticket it may serve waiting, and at the end that every call of a service and
    /// class took the ticket first in queue-time order among those then waiting; a broken
    /// check ends the day with [`SimError::Invariant`].
    pub check: bool,
    /// Project every measured ticket's wait at issue, with the core's estimate and with the
    /// simple formula (the slowest part of a run).
    pub estimates: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            check: false,
            estimates: true,
        }
    }
}

/// Why a simulated day could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "{policy}, day {day}, {at_min:.3} min after opening: the hall refused {command}: {error}"
    )]
    Refused {
        policy: &'static str,
        day: u32,
        at_min: f64,
        command: String,
        error: jiaohao_core::Error,
    },
    #[error("{policy}, day {day}, {at_min:.3} min after opening: {message}")]
    Invariant {
        policy: &'static str,
        day: u32,
        at_min: f64,
        message: String,
    },
}

/// What happened to one citizen's ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    /// When the ticket was issued, in milliseconds after opening.
    pub issued_ms: i64,
    /// Its queue time: the issue time of a walk-in, the later of the slot's start and the
    /// check-in of a booking.
    pub queued_ms: i64,
    /// Issued by a booking's check-in.
    pub booked: bool,
    /// When a window called it.
    pub called_ms: i64,
    /// Its place among the day's calls: 0 for the first call.
    pub call_seq: u64,
    pub window: WindowNumber,
    /// The wait the core projected at issue, in milliseconds; `None` when not estimated or
    /// when no working window could call it.
    pub estimate_ms: Option<i64>,
    /// The simple formula's wait at issue: people ahead in the same service × expected
    /// handling time ÷ windows assigned the service.
    pub simple_estimate_ms: Option<i64>,
}

impl TicketRecord {
    /// The wait: from its queue time to its call (for a walk-in, from its issue); 0 for a
    /// booking that checked in early and was called before its slot's start.
    pub fn wait_ms(&self) -> i64 {
        (self.called_ms - self.queued_ms).max(0)
    }

    /// From issue to call (what a wait estimate at issue foretells).
    pub fn since_issue_ms(&self) -> i64 {
        self.called_ms - self.issued_ms
    }
}

/// A day's bookings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookingTally {
    /// Verified bookings of the day.
    pub verified: u32,
    /// Those checked in (the rest were missed, or came after check-in closed).
    pub checked_in: u32,
}

/// How one window spent the measured part of the day, in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRecord {
    pub number: WindowNumber,
    /// Serving a ticket or waiting for a no-show.
    pub busy_ms: i64,
    /// Open and idle.
    pub idle_ms: i64,
    /// Open and idle while a ticket it may serve waited (part of `idle_ms`).
    pub idle_while_waiting_ms: i64,
}

/// The outcome of one simulated day under one policy.
#[derive(Debug, Clone, PartialEq)]
pub struct DayRecord {
    /// One per citizen, in the citizens' order.
    pub tickets: Vec<TicketRecord>,
    /// One per window, in the scenario's order.
    pub windows: Vec<WindowRecord>,
    /// Where measuring starts: the end of the warm-up, in milliseconds after opening.
    pub measured_from_ms: i64,
    /// When the hall closed: the last ticket done, but not before issuing stopped.
    pub end_ms: i64,
    /// The day's bookings (none where no service takes bookings).
    pub bookings: BookingTally,
}

/// The documents every simulated service asks for (一次性告知); a visit that ends
/// `documents_missing` lacks the first.
const SIM_DOCUMENTS: [&str; 2] = ["居民身份证原件", "申请表"];
const SIM_DOCUMENTS_EN: [&str; 2] = ["ID card (original)", "Application form"];

/// The core's outcome of a simulated visit, with the texts a clerk would give.
fn visit_outcome(outcome: VisitOutcome) -> Outcome {
    match outcome {
        VisitOutcome::Done => Outcome::Done,
        VisitOutcome::DocumentsMissing => {
            Outcome::DocumentsMissing(vec![SIM_DOCUMENTS[0].to_owned()])
        }
        VisitOutcome::Refused => Outcome::Refused("不属于本大厅受理范围".to_owned()),
        VisitOutcome::Referred => Outcome::Referred("县公安局交通管理大队".to_owned()),
    }
}

/// The date every simulated day runs on; each day is a fresh hall, so one date serves all.
const SIM_DATE: LocalDate = LocalDate {
    year: 2026,
    month: 3,
    day: 2,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Happening {
    /// The window's ticket in hand is done (or its no-show time is up).
    Done(usize),
    BreakStarts(usize),
    BreakEnds(usize),
}

/// The day before [`SIM_DATE`], when the bench's bookings are made.
const SIM_EVE: LocalDate = LocalDate {
    year: 2026,
    month: 3,
    day: 1,
};

#[derive(Debug, Clone, Copy)]
struct Issued {
    id: TicketId,
    issued_ms: i64,
    queued_ms: i64,
    booked: bool,
    /// Its place among the day's issues and calls.
    step: u64,
    estimate_ms: Option<i64>,
    simple_estimate_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
struct Called {
    at_ms: i64,
    seq: u64,
    step: u64,
    window: WindowNumber,
}

struct Engine<'a> {
    scenario: &'a Scenario,
    citizens: &'a [Citizen],
    policy: BenchPolicy,
    day: u32,
    options: Options,
    hall: Hall,
    /// Milliseconds from midnight of the hall's date to opening.
    origin_ms: i64,
    measured_from_ms: i64,
    /// The scenario's windows by slot.
    numbers: Vec<WindowNumber>,
    /// Slot of each window number (index = number).
    slot_of: Vec<usize>,
    /// The citizen each window is serving.
    serving: Vec<Option<usize>>,
    /// A break began while the window was serving: pause once that ticket is done.
    break_pending: Vec<bool>,
    /// Whether the window sat idle while a ticket it may serve waited, since `last_ms`.
    starved: Vec<bool>,
    windows: Vec<WindowRecord>,
    agenda: BinaryHeap<Reverse<(i64, u64, Happening)>>,
    agenda_seq: u64,
    next_arrival: usize,
    issued: Vec<Issued>,
    called: Vec<Option<Called>>,
    first_ticket_id: u64,
    /// The hall's date, and the instant of its local midnight (ms since the epoch).
    date: LocalDate,
    midnight_ms: i64,
    /// Every event made, when asked for.
    log: Option<Vec<(Millis, Event)>>,
    calls: u64,
    /// Issues and calls so far.
    steps: u64,
    bookings: BookingTally,
    done: usize,
    last_ms: i64,
}

/// Simulates one day of `scenario` under `policy` for the given citizens (from
/// [`draw_day`](crate::citizens::draw_day)).
pub fn simulate_day(
    scenario: &Scenario,
    citizens: &[Citizen],
    policy: BenchPolicy,
    day: u32,
    options: Options,
) -> Result<DayRecord, SimError> {
    let mut engine = Engine::new(scenario, citizens, policy, day, options);
    engine.set_up()?;
    engine.run()?;
    engine.finish()
}

/// A simulated day that goes on from a hall of earlier days, with every event it made.
#[derive(Debug, Clone)]
pub struct LoggedDay {
    pub record: DayRecord,
    /// The hall at the end of the day, to go on from the next day.
    pub hall: Hall,
    /// Every event of the day in order, with its instant.
    pub events: Vec<(Millis, Event)>,
}

/// Simulates one day like [`simulate_day`], but on the real `date` whose local midnight is
/// `midnight`, going on from `hall` (its services and windows, its ticket ids; a fresh
/// [`Hall::new`] for the first day), and keeps every event the core made: a log as a hub
/// would have written it, for the city's bench (a day starts with `DayStarted`).
#[allow(clippy::too_many_arguments)]
pub fn simulate_logged_day(
    hall: Hall,
    date: LocalDate,
    midnight: Millis,
    scenario: &Scenario,
    citizens: &[Citizen],
    policy: BenchPolicy,
    day: u32,
    options: Options,
) -> Result<LoggedDay, SimError> {
    let mut engine = Engine::new(scenario, citizens, policy, day, options);
    engine.hall = hall.with_policy(policy.rule());
    engine.date = date;
    engine.midnight_ms = midnight.0;
    engine.log = Some(Vec::new());
    engine.set_up()?;
    engine.run()?;
    let record = engine.finish()?;
    Ok(LoggedDay {
        record,
        events: engine.log.take().unwrap_or_default(),
        hall: std::mem::take(&mut engine.hall),
    })
}

impl<'a> Engine<'a> {
    fn new(
        scenario: &'a Scenario,
        citizens: &'a [Citizen],
        policy: BenchPolicy,
        day: u32,
        options: Options,
    ) -> Engine<'a> {
        let numbers: Vec<WindowNumber> = scenario.windows.iter().map(|w| w.number).collect();
        let mut slot_of = vec![usize::MAX; 1000];
        for (slot, number) in numbers.iter().enumerate() {
            slot_of[usize::from(number.get())] = slot;
        }
        let count = numbers.len();
        Engine {
            scenario,
            citizens,
            policy,
            day,
            options,
            hall: Hall::new().with_policy(policy.rule()),
            origin_ms: i64::from(scenario.open.minutes()) * Millis::MINUTE,
            measured_from_ms: (scenario.warmup_hours * 60.0 * MINUTE_MS).round() as i64,
            windows: numbers
                .iter()
                .map(|&number| WindowRecord {
                    number,
                    busy_ms: 0,
                    idle_ms: 0,
                    idle_while_waiting_ms: 0,
                })
                .collect(),
            numbers,
            slot_of,
            serving: vec![None; count],
            break_pending: vec![false; count],
            starved: vec![false; count],
            agenda: BinaryHeap::new(),
            agenda_seq: 0,
            next_arrival: 0,
            issued: Vec::with_capacity(citizens.len()),
            called: vec![None; citizens.len()],
            first_ticket_id: 0,
            date: SIM_DATE,
            midnight_ms: 0,
            log: None,
            calls: 0,
            steps: 0,
            bookings: BookingTally::default(),
            done: 0,
            last_ms: 0,
        }
    }

    fn now(&self, at_ms: i64) -> Now {
        let local = self.origin_ms + at_ms;
        let minute_of_day = (local / Millis::MINUTE).rem_euclid(24 * 60);
        Now {
            at: Millis(self.midnight_ms + local),
            date: self.date,
            // Always in range: the remainder is below a day.
            time: ClockTime::from_minutes(minute_of_day as u16).unwrap_or(self.scenario.open),
        }
    }

    fn at_min(&self) -> f64 {
        self.last_ms as f64 / MINUTE_MS
    }

    fn invariant(&self, message: String) -> SimError {
        SimError::Invariant {
            policy: self.policy.name(),
            day: self.day,
            at_min: self.at_min(),
            message,
        }
    }

    /// Applies a command at `last_ms`; with checks on, checks the hall's invariants after it.
    fn apply(&mut self, command: Command) -> Result<Vec<Event>, SimError> {
        self.apply_at(command, self.now(self.last_ms))
    }

    /// Applies a command at `now`, as [`Engine::apply`].
    fn apply_at(&mut self, command: Command, now: Now) -> Result<Vec<Event>, SimError> {
        let events = self
            .hall
            .apply(&command, now)
            .map_err(|error| SimError::Refused {
                policy: self.policy.name(),
                day: self.day,
                at_min: self.at_min(),
                command: format!("{command:?}"),
                error,
            })?;
        if let Some(log) = &mut self.log {
            log.extend(events.iter().map(|event| (now.at, event.clone())));
        }
        if self.options.check
            && let Err(message) = self.hall.check_invariants()
        {
            return Err(self.invariant(format!("after {}: {message}", command_name(&command))));
        }
        Ok(events)
    }

    /// Instant of the hall's opening, in milliseconds since the epoch.
    fn opening_ms(&self) -> i64 {
        self.midnight_ms + self.origin_ms
    }

    fn set_up(&mut self) -> Result<(), SimError> {
        let scenario = self.scenario;
        let booking = scenario.has_bookings();
        if booking && (self.log.is_some() || self.date != SIM_DATE) {
            return Err(self.invariant(
                "bookings are simulated on the bench's own day only, not in a logged run".into(),
            ));
        }
        // Bookings are made the evening before, with the services they are for.
        let eve = if booking {
            Now {
                at: Millis(self.midnight_ms - 6 * 60 * Millis::MINUTE),
                date: SIM_EVE,
                time: ClockTime::from_minutes(18 * 60).unwrap_or(ClockTime::MIDNIGHT),
            }
        } else {
            self.now(self.last_ms)
        };
        let target = round_minutes(scenario.target_wait_min);
        for (index, spec) in scenario.services.iter().enumerate() {
            let mut service = Service::new(
                spec.code.clone(),
                spec.prefix,
                spec.name_zh.clone(),
                spec.code.to_string(),
            )
            .with_targets(target, round_minutes(spec.mean_min * 3.0))
            .with_handling_estimate(round_minutes(spec.mean_min))
            .with_documents(
                SIM_DOCUMENTS.iter().map(|d| (*d).to_owned()).collect(),
                SIM_DOCUMENTS_EN.iter().map(|d| (*d).to_owned()).collect(),
            );
            let capacities = slot_capacities(scenario, index);
            if let (Some(hours), false) = (scenario.booking_hours(), capacities.is_empty()) {
                service = service.with_hours(hours.0, hours.1);
            }
            // A hall going on from earlier days has its services already.
            if self.hall.service(&service.code).is_none() {
                self.apply_at(Command::AddService(service), eve)?;
            }
            if let (Some(spec_booking), false) = (&scenario.booking, capacities.is_empty()) {
                let settings = BookingSettings {
                    slot_min: spec_booking.slot_min,
                    capacities,
                    days_ahead: 5,
                    cancel_before_min: 120,
                    check_in_before_min: CHECK_IN_BEFORE_MIN,
                    check_in_after_min: CHECK_IN_AFTER_MIN,
                };
                self.apply_at(
                    Command::ConfigureBooking {
                        service: spec.code.clone(),
                        settings: Some(settings),
                    },
                    eve,
                )?;
            }
        }
        if booking {
            self.book(eve)?;
        }
        for spec in &scenario.windows {
            let def = WindowDef {
                number: spec.number,
                name_zh: format!("{}号窗口", spec.number),
                name_en: format!("Window {}", spec.number),
                services: self.policy.assignment(scenario, spec),
                breaks: spec
                    .closed
                    .map(|(from, to)| Break { from, to })
                    .into_iter()
                    .collect(),
            };
            if self.hall.window(def.number).is_none() {
                self.apply(Command::AddWindow(def))?;
            }
        }
        for slot in 0..self.numbers.len() {
            let window = self.numbers[slot];
            self.apply(Command::Open { window })?;
        }
        self.schedule_breaks();
        Ok(())
    }

    /// Books and verifies, at `eve`, every booker's slot and the bookings that will not come.
    fn book(&mut self, eve: Now) -> Result<(), SimError> {
        let mut slots: Vec<(usize, usize, i64)> = self
            .citizens
            .iter()
            .enumerate()
            .filter_map(|(index, c)| c.booking.map(|b| (index, c.service, b.start_ms)))
            .collect();
        let slot_ms = self
            .scenario
            .booking
            .as_ref()
            .map_or(0, |spec| i64::from(spec.slot_min) * Millis::MINUTE);
        let missing = draw_no_show_bookings(self.scenario, self.day, self.citizens);
        slots.extend(
            missing.into_iter().enumerate().map(|(k, (service, slot))| {
                (self.citizens.len() + k, service, slot as i64 * slot_ms)
            }),
        );
        for (index, service, start_ms) in slots {
            let code = booking_code(index);
            let minutes = (self.origin_ms + start_ms) / Millis::MINUTE;
            let start = ClockTime::from_minutes(minutes as u16)
                .map_err(|error| self.invariant(format!("a slot at {minutes} min: {error}")))?;
            let person = PersonKey::parse(&format!("{:032x}", index + 1))
                .map_err(|error| self.invariant(error.to_string()))?;
            self.apply_at(
                Command::Book {
                    code: code.clone(),
                    service: self.scenario.services[service].code.clone(),
                    date: self.date,
                    start,
                    starts_at: Millis(self.opening_ms() + start_ms),
                    person,
                    masked_id: format!("1101**********{:03}0", index % 1000),
                },
                eve,
            )?;
            self.apply_at(Command::VerifyBooking { code }, eve)?;
            self.bookings.verified += 1;
        }
        Ok(())
    }

    /// Schedules each window's break on every day it falls within the issuing hours; a break
    /// already running at opening starts at opening.
    fn schedule_breaks(&mut self) {
        let day_ms = 24 * 60 * Millis::MINUTE;
        let horizon_ms = self.horizon_ms();
        let open = i64::from(self.scenario.open.minutes());
        for (slot, spec) in self.scenario.windows.iter().enumerate() {
            let Some((from, to)) = spec.closed else {
                continue;
            };
            let from = i64::from(from.minutes());
            let length_ms = (i64::from(to.minutes()) - from) * Millis::MINUTE;
            let first_ms = (from - open).rem_euclid(24 * 60) * Millis::MINUTE - day_ms;
            let mut start_ms = first_ms;
            while start_ms < horizon_ms {
                let end_ms = start_ms + length_ms;
                if end_ms > 0 {
                    self.schedule(start_ms.max(0), Happening::BreakStarts(slot));
                    self.schedule(end_ms, Happening::BreakEnds(slot));
                }
                start_ms += day_ms;
            }
        }
    }

    /// When issuing stops, in milliseconds after opening.
    fn horizon_ms(&self) -> i64 {
        (self.scenario.issue_horizon_min() * MINUTE_MS).round() as i64
    }

    fn schedule(&mut self, at_ms: i64, happening: Happening) {
        self.agenda
            .push(Reverse((at_ms, self.agenda_seq, happening)));
        self.agenda_seq += 1;
    }

    /// Runs until every ticket is done and issuing has stopped (breaks until then still
    /// happen, so a window's time is counted right to the end).
    fn run(&mut self) -> Result<(), SimError> {
        let horizon_ms = self.horizon_ms();
        loop {
            let arrival = self.citizens.get(self.next_arrival).map(|c| c.arrival_ms);
            let planned = self.agenda.peek().map(|Reverse((at, _, _))| *at);
            if self.done == self.citizens.len() && planned.is_none_or(|at| at > horizon_ms) {
                return Ok(());
            }
            // On a tie the window finishes (or breaks) before the citizen arrives.
            let take_arrival = match (arrival, planned) {
                (Some(arrival), Some(planned)) => arrival < planned,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => {
                    return Err(self.invariant(format!(
                        "{} of {} tickets were never finished",
                        self.citizens.len() - self.done,
                        self.citizens.len()
                    )));
                }
            };
            if take_arrival {
                let citizen = self.next_arrival;
                self.next_arrival += 1;
                self.advance_to(self.citizens[citizen].arrival_ms);
                self.arrive(citizen)?;
            } else if let Some(Reverse((at, _, happening))) = self.agenda.pop() {
                self.advance_to(at);
                match happening {
                    Happening::Done(slot) => self.done_at(slot)?,
                    Happening::BreakStarts(slot) => self.break_starts(slot)?,
                    Happening::BreakEnds(slot) => self.break_ends(slot)?,
                }
            }
            self.dispatch()?;
            self.note_starved()?;
        }
    }

    /// Moves the clock, counting the time since the last step into each window's record.
    fn advance_to(&mut self, at_ms: i64) {
        let from = self.last_ms.max(self.measured_from_ms);
        let span = (at_ms - from).max(0);
        if span > 0 {
            for window in self.hall.windows() {
                let slot = self.slot_of[usize::from(window.number().get())];
                let record = &mut self.windows[slot];
                match window.state {
                    WindowState::Open => {
                        record.idle_ms += span;
                        if self.starved[slot] {
                            record.idle_while_waiting_ms += span;
                        }
                    }
                    WindowState::Serving { .. } => record.busy_ms += span,
                    WindowState::Closed | WindowState::Paused { .. } => {}
                }
            }
        }
        self.last_ms = self.last_ms.max(at_ms);
    }

    fn arrive(&mut self, citizen: usize) -> Result<(), SimError> {
        let person = &self.citizens[citizen];
        let service = self.scenario.services[person.service].code.clone();
        let token = format!("sim-{}-{:016}", self.day, citizen);
        // A booker after check-in closed takes a walk-in ticket.
        let checks_in = person.booking.is_some_and(|slot| {
            person.arrival_ms <= slot.start_ms + i64::from(CHECK_IN_AFTER_MIN) * Millis::MINUTE
        });
        let command = if checks_in {
            Command::CheckIn {
                code: booking_code(citizen),
                green_channel: person.green_channel,
                token,
            }
        } else {
            Command::IssueTicket {
                service: service.clone(),
                green_channel: person.green_channel,
                token,
                idempotency_key: None,
            }
        };
        let events = self.apply(command)?;
        let opening_ms = self.opening_ms();
        let queued_ms = events
            .iter()
            .find_map(|event| match event {
                Event::BookingCheckedIn { queue_time, .. } => Some(queue_time.0 - opening_ms),
                _ => None,
            })
            .unwrap_or(person.arrival_ms);
        self.bookings.checked_in += u32::from(checks_in);
        let id = events
            .iter()
            .find_map(|event| match event {
                Event::TicketIssued { id, .. } => Some(*id),
                _ => None,
            })
            .ok_or_else(|| self.invariant("issuing a ticket issued none".into()))?;
        if citizen == 0 {
            self.first_ticket_id = id.0;
        }
        if id.0 != self.first_ticket_id + citizen as u64 {
            return Err(self.invariant(format!("ticket {id:?} is not citizen {citizen}'s")));
        }
        let measured = person.arrival_ms >= self.measured_from_ms;
        let (estimate_ms, simple_estimate_ms) = if self.options.estimates && measured {
            let now = self.now(self.last_ms);
            let estimate = Projection::call_at_of(&self.hall, now, id).map(|at| at.since(now.at));
            (estimate, self.simple_estimate(id, &service))
        } else {
            (None, None)
        };
        self.issued.push(Issued {
            id,
            issued_ms: person.arrival_ms,
            queued_ms,
            booked: checks_in,
            step: self.steps,
            estimate_ms,
            simple_estimate_ms,
        });
        self.steps += 1;
        Ok(())
    }

    /// People ahead in the same service × expected handling time ÷ windows assigned it.
    fn simple_estimate(&self, id: TicketId, service: &jiaohao_core::ServiceCode) -> Option<i64> {
        let ticket = self.hall.ticket(id)?;
        let ahead = self.hall.ahead_of(ticket)? as i64;
        let windows = self.hall.windows_serving(service).len() as i64;
        (windows > 0).then(|| ahead * self.hall.expected_handling_ms(service) / windows)
    }

    fn done_at(&mut self, slot: usize) -> Result<(), SimError> {
        let window = self.numbers[slot];
        let Some(citizen) = self.serving[slot].take() else {
            return Err(self.invariant(format!("window {window} finished without a ticket")));
        };
        let citizen = &self.citizens[citizen];
        if citizen.no_show {
            self.apply(Command::NoShow { window })?;
        } else {
            let (rating, outcome) = (citizen.rating, visit_outcome(citizen.outcome));
            let events = self.apply(Command::Finish { window, outcome })?;
            let finished = events.iter().find_map(|event| match event {
                Event::TicketFinished { id, .. } => self.hall.ticket(*id).map(|t| t.number),
                _ => None,
            });
            if let (Some(rating), Some(number)) = (rating, finished) {
                self.apply(Command::RateTicket {
                    window,
                    number,
                    rating,
                    reason: rating.is_bad().then_some(RatingReason::Waiting),
                })?;
            }
        }
        self.done += 1;
        if std::mem::take(&mut self.break_pending[slot]) {
            self.pause(window)?;
        }
        Ok(())
    }

    fn pause(&mut self, window: WindowNumber) -> Result<(), SimError> {
        self.apply(Command::Pause {
            window,
            reason: Absence::new(AbsenceClass::Break),
        })
        .map(drop)
    }

    fn break_starts(&mut self, slot: usize) -> Result<(), SimError> {
        let window = self.numbers[slot];
        match self.window(slot)?.state {
            WindowState::Open => self.pause(window),
            WindowState::Serving { .. } => {
                self.break_pending[slot] = true;
                Ok(())
            }
            WindowState::Closed | WindowState::Paused { .. } => Ok(()),
        }
    }

    fn break_ends(&mut self, slot: usize) -> Result<(), SimError> {
        if std::mem::take(&mut self.break_pending[slot]) {
            // The ticket in hand outlasted the break: the clerk never left.
            return Ok(());
        }
        let window = self.numbers[slot];
        if matches!(self.window(slot)?.state, WindowState::Paused { .. }) {
            self.apply(Command::Resume { window })?;
        }
        Ok(())
    }

    fn window(&self, slot: usize) -> Result<&Window, SimError> {
        let number = self.numbers[slot];
        self.hall
            .window(number)
            .ok_or_else(|| self.invariant(format!("window {number} vanished")))
    }

    /// Whether an idle window has a ticket it may serve waiting.
    fn could_serve(&self, window: &Window) -> bool {
        let queues = self.hall.queues();
        window.state == WindowState::Open
            && (queues.pinned_to(window.number()) > 0
                || window
                    .def
                    .services
                    .iter()
                    .any(|code| queues.waiting_for_service(code) > 0))
    }

    /// Every idle window with something to serve calls, the one idle longest first.
    fn dispatch(&mut self) -> Result<(), SimError> {
        let mut callers: Vec<(Millis, WindowNumber)> = self
            .hall
            .windows()
            .filter(|window| self.could_serve(window))
            .map(|window| (window.state_since, window.number()))
            .collect();
        callers.sort_unstable();
        for (_, window) in callers {
            for event in self.apply(Command::CallNext { window })? {
                if let Event::TicketCalled {
                    id, recall: false, ..
                } = event
                {
                    self.start(id, window)?;
                }
            }
        }
        Ok(())
    }

    fn start(&mut self, id: TicketId, window: WindowNumber) -> Result<(), SimError> {
        let citizen =
            id.0.checked_sub(self.first_ticket_id)
                .and_then(|index| usize::try_from(index).ok())
                .filter(|&index| index < self.issued.len())
                .ok_or_else(|| self.invariant(format!("called unknown ticket {id:?}")))?;
        let slot = self.slot_of[usize::from(window.get())];
        if self.called[citizen].is_some() || self.serving[slot].is_some() {
            return Err(self.invariant(format!("ticket {id:?} or window {window} called twice")));
        }
        self.called[citizen] = Some(Called {
            at_ms: self.last_ms,
            seq: self.calls,
            step: self.steps,
            window,
        });
        self.calls += 1;
        self.steps += 1;
        self.serving[slot] = Some(citizen);
        let person = &self.citizens[citizen];
        let takes_ms = if person.no_show {
            (self.scenario.no_show_clerk_min * MINUTE_MS).round() as i64
        } else {
            person.handling_ms
        };
        self.schedule(self.last_ms + takes_ms, Happening::Done(slot));
        Ok(())
    }

    /// Notes which idle windows have work waiting; with checks on, that is an error
    /// (every policy here is meant to be work-conserving).
    fn note_starved(&mut self) -> Result<(), SimError> {
        for window in self.hall.windows() {
            let slot = self.slot_of[usize::from(window.number().get())];
            self.starved[slot] = self.could_serve(window);
            if self.options.check && self.starved[slot] {
                return Err(self.invariant(format!(
                    "window {} is idle while a ticket it may serve waits",
                    window.number()
                )));
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<DayRecord, SimError> {
        let end_ms = self.last_ms.max(self.horizon_ms());
        self.advance_to(end_ms);
        let mut tickets = Vec::with_capacity(self.issued.len());
        for (citizen, (issued, called)) in self.issued.iter().zip(&self.called).enumerate() {
            let called = called.ok_or_else(|| {
                self.invariant(format!(
                    "citizen {citizen} ({:?}) was never called",
                    issued.id
                ))
            })?;
            tickets.push(TicketRecord {
                issued_ms: issued.issued_ms,
                queued_ms: issued.queued_ms,
                booked: issued.booked,
                called_ms: called.at_ms,
                call_seq: called.seq,
                window: called.window,
                estimate_ms: issued.estimate_ms,
                simple_estimate_ms: issued.simple_estimate_ms,
            });
        }
        if self.options.check {
            self.check_order(&tickets)?;
        }
        Ok(DayRecord {
            tickets,
            windows: std::mem::take(&mut self.windows),
            measured_from_ms: self.measured_from_ms,
            end_ms,
            bookings: self.bookings,
        })
    }

    /// Every call took, of the tickets of its service and class then waiting, the first in
    /// queue-time order (a booking that checked in early may be called before its slot's
    /// start while nobody queued earlier waits; a walk-in who comes later is not passed over).
    fn check_order(&self, tickets: &[TicketRecord]) -> Result<(), SimError> {
        use std::collections::BTreeSet;
        enum Step {
            Issue(usize),
            Call(usize),
        }
        let mut steps: Vec<(u64, Step)> = Vec::with_capacity(tickets.len() * 2);
        for (citizen, (issued, called)) in self.issued.iter().zip(&self.called).enumerate() {
            steps.push((issued.step, Step::Issue(citizen)));
            if let Some(called) = called {
                steps.push((called.step, Step::Call(citizen)));
            }
        }
        steps.sort_by_key(|(step, _)| *step);
        let classes = self.scenario.services.len() * 2;
        let class_of = |citizen: usize| {
            let person = &self.citizens[citizen];
            person.service * 2 + usize::from(person.green_channel)
        };
        let mut waiting: Vec<BTreeSet<(i64, usize)>> = vec![BTreeSet::new(); classes];
        for (_, step) in steps {
            match step {
                Step::Issue(citizen) => {
                    waiting[class_of(citizen)].insert((tickets[citizen].queued_ms, citizen));
                }
                Step::Call(citizen) => {
                    let queue = &mut waiting[class_of(citizen)];
                    let first = queue.pop_first();
                    if first != Some((tickets[citizen].queued_ms, citizen)) {
                        return Err(self.invariant(format!(
                            "citizen {citizen} was called while {first:?} (queue time, citizen) \
                             of the same queue waited ahead"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The booking code of citizen (or missed booking) `index`: its digits in base 32, one
/// character of the code's alphabet each, so every index has its own code.
fn booking_code(index: usize) -> BookingCode {
    let mut bytes = [0u8; 8];
    let mut rest = index;
    for byte in bytes.iter_mut().rev() {
        *byte = (rest % 32) as u8;
        rest /= 32;
    }
    BookingCode::from_random(bytes)
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::AddService(_) => "AddService",
        Command::AddWindow(_) => "AddWindow",
        Command::Open { .. } => "Open",
        Command::IssueTicket { .. } => "IssueTicket",
        Command::CallNext { .. } => "CallNext",
        Command::Finish { .. } => "Finish",
        Command::NoShow { .. } => "NoShow",
        Command::Pause { .. } => "Pause",
        Command::Resume { .. } => "Resume",
        Command::Book { .. } => "Book",
        Command::VerifyBooking { .. } => "VerifyBooking",
        Command::CheckIn { .. } => "CheckIn",
        Command::ConfigureBooking { .. } => "ConfigureBooking",
        _ => "a command",
    }
}

/// Whole minutes for the core's service settings, within its 1–1440 range.
fn round_minutes(minutes: f64) -> u32 {
    minutes.round().clamp(1.0, 1440.0) as u32
}
