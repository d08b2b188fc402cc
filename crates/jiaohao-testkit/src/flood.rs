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
        HubUnderLimit::start_under(&[], binary, dir, nofile, kiosks).await
    }

    /// The same, with the hub's command run under `wrapper` (for example `taskset -c 0`).
    pub async fn start_under(
        wrapper: &[String],
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
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg("prlimit");
                command
            }
            None => Command::new("prlimit"),
        };
        let child = command
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

    /// The hub's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
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
    /// Where the flood runs: `None`, a runtime of its own in this process; or a process of
    /// its own (on a real network the flood is another machine's CPU, not the hall's).
    pub generator: Option<GeneratorCommand>,
}

/// A command that runs [`generate`] (`PROGRAM ARGS… --from IP --to ADDR --half-open N
/// --streams M`), floods until its standard input closes, then prints its counts.
#[derive(Debug, Clone)]
pub struct GeneratorCommand {
    pub program: String,
    pub args: Vec<String>,
    /// How it runs, for the report (for example "a separate process at nice 19").
    pub how: String,
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
    /// Where the flood ran.
    pub generator: String,
    /// Where the CPU went in the quiet and the flooded phase.
    pub cpu_quiet: Cpu,
    pub cpu_flooded: Cpu,
    /// How long the flood ran (building up, measured, stopping).
    pub flood_seconds: f64,
}

/// CPU used during one phase, in cores (1.0 = one core busy all the phase), from
/// `/proc/PID/stat` and `/proc/stat`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    pub hub: f64,
    pub generator: f64,
    /// This process: the kiosks, the display, the probe (and the flood, when it runs here).
    pub clients: f64,
    /// The whole machine: busy, and of that the kernel's soft interrupts (loopback TCP).
    pub machine: f64,
    pub softirq: f64,
    pub cores: usize,
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
            "flood held at most: {} of {} half-open connections, {} of {} event streams; {} answers of 503 ({:.0} a second)",
            self.held_half_open,
            self.plan_half_open,
            self.held_streams,
            self.plan_streams,
            self.refused,
            self.refused as f64 / self.flood_seconds.max(1e-9)
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
        writeln!(f, "flood generator: {}", self.generator)?;
        writeln!(
            f,
            "{:<28}{:>12}{:>12}",
            "CPU (cores busy)", "quiet", "flooded"
        )?;
        let cpu = |f: &mut fmt::Formatter<'_>, name: &str, value: &dyn Fn(&Cpu) -> f64| {
            writeln!(
                f,
                "{:<28}{:>12.2}{:>12.2}",
                name,
                value(&self.cpu_quiet),
                value(&self.cpu_flooded)
            )
        };
        cpu(f, "  hub", &|c| c.hub)?;
        cpu(f, "  flood generator", &|c| c.generator)?;
        cpu(f, "  kiosks, display, probe", &|c| c.clients)?;
        cpu(f, "  kernel soft interrupts", &|c| c.softirq)?;
        cpu(f, "  machine (all)", &|c| c.machine)?;
        writeln!(f, "  of {} cores", self.cpu_quiet.cores)?;
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
    // The kiosks start once the display has its opening snapshot: a ticket issued before it
    // is in the snapshot, not among the `ticket_issued` events this display counts.
    let (opened, display_open) = tokio::sync::oneshot::channel::<()>();
    let display = {
        let client = Client::new(&hub.url).with_token(&hub.display_token);
        let (seen, stop) = (seen.clone(), display_stop.clone());
        tokio::spawn(async move {
            let mut last = None;
            let mut opened = Some(opened);
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut stream) = client.events(last).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                while let Ok(Some(event)) = stream.next().await {
                    if let Some(opened) = opened.take() {
                        let _ = opened.send(());
                    }
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

    tokio::time::timeout(Duration::from_secs(10), display_open)
        .await
        .context("the display's stream did not open within 10 s")?
        .context("the display's stream ended before it opened")?;

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

    let at_start = CpuSample::take(hub.pid(), None);
    tokio::time::sleep(plan.quiet).await;
    let cpu_quiet = CpuSample::take(hub.pid(), None).since(&at_start);

    // The flood.
    phase.store(3, Ordering::Relaxed);
    let flood = Flood::start(plan, hub.addr)?;
    let flood_started = Instant::now();
    // Let the flood build up, then measure under it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    phase.store(1, Ordering::Relaxed);
    let at_start = CpuSample::take(hub.pid(), flood.pid());
    tokio::time::sleep(plan.flooded).await;
    let cpu_flooded = CpuSample::take(hub.pid(), flood.pid()).since(&at_start);
    phase.store(3, Ordering::Relaxed);
    let (held_half_open, held_streams, refused) = flood.stop()?;
    let flood_seconds = flood_started.elapsed().as_secs_f64();
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
        held_half_open,
        held_streams,
        refused,
        display_missed: issued.difference(&seen).count(),
        display_seen: seen.len(),
        health_probes,
        health_failed,
        health_slowest,
        health_within: plan.health_within,
        recovered_in,
        metrics,
        generator: plan.generator.as_ref().map_or_else(
            || "a runtime of its own (one thread) in the measuring process".to_owned(),
            |command| command.how.clone(),
        ),
        cpu_quiet,
        cpu_flooded,
        flood_seconds,
    })
}

