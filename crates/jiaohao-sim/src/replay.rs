//! `jiaohao-sim replay`: a recorded day of a hub database, re-run through the core under the
//! recorded or another window assignment ("what if window 7 had also taken 身份证?").
//!
//! From the day's event log it takes each called ticket's real issue time, service, green
//! channel flag, handling time (first call to finish, no-show or transfer) and whether it was
//! a no-show. A checked-in booking counts as recorded (booked, waiting from its queue time)
//! and is re-simulated as a walk-in arriving at its queue time, which keeps its place. The windows are those that opened that day, each with the services it had when
//! it first opened (or those of the `--assign` file). The re-simulation opens them all from the
//! day's first opening to the end and leaves out pauses and transfers; so the report gives the
//! recorded figures (from the log itself), the re-simulated recorded assignment (the fair
//! baseline for a what-if) and the what-if.

use std::collections::BTreeMap;
use std::path::Path;

use jiaohao_core::history::{Activity, Departure, TicketLife};
use jiaohao_core::{
    ClockTime, Event, Fact, History, LocalDate, Millis, Service, ServiceCode, WindowNumber,
};
use jiaohao_store::Store;
use serde::Deserialize;

use crate::citizens::Citizen;
use crate::metrics::Figures;
use crate::policy::BenchPolicy;
use crate::scenario::{Dist, Scenario, ServiceSpec, WindowSpec};
use crate::simulate::{DayRecord, Options, SimError, TicketRecord, WindowRecord, simulate_day};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("the database: {0}")]
    Store(#[from] jiaohao_store::StoreError),
    #[error("the log has no day {0} (no day_started event for it)")]
    NoSuchDay(LocalDate),
    #[error("on {0} no window opened and no ticket was called")]
    EmptyDay(LocalDate),
    #[error("the assignment file: {0}")]
    Assignment(String),
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// A recorded day, ready to re-simulate.
#[derive(Debug, Clone)]
pub struct RecordedDay {
    pub date: LocalDate,
    /// The day as a one-day scenario: the hall's services (mean handling = the day's measured
    /// mean) and the windows that opened, with their recorded services.
    pub scenario: Scenario,
    /// The called tickets, in issue order.
    pub citizens: Vec<Citizen>,
    /// What really happened to them, in the same order.
    pub recorded: DayRecord,
    /// Tickets issued that day but never called (left out of every figure).
    pub never_called: usize,
}

/// An assignment file: `[[window]] number = 7, services = ["vehicle", "id_card"]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentFile {
    window: Vec<AssignedWindow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignedWindow {
    number: u32,
    services: Vec<String>,
}

/// Reads an assignment file into window → services.
pub fn parse_assignment(
    text: &str,
) -> Result<BTreeMap<WindowNumber, Vec<ServiceCode>>, ReplayError> {
    let file: AssignmentFile =
        toml::from_str(text).map_err(|e| ReplayError::Assignment(e.to_string()))?;
    let mut assignment = BTreeMap::new();
    for window in file.window {
        let number =
            WindowNumber::new(window.number).map_err(|e| ReplayError::Assignment(e.to_string()))?;
        let services = window
            .services
            .iter()
            .map(|code| ServiceCode::parse(code))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ReplayError::Assignment(format!("window {number}: {e}")))?;
        if services.is_empty() {
            return Err(ReplayError::Assignment(format!(
                "window {number} has no services"
            )));
        }
        assignment.insert(number, services);
    }
    Ok(assignment)
}

