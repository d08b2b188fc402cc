//! The demo's simulated people (what plain `jiaohao` runs; `--real-clock` leaves them out): a
//! hall that comes alive by itself. Citizens arrive as the simulator's
//! arrival model draws them (`jiaohao_sim::draw_day` over `assets/simulation.toml`) and take
//! tickets over the real HTTP API with the kiosk's token; a simulated clerk at every window
//! calls the next ticket, spends the citizen's drawn handling time on it and finishes it (or
//! marks a no-show), with that window's own clerk token.
//!
//! It all runs in virtual time, `speed` times faster than the wall clock, and the hub runs on
//! the same [`SimClock`], so opening hours, waits and reports read as a real day would. Nobody
//! comes on a day the hall does not work ([`crate::demo_clock::is_working_day`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiaohao_client::Client;
use jiaohao_sim::{Scenario, draw_day};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};

/// The arrival model: the simulator's county hall fitted to the default hall.
pub const SCENARIO: &str = include_str!("../assets/simulation.toml");

/// A clock that starts at a chosen instant and runs `speed` times faster than the wall clock;
/// the hub and the simulation share one.
#[derive(Debug)]
pub struct SimClock {
    origin: Timestamp,
    started: Instant,
    speed: f64,
}

impl SimClock {
    pub fn new(origin: Timestamp, speed: f64) -> SimClock {
        SimClock {
            origin,
            started: Instant::now(),
            speed: speed.max(0.01),
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The wall-clock time until the virtual instant `at` (zero if it has passed).
    fn real_until(&self, at: Timestamp) -> Duration {
        let virtual_left = at.duration_since(self.now_virtual());
        if virtual_left.is_negative() {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(virtual_left.as_secs_f64() / self.speed)
    }

    /// The wall-clock time a virtual span takes.
    fn real(&self, span: SignedDuration) -> Duration {
        Duration::from_secs_f64(span.as_secs_f64().max(0.0) / self.speed)
    }

    fn now_virtual(&self) -> Timestamp {
        let elapsed = self.started.elapsed().as_secs_f64() * self.speed;
        self.origin
            .checked_add(SignedDuration::from_secs_f64(elapsed))
            .unwrap_or(self.origin)
    }
}

impl jiaohao_hub::Clock for SimClock {
    fn now(&self) -> Timestamp {
        self.now_virtual()
    }

    fn speed(&self) -> f64 {
        self.speed
    }
}

/// What a simulated hall needs: where the hub is and the tokens to act with.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub hub: String,
    pub kiosk_token: String,
    /// Each window with the clerk token bound to it.
    pub clerks: Vec<(u16, String)>,
    /// The local midnight of the first simulated day.
    pub first_day: jiff::ZonedDateTime,
    /// When the hall opens each working day, after midnight: the model's day of citizens
    /// starts then (its own opening time is the county hall's; the hall's own hours count).
    pub opens: SignedDuration,
    /// Which day of the arrival model to draw first (each further day draws the next).
    pub day: u32,
}

/// What the simulated people did.
#[derive(Debug, Default)]
pub struct Tally {
    pub issued: AtomicU64,
    /// Tickets the hub refused (closed service, daily cap): the citizen leaves.
    pub refused: AtomicU64,
    pub called: AtomicU64,
    pub finished: AtomicU64,
    pub no_shows: AtomicU64,
}

impl Tally {
    pub fn summary(&self) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "{} tickets issued ({} refused), {} called, {} finished, {} no-shows",
            n(&self.issued),
            n(&self.refused),
            n(&self.called),
            n(&self.finished),
            n(&self.no_shows)
        )
    }
}

/// What a clerk needs to know about a ticket when calling it: how long it will take and
/// whether the citizen is still there. Only the simulation knows this; the hub never does.
#[derive(Debug, Clone, Copy)]
struct Needs {
    handling: SignedDuration,
    no_show: bool,
}

struct Shared {
    clock: Arc<SimClock>,
    tally: Arc<Tally>,
    needs: Mutex<HashMap<String, Needs>>,
    issued: Notify,
    no_show_wait: SignedDuration,
}

/// Waits `span` of wall-clock time; `false` if the simulation is told to stop first.
async fn pause(stop: &mut watch::Receiver<bool>, span: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(span) => true,
        _ = stop.wait_for(|stopping| *stopping) => false,
    }
}

