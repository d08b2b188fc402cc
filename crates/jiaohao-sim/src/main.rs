//! `jiaohao-sim`: benchmarks the call-next policies on hall-day scenarios.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use jiaohao_sim::{BenchPolicy, Options, Scenario, bench};

#[derive(Parser)]
#[command(
    name = "jiaohao-sim",
    version,
    about = "Simulates whole hall-days on the hub's own core"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Runs every policy on the same simulated days of each scenario and prints one table per
    /// scenario (rows = policies).
    Bench {
        /// Scenario files (see crates/jiaohao-sim/scenarios/README.md).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print one JSON object per scenario instead of markdown.
        #[arg(long)]
        json: bool,
        /// Simulate this many days instead of the scenario's `days`.
        #[arg(long)]
        days: Option<u32>,
        /// Worker threads (default: the available cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Skip the wait estimates at issue (their columns stay empty; much faster).
        #[arg(long)]
        no_estimates: bool,
    },
    /// Proposes which services each window should take besides its primary one (a local
    /// search judged by simulated days), and prints the assignment and the bench table before
    /// and after.
    Advise {
        /// A scenario file.
        file: PathBuf,
        /// The most services one window may take, its primary one included.
        #[arg(long, default_value_t = 2)]
        max_services: usize,
        /// Days simulated to judge each candidate assignment.
        #[arg(long, default_value_t = 40)]
        sample_days: u32,
        /// Days of the bench tables before and after (default: the scenario's `days`).
        #[arg(long)]
        days: Option<u32>,
        /// Worker threads (default: the available cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Also write the proposal as an assignment file (for `replay --assign`).
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// Re-runs a recorded day of a hub database (its real arrivals, handling times and
    /// no-shows) through the core, under the recorded assignment and optionally another one,
    /// and prints the figures of the recorded day, the re-simulated day and the what-if.
    Replay {
        /// The hub's SQLite file (opened read-only).
        #[arg(long)]
        db: PathBuf,
        /// The hall's local date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// A TOML file of `[[window]]` tables (`number = 7`, `services = ["vehicle",
        /// "id_card"]`) giving some windows other services.
        #[arg(long)]
        assign: Option<PathBuf>,
        /// Print JSON instead of markdown.
        #[arg(long)]
        json: bool,
    },
}

fn threads_or_cores(threads: Option<usize>) -> usize {
    threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Commands::Bench {
            files,
            json,
            days,
            threads,
            no_estimates,
        } => {
            let options = Options {
                estimates: !no_estimates,
                ..Options::default()
            };
            let threads = threads_or_cores(threads);
            for file in files {
                let mut scenario = Scenario::load(&file)
                    .with_context(|| format!("scenario {}", file.display()))?;
                if let Some(days) = days {
                    anyhow::ensure!(days > 0, "--days must be at least 1");
                    scenario.days = days;
                }
                let started = Instant::now();
                let report = bench(&scenario, &BenchPolicy::ALL, options, threads)
                    .with_context(|| format!("simulating {}", file.display()))?;
                if json {
                    println!("{}", serde_json::to_string(&report)?);
                } else {
                    println!("{}", report.markdown());
                }
                eprintln!(
                    "{}: {} days × {} policies in {:.1} s",
                    scenario.name,
                    scenario.days,
                    BenchPolicy::ALL.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
        Commands::Advise {
            file,
            max_services,
            sample_days,
            days,
            threads,
            write,
        } => {
            anyhow::ensure!(max_services >= 1, "--max-services must be at least 1");
            anyhow::ensure!(sample_days >= 1, "--sample-days must be at least 1");
            let threads = threads_or_cores(threads);
            let mut scenario =
                Scenario::load(&file).with_context(|| format!("scenario {}", file.display()))?;
            if let Some(days) = days {
                anyhow::ensure!(days > 0, "--days must be at least 1");
                scenario.days = days;
            }
            let started = Instant::now();
            let proposal = jiaohao_sim::propose(&scenario, max_services, sample_days, threads)
                .with_context(|| format!("searching {}", file.display()))?;
            println!(
                "## {}: proposed assignment (at most {max_services} services a window)\n",
                scenario.name
            );
            println!("{}", proposal.markdown(&scenario));
            let options = Options::default();
            let before = bench(&scenario, &BenchPolicy::ALL, options, threads)?;
            println!("Before:\n\n{}", before.markdown());
            let changed = jiaohao_sim::advise::with_assignment(&scenario, &proposal.after);
            let after = bench(&changed, &BenchPolicy::ALL, options, threads)?;
            println!("After:\n\n{}", after.markdown());
            if let Some(path) = write {
                std::fs::write(&path, proposal.toml(&scenario))
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            eprintln!(
                "{}: {} assignments × {sample_days} days, then 2 × {} days × {} policies in {:.1} s",
                scenario.name,
                proposal.evaluations,
                scenario.days,
                BenchPolicy::ALL.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Commands::Replay {
            db,
            date,
            assign,
            json,
        } => {
            let date = jiaohao_core::LocalDate::parse(&date).context("--date")?;
            let assignment = match &assign {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Some(
                        jiaohao_sim::replay::parse_assignment(&text)
                            .with_context(|| path.display().to_string())?,
                    )
                }
                None => None,
            };
            let day = jiaohao_sim::replay::load_day(&db, date)
                .with_context(|| format!("reading {}", db.display()))?;
            let replay = jiaohao_sim::replay::replay(&day, assignment.as_ref())?;
            if json {
                let mut object = serde_json::Map::new();
                object.insert("date".into(), date.to_string().into());
                object.insert("recorded".into(), serde_json::to_value(replay.recorded)?);
                object.insert(
                    "resimulated".into(),
                    serde_json::to_value(replay.resimulated)?,
                );
                if let Some(what_if) = replay.what_if {
                    object.insert("what_if".into(), serde_json::to_value(what_if)?);
                }
                println!("{}", serde_json::Value::Object(object));
            } else {
                println!("{}", replay.markdown(&day));
            }
            Ok(())
        }
    }
}
