//! The citizens of one simulated day — when each arrives, for which service, how long the
//! window will need, green channel or not, gone when called or not, how the visit ends and how
//! the citizen rates it — drawn once from the scenario so that every policy is run on the very
//! same day (common random numbers).

use jiaohao_core::Rating;

use crate::random::Rng;
use crate::scenario::{Dist, Scenario};

/// How a simulated visit ends at the window (办理结果), in the core's terms without the texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitOutcome {
    Done,
    DocumentsMissing,
    Refused,
    Referred,
}

/// The shares of [`VisitOutcome`]s, in its order: most matters are done in one visit, about
/// one in ten lacks a document (补正), a few are refused or referred.
pub const OUTCOME_SHARES: [f64; 4] = [0.86, 0.09, 0.03, 0.02];
/// The share of served citizens who rate on the window's pad.
pub const RATED_SHARE: f64 = 0.4;
/// The shares of the five ratings, best first ([`Rating::ALL`]): about one rating in twenty
/// is bad (差评).
pub const RATING_SHARES: [f64; 5] = [0.62, 0.25, 0.08, 0.035, 0.015];

/// Milliseconds in a minute, as the core counts time.
pub const MINUTE_MS: f64 = 60_000.0;

/// One citizen who takes a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Citizen {
    /// When the ticket is issued, in milliseconds after the hall opens.
    pub arrival_ms: i64,
    /// The index of the service in the scenario.
    pub service: usize,
    /// How long the window needs for this citizen, in milliseconds (at least 1).
    pub handling_ms: i64,
    pub green_channel: bool,
    /// The citizen is gone when called: the window loses the scenario's no-show time instead.
    pub no_show: bool,
    /// How the visit ends, if served.
    pub outcome: VisitOutcome,
    /// The rating given on the window's pad right after, if any.
    pub rating: Option<Rating>,
}

/// Draws day `day` of the scenario: the same scenario and day always give the same citizens,
/// in arrival order.
pub fn draw_day(scenario: &Scenario, day: u32) -> Vec<Citizen> {
    let mut rng = Rng::stream(scenario.seed, u64::from(day));
    let volume = rng.gamma_mean_one(scenario.day_volume_cv);
    let horizon = scenario.issue_horizon_min();
    let noon = f64::from(scenario.noon.minutes());
    let open = f64::from(scenario.open.minutes());
    let mix_am: Vec<f64> = scenario.services.iter().map(|s| s.mix_am).collect();
    let mix_pm: Vec<f64> = scenario.services.iter().map(|s| s.mix_pm).collect();
    let mut citizens = Vec::new();
    for (hour, &rate) in scenario.arrivals_per_hour.iter().enumerate() {
        let rate = rate * volume;
        let start = hour as f64 * 60.0;
        let end = (start + 60.0).min(horizon);
        if rate <= 0.0 || start >= end {
            continue;
        }
        // Within one hour the rate is constant, and the exponential gap is memoryless, so
        // starting afresh at each hour is exact for the piecewise-constant process.
        let mut at = start;
        loop {
            at += rng.exponential(60.0 / rate);
            if at >= end {
                break;
            }
            let clock = (open + at).rem_euclid(24.0 * 60.0);
            let mix = if clock < noon { &mix_am } else { &mix_pm };
            let service = rng.categorical(mix);
            let spec = &scenario.services[service];
            let handling_min = match spec.dist {
                Dist::Lognormal => rng.lognormal(spec.mean_min, spec.cv),
                Dist::Exponential => rng.exponential(spec.mean_min),
            };
            citizens.push(Citizen {
                arrival_ms: (at * MINUTE_MS).round() as i64,
                service,
                handling_ms: ((handling_min * MINUTE_MS).round() as i64).max(1),
                green_channel: rng.bernoulli(scenario.green_channel_share),
                no_show: rng.bernoulli(scenario.no_show_share),
                outcome: VisitOutcome::Done,
                rating: None,
            });
        }
    }
    draw_visits(scenario, day, &mut citizens);
    citizens
}

/// Draws how each citizen's visit ends and whether (and how) they rate it, from a stream of
/// its own: the arrivals and handling times are the same as without outcomes and ratings.
pub fn draw_visits(scenario: &Scenario, day: u32, citizens: &mut [Citizen]) {
    let mut rng = Rng::stream(scenario.seed, (1 << 32) | u64::from(day));
    for citizen in citizens {
        citizen.outcome = match rng.categorical(&OUTCOME_SHARES) {
            0 => VisitOutcome::Done,
            1 => VisitOutcome::DocumentsMissing,
            2 => VisitOutcome::Refused,
            _ => VisitOutcome::Referred,
        };
        citizen.rating = rng
            .bernoulli(RATED_SHARE)
            .then(|| Rating::ALL[rng.categorical(&RATING_SHARES)]);
    }
}
