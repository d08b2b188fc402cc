//! `jiaohao --simulate`: a hall that comes alive by itself. Citizens arrive as the simulator's
//! arrival model draws them (`jiaohao_sim::draw_day` over `assets/simulation.toml`) and take
//! tickets over the real HTTP API with the kiosk's token; a simulated clerk at every window
//! calls the next ticket, spends the citizen's drawn handling time on it and finishes it (or
//! marks a no-show), with that window's own clerk token.
//!
//! It all runs in virtual time, `speed` times faster than the wall clock, and the hub runs on
//! the same [`SimClock`], so opening hours, waits and reports read as a real day would.

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
    /// The local midnight of the first simulated day; citizens arrive from the scenario's
    /// opening time on.
    pub first_day: jiff::ZonedDateTime,
    /// Which day of the arrival model to draw first (each further day draws the next).
    pub day: u32,
    /// Some citizens book (预约) exit-entry, vehicles and household registration, where the
    /// hall takes bookings for them, a day ahead, verify with the SMS code the hub wrote to
    /// this sink, and check in at the kiosk before their slot; `None`: nobody books.
    pub bookings: Option<Booking>,
    /// An admin's token: with it each simulated window's rating pad is paired (by a one-time
    /// code, as an admin does from the console), the citizens rate their visits there, and a
    /// simulated supervisor works the 差评 cases the bad ratings open (callback, fix, close),
    /// leaving a few to run overdue; `None`: nobody rates and nobody works cases.
    pub admin_token: Option<String>,
}

/// What the simulated bookings need: an admin token (to read the booking settings, and open
/// exit-entry for bookings in a hall file without them) and the hub's SMS sink
/// (`serve --sms-sink`), where the codes are read.
#[derive(Debug, Clone)]
pub struct Booking {
    pub admin_token: String,
    pub sms_sink: std::path::PathBuf,
    /// How many citizens book each service for each working day.
    pub per_day: u32,
}

/// What the simulated people did.
#[derive(Debug, Default)]
pub struct Tally {
    pub issued: AtomicU64,
    /// Tickets the hub refused (closed service, daily cap): the citizen leaves.
    pub refused: AtomicU64,
    pub called: AtomicU64,
    pub finished: AtomicU64,
    /// Finished tickets whose visit did not end done (补正, 不予受理, 转办).
    pub not_done: AtomicU64,
    pub no_shows: AtomicU64,
    /// Bookings made and verified, and checked in at the kiosk.
    pub booked: AtomicU64,
    pub checked_in: AtomicU64,
    /// Visits rated at the window's tablet, and of them the bad ones (差评, each a case).
    pub rated: AtomicU64,
    pub bad_ratings: AtomicU64,
    /// Steps a simulated supervisor took on cases (callback, fix, close).
    pub case_steps: AtomicU64,
}