/// Reads one local day of a hub database (read-only).
pub fn load_day(db: &Path, date: LocalDate) -> Result<RecordedDay, ReplayError> {
    let store = Store::open_read_only(db)?;
    let mut records = Vec::new();
    store.for_each_record_after(0, |record| records.push(record))?;
    let start = records
        .iter()
        .position(|r| matches!(r.event, Event::DayStarted { date: d } if d == date))
        .ok_or(ReplayError::NoSuchDay(date))?;
    let end = records[start + 1..]
        .iter()
        .position(|r| matches!(r.event, Event::DayStarted { .. }))
        .map_or(records.len(), |i| start + 1 + i);
    // The history up to the day's start (whatever windows were doing before it ends there),
    // then through the day, keeping what its windows did.
    let mut history = History::new();
    for record in &records[..=start] {
        history.fold(&record.event, record.at, &record.actor, |_| {});
    }
    let zone = jiff::tz::TimeZone::get(&history.definitions().settings().timezone)
        .unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(8)));
    let (tickets_before, calls_before) = (history.tickets().len(), history.first_calls());
    let mut first_services: BTreeMap<WindowNumber, Vec<ServiceCode>> = BTreeMap::new();
    let mut open_ms: BTreeMap<WindowNumber, i64> = BTreeMap::new();
    let mut first_open: Option<Millis> = None;
    let mut on_fact = |fact: Fact<'_>| match fact {
        // A window's services are those it had when it first opened that day.
        Fact::WindowEntered {
            window,
            activity: Activity::Open,
            at,
            def,
        } => {
            if !first_services.contains_key(&window)
                && let Some(def) = def
            {
                first_services.insert(window, def.services.clone());
            }
            first_open.get_or_insert(at);
        }
        Fact::WindowSpan(span) if span.activity.is_staffed() => {
            *open_ms.entry(span.window).or_default() += span.to.since(span.from);
        }
        _ => {}
    };
    let last_at = records[start..end]
        .last()
        .map_or(records[start].at, |r| r.at);
    for record in &records[start + 1..end] {
        history.fold(&record.event, record.at, &record.actor, &mut on_fact);
    }
    history.close_windows(last_at, &mut on_fact);
    let day_tickets = &history.tickets()[tickets_before..];
    let called: Vec<&TicketLife> = day_tickets
        .iter()
        .filter(|t| t.first_call.is_some())
        .collect();
    let never_called = day_tickets.len() - called.len();
    let first_issue = called.iter().map(|t| t.issued_at).min();
    let Some(opening) = [first_open, first_issue].into_iter().flatten().min() else {
        return Err(ReplayError::EmptyDay(date));
    };
    if first_services.is_empty() {
        return Err(ReplayError::EmptyDay(date));
    }
    // The re-simulated day starts at the minute of the first opening or ticket.
    let civil = jiff::Timestamp::from_millisecond(opening.0)
        .map(|t| zone.to_datetime(t))
        .map_err(|_| ReplayError::EmptyDay(date))?;
    let open_minute = civil.hour() as u16 * 60 + civil.minute() as u16;
    let origin = Millis(opening.0 - opening.0.rem_euclid(Millis::MINUTE));

    // How each called ticket went: called when and where, in which order, gone when and how
    // (its first departure: a transfer ends its part in the replay).
    let outcome = |ticket: &TicketLife| {
        let call = ticket.first_call.as_ref()?;
        let seq = ticket.first_call_order? - calls_before;
        let ended = ticket
            .first_departure
            .as_ref()
            .map_or((last_at, false), |d| {
                (d.at, matches!(d.how, Departure::NoShow))
            });
        Some((call.at, call.window, seq, ended))
    };
    // Services: as the hall knew them at the day's end (ordered by prefix as the hall lists
    // them), with the day's measured mean handling time.
    let mut handling: BTreeMap<&ServiceCode, (i64, i64)> = BTreeMap::new();
    for ticket in &called {
        if let Some((called_at, _, _, (ended_at, false))) = outcome(ticket)
            && ticket.first_departure.is_some()
        {
            let entry = handling.entry(&ticket.issued_service).or_default();
            entry.0 += ended_at.since(called_at);
            entry.1 += 1;
        }
    }
    let mut live: Vec<&Service> = history.definitions().live_services().collect();
    live.sort_by_key(|service| service.prefix);
    let mut services: Vec<ServiceSpec> = live
        .iter()
        .map(|service| {
            let mean_min = match handling.get(&service.code) {
                Some(&(total, count)) if count > 0 => total as f64 / count as f64 / 60_000.0,
                _ => f64::from(service.handling_estimate_min),
            };
            ServiceSpec {
                code: service.code.clone(),
                name_zh: service.name_zh.clone(),
                prefix: service.prefix,
                mean_min: mean_min.max(0.1),
                cv: 0.8,
                dist: Dist::Lognormal,
                mix_am: 0.0,
                mix_pm: 0.0,
                booking_share: 0.0,
            }
        })
        .collect();
    // Tickets of a service removed since are still replayed under their code.
    for ticket in &called {
        let code = &ticket.issued_service;
        if !services.iter().any(|s| &s.code == code)
            && let Ok(prefix) = jiaohao_core::Prefix::parse("Z")
        {
            services.push(ServiceSpec {
                code: code.clone(),
                name_zh: code.to_string(),
                prefix,
                mean_min: 5.0,
                cv: 0.8,
                dist: Dist::Lognormal,
                mix_am: 0.0,
                mix_pm: 0.0,
                booking_share: 0.0,
            });
        }
    }
    let index_of = |code: &ServiceCode| services.iter().position(|s| &s.code == code);

    let mut citizens = Vec::with_capacity(called.len());
    let mut tickets_out = Vec::with_capacity(called.len());
    let mut no_show_ms = (0i64, 0i64);
    let mut busy: BTreeMap<WindowNumber, i64> = BTreeMap::new();
    for ticket in &called {
        let Some((called_at, window, seq, (ended_at, no_show))) = outcome(ticket) else {
            continue;
        };
        let Some(service) = index_of(&ticket.issued_service) else {
            continue;
        };
        let handling_ms = ended_at.since(called_at).max(1);
        if no_show {
            no_show_ms.0 += handling_ms;
            no_show_ms.1 += 1;
        }
        *busy.entry(window).or_default() += handling_ms;
        // A checked-in booking queued from its queue time (its slot's start when it checked in
        // early): the re-simulation has it arrive then, as a walk-in, so it is called in the
        // place it had (bookings are simulated on the bench's own day only). What it loses:
        // being called before its slot's start when nobody with an earlier queue time waited.
        citizens.push(Citizen {
            arrival_ms: ticket.queue_time.0 - origin.0,
            service,
            handling_ms,
            green_channel: ticket.green_channel,
            no_show,
            booking: None,
            outcome: crate::citizens::VisitOutcome::Done,
            rating: None,
        });
        tickets_out.push(TicketRecord {
            issued_ms: ticket.issued_at.0 - origin.0,
            queued_ms: ticket.queue_time.0 - origin.0,
            booked: ticket.booking.is_some(),
            called_ms: called_at.0 - origin.0,
            call_seq: seq,
            window,
            estimate_ms: None,
            simple_estimate_ms: None,
        });
    }
    // Arrivals in issue order (the simulator issues them so).
    let mut order: Vec<usize> = (0..citizens.len()).collect();
    order.sort_by_key(|&i| (citizens[i].arrival_ms, i));
    let citizens: Vec<Citizen> = order.iter().map(|&i| citizens[i].clone()).collect();
    let tickets_out: Vec<TicketRecord> = order.iter().map(|&i| tickets_out[i].clone()).collect();

    let last_arrival_min = citizens
        .last()
        .map_or(0.0, |c| c.arrival_ms as f64 / 60_000.0);
    let hours = (last_arrival_min / 60.0).floor() as usize + 1;
    let target_wait_min = live
        .iter()
        .map(|s| f64::from(s.wait_target_min))
        .fold(f64::INFINITY, f64::min);
    let windows: Vec<WindowSpec> = first_services
        .iter()
        .map(|(number, services)| WindowSpec {
            number: *number,
            services: services.clone(),
            closed: None,
        })
        .collect();
    let recorded_windows = windows
        .iter()
        .map(|w| {
            let open = open_ms.get(&w.number).copied().unwrap_or(0);
            let busy = busy.get(&w.number).copied().unwrap_or(0);
            WindowRecord {
                number: w.number,
                busy_ms: busy.min(open),
                idle_ms: (open - busy).max(0),
                idle_while_waiting_ms: 0,
            }
        })
        .collect();
    let scenario = Scenario {
        name: format!("{date} replay"),
        days: 1,
        seed: 0,
        open: ClockTime::from_minutes(open_minute).map_err(|_| ReplayError::EmptyDay(date))?,
        // The simulator only reads how long issuing lasts from this.
        arrivals_per_hour: vec![0.0; hours],
        last_ticket: None,
        day_volume_cv: 0.0,
        noon: ClockTime::from_minutes(12 * 60).map_err(|_| ReplayError::EmptyDay(date))?,
        green_channel_share: 0.0,
        no_show_share: 0.0,
        no_show_clerk_min: if no_show_ms.1 > 0 {
            no_show_ms.0 as f64 / no_show_ms.1 as f64 / 60_000.0
        } else {
            1.0
        },
        target_wait_min: if target_wait_min.is_finite() {
            target_wait_min
        } else {
            20.0
        },
        warmup_hours: 0.0,
        services,
        windows,
        booking: None,
    };
    let end_ms = last_at.0 - origin.0;
    Ok(RecordedDay {
        date,
        scenario,
        citizens,
        recorded: DayRecord {
            tickets: tickets_out,
            windows: recorded_windows,
            measured_from_ms: 0,
            end_ms,
            bookings: Default::default(),
        },
        never_called,
    })
}

