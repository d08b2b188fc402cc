//! The benchmark: every policy on the same simulated days of a scenario, the figures averaged
//! over the days, printed as a markdown table or as JSON.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::citizens::draw_day;
use crate::metrics::Figures;
use crate::policy::BenchPolicy;
use crate::scenario::Scenario;
use crate::simulate::{DayRecord, Options, SimError, simulate_day};

/// One day's figures, one per policy.
type DayFigures = (u32, Vec<Figures>);

/// The averaged figures of each policy on one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub scenario: String,
    pub days: u32,
    pub policies: Vec<(BenchPolicy, Figures)>,
}

impl Report {
    pub fn figures(&self, policy: BenchPolicy) -> Option<&Figures> {
        self.policies
            .iter()
            .find(|(p, _)| *p == policy)
            .map(|(_, figures)| figures)
    }

    /// One markdown table, a row per policy.
    pub fn markdown(&self) -> String {
        let title = format!("### {} ({} days)", self.scenario, self.days);
        let rows = self
            .policies
            .iter()
            .map(|(policy, figures)| (policy.name(), figures));
        crate::metrics::markdown_table(&title, "policy", rows)
    }
}

/// `{"scenario": name, "policies": {"static": {…}, …}}`, the policies in report order.
impl Serialize for Report {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Policies<'a>(&'a [(BenchPolicy, Figures)]);
        impl Serialize for Policies<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (policy, figures) in self.0 {
                    map.serialize_entry(policy.name(), figures)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("scenario", &self.scenario)?;
        map.serialize_entry("policies", &Policies(&self.policies))?;
        map.end()
    }
}

/// Simulates one day under each policy, on the same citizens.
pub fn run_day(
    scenario: &Scenario,
    day: u32,
    policies: &[BenchPolicy],
    options: Options,
) -> Result<Vec<DayRecord>, SimError> {
    let citizens = draw_day(scenario, day);
    policies
        .iter()
        .map(|&policy| simulate_day(scenario, &citizens, policy, day, options))
        .collect()
}

fn day_figures(
    scenario: &Scenario,
    day: u32,
    policies: &[BenchPolicy],
    options: Options,
) -> Result<Vec<Figures>, SimError> {
    let citizens = draw_day(scenario, day);
    policies
        .iter()
        .map(|&policy| {
            let record = simulate_day(scenario, &citizens, policy, day, options)?;
            Ok(Figures::of_day(scenario, &citizens, &record))
        })
        .collect()
}

/// Runs the scenario's days on up to `threads` threads. The result does not depend on the
/// number of threads: every day has its own random stream and days are averaged in order.
pub fn bench(
    scenario: &Scenario,
    policies: &[BenchPolicy],
    options: Options,
    threads: usize,
) -> Result<Report, SimError> {
    let threads = threads.clamp(1, scenario.days.max(1) as usize);
    let per_thread: Vec<Result<Vec<DayFigures>, SimError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                scope.spawn(move || {
                    (0..scenario.days)
                        .filter(|day| *day as usize % threads == worker)
                        .map(|day| Ok((day, day_figures(scenario, day, policies, options)?)))
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut by_day: Vec<DayFigures> = Vec::with_capacity(scenario.days as usize);
    for result in per_thread {
        by_day.extend(result?);
    }
    by_day.sort_by_key(|(day, _)| *day);
    let policies = policies
        .iter()
        .enumerate()
        .map(|(index, &policy)| {
            let days: Vec<Figures> = by_day.iter().map(|(_, figures)| figures[index]).collect();
            (policy, Figures::average(&days))
        })
        .collect();
    Ok(Report {
        scenario: scenario.name.clone(),
        days: scenario.days,
        policies,
    })
}
