//! The stream follower against a real hub's `GET /api/replication` with an `ingest` token:
//! live records reach PostgreSQL and the board, a hall unreachable for a while catches up,
//! a revoked token shows on the board's page.

use std::time::{Duration, Instant};

use futures_util::FutureExt;

use jiaohao_city::board::LiveHalls;
use jiaohao_city::halls;
use jiaohao_testkit::TestHub;
use reqwest::Method;
use tokio::sync::watch;
use tokio_postgres::Client;

use crate::support::{add_hall, city_serve, database, hub_last_seq, ingest_token, shared_cluster};

async fn state_of(client: &Client, hall: i32) -> (String, i64) {
    let row = client
        .query_one("SELECT state, last_seq FROM halls WHERE id = $1", &[&hall])
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// The city's live hall equals the hall's own `GET /api/hall` at the same sequence number:
/// the waiting count and the projected wait of every service, and the longest projected wait
/// against its target the board sorts and colours by. Waits until the city has folded up to
/// the view's sequence number first.
async fn assert_live_is_the_halls_own(live: &LiveHalls, hall: i32, hub: &TestHub) {
    let view = hub.hall().await;
    wait_until(
        "the live hall at the view's sequence number",
        Duration::from_secs(15),
        || async { live.get(hall).is_some_and(|l| l.seq == view.seq) },
    )
    .await;
    let city = live.get(hall).unwrap();
    let mut own: Vec<(String, u32, Option<u32>, u32)> = view
        .services
        .iter()
        .filter(|s| s.def.enabled)
        .map(|s| {
            (
                s.def.code.clone(),
                s.waiting,
                s.estimated_wait_min,
                s.def.wait_target_min,
            )
        })
        .collect();
    let mut folded: Vec<(String, u32, Option<u32>, u32)> = city
        .services
        .iter()
        .map(|s| {
            (
                s.code.clone(),
                s.waiting as u32,
                s.projected_wait_min,
                s.target_min,
            )
        })
        .collect();
    own.sort();
    folded.sort();
    assert_eq!(
        folded, own,
        "the city's services against the hall's own at seq {}",
        view.seq
    );
    assert_eq!(
        city.waiting as u32,
        own.iter().map(|s| s.1).sum::<u32>(),
        "waiting in all"
    );
    assert_eq!(
        city.open_windows,
        view.windows.iter().filter(|w| w.state != "closed").count()
    );
    // The longest projected wait against target, from the hall's own figures.
    let ratio = |wait: u32, target: u32| f64::from(wait) / f64::from(target.max(1));
    let highest = own
        .iter()
        .filter_map(|s| s.2.map(|wait| ratio(wait, s.3)))
        .max_by(f64::total_cmp);
    match highest {
        None => assert_eq!(
            (
                city.longest_wait_min,
                city.longest_target_min,
                city.pressure
            ),
            (None, None, None)
        ),
        Some(highest) => {
            let (wait, target) = (
                city.longest_wait_min.expect("a longest wait"),
                city.longest_target_min.expect("its target"),
            );
            assert!(
                own.iter().any(|s| s.2 == Some(wait) && s.3 == target),
                "the board's longest wait {wait} of {target} is one of the hall's own: {own:?}"
            );
            assert_eq!(ratio(wait, target), highest, "{own:?}");
            assert_eq!(city.pressure, Some((highest * 100.0).round() / 100.0));
        }
    }
}

/// Waits (at most `limit`) until `check` holds, and says what it waited for if not.
async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_city_follows_a_hall_live_and_catches_up_after_it_was_unreachable() {
    let _cluster = shared_cluster().await;
    let Some((url, client)) = database("follow_live").await else {
        return;
    };
    let mut hub = TestHub::start().await;
    let (hall, _dir, key) = add_hall(&client, "清河县", &hub.url(), &ingest_token(&hub)).await;
    let entry = halls::list(&client).await.unwrap().remove(0);
    let live = LiveHalls::default();
    let (stop_tx, stop) = watch::channel(false);
    let follower = tokio::spawn(jiaohao_city::follower::follow(
        url.clone(),
        entry,
        key.clone(),
        live.clone(),
        stop,
    ));
    hub.open(1).await;
    for service in ["hukou", "hukou", "id_card"] {
        hub.issue(service).await;
    }
    hub.call_next(1).await;
    let target = hub_last_seq(&hub) as i64;
    wait_until(
        "the city to hold every record",
        Duration::from_secs(10),
        || async { state_of(&client, hall).await == ("connected".into(), target) },
    )
    .await;
    // The live state is the hall's own: the same waiting count, window 1 serving.
    wait_until("the live hall", Duration::from_secs(10), || async {
        live.get(hall).is_some_and(|l| l.waiting == 2)
    })
    .await;
    let now = live.get(hall).unwrap();
    assert_eq!(now.open_windows, 1);
    assert!(
        now.windows
            .iter()
            .any(|w| w.number == 1 && w.state == "serving")
    );
    assert!(
        now.services
            .iter()
            .any(|s| s.code == "hukou" && s.waiting >= 1)
    );
    // A second window (hukou and exit_entry): the services wait differently, projected alike.
    hub.open(2).await;
    assert_live_is_the_halls_own(&live, hall, &hub).await;
    let projected: Vec<u32> = live
        .get(hall)
        .unwrap()
        .services
        .iter()
        .filter_map(|s| s.projected_wait_min)
        .collect();
    assert!(
        projected.iter().any(|&m| m > 0),
        "some projected wait to compare: {projected:?}"
    );

    // The hall goes away; the board says so; it comes back with more records, which arrive.
    hub.halt().await;
    wait_until(
        "the hall to show as unreachable",
        Duration::from_secs(30),
        || async { state_of(&client, hall).await.0 == "unreachable" },
    )
    .await;
    hub.start_again().await;
    hub.issue("vehicle").await;
    hub.issue("vehicle").await;
    let target = hub_last_seq(&hub) as i64;
    wait_until("the city to catch up", Duration::from_secs(40), || async {
        state_of(&client, hall).await == ("connected".into(), target)
    })
    .await;
    let (count, max): (i64, i64) = {
        let row = client
            .query_one(
                "SELECT count(*), max(seq) FROM records WHERE hall = $1",
                &[&hall],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((count, max), (target, target));
    assert_live_is_the_halls_own(&live, hall, &hub).await;
    stop_tx.send(true).unwrap();
    follower.await.unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn a_token_revoked_at_a_running_hall_shows_on_the_city_board() {
    let _cluster = shared_cluster().await;
    let Some((url, client)) = database("revoked").await else {
        return;
    };
    let hub = TestHub::start().await;
    let (hall, _dir, key) = add_hall(&client, "东城分局", &hub.url(), &ingest_token(&hub)).await;
    // A hall no one answers for (nothing listens on the port of a listener just dropped).
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let away = halls::add(&client, &key, "西城分局", &gone, "some-token")
        .await
        .unwrap();
    jiaohao_city::users::add(
        &client,
        "chief",
        jiaohao_city::users::CityRole::Viewer,
        "a-long-password-1",
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
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
    wait_until("the city to connect", Duration::from_secs(10), || async {
        state_of(&client, hall).await.0 == "connected"
    })
    .await;

    // Revoke the city's token at the hall.
    let tokens: Vec<jiaohao_wire::TokenInfo> = hub
        .admin
        .request(Method::GET, "/api/tokens")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = tokens.iter().find(|t| t.role == "ingest").unwrap().id;
    let response = hub
        .admin
        .request(Method::DELETE, &format!("/api/tokens/{id}"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    // The hall keeps running: it cuts the open stream itself, and the city's next request is
    // refused.
    wait_until(
        "the refused token on the board",
        Duration::from_secs(15),
        || async { state_of(&client, hall).await.0 == "token_refused" },
    )
    .await;

    // The hall away: the board says for how long, beside since when. Its link went down
    // 2 h 15 min ago (moved back in PostgreSQL: the follower keeps the time while the state
    // stays).
    wait_until(
        "the hall away to show as unreachable",
        Duration::from_secs(15),
        || async { state_of(&client, away).await.0 == "unreachable" },
    )
    .await;
    client
        .execute(
            "UPDATE halls SET state_since = now() - interval '2 hours 15 minutes 20 seconds' WHERE id = $1",
            &[&away],
        )
        .await
        .unwrap();

    // The board's page, signed in, says so in words.
    let web = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{addr}");
    let unsigned = web.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(unsigned.status(), 303);
    let login = web
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=chief&password=a-long-password-1&next=%2F")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let cookie = login
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = web
        .get(format!("{base}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("东城分局"), "{html}");
    assert!(html.contains("令牌被拒绝"), "{html}");
    let since: String = client
        .query_one(
            "SELECT to_char(state_since AT TIME ZONE timezone, 'YYYY-MM-DD HH24:MI') FROM halls WHERE id = $1",
            &[&away],
        )
        .await
        .unwrap()
        .get(0);
    let row = html
        .split("<tr>")
        .find(|row| row.contains("西城分局"))
        .expect("the hall away has a row");
    for words in [
        "已断开 2 小时 15 分",
        "Down for 2 h 15 min",
        &format!("{since} 起"),
        &format!("since {since}"),
    ] {
        assert!(row.contains(words), "'{words}' in {row}");
    }
    let board: serde_json::Value = web
        .get(format!("{base}/api/board"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = |name: &str| {
        board
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(link("东城分局")["link"], "token_refused");
    let away_row = link("西城分局");
    assert_eq!(away_row["link"], "unreachable");
    let down_s = away_row["link_for_s"].as_i64().unwrap();
    assert!((8120..8180).contains(&down_s), "{away_row}");
    // A viewer does not register halls.
    let admin = web
        .get(format!("{base}/admin/halls"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 403);
    for path in [
        "/reports?from=2026-11-23&to=2026-11-23",
        "/ratings",
        "/reports.csv?from=2026-11-23&to=2026-11-23",
        "/reports/services.csv?from=2026-11-23&to=2026-11-23",
    ] {
        let response = web
            .get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.unwrap();
        if path.starts_with("/reports?") {
            assert!(text.contains(r#"<table id="by-service">"#), "{text}");
        }
        if path.starts_with("/reports/services.csv") {
            assert!(text.starts_with("\u{feff}hall,service,"), "{text}");
        }
    }
    stop_tx.send(true).unwrap();
    service.await.unwrap().unwrap();
    hub.stop().await;
}

/// `kill -9` of `jiaohao-city serve` while it catches up with a hall's log, then a restart:
/// the hall's sequence in PostgreSQL ends complete, nothing twice.
#[tokio::test]
async fn a_city_service_killed_while_catching_up_resumes_complete() {
    let _cluster = shared_cluster().await;
    let Some((url, client)) = database("serve_kill9").await else {
        return;
    };
    let hub = TestHub::start().await;
    hub.open(1).await;
    // A log of a couple of thousand records: tickets up to the services' caps, and pauses.
    let mut requests = Vec::new();
    for (service, count) in [("hukou", 300), ("id_card", 400), ("vehicle", 250)] {
        for _ in 0..count {
            requests.push(hub.kiosk.issue_ticket(service, false, None).boxed());
        }
    }
    while !requests.is_empty() {
        let chunk: Vec<_> = requests.drain(..requests.len().min(25)).collect();
        for result in futures_util::future::join_all(chunk).await {
            result.unwrap();
        }
    }
    drop(requests);
    for _ in 0..400 {
        hub.admin.pause(1, "休息").await.unwrap();
        hub.admin.window_action(1, "resume").await.unwrap();
    }
    let target = hub_last_seq(&hub) as i64;
    assert!(target > 1500, "{target} records");
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("city.key");
    let key = jiaohao_city::KeyFile::open_or_create(&key_path).unwrap();
    let hall = halls::add(&client, &key, "清河县", &hub.url(), &ingest_token(&hub))
        .await
        .unwrap();
    let serve = || {
        city_serve(&url, &key_path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut city = serve();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut at_kill = 0;
    while Instant::now() < deadline {
        at_kill = state_of(&client, hall).await.1;
        if at_kill > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    city.kill().unwrap(); // SIGKILL
    city.wait().unwrap();
    let after_kill = state_of(&client, hall).await.1;
    assert!(
        at_kill > 0 && after_kill < target,
        "killed with {at_kill}..{after_kill} of {target} records in PostgreSQL: not midway"
    );
    let mut city = serve();
    wait_until(
        "the restarted city to catch up",
        Duration::from_secs(30),
        || async { state_of(&client, hall).await.1 == target },
    )
    .await;
    city.kill().unwrap();
    city.wait().unwrap();
    let row = client
        .query_one(
            "SELECT count(*), max(seq), count(DISTINCT seq) FROM records WHERE hall = $1",
            &[&hall],
        )
        .await
        .unwrap();
    let (count, max, distinct): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((count, max, distinct), (target, target, target));
    let tickets: i64 = client
        .query_one("SELECT count(*) FROM tickets WHERE hall = $1", &[&hall])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tickets, 950);
    hub.stop().await;
}