impl Tally {
    pub fn summary(&self) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "{} tickets issued ({} refused), {} called, {} finished ({} not done in one visit), {} no-shows; {} booked, {} checked in; {} rated ({} badly), {} case steps",
            n(&self.issued),
            n(&self.refused),
            n(&self.called),
            n(&self.finished),
            n(&self.not_done),
            n(&self.no_shows),
            n(&self.booked),
            n(&self.checked_in),
            n(&self.rated),
            n(&self.bad_ratings),
            n(&self.case_steps)
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
    /// Each service's documents to bring (一次性告知), for the visits that end 补正.
    documents: HashMap<String, Vec<String>>,
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
    // Citizens come from the hall's opening (its earliest service hours), or the model's.
    let opens = hall
        .services
        .iter()
        .filter_map(|s| jiaohao_core::ClockTime::parse(&s.def.hours.as_ref()?[0]).ok())
        .min()
        .unwrap_or(scenario.open);
    anyhow::ensure!(!services.is_empty(), "the hall has no service to simulate");
    let documents = hall
        .services
        .iter()
        .map(|s| (s.def.code.clone(), s.def.documents_zh.clone()))
        .collect();
    let shared = Arc::new(Shared {
        clock,
        documents,
        tally: Arc::new(Tally::default()),
        needs: Mutex::new(HashMap::new()),
        issued: Notify::new(),
        no_show_wait: SignedDuration::from_secs_f64(scenario.no_show_clerk_min * 60.0),
    });
    let mut tasks = tokio::task::JoinSet::new();
    let admin = simulation
        .admin_token
        .clone()
        .map(|token| Client::new(&simulation.hub).with_token(token));
    if let Some(admin) = &admin {
        tasks.spawn(supervisor_at_work(
            admin.clone(),
            shared.clone(),
            stop.clone(),
        ));
    }
    for (window, token) in simulation.clerks.clone() {
        let clerk = Client::new(&simulation.hub).with_token(token);
        let pad = match &admin {
            Some(admin) => match pair_pad(admin, window).await {
                Ok(pad) => Some(pad),
                Err(error) => {
                    tracing::warn!(window, %error, "cannot pair the simulated window's rating pad");
                    None
                }
            },
            None => None,
        };
        tasks.spawn(clerk_at(window, clerk, pad, shared.clone(), stop.clone()));
    }
    if let Some(booking) = simulation.bookings.clone() {
        for (lane, service) in BOOKED_SERVICES.into_iter().enumerate() {
            tasks.spawn(bookers(
                simulation.clone(),
                booking.clone(),
                Booker { service, lane },
                opens,
                shared.clone(),
                stop.clone(),
            ));
        }
    }
    tasks.spawn(citizens(
        simulation,
        scenario,
        opens,
        services,
        shared.clone(),
        stop.clone(),
    ));
    while tasks.join_next().await.is_some() {}
    Ok(shared.tally.clone())
}