/// Runs the simulated hall until `stop` turns true; answers what happened.
pub async fn run(
    simulation: Simulation,
    clock: Arc<SimClock>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Arc<Tally>> {
    let scenario = Scenario::parse(SCENARIO)?;
    let hub = Client::new(&simulation.hub);
    let hall = hub.hall().await?;
    let services: Vec<String> = hall.services.iter().map(|s| s.def.code.clone()).collect();
    anyhow::ensure!(!services.is_empty(), "the hall has no service to simulate");
    let shared = Arc::new(Shared {
        clock,
        tally: Arc::new(Tally::default()),
        needs: Mutex::new(HashMap::new()),
        issued: Notify::new(),
        no_show_wait: SignedDuration::from_secs_f64(scenario.no_show_clerk_min * 60.0),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for (window, token) in simulation.clerks.clone() {
        let clerk = Client::new(&simulation.hub).with_token(token);
        tasks.spawn(clerk_at(window, clerk, shared.clone(), stop.clone()));
    }
    tasks.spawn(citizens(
        simulation,
        scenario,
        services,
        shared.clone(),
        stop.clone(),
    ));
    while tasks.join_next().await.is_some() {}
    Ok(shared.tally.clone())
}

/// Citizens arrive day after day and take tickets at the kiosk.
async fn citizens(
    simulation: Simulation,
    scenario: Scenario,
    services: Vec<String>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let kiosk = Client::new(&simulation.hub).with_token(&simulation.kiosk_token);
    let mut midnight = simulation.first_day.clone();
    for day in simulation.day.. {
        // Nobody comes on a day the hall does not work.
        if !crate::demo_clock::is_working_day(midnight.date()) {
            midnight = match midnight.tomorrow() {
                Ok(next) => next,
                Err(_) => return,
            };
            continue;
        }
        let opening = midnight
            .timestamp()
            .checked_add(simulation.opens)
            .unwrap_or(midnight.timestamp());
        for citizen in draw_day(&scenario, day) {
            let at = opening
                .checked_add(SignedDuration::from_millis(citizen.arrival_ms))
                .unwrap_or(opening);
            if !pause(&mut stop, shared.clock.real_until(at)).await {
                return;
            }
            // The model's service, or one of the hall's when the hall was changed.
            let code = scenario
                .services
                .get(citizen.service)
                .map(|s| s.code.to_string())
                .filter(|code| services.contains(code))
                .unwrap_or_else(|| services[citizen.service % services.len()].clone());
            match kiosk.issue_ticket(&code, citizen.green_channel, None).await {
                Ok(ticket) => {
                    let needs = Needs {
                        handling: SignedDuration::from_millis(citizen.handling_ms),
                        no_show: citizen.no_show,
                    };
                    shared
                        .needs
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(ticket.number, needs);
                    shared.tally.issued.fetch_add(1, Ordering::Relaxed);
                    shared.issued.notify_waiters();
                }
                Err(error) => {
                    tracing::debug!(%error, service = code, "a simulated citizen got no ticket");
                    shared.tally.refused.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        midnight = match midnight.tomorrow() {
            Ok(next) => next,
            Err(_) => return,
        };
    }
}

/// One simulated clerk: opens the window, then calls, serves and finishes tickets until told
/// to stop.
async fn clerk_at(
    window: u16,
    clerk: Client,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    // A window left serving by an earlier run finishes that ticket first.
    let _ = clerk.ticket_action(window, "finish").await;
    if let Err(error) = clerk.window_action(window, "open").await
        && error.status() != Some(409)
    {
        tracing::warn!(window, %error, "a simulated clerk cannot open the window");
    }
    let idle = SignedDuration::from_secs(60);
    while !*stop.borrow() {
        match clerk.call_next(window).await {
            Ok(Some(ticket)) => {
                shared.tally.called.fetch_add(1, Ordering::Relaxed);
                let needs = shared
                    .needs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&ticket.number)
                    // A ticket from before this run: an average citizen.
                    .unwrap_or(Needs {
                        handling: SignedDuration::from_mins(6),
                        no_show: false,
                    });
                let (busy, action) = if needs.no_show {
                    (shared.no_show_wait, "no-show")
                } else {
                    (needs.handling, "finish")
                };
                if !pause(&mut stop, shared.clock.real(busy)).await {
                    return;
                }
                match clerk.ticket_action(window, action).await {
                    Ok(_) if needs.no_show => {
                        shared.tally.no_shows.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {
                        shared.tally.finished.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => tracing::warn!(window, %error, "a simulated clerk failed"),
                }
            }
            Ok(None) => {
                // Nothing waits: wait for the next ticket (or a virtual minute, since a ticket
                // of another window's service may be transferred here).
                tokio::select! {
                    _ = shared.issued.notified() => {}
                    _ = tokio::time::sleep(shared.clock.real(idle)) => {}
                    _ = stop.wait_for(|stopping| *stopping) => return,
                }
            }
            Err(error) => {
                // A new day closes every window: open it again (and otherwise wait a while).
                tracing::debug!(window, %error, "a simulated clerk could not call");
                if error.status() == Some(409) && clerk.window_action(window, "open").await.is_ok()
                {
                    continue;
                }
                if !pause(&mut stop, shared.clock.real(idle)).await {
                    return;
                }
            }
        }
    }
}

/// The time of the last event in the database at `db`, if it has any: a simulated hall runs
/// ahead of the calendar, and its clock must never go back behind what its log holds.
pub fn last_event(db: &std::path::Path) -> anyhow::Result<Option<Timestamp>> {
    if !db.exists() {
        return Ok(None);
    }
    let store = jiaohao_store::Store::open(db)?;
    let mut last = None;
    store.for_each_record_after(0, |record| last = Some(record.at))?;
    Ok(last
        .map(|at| Timestamp::from_millisecond(at.0))
        .transpose()?)
}
