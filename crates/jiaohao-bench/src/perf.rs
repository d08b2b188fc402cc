//! `jiaohao-bench perf`: the disk's raw commit rate, then a real hub under load — issuance
//! with 1, 50 and 200 concurrent clients, call-next under the same load, event fan-out to
//! many subscribers — and its peak memory, printed as one markdown table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiaohao_client::Client;
use tokio::sync::mpsc;

use crate::hub_process::{self, HubProcess};
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
/// request on this disk.
fn raw_commits(dir: &Path, seconds: f64) -> anyhow::Result<Row> {
    let conn = rusqlite::Connection::open(dir.join("raw.db"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")?;
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
    Ok(Row {
        what: "raw SQLite commit (1 row, synchronous=FULL)".into(),
        rate: Some(rate),
        p50_ms: percentile_ms(&mut latencies, 50.0),
        p99_ms: percentile_ms(&mut latencies, 99.0),
        note: "the disk's ceiling for one commit per request".into(),
    })
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

pub async fn run(binary: PathBuf, seconds: u64, subscribers: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut rows = Vec::new();
    let raw = raw_commits(dir.path(), 2.0)?;
    let ceiling = raw.rate.unwrap_or(f64::NAN);
    rows.push(raw);

    let db = dir.path().join("hall.db");
    let hall = hub_process::write_hall(dir.path())?;
    let mut hub = HubProcess::start(&binary, &db, &hall, &dir.path().join("hub.log")).await?;
    let public = Client::new(&hub.url);
    let kiosk = public.with_token(hub_process::token(&binary, &db, "kiosk")?);
    let admin = public.with_token(hub_process::token(&binary, &db, "admin")?);

    for clients in [1usize, 50, 200] {
        let kiosk = kiosk.clone();
        let (rate, mut latencies, failed) = load(clients, seconds, move |client, n| {
            let kiosk = kiosk.clone();
            async move {
                let service = SERVICES[(client + n as usize) % SERVICES.len()];
                kiosk.issue_ticket(service, false, None).await.is_ok()
            }
        })
        .await;
        rows.push(Row {
            what: format!("issue ticket, {clients} concurrent client(s)"),
            rate: Some(rate),
            p50_ms: percentile_ms(&mut latencies, 50.0),
            p99_ms: percentile_ms(&mut latencies, 99.0),
            note: format!(
                "{:.1}× the raw commit ceiling{}",
                rate / ceiling,
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
    let issuing = {
        let kiosk = kiosk.clone();
        tokio::spawn(load(50, seconds, move |client, n| {
            let kiosk = kiosk.clone();
            async move {
                let service = SERVICES[(client + n as usize) % SERVICES.len()];
                kiosk.issue_ticket(service, false, None).await.is_ok()
            }
        }))
    };
    let calling = {
        let admin = admin.clone();
        load(10, seconds, move |client, _| {
            let admin = admin.clone();
            async move { matches!(admin.call_next(client as u16 + 1).await, Ok(Some(_))) }
        })
        .await
    };
    let issued = issuing.await?;
    let (rate, mut latencies, _) = calling;
    rows.push(Row {
        what: "call next, 10 windows, while 50 clients issue".into(),
        rate: Some(rate),
        p50_ms: percentile_ms(&mut latencies, 50.0),
        p99_ms: percentile_ms(&mut latencies, 99.0),
        note: format!("issuing meanwhile: {:.0} tickets/s", issued.0),
    });

    rows.push(fan_out(&public, &kiosk, &admin, subscribers).await?);
    let rss = hub.peak_rss_mib();
    rows.push(Row {
        what: format!("hub peak RSS (after {subscribers} subscribers)"),
        rate: None,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        note: rss.map_or("unknown".into(), |mib| format!("{mib:.1} MiB")),
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

/// Opens `subscribers` event streams, then calls tickets one at a time; each subscriber notes
/// when each `ticket_called` arrives. Latency runs from just before the call request is sent
/// (the commit happens inside it) to the event's arrival.
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
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Instant)>();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
    let mut tasks = Vec::new();
    for _ in 0..subscribers {
        let public = public.clone();
        let tx = tx.clone();
        let ready_tx = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(mut stream) = public.events(None).await else {
                return;
            };
            while let Ok(Some(event)) = stream.next().await {
                let arrived = Instant::now();
                match event.event.as_str() {
                    "snapshot" => {
                        let _ = ready_tx.send(());
                    }
                    "ticket_called" => {
                        if let Ok(change) = event.json::<jiaohao_wire::ChangeMessage>()
                            && let jiaohao_wire::Change::TicketCalled { number, .. } = change.change
                        {
                            let _ = tx.send((number, arrived));
                        }
                    }
                    _ => {}
                }
            }
        }));
    }
    drop(tx);
    for _ in 0..subscribers {
        ready_rx.recv().await;
    }
    let calls = 40;
    for _ in 0..calls {
        let ticket = kiosk.issue_ticket("fanout", false, None).await?;
        sent.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ticket.number.clone(), Instant::now());
        admin.call_next(1).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut latencies = Vec::new();
    while let Ok((number, arrived)) = rx.try_recv() {
        if let Some(begun) = sent.lock().unwrap_or_else(|e| e.into_inner()).get(&number) {
            latencies.push(arrived.saturating_duration_since(*begun));
        }
    }
    for task in tasks {
        task.abort();
    }
    let expected = calls * subscribers;
    Ok(Row {
        what: format!("event fan-out to {subscribers} subscribers"),
        rate: None,
        p50_ms: percentile_ms(&mut latencies, 50.0),
        p99_ms: percentile_ms(&mut latencies, 99.0),
        note: format!(
            "{} of {expected} deliveries seen; from call request to event",
            latencies.len()
        ),
    })
}
