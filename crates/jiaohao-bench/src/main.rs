//! `jiaohao-bench`: measurements of a real hub on loopback that print numbers, and the
//! crash loop. Each starts the real `jiaohao-hub` binary (built beside this one) on a
//! database of its own; nothing is timed inside unit tests.

mod crash_loop;
mod flood;
mod history;
mod hub_process;
mod lean_kiosk;
mod perf;
mod standby;
mod stats;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "jiaohao-bench",
    about = "Measure a real jiaohao hub, or crash it in a loop"
)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Subcommand)]
enum Top {
    /// Throughput and latency of ticket issuance and call-next, event fan-out, peak memory.
    Perf {
        /// The hub binary (default: `jiaohao-hub` beside this program).
        #[arg(long)]
        hub: Option<PathBuf>,
        /// Seconds per load phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Event-stream subscribers for the fan-out measurement.
        #[arg(long, default_value_t = 500)]
        subscribers: usize,
    },
    /// Load + `kill -9` at a random moment + restart, in cycles; checks that nothing
    /// acknowledged is lost, numbers never repeat and the log replays to the hub's state.
    CrashLoop {
        #[arg(long)]
        hub: Option<PathBuf>,
        #[arg(long, default_value_t = 20)]
        cycles: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// One address floods the hub (started at `--nofile` open files) with half-open
    /// connections and unread event streams while kiosks issue and a display follows the
    /// stream: kiosk p50/p99 quiet vs flooded, display misses, health, time to recover.
    Flood {
        #[arg(long)]
        hub: Option<PathBuf>,
        #[arg(long, default_value_t = 5000)]
        half_open: usize,
        #[arg(long, default_value_t = 2000)]
        streams: usize,
        #[arg(long, default_value_t = 10)]
        kiosks: usize,
        /// The hub's open-file limit, soft and hard (`prlimit --nofile=N:N`).
        #[arg(long, default_value_t = 1024)]
        nofile: u64,
        /// Seconds of each measured phase (quiet, flooded).
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Where the flood runs: `nice`, a process of its own at the lowest priority (nice
        /// 19); `pinned`, a process of its own on the second core with the hub on the first
        /// (both phases); `here`, a runtime of its own in this process.
        #[arg(long, value_enum, default_value_t = flood::FloodIn::Nice)]
        flood_in: flood::FloodIn,
    },
    /// The flood of `flood` as a process of its own (started by `flood`): floods until its
    /// standard input closes, then prints what it held and how often it was refused.
    #[command(hide = true)]
    FloodGenerator {
        #[arg(long)]
        from: std::net::IpAddr,
        #[arg(long)]
        to: std::net::SocketAddr,
        #[arg(long)]
        half_open: usize,
        #[arg(long)]
        streams: usize,
    },
    /// Two hubs: issuance p50/p99 of 50 kiosks on a lone primary, a primary with a standby and
    /// one with `--sync-standby`, and the replication lag p50/p99.
    Standby {
        #[arg(long)]
        hub: Option<PathBuf>,
        /// Seconds of load per setup.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Start-up time and memory of the hub on a long history (about `--events` events, built
    /// through the core) beside one day's database.
    History {
        #[arg(long)]
        hub: Option<PathBuf>,
        /// About how many events the history holds (a big centre's year: two million).
        #[arg(long, default_value_t = 2_000_000)]
        events: u64,
        /// Tickets a working day.
        #[arg(long, default_value_t = 2_500)]
        tickets_per_day: u64,
        /// Starts measured per database (the median is printed).
        #[arg(long, default_value_t = 3)]
        starts: usize,
        /// Keep the databases in this folder (default: a temporary one, removed at the end).
        #[arg(long)]
        keep: Option<PathBuf>,
    },
}

fn hub_binary(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    let exe = std::env::current_exe()?;
    let beside = exe.with_file_name("jiaohao-hub");
    anyhow::ensure!(
        beside.exists(),
        "no jiaohao-hub beside {}: build it (cargo build --release -p jiaohao-hub) or pass --hub",
        exe.display()
    );
    Ok(beside)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Top::Perf {
            hub,
            seconds,
            subscribers,
        } => runtime.block_on(perf::run(hub_binary(hub)?, seconds, subscribers)),
        Top::Standby { hub, seconds } => runtime.block_on(standby::run(hub_binary(hub)?, seconds)),
        Top::CrashLoop { hub, cycles, seed } => {
            runtime.block_on(crash_loop::run(hub_binary(hub)?, cycles, seed))
        }
        Top::Flood {
            hub,
            half_open,
            streams,
            kiosks,
            nofile,
            seconds,
            flood_in,
        } => runtime.block_on(flood::run(
            hub_binary(hub)?,
            half_open,
            streams,
            kiosks,
            nofile,
            seconds,
            flood_in,
        )),
        Top::FloodGenerator {
            from,
            to,
            half_open,
            streams,
        } => jiaohao_testkit::flood::generate(from, to, half_open, streams),
        Top::History {
            hub,
            events,
            tickets_per_day,
            starts,
            keep,
        } => runtime.block_on(history::run(
            hub_binary(hub)?,
            events,
            tickets_per_day,
            starts,
            keep,
        )),
    }
}
