//! Two real hubs on loopback: a standby that follows its primary's log (from zero, from a
//! backup, across a cut link), refuses changes while it follows, stops on another history,
//! and takes over when promoted with everything the hall needs (tokens, users, sessions).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiaohao_client::Client;
use jiaohao_hub::standby::FollowConfig;
use jiaohao_hub::{HubConfig, RunningHub};
use jiaohao_store::{Role, Store};
use jiaohao_wire as wire;
use reqwest::Method;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::support::{TestHub, WAIT, send, send_json, test_limits};

/// A standby of `primary` (reached at `via`, the primary's own address unless a proxy sits
/// between) over the database file `db`.
async fn standby(primary: &TestHub, via: &str, db: &Path) -> RunningHub {
    let token = jiaohao_hub::cli::create_token(&primary.db, Role::Replica, None, "standby")
        .expect("a replica token");
    standby_with(primary, via, db, token).await
}

async fn standby_with(primary: &TestHub, via: &str, db: &Path, token: String) -> RunningHub {
    standby_on("127.0.0.1:0", primary, via, db, token).await
}

async fn standby_on(
    listen: &str,
    primary: &TestHub,
    via: &str,
    db: &Path,
    token: String,
) -> RunningHub {
    let config = HubConfig {
        clock: primary.clock.clone(),
        limits: test_limits(),
        follow: Some(FollowConfig {
            primary: via.to_owned(),
            token,
        }),
        ..HubConfig::new(db)
    };
    jiaohao_hub::spawn(listen, config)
        .await
        .expect("the standby starts")
}

async fn health(client: &Client) -> wire::Health {
    client.health().await.expect("GET /api/health")
}

