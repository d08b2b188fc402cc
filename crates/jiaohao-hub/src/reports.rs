//! Reports and the audit trail, both computed from the event log (the one record): per day or
//! range of days, per service, window and clerk, and every event with who did it and when.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiaohao_core::case::CaseFigures;
use jiaohao_core::history::{
    Activity, Definitions, Departure, MATTER_DAYS, TicketLife, WindowSpan,
};
use jiaohao_core::{
    Absence, AbsenceClass, ClockTime, Event, Fact, HallCalendar, History, LocalDate, Millis,
    Outcome, Rota, ServiceCode, TicketId, TransferTarget, WindowNumber,
};
use jiaohao_store::{AccountChange, Record, Role};
use jiaohao_wire as wire;
use jiaohao_wire::text::{csv_field, csv_optional};
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::http::api::Params;
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The longest range one report covers.
const MAX_DAYS: i64 = 366;
/// The most audit entries one answer carries.
const MAX_AUDIT: usize = 5000;

#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    /// First local day, `YYYY-MM-DD`; today when left out.
    #[serde(default)]
    pub from: Option<String>,
    /// Last local day (included); `from` when left out.
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// Only events about this ticket number, such as `B001`.
    #[serde(default)]
    pub number: Option<String>,
    /// Only out-of-order calls and configuration changes.
    #[serde(default)]
    pub flagged: Option<bool>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A range of local days as instants: `[start, end)`.
struct Range {
    from: LocalDate,
    to: LocalDate,
    start: Millis,
    end: Millis,
}

fn day_start(date: LocalDate, zone: &TimeZone) -> Result<Millis, ApiError> {
    let civil = jiff::civil::date(date.year, date.month as i8, date.day as i8);
    zone.to_timestamp(civil.to_datetime(jiff::civil::Time::midnight()))
        .map(crate::clock::millis)
        .map_err(|_| ApiError::bad_request(format!("{date} has no start in the hall's time zone")))
}

fn parse_range(
    state: &AppState,
    from: Option<&str>,
    to: Option<&str>,
    zone: &TimeZone,
) -> Result<Range, ApiError> {
    let today = crate::clock::core_now(state.clock.now(), zone).date;
    let parse = |text: &str| {
        LocalDate::parse(text)
            .map_err(|_| ApiError::bad_request(format!("'{text}' is not a date like 2026-11-23")))
    };
    let from = match from {
        Some(text) => parse(text)?,
        None => today,
    };
    let to = match to {
        Some(text) => parse(text)?,
        None => from,
    };
    if to < from {
        return Err(ApiError::bad_request(format!(
            "the range ends ({to}) before it starts ({from})"
        )));
    }
    let start = day_start(from, zone)?;
    let next = jiff::civil::date(to.year, to.month as i8, to.day as i8)
        .tomorrow()
        .map_err(|_| ApiError::bad_request("the range ends too late"))?;
    let after = LocalDate::new(next.year(), next.month() as u8, next.day() as u8)
        .map_err(|_| ApiError::bad_request("the range ends too late"))?;
    let end = day_start(after, zone)?;
    if end.since(start) > MAX_DAYS * 24 * 60 * Millis::MINUTE {
        return Err(ApiError::bad_request(format!(
            "a report covers at most {MAX_DAYS} days"
        )));
    }
    Ok(Range {
        from,
        to,
        start,
        end,
    })
}

async fn records(state: &AppState, range: &Range) -> Result<Vec<Record>, ApiError> {
    let (start, end) = (range.start, range.end);
    state
        .read(move |store| {
            let mut records = Vec::new();
            store.for_each_record_between(start, end, |record| records.push(record))?;
            Ok(records)
        })
        .await
}

/// The steps of cases logged after the range: a case rated in the range and closed a week
/// later counts as closed in the range's figures.
async fn later_case_steps(state: &AppState, range: &Range) -> Result<Vec<Record>, ApiError> {
    let end = range.end;
    state
        .read(move |store| {
            let mut records = Vec::new();
            store.for_each_record_of_kinds(
                &["case_called_back", "case_fixed", "case_closed"],
                end,
                Millis(i64::MAX),
                |record| records.push(record),
            )?;
            Ok(records)
        })
        .await
}

/// The configuration events before the range and then every event of it: what a report folds,
/// so that it judges and names each service as it was defined then, not as it is today.
async fn records_with_definitions(
    state: &AppState,
    range: &Range,
) -> Result<Vec<Record>, ApiError> {
    let (start, end) = (range.start, range.end);
    state
        .read(move |store| {
            let mut records = Vec::new();
            store.for_each_configuration_before(start, |record| records.push(record))?;
            // The known people's visits of the days before, to tell a first visit from a
            // repeat (`History`'s matters), in log order with the configuration.
            let lookback = Millis(
                start
                    .0
                    .saturating_sub(MATTER_DAYS * 24 * 60 * Millis::MINUTE),
            );
            store.for_each_record_of_kinds(
                &["ticket_issued", "ticket_holder", "ticket_finished"],
                lookback,
                start,
                |record| records.push(record),
            )?;
            records.sort_by_key(|record| record.seq);
            store.for_each_record_between(start, end, |record| records.push(record))?;
            Ok(records)
        })
        .await
}

/// How long after a report's range its ratings are looked for: a ticket may be rated from the
/// phone until the end of the next working day, which a long holiday (春节) pushes back.
const LATE_RATING_DAYS: i64 = 31;

/// The ratings logged in the [`LATE_RATING_DAYS`] after the range (up to now): those of the
/// range's tickets, rated from the phone on a later day, count for the range's days.
async fn later_ratings(state: &AppState, range: &Range) -> Result<Vec<Record>, ApiError> {
    let from = range.end;
    let to = Millis(
        from.0
            .saturating_add(LATE_RATING_DAYS * 24 * 60 * Millis::MINUTE)
            .min(state.now().0.saturating_add(1)),
    );
    if to <= from {
        return Ok(Vec::new());
    }
    state
        .read(move |store| {
            let mut records = Vec::new();
            store.for_each_record_of_kinds(&["ticket_rated"], from, to, |record| {
                records.push(record)
            })?;
            Ok(records)
        })
        .await
}

