//! `jiaohao --simulate` against a real hub: simulated citizens take tickets over the API with
//! the kiosk's token, simulated clerks call and finish them with their windows' tokens, in
//! virtual time shared with the hub, and everything stops when told.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiaohao::simulate::{self, SimClock, Simulation};
use jiaohao_client::Client;
use jiaohao_hub::{HubConfig, hall_file};
use jiaohao_store::Role;
use tokio::sync::watch;

use crate::support::{WAIT, at};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_citizens_and_clerks_work_the_hall_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let token = |role, window, name: &str| {
        jiaohao_hub::cli::create_token(&db, role, window, name).expect("a token")
    };
    let kiosk_token = token(Role::Kiosk, None, "kiosk");
    let clerks: Vec<(u16, String)> = (1..=10)
        .map(|w| (w, token(Role::Clerk, Some(w), &format!("clerk {w}"))))
        .collect();
    // Ten virtual minutes a second, from one minute before the hall opens.
    let clock = Arc::new(SimClock::new(at("2026-11-23T08:59:00+08:00"), 600.0));
    let config = HubConfig {
        seed: hall_file::parse(hall_file::DEFAULT_HALL).unwrap(),
        clock: clock.clone(),
        // One kiosk issues every simulated ticket, faster than the kiosk limit allows.
        limits: jiaohao_hub::limits::LimitConfig {
            tickets: None,
            ..Default::default()
        },
        ..HubConfig::new(db.clone())
    };
    let hub = jiaohao_hub::spawn("127.0.0.1:0", config).await.unwrap();
    let first_day = at("2026-11-23T00:00:00+08:00")
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap());
    let admin_token = token(Role::Admin, None, "admin");
    let simulation = Simulation {
        hub: hub.url(),
        kiosk_token,
        clerks,
        first_day,
        day: 7,
        bookings: None,
        admin_token: Some(admin_token.clone()),
    };
    let (stop_tx, stop) = watch::channel(false);
    let running = tokio::spawn(simulate::run(simulation, clock, stop));
    // About 40 virtual minutes: some 50 citizens arrive at the morning's rate.
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop_tx.send(true).unwrap();
    let tally = tokio::time::timeout(WAIT, running)
        .await
        .expect("the simulation stops in time")
        .unwrap()
        .expect("the simulation ran");
    let issued = tally.issued.load(Ordering::Relaxed);
    let called = tally.called.load(Ordering::Relaxed);
    let done = tally.finished.load(Ordering::Relaxed) + tally.no_shows.load(Ordering::Relaxed);
    assert!(issued >= 20, "{}", tally.summary());
    assert!(called >= 10 && called <= issued, "{}", tally.summary());
    assert!(done >= 5 && done <= called, "{}", tally.summary());
    // Some visits end otherwise than done (补正, 不予受理, 转办), for the reports.
    assert!(
        tally.not_done.load(Ordering::Relaxed) >= 1,
        "{}",
        tally.summary()
    );
    assert_eq!(
        tally.refused.load(Ordering::Relaxed),
        0,
        "{}",
        tally.summary()
    );
    // Citizens rate some visits, now and then badly; each 差评 opens a case the simulated
    // supervisor works.
    assert!(
        tally.rated.load(Ordering::Relaxed) >= 1,
        "{}",
        tally.summary()
    );
    println!("{}", tally.summary());
    // They rate on their window's pad, which the simulation paired as an admin does: one
    // pad for each of the ten windows.
    let admin = Client::new(hub.url()).with_token(admin_token);
    let pads: Vec<jiaohao_wire::RatingPad> = admin
        .send(admin.request(reqwest::Method::GET, "/api/rating-pads"))
        .await
        .unwrap()
        .unwrap();
    let mut windows: Vec<u16> = pads.iter().map(|pad| pad.window).collect();
    windows.sort_unstable();
    assert_eq!(windows, (1..=10).collect::<Vec<u16>>());

    // The hub saw exactly what the simulation says it did.
    let hall = Client::new(hub.url()).hall().await.unwrap();
    let issued_by_hub: u64 = hall
        .services
        .iter()
        .map(|s| u64::from(s.issued_today))
        .sum();
    assert_eq!(issued_by_hub, issued);
    let waiting: u64 = hall.services.iter().map(|s| u64::from(s.waiting)).sum();
    let serving = hall
        .windows
        .iter()
        .filter(|w| w.current_ticket.is_some())
        .count() as u64;
    assert_eq!(
        waiting + serving + done,
        issued,
        "every ticket is waiting, at a window or done"
    );
    assert!(
        hall.windows.iter().all(|w| w.state != "closed"),
        "every window was opened"
    );
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_demo_clock_starts_shortly_before_the_next_opening_by_the_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let seed = hall_file::parse(hall_file::DEFAULT_HALL).unwrap();
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    // A new database: the next opening from today on, at 08:30 less two minutes.
    let (day, origin) = simulate::demo_start(&db, &seed, &zone).unwrap();
    let start = origin.to_zoned_datetime(zone.clone());
    assert_eq!(start.strftime("%H:%M").to_string(), "08:28", "{start}");
    assert_eq!(start.date(), day.date());
    assert!(!matches!(
        day.weekday(),
        jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
    ));

    // A log whose last day is Friday 2 January 2099: the demo goes on from Saturday, which is
    // closed, and so starts before Monday's opening.
    let clock = Arc::new(jiaohao_hub::ManualClock::new(at(
        "2099-01-02T10:00:00+08:00",
    )));
    let config = HubConfig {
        seed: seed.clone(),
        clock,
        ..HubConfig::new(db.clone())
    };
    let hub = jiaohao_hub::spawn("127.0.0.1:0", config).await.unwrap();
    hub.stop().await.unwrap();
    let (day, origin) = simulate::demo_start(&db, &seed, &zone).unwrap();
    assert_eq!(day.date().to_string(), "2099-01-05");
    assert_eq!(
        origin
            .to_zoned_datetime(zone)
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        "2099-01-05 08:28"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_citizens_book_verify_and_check_in_the_next_day() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let sms_sink = dir.path().join("sms.txt");
    let token = |role, window, name: &str| {
        jiaohao_hub::cli::create_token(&db, role, window, name).expect("a token")
    };
    let kiosk_token = token(Role::Kiosk, None, "kiosk");
    let admin_token = token(Role::Admin, None, "admin");
    let clerks: Vec<(u16, String)> = (1..=10)
        .map(|w| (w, token(Role::Clerk, Some(w), &format!("clerk {w}"))))
        .collect();
    // A hundred virtual minutes a second: Monday morning to Tuesday morning in about 15 s.
    let clock = Arc::new(SimClock::new(at("2026-11-23T08:59:00+08:00"), 6000.0));
    let config = HubConfig {
        seed: hall_file::parse(hall_file::DEFAULT_HALL).unwrap(),
        clock: clock.clone(),
        limits: jiaohao_hub::limits::LimitConfig {
            tickets: None,
            public: None,
        },
        sms: jiaohao_hub::sms::SmsSender::File(sms_sink.clone()),
        ..HubConfig::new(db.clone())
    };
    let hub = jiaohao_hub::spawn("127.0.0.1:0", config).await.unwrap();
    let first_day = at("2026-11-23T00:00:00+08:00")
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap());
    let simulation = Simulation {
        hub: hub.url(),
        kiosk_token,
        clerks,
        first_day,
        day: 7,
        bookings: Some(simulate::Booking {
            admin_token,
            sms_sink,
            per_day: 3,
        }),
        admin_token: None,
    };
    let (stop_tx, stop) = watch::channel(false);
    let running = tokio::spawn(simulate::run(simulation, clock.clone(), stop));
    // Until Tuesday 10:45: the three of each service booked for Tuesday morning have checked
    // in (the default hall takes bookings for exit-entry, vehicles and household registration).
    let until = at("2026-11-24T10:45:00+08:00");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while jiaohao_hub::Clock::now(&*clock) < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            tokio::time::Instant::now() < deadline,
            "the simulated day does not pass"
        );
    }
    stop_tx.send(true).unwrap();
    let tally = tokio::time::timeout(WAIT, running)
        .await
        .expect("the simulation stops in time")
        .unwrap()
        .expect("the simulation ran");
    // Three of each service booked on Monday for Tuesday, as many on Tuesday for Wednesday.
    assert_eq!(
        tally.booked.load(Ordering::Relaxed),
        18,
        "{}",
        tally.summary()
    );
    assert_eq!(
        tally.checked_in.load(Ordering::Relaxed),
        9,
        "{}",
        tally.summary()
    );
    hub.stop().await.unwrap();
}
