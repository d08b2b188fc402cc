//! The real `jiaohao-hub` binary under `kill -9` and `SIGTERM`: every ticket the hub
//! acknowledged survives a crash, numbers never repeat nor skip, and a graceful stop ends
//! promptly even with a live stream open.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use jiaohao_client::Client;
use jiaohao_core::Event;
use jiaohao_store::Store;
use jiaohao_wire as wire;
use tokio::sync::{mpsc, oneshot};

use jiaohao_testkit::{Events, WAIT, expect_api_error};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_jiaohao-hub");
/// The all-day hall of the workspace's tests (every service issues at any hour).
const ALLDAY_HALL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/halls/allday.toml");

/// A free port: bind to port 0, note what the system gave, let it go.
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a local address").port()
}

/// Makes a token with the binary's own `token create`, which prints it alone on stdout.
pub(crate) fn create_token(db: &Path, role: &str) -> String {
    let output = Command::new(BIN)
        .args(["token", "create", "--role", role, "--db"])
        .arg(db)
        .output()
        .expect("jiaohao-hub token create runs");
    assert!(
        output.status.success(),
        "token create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).expect("the token is text");
    let token = token.trim().to_owned();
    assert!(
        token.len() >= 32 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "{token:?}"
    );
    token
}

/// A `jiaohao-hub serve` process of this test. A thread waits for it, so its exit is an event
/// the test can await; it is killed if the test ends while it runs.
pub(crate) struct HubProcess {
    pid: u32,
    pub(crate) url: String,
    log: PathBuf,
    exited: oneshot::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
}

impl HubProcess {
    pub(crate) fn start(db: &Path, log: PathBuf) -> HubProcess {
        HubProcess::start_with(db, log, &[])
    }

    /// As [`HubProcess::start`], with more arguments for `serve`.
    pub(crate) fn start_with(db: &Path, log: PathBuf, extra: &[&str]) -> HubProcess {
        let listen = format!("127.0.0.1:{}", free_port());
        let stderr = std::fs::File::create(&log).expect("a log file");
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--listen", &listen, "--hall", ALLDAY_HALL])
            // One kiosk issues tickets as fast as the hub answers and the test then reads
            // every ticket back from one address: no rate limits here.
            .args(["--ticket-limit", "off", "--public-limit", "off"])
            .arg("--sms-sink")
            .arg(db.with_file_name("sms.txt"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("jiaohao-hub serve starts");
        let pid = child.id();
        let (tx, exited) = oneshot::channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
        HubProcess {
            pid,
            url: format!("http://{listen}"),
            log,
            exited,
            status: None,
        }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn has_exited(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.exited.try_recv().ok();
        }
        self.status.is_some()
    }

    /// Waits until the hub answers `/api/health`. A starting process sends no event, so this
    /// polls, bounded.
    pub(crate) async fn ready(&mut self) {
        let client = Client::new(&self.url);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if client.health().await.is_ok() {
                return;
            }
            assert!(
                !self.has_exited(),
                "the hub exited at start:\n{}",
                self.log()
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "the hub does not answer /api/health:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Sends a signal (`KILL`, `TERM`) to this process, by its id.
    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {name} {}", self.pid);
    }

    /// The exit status, if the process ends within `bound`.
    pub(crate) async fn exit_within(&mut self, bound: Duration) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = tokio::time::timeout(bound, &mut self.exited)
                .await
                .ok()
                .and_then(Result::ok);
        }
        self.status
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        if !self.has_exited() {
            // No assertion here: this may run while a failed test unwinds.
            let _ = Command::new("kill")
                .args(["-s", "KILL", &self.pid.to_string()])
                .status();
        }
    }
}

/// The ticket numbers the log holds, per prefix letter, in log order.
fn logged_numbers(db: &Path) -> BTreeMap<char, Vec<u32>> {
    let store = Store::open_read_only(db).expect("the log opens");
    let mut numbers: BTreeMap<char, Vec<u32>> = BTreeMap::new();
    store
        .for_each_record_after(0, |record| {
            if let Event::TicketIssued { number, .. } = record.event {
                numbers
                    .entry(number.prefix.letter())
                    .or_default()
                    .push(number.seq);
            }
        })
        .expect("the log reads back");
    numbers
}

pub(crate) fn split(number: &str) -> (char, u32) {
    let mut chars = number.chars();
    let prefix = chars.next().expect("a prefix");
    (
        prefix,
        chars.as_str().parse().expect("digits after the prefix"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_tickets_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let kiosk_token = create_token(&db, "kiosk");
    let mut hub = HubProcess::start(&db, dir.path().join("first.log"));
    hub.ready().await;

    // 200 kiosks press the button at once; the hub dies after about 60 answers.
    let kiosk = Client::new(&hub.url).with_token(&kiosk_token);
    let (answers_tx, mut answers) = mpsc::unbounded_channel();
    for i in 0..200 {
        let kiosk = kiosk.clone();
        let answers_tx = answers_tx.clone();
        let service = if i % 2 == 0 { "hukou" } else { "id_card" };
        tokio::spawn(async move {
            let answer = kiosk.issue_ticket(service, false, None).await;
            let _ = answers_tx.send(answer);
        });
    }
    drop(answers_tx);
    let mut acknowledged: Vec<wire::IssuedTicket> = Vec::new();
    let mut failed = 0;
    let mut count = 0;
    while let Some(answer) = tokio::time::timeout(2 * WAIT, answers.recv())
        .await
        .expect("every request ends, answered or cut off")
    {
        count += 1;
        match answer {
            Ok(ticket) => acknowledged.push(ticket),
            Err(_) => failed += 1,
        }
        if count == 60 {
            hub.signal("KILL");
        }
    }
    let status = hub.exit_within(WAIT).await.expect("the hub dies");
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL");
    eprintln!(
        "kill -9 after 60 answers: {} acknowledged, {failed} cut off",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() >= 60,
        "the first 60 answers were tickets"
    );

    let mut hub = HubProcess::start(&db, dir.path().join("second.log"));
    hub.ready().await;
    let public = Client::new(&hub.url);

    // Every acknowledged ticket is there, under the number it was given.
    let mut acked: BTreeMap<char, BTreeSet<u32>> = BTreeMap::new();
    for ticket in &acknowledged {
        let page = public.ticket(&ticket.token).await.unwrap_or_else(|e| {
            panic!(
                "acknowledged ticket {} is lost after kill -9: {e}",
                ticket.number
            )
        });
        assert_eq!(page.number, ticket.number);
        let (prefix, seq) = split(&ticket.number);
        assert!(
            acked.entry(prefix).or_default().insert(seq),
            "{} was acknowledged twice",
            ticket.number
        );
    }

    // The log holds each number once, 1 to the highest, with no gap.
    let logged = logged_numbers(&db);
    for prefix in ['A', 'B'] {
        let seqs = logged.get(&prefix).cloned().unwrap_or_default();
        let unique: BTreeSet<u32> = seqs.iter().copied().collect();
        assert_eq!(
            unique.len(),
            seqs.len(),
            "{prefix}: a number repeats in {seqs:?}"
        );
        let max = unique.last().copied().unwrap_or(0);
        assert_eq!(
            unique,
            (1..=max).collect(),
            "{prefix}: numbers 1 to {max} without a gap"
        );
        let acked = acked.get(&prefix).cloned().unwrap_or_default();
        assert!(
            acked.is_subset(&unique),
            "{prefix}: acknowledged {acked:?}, logged {unique:?}"
        );

        // The next ticket goes on after the highest number in the log.
        let kiosk = public.with_token(&kiosk_token);
        let service = if prefix == 'A' { "hukou" } else { "id_card" };
        let next = kiosk.issue_ticket(service, false, None).await.unwrap();
        assert_eq!(next.number, format!("{prefix}{:03}", max + 1));
    }
    let hall = public.hall().await.unwrap();
    let logged_total: usize = logged.values().map(Vec::len).sum();
    let issued: u32 = hall.services.iter().map(|s| s.issued_today).sum();
    assert_eq!(issued as usize, logged_total + 2);

    hub.signal("TERM");
    let status = hub.exit_within(WAIT).await.expect("the hub stops");
    assert!(status.success(), "{status:?}\n{}", hub.log());
}

#[tokio::test]
async fn sigterm_stops_the_hub_promptly_with_a_stream_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let kiosk = create_token(&db, "kiosk");
    let mut hub = HubProcess::start(&db, dir.path().join("hub.log"));
    hub.ready().await;
    let public = Client::new(&hub.url);
    let mut events = Events::open(&public, None).await;
    assert_eq!(events.next().await.event, "snapshot");
    let ticket = public
        .with_token(&kiosk)
        .issue_ticket("hukou", false, None)
        .await
        .unwrap();
    assert_eq!(
        events.until("ticket_issued").await.id,
        Some(hub_seq(&public).await)
    );

    hub.signal("TERM");
    let status = hub.exit_within(WAIT).await;
    let status =
        status.unwrap_or_else(|| panic!("the hub still runs 5 s after SIGTERM:\n{}", hub.log()));
    assert_eq!(status.code(), Some(0), "{status:?}\n{}", hub.log());
    assert!(events.ends().await, "the stream ends when the hub stops");

    // What it acknowledged before stopping is there after a start.
    let mut hub = HubProcess::start(&db, dir.path().join("again.log"));
    hub.ready().await;
    let public = Client::new(&hub.url);
    assert_eq!(public.ticket(&ticket.token).await.unwrap().number, "A001");
    expect_api_error(
        public.ticket("not-a-ticket-token").await,
        404,
        "unknown_ticket",
    );
}

async fn hub_seq(client: &Client) -> u64 {
    client.hall().await.expect("GET /api/hall").seq
}

/// Runs the binary's `backup`, returning its exit status and what it printed.
fn backup(db: &Path, out: &Path) -> (bool, String) {
    let output = Command::new(BIN)
        .args(["backup", "--db"])
        .arg(db)
        .arg("--out")
        .arg(out)
        .output()
        .expect("jiaohao-hub backup runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_the_hall() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.db");
    let mut hub = HubProcess::start(&db, dir.path().join("hub.log"));
    hub.ready().await;
    let kiosk = Client::new(&hub.url).with_token(create_token(&db, "kiosk"));
    let mut before = Vec::new();
    for _ in 0..20 {
        before.push(kiosk.issue_ticket("hukou", false, None).await.unwrap());
    }

    // The backup runs while the hub serves and answers tickets.
    let out = dir.path().join("backup.db");
    let issuing = {
        let kiosk = kiosk.clone();
        tokio::spawn(async move {
            let mut after = Vec::new();
            for _ in 0..10 {
                after.push(kiosk.issue_ticket("id_card", false, None).await.unwrap());
            }
            after
        })
    };
    let (ok, printed) = backup(&db, &out);
    assert!(ok, "backup failed: {printed}");
    assert!(printed.contains("backup.db"), "{printed}");
    let during = issuing.await.unwrap();
    let late = kiosk.issue_ticket("hukou", false, None).await.unwrap();
    assert_eq!(late.number, "A021");

    // A backup never overwrites a file.
    let (ok, printed) = backup(&db, &out);
    assert!(!ok && printed.contains("exists already"), "{printed}");

    hub.signal("TERM");
    assert!(hub.exit_within(Duration::from_secs(10)).await.is_some());

    // Restore: the backup file becomes the database of a new hub.
    let restored = dir.path().join("restored.db");
    std::fs::copy(&out, &restored).unwrap();
    let mut hub = HubProcess::start(&restored, dir.path().join("restored.log"));
    hub.ready().await;
    let public = Client::new(&hub.url);
    for ticket in &before {
        let status = public.ticket(&ticket.token).await.unwrap();
        assert_eq!(status.number, ticket.number);
    }
    // What came after the snapshot is not in it; numbering goes on from what it holds.
    expect_api_error(public.ticket(&late.token).await, 404, "unknown_ticket");
    // Tickets issued during the backup are in it or not, but as a consistent snapshot: the
    // ones it holds are the first ones, never a later one without an earlier.
    let mut held = Vec::new();
    for ticket in &during {
        held.push(public.ticket(&ticket.token).await.is_ok());
    }
    let first_missing = held.iter().position(|h| !h).unwrap_or(held.len());
    assert!(
        held[first_missing..].iter().all(|h| !h),
        "the snapshot holds a later ticket without an earlier one: {held:?}"
    );
    let kiosk = public.with_token(create_token(&restored, "kiosk"));
    let next = kiosk.issue_ticket("hukou", false, None).await.unwrap();
    assert_eq!(next.number, "A021");
}

/// A valid ID number, different for each `n` below 1000.
fn id_number(n: u32) -> String {
    let first17 = format!("11010519900{:01}{:02}{:03}", 1 + n % 9, 1 + n % 28, n);
    let check = char::from(jiaohao_core::identity::check_character(first17.as_bytes()));
    format!("{first17}{check}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_bookings_survive_kill_9_and_never_overfill_a_slot() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let admin_token = create_token(&db, "admin");
    let mut hub = HubProcess::start(&db, dir.path().join("first.log"));
    hub.ready().await;
    let admin = Client::new(&hub.url).with_token(&admin_token);
    // Exit-entry gets hours and a cap, then slots of 5 places.
    let mut service: serde_json::Value =
        jiaohao_testkit::send(admin.request(Method::GET, "/api/services/exit_entry"))
            .await
            .json();
    service["hours"] = serde_json::json!(["08:00", "18:00"]);
    service["daily_cap"] = serde_json::json!(500);
    let reply =
        jiaohao_testkit::send_json(&admin, Method::PUT, "/api/services/exit_entry", service).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = jiaohao_testkit::send_json(
        &admin,
        Method::PUT,
        "/api/services/exit_entry/booking",
        serde_json::json!({"slot_min": 60, "capacities": vec![5; 10]}),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let slots: wire::BookingSlots = jiaohao_testkit::send(admin.request(
        Method::GET,
        "/api/bookings/slots?service=exit_entry&date=2000-01-01",
    ))
    .await
    .json();
    let date = slots.days.first().expect("a bookable day").clone();

    // 50 phones book the 08:00 slot at once; the hub dies after the first answers.
    let public = Client::new(&hub.url);
    let (answers_tx, mut answers) = mpsc::unbounded_channel();
    for n in 0..50u32 {
        let (public, answers_tx, date) = (public.clone(), answers_tx.clone(), date.clone());
        tokio::spawn(async move {
            let body = serde_json::json!({"service": "exit_entry", "date": date, "start": "08:00",
                "name": "张三", "id_number": id_number(n), "phone": format!("139{n:08}")});
            let sent = public
                .request(Method::POST, "/api/bookings")
                .json(&body)
                .send()
                .await;
            if let Ok(response) = sent {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                let _ = answers_tx.send((status, text));
            }
        });
    }
    drop(answers_tx);
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    while let Some((status, text)) = tokio::time::timeout(WAIT, answers.recv()).await.unwrap() {
        match status {
            201 => {
                let created: wire::BookingCreated = serde_json::from_str(&text).unwrap();
                acknowledged.push(created.code);
            }
            409 => refused += 1,
            other => panic!("unexpected answer {other}: {text}"),
        }
        if acknowledged.len() + refused >= 8 {
            break;
        }
    }
    hub.signal("KILL");
    assert!(hub.exit_within(WAIT).await.is_some(), "the hub dies");
    assert!(acknowledged.len() <= 5);

    // The log holds every acknowledged booking, and at most 5 for the slot.
    let store = Store::open_read_only(&db).expect("the log opens");
    let mut logged = BTreeSet::new();
    store
        .for_each_record_after(0, |record| {
            if let Event::BookingMade { code, .. } = record.event {
                logged.insert(code.to_string());
            }
        })
        .expect("the log reads back");
    drop(store);
    assert!(logged.len() <= 5, "{logged:?}");
    for code in &acknowledged {
        assert!(logged.contains(code), "acknowledged booking {code} is lost");
    }
    // Started again, the hub agrees with its log.
    let mut again = HubProcess::start(&db, dir.path().join("second.log"));
    again.ready().await;
    let admin = Client::new(&again.url).with_token(&admin_token);
    let slots: wire::BookingSlots = jiaohao_testkit::send(admin.request(
        Method::GET,
        &format!("/api/bookings/slots?service=exit_entry&date={date}"),
    ))
    .await
    .json();
    let held = slots.slots[0].capacity - slots.slots[0].remaining;
    assert_eq!(held as usize, logged.len());
    again.signal("TERM");
    assert!(again.exit_within(WAIT).await.is_some());
}
