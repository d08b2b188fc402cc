//! A running `serve` picks up halls registered or changed by the CLI in another process,
//! without a restart (the supervisor re-reads the halls table every few seconds).

use std::time::{Duration, Instant};

use jiaohao_testkit::TestHub;
use tokio::sync::watch;
use tokio_postgres::Client;

use crate::support::{database, hall_to_follow, shared_cluster};

async fn state_of(client: &Client, name: &str) -> Option<(String, i64)> {
    client
        .query_opt(
            "SELECT state, last_seq FROM halls WHERE name = $1",
            &[&name],
        )
        .await
        .unwrap()
        .map(|row| (row.get(0), row.get(1)))
}

async fn wait_for_state(client: &Client, name: &str, want: (&str, i64), limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let now = state_of(client, name).await;
        if now
            .as_ref()
            .is_some_and(|(state, seq)| state == want.0 && (want.1 < 0 || *seq == want.1))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited {limit:?} for {name} to be {want:?}; it is {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the CLI; its standard output.
fn city_cli(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_jiaohao-city"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "jiaohao-city {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_running_service_follows_a_hall_added_and_a_token_changed_with_the_cli() {
    let _cluster = shared_cluster().await;
    let Some((url, client)) = database("pickup").await else {
        return;
    };
    let (hub, target, right) = hall_to_follow().await;

    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("city.key");
    let key = std::sync::Arc::new(jiaohao_city::KeyFile::open_or_create(&key_path).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop_tx, mut stop) = watch::channel(false);
    let service = tokio::spawn({
        let url = url.clone();
        async move {
            jiaohao_city::serve::run(&url, key, listener, async move {
                let _ = stop.changed().await;
            })
            .await
        }
    });

    // Registered with a wrong token while the service runs: followed, and refused.
    let key_arg = key_path.to_str().unwrap();
    let hub_url = hub.url();
    city_cli(&[
        "hall",
        "add",
        "--postgres",
        &url,
        "--key-file",
        key_arg,
        "--name",
        "清河县",
        "--url",
        &hub_url,
        "--token",
        "not-the-token",
    ]);
    wait_for_state(
        &client,
        "清河县",
        ("token_refused", -1),
        Duration::from_secs(20),
    )
    .await;
    // The right token given with the CLI: followed anew at once, not after the follower's
    // 30 s pause for a refused token, and every record arrives.
    let changed = Instant::now();
    let said = city_cli(&[
        "hall",
        "token",
        "--postgres",
        &url,
        "--key-file",
        key_arg,
        "--name",
        "清河县",
        "--token",
        &right,
    ]);
    // It says what happens: the running service follows with it shortly, no restart needed.
    assert!(
        said.contains("within 3 s") && !said.contains("restart"),
        "{said}"
    );
    wait_for_state(
        &client,
        "清河县",
        ("connected", target),
        Duration::from_secs(20),
    )
    .await;
    assert!(
        changed.elapsed() < Duration::from_secs(20),
        "picked up after {:?}",
        changed.elapsed()
    );

    stop_tx.send(true).unwrap();
    service.await.unwrap().unwrap();
    hub.stop().await;
}

/// Each hall's times on the pages are on its own clock: a hall set to Asia/Urumqi (UTC+6)
/// shows its last record two hours before one on Asia/Shanghai (UTC+8) at the same instant.
#[tokio::test]
async fn the_board_shows_each_halls_times_in_its_own_time_zone() {
    let _cluster = shared_cluster().await;
    let Some((url, client)) = database("zones").await else {
        return;
    };
    let shanghai = TestHub::start().await;
    let urumqi = TestHub::start().await;
    // Tickets first (at 07:00 in Urumqi the services are not open yet), then the zone: the
    // change of settings is the hall's last record.
    shanghai.issue("hukou").await;
    urumqi.issue("hukou").await;
    let mut settings: jiaohao_wire::HallSettings = urumqi
        .admin
        .request(reqwest::Method::GET, "/api/hall/settings")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings.timezone = "Asia/Urumqi".into();
    let put = urumqi
        .admin
        .request(reqwest::Method::PUT, "/api/hall/settings")
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let key = jiaohao_city::KeyFile::open_or_create(&dir.path().join("city.key")).unwrap();
    for (hub, name) in [(&shanghai, "上海时区厅"), (&urumqi, "乌鲁木齐时区厅")] {
        let token = crate::support::ingest_token(hub);
        jiaohao_city::halls::add(&client, &key, name, &hub.url(), &token)
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop_tx, mut stop) = watch::channel(false);
    let service = tokio::spawn({
        let url = url.clone();
        let key = std::sync::Arc::new(key);
        async move {
            jiaohao_city::serve::run(&url, key, listener, async move {
                let _ = stop.changed().await;
            })
            .await
        }
    });
    for (hub, name) in [(&shanghai, "上海时区厅"), (&urumqi, "乌鲁木齐时区厅")] {
        let target = jiaohao_store::Store::open_read_only(&hub.db)
            .unwrap()
            .last_seq()
            .unwrap() as i64;
        wait_for_state(
            &client,
            name,
            ("connected", target),
            Duration::from_secs(20),
        )
        .await;
    }
    let board = jiaohao_city::board::board(&client, &Default::default())
        .await
        .unwrap();
    let row = |name: &str| board.iter().find(|r| r.name == name).unwrap().clone();
    let (east, west) = (row("上海时区厅"), row("乌鲁木齐时区厅"));
    assert_eq!(east.timezone, "Asia/Shanghai");
    assert_eq!(west.timezone, "Asia/Urumqi");
    assert_eq!(east.last_record_at.as_deref(), Some("2026-11-23 09:00:00"));
    assert_eq!(west.last_record_at.as_deref(), Some("2026-11-23 07:00:00"));
    stop_tx.send(true).unwrap();
    service.await.unwrap().unwrap();
    shanghai.stop().await;
    urumqi.stop().await;
}
