//! `jiaohao-sim advise`: which services each window should take besides its primary one. A
//! local search over assignments, each judged by simulating a sample of the scenario's days
//! under the hub's policy on common random numbers (every candidate sees the same citizens).
//!
//! The score of an assignment is the mean wait plus a tenth of the max wait (both per-day
//! averages, in minutes), so a proposal cannot buy a lower mean with a neglected service. Each
//! window keeps its primary service first; it takes at most `max_services` services in all.
//! The search tries, window by window, every allowed set of extra services with the other
//! windows fixed, keeps the best, and repeats the passes until one changes nothing.

use jiaohao_core::ServiceCode;

use crate::bench::bench;
use crate::metrics::Figure;
use crate::policy::BenchPolicy;
use crate::scenario::Scenario;
use crate::simulate::{Options, SimError};

/// At most this many passes over the windows.
const MAX_PASSES: usize = 4;

/// A change must lower the score by more than this share to count (the sample is noisy).
const MIN_GAIN: f64 = 0.002;

/// What the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// Each window's services before and after, primary first, in the scenario's order.
    pub before: Vec<Vec<ServiceCode>>,
    pub after: Vec<Vec<ServiceCode>>,
    pub score_before: f64,
    pub score_after: f64,
    /// How many assignments were simulated.
    pub evaluations: usize,
}

/// The scenario with each window's services replaced.
pub fn with_assignment(scenario: &Scenario, assignment: &[Vec<ServiceCode>]) -> Scenario {
    let mut changed = scenario.clone();
    for (window, services) in changed.windows.iter_mut().zip(assignment) {
        window.services = services.clone();
    }
    changed
}

/// The score of an assignment on the first `sample_days` days of the scenario.
pub fn score(
    scenario: &Scenario,
    assignment: &[Vec<ServiceCode>],
    sample_days: u32,
    threads: usize,
) -> Result<f64, SimError> {
    let mut trial = with_assignment(scenario, assignment);
    trial.days = sample_days.max(1);
    let options = Options {
        estimates: false,
        check: false,
    };
    let report = bench(&trial, &[BenchPolicy::Hub], options, threads)?;
    let figure = |figure| {
        report
            .figures(BenchPolicy::Hub)
            .and_then(|figures| figures.get(figure))
            .unwrap_or(f64::INFINITY)
    };
    let (mean, max) = (figure(Figure::MeanWait), figure(Figure::MaxWait));
    Ok(mean + max / 10.0)
}

/// Every allowed service list of one window: its primary service, then up to
/// `max_services - 1` others in the scenario's order.
fn options(
    scenario: &Scenario,
    primary: &ServiceCode,
    max_services: usize,
) -> Vec<Vec<ServiceCode>> {
    let others: Vec<&ServiceCode> = scenario
        .services
        .iter()
        .map(|s| &s.code)
        .filter(|code| *code != primary)
        .collect();
    let mut found = vec![vec![primary.clone()]];
    // Subsets by bit mask; scenarios have a handful of services.
    for mask in 1u32..(1 << others.len().min(16)) {
        if (mask.count_ones() as usize) < max_services {
            let mut services = vec![primary.clone()];
            services.extend(
                others
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, code)| (*code).clone()),
            );
            found.push(services);
        }
    }
    found
}

/// Searches for a better assignment (see the module documentation).
pub fn propose(
    scenario: &Scenario,
    max_services: usize,
    sample_days: u32,
    threads: usize,
) -> Result<Proposal, SimError> {
    let max_services = max_services.max(1);
    let before: Vec<Vec<ServiceCode>> = scenario
        .windows
        .iter()
        .map(|w| w.services.clone())
        .collect();
    let mut current = before.clone();
    let score_before = score(scenario, &current, sample_days, threads)?;
    let mut best_score = score_before;
    let mut evaluations = 1;
    for _ in 0..MAX_PASSES {
        let mut changed = false;
        for slot in 0..current.len() {
            let Some(primary) = current[slot].first().cloned() else {
                continue;
            };
            for option in options(scenario, &primary, max_services) {
                if option == current[slot] {
                    continue;
                }
                let mut trial = current.clone();
                trial[slot] = option;
                let trial_score = score(scenario, &trial, sample_days, threads)?;
                evaluations += 1;
                if trial_score < best_score * (1.0 - MIN_GAIN) {
                    best_score = trial_score;
                    current = trial;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    Ok(Proposal {
        before,
        after: current,
        score_before,
        score_after: best_score,
        evaluations,
    })
}

impl Proposal {
    /// A markdown table: each window's services before and after.
    pub fn markdown(&self, scenario: &Scenario) -> String {
        let list = |services: &[ServiceCode]| {
            services
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out =
            String::from("| window | services before | services after |\n|---:|---|---|\n");
        for ((window, before), after) in scenario.windows.iter().zip(&self.before).zip(&self.after)
        {
            let mark = if before == after {
                ""
            } else {
                " **(changed)**"
            };
            out.push_str(&format!(
                "| {} | {} | {}{mark} |\n",
                window.number,
                list(before),
                list(after)
            ));
        }
        out.push_str(&format!(
            "\nscore (mean wait + max wait / 10, hub policy, sample days): {:.2} → {:.2} ({} assignments simulated)\n",
            self.score_before, self.score_after, self.evaluations
        ));
        out
    }

    /// The proposal as an assignment file for `jiaohao-sim replay --assign`.
    pub fn toml(&self, scenario: &Scenario) -> String {
        let mut out = String::new();
        for (window, services) in scenario.windows.iter().zip(&self.after) {
            let quoted: Vec<String> = services.iter().map(|s| format!("\"{s}\"")).collect();
            out.push_str(&format!(
                "[[window]]\nnumber = {}\nservices = [{}]\n\n",
                window.number,
                quoted.join(", ")
            ));
        }
        out
    }
}
