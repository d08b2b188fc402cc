//! The ingest against a real hub's log: exactly once across resent and split batches, and the
//! city's figures equal to the hall's own report, p90 included.

use jiaohao_city::HallIngest;
use jiaohao_testkit::TestHub;
use reqwest::Method;
use serde_json::json;

use crate::support::{add_hall, database, hub_records};

/// A morning of traffic: three windows, tickets finished, a no-show, a transfer, ratings.
async fn traffic(hub: &TestHub) {
    for window in [1, 2, 3] {
        hub.open(window).await;
    }
    let minute = |m: u32| format!("2026-11-23T09:{m:02}:00+08:00");
    for i in 0..12u32 {
        hub.set_time(&minute(i));
        hub.issue(["hukou", "id_card", "vehicle"][(i % 3) as usize])
            .await;
    }
    let mut m = 12;
    for round in 0..4u32 {
        for window in [1u16, 2, 3] {
            m += 1 + round;
            hub.set_time(&minute(m.min(59)));
            if hub.admin.call_next(window).await.unwrap().is_none() {
                continue;
            }
            hub.set_time(&minute((m + 2).min(59)));
            let action = if round == 1 && window == 2 {
                "no-show"
            } else {
                "finish"
            };
            let done = hub.admin.ticket_action(window, action).await.unwrap();
            if action == "finish" {
                let rating = ["very_satisfied", "dissatisfied", "basic"][window as usize - 1];
                let mut body = json!({"number": done.number, "rating": rating});
                if rating == "dissatisfied" {
                    body["reason"] = json!("waiting");
                }
                // At the window (an admin may rate there, as the window's paired pad does).
                let response = hub
                    .admin
                    .request(Method::POST, &format!("/api/windows/{window}/rating"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(
                    response.status().is_success(),
                    "{}",
                    response.text().await.unwrap()
                );
            }
        }
    }
}

#[tokio::test]
async fn the_city_counts_a_hall_as_its_own_report_does_and_each_record_once() {
    let _cluster = crate::support::shared_cluster().await;
    let Some((_url, mut client)) = database("report_equality").await else {
        return;
    };
    let hub = TestHub::start().await;
    traffic(&hub).await;
    let records = hub_records(&hub.db, 0);
    assert!(records.len() > 40, "{} records", records.len());
    let (hall, _dir, _key) = add_hall(&client, "清河县", &hub.url(), "token").await;

    // Batches of seven, each sent twice, the second time overlapping the next one.
    let mut ingest = HallIngest::new(hall);
    let mut written = 0;
    for start in (0usize..records.len()).step_by(7) {
        let end = (start + 7).min(records.len());
        written += ingest
            .ingest(&mut client, &records[start..end])
            .await
            .unwrap()
            .records;
        let again = ingest
            .ingest(&mut client, &records[start.saturating_sub(3)..end])
            .await
            .unwrap();
        assert_eq!(again.records, 0);
    }
    assert_eq!(written, records.len());
    // A gap is refused and writes nothing.
    let gap = vec![jiaohao_city::Incoming {
        seq: records.len() as u64 + 5,
        ..records[0].clone()
    }];
    assert!(ingest.ingest(&mut client, &gap).await.is_err());
    let count: i64 = client
        .query_one("SELECT count(*) FROM records WHERE hall = $1", &[&hall])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count as usize, records.len());
    let (last_seq, max_seq): (i64, i64) = {
        let row = client
            .query_one(
                "SELECT (SELECT last_seq FROM halls WHERE id = $1), (SELECT max(seq) FROM records WHERE hall = $1)",
                &[&hall],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(last_seq, max_seq);

    let (city, total) = crate::support::day_figures(&client, &hub, "2026-11-23").await;
    let total = &total;
    let (from, to) = jiaohao_city::reports::parse_range("2026-11-23", "2026-11-23").unwrap();
    crate::support::same_figures(
        &city,
        total,
        &[
            "issued",
            "called",
            "served",
            "no_shows",
            "transfers",
            "mean_wait_min",
            "p90_wait_min",
            "mean_handling_min",
            "within_target_pct",
            "rating_mean",
        ],
    );
    let r = &total["ratings"];
    assert_eq!(
        city["ratings"],
        json!([
            r["very_satisfied"],
            r["satisfied"],
            r["basic"],
            r["dissatisfied"],
            r["very_dissatisfied"]
        ])
    );
    assert!(total["p90_wait_min"].as_f64().unwrap() > 0.0);
    assert_eq!(total["no_shows"], 1);
    // Per hall and service: the rows add up to the hall's totals (a ticket under its last
    // service), each with its own p90, and the CSV has a row each.
    let by_service = jiaohao_city::reports::across_halls_by_service(&client, from, to)
        .await
        .unwrap();
    let services: Vec<&str> = by_service.iter().map(|r| r.service.as_str()).collect();
    assert_eq!(services, ["hukou", "id_card", "vehicle"]);
    let sum = |field: fn(&jiaohao_city::reports::HallFigures) -> i64| {
        by_service.iter().map(|r| field(&r.figures)).sum::<i64>()
    };
    assert_eq!(json!(sum(|f| f.issued)), total["issued"]);
    assert_eq!(json!(sum(|f| f.called)), total["called"]);
    assert_eq!(json!(sum(|f| f.served)), total["served"]);
    assert_eq!(json!(sum(|f| f.no_shows)), total["no_shows"]);
    assert_eq!(json!(sum(|f| f.transfers)), total["transfers"]);
    assert_eq!(
        json!(sum(|f| f.ratings.iter().sum())),
        json!(
            city["ratings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_i64().unwrap())
                .sum::<i64>()
        )
    );
    assert!(by_service.iter().all(|r| r.figures.hall == "清河县"));
    assert!(
        by_service
            .iter()
            .filter(|r| r.figures.called > 0)
            .all(|r| r.figures.p90_wait_min.is_some())
    );
    let csv = jiaohao_city::reports::services_csv(&by_service);
    assert!(csv.starts_with("\u{feff}hall,service,issued,"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + by_service.len(), "{csv}");
    assert!(csv.contains("\r\n清河县,hukou,"), "{csv}");

    let bad = jiaohao_city::reports::bad_ratings(&client, from, to)
        .await
        .unwrap();
    assert!(!bad.is_empty());
    assert!(
        bad.iter()
            .all(|b| b.rating <= 2 && b.reason.as_deref() == Some("waiting"))
    );

    // A fold rebuilt from PostgreSQL (a restarted city) equals the one kept in memory.
    let rebuilt = jiaohao_city::ingest::load_fold(&client, hall, last_seq as u64)
        .await
        .unwrap();
    let events: Vec<jiaohao_core::Event> = records
        .iter()
        .map(|r| jiaohao_store::stored::event_from_json(&r.body).unwrap())
        .collect();
    let mut whole = jiaohao_city::HallFold::new();
    let _ =
        whole.fold(
            records
                .iter()
                .zip(&events)
                .map(|(r, event)| jiaohao_city::fold::FoldRecord {
                    seq: r.seq,
                    at: jiaohao_core::Millis(r.at_ms),
                    actor: &r.actor,
                    event,
                }),
        );
    assert_eq!(rebuilt.hall(), whole.hall());
    assert!(ingest.fold().is_none(), "the refused gap dropped the fold");
    hub.stop().await;
}

/// A rating logged on a later day (after the ticket's day has ended) changes the ticket's own
/// day in the city, not the day it arrived.
#[tokio::test]
async fn a_late_rating_changes_the_past_day_it_belongs_to() {
    use jiaohao_core::{Event, Hall, LocalDate, Millis, Rating, RatingReason};
    let _cluster = crate::support::shared_cluster().await;
    let Some((_url, mut client)) = database("late_rating").await else {
        return;
    };
    let scenario =
        jiaohao_sim::Scenario::parse(include_str!("../../jiaohao-sim/scenarios/county-hall.toml"))
            .unwrap();
    let options = jiaohao_sim::Options {
        check: false,
        estimates: false,
    };
    let day = |n: u8| LocalDate::new(2026, 3, n).unwrap();
    // Midnight in Asia/Shanghai of 2026-03-02 and the day after.
    let midnight = |n: i64| Millis(1_772_380_800_000 + (n - 2) * 86_400_000);
    let first = jiaohao_sim::simulate_logged_day(
        Hall::new(),
        day(2),
        midnight(2),
        &scenario,
        &jiaohao_sim::draw_day(&scenario, 0),
        jiaohao_sim::BenchPolicy::Hub,
        0,
        options,
    )
    .unwrap();
    // The simulated citizens rate some visits at the pad; the late rating is of one they did
    // not rate.
    let rated_on_the_day: std::collections::BTreeSet<_> = first
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::TicketRated { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    let very_dissatisfied = |events: &[(Millis, Event)]| {
        events
            .iter()
            .filter(|(_, e)| {
                matches!(
                    e,
                    Event::TicketRated {
                        rating: Rating::VeryDissatisfied,
                        ..
                    }
                )
            })
            .count() as i64
    };
    let (rated_id, rated_window) = first
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::TicketFinished { id, window, .. } if !rated_on_the_day.contains(id) => {
                Some((*id, *window))
            }
            _ => None,
        })
        .unwrap();
    let second = jiaohao_sim::simulate_logged_day(
        first.hall.clone(),
        day(3),
        midnight(3),
        &scenario,
        &jiaohao_sim::draw_day(&scenario, 1),
        jiaohao_sim::BenchPolicy::Hub,
        1,
        options,
    )
    .unwrap();
    let mut events = first.events.clone();
    let mut rest = second.events.clone();
    assert!(matches!(rest[0].1, Event::DayStarted { .. }));
    let at = rest[0].0;
    rest.insert(
        1,
        (
            at,
            Event::TicketRated {
                id: rated_id,
                window: rated_window,
                rating: Rating::VeryDissatisfied,
                reason: Some(RatingReason::Attitude),
            },
        ),
    );
    events.extend(rest);
    let records: Vec<jiaohao_city::Incoming> = events
        .iter()
        .enumerate()
        .map(|(i, (at, e))| jiaohao_city::Incoming::from_event(i as u64 + 1, *at, "sim", e))
        .collect();
    let (hall, _dir, _key) = add_hall(&client, "西城区", "http://127.0.0.1:9", "t").await;
    let mut ingest = HallIngest::new(hall);
    for batch in records.chunks(500) {
        ingest.ingest(&mut client, batch).await.unwrap();
    }
    let row = client
        .query_one(
            "SELECT day::text, rating, rating_reason FROM tickets WHERE hall = $1 AND ticket = $2",
            &[&hall, &(rated_id.0 as i64)],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "2026-03-02");
    assert_eq!(row.get::<_, Option<i16>>(1), Some(1));
    assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some("attitude"));
    let report = |from: &str| {
        let (f, t) = jiaohao_city::reports::parse_range(from, from).unwrap();
        (f, t)
    };
    let (f, t) = report("2026-03-02");
    let first_day = jiaohao_city::reports::across_halls(&client, f, t)
        .await
        .unwrap();
    assert_eq!(
        first_day[0].ratings[4],
        very_dissatisfied(&first.events) + 1
    );
    let (f, t) = report("2026-03-03");
    let second_day = jiaohao_city::reports::across_halls(&client, f, t)
        .await
        .unwrap();
    assert_eq!(second_day[0].ratings[4], very_dissatisfied(&second.events));
    assert!(second_day[0].issued > 0);
}

/// A hall whose standby took over logs a `promoted` record (a store record, no hall event):
/// the city keeps it under its number, and its fold, from memory or rebuilt from PostgreSQL,
/// skips it as the hub's does, so the records after it keep coming.
#[tokio::test]
async fn a_take_over_in_the_hall_is_kept_and_skipped_by_the_fold() {
    let _cluster = crate::support::shared_cluster().await;
    let Some((_url, mut client)) = database("take_over").await else {
        return;
    };
    let hub = TestHub::start().await;
    traffic(&hub).await;
    let mut records = hub_records(&hub.db, 0);
    let (hall, _dir, _key) = add_hall(&client, "清河县", &hub.url(), "token").await;
    let last = records.last().unwrap().clone();
    records.push(jiaohao_city::Incoming {
        seq: last.seq + 1,
        term: 2,
        kind: jiaohao_store::PROMOTED_KIND.to_owned(),
        body: jiaohao_store::promoted_body(2),
        ..last
    });
    let mut ingest = HallIngest::new(hall);
    let written = ingest.ingest(&mut client, &records).await.unwrap();
    assert_eq!(written.records, records.len());
    assert_eq!(written.last_seq, last.seq + 1);
    let kept: String = client
        .query_one(
            "SELECT kind FROM records WHERE hall = $1 AND seq = $2",
            &[&hall, &((last.seq + 1) as i64)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, "promoted");
    let in_memory = ingest.fold().expect("the fold after the batch").last_seq();
    let rebuilt = jiaohao_city::ingest::load_fold(&client, hall, last.seq + 1)
        .await
        .expect("a fold rebuilt from PostgreSQL across the promotion");
    assert_eq!(in_memory, last.seq + 1);
    assert_eq!(rebuilt.last_seq(), in_memory);
    hub.stop().await;
}
