//! The simulator's tests, one binary: theory (Erlang C), the scenario parser, determinism and
//! the hall's invariants under every policy.

mod advise;
mod bookings;
mod erlang_c;
mod logged;
mod parse_props;
mod parser;
mod replay;
mod runs;

use std::path::PathBuf;

use jiaohao_sim::Scenario;

/// The folder of the public benchmark halls, `crates/jiaohao-sim/scenarios/`.
pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// A public benchmark hall of `scenarios/`, as the benchmark reads it.
pub fn bench_scenario(file: &str) -> Scenario {
    let path = scenarios_dir().join(file);
    Scenario::load(&path).unwrap_or_else(|error| {
        panic!("the simulator's tests read the benchmark halls of scenarios/: {error}")
    })
}
