//! `jiaohao-bench flood`: the flood scenario of `jiaohao_testkit::flood` at full size against
//! the release hub, with its figures printed side by side (quiet, flooded, after) and the
//! issue's bar checked: kiosk p99 within 3× quiet, no change missed by the display, health
//! answered throughout, back within 15 s.

use std::path::PathBuf;
use std::time::Duration;

use jiaohao_testkit::flood::{self, GeneratorCommand, HubUnderLimit, Plan};

/// Where the flood runs (see `--flood-in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FloodIn {
    Nice,
    Pinned,
    Here,
}

pub async fn run(
    hub: PathBuf,
    half_open: usize,
    streams: usize,
    kiosks: usize,
    nofile: u64,
    seconds: u64,
    flood_in: FloodIn,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let this = std::env::current_exe()?.display().to_string();
    let strings = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    // On a hall's network the flood is another machine: its CPU is not the hub's. Here it
    // shares the two cores, so it runs where it takes the least from the hub and the kiosks.
    let (hub_wrapper, generator) = match flood_in {
        FloodIn::Nice => (
            Vec::new(),
            Some(GeneratorCommand {
                program: "nice".into(),
                args: [strings(&["-n", "19"]), vec![this], strings(&["flood-generator"])].concat(),
                how: "a separate process at the lowest priority (nice 19), hub and clients unpinned"
                    .into(),
            }),
        ),
        FloodIn::Pinned => (
            strings(&["taskset", "-c", "0"]),
            Some(GeneratorCommand {
                program: "taskset".into(),
                args: [strings(&["-c", "1"]), vec![this], strings(&["flood-generator"])].concat(),
                how: "a separate process pinned to core 1, the hub pinned to core 0 in both phases, clients unpinned"
                    .into(),
            }),
        ),
        FloodIn::Here => (Vec::new(), None),
    };
    let process =
        HubUnderLimit::start_under(&hub_wrapper, &hub, dir.path(), nofile, kiosks.max(1)).await?;
    println!(
        "hub at {} open files; flood from 127.0.0.2: {half_open} half-open connections, {streams} event streams; {kiosks} kiosks, a display, a health probe from 127.0.0.1",
        nofile
    );
    let plan = Plan {
        half_open,
        streams,
        from: "127.0.0.2".parse()?,
        kiosk_every: Duration::from_millis(100),
        quiet: Duration::from_secs(seconds),
        flooded: Duration::from_secs(seconds),
        recover_within: Duration::from_secs(15),
        after: Duration::from_secs(seconds.min(5)),
        health_within: Duration::from_secs(1),
        generator,
    };
    let report = flood::run(&process, &plan).await?;
    print!("{report}");
    let bar = report.p99_within_3x()
        && report.display_missed == 0
        && report.health_failed == 0
        && report.quiet.failed + report.flooded.failed + report.after.failed == 0
        && report.recovered_in.is_some();
    println!(
        "verdict: {}",
        if bar {
            "the hall was not stopped (all of the bar held)"
        } else {
            "NOT all of the bar held"
        }
    );
    Ok(())
}