/// Who a clerk is in reports: the actor without the window a person signed in at, so
/// `clerk:zhang@3` and `clerk:zhang@5` are the same clerk.
pub fn clerk_key(actor: &str) -> String {
    match actor.rsplit_once('@') {
        Some((person, window))
            if !window.is_empty() && window.chars().all(|c| c.is_ascii_digit()) =>
        {
            person.to_owned()
        }
        _ => actor.to_owned(),
    }
}

/// A reason's words for the audit trail: its class, and the clerk's words after it.
fn absence_detail(reason: &Absence) -> String {
    if reason.note.is_empty() {
        reason.class.as_str().to_owned()
    } else {
        format!("{}: {}", reason.class.as_str(), reason.note)
    }
}

#[derive(Default)]
struct Acc {
    issued: u32,
    called: u32,
    served: u32,
    no_shows: u32,
    transfers: u32,
    waits_ms: Vec<i64>,
    within: u32,
    judged: u32,
    handling_ms: Vec<i64>,
    ratings: wire::RatingCounts,
    out_of_order: u32,
    /// Pause time by the class of its reason (the order of `AbsenceClass::ALL`).
    pause_ms: [i64; 6],
    /// Closes by the class of their reason, and last those without one.
    closes: [u32; 7],
    /// Off the rota: late opening, early closing, absence.
    off_rota_ms: [i64; 3],
    staffed_ms: i64,
    busy_ms: i64,
    outcomes: wire::OutcomeCounts,
    /// Finished tickets with a handling time judged against a limit, and those within it.
    limit_judged: u32,
    limit_within: u32,
    /// Finished first visits of known people, and those done on that ticket.
    first_visits: u32,
    first_visits_done: u32,
}

fn minutes(ms: f64) -> f64 {
    (ms / Millis::MINUTE as f64 * 10.0).round() / 10.0
}

fn mean(values: &[i64]) -> Option<f64> {
    (!values.is_empty()).then(|| minutes(values.iter().sum::<i64>() as f64 / values.len() as f64))
}

