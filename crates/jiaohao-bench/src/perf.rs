//! `jiaohao-bench perf`: the disk's raw commit rate, then a real hub under load — issuance
//! with 1, 50 and 200 concurrent clients, call-next under the same load, event fan-out to
//! many subscribers — and its peak memory, printed as one markdown table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiaohao_client::Client;
use tokio::sync::mpsc;

use crate::hub_process::{self, HubProcess};
use crate::lean_kiosk::LeanKiosk;
use crate::stats::percentile_ms;

const SERVICES: [&str; 5] = ["hukou", "id_card", "vehicle", "violation", "exit_entry"];

struct Row {
    what: String,
    rate: Option<f64>,
    p50_ms: f64,
    p99_ms: f64,
    note: String,
}

/// Single-row transactions with `synchronous=FULL` in WAL mode: the ceiling of one commit per
/// request on this disk. On a fresh file (`grown` false) every commit also lengthens the WAL,
/// which a filesystem records in its journal; once the WAL has grown and been checkpointed, the
/// next commits overwrite it from its start, as a hub's commits do after its first
/// checkpoint, and on a slow disk each costs fewer I/O operations. Both are printed: the
/// first is the ceiling the hardening issue names, the second the stricter one.
fn raw_commits(dir: &Path, seconds: f64, grown: bool) -> anyhow::Result<Row> {
    let name = if grown { "raw-grown.db" } else { "raw.db" };
    let conn = rusqlite::Connection::open(dir.join(name))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")?;
    if grown {
        // About 8 MB of WAL, then checkpointed: the timed commits reuse it from its start.
        conn.execute_batch(
            "BEGIN;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO t (body) SELECT printf('%.3000c', 'x') FROM n;
             DELETE FROM t;
             COMMIT;",
        )?;
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    }
    let mut latencies = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds {
        let begun = Instant::now();
        conn.execute(
            "INSERT INTO t (body) VALUES (?1)",
            ["a ticket-sized row of text"],
        )?;
        latencies.push(begun.elapsed());
    }
    let rate = latencies.len() as f64 / start.elapsed().as_secs_f64();
    let (what, note) = if grown {
        (
            "raw SQLite commit (1 row, synchronous=FULL), WAL already grown",
            "one commit per request once the WAL is reused",
        )
    } else {
        (
            "raw SQLite commit (1 row, synchronous=FULL)",
            "the disk's ceiling for one commit per request",
        )
    };
    Ok(Row {
        what: what.into(),
        rate: Some(rate),
        p50_ms: percentile_ms(&mut latencies, 50.0),
        p99_ms: percentile_ms(&mut latencies, 99.0),
        note: note.into(),
    })
}

/// The hub's syncs of its WAL as its `/metrics` count them (no token needed on this machine):
/// how many, their total time and how many took longer than 10 ms. The difference of two
/// readings tells what the disk did during a phase, beside what the clients saw.
#[derive(Debug, Clone, Copy, Default)]
struct Syncs {
    count: f64,
    seconds: f64,
    within_10ms: f64,
}

impl Syncs {
    async fn read(client: &Client) -> anyhow::Result<Syncs> {
        let text = client
            .request(reqwest::Method::GET, "/metrics")
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let value = |name: &str| -> anyhow::Result<f64> {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
                .ok_or_else(|| anyhow::anyhow!("/metrics has no {name}"))
        };
        // A hub from before the syncer thread synced inside each commit: its commit times are
        // its syncs (so two hub binaries can be measured alike).
        let name = if text.contains("jiaohao_sync_duration_seconds_count") {
            "jiaohao_sync_duration_seconds"
        } else {
            "jiaohao_commit_duration_seconds"
        };
        Ok(Syncs {
            count: value(&format!("{name}_count"))?,
            seconds: value(&format!("{name}_sum"))?,
            within_10ms: value(&format!("{name}_bucket{{le=\"0.01\"}}"))?,
        })
    }

    /// What happened between `before` and this reading, for a row's note.
    fn since(self, before: Syncs) -> String {
        let count = self.count - before.count;
        if count <= 0.0 {
            return "no syncs".into();
        }
        let slow = count - (self.within_10ms - before.within_10ms);
        format!(
            "the hub's syncs: {count:.0}, mean {:.1} ms, {:.1}% over 10 ms",
            (self.seconds - before.seconds) * 1000.0 / count,
            slow * 100.0 / count
        )
    }
}

