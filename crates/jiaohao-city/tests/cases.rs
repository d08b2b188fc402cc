//! 差评 cases in the city: a case opened by a bad rating and worked a week later changes the
//! figures of the past day it was rated on, and the city's case figures equal the hall's own.

use jiaohao_city::HallIngest;
use jiaohao_testkit::TestHub;
use reqwest::Method;
use serde_json::json;

use crate::support::{add_hall, database, hub_records};

/// Rates the ticket just finished at a window badly, from the tablet.
async fn rate_badly(hub: &TestHub, window: u16, number: &str) {
    // At the window (an admin may rate there, as the window's paired pad does).
    let response = hub
        .admin
        .request(Method::POST, &format!("/api/windows/{window}/rating"))
        .json(
            &json!({"number": number, "rating": "very_dissatisfied", "reason": "attitude",
            "callback_phone": "13800138000"}),
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

async fn step(hub: &TestHub, case: u64, what: &str, body: serde_json::Value) {
    let response = hub
        .admin
        .request(Method::POST, &format!("/api/cases/{case}/{what}"))
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

/// The hall's own case figures of a day (the whole-hall row).
async fn hall_figures(hub: &TestHub, day: &str) -> serde_json::Value {
    let report = crate::support::hall_report(hub, day).await;
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["window"].is_null())
        .cloned()
        .unwrap_or(json!({"cases": 0, "called_back": 0, "fixed_in_time": 0,
            "callback_pct": null, "fixed_in_time_pct": null}))
}

async fn city_figures(client: &tokio_postgres::Client, day: &str) -> serde_json::Value {
    let (from, to) = jiaohao_city::reports::parse_range(day, day).unwrap();
    let rows = jiaohao_city::reports::across_halls(client, from, to)
        .await
        .unwrap();
    serde_json::to_value(&rows[0]).unwrap()
}

fn assert_equal(city: &serde_json::Value, hall: &serde_json::Value) {
    for (city_field, hall_field) in [
        ("cases", "cases"),
        ("cases_called_back", "called_back"),
        ("cases_fixed_in_time", "fixed_in_time"),
        ("callback_pct", "callback_pct"),
        ("fixed_in_time_pct", "fixed_in_time_pct"),
    ] {
        assert_eq!(
            city[city_field], hall[hall_field],
            "{city_field}: city {city} hall {hall}"
        );
    }
}

#[tokio::test]
async fn a_case_worked_a_week_later_changes_its_past_day_as_the_hall_counts_it() {
    let _cluster = crate::support::shared_cluster().await;
    let Some((_url, mut client)) = database("cases").await else {
        return;
    };
    let hub = TestHub::start().await;
    hub.open(3).await;
    let mut numbers = Vec::new();
    for minute in 0..3 {
        hub.set_time(&format!("2026-11-23T09:{minute:02}:00+08:00"));
        hub.issue("hukou").await;
        let called = hub.call_next(3).await;
        hub.admin.ticket_action(3, "finish").await.unwrap();
        rate_badly(&hub, 3, &called.number).await;
        numbers.push(called.number);
    }
    let (hall, _dir, _key) = add_hall(&client, "清河县", &hub.url(), "token").await;
    let mut ingest = HallIngest::new(hall);
    let records = hub_records(&hub.db, 0);
    let mut last = ingest.ingest(&mut client, &records).await.unwrap().last_seq;
    // The callback phone is kept beside the log, never in it: the city never sees it.
    assert!(records.iter().all(|r| !r.body.contains("13800138000")));
    let before = city_figures(&client, "2026-11-23").await;
    assert_eq!(
        (
            before["cases"].as_i64(),
            before["cases_called_back"].as_i64()
        ),
        (Some(3), Some(0))
    );
    assert_equal(&before, &hall_figures(&hub, "2026-11-23").await);

    // The case ids, from the hall's list.
    let list: serde_json::Value = hub
        .admin
        .request(Method::GET, "/api/cases")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<u64> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    // Two days later one case is worked to closed, in time (due 2026-11-30).
    hub.set_time("2026-11-25T10:00:00+08:00");
    step(&hub, ids[0], "callback", json!({"note": "已回访"})).await;
    step(&hub, ids[0], "fix", json!({"fix": "已整改"})).await;
    step(&hub, ids[0], "close", json!({})).await;
    // A week later another is called back and fixed, late.
    hub.set_time("2026-12-01T10:00:00+08:00");
    step(&hub, ids[1], "callback", json!({"note": "已回访"})).await;
    step(&hub, ids[1], "fix", json!({"fix": "已整改"})).await;
    let more = hub_records(&hub.db, last);
    assert!(!more.is_empty());
    last = ingest.ingest(&mut client, &more).await.unwrap().last_seq;

    let after = city_figures(&client, "2026-11-23").await;
    let own = hall_figures(&hub, "2026-11-23").await;
    assert_eq!(
        (
            after["cases"].as_i64(),
            after["cases_called_back"].as_i64(),
            after["cases_fixed_in_time"].as_i64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_equal(&after, &own);
    // The days of the steps have no cases of their own.
    assert_eq!(city_figures(&client, "2026-12-01").await["cases"], 0);

    // The bad ratings page's rows carry each case's state.
    let (from, to) = jiaohao_city::reports::parse_range("2026-11-23", "2026-11-23").unwrap();
    let bad = jiaohao_city::reports::bad_ratings(&client, from, to)
        .await
        .unwrap();
    let mut states: Vec<&str> = bad.iter().filter_map(|b| b.case_state.as_deref()).collect();
    states.sort();
    assert_eq!(states, ["closed", "fixed", "open"]);
    // The open one is past its due date by now (the city's clock is long after 2026-11-30).
    assert!(
        bad.iter()
            .any(|b| b.case_state.as_deref() == Some("open") && b.case_overdue)
    );
    assert!(
        bad.iter()
            .all(|b| b.case_due.as_deref() == Some("2026-11-30"))
    );

    // A fold rebuilt from PostgreSQL (a restarted city) still holds the cases.
    let rebuilt = jiaohao_city::ingest::load_fold(&client, hall, last)
        .await
        .unwrap();
    assert_eq!(rebuilt.hall().registry().cases.len(), 3);
    hub.stop().await;
}
