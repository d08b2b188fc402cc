//! The simulator's tests, one binary: theory (Erlang C), the scenario parser, determinism and
//! the hall's invariants under every policy.

mod advise;
mod erlang_c;
mod parse_props;
mod parser;
mod replay;
mod runs;

use std::path::PathBuf;

use jiaohao_sim::Scenario;

/// A scenario of `../shared/scenarios/` (beside the workspace), as the benchmark reads it.
pub fn shared_scenario(file: &str) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/scenarios")
        .join(file);
    Scenario::load(&path).unwrap_or_else(|error| {
        panic!("the simulator's tests read the shared scenarios beside the workspace: {error}")
    })
}