/// Runs `clients` tasks that each repeat `call` until the deadline; returns ok answers per
/// second and the latencies of the ok answers.
async fn load<F, Fut>(clients: usize, seconds: u64, call: F) -> (f64, Vec<Duration>, usize)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let call = Arc::new(call);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0;
            let mut n = 0u64;
            while Instant::now() < deadline {
                let begun = Instant::now();
                if call(client, n).await {
                    latencies.push(begun.elapsed());
                } else {
                    failed += 1;
                }
                n += 1;
            }
            (latencies, failed)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for task in tasks {
        if let Ok((latencies, f)) = task.await {
            all.extend(latencies);
            failed += f;
        }
    }
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    (rate, all, failed)
}

/// `clients` lean kiosks issue tickets for `seconds`, each on its own connection, cycling
/// through the services; returns what `load` does.
pub(crate) async fn issue_load(
    url: &str,
    token: &str,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<(f64, Vec<Duration>, usize)> {
    let mut kiosks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let kiosk = LeanKiosk::connect(url, token, &SERVICES).await?;
        // Only its own client task ever locks it.
        kiosks.push(Arc::new(tokio::sync::Mutex::new(kiosk)));
    }
    Ok(load(clients, seconds, move |client, n| {
        let kiosk = kiosks[client].clone();
        async move {
            let service = client + n as usize;
            kiosk.lock().await.issue_or_reconnect(service).await
        }
    })
    .await)
}

pub async fn run(binary: PathBuf, seconds: u64, subscribers: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut rows = Vec::new();
    let raw = raw_commits(dir.path(), 2.0, false)?;
    let ceiling = raw.rate.unwrap_or(f64::NAN);
    rows.push(raw);
    let raw = raw_commits(dir.path(), 2.0, true)?;
    let grown_ceiling = raw.rate.unwrap_or(f64::NAN);
    rows.push(raw);

    let db = dir.path().join("hall.db");
    let hall = hub_process::write_hall(dir.path())?;
    let mut hub = HubProcess::start(&binary, &db, &hall, &dir.path().join("hub.log")).await?;
    let public = Client::new(&hub.url);
    let kiosk_token = hub_process::token(&binary, &db, "kiosk")?;
    let admin = public.with_token(hub_process::token(&binary, &db, "admin")?);

    for clients in [1usize, 50, 200] {
        let syncs_before = Syncs::read(&public).await?;
        let (rate, mut latencies, failed) =
            issue_load(&hub.url, &kiosk_token, clients, seconds).await?;
        let syncs = Syncs::read(&public).await?.since(syncs_before);
        rows.push(Row {
            what: format!("issue ticket, {clients} concurrent client(s)"),
            rate: Some(rate),
            p50_ms: percentile_ms(&mut latencies, 50.0),
            p99_ms: percentile_ms(&mut latencies, 99.0),
            note: format!(
                "{:.1}× the raw commit ceiling ({:.1}× with the WAL grown); {syncs}{}",
                rate / ceiling,
                rate / grown_ceiling,
                if failed > 0 {
                    format!("; {failed} failed")
                } else {
                    String::new()
                }
            ),
        });
    }

    // Call-next while 50 kiosks keep issuing: ten windows call as fast as they can.
    for window in 1..=10u16 {
        admin.window_action(window, "open").await?;
    }
    let syncs_before = Syncs::read(&public).await?;
    let issuing = {
        let (url, token) = (hub.url.clone(), kiosk_token.clone());
        tokio::spawn(async move { issue_load(&url, &token, 50, seconds).await })
    };
    let calling = {
        let admin = admin.clone();
        load(10, seconds, move |client, _| {
            let admin = admin.clone();
            async move { matches!(admin.call_next(client as u16 + 1).await, Ok(Some(_))) }
        })
        .await
    };
    let issued = issuing.await??;
    let (rate, mut latencies, _) = calling;
    rows.push(Row {
        what: "call next, 10 windows, while 50 clients issue".into(),
        rate: Some(rate),
        p50_ms: percentile_ms(&mut latencies, 50.0),
        p99_ms: percentile_ms(&mut latencies, 99.0),
        note: format!(
            "issuing meanwhile: {:.0} tickets/s; {}",
            issued.0,
            Syncs::read(&public).await?.since(syncs_before)
        ),
    });

    let tickets: u64 = public
        .hall()
        .await?
        .services
        .iter()
        .map(|service| u64::from(service.issued_today))
        .sum();
    let rss = hub.peak_rss_mib();
    hub.stop()?;
    rows.push(Row {
        what: "hub peak RSS after the load above".into(),
        rate: None,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        note: format!(
            "{}, holding {tickets} tickets of the day (a big centre issues ~4,000)",
            rss.map_or("unknown".into(), |mib| format!("{mib:.1} MiB"))
        ),
    });

    // Fan-out and memory on a fresh hub that holds a big centre's whole day, as a hall would.
    let db = dir.path().join("fanout.db");
    let mut hub =
        HubProcess::start(&binary, &db, &hall, &dir.path().join("hub-fanout.log")).await?;
    let public = Client::new(&hub.url);
    let kiosk = public.with_token(hub_process::token(&binary, &db, "kiosk")?);
    let admin = public.with_token(hub_process::token(&binary, &db, "admin")?);
    issue_a_day(&kiosk, DAY_TICKETS).await?;
    for window in 1..=10u16 {
        admin.window_action(window, "open").await?;
    }
    rows.push(fan_out(&public, &kiosk, &admin, subscribers).await?);
    let rss = hub.peak_rss_mib();
    rows.push(Row {
        what: format!("hub peak RSS with {subscribers} subscribers"),
        rate: None,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        note: format!(
            "{}, holding a day of {DAY_TICKETS} tickets",
            rss.map_or("unknown".into(), |mib| format!("{mib:.1} MiB"))
        ),
    });
    hub.stop()?;

    println!("| measurement | per second | p50 (ms) | p99 (ms) | note |");
    println!("|---|---:|---:|---:|---|");
    for row in rows {
        let number = |v: f64| {
            if v.is_nan() {
                "–".to_owned()
            } else {
                format!("{v:.2}")
            }
        };
        println!(
            "| {} | {} | {} | {} | {} |",
            row.what,
            row.rate.map_or("–".into(), |r| format!("{r:.0}")),
            number(row.p50_ms),
            number(row.p99_ms),
            row.note
        );
    }
    Ok(())
}

