//! Running the hub as a service: the Prometheus `/metrics` scrape after real traffic, and a
//! graceful shutdown that tells stream subscribers and leaves a clean database.

use std::sync::Arc;
use std::time::Duration;

use jiaohao_client::Client;
use jiaohao_hub::{HubConfig, ManualClock, hall_file};
use jiaohao_store::Role;

use crate::support::{Events, MORNING, TestHub, WAIT, at, scrape};

#[tokio::test]
async fn metrics_count_what_the_hall_did() {
    let hub = TestHub::start().await;
    let before = scrape(&hub.public).await;
    assert_eq!(
        before["jiaohao_tickets_issued_total{service=\"hukou\"}"],
        0.0
    );
    assert_eq!(before["jiaohao_call_next_duration_seconds_count"], 0.0);
    assert_eq!(before["jiaohao_sse_subscribers"], 0.0);

    for _ in 0..3 {
        hub.issue("hukou").await;
    }
    hub.issue("exit_entry").await;
    hub.open(3).await;
    hub.call_next(3).await;
    hub.clerk3.ticket_action(3, "finish").await.unwrap();
    hub.call_next(3).await;
    let mut events = hub.events(None).await;
    events.until("snapshot").await;

    let after = scrape(&hub.public).await;
    let service = |name: &str, code: &str| after[&format!("{name}{{service=\"{code}\"}}")];
    assert_eq!(service("jiaohao_tickets_issued_total", "hukou"), 3.0);
    assert_eq!(service("jiaohao_tickets_issued_total", "exit_entry"), 1.0);
    assert_eq!(service("jiaohao_tickets_served_total", "hukou"), 1.0);
    assert_eq!(service("jiaohao_tickets_waiting", "hukou"), 1.0);
    assert_eq!(service("jiaohao_tickets_waiting", "exit_entry"), 1.0);
    assert_eq!(service("jiaohao_tickets_waiting", "vehicle"), 0.0);
    // Window 3 serves hukou and is open: the next hukou ticket has a projected wait.
    assert!(service("jiaohao_projected_wait_seconds", "hukou") > 0.0);
    assert_eq!(after["jiaohao_call_next_duration_seconds_count"], 2.0);
    assert_eq!(
        after["jiaohao_call_next_duration_seconds_bucket{le=\"+Inf\"}"],
        2.0
    );
    assert!(after["jiaohao_call_next_duration_seconds_sum"] > 0.0);
    // Four tickets, an open, two calls and a finish: each its own commit at least.
    assert!(after["jiaohao_commit_duration_seconds_count"] >= 8.0);
    // Each was answered only after a sync of the WAL that began after its commit: one request
    // at a time, so a sync each.
    assert!(after["jiaohao_sync_duration_seconds_count"] >= 8.0);
    assert!(after["jiaohao_sync_duration_seconds_sum"] > 0.0);
    assert_eq!(after["jiaohao_sse_subscribers"], 1.0);
    drop(events);

    // The subscriber leaves once the hub notices the closed connection.
    let left = async {
        loop {
            if scrape(&hub.public).await["jiaohao_sse_subscribers"] == 0.0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, left)
        .await
        .expect("the subscriber gauge falls back to 0");
    hub.stop().await;
}

#[tokio::test]
async fn shutdown_tells_subscribers_and_closes_a_clean_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let kiosk = jiaohao_hub::cli::create_token(&db, Role::Kiosk, None, "kiosk").unwrap();
    let config = HubConfig {
        seed: hall_file::parse(hall_file::DEFAULT_HALL).unwrap(),
        clock: Arc::new(ManualClock::new(at(MORNING))),
        // The kiosks below issue as fast as the hub answers.
        limits: jiaohao_hub::limits::LimitConfig {
            tickets: None,
            ..Default::default()
        },
        ..HubConfig::new(db.clone())
    };
    let running = jiaohao_hub::spawn("127.0.0.1:0", config).await.unwrap();
    let url = running.url();
    let kiosk = Client::new(&url).with_token(kiosk);
    let mut numbers = Vec::new();
    for _ in 0..5 {
        numbers.push(
            kiosk
                .issue_ticket("hukou", false, None)
                .await
                .unwrap()
                .number,
        );
    }
    let mut events = Events::open(&Client::new(&url), None).await;
    events.until("snapshot").await;

    // Kiosks keep issuing while the hub stops: each until the hub no longer takes requests.
    let mut kiosks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let kiosk = kiosk.clone();
        kiosks.spawn(async move {
            let mut acknowledged = Vec::new();
            loop {
                match kiosk.issue_ticket("id_card", false, None).await {
                    Ok(ticket) => acknowledged.push(ticket.number),
                    Err(error) => return (acknowledged, error),
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = tokio::spawn(running.stop());
    let goodbye = events.until("shutdown").await;
    assert_eq!(goodbye.data, "{}");
    assert!(
        events.ends().await,
        "the stream ends after its shutdown event"
    );
    tokio::time::timeout(WAIT, stopping)
        .await
        .expect("the hub stops in time")
        .unwrap()
        .expect("the hub stops cleanly");
    let mut acknowledged = 0;
    while let Some(kiosk) = kiosks.join_next().await {
        let (numbers, error) = kiosk.unwrap();
        acknowledged += numbers.len();
        // A request the hub accepted was answered; later ones found no hub to talk to.
        assert!(
            error.status().is_none(),
            "a request in flight was answered with an error: {error}"
        );
    }
    assert!(acknowledged > 0, "the kiosks issued while the hub ran");

    // Nothing listens any more.
    assert!(Client::new(&url).health().await.is_err());
    // The writer checkpointed the log into the file before closing (and removed it when it
    // was the last connection).
    let wal = dir.path().join("hall.sqlite-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "the WAL was checkpointed"
    );
    let connection = rusqlite::Connection::open(&db).unwrap();
    let check: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(connection);

    // Every acknowledged ticket is in the log a new hub folds.
    let config = HubConfig {
        clock: Arc::new(ManualClock::new(at(MORNING))),
        ..HubConfig::new(db.clone())
    };
    let running = jiaohao_hub::spawn("127.0.0.1:0", config).await.unwrap();
    let hall = Client::new(running.url()).hall().await.unwrap();
    let hukou = hall
        .services
        .iter()
        .find(|s| s.def.code == "hukou")
        .unwrap();
    assert_eq!(hukou.issued_today, 5);
    assert_eq!(hukou.waiting, 5);
    // Every ticket a kiosk was given is in the log; none that it was not given.
    let id_card = hall
        .services
        .iter()
        .find(|s| s.def.code == "id_card")
        .unwrap();
    assert_eq!(id_card.issued_today as usize, acknowledged);
    running.stop().await.unwrap();
}
