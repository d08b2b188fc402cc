//! The hall's clock over HTTP: `GET /api/hall` and the stream's snapshot carry the hub's clock
//! of the moment they are made (`clock: {now, speed}`), so clients show the hall's time (a
//! simulated day's too) and not their machine's; the views made once per change do not.

use std::sync::Arc;
use std::time::Duration;

use jiaohao::simulate::SimClock;
use jiaohao_client::Client;
use jiaohao_hub::{HubConfig, hall_file};
use jiaohao_wire::TimedHallView;

use crate::support::{TestHub, at};

#[tokio::test]
async fn the_hall_answer_carries_the_hubs_clock_made_at_request_time() {
    let hub = TestHub::start().await;
    let answer: serde_json::Value = hub
        .public
        .request(reqwest::Method::GET, "/api/hall")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["clock"],
        serde_json::json!({"now": "2026-11-23T09:00:00+08:00", "speed": 0.0}),
        "the test hub's clock stands at 09:00 in the hall's zone"
    );
    // The view itself is unchanged beside it.
    assert_eq!(answer["services"].as_array().map(Vec::len), Some(5));

    // The published view is not made again when the clock moves; the answer's clock is.
    hub.set_time("2026-11-23T10:30:00+08:00");
    let (view, time) = hub.public.timed_hall().await.unwrap();
    let time = time.expect("a clock");
    assert_eq!(time.now(), at("2026-11-23T10:30:00+08:00"));
    assert_eq!(time.speed(), 0.0);
    assert_eq!(view, hub.hall().await);
    hub.stop().await;
}

#[tokio::test]
async fn the_snapshot_carries_the_clock_of_subscribe_time_and_changes_do_not() {
    let hub = TestHub::start().await;
    hub.set_time("2026-11-23T11:15:00+08:00");
    let mut events = hub.events(None).await;
    let snapshot = events.next().await;
    assert_eq!(snapshot.event, "snapshot");
    let timed: TimedHallView = snapshot.json().unwrap();
    let clock = timed.clock.expect("the snapshot has the hall's clock");
    assert_eq!(clock.now, "2026-11-23T11:15:00+08:00");
    assert_eq!(timed.view, hub.hall().await);

    hub.issue("hukou").await;
    let changed = events.until("hall_changed").await;
    let timed: TimedHallView = changed.json().unwrap();
    assert_eq!(
        timed.clock, None,
        "a view made once for every subscriber has no clock"
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_clock_tells_its_speed_and_clients_extrapolate_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SimClock::new(at("2026-11-23T08:27:00+08:00"), 60.0));
    let config = HubConfig {
        seed: hall_file::parse(hall_file::DEFAULT_HALL).unwrap(),
        clock,
        ..HubConfig::new(dir.path().join("hall.sqlite"))
    };
    let hub = jiaohao_hub::spawn("127.0.0.1:0", config).await.unwrap();
    let (_, time) = Client::new(hub.url()).timed_hall().await.unwrap();
    let time = time.expect("a clock");
    assert_eq!(time.speed(), 60.0);
    let first = time.now();
    let start = at("2026-11-23T08:27:00+08:00");
    assert!(first >= start, "{first}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Half a real second is half a minute of the hall's.
    let moved = time.now().duration_since(first);
    assert!(
        moved >= jiff::SignedDuration::from_secs(29) && moved < jiff::SignedDuration::from_secs(60),
        "{moved:?}"
    );
    // And the next minute of the hall's clock comes within a real second.
    assert!(time.until_next_minute().unwrap() <= Duration::from_millis(1100));
    hub.stop().await.unwrap();
}