/// The figures of a replay: recorded, re-simulated as recorded, and the what-if (when an
/// assignment was given).
#[derive(Debug, Clone)]
pub struct Replay {
    pub recorded: Figures,
    pub resimulated: Figures,
    pub what_if: Option<Figures>,
}

/// Re-simulates the day under the hub's policy, as recorded and under `assignment` (windows
/// it names get its services; the others keep theirs; windows it names that did not open that
/// day open too).
pub fn replay(
    day: &RecordedDay,
    assignment: Option<&BTreeMap<WindowNumber, Vec<ServiceCode>>>,
) -> Result<Replay, ReplayError> {
    let options = Options {
        check: false,
        estimates: true,
    };
    let recorded = Figures::of_day(&day.scenario, &day.citizens, &day.recorded);
    let run = |scenario: &Scenario| -> Result<Figures, ReplayError> {
        let record = simulate_day(scenario, &day.citizens, BenchPolicy::Hub, 0, options)?;
        Ok(Figures::of_day(scenario, &day.citizens, &record))
    };
    let resimulated = run(&day.scenario)?;
    let what_if = match assignment {
        None => None,
        Some(assignment) => {
            let mut scenario = day.scenario.clone();
            for (number, services) in assignment {
                for code in services {
                    if !scenario.services.iter().any(|s| &s.code == code) {
                        return Err(ReplayError::Assignment(format!(
                            "window {number}: the hall had no service '{code}' that day"
                        )));
                    }
                }
                match scenario.windows.iter_mut().find(|w| w.number == *number) {
                    Some(window) => window.services = services.clone(),
                    None => scenario.windows.push(WindowSpec {
                        number: *number,
                        services: services.clone(),
                        closed: None,
                    }),
                }
            }
            Some(run(&scenario)?)
        }
    };
    Ok(Replay {
        recorded,
        resimulated,
        what_if,
    })
}

impl Replay {
    /// One markdown table, a row per variant.
    pub fn markdown(&self, day: &RecordedDay) -> String {
        let title = format!(
            "### {} ({} tickets called, {} never called)",
            day.date,
            day.citizens.len(),
            day.never_called
        );
        let mut rows = vec![
            ("recorded", &self.recorded),
            ("re-simulated, recorded assignment", &self.resimulated),
        ];
        if let Some(what_if) = &self.what_if {
            rows.push(("what-if, --assign", what_if));
        }
        crate::metrics::markdown_table(&title, "run", rows)
    }
}
