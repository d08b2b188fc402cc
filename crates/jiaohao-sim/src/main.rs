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
        /// Scenario files (see ../shared/scenarios/README.md).
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
            let threads = threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
            });
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
    }
}