/// The flood while it runs: here, or in a process of its own.
enum Flood {
    Here {
        runtime: tokio::runtime::Runtime,
        stop: Arc<AtomicBool>,
        counts: Arc<FloodCounts>,
    },
    Process(Child),
}

impl Flood {
    fn start(plan: &Plan, to: SocketAddr) -> anyhow::Result<Flood> {
        let Some(command) = &plan.generator else {
            // A runtime of its own: its thousands of tasks must not delay the timers and
            // answers of the clients that measure (they would measure this process).
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("flood")
                .enable_all()
                .build()?;
            let stop = Arc::new(AtomicBool::new(false));
            let counts = Arc::new(FloodCounts::default());
            spawn_slots(
                runtime.handle(),
                plan.from,
                to,
                plan.half_open,
                plan.streams,
                &stop,
                &counts,
            );
            return Ok(Flood::Here {
                runtime,
                stop,
                counts,
            });
        };
        let child = Command::new(&command.program)
            .args(&command.args)
            .args(["--from", &plan.from.to_string(), "--to", &to.to_string()])
            .args(["--half-open", &plan.half_open.to_string()])
            .args(["--streams", &plan.streams.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting the flood generator {}", command.program))?;
        Ok(Flood::Process(child))
    }

    fn pid(&self) -> Option<u32> {
        match self {
            Flood::Here { .. } => None,
            Flood::Process(child) => Some(child.id()),
        }
    }

    /// Stops the flood (its sockets close with it); what it held at most and how often it
    /// was refused.
    fn stop(self) -> anyhow::Result<(usize, usize, u64)> {
        match self {
            Flood::Here {
                runtime,
                stop,
                counts,
            } => {
                stop.store(true, Ordering::Relaxed);
                runtime.shutdown_background();
                Ok((
                    counts.most_half_open.load(Ordering::Relaxed),
                    counts.most_streams.load(Ordering::Relaxed),
                    counts.refused.load(Ordering::Relaxed),
                ))
            }
            Flood::Process(mut child) => {
                // Closing its standard input stops it.
                drop(child.stdin.take());
                let mut out = String::new();
                if let Some(mut stdout) = child.stdout.take() {
                    std::io::Read::read_to_string(&mut stdout, &mut out)?;
                }
                let status = child.wait()?;
                anyhow::ensure!(status.success(), "the flood generator failed ({status})");
                let mut figures = out.split_whitespace().map(str::parse::<u64>);
                let mut next = || -> anyhow::Result<u64> {
                    Ok(figures
                        .next()
                        .context("the flood generator printed too little")??)
                };
                Ok((next()? as usize, next()? as usize, next()?))
            }
        }
    }
}

/// Starts the flood's slots on `runtime`: `streams` event streams, then `half_open`
/// half-open connections, the first connections spread over about a second.
fn spawn_slots(
    runtime: &tokio::runtime::Handle,
    from: IpAddr,
    to: SocketAddr,
    half_open: usize,
    streams: usize,
    stop: &Arc<AtomicBool>,
    counts: &Arc<FloodCounts>,
) {
    for n in 0..half_open + streams {
        let kind = if n < streams {
            Slot::Stream
        } else {
            Slot::HalfOpen
        };
        let (stop, counts) = (stop.clone(), counts.clone());
        runtime.spawn(async move {
            tokio::time::sleep(Duration::from_micros(150 * n as u64)).await;
            slot(kind, from, to, &stop, &counts).await;
        });
    }
}

/// The flood generator's process (see [`GeneratorCommand`]): floods `to` from `from` on one
/// thread until standard input closes, then prints the most half-open connections and
/// streams it held and how many answers of `503` it got.
pub fn generate(
    from: IpAddr,
    to: SocketAddr,
    half_open: usize,
    streams: usize,
) -> anyhow::Result<()> {
    raise_own_file_limit();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(FloodCounts::default());
    runtime.block_on(async {
        spawn_slots(
            &tokio::runtime::Handle::current(),
            from,
            to,
            half_open,
            streams,
            &stop,
            &counts,
        );
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink)
        })
        .await;
        stop.store(true, Ordering::Relaxed);
    });
    runtime.shutdown_background();
    println!(
        "{} {} {}",
        counts.most_half_open.load(Ordering::Relaxed),
        counts.most_streams.load(Ordering::Relaxed),
        counts.refused.load(Ordering::Relaxed)
    );
    Ok(())
}

