//! `jiaohao-sim advise`: on a hall where one service is plainly short of windows, the search
//! gives it a second-service slot at a quiet window, keeps every primary service first, and the
//! proposal simulates better than the start.

use jiaohao_sim::advise::{score, with_assignment};
use jiaohao_sim::{Scenario, propose};

const LOPSIDED: &str = r#"
name = "lopsided"
days = 8
seed = 3
open = "09:00"
arrivals_per_hour = [40, 40, 40, 40]
day_volume_cv = 0.0
noon = "12:00"
green_channel_share = 0.0
no_show_share = 0.0
no_show_clerk_min = 1.0
target_wait_min = 20

[[service]]
code = "hukou"
name_zh = "户籍"
prefix = "A"
mean_min = 5.0
cv = 0.5
mix_am = 0.8
mix_pm = 0.8

[[service]]
code = "id_card"
name_zh = "身份证"
prefix = "B"
mean_min = 3.0
cv = 0.5
mix_am = 0.2
mix_pm = 0.2

[[window]]
number = 1
services = ["hukou"]

[[window]]
number = 2
services = ["id_card"]

[[window]]
number = 3
services = ["id_card"]
"#;

#[test]
fn the_search_gives_the_crowded_service_a_quiet_window() {
    let scenario = Scenario::parse(LOPSIDED).unwrap();
    let proposal = propose(&scenario, 2, 8, 2).unwrap();
    // Every window keeps its primary service first and takes at most two.
    for (before, after) in proposal.before.iter().zip(&proposal.after) {
        assert_eq!(before[0], after[0]);
        assert!(after.len() <= 2);
    }
    // hukou (32 tickets an hour of five minutes at one window) gets help from an id_card
    // window.
    let helpers = proposal
        .after
        .iter()
        .filter(|services| services.len() == 2 && services[1].as_str() == "hukou")
        .count();
    assert!(helpers >= 1, "{proposal:?}");
    assert!(
        proposal.score_after < proposal.score_before * 0.5,
        "{proposal:?}"
    );
    // The reported score is what the assignment simulates to.
    let again = score(&scenario, &proposal.after, 8, 1).unwrap();
    assert!((again - proposal.score_after).abs() < 1e-9);
    let changed = with_assignment(&scenario, &proposal.after);
    assert_eq!(changed.windows[0].services, proposal.after[0]);
    assert!(
        proposal
            .toml(&scenario)
            .contains("[[window]]\nnumber = 1\n")
    );
}
