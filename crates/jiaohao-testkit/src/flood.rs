//! One address floods a real hub process while the hall's devices work: the scenario behind
//! `jiaohao-bench flood` (which prints its figures) and the hub's flood test (which asserts
//! its functional part). The hub runs as its own process with a low open-file limit
//! (`prlimit --nofile=…`); the flood comes from a second loopback address (`127.0.0.2`),
//! holding connections that sent half a request and event streams it never reads, each slot
//! connecting again a second after the hub closes or refuses it. Meanwhile kiosks issue
//! tickets at a steady pace, a display follows the live stream, and a probe asks
//! `/api/health` ten times a second, all from `127.0.0.1`.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use jiaohao_client::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

/// The default hall without issuing hours or caps, so the scenario runs at any time of day.
const ALLDAY_HALL: &str = include_str!("../../../tests/halls/allday.toml");

/// A `jiaohao-hub serve` process under an open-file limit, stopped when dropped.
pub struct HubUnderLimit {
    child: Child,
    pub url: String,
    pub addr: SocketAddr,
    pub log: PathBuf,
    pub kiosk_tokens: Vec<String>,
    pub display_token: String,
}

impl HubUnderLimit {
    /// Makes a database in `dir` with `kiosks` kiosk tokens and a display token, then starts
    /// `binary` on it under `prlimit --nofile=NOFILE:NOFILE` and waits for its health.
    pub async fn start(
        binary: &Path,
        dir: &Path,
        nofile: u64,
        kiosks: usize,
    ) -> anyhow::Result<HubUnderLimit> {
        let db = dir.join("flood.db");
        let hall = dir.join("allday.toml");
        std::fs::write(&hall, ALLDAY_HALL)?;
        let token = |role: &str, name: &str| -> anyhow::Result<String> {
            let out = Command::new(binary)
                .args(["token", "create", "--role", role, "--name", name, "--db"])
                .arg(&db)
                .output()
                .with_context(|| format!("running {}", binary.display()))?;
            anyhow::ensure!(
                out.status.success(),
                "token create: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Ok(String::from_utf8(out.stdout)?.trim().to_owned())
        };
        let kiosk_tokens = (0..kiosks)
            .map(|n| token("kiosk", &format!("kiosk {n}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let display_token = token("display", "display")?;
        let addr: SocketAddr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?
        };
        let log = dir.join("hub.log");
        let child = Command::new("prlimit")
            .arg(format!("--nofile={nofile}:{nofile}"))
            .arg("--")
            .arg(binary)
            .arg("serve")
            .arg("--db")
            .arg(&db)
            .arg("--hall")
            .arg(&hall)
            .args(["--listen", &addr.to_string(), "--ticket-limit", "off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting the hub under prlimit (util-linux)")?;
        let mut hub = HubUnderLimit {
            child,
            url: format!("http://{addr}"),
            addr,
            log,
            kiosk_tokens,
            display_token,
        };
        let client = Client::new(&hub.url).with_timeout(Duration::from_secs(1));
        let started = Instant::now();
        while client.health().await.is_err() {
            if let Some(status) = hub.child.try_wait()? {
                anyhow::bail!("the hub exited at start ({status}): {}", hub.read_log());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "the hub did not answer /api/health: {}",
                hub.read_log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(hub)
    }

    pub fn read_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for HubUnderLimit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the flood does and how long each phase lasts.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Connections that send half a request and then nothing.
    pub half_open: usize,
    /// Event streams opened and never read.
    pub streams: usize,
    /// Where the flood comes from (a loopback address other than the devices').
    pub from: IpAddr,
    /// How often each kiosk issues a ticket.
    pub kiosk_every: Duration,
    pub quiet: Duration,
    pub flooded: Duration,
    /// How long the hub may take to be back after the flood, at most.
    pub recover_within: Duration,
    /// How long to measure once recovered.
    pub after: Duration,
    /// A health probe answered later than this counts as failed.
    pub health_within: Duration,
}

/// Latencies of the kiosks' tickets in one phase.
#[derive(Debug, Clone, Default)]
pub struct Phase {
    pub issued: usize,
    pub failed: usize,
    pub p50: Duration,
    pub p99: Duration,
}

impl Phase {
    fn of(mut latencies: Vec<Duration>, failed: usize) -> Phase {
        latencies.sort();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or_default()
        };
        Phase {
            issued: latencies.len(),
            failed,
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

/// What one run saw.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub plan_half_open: usize,
    pub plan_streams: usize,
    pub quiet: Phase,
    pub flooded: Phase,
    pub after: Phase,
    /// The most half-open connections and streams the flood held at once.
    pub held_half_open: usize,
    pub held_streams: usize,
    /// Answers of `503` the flood got (connections and streams).
    pub refused: u64,
    /// Tickets the kiosks issued and the display did not see.
    pub display_missed: usize,
    pub display_seen: usize,
    /// Health probes, and those that failed or took longer than the plan allows.
    pub health_probes: usize,
    pub health_failed: usize,
    pub health_slowest: Duration,
    pub health_within: Duration,
    /// From the flood's end until the hub was back; `None`: not within the bound.
    pub recovered_in: Option<Duration>,
    /// The hub's own counts from `/metrics` at the end (name → value).
    pub metrics: Vec<(String, f64)>,
}

impl Report {
    /// The issue's bar: kiosk p99 flooded within 3× quiet (with a 5 ms floor for timer
    /// noise), nothing missed, health answered throughout, back within 15 s.
    pub fn p99_within_3x(&self) -> bool {
        self.flooded.p99 <= (self.quiet.p99 * 3).max(Duration::from_millis(5))
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<28}{:>12}{:>12}{:>12}",
            "", "quiet", "flooded", "after"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, value: &dyn Fn(&Phase) -> String| {
            writeln!(
                f,
                "{:<28}{:>12}{:>12}{:>12}",
                name,
                value(&self.quiet),
                value(&self.flooded),
                value(&self.after)
            )
        };
        row(f, "kiosk tickets issued", &|p| p.issued.to_string())?;
        row(f, "kiosk tickets failed", &|p| p.failed.to_string())?;
        row(f, "kiosk p50 (ms)", &|p| ms(p.p50))?;
        row(f, "kiosk p99 (ms)", &|p| ms(p.p99))?;
        writeln!(
            f,
            "flood held at most: {} of {} half-open connections, {} of {} event streams; {} answers of 503",
            self.held_half_open,
            self.plan_half_open,
            self.held_streams,
            self.plan_streams,
            self.refused
        )?;
        writeln!(
            f,
            "display: saw {} tickets, missed {}",
            self.display_seen, self.display_missed
        )?;
        writeln!(
            f,
            "/api/health: {} probes, {} failed or slower than {} ms, slowest {} ms",
            self.health_probes,
            self.health_failed,
            ms(self.health_within),
            ms(self.health_slowest)
        )?;
        match self.recovered_in {
            Some(took) => writeln!(
                f,
                "recovered {:.1} s after the flood stopped",
                took.as_secs_f64()
            )?,
            None => writeln!(f, "NOT recovered within the bound after the flood stopped")?,
        }
        writeln!(
            f,
            "kiosk p99 flooded within 3x quiet: {}",
            if self.p99_within_3x() { "yes" } else { "NO" }
        )?;
        for (name, value) in &self.metrics {
            writeln!(f, "  {name} {value}")?;
        }
        Ok(())
    }
}

/// Kiosk latencies by phase (0 quiet, 1 flooded, 2 after; 3 between, not counted).
#[derive(Default)]
struct Latencies {
    phases: [Vec<Duration>; 4],
    failed: [usize; 4],
}

/// Runs the scenario against the hub at `hub`.
pub async fn run(hub: &HubUnderLimit, plan: &Plan) -> anyhow::Result<Report> {
    raise_own_file_limit();
    let phase = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Latencies::default()));
    let issued = Arc::new(Mutex::new(HashSet::<String>::new()));

    // The display follows the stream, resuming after its last id if it is ever cut.
    let seen = Arc::new(Mutex::new(HashSet::<String>::new()));
    let display_stop = Arc::new(AtomicBool::new(false));
    let display = {
        let client = Client::new(&hub.url).with_token(&hub.display_token);
        let (seen, stop) = (seen.clone(), display_stop.clone());
        tokio::spawn(async move {
            let mut last = None;
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut stream) = client.events(last).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                while let Ok(Some(event)) = stream.next().await {
                    if event.id.is_some() {
                        last = event.id;
                    }
                    if event.event == "ticket_issued"
                        && let Ok(data) = event.json::<serde_json::Value>()
                        && let Some(number) = data["number"].as_str()
                    {
                        seen.lock().unwrap().insert(number.to_owned());
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            }
        })
    };

    // Health, ten times a second, each answer within the bound or it counts as failed.
    let health = {
        let within = plan.health_within;
        let client = Client::new(&hub.url).with_timeout(within);
        let stop = stop.clone();
        tokio::spawn(async move {
            let (mut probes, mut failed, mut slowest) = (0, 0, Duration::ZERO);
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let started = Instant::now();
                let ok = client.health().await.is_ok();
                let took = started.elapsed();
                probes += 1;
                slowest = slowest.max(took);
                if !ok || took > within {
                    failed += 1;
                }
            }
            (probes, failed, slowest)
        })
    };

    // The kiosks, each at a steady pace.
    let mut kiosks = Vec::new();
    for (n, token) in hub.kiosk_tokens.iter().enumerate() {
        let client = Client::new(&hub.url)
            .with_token(token)
            .with_timeout(Duration::from_secs(10));
        let (phase, stop, latencies, issued) = (
            phase.clone(),
            stop.clone(),
            latencies.clone(),
            issued.clone(),
        );
        let every = plan.kiosk_every;
        kiosks.push(tokio::spawn(async move {
            let service = ["hukou", "id_card"][n % 2];
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let started = Instant::now();
                let answer = client.issue_ticket(service, false, None).await;
                let took = started.elapsed();
                let at = phase.load(Ordering::Relaxed);
                let mut latencies = latencies.lock().unwrap();
                match answer {
                    Ok(ticket) => {
                        latencies.phases[at].push(took);
                        issued.lock().unwrap().insert(ticket.number);
                    }
                    Err(_) => latencies.failed[at] += 1,
                }
            }
        }));
    }

    tokio::time::sleep(plan.quiet).await;

    // The flood.
    phase.store(3, Ordering::Relaxed);
    let flood_stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(FloodCounts::default());
    // The flood runs on a runtime of its own: its thousands of tasks must not delay the
    // timers and answers of the clients that measure (they would measure this process).
    let flood_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("flood")
        .enable_all()
        .build()?;
    let mut slots = Vec::new();
    for n in 0..plan.half_open + plan.streams {
        let kind = if n < plan.streams {
            Slot::Stream
        } else {
            Slot::HalfOpen
        };
        let (from, to, stop, counts) = (plan.from, hub.addr, flood_stop.clone(), counts.clone());
        slots.push(flood_runtime.spawn(async move {
            // Spread the first connections over about a second.
            tokio::time::sleep(Duration::from_micros(150 * n as u64)).await;
            slot(kind, from, to, &stop, &counts).await;
        }));
    }
    // Let the flood build up, then measure under it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    phase.store(1, Ordering::Relaxed);
    tokio::time::sleep(plan.flooded).await;
    phase.store(3, Ordering::Relaxed);
    flood_stop.store(true, Ordering::Relaxed);
    for slot in slots {
        slot.abort();
    }
    // Its sockets close with its tasks.
    flood_runtime.shutdown_background();
    let stopped = Instant::now();

    // Recovery: health answers, the flood's address may follow the stream again, and a
    // kiosk's ticket is as quick as on a quiet hub.
    let quiet = Phase::of(latencies.lock().unwrap().phases[0].clone(), 0);
    let bar = (quiet.p99 * 3).max(Duration::from_millis(5));
    let probe_kiosk = Client::new(&hub.url)
        .with_token(&hub.kiosk_tokens[0])
        .with_timeout(Duration::from_secs(2));
    let probe = Client::new(&hub.url).with_timeout(Duration::from_secs(1));
    let mut recovered_in = None;
    while stopped.elapsed() < plan.recover_within {
        let healthy = probe.health().await.is_ok();
        let stream_ok = stream_admitted(plan.from, hub.addr).await;
        let started = Instant::now();
        let quick = match probe_kiosk.issue_ticket("hukou", false, None).await {
            Ok(ticket) => {
                issued.lock().unwrap().insert(ticket.number);
                started.elapsed() <= bar
            }
            Err(_) => false,
        };
        if healthy && stream_ok && quick {
            recovered_in = Some(stopped.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    phase.store(2, Ordering::Relaxed);
    tokio::time::sleep(plan.after).await;

    stop.store(true, Ordering::Relaxed);
    for kiosk in kiosks {
        let _ = kiosk.await;
    }
    let (health_probes, health_failed, health_slowest) = health.await?;
    // The display has seen every ticket once the stream carried the last one; wait, bounded.
    let issued = issued.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !issued.is_subset(&seen.lock().unwrap()) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    display_stop.store(true, Ordering::Relaxed);
    display.abort();
    let seen = seen.lock().unwrap().clone();

    let wanted = [
        "jiaohao_connections_refused_total",
        "jiaohao_slow_clients_total",
        "jiaohao_streams_refused_total",
        "jiaohao_connections_accepted_total",
        "jiaohao_connection_capacity",
    ];
    let metrics = crate::scrape(&Client::new(&hub.url))
        .await
        .into_iter()
        .filter(|(key, _)| wanted.contains(&key.split('{').next().unwrap_or_default()))
        .collect();

    let latencies = latencies.lock().unwrap();
    Ok(Report {
        plan_half_open: plan.half_open,
        plan_streams: plan.streams,
        quiet: Phase::of(latencies.phases[0].clone(), latencies.failed[0]),
        flooded: Phase::of(latencies.phases[1].clone(), latencies.failed[1]),
        after: Phase::of(latencies.phases[2].clone(), latencies.failed[2]),
        held_half_open: counts.most_half_open.load(Ordering::Relaxed),
        held_streams: counts.most_streams.load(Ordering::Relaxed),
        refused: counts.refused.load(Ordering::Relaxed),
        display_missed: issued.difference(&seen).count(),
        display_seen: seen.len(),
        health_probes,
        health_failed,
        health_slowest,
        health_within: plan.health_within,
        recovered_in,
        metrics,
    })
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    HalfOpen,
    Stream,
}

#[derive(Default)]
struct FloodCounts {
    half_open: AtomicUsize,
    streams: AtomicUsize,
    most_half_open: AtomicUsize,
    most_streams: AtomicUsize,
    refused: AtomicU64,
}

/// Holds a place in the count while it lives.
struct Holding<'a> {
    now: &'a AtomicUsize,
}

impl<'a> Holding<'a> {
    fn new(now: &'a AtomicUsize, most: &AtomicUsize) -> Holding<'a> {
        let held = now.fetch_add(1, Ordering::Relaxed) + 1;
        most.fetch_max(held, Ordering::Relaxed);
        Holding { now }
    }
}

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        self.now.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let socket = if from.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::new(from, 0))?;
    match tokio::time::timeout(Duration::from_secs(5), socket.connect(to)).await {
        Ok(connected) => connected,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// One slot of the flood: connect, hold as long as the hub lets it, a second's pause, again.
async fn slot(kind: Slot, from: IpAddr, to: SocketAddr, stop: &AtomicBool, counts: &FloodCounts) {
    let mut buffer = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        if let Ok(mut stream) = connect_from(from, to).await {
            match kind {
                Slot::HalfOpen => {
                    if stream
                        .write_all(b"GET /api/hall HTTP/1.1\r\nHost: hub\r\nX-Half: ")
                        .await
                        .is_ok()
                    {
                        // A refusal comes at once; a connection the hub admitted stays
                        // silent until the hub closes it (its header-read timeout).
                        let first = tokio::time::timeout(
                            Duration::from_millis(300),
                            stream.read(&mut buffer),
                        )
                        .await;
                        let answered = match first {
                            Ok(read) => read,
                            Err(_) => {
                                let _held = Holding::new(&counts.half_open, &counts.most_half_open);
                                stream.read(&mut buffer).await
                            }
                        };
                        if let Ok(n) = answered
                            && buffer[..n].starts_with(b"HTTP/1.1 503")
                        {
                            counts.refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Slot::Stream => {
                    let asked = stream
                        .write_all(b"GET /api/events HTTP/1.1\r\nHost: hub\r\n\r\n")
                        .await;
                    if asked.is_ok()
                        && let Ok(n) = stream.read(&mut buffer).await
                    {
                        if buffer[..n].starts_with(b"HTTP/1.1 200") {
                            // Held and never read again, until the flood stops.
                            let _held = Holding::new(&counts.streams, &counts.most_streams);
                            std::future::pending::<()>().await;
                        } else if buffer[..n].starts_with(b"HTTP/1.1 503") {
                            counts.refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Whether an event stream from `from` is admitted now (`200`).
async fn stream_admitted(from: IpAddr, to: SocketAddr) -> bool {
    let Ok(mut stream) = connect_from(from, to).await else {
        return false;
    };
    if stream
        .write_all(b"GET /api/events HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut buffer = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await,
        Ok(Ok(n)) if buffer[..n].starts_with(b"HTTP/1.1 200")
    )
}

/// The flood holds thousands of sockets: raise this process's soft open-file limit to its
/// hard one.
fn raise_own_file_limit() {
    if let Ok((soft, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE)
        && soft < hard
    {
        let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, hard.min(1 << 20), hard);
    }
}