/// The 90th percentile by nearest rank.
fn p90(values: &[i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (sorted.len() * 9).div_ceil(10).max(1);
    Some(minutes(sorted[rank - 1] as f64))
}

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Acc {
    fn rate(&mut self, rating: jiaohao_core::Rating) {
        use jiaohao_core::Rating::*;
        let counts = &mut self.ratings;
        match rating {
            VerySatisfied => counts.very_satisfied += 1,
            Satisfied => counts.satisfied += 1,
            Basic => counts.basic += 1,
            Dissatisfied => counts.dissatisfied += 1,
            VeryDissatisfied => counts.very_dissatisfied += 1,
        }
    }

    fn finish(&mut self, outcome: &Outcome, handled_ms: Option<i64>, limit_min: Option<u32>) {
        self.served += 1;
        self.handling_ms.extend(handled_ms);
        let counts = &mut self.outcomes;
        match outcome {
            Outcome::Done => counts.done += 1,
            Outcome::DocumentsMissing(_) => counts.documents_missing += 1,
            Outcome::Refused(_) => counts.refused += 1,
            Outcome::Referred(_) => counts.referred += 1,
        }
        if let (Some(handled), Some(limit)) = (handled_ms, limit_min) {
            self.limit_judged += 1;
            self.limit_within += u32::from(handled <= i64::from(limit) * Millis::MINUTE);
        }
    }

    fn row(
        &self,
        key: String,
        name_zh: String,
        name_en: String,
        issued: bool,
        window: bool,
    ) -> wire::ReportRow {
        let r = &self.ratings;
        let rated = r.very_satisfied + r.satisfied + r.basic + r.dissatisfied + r.very_dissatisfied;
        let score = 5 * r.very_satisfied
            + 4 * r.satisfied
            + 3 * r.basic
            + 2 * r.dissatisfied
            + r.very_dissatisfied;
        let pause = |slot: usize| minutes(self.pause_ms[slot] as f64);
        let share = |part: u32, whole: u32| {
            (whole > 0).then(|| one_decimal(100.0 * f64::from(part) / f64::from(whole)))
        };
        wire::ReportRow {
            key,
            name_zh,
            name_en,
            issued: issued.then_some(self.issued),
            called: self.called,
            served: self.served,
            no_shows: self.no_shows,
            transfers: self.transfers,
            mean_wait_min: mean(&self.waits_ms),
            p90_wait_min: p90(&self.waits_ms),
            mean_handling_min: mean(&self.handling_ms),
            within_target_pct: (self.judged > 0)
                .then(|| one_decimal(100.0 * f64::from(self.within) / f64::from(self.judged))),
            ratings: self.ratings.clone(),
            rating_mean: (rated > 0)
                .then(|| (f64::from(score) / f64::from(rated) * 100.0).round() / 100.0),
            pause_min: wire::PauseMinutes {
                break_: pause(0),
                meeting: pause(1),
                system_fault: pause(2),
                training: pause(3),
                off_duty: pause(4),
                other: pause(5),
            },
            out_of_order: self.out_of_order,
            staffed_min: window.then(|| minutes(self.staffed_ms as f64)),
            busy_pct: (window && self.staffed_ms > 0)
                .then(|| one_decimal(100.0 * self.busy_ms as f64 / self.staffed_ms as f64)),
            outcomes: self.outcomes.clone(),
            done_pct: share(self.outcomes.done, self.served),
            within_limit_pct: share(self.limit_within, self.limit_judged),
            over_limit: self.limit_judged - self.limit_within,
            satisfied_pct: share(r.very_satisfied + r.satisfied + r.basic, rated),
            first_visits: self.first_visits,
            first_visit_done_pct: share(self.first_visits_done, self.first_visits),
            closes: wire::CloseCounts {
                break_: self.closes[0],
                meeting: self.closes[1],
                system_fault: self.closes[2],
                training: self.closes[3],
                off_duty: self.closes[4],
                other: self.closes[5],
                none: self.closes[6],
            },
            off_rota_min: wire::OffRotaMinutes {
                late_open: minutes(self.off_rota_ms[0] as f64),
                early_close: minutes(self.off_rota_ms[1] as f64),
                absent: minutes(self.off_rota_ms[2] as f64),
            },
        }
    }
}

/// A report's sums: the history's facts added up per hall, service, window, clerk and hour.
struct Tally {
    /// Where the range starts: tickets of before are not the range's.
    start: Millis,
    /// The services that were live at some moment of the range.
    seen_live: BTreeSet<ServiceCode>,
    total: Acc,
    services: BTreeMap<ServiceCode, Acc>,
    windows: BTreeMap<u16, Acc>,
    clerks: BTreeMap<String, Acc>,
    hours: Vec<(u32, Vec<i64>)>,
    /// The hall's tickets by how they came: booked (checked in) and walk-in.
    booked: Acc,
    walk_in: Acc,
    /// Each service's handling time limit (限时办结) as last defined, in minutes.
    limits: HashMap<ServiceCode, u32>,
    /// How often each document of each service was missing.
    missing: BTreeMap<ServiceCode, BTreeMap<String, u32>>,
    /// What judges a window's day against the rota.
    duty: Duty,
}

/// What the report needs to judge windows against the rota (排班) while it folds: the rota
/// and calendar in force, and for each window whether it opened today and who closed it last.
#[derive(Default)]
struct Duty {
    rota: Rota,
    calendar: Option<HallCalendar>,
    opened_today: BTreeSet<WindowNumber>,
    last_closer: HashMap<WindowNumber, String>,
    /// Who did the event being folded.
    actor: String,
    /// Whether the spans told now end with the day (a day start, or the end of the report).
    day_ends: bool,
}

/// Whether a reason excuses a window's time off the rota.
fn excuses(reason: &Absence) -> bool {
    matches!(
        reason.class,
        AbsenceClass::Break
            | AbsenceClass::Meeting
            | AbsenceClass::SystemFault
            | AbsenceClass::Training
    )
}

/// The local date of an instant.
fn local_date(at: Millis, zone: &TimeZone) -> Option<LocalDate> {
    let date = jiff::Timestamp::from_millisecond(at.0)
        .ok()
        .map(|t| zone.to_datetime(t).date())?;
    LocalDate::new(date.year(), date.month() as u8, date.day() as u8).ok()
}

/// The instant a local date and time fall on.
fn instant(date: LocalDate, time: ClockTime, zone: &TimeZone) -> Option<Millis> {
    let minutes = time.minutes();
    let civil = jiff::civil::date(date.year, date.month as i8, date.day as i8).at(
        (minutes / 60) as i8,
        (minutes % 60) as i8,
        0,
        0,
    );
    zone.to_timestamp(civil).ok().map(crate::clock::millis)
}

impl Duty {
    /// How much of `[from, to)` the rota expected the window open.
    fn rostered_ms(&self, window: WindowNumber, from: Millis, to: Millis, zone: &TimeZone) -> i64 {
        if self.rota.is_empty() || to <= from {
            return 0;
        }
        let (Some(mut date), Some(last)) =
            (local_date(from, zone), local_date(Millis(to.0 - 1), zone))
        else {
            return 0;
        };
        let mut total = 0;
        loop {
            for shift in self.rota.on(date, self.calendar.as_ref()) {
                if shift.window != window {
                    continue;
                }
                if let (Some(start), Some(end)) = (
                    instant(date, shift.from, zone),
                    instant(date, shift.to, zone),
                ) {
                    total += (end.0.min(to.0) - start.0.max(from.0)).max(0);
                }
            }
            match date.next_day() {
                Some(next) if date < last => date = next,
                _ => break,
            }
        }
        total
    }
}

/// The local hour (0–23) of an instant.
fn hour_of(at: Millis, zone: &TimeZone) -> usize {
    jiff::Timestamp::from_millisecond(at.0)
        .map(|t| zone.to_datetime(t).hour() as usize)
        .unwrap_or(0)
        .min(23)
}

impl Tally {
    /// Starts the range with the services defined then: they were live in it.
    fn new(definitions: &Definitions, start: Millis) -> Tally {
        Tally {
            start,
            seen_live: definitions
                .live_services()
                .map(|s| s.code.clone())
                .collect(),
            total: Acc::default(),
            services: BTreeMap::new(),
            windows: BTreeMap::new(),
            clerks: BTreeMap::new(),
            hours: (0..24).map(|_| (0, Vec::new())).collect(),
            booked: Acc::default(),
            walk_in: Acc::default(),
            limits: definitions
                .services()
                .map(|s| (s.code.clone(), s.handling_target_min))
                .collect(),
            missing: BTreeMap::new(),
            duty: Duty {
                rota: definitions.settings().rota.clone(),
                ..Duty::default()
            },
        }
    }

    /// Adds to the hall, a service, a window and a clerk at once.
    fn each(
        &mut self,
        service: Option<&ServiceCode>,
        window: Option<u16>,
        clerk: Option<&str>,
        mut add: impl FnMut(&mut Acc),
    ) {
        add(&mut self.total);
        if let Some(service) = service {
            add(self.services.entry(service.clone()).or_default());
        }
        if let Some(window) = window {
            add(self.windows.entry(window).or_default());
        }
        if let Some(clerk) = clerk {
            add(self.clerks.entry(clerk.to_owned()).or_default());
        }
    }

    /// The booked or the walk-in sums, by how the ticket came.
    fn arrival(&mut self, ticket: &TicketLife) -> &mut Acc {
        if ticket.booking.is_some() {
            &mut self.booked
        } else {
            &mut self.walk_in
        }
    }

    fn add(&mut self, fact: Fact<'_>, zone: &TimeZone) {
        // The clerk who last called a ticket answers for how it ended and how it was rated.
        let caller = |ticket: &TicketLife| ticket.last_call.as_ref().map(|c| clerk_key(&c.actor));
        match fact {
            Fact::ServiceDefined(service) => {
                self.seen_live.insert(service.code.clone());
                self.limits
                    .insert(service.code.clone(), service.handling_target_min);
            }
            Fact::Issued(ticket) => {
                self.each(Some(&ticket.issued_service), None, None, |acc| {
                    acc.issued += 1
                });
                self.hours[hour_of(ticket.issued_at, zone)].0 += 1;
            }
            Fact::Called {
                ticket,
                window,
                actor,
                first,
                out_of_order,
            } => {
                let (window, clerk) = (window.get(), clerk_key(actor));
                if first && let Some(wait) = ticket.wait_ms() {
                    let within = ticket
                        .wait_target_min()
                        .map(|target| wait <= i64::from(target) * Millis::MINUTE);
                    let service = &ticket.issued_service;
                    let count = |acc: &mut Acc| {
                        acc.called += 1;
                        acc.waits_ms.push(wait);
                        if let Some(within) = within {
                            acc.judged += 1;
                            acc.within += u32::from(within);
                        }
                    };
                    self.each(Some(service), Some(window), Some(&clerk), count);
                    count(self.arrival(ticket));
                    self.hours[hour_of(ticket.issued_at, zone)].1.push(wait);
                }
                if out_of_order.is_some() {
                    self.each(Some(&ticket.service), Some(window), Some(&clerk), |acc| {
                        acc.out_of_order += 1
                    });
                }
            }
            Fact::Departed {
                ticket,
                window,
                actor,
                how,
                handled_ms,
            } => {
                let window = Some(window.get());
                let service = Some(&ticket.service);
                match how {
                    Departure::Finished(outcome) => {
                        let limit = self.limits.get(&ticket.service).copied();
                        let first_visit = ticket.first_visit == Some(true);
                        self.each(service, window, caller(ticket).as_deref(), |acc| {
                            acc.finish(outcome, handled_ms, limit);
                            acc.first_visits += u32::from(first_visit);
                            acc.first_visits_done += u32::from(first_visit && outcome.is_done());
                        });
                        self.arrival(ticket).finish(outcome, handled_ms, limit);
                        if let Outcome::DocumentsMissing(documents) = outcome {
                            let counts = self.missing.entry(ticket.service.clone()).or_default();
                            for document in documents {
                                *counts.entry(document.clone()).or_default() += 1;
                            }
                        }
                    }
                    Departure::NoShow => {
                        let count = |acc: &mut Acc| acc.no_shows += 1;
                        self.each(service, window, caller(ticket).as_deref(), count);
                        count(self.arrival(ticket));
                    }
                    Departure::Transferred(_) => {
                        self.each(service, window, Some(&clerk_key(actor)), |acc| {
                            acc.transfers += 1
                        })
                    }
                }
            }
            // A rating counts for the day of its ticket: not for a ticket of before the range
            // (the history knows those only to tell first visits).
            Fact::Rated { ticket, .. } if ticket.issued_at < self.start => {}
            Fact::Rated {
                ticket,
                window,
                rating,
            } => self.each(
                Some(&ticket.service),
                Some(window.get()),
                caller(ticket).as_deref(),
                |acc| acc.rate(rating),
            ),
            Fact::WindowSpan(span) => {
                self.off_rota(span, zone);
                let spent = span.length_ms();
                let acc = self.windows.entry(span.window.get()).or_default();
                match &span.activity {
                    Activity::Open => acc.staffed_ms += spent,
                    Activity::Serving => {
                        acc.staffed_ms += spent;
                        acc.busy_ms += spent;
                    }
                    Activity::Paused { reason, actor } => {
                        let slot = reason.class.index();
                        acc.pause_ms[slot] += spent;
                        self.total.pause_ms[slot] += spent;
                        let clerk = self.clerks.entry(clerk_key(actor)).or_default();
                        clerk.pause_ms[slot] += spent;
                    }
                    Activity::Closed { .. } => {}
                }
            }
            Fact::WindowEntered { .. } | Fact::Case(_) => {}
        }
    }
}

impl Tally {
    /// Adds a window's span to its time off the rota, if the rota expected it open then and
    /// no excusing reason covers it.
    fn off_rota(&mut self, span: &WindowSpan, zone: &TimeZone) {
        let duty = &self.duty;
        let window = span.window;
        let opened = duty.opened_today.contains(&window);
        let (slot, clerk) = match &span.activity {
            Activity::Open | Activity::Serving => return,
            Activity::Paused { reason, actor } => {
                if excuses(reason) {
                    return;
                }
                (2, Some(actor.clone()))
            }
            Activity::Closed { reason } => {
                if reason.as_ref().is_some_and(excuses) {
                    return;
                }
                let closer = duty.last_closer.get(&window).cloned();
                match (opened, duty.day_ends) {
                    (false, true) => (2, None),
                    (false, false) => (0, Some(duty.actor.clone())),
                    (true, true) => (1, closer),
                    (true, false) => (2, closer),
                }
            }
        };
        let ms = duty.rostered_ms(window, span.from, span.to, zone);
        if ms == 0 {
            return;
        }
        let clerk = clerk.map(|actor| clerk_key(&actor));
        self.each(None, Some(window.get()), clerk.as_deref(), |acc| {
            acc.off_rota_ms[slot] += ms
        });
    }

    /// Notes what an event means for the rota before and after the history folds it.
    fn before_fold(&mut self, record: &Record) {
        let duty = &mut self.duty;
        duty.actor = record.actor.clone();
        duty.day_ends = matches!(record.event, Event::DayStarted { .. });
        match &record.event {
            Event::HallConfigured(settings) => duty.rota = settings.rota.clone(),
            Event::CalendarConfigured(calendar) => duty.calendar = Some(calendar.clone()),
            _ => {}
        }
    }

    fn after_fold(&mut self, record: &Record) {
        let duty = &mut self.duty;
        match &record.event {
            Event::DayStarted { .. } => duty.opened_today.clear(),
            Event::WindowOpened { window } => {
                duty.opened_today.insert(*window);
            }
            Event::WindowClosed { window, .. } => {
                duty.last_closer.insert(*window, record.actor.clone());
            }
            _ => {}
        }
        duty.day_ends = false;
    }
}

/// Computes a report of a range of days from the configuration events logged before `start`
/// and then every record of the range (see [`records_with_definitions`]), all in log order,
/// folded through the core's [`History`], and then the ratings given after the range
/// (`later_ratings`): a rating counts for the day of its ticket. Tickets are judged against the wait target their
/// service had when they were issued, and services and windows are named as they were last
/// defined by the end of the range.
#[allow(clippy::too_many_arguments)]
pub fn compute(
    records: &[Record],
    later_ratings: &[Record],
    start: Millis,
    zone: &TimeZone,
    from: LocalDate,
    to: LocalDate,
    until: Millis,
    later_case_steps: &[Record],
    today: LocalDate,
) -> wire::Report {
    let mut history = History::new();
    let split = records.partition_point(|record| record.at < start);
    let (before, during) = records.split_at(split);
    let mut calendar = None;
    let mut opened_today = BTreeSet::new();
    for record in before {
        history.fold(&record.event, record.at, &record.actor, |_| {});
        match &record.event {
            Event::CalendarConfigured(set) => calendar = Some(set.clone()),
            Event::DayStarted { .. } => opened_today.clear(),
            Event::WindowOpened { window } => {
                opened_today.insert(*window);
            }
            _ => {}
        }
    }
    let mut tally = Tally::new(history.definitions(), start);
    tally.duty.calendar = calendar;
    tally.duty.opened_today = opened_today;
    for record in during {
        tally.before_fold(record);
        history.fold(&record.event, record.at, &record.actor, |fact| {
            tally.add(fact, zone)
        });
        tally.after_fold(record);
        if let Event::WindowClosed { window, reason } = &record.event {
            let slot = reason.as_ref().map_or(6, |r| r.class.index());
            let clerk = clerk_key(&record.actor);
            tally.each(None, Some(window.get()), Some(&clerk), |acc| {
                acc.closes[slot] += 1
            });
        }
    }
    tally.duty.day_ends = true;
    history.close_windows(until, |fact| tally.add(fact, zone));
    // A rating moves no window: only the range's tickets it names (others are unknown to the
    // history and tell nothing) get it.
    for record in later_ratings {
        history.fold(&record.event, record.at, &record.actor, |fact| {
            tally.add(fact, zone)
        });
    }
    for record in later_case_steps {
        history.fold(&record.event, record.at, &record.actor, |_| {});
    }
    let cases = case_figures(&history, from, to, today);
    let definitions = history.definitions();
    let service_name = |code: &ServiceCode| {
        definitions
            .service(code)
            .map(|s| (s.name_zh.clone(), s.name_en.clone()))
            .unwrap_or_else(|| (code.to_string(), code.to_string()))
    };
    let window_name = |n: u16| {
        WindowNumber::new(u32::from(n))
            .ok()
            .and_then(|number| definitions.window(number))
            .map(|def| (def.name_zh.clone(), def.name_en.clone()))
            .unwrap_or_else(|| (format!("{n}号窗口"), format!("Window {n}")))
    };
    let mut services: Vec<wire::ReportRow> = Vec::new();
    // Every service the hall had during the range, in the order they were defined, then any
    // that only the tickets know.
    for code in definitions
        .services()
        .map(|s| &s.code)
        .filter(|c| tally.seen_live.contains(*c))
    {
        let acc = tally.services.remove(code).unwrap_or_default();
        let (zh, en) = service_name(code);
        services.push(acc.row(code.to_string(), zh, en, true, false));
    }
    for (code, acc) in &tally.services {
        let (zh, en) = service_name(code);
        services.push(acc.row(code.to_string(), zh, en, true, false));
    }
    let windows: Vec<wire::ReportRow> = tally
        .windows
        .iter()
        .map(|(n, acc)| {
            let (zh, en) = window_name(*n);
            acc.row(n.to_string(), zh, en, false, true)
        })
        .collect();
    let clerks = tally
        .clerks
        .iter()
        .filter(|(key, acc)| {
            !matches!(key.as_str(), "clock" | "hall-file")
                && (acc.called + acc.transfers + acc.closes.iter().sum::<u32>() > 0
                    || acc.pause_ms.iter().sum::<i64>() > 0)
        })
        .map(|(key, acc)| {
            let name = key
                .split_once(':')
                .map_or(key.as_str(), |(_, n)| n)
                .to_owned();
            acc.row(key.clone(), name.clone(), name, false, false)
        })
        .collect();
    let hours = tally
        .hours
        .iter()
        .enumerate()
        .map(|(hour, (arrivals, waits))| wire::HourRow {
            hour: hour as u8,
            arrivals: *arrivals,
            mean_wait_min: mean(waits),
        })
        .collect();
    let mut missing_documents = Vec::new();
    for row in &services {
        let Ok(code) = ServiceCode::parse(&row.key) else {
            continue;
        };
        let Some(counts) = tally.missing.get(&code) else {
            continue;
        };
        let mut counts: Vec<(&String, &u32)> = counts.iter().collect();
        counts.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        missing_documents.extend(counts.into_iter().map(|(document, count)| {
            wire::MissingDocument {
                service: row.key.clone(),
                document: document.clone(),
                count: *count,
            }
        }));
    }
    let window_ranking = rank_windows(&windows);
    wire::Report {
        from: from.to_string(),
        to: to.to_string(),
        total: tally.total.row(
            "all".into(),
            "全厅".into(),
            "Whole hall".into(),
            true,
            false,
        ),
        services,
        windows,
        clerks,
        hours,
        arrivals: vec![
            tally.booked.row(
                "booked".into(),
                "预约".into(),
                "Booked".into(),
                false,
                false,
            ),
            tally.walk_in.row(
                "walk_in".into(),
                "现场取号".into(),
                "Walk-in".into(),
                false,
                false,
            ),
        ],
        missing_documents,
        window_ranking,
        cases,
        bookings: wire::BookingAttendance::default(),
    }
}

/// The figures of the cases rated from `from` to `to`, per month and window, then per month
/// for the whole hall (`window` none), months in order.
fn case_figures(
    history: &History,
    from: LocalDate,
    to: LocalDate,
    today: LocalDate,
) -> Vec<wire::CaseFigureRow> {
    let mut sums: BTreeMap<(String, Option<u16>), CaseFigures> = BTreeMap::new();
    for case in history
        .cases()
        .filter(|case| case.date >= from && case.date <= to)
    {
        let month = format!("{:04}-{:02}", case.date.year, case.date.month);
        for window in [Some(case.window.get()), None] {
            sums.entry((month.clone(), window))
                .or_default()
                .add(case, today);
        }
    }
    let mut rows: Vec<wire::CaseFigureRow> = sums
        .into_iter()
        .map(|((month, window), figures)| wire::CaseFigureRow {
            month,
            window,
            cases: figures.cases,
            called_back: figures.called_back,
            fixed_in_time: figures.fixed_in_time,
            overdue: figures.overdue,
            callback_pct: figures.callback_pct(),
            fixed_in_time_pct: figures.fixed_in_time_pct(),
        })
        .collect();
    // Within a month the windows first, then the hall's sum.
    rows.sort_by(|a, b| {
        (&a.month, a.window.is_none(), a.window).cmp(&(&b.month, b.window.is_none(), b.window))
    });
    rows
}

/// Whether the bookings of the days `from`–`to` were kept, at `now` (see
/// [`wire::BookingAttendance`]).
pub fn booking_attendance(
    registry: &jiaohao_core::Registry,
    from: LocalDate,
    to: LocalDate,
    now: Millis,
) -> wire::BookingAttendance {
    use jiaohao_core::BookingStatus;
    let mut attendance = wire::BookingAttendance::default();
    for booking in registry
        .bookings
        .values()
        .filter(|b| b.date >= from && b.date <= to)
    {
        match registry.status(booking, now) {
            BookingStatus::CheckedIn | BookingStatus::Served => attendance.verified += 1,
            BookingStatus::NoShow => {
                attendance.verified += 1;
                attendance.no_shows += 1;
            }
            _ => {}
        }
    }
    attendance.no_show_pct = (attendance.verified > 0).then(|| {
        one_decimal(100.0 * f64::from(attendance.no_shows) / f64::from(attendance.verified))
    });
    attendance
}

/// The windows with ratings, ranked by 满意率 (equal share and count share a rank).
fn rank_windows(windows: &[wire::ReportRow]) -> Vec<wire::RankedWindow> {
    let mut rated: Vec<wire::RankedWindow> = windows
        .iter()
        .filter_map(|row| {
            let r = &row.ratings;
            let count =
                r.very_satisfied + r.satisfied + r.basic + r.dissatisfied + r.very_dissatisfied;
            Some(wire::RankedWindow {
                rank: 0,
                window: row.key.parse().ok()?,
                name_zh: row.name_zh.clone(),
                name_en: row.name_en.clone(),
                rated: count,
                satisfied_pct: row.satisfied_pct?,
            })
        })
        .collect();
    rated.sort_by(|a, b| {
        b.satisfied_pct
            .total_cmp(&a.satisfied_pct)
            .then(b.rated.cmp(&a.rated))
            .then(a.window.cmp(&b.window))
    });
    for i in 0..rated.len() {
        rated[i].rank = match i.checked_sub(1).map(|j| &rated[j]) {
            Some(before)
                if before.satisfied_pct == rated[i].satisfied_pct
                    && before.rated == rated[i].rated =>
            {
                before.rank
            }
            _ => i as u32 + 1,
        };
    }
    rated
}

async fn build_report(state: &AppState, query: &RangeQuery) -> Result<wire::Report, ApiError> {
    let zone = state.zone();
    let range = parse_range(state, query.from.as_deref(), query.to.as_deref(), &zone)?;
    let records = records_with_definitions(state, &range).await?;
    let later_ratings = later_ratings(state, &range).await?;
    let later_case_steps = later_case_steps(state, &range).await?;
    let until = Millis(range.end.0.min(state.now().0));
    let today = crate::clock::core_now(state.clock.now(), &zone).date;
    let mut report = compute(
        &records,
        &later_ratings,
        range.start,
        &zone,
        range.from,
        range.to,
        until,
        &later_case_steps,
        today,
    );
    let (from, to, now) = (range.from, range.to, state.now());
    report.bookings = state
        .writer
        .read(move |context| booking_attendance(context.hall.registry(), from, to, now))
        .await?;
    Ok(report)
}

/// `GET /api/reports?from=…&to=…`.
pub async fn report(
    State(state): State<AppState>,
    who: Principal,
    Params(query): Params<RangeQuery>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let report = build_report(&state, &query).await?;
    Ok((StatusCode::OK, axum::Json(report)).into_response())
}

/// The report as CSV: one line per row, a `scope` column saying which table it is from.
pub fn csv(report: &wire::Report) -> String {
    let mut out = String::from('\u{feff}');
    out.push_str("scope,key,name_zh,name_en,issued,called,served,no_shows,transfers,mean_wait_min,p90_wait_min,mean_handling_min,within_target_pct,rating_very_satisfied,rating_satisfied,rating_basic,rating_dissatisfied,rating_very_dissatisfied,rating_mean,pause_break_min,pause_meeting_min,pause_system_fault_min,pause_other_min,out_of_order,staffed_min,busy_pct,outcome_done,outcome_documents_missing,outcome_refused,outcome_referred,done_pct,within_limit_pct,over_limit,satisfied_pct,booking_no_show_pct,cases,cases_called_back,callback_pct,cases_fixed_in_time,fixed_in_time_pct,cases_overdue\r\n");
    let rows = std::iter::once(("hall", &report.total))
        .chain(report.services.iter().map(|r| ("service", r)))
        .chain(report.windows.iter().map(|r| ("window", r)))
        .chain(report.clerks.iter().map(|r| ("clerk", r)))
        .chain(report.arrivals.iter().map(|r| ("arrival", r)));
    for (scope, row) in rows {
        let r = &row.ratings;
        let p = &row.pause_min;
        let fields = [
            scope.to_owned(),
            csv_field(&row.key),
            csv_field(&row.name_zh),
            csv_field(&row.name_en),
            csv_optional(row.issued),
            row.called.to_string(),
            row.served.to_string(),
            row.no_shows.to_string(),
            row.transfers.to_string(),
            csv_optional(row.mean_wait_min),
            csv_optional(row.p90_wait_min),
            csv_optional(row.mean_handling_min),
            csv_optional(row.within_target_pct),
            r.very_satisfied.to_string(),
            r.satisfied.to_string(),
            r.basic.to_string(),
            r.dissatisfied.to_string(),
            r.very_dissatisfied.to_string(),
            csv_optional(row.rating_mean),
            p.break_.to_string(),
            p.meeting.to_string(),
            p.system_fault.to_string(),
            p.other.to_string(),
            row.out_of_order.to_string(),
            csv_optional(row.staffed_min),
            csv_optional(row.busy_pct),
            row.outcomes.done.to_string(),
            row.outcomes.documents_missing.to_string(),
            row.outcomes.refused.to_string(),
            row.outcomes.referred.to_string(),
            csv_optional(row.done_pct),
            csv_optional(row.within_limit_pct),
            row.over_limit.to_string(),
            csv_optional(row.satisfied_pct),
            // The booked row carries the bookings' no-show rate.
            if scope == "arrival" && row.key == "booked" {
                csv_optional(report.bookings.no_show_pct)
            } else {
                String::new()
            },
        ];
        out.push_str(&fields.join(","));
        // The case columns are the case rows' (below).
        out.push_str(&",".repeat(CASE_COLUMNS));
        out.push_str("\r\n");
    }
    for hour in &report.hours {
        let mut fields = vec![String::new(); CSV_COLUMNS];
        fields[0] = "hour".into();
        fields[1] = format!("{:02}", hour.hour);
        fields[2] = format!("{:02}:00–{:02}:00", hour.hour, hour.hour + 1);
        fields[3] = fields[2].clone();
        fields[4] = hour.arrivals.to_string();
        fields[9] = csv_optional(hour.mean_wait_min);
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    // The 差评 cases per month and window, then the month's hall row (key `2026-11` or
    // `2026-11/3`), in the last six columns.
    for row in &report.cases {
        let mut fields = vec![String::new(); CSV_COLUMNS];
        fields[0] = "case".into();
        (fields[1], fields[2], fields[3]) = match row.window {
            Some(window) => (
                format!("{}/{window}", row.month),
                format!("{} {window}号窗口", row.month),
                format!("{} window {window}", row.month),
            ),
            None => (
                row.month.clone(),
                format!("{} 全厅", row.month),
                format!("{} hall", row.month),
            ),
        };
        let first = CSV_COLUMNS - CASE_COLUMNS;
        fields[first..].clone_from_slice(&[
            row.cases.to_string(),
            row.called_back.to_string(),
            csv_optional(row.callback_pct),
            row.fixed_in_time.to_string(),
            csv_optional(row.fixed_in_time_pct),
            row.overdue.to_string(),
        ]);
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The columns of the report's CSV, of them the last [`CASE_COLUMNS`] for the case rows.
const CSV_COLUMNS: usize = 41;
const CASE_COLUMNS: usize = 6;

/// `GET /api/reports/csv?from=…&to=…`: the same numbers as a spreadsheet file.
pub async fn report_csv(
    State(state): State<AppState>,
    who: Principal,
    Params(query): Params<RangeQuery>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let report = build_report(&state, &query).await?;
    let name = if report.from == report.to {
        format!("jiaohao-report-{}.csv", report.from)
    } else {
        format!("jiaohao-report-{}_{}.csv", report.from, report.to)
    };
    Ok(csv_attachment(&name, csv(&report)))
}

/// A CSV file to download as `name`: the answer of the report's and the bookings' CSV routes.
pub fn csv_attachment(name: &str, body: String) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The audit entries of some records, oldest first.
/// The audit trail of a range: every event, and every change to users and tokens (which are
/// not events; their entries have `seq` 0) in time order.
pub fn audit_entries(
    records: &[Record],
    changes: &[AccountChange],
    zone: &TimeZone,
) -> Vec<wire::AuditEntry> {
    // The history names each ticket's number and the service it is in when the event happens.
    let mut history = History::new();
    let mut entries = Vec::with_capacity(records.len() + changes.len());
    let mut changes = changes.iter().peekable();
    for record in records {
        while let Some(change) = changes.next_if(|change| change.at < record.at) {
            entries.push(account_entry(change, zone));
        }
        let event = &record.event;
        let mut entry = wire::AuditEntry {
            seq: record.seq,
            at: rfc3339(record.at, zone),
            actor: record.actor.clone(),
            kind: event.kind().to_owned(),
            number: None,
            service: None,
            window: None,
            detail: String::new(),
            out_of_order: false,
            configuration: event.is_configuration(),
        };
        let ticket = |id: &TicketId, entry: &mut wire::AuditEntry| {
            if let Some(life) = history.ticket(*id) {
                entry.number = Some(life.number.to_string());
                entry.service = Some(life.service.to_string());
            }
        };
        match event {
            Event::DayStarted { date } => entry.detail = date.to_string(),
            Event::CalendarConfigured(calendar) => {
                entry.detail = format!(
                    "{} working weekdays, {} holidays, {} working days (调休)",
                    calendar.working_weekdays.iter().filter(|w| **w).count(),
                    calendar.holidays.len(),
                    calendar.working_days.len()
                )
            }
            Event::HallConfigured(settings) => {
                entry.detail = format!(
                    "{} / {}; {}; {} notices",
                    settings.name_zh,
                    settings.name_en,
                    settings.timezone,
                    settings.notices_zh.len()
                )
            }
            Event::ServiceDefined(service) => {
                entry.service = Some(service.code.to_string());
                entry.detail = format!(
                    "{} {} prefix {}, wait target {} min, handling target {} min{}",
                    service.name_zh,
                    service.name_en,
                    service.prefix,
                    service.wait_target_min,
                    service.handling_target_min,
                    if service.enabled { "" } else { ", disabled" }
                );
            }
            Event::ServiceRemoved { code } => entry.service = Some(code.to_string()),
            Event::WindowDefined(def) => {
                entry.window = Some(def.number.get());
                let services: Vec<String> = def.services.iter().map(ToString::to_string).collect();
                entry.detail = format!("services: {}", services.join(", "));
            }
            Event::WindowRemoved { number } => entry.window = Some(number.get()),
            Event::TicketIssued {
                number,
                service,
                green_channel,
                ..
            } => {
                entry.number = Some(number.to_string());
                entry.service = Some(service.to_string());
                if *green_channel {
                    entry.detail = "green channel".into();
                }
            }
            Event::TicketCalled {
                id,
                window,
                recall,
                out_of_order,
            } => {
                ticket(id, &mut entry);
                entry.window = Some(window.get());
                if *recall {
                    entry.detail = "recall".into();
                }
                if let Some(reason) = out_of_order {
                    entry.out_of_order = true;
                    entry.detail = reason.clone();
                }
            }
            Event::TicketFinished {
                id,
                window,
                outcome,
            } => {
                ticket(id, &mut entry);
                entry.window = Some(window.get());
                entry.detail = match outcome {
                    Outcome::Done => String::new(),
                    Outcome::DocumentsMissing(documents) => {
                        format!("documents_missing: {}", documents.join("；"))
                    }
                    Outcome::Refused(reason) => format!("refused: {reason}"),
                    Outcome::Referred(office) => format!("referred: {office}"),
                };
            }
            Event::TicketNoShow { id, window } => {
                ticket(id, &mut entry);
                entry.window = Some(window.get());
            }
            Event::TicketTransferred { id, window, to } => {
                ticket(id, &mut entry);
                entry.window = Some(window.get());
                entry.detail = match to {
                    TransferTarget::Service(code) => format!("to service {code}"),
                    TransferTarget::Window(n) => format!("to window {n}"),
                };
            }
            Event::WindowOpened { window } | Event::WindowResumed { window } => {
                entry.window = Some(window.get())
            }
            Event::WindowClosed { window, reason } => {
                entry.window = Some(window.get());
                entry.detail = reason.as_ref().map(absence_detail).unwrap_or_default();
            }
            Event::WindowPaused { window, reason } => {
                entry.window = Some(window.get());
                entry.detail = absence_detail(reason);
            }
            Event::TicketRated {
                id,
                window,
                rating,
                reason,
            } => {
                ticket(id, &mut entry);
                entry.window = Some(window.get());
                entry.detail = match reason {
                    Some(reason) => format!("{} ({})", rating.as_str(), reason.as_str()),
                    None => rating.as_str().to_owned(),
                };
            }
            Event::BookingConfigured { service, settings } => {
                entry.service = Some(service.to_string());
                entry.detail = match settings {
                    Some(s) => format!(
                        "bookings in {} min slots, {} places a day, {} working days ahead",
                        s.slot_min,
                        s.booked_capacity(),
                        s.days_ahead
                    ),
                    None => "no bookings".into(),
                };
            }
            Event::BookingMade {
                code,
                service,
                date,
                start,
                masked_id,
                ..
            } => {
                entry.service = Some(service.to_string());
                entry.detail = format!("booking {code} for {date} {start}, {masked_id}");
            }
            Event::BookingVerified { code } => entry.detail = format!("booking {code} verified"),
            Event::TicketHolder { ticket: id, .. } => {
                ticket(id, &mut entry);
                entry.detail = "issued to a known person (ID number)".into();
            }
            Event::BookingCancelled { code } => entry.detail = format!("booking {code} cancelled"),
            Event::BookingCheckedIn {
                code, ticket: id, ..
            } => {
                ticket(id, &mut entry);
                entry.detail = format!("booking {code} checked in");
            }
            Event::CaseOpened {
                case,
                number,
                service,
                window,
                rating,
                due,
                ..
            } => {
                entry.number = Some(number.to_string());
                entry.service = Some(service.to_string());
                entry.window = Some(window.get());
                entry.detail = format!(
                    "差评工单 case {} opened ({}), due {due}",
                    case.0,
                    rating.as_str()
                );
            }
            Event::CaseCalledBack { case, note, by, .. } => {
                case_entry(&history, case, &mut entry);
                entry.detail = format!("case {} called back by {by}: {note}", case.0);
            }
            Event::CaseFixed { case, fix, by, .. } => {
                case_entry(&history, case, &mut entry);
                entry.detail = format!("case {} fixed by {by}: {fix}", case.0);
            }
            Event::CaseClosed { case, by, .. } => {
                case_entry(&history, case, &mut entry);
                entry.detail = format!("case {} closed by {by}", case.0);
            }
        }
        history.fold(event, record.at, &record.actor, |_| {});
        entries.push(entry);
    }
    entries.extend(changes.map(|change| account_entry(change, zone)));
    entries
}

/// Names a case step's ticket, service and window in its audit entry.
fn case_entry(history: &History, case: &TicketId, entry: &mut wire::AuditEntry) {
    if let Some(found) = history.case(*case) {
        entry.number = Some(found.number.to_string());
        entry.service = Some(found.service.to_string());
        entry.window = Some(found.window.get());
    }
}

fn account_entry(change: &AccountChange, zone: &TimeZone) -> wire::AuditEntry {
    wire::AuditEntry {
        seq: 0,
        at: rfc3339(change.at, zone),
        actor: change.actor.clone(),
        kind: change.kind.to_owned(),
        number: None,
        service: None,
        window: None,
        detail: change.subject.clone(),
        out_of_order: false,
        configuration: true,
    }
}

/// `GET /api/audit?from=…&to=…&number=…&flagged=…&limit=…`: newest first.
pub async fn audit(
    State(state): State<AppState>,
    who: Principal,
    Params(query): Params<AuditQuery>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let zone = state.zone();
    let range = parse_range(&state, query.from.as_deref(), query.to.as_deref(), &zone)?;
    let limit = query.limit.unwrap_or(500);
    if !(1..=MAX_AUDIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_AUDIT}"
        )));
    }
    let number = query
        .number
        .as_deref()
        .map(|n| n.trim().to_uppercase())
        .filter(|n| !n.is_empty());
    let records = records(&state, &range).await?;
    let (start, end) = (range.start, range.end);
    let changes = state
        .read(move |store| store.account_changes_between(start, end))
        .await?;
    let mut entries: Vec<wire::AuditEntry> = audit_entries(&records, &changes, &zone)
        .into_iter()
        .rev()
        .filter(|e| number.is_none() || e.number == number)
        .filter(|e| query.flagged != Some(true) || e.out_of_order || e.configuration)
        .collect();
    let truncated = entries.len() > limit;
    entries.truncate(limit);
    Ok((
        StatusCode::OK,
        axum::Json(wire::AuditPage { entries, truncated }),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_rank_by_satisfaction_then_ratings_and_ties_share_a_rank() {
        let row = |key: &str, good: u32, bad: u32| {
            let mut row = wire::ReportRow {
                key: key.into(),
                ratings: wire::RatingCounts {
                    satisfied: good,
                    dissatisfied: bad,
                    ..Default::default()
                },
                ..Default::default()
            };
            let rated = good + bad;
            row.satisfied_pct = (rated > 0).then(|| 100.0 * f64::from(good) / f64::from(rated));
            row
        };
        let ranked = rank_windows(&[
            row("1", 1, 1),
            row("2", 4, 0),
            row("3", 2, 0),
            row("4", 0, 0),
            row("5", 2, 0),
        ]);
        let places: Vec<(u16, u32)> = ranked.iter().map(|r| (r.window, r.rank)).collect();
        assert_eq!(places, [(2, 1), (3, 2), (5, 2), (1, 4)]);
    }

    #[test]
    fn clerks_are_the_same_at_any_window() {
        assert_eq!(clerk_key("clerk:zhang@3"), "clerk:zhang");
        assert_eq!(clerk_key("clerk:窗口3#4"), "clerk:窗口3#4");
        assert_eq!(clerk_key("citizen@3"), "citizen");
        assert_eq!(clerk_key("a@b"), "a@b");
    }

    #[test]
    fn percentiles_and_fields() {
        let minutes: Vec<i64> = (1..=10).map(|m| m * Millis::MINUTE).collect();
        assert_eq!(p90(&minutes), Some(9.0));
        assert_eq!(p90(&[]), None);
        assert_eq!(mean(&minutes), Some(5.5));
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("-3.5"), "-3.5");
    }
}