/// Waits (bounded) until the standby holds every record and side change the primary holds.
async fn caught_up(primary: &TestHub, standby: &Client, db: &Path) -> wire::Health {
    let target = health(&primary.public).await.last_seq.unwrap();
    let side = side_log(&primary.db).len();
    let deadline = Instant::now() + WAIT * 2;
    loop {
        let health = health(standby).await;
        if health.last_seq == Some(target) && health.lag == Some(0) && side_log(db).len() == side {
            return health;
        }
        assert!(
            Instant::now() < deadline,
            "the standby did not catch up with record {target}: {health:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every record of a database as stored.
fn log(db: &Path) -> Vec<jiaohao_store::RawRecord> {
    Store::open_read_only(db)
        .unwrap()
        .raw_records_after(0, u64::MAX, 1_000_000)
        .unwrap()
}

fn side_log(db: &Path) -> Vec<jiaohao_store::SideChange> {
    Store::open_read_only(db)
        .unwrap()
        .side_changes_after(0, u64::MAX, 1_000_000)
        .unwrap()
}

fn standby_db(primary: &TestHub) -> PathBuf {
    primary.db.with_file_name("standby.sqlite")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_follows_from_zero_serves_reads_and_refuses_changes() {
    let primary = TestHub::start().await;
    let issued = primary.issue("hukou").await;
    primary.open(3).await;
    primary.call_next(3).await;
    let db = standby_db(&primary);
    let running = standby(&primary, &primary.url(), &db).await;
    let public = Client::new(running.url());
    let health = caught_up(&primary, &public, &db).await;
    assert_eq!(health.role.as_deref(), Some("standby"));
    assert_eq!(health.primary, Some(primary.url()));
    assert_eq!(health.term, Some(1));

    // Reads: the hall, a ticket's page, the live stream.
    let hall = public.hall().await.unwrap();
    assert_eq!(hall.seq, primary.hall().await.seq);
    assert_eq!(
        serde_json::to_value(&hall.windows).unwrap(),
        serde_json::to_value(&primary.hall().await.windows).unwrap()
    );
    let status = public.ticket(&issued.token).await.unwrap();
    assert_eq!(status.number, issued.number);
    let display = public.with_token(&primary.tokens.display);
    let mut events = crate::support::Events::open(&display, None).await;
    events.until("snapshot").await;

    // A new ticket on the primary reaches the standby's log and its displays.
    let second = primary.issue("hukou").await;
    let message = crate::support::change(&events.until("ticket_issued").await);
    assert!(
        serde_json::to_string(&message)
            .unwrap()
            .contains(&second.number),
        "{message:?}"
    );
    caught_up(&primary, &public, &db).await;
    assert_eq!(
        log(&db),
        log(&primary.db),
        "the same records, numbers, terms, bytes"
    );
    assert_eq!(side_log(&db), side_log(&primary.db));

    // Changes, a sign-in among them, are refused and sent to the primary.
    let kiosk = public.with_token(&primary.tokens.kiosk);
    let refused = kiosk.issue_ticket("hukou", false, None).await.unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(503), Some("standby"))
    );
    assert!(refused.to_string().contains(&primary.url()), "{refused}");
    let admin = public.with_token(&primary.tokens.admin);
    send(admin.request(Method::POST, "/api/windows/3/open"))
        .await
        .expect_error(503, "standby");
    primary.add_user("zhang", Role::Clerk);
    caught_up(&primary, &public, &db).await;
    let (response, _) = crate::support::post_login(
        &running.url(),
        "zhang",
        crate::support::PASSWORD,
        None,
        None,
    )
    .await;
    assert_eq!(response.status().as_u16(), 503);
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_follows_on_from_a_backup() {
    let primary = TestHub::start().await;
    for _ in 0..3 {
        primary.issue("hukou").await;
    }
    let db = standby_db(&primary);
    Store::open_read_only(&primary.db)
        .unwrap()
        .backup_to(&db)
        .unwrap();
    let at_backup = log(&db).len();
    for _ in 0..3 {
        primary.issue("exit_entry").await;
    }
    let running = standby(&primary, &primary.url(), &db).await;
    let public = Client::new(running.url());
    caught_up(&primary, &public, &db).await;
    let records = log(&db);
    assert!(records.len() > at_backup);
    assert_eq!(records, log(&primary.db));
    assert_eq!(side_log(&db), side_log(&primary.db));
    running.stop().await.unwrap();
}

/// A TCP proxy on a fixed loopback port that a test can kill (every connection with it) and
/// start again on the same port.
struct Proxy {
    addr: SocketAddr,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut proxy = Proxy {
            addr,
            target,
            task: None,
        };
        proxy.task = Some(tokio::spawn(Proxy::serve(listener, target)));
        proxy
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Forwards each connection until the task is aborted; the connections are its own
    /// tasks in a set that dies with it.
    async fn serve(listener: TcpListener, target: SocketAddr) {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            connections.spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    }

    /// Cuts the link: the port closes and every connection through it breaks.
    async fn kill(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    async fn restart(&mut self) {
        let deadline = Instant::now() + WAIT;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(error) => {
                    assert!(Instant::now() < deadline, "port not free again: {error}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        self.task = Some(tokio::spawn(Proxy::serve(listener, self.target)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_resumes_where_it_stopped_when_the_link_comes_back() {
    let primary = TestHub::start().await;
    primary.issue("hukou").await;
    let mut proxy = Proxy::start(primary.addr).await;
    let db = standby_db(&primary);
    let running = standby(&primary, &proxy.url(), &db).await;
    let public = Client::new(running.url());
    caught_up(&primary, &public, &db).await;

    proxy.kill().await;
    for _ in 0..5 {
        primary.issue("hukou").await;
    }
    primary.add_user("zhang", Role::Clerk);
    // Cut off, the standby still serves what it has, and says it is behind once it knows.
    let behind = health(&public).await;
    assert!(behind.last_seq < health(&primary.public).await.last_seq);

    proxy.restart().await;
    caught_up(&primary, &public, &db).await;
    assert_eq!(log(&db), log(&primary.db));
    assert_eq!(side_log(&db), side_log(&primary.db));
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_that_meets_another_history_stops_with_an_error() {
    let first = TestHub::start().await;
    first.issue("hukou").await;
    let db = standby_db(&first);
    let running = standby(&first, &first.url(), &db).await;
    let public = Client::new(running.url());
    caught_up(&first, &public, &db).await;
    running.stop().await.unwrap();

    // Another hall, on the same clock, with a ticket (its own token) at the same number, and
    // more records than the standby holds.
    let other = TestHub::start().await;
    other.issue("hukou").await;
    other.issue("hukou").await;
    let token = jiaohao_hub::cli::create_token(&other.db, Role::Replica, None, "standby").unwrap();
    // The same identity key as the other hall's (else the standby stops on that first).
    std::fs::copy(
        other.db.with_file_name("identity.key"),
        db.with_file_name("identity.key"),
    )
    .unwrap();
    // The side log differs too; follow it from a copy of the standby's file, which the other
    // hall's side log does not continue either, so start from the first divergence: records.
    let running = standby_with(&other, &other.url(), &db, token).await;
    let url = running.url();
    let deadline = Instant::now() + WAIT * 2;
    while Client::new(url.clone()).health().await.is_ok() {
        assert!(Instant::now() < deadline, "the standby goes on serving");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let error = running.stop().await.unwrap_err().to_string();
    assert!(
        error.contains("diverged")
            || error.contains("differs")
            || error.contains("another history"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_standby_takes_over_with_the_halls_tokens_users_and_sessions() {
    let mut primary = TestHub::start().await;
    primary.add_user("zhang", Role::Clerk);
    let mut session = primary.sign_in("zhang", Some(3)).await;
    primary.open(3).await;
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(primary.issue("hukou").await.number);
    }
    let db = standby_db(&primary);
    let running = standby(&primary, &primary.url(), &db).await;
    let public = Client::new(running.url());
    let before = caught_up(&primary, &public, &db).await;

    // The primary goes away; the operator promotes the standby with the primary's admin token.
    primary.halt().await;
    let admin = public.with_token(&primary.tokens.admin);
    let promoted = admin.promote().await.unwrap();
    assert_eq!(promoted.term, 2);
    assert_eq!(promoted.seq, before.last_seq.unwrap() + 1);
    let again = admin.promote().await.unwrap_err();
    assert_eq!(
        (again.status(), again.code()),
        (Some(409), Some("not_standby"))
    );
    let now = health(&public).await;
    assert_eq!(
        (now.role.as_deref(), now.term, now.lag),
        (Some("primary"), Some(2), None)
    );

    // The kiosk's token issues the next number; none is given twice.
    let kiosk = public.with_token(&primary.tokens.kiosk);
    let next = kiosk.issue_ticket("hukou", false, None).await.unwrap();
    assert!(!numbers.contains(&next.number), "{} repeats", next.number);
    assert_eq!(next.number, "A004");
    // The clerk's session goes on at window 3, and the clerk can sign in again.
    session.base = running.url();
    let me: wire::Me = session.get("/api/me").await.json();
    assert_eq!((me.name.as_str(), me.window), ("zhang", Some(3)));
    let called = session
        .send_json(Method::POST, "/api/windows/3/call-next", json!({}))
        .await;
    assert_eq!(called.status, 200, "{called:?}");
    crate::support::WebSession::sign_in(&running.url(), "zhang", crate::support::PASSWORD, None)
        .await
        .expect("the user signs in on the new primary");
    let records = log(&db);
    let new_term: Vec<u64> = records
        .iter()
        .filter(|r| r.seq > promoted.seq)
        .map(|r| r.term)
        .collect();
    assert!(!new_term.is_empty() && new_term.iter().all(|term| *term == 2));
    let _ = send_json(&admin, Method::GET, "/api/hall", json!({})).await;
    running.stop().await.unwrap();

    // Restarted with its settings unchanged (`--follow` still there), it stays the primary.
    let again = standby_with(&primary, &primary.url(), &db, "unused".into()).await;
    let public = Client::new(again.url());
    assert_eq!(health(&public).await.role.as_deref(), Some("primary"));
    let after = public
        .with_token(&primary.tokens.kiosk)
        .issue_ticket("hukou", false, None)
        .await
        .unwrap();
    assert_eq!(after.number, "A005");
    again.stop().await.unwrap();
}

/// A free loopback port, for a hub that must be named before it starts.
fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_primary_restarted_after_a_promotion_takes_no_change() {
    let standby_addr = free_port();
    let peer = format!("http://{standby_addr}");
    let mut primary = TestHub::start_with(move |config| config.peer = Some(peer.clone())).await;
    primary.issue("hukou").await;
    let db = standby_db(&primary);
    let token =
        jiaohao_hub::cli::create_token(&primary.db, Role::Replica, None, "standby").unwrap();
    let running = standby_on(
        &standby_addr.to_string(),
        &primary,
        &primary.url(),
        &db,
        token,
    )
    .await;
    let public = Client::new(running.url());
    caught_up(&primary, &public, &db).await;
    // While the standby follows (term 1, like the primary's), the primary takes changes.
    primary.issue("hukou").await;
    caught_up(&primary, &public, &db).await;

    primary.halt().await;
    public
        .with_token(&primary.tokens.admin)
        .promote()
        .await
        .unwrap();
    primary.start_again().await;
    let health = health(&primary.public).await;
    assert_eq!(health.role.as_deref(), Some("fenced"), "{health:?}");
    let refused = primary
        .kiosk
        .issue_ticket("hukou", false, None)
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(503), Some("fenced"))
    );
    assert!(
        refused.to_string().contains("jiaohao-hub rejoin --db")
            && refused
                .to_string()
                .contains(&format!("--primary http://{standby_addr}")),
        "it says how to rejoin: {refused}"
    );
    // The new primary takes them.
    let ticket = public
        .with_token(&primary.tokens.kiosk)
        .issue_ticket("hukou", false, None)
        .await
        .unwrap();
    assert_eq!(ticket.number, "A003");
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sync_standby_an_answer_waits_for_the_standby_or_says_the_hub_is_alone() {
    let primary = TestHub::start_with(|config| {
        config.sync_standby = Some(Duration::from_millis(400));
    })
    .await;
    let db = standby_db(&primary);
    let running = standby(&primary, &primary.url(), &db).await;
    let public = Client::new(running.url());
    caught_up(&primary, &public, &db).await;
    assert_eq!(health(&primary.public).await.alone, Some(false));

    // Each acknowledged ticket is on the standby's disk when the kiosk hears of it.
    for _ in 0..5 {
        let ticket = primary.issue("hukou").await;
        let held = log(&db);
        assert!(
            held.iter().any(|r| r.body.contains(&ticket.token)),
            "{} answered before the standby held it",
            ticket.number
        );
    }

    // The standby goes away: one change waits out the setting, then the hub answers alone.
    running.stop().await.unwrap();
    let started = Instant::now();
    primary.issue("hukou").await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    let alone = health(&primary.public).await;
    assert_eq!(alone.alone, Some(true));
    let figures = crate::support::scrape(&primary.public).await;
    assert_eq!(figures["jiaohao_sync_standby_alone"], 1.0);
    let started = Instant::now();
    primary.issue("hukou").await;
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "alone, answers no longer wait"
    );

    // A standby catches up: changes wait for it again.
    let running = standby(&primary, &primary.url(), &db).await;
    let public = Client::new(running.url());
    caught_up(&primary, &public, &db).await;
    let ticket = primary.issue("hukou").await;
    assert!(log(&db).iter().any(|r| r.body.contains(&ticket.token)));
    assert_eq!(health(&primary.public).await.alone, Some(false));
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sync_standby_new_tokens_users_sessions_and_device_problems_wait_for_the_standby() {
    let primary = TestHub::start_with(|config| {
        config.sync_standby = Some(Duration::from_secs(2));
    })
    .await;
    let db = standby_db(&primary);
    let running = standby(&primary, &primary.url(), &db).await;
    let public = Client::new(running.url());
    caught_up(&primary, &public, &db).await;
    // Each answer below comes once the standby holds the row beside the log (read from its
    // file at once, no waiting).
    let held = |table: &str, needle: &str| {
        side_log(&db)
            .iter()
            .any(|change| change.table == table && change.row.contains(needle))
    };

    let token = send(
        primary
            .admin
            .request(Method::POST, "/api/tokens")
            .json(&json!({"role": "kiosk", "name": "second kiosk"})),
    )
    .await;
    assert_eq!(token.status, 201, "{token:?}");
    assert!(
        held("api_tokens", "second kiosk"),
        "the token's answer came first"
    );

    let user = send_json(
        &primary.admin,
        Method::POST,
        "/api/users",
        json!({"username": "zhao", "role": "clerk", "password": "another-password"}),
    )
    .await;
    assert_eq!(user.status, 201, "{user:?}");
    assert!(held("users", "zhao"), "the user's answer came first");

    let sessions = |db: &Path| {
        side_log(db)
            .iter()
            .filter(|change| change.table == "sessions")
            .count()
    };
    let before = sessions(&db);
    crate::support::WebSession::sign_in(&primary.url(), "zhao", "another-password", None)
        .await
        .expect("zhao signs in");
    assert!(sessions(&db) > before, "the sign-in's answer came first");

    primary
        .kiosk
        .report_device_problem("printer", "paper end at the door")
        .await
        .unwrap();
    assert!(
        held("device_problems", "paper end at the door"),
        "the report's answer came first"
    );
    assert_eq!(health(&primary.public).await.alone, Some(false));
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_former_primary_rejoins_as_a_standby_of_the_new_one() {
    // The primary (A) and its standby (B) are cut apart; A takes tickets B never sees, B is
    // promoted and takes its own.
    let mut a = TestHub::start().await;
    a.issue("hukou").await;
    let mut proxy = Proxy::start(a.addr).await;
    let b_db = standby_db(&a);
    let b = standby(&a, &proxy.url(), &b_db).await;
    let b_public = Client::new(b.url());
    caught_up(&a, &b_public, &b_db).await;
    proxy.kill().await;
    let lost = a.issue("hukou").await;
    // A side row B never sees either.
    a.kiosk
        .report_device_problem("printer", "jammed while cut off")
        .await
        .unwrap();
    a.halt().await;
    b_public
        .with_token(&a.tokens.admin)
        .promote()
        .await
        .unwrap();
    let kept = b_public
        .with_token(&a.tokens.kiosk)
        .issue_ticket("hukou", false, None)
        .await
        .unwrap();
    assert_eq!(
        kept.number, lost.number,
        "the same number, given on both sides"
    );

    // A rejoins with a replica token of B (made on B, the primary now): its records up to
    // the split stay, the rest are set aside for the audit.
    let aside = a.db.with_file_name("set-aside.jsonl");
    let replica_of_b = b_public
        .with_token(&a.tokens.admin)
        .request(Method::POST, "/api/tokens")
        .json(&json!({"role": "replica", "name": "a rejoins"}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = jiaohao_hub::standby::rejoin(&a.db, &b.url(), &replica_of_b, &aside)
        .await
        .expect("A rejoins");
    assert!(done.set_aside >= 1);
    let set_aside = std::fs::read_to_string(&aside).unwrap();
    assert!(
        set_aside.contains(&lost.token),
        "the lost ticket is kept for the audit"
    );
    assert_eq!(done.side_set_aside, 1, "{set_aside}");
    assert!(
        set_aside.contains("jammed while cut off"),
        "the side row B never saw is kept for the audit: {set_aside}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&aside).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the file holds password and token hashes"
        );
    }

    // Started as B's standby, A holds B's history.
    let again = standby_with(&a, &b.url(), &a.db, replica_of_b).await;
    let target = health(&b_public).await.last_seq;
    let deadline = Instant::now() + WAIT * 2;
    while health(&Client::new(again.url())).await.last_seq != target {
        assert!(Instant::now() < deadline, "A does not catch up with B");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(log(&a.db), log(&b_db));
    let a_now = Client::new(again.url());
    assert_eq!(health(&a_now).await.role.as_deref(), Some("standby"));
    assert_eq!(a_now.ticket(&kept.token).await.unwrap().number, kept.number);
    again.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_both_hubs_moves_to_the_promoted_one_and_never_back_to_a_lower_term() {
    let mut primary = TestHub::start().await;
    let db = standby_db(&primary);
    let running = standby(&primary, &primary.url(), &db).await;
    let public = Client::new(running.url());
    caught_up(&primary, &public, &db).await;

    // A kiosk given both addresses, the primary's first.
    let kiosk = Client::new(format!("{},{}", primary.url(), running.url()))
        .with_token(&primary.tokens.kiosk);
    assert!(!kiosk.find_primary().await, "the primary is in use already");
    kiosk.issue_ticket("hukou", false, None).await.unwrap();
    // Without --sync-standby a ticket can be answered before the standby holds it: wait for
    // it, so the numbering below tests the move and not the lag.
    caught_up(&primary, &public, &db).await;

    primary.halt().await;
    public
        .with_token(&primary.tokens.admin)
        .promote()
        .await
        .unwrap();
    assert!(kiosk.find_primary().await);
    assert_eq!(kiosk.base(), running.url());
    let next = kiosk.issue_ticket("hukou", false, None).await.unwrap();
    assert_eq!(next.number, "A002");

    // The old primary back (no --peer): it calls itself primary, of term 1; the kiosk stays.
    primary.start_again().await;
    assert!(!kiosk.find_primary().await);
    assert_eq!(kiosk.base(), running.url());
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_clients_move_to_a_promoted_standby_within_five_seconds_while_the_old_primary_is_up()
{
    // The old primary stays up (fenced by its --peer once the standby is promoted): no stream
    // breaks, so the clients must notice the new term by themselves.
    let standby_addr = free_port();
    let peer = format!("http://{standby_addr}");
    let primary = TestHub::start_with(move |config| config.peer = Some(peer.clone())).await;
    let running = primary.start_standby(&standby_addr.to_string()).await;
    let public = Client::new(running.url());
    let both = format!("{},{}", primary.url(), running.url());

    // A display's link following the stream, and an idle kiosk that only sends requests.
    let link = jiaohao_ui::HubLink::start(Client::new(&both), || {}).unwrap();
    let idle_kiosk = Client::new(&both).with_token(&primary.tokens.kiosk);
    let deadline = Instant::now() + WAIT;
    while link.status() != jiaohao_ui::LinkStatus::Live {
        assert!(Instant::now() < deadline, "the link does not connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    primary.issue("hukou").await;
    let target = health(&primary.public).await.last_seq;
    while health(&public).await.last_seq != target {
        assert!(Instant::now() < deadline, "the standby does not catch up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    public
        .with_token(&primary.tokens.admin)
        .promote()
        .await
        .unwrap();
    let promoted = Instant::now();
    while link.client().base() != running.url() {
        assert!(
            promoted.elapsed() < Duration::from_secs(5),
            "the link is still on the old primary 5 s after the promotion"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let moved = promoted.elapsed();
    eprintln!("the link moved {moved:?} after the promotion");
    assert_eq!(link.status(), jiaohao_ui::LinkStatus::Live);

    // The old primary, fenced, refuses the idle kiosk's ticket; the kiosk moves and sends it
    // again to the new primary, all within the one call.
    while health(&primary.public).await.role.as_deref() != Some("fenced") {
        assert!(
            promoted.elapsed() < WAIT,
            "the old primary is not fenced by its peer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ticket = idle_kiosk.issue_ticket("hukou", false, None).await.unwrap();
    assert_eq!(ticket.number, "A002");
    assert_eq!(idle_kiosk.base(), running.url());

    // The link's hall comes from the new primary's stream.
    let deadline = Instant::now() + WAIT;
    loop {
        let waiting = link
            .hall()
            .map(|hall| hall.services.iter().map(|s| s.waiting).sum::<u32>());
        if waiting == Some(2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the link does not show the new primary's ticket: {waiting:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.stop().await.unwrap();
}

/// A valid ID number, different for each `n` below 1000.
fn id_number(n: u32) -> String {
    let first17 = format!("11010519900{:01}{:02}{:03}", 1 + n % 9, 1 + n % 28, n);
    let check = char::from(jiaohao_core::identity::check_character(first17.as_bytes()));
    format!("{first17}{check}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_standby_verifies_the_old_primarys_sms_codes_and_honours_its_cancel_links() {
    let mut primary = TestHub::start().await;
    let settings = send_json(
        &primary.admin,
        Method::PUT,
        "/api/services/exit_entry/booking",
        json!({"slot_min": 30, "capacities": vec![2; 16]}),
    )
    .await;
    assert_eq!(settings.status, 200, "{settings:?}");
    // Its database beside the primary's: the same identity key file, as the README says.
    let db = standby_db(&primary);
    let running = standby(&primary, &primary.url(), &db).await;
    let book = |n: u32| {
        send_json(
            &primary.public,
            Method::POST,
            "/api/bookings",
            json!({"service": "exit_entry", "date": "2026-11-24", "start": "09:00",
                "name": "张三", "id_number": id_number(n), "phone": format!("138{n:08}")}),
        )
    };
    let unverified: wire::BookingCreated = book(1).await.json();
    let verified: wire::BookingCreated = book(2).await.json();
    let code_of = |n: u32| {
        primary
            .sms_code(&format!("138{n:08}"))
            .expect("an SMS code")
    };
    let verify = |base: String, code: String, sms: String| async move {
        send_json(
            &Client::new(base),
            Method::POST,
            &format!("/api/bookings/{code}/verify"),
            json!({"sms_code": sms}),
        )
        .await
    };
    let reply = verify(primary.url(), verified.code.clone(), code_of(2)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let sms = code_of(1);
    let public = Client::new(running.url());
    caught_up(&primary, &public, &db).await;
    assert!(
        side_log(&db)
            .iter()
            .any(|change| change.table == "booking_contacts"),
        "the contacts travel to a replica"
    );

    primary.halt().await;
    public
        .with_token(&primary.tokens.admin)
        .promote()
        .await
        .unwrap();
    // The SMS code sent by the old primary verifies the booking on the new one.
    let reply = verify(running.url(), unverified.code.clone(), "000000".into()).await;
    reply.expect_error(400, "wrong_sms_code");
    let reply = verify(running.url(), unverified.code.clone(), sms).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // The cancel link the old primary gave works on the new one.
    let cancel = send(public.request(
        Method::DELETE,
        &format!(
            "/api/bookings/{}?cancel_token={}",
            verified.code, verified.cancel_token
        ),
    ))
    .await;
    assert_eq!(cancel.status, 200, "{cancel:?}");
    // The same person is known: the second booking of person 1 that day is refused as on the
    // old primary (one booking per person and day), since the keys of ID numbers match.
    let again = send_json(
        &public,
        Method::POST,
        "/api/bookings",
        json!({"service": "exit_entry", "date": "2026-11-24", "start": "10:00",
            "name": "张三", "id_number": id_number(1), "phone": "13800000001"}),
    )
    .await;
    assert_eq!(again.status, 409, "{again:?}");
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_with_another_identity_key_stops_with_an_error_saying_to_copy_the_primarys() {
    let primary = TestHub::start().await;
    // A standby in a directory of its own: it made an identity key of its own.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("standby.sqlite");
    let running = standby(&primary, &primary.url(), &db).await;
    let url = running.url();
    let deadline = Instant::now() + WAIT * 2;
    while Client::new(url.clone()).health().await.is_ok() {
        assert!(Instant::now() < deadline, "the standby goes on serving");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let error = running.stop().await.unwrap_err().to_string();
    assert!(
        error.contains("identity key") && error.contains("copy the primary's key file"),
        "{error}"
    );

    // With the primary's key copied over its own, it follows.
    std::fs::copy(
        primary.db.with_file_name("identity.key"),
        dir.path().join("identity.key"),
    )
    .unwrap();
    let running = standby(&primary, &primary.url(), &db).await;
    caught_up(&primary, &Client::new(running.url()), &db).await;
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rating_pad_paired_on_the_primary_is_known_on_its_standby() {
    let primary = TestHub::start().await;
    let code: wire::PairingCode = send(
        primary
            .admin
            .request(Method::POST, "/api/windows/3/pairing"),
    )
    .await
    .json();
    let response = primary
        .public
        .request(Method::POST, "/api/rating-pad")
        .json(&json!({"code": code.code}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let (secret, _) = crate::support::set_cookie(&response, "jiaohao_pad").unwrap();
    let db = standby_db(&primary);
    let running = standby(&primary, &primary.url(), &db).await;
    let public = Client::new(running.url());
    caught_up(&primary, &public, &db).await;
    let me = send(
        public
            .request(Method::GET, "/api/rating-pad")
            .header("Cookie", format!("jiaohao_pad={secret}")),
    )
    .await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json::<wire::RatingPad>().window, 3);
    running.stop().await.unwrap();
    primary.stop().await;
}