/// Citizens arrive day after day on the days the hall works (by its calendar) and take
/// tickets at the kiosk.
async fn citizens(
    simulation: Simulation,
    scenario: Scenario,
    opens: jiaohao_core::ClockTime,
    services: Vec<String>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let kiosk = Client::new(&simulation.hub).with_token(&simulation.kiosk_token);
    let public = Client::new(&simulation.hub);
    let open = SignedDuration::from_mins(i64::from(opens.minutes()));
    let mut midnight = simulation.first_day.clone();
    let mut day = simulation.day;
    loop {
        let opening = midnight
            .timestamp()
            .checked_add(open)
            .unwrap_or(midnight.timestamp());
        if !pause(&mut stop, shared.clock.real_until(opening)).await {
            return;
        }
        // A closed day (今日不办公): nobody comes; the next day draws the next model day.
        let today = midnight.date().to_string();
        let closed = public
            .hall()
            .await
            .is_ok_and(|hall| hall.date.as_deref() == Some(today.as_str()) && !hall.open_today);
        for citizen in if closed {
            Vec::new()
        } else {
            draw_day(&scenario, day)
        } {
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
        if !closed {
            day += 1;
        }
        midnight = match midnight.tomorrow() {
            Ok(next) => next,
            Err(_) => return,
        };
    }
}

/// A valid resident ID number for the `n`th simulated person who books.
fn simulated_id(n: u64) -> String {
    let first17 = format!(
        "1101051980{:02}{:02}{:03}",
        1 + n % 12,
        1 + n % 28,
        n % 1000
    );
    let check = char::from(jiaohao_core::identity::check_character(first17.as_bytes()));
    format!("{first17}{check}")
}

/// The code the SMS sink last holds for `phone` (the only run of six digits of its line).
fn sms_code(sink: &std::path::Path, phone: &str) -> Option<String> {
    let text = std::fs::read_to_string(sink).ok()?;
    text.lines().rev().find_map(|line| {
        let (to, message) = line.split_once('\t')?;
        (to == phone).then(|| {
            message
                .split(|c: char| !c.is_ascii_digit())
                .find(|run| run.len() == 6)
                .map(str::to_owned)
        })?
    })
}

/// The services the simulated citizens book where the hall takes bookings for them (the
/// default hall's `[service.booking]` sections): exit-entry, vehicles, household registration.
const BOOKED_SERVICES: [&str; 3] = ["exit_entry", "vehicle", "hukou"];

/// Who books: a service, and the lane that keeps its bookers' phone numbers apart.
struct Booker {
    service: &'static str,
    lane: usize,
}

/// Citizens who book one service: an hour after each opening, `per_day` of them book it for
/// the next bookable day and verify with their SMS code; on each day, those booked for it check
/// in at the kiosk ten minutes before their slot, and the clerks serve them as any ticket. A
/// service the hall file set no bookings for is left alone, except exit-entry, which the
/// simulation opens for bookings itself (hourly slots, 20% of its cap).
async fn bookers(
    simulation: Simulation,
    booking: Booking,
    booker: Booker,
    opens: jiaohao_core::ClockTime,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let admin = Client::new(&simulation.hub).with_token(&booking.admin_token);
    let kiosk = Client::new(&simulation.hub).with_token(&simulation.kiosk_token);
    let public = Client::new(&simulation.hub);
    let service = booker.service;
    let path = format!("/api/services/{service}/booking");
    let seeded = admin
        .request(reqwest::Method::GET, &path)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    if !seeded {
        if service != "exit_entry" {
            return;
        }
        let settings = serde_json::json!({"slot_min": 60, "share_pct": 20});
        let opened = admin
            .request(reqwest::Method::PUT, &path)
            .json(&settings)
            .send()
            .await;
        if !opened.is_ok_and(|r| r.status().is_success()) {
            tracing::warn!("the simulation cannot open exit-entry for bookings");
            return;
        }
    }
    let open = SignedDuration::from_mins(i64::from(opens.minutes()));
    let mut midnight = simulation.first_day.clone();
    let mut people = 0u64;
    // Booked: (date, slot start, code).
    let mut booked: Vec<(String, String, String)> = Vec::new();
    loop {
        let today = midnight.date().to_string();
        // Today's bookings check in ten minutes before their slots.
        for (_, start, code) in booked.iter().filter(|(date, ..)| *date == today) {
            let Ok(time) = jiaohao_core::ClockTime::parse(start) else {
                continue;
            };
            let at = midnight
                .timestamp()
                .checked_add(SignedDuration::from_mins(i64::from(time.minutes()) - 10))
                .unwrap_or(midnight.timestamp());
            let (kiosk, shared, code, mut stop) =
                (kiosk.clone(), shared.clone(), code.clone(), stop.clone());
            tokio::spawn(async move {
                if !pause(&mut stop, shared.clock.real_until(at)).await {
                    return;
                }
                match kiosk.check_in(&code).await {
                    Ok(checked) => {
                        let needs = Needs {
                            handling: SignedDuration::from_mins(8),
                            no_show: false,
                        };
                        shared
                            .needs
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(checked.ticket.number, needs);
                        shared.tally.checked_in.fetch_add(1, Ordering::Relaxed);
                        shared.issued.notify_waiters();
                    }
                    Err(error) => tracing::debug!(%error, "a simulated booking did not check in"),
                }
            });
        }
        booked.retain(|(date, ..)| *date > today);
        let booking_time = midnight
            .timestamp()
            .checked_add(open + SignedDuration::from_hours(1))
            .unwrap_or(midnight.timestamp());
        if !pause(&mut stop, shared.clock.real_until(booking_time)).await {
            return;
        }
        let slots: Option<jiaohao_wire::BookingSlots> = match public
            .request(
                reqwest::Method::GET,
                &format!("/api/bookings/slots?service={service}&date={today}"),
            )
            .send()
            .await
        {
            Ok(answer) => answer.json().await.ok(),
            Err(_) => None,
        };
        let day = slots.and_then(|s| s.days.first().cloned());
        if let Some(day) = day {
            let slots: Option<jiaohao_wire::BookingSlots> = match public
                .request(
                    reqwest::Method::GET,
                    &format!("/api/bookings/slots?service={service}&date={day}"),
                )
                .send()
                .await
            {
                Ok(answer) => answer.json().await.ok(),
                Err(_) => None,
            };
            let open_slots: Vec<String> = slots
                .map(|s| {
                    s.slots
                        .into_iter()
                        .filter(|slot| slot.remaining > 0)
                        .map(|slot| slot.start)
                        .collect()
                })
                .unwrap_or_default();
            for index in 0..booking.per_day as usize {
                let Some(start) = open_slots.get(index % open_slots.len().max(1)).cloned() else {
                    break;
                };
                people += 1;
                let phone = format!("13{}{:08}", 7 + booker.lane, people % 100_000_000);
                let body = serde_json::json!({"service": service, "date": day, "start": start,
                    "name": "模拟群众", "id_number": simulated_id(people), "phone": phone});
                let made = public
                    .request(reqwest::Method::POST, "/api/bookings")
                    .json(&body)
                    .send()
                    .await;
                let Ok(made) = made else { continue };
                let Ok(created) = made.json::<jiaohao_wire::BookingCreated>().await else {
                    continue;
                };
                let Some(code) = sms_code(&booking.sms_sink, &phone) else {
                    continue;
                };
                let verified = public
                    .request(
                        reqwest::Method::POST,
                        &format!("/api/bookings/{}/verify", created.code),
                    )
                    .json(&serde_json::json!({"sms_code": code}))
                    .send()
                    .await;
                if verified.is_ok_and(|r| r.status().is_success()) {
                    shared.tally.booked.fetch_add(1, Ordering::Relaxed);
                    booked.push((day.clone(), start, created.code));
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
    pad: Option<Client>,
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
    let mut served_here = 0u64;
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
                let busy = if needs.no_show {
                    shared.no_show_wait
                } else {
                    needs.handling
                };
                if !pause(&mut stop, shared.clock.real(busy)).await {
                    return;
                }
                let outcome = outcome_of(&ticket, &shared.documents);
                let answer = if needs.no_show {
                    clerk.ticket_action(window, "no-show").await
                } else {
                    clerk.finish(window, &outcome).await
                };
                match answer {
                    Ok(_) if needs.no_show => {
                        shared.tally.no_shows.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {
                        shared.tally.finished.fetch_add(1, Ordering::Relaxed);
                        if outcome.outcome != "done" {
                            shared.tally.not_done.fetch_add(1, Ordering::Relaxed);
                        }
                        served_here += 1;
                        if let Some(pad) = &pad {
                            rate_visit(pad, window, &ticket.number, &shared).await;
                        }
                        if !step_away(window, &clerk, served_here, &shared, &mut stop).await {
                            return;
                        }
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

/// Pairs a rating pad with `window` as a hall's admin does: a one-time code from the console,
/// typed on the tablet's page, which keeps the pad's device token in its cookie. The pads an
/// earlier run of the demo paired with the window are unpaired first (their tokens died with
/// that run). Returns a client holding the new pad's token.
async fn pair_pad(admin: &Client, window: u16) -> anyhow::Result<Client> {
    use anyhow::Context;
    let pads: Vec<jiaohao_wire::RatingPad> = admin
        .send(admin.request(reqwest::Method::GET, "/api/rating-pads"))
        .await?
        .unwrap_or_default();
    for old in pads.iter().filter(|pad| pad.window == window) {
        let unpair = admin.request(
            reqwest::Method::DELETE,
            &format!("/api/rating-pads/{}", old.id),
        );
        if let Err(error) = admin.send::<serde_json::Value>(unpair).await {
            tracing::debug!(window, %error, "an earlier simulated pad stays paired");
        }
    }
    let code: jiaohao_wire::PairingCode = admin
        .send(admin.request(
            reqwest::Method::POST,
            &format!("/api/windows/{window}/pairing"),
        ))
        .await?
        .context("no pairing code")?;
    let tablet = Client::new(admin.base());
    let response = tablet
        .request(reqwest::Method::POST, "/api/rating-pad")
        .json(&serde_json::json!({ "code": code.code }))
        .send()
        .await?
        .error_for_status()?;
    let secret = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("jiaohao_pad="))
        .and_then(|rest| rest.split(';').next())
        .context("the pairing answer sets no pad cookie")?
        .to_owned();
    Ok(tablet.with_token(secret))
}

/// Citizens rate their visit at the window's tablet, by the ticket's number so a replayed day
/// rates the same: mostly well, about one in seventeen 不满意 (the wait) and one in
/// twenty-nine 非常不满意 (the attitude), a bad rating sometimes with a phone for the callback.
async fn rate_visit(tablet: &Client, window: u16, number: &str, shared: &Shared) {
    let seq: u64 = number
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0);
    let (rating, reason) = if seq % 17 == 2 {
        ("dissatisfied", Some("waiting"))
    } else if seq % 29 == 11 {
        ("very_dissatisfied", Some("attitude"))
    } else {
        (
            ["very_satisfied", "satisfied", "basic"][(seq % 3) as usize],
            None,
        )
    };
    let mut body = serde_json::json!({"number": number, "rating": rating, "reason": reason});
    if reason.is_some() && seq.is_multiple_of(2) {
        body["callback_phone"] = serde_json::json!(format!("1380013{:04}", seq % 10_000));
    }
    let request = tablet
        .request(
            reqwest::Method::POST,
            &format!("/api/windows/{window}/rating"),
        )
        .json(&body);
    match tablet.send::<serde_json::Value>(request).await {
        Ok(_) => {
            shared.tally.rated.fetch_add(1, Ordering::Relaxed);
            if reason.is_some() {
                shared.tally.bad_ratings.fetch_add(1, Ordering::Relaxed);
            }
        }
        Err(error) => tracing::debug!(window, %error, "a simulated rating was refused"),
    }
}

/// A supervisor looks at the 差评 cases every virtual half hour and takes one step on each
/// that is not closed: calls the citizen back, records the fix, closes it. One case in five is
/// left alone for a few days, so the demo's case tab shows an overdue one too.
async fn supervisor_at_work(
    supervisor: Client,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let every = SignedDuration::from_mins(30);
    while pause(&mut stop, shared.clock.real(every)).await {
        let request = supervisor.request(reqwest::Method::GET, "/api/cases");
        let list = match supervisor.send::<jiaohao_wire::CaseList>(request).await {
            Ok(Some(list)) => list,
            Ok(None) => continue,
            Err(error) => {
                tracing::debug!(%error, "the simulated supervisor cannot read the cases");
                continue;
            }
        };
        for case in list.cases.iter().filter(|c| c.state != "closed") {
            // The neglected ones are taken up once they are overdue.
            if case.id % 5 == 0 && !case.overdue {
                continue;
            }
            let (what, body) = match case.state.as_str() {
                "open" => (
                    "callback",
                    serde_json::json!({"note": "已电话回访群众，说明情况并致歉，群众表示理解"}),
                ),
                "called_back" => (
                    "fix",
                    serde_json::json!({"fix": "已对窗口人员进行提醒教育，高峰时段增开窗口"}),
                ),
                _ => ("close", serde_json::json!({})),
            };
            let request = supervisor
                .request(
                    reqwest::Method::POST,
                    &format!("/api/cases/{}/{what}", case.id),
                )
                .json(&body);
            match supervisor.send::<serde_json::Value>(request).await {
                Ok(_) => {
                    shared.tally.case_steps.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => tracing::debug!(%error, "a simulated case step was refused"),
            }
        }
    }
}

/// How a simulated visit ends, by its ticket's number so that a replayed day ends the same:
/// mostly done (办结); about one in seven misses a document of its service (补正), one in
/// eleven is refused (不予受理), one in thirteen is sent to an office outside the hall (转办).
fn outcome_of(
    ticket: &jiaohao_wire::TicketDetail,
    documents: &HashMap<String, Vec<String>>,
) -> jiaohao_wire::FinishRequest {
    let seq: u64 = ticket
        .number
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0);
    let mut outcome = jiaohao_wire::FinishRequest {
        outcome: "done".into(),
        documents: Vec::new(),
        reason: None,
        office: None,
    };
    let listed = documents.get(&ticket.service).filter(|d| !d.is_empty());
    if let Some(listed) = listed
        && seq % 7 == 3
    {
        outcome.outcome = "documents_missing".into();
        outcome.documents = vec![listed[seq as usize % listed.len()].clone()];
    } else if seq % 11 == 5 {
        outcome.outcome = "refused".into();
        outcome.reason = Some("不属于本大厅受理范围".into());
    } else if seq % 13 == 8 {
        outcome.outcome = "referred".into();
        outcome.office = Some("县公安局交通管理大队".into());
    }
    outcome
}

/// A simulated clerk steps away now and then, with a reason: a 休息 pause after every fourth
/// citizen, a pause without an excusing class (其他) after every ninth, and the window closed
/// for a 会议 after every fifteenth. Answers `false` when told to stop meanwhile.
async fn step_away(
    window: u16,
    clerk: &Client,
    served: u64,
    shared: &Shared,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let (closing, reason, note, minutes) = if served.is_multiple_of(15) {
        (true, "meeting", Some("科室例会"), 10)
    } else if served.is_multiple_of(9) {
        (false, "other", Some("临时离开"), 4)
    } else if served.is_multiple_of(4) {
        (false, "break", None, 6)
    } else {
        return true;
    };
    let left = if closing {
        clerk.close(window, reason, note).await
    } else {
        clerk.pause_with(window, reason, note).await
    };
    if let Err(error) = left {
        tracing::warn!(window, %error, "a simulated clerk could not step away");
        return true;
    }
    let away = pause(stop, shared.clock.real(SignedDuration::from_mins(minutes))).await;
    let back = if closing { "open" } else { "resume" };
    if let Err(error) = clerk.window_action(window, back).await {
        tracing::debug!(window, %error, "a simulated clerk could not come back");
    }
    away
}

/// The local midnight of the first day to simulate on the database at `db`: today, or the day
/// after the last day its log has events of (a simulated hall runs ahead of the calendar, and
/// its time must never go back).
pub fn first_day(
    db: &std::path::Path,
    zone: &jiff::tz::TimeZone,
) -> anyhow::Result<jiff::ZonedDateTime> {
    let today = Timestamp::now()
        .to_zoned_datetime(zone.clone())
        .start_of_day()?;
    let mut last = None;
    if db.exists() {
        let store = jiaohao_store::Store::open(db)?;
        store.for_each_record_after(0, |record| last = Some(record.at))?;
    }
    let Some(last) = last else {
        return Ok(today);
    };
    let last = Timestamp::from_millisecond(last.0)?
        .to_zoned_datetime(zone.clone())
        .start_of_day()?;
    if last < today {
        Ok(today)
    } else {
        Ok(last.tomorrow()?)
    }
}

/// How long before the hall opens the demo clock starts: a moment to see the empty hall.
pub const BEFORE_OPENING: SignedDuration = SignedDuration::from_mins(2);

/// Where the demo clock starts on the database at `db` (seeded with `seed` if new): shortly
/// before the hall's next opening by its calendar, on or after [`first_day`]. Answers the
/// local midnight of that day and the instant the clock starts.
pub fn demo_start(
    db: &std::path::Path,
    seed: &[jiaohao_core::Command],
    zone: &jiff::tz::TimeZone,
) -> anyhow::Result<(jiff::ZonedDateTime, Timestamp)> {
    use jiaohao_core::{ClockTime, Hall, LocalDate, Millis, Now};
    let first = first_day(db, zone)?;
    // The hall as configured: its log's fold, or the seed a new database will get.
    let mut hall = Hall::new();
    if db.exists() {
        let store = jiaohao_store::Store::open(db)?;
        store.for_each_record_after(0, |record| hall.evolve(&record.event, record.at))?;
    }
    let date = LocalDate::new(first.year(), first.month() as u8, first.day() as u8)?;
    let midnight = Now {
        at: Millis(first.timestamp().as_millisecond()),
        date,
        time: ClockTime::MIDNIGHT,
    };
    if hall.services().is_empty() {
        for command in seed {
            let _ = hall.apply(command, midnight);
        }
    }
    let opening = hall.next_opening(midnight).ok_or_else(|| {
        anyhow::anyhow!("the hall's calendar has no working day within a year: nothing to show")
    })?;
    let day = jiff::civil::date(
        opening.date.year,
        opening.date.month as i8,
        opening.date.day as i8,
    )
    .to_zoned_datetime(zone.clone())?;
    let opens = day
        .timestamp()
        .checked_add(SignedDuration::from_mins(i64::from(opening.time.minutes())))?;
    let origin = opens
        .checked_sub(BEFORE_OPENING)
        .unwrap_or(opens)
        .max(first.timestamp());
    Ok((day, origin))
}