/// Tickets a big city centre issues in a day: what the fan-out hub holds.
const DAY_TICKETS: usize = 4_000;

/// Issues `count` tickets from 50 concurrent kiosks.
async fn issue_a_day(kiosk: &Client, count: usize) -> anyhow::Result<()> {
    let clients = 50;
    let mut tasks = Vec::new();
    for client in 0..clients {
        let kiosk = kiosk.clone();
        tasks.push(tokio::spawn(async move {
            for n in (client..count).step_by(clients) {
                kiosk
                    .issue_ticket(SERVICES[n % SERVICES.len()], false, None)
                    .await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// One subscriber's view of the stream: every `ticket_called` that arrived, by number, with
/// the hub's timestamp of the call and the moment it arrived here.
struct Arrival {
    number: String,
    called_at: Option<jiff::Timestamp>,
    arrived: Instant,
    arrived_wall: jiff::Timestamp,
}

/// Follows `/api/events` the lean way: bytes in, split at blank lines, and only `ticket_called`
/// messages parsed. 500 of these share two cores with the hub, so a display-grade client (which
/// turns every message into a string and parses every hall view) would measure itself more than
/// the hub. Tells `ready` once the snapshot is in.
async fn subscribe(
    url: String,
    http: reqwest::Client,
    ready: mpsc::UnboundedSender<()>,
    arrivals: mpsc::UnboundedSender<Arrival>,
) {
    let Ok(mut response) = http
        .get(format!("{url}/api/events"))
        .header("Accept", "text/event-stream")
        .send()
        .await
    else {
        return;
    };
    let mut buffer: Vec<u8> = Vec::new();
    let mut scanned = 0;
    let mut snapshot = false;
    while let Ok(Some(chunk)) = response.chunk().await {
        let arrived = Instant::now();
        let arrived_wall = jiff::Timestamp::now();
        buffer.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) =
            memchr::memmem::find(&buffer[scanned..], b"\n\n").map(|at| scanned + at)
        {
            let message = &buffer[start..end];
            if !snapshot && message.starts_with(b"event: snapshot") {
                snapshot = true;
                let _ = ready.send(());
            } else if message.starts_with(b"event: ticket_called") {
                let data = message
                    .split(|&b| b == b'\n')
                    .find_map(|line| line.strip_prefix(b"data: "));
                if let Some(data) = data
                    && let Ok(change) = serde_json::from_slice::<jiaohao_wire::ChangeMessage>(data)
                    && let jiaohao_wire::Change::TicketCalled { number, .. } = change.change
                {
                    let _ = arrivals.send(Arrival {
                        number,
                        called_at: change.at.parse().ok(),
                        arrived,
                        arrived_wall,
                    });
                }
            }
            start = end + 2;
            scanned = start;
        }
        buffer.drain(..start);
        scanned = buffer.len().saturating_sub(1);
    }
}

/// Opens `subscribers` event streams, then calls tickets one at a time; each subscriber notes
/// when each `ticket_called` arrives. Two latencies per delivery: from the call's timestamp in
/// the event (the hub takes it when the writer starts the batch, before the commit; same
/// machine, same clock, millisecond resolution) to its arrival, and, as a cross-check, from
/// just before the call request was sent to its arrival.
async fn fan_out(
    public: &Client,
    kiosk: &Client,
    admin: &Client,
    subscribers: usize,
) -> anyhow::Result<Row> {
    // A service of its own at window 1, so each call-next calls the ticket issued just before.
    let service = serde_json::json!({
        "code": "fanout", "name_zh": "测试", "name_en": "Fan-out", "prefix": "Z",
        "wait_target_min": 20, "handling_target_min": 10, "handling_estimate_min": 5
    });
    admin
        .send::<serde_json::Value>(
            admin
                .request(reqwest::Method::POST, "/api/services")
                .json(&service),
        )
        .await?;
    admin.ticket_action(1, "finish").await.ok();
    admin.set_window_services(1, &["fanout"]).await?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Arrival>();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
    // Subscribers come from their own connection pool, as displays would.
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..subscribers {
        tasks.push(tokio::spawn(subscribe(
            public.base().to_owned(),
            http.clone(),
            ready_tx.clone(),
            tx.clone(),
        )));
    }
    drop(tx);
    drop(ready_tx);
    for _ in 0..subscribers {
        anyhow::ensure!(
            ready_rx.recv().await.is_some(),
            "a subscriber could not open the stream"
        );
    }
    let calls = 40;
    let mut sent = HashMap::new();
    for _ in 0..calls {
        let ticket = kiosk.issue_ticket("fanout", false, None).await?;
        sent.insert(ticket.number.clone(), Instant::now());
        admin.call_next(1).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for task in &tasks {
        task.abort();
    }
    let mut from_commit = Vec::new();
    let mut from_request = Vec::new();
    while let Ok(arrival) = rx.try_recv() {
        if let Some(begun) = sent.get(&arrival.number) {
            from_request.push(arrival.arrived.saturating_duration_since(*begun));
            if let Some(called_at) = arrival.called_at {
                let ms = arrival.arrived_wall.as_millisecond() - called_at.as_millisecond();
                from_commit.push(Duration::from_millis(ms.max(0) as u64));
            }
        }
    }
    let expected = calls * subscribers;
    Ok(Row {
        what: format!("event fan-out to {subscribers} subscribers"),
        rate: None,
        p50_ms: percentile_ms(&mut from_commit, 50.0),
        p99_ms: percentile_ms(&mut from_commit, 99.0),
        note: format!(
            "{} of {expected} deliveries seen; from the call's batch timestamp (taken just before \
             its commit) to arrival; from the call request: p50 {:.1} ms, p99 {:.1} ms",
            from_commit.len(),
            percentile_ms(&mut from_request, 50.0),
            percentile_ms(&mut from_request, 99.0),
        ),
    })
}