/// CPU times at one moment, in seconds.
struct CpuSample {
    at: Instant,
    hub: f64,
    generator: f64,
    clients: f64,
    busy: f64,
    softirq: f64,
    cores: usize,
}

impl CpuSample {
    fn take(hub: u32, generator: Option<u32>) -> CpuSample {
        let (busy, softirq, cores) = machine_times();
        CpuSample {
            at: Instant::now(),
            hub: process_time(&hub.to_string()),
            generator: generator.map_or(0.0, |pid| process_time(&pid.to_string())),
            clients: process_time("self"),
            busy,
            softirq,
            cores,
        }
    }

    fn since(&self, start: &CpuSample) -> Cpu {
        let took = self.at.duration_since(start.at).as_secs_f64().max(1e-9);
        Cpu {
            hub: (self.hub - start.hub) / took,
            generator: (self.generator - start.generator) / took,
            clients: (self.clients - start.clients) / took,
            machine: (self.busy - start.busy) / took,
            softirq: (self.softirq - start.softirq) / took,
            cores: self.cores,
        }
    }
}

/// Linux counts these in USER_HZ, 100 a second on every architecture.
const TICKS_PER_S: f64 = 100.0;

/// User and system time of a process (all its threads) so far; 0 when it cannot be read.
fn process_time(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // After the command's name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field(14) + field(15)) / TICKS_PER_S
}

/// The machine's busy time and soft-interrupt time so far (all cores), and its cores.
fn machine_times() -> (f64, f64, usize) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (0.0, 0.0, 0);
    };
    let cores = stat
        .lines()
        .filter(|line| line.starts_with("cpu") && !line.starts_with("cpu "))
        .count();
    let Some(total) = stat.lines().next() else {
        return (0.0, 0.0, cores);
    };
    let fields: Vec<f64> = total
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let get = |n: usize| fields.get(n).copied().unwrap_or(0.0);
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
    (busy / TICKS_PER_S, get(6) / TICKS_PER_S, cores)
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
