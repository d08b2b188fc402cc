//! The citizens of one simulated day — when each arrives, for which service, how long the
//! window will need, green channel or not, gone when called or not, how the visit ends and how
//! the citizen rates it — drawn once from the scenario so that every policy is run on the very
//! same day (common random numbers).
//!
//! Where a service takes bookings, a share of its citizens book a slot instead of walking in
//! (drawn from a random stream of their own, so the day's citizens are the same as without
//! bookings but for the bookers' arrival times): the slot their walk-in arrival falls in, or
//! the nearest one with room, arriving around its start.

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
    /// The slot the citizen booked; they check in on arrival (or take a walk-in ticket when
    /// check-in has closed).
    pub booking: Option<BookedSlot>,
    /// How the visit ends, if served.
    pub outcome: VisitOutcome,
    /// The rating given on the window's pad right after, if any.
    pub rating: Option<Rating>,
}

/// A booked slot of a citizen's service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookedSlot {
    /// The slot's index in the service's day.
    pub slot: usize,
    /// The slot's start, in milliseconds after the hall opens.
    pub start_ms: i64,
}

/// Check-in opens this long before a slot's start (the core's default) …
pub const CHECK_IN_BEFORE_MIN: u32 = 30;
/// … and closes this long after it.
pub const CHECK_IN_AFTER_MIN: u32 = 15;

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
                booking: None,
                outcome: VisitOutcome::Done,
                rating: None,
            });
        }
    }
    draw_visits(scenario, day, &mut citizens);
    book(scenario, day, &mut citizens);
    citizens
}

/// The number of booking slots of a service's day (every service taking bookings keeps the
/// same hours, [`Scenario::booking_hours`]).
pub fn slot_count(scenario: &Scenario) -> usize {
    match &scenario.booking {
        Some(spec) => (scenario.issue_horizon_min() / f64::from(spec.slot_min)).floor() as usize,
        None => 0,
    }
}

/// The places of each slot of a service: the day's expected bookings (its arrivals ×
/// `booking_share`, plus the bookings that will not come) × `1 + capacity_headroom`, shared
/// evenly over the slots, at least one each; empty when the service takes no bookings.
pub fn slot_capacities(scenario: &Scenario, service: usize) -> Vec<u32> {
    let spec = &scenario.services[service];
    let (Some(booking), slots) = (&scenario.booking, slot_count(scenario)) else {
        return Vec::new();
    };
    if spec.booking_share <= 0.0 || slots == 0 {
        return Vec::new();
    }
    let horizon = scenario.issue_horizon_min();
    let noon = f64::from(scenario.noon.minutes());
    let open = f64::from(scenario.open.minutes());
    let arrivals: f64 = scenario
        .arrivals_per_hour
        .iter()
        .enumerate()
        .map(|(hour, &rate)| {
            let start = hour as f64 * 60.0;
            let minutes = ((start + 60.0).min(horizon) - start).max(0.0);
            let middle = (open + start + minutes / 2.0).rem_euclid(24.0 * 60.0);
            let mix = if middle < noon {
                spec.mix_am
            } else {
                spec.mix_pm
            };
            rate * minutes / 60.0 * mix
        })
        .sum();
    let booked = arrivals * spec.booking_share / (1.0 - booking.no_show_share);
    let each = (booked * (1.0 + booking.capacity_headroom) / slots as f64).ceil();
    vec![(each as u32).max(1); slots]
}

/// Places left in each slot of each service, for drawing who books where.
fn free_places(scenario: &Scenario) -> Vec<Vec<u32>> {
    (0..scenario.services.len())
        .map(|service| slot_capacities(scenario, service))
        .collect()
}

/// The slot nearest to `wanted` with a free place (the earlier one on a tie), taken.
fn take_nearest(free: &mut [u32], wanted: usize) -> Option<usize> {
    let wanted = wanted.min(free.len().checked_sub(1)?);
    for distance in 0..free.len() {
        for slot in [wanted.checked_sub(distance), Some(wanted + distance)]
            .into_iter()
            .flatten()
        {
            if let Some(places) = free.get_mut(slot)
                && *places > 0
            {
                *places -= 1;
                return Some(slot);
            }
        }
    }
    None
}

/// The random stream of a day's bookings, apart from the citizens' own.
fn booking_rng(scenario: &Scenario, day: u32) -> Rng {
    Rng::stream(scenario.seed ^ 0xB00C_ED5E_ED00_0001, u64::from(day))
}

/// Turns a `booking_share` of each booking service's citizens into bookers (in arrival order,
/// each taking the slot its arrival falls in or the nearest one with room; none left: they
/// walk in) arriving at the slot's start plus their lateness, and puts the day back in
/// arrival order.
fn book(scenario: &Scenario, day: u32, citizens: &mut [Citizen]) {
    let Some(spec) = &scenario.booking else {
        return;
    };
    if !scenario.has_bookings() {
        return;
    }
    let mut rng = booking_rng(scenario, day);
    let mut free = free_places(scenario);
    let slot_ms = i64::from(spec.slot_min) * MINUTE_MS as i64;
    for citizen in citizens.iter_mut() {
        let share = scenario.services[citizen.service].booking_share;
        if share <= 0.0 || !rng.bernoulli(share) {
            continue;
        }
        let wanted = usize::try_from(citizen.arrival_ms / slot_ms).unwrap_or(0);
        let lateness = spec.lateness_mean_min + spec.lateness_sd_min * rng.standard_normal();
        let Some(slot) = take_nearest(&mut free[citizen.service], wanted) else {
            continue;
        };
        let start_ms = slot as i64 * slot_ms;
        let earliest = (start_ms - i64::from(CHECK_IN_BEFORE_MIN) * MINUTE_MS as i64).max(0);
        // Nobody comes after issuing stops (a late booker's walk-in ticket must still be issued).
        let latest = (scenario.issue_horizon_min() * MINUTE_MS) as i64 - 1;
        citizen.arrival_ms = ((start_ms as f64 + lateness * MINUTE_MS).round() as i64)
            .max(earliest)
            .min(latest);
        citizen.booking = Some(BookedSlot { slot, start_ms });
    }
    citizens.sort_by_key(|citizen| citizen.arrival_ms);
}

/// The day's bookings that never come (the `[booking]` `no_show_share` of all verified
/// bookings), as `(service, slot)`: as many per service as its bookers make that share, each
/// in a random slot or the nearest with a place left after the bookers'.
pub fn draw_no_show_bookings(
    scenario: &Scenario,
    day: u32,
    citizens: &[Citizen],
) -> Vec<(usize, usize)> {
    let Some(spec) = &scenario.booking else {
        return Vec::new();
    };
    let mut free = free_places(scenario);
    let mut booked = vec![0usize; scenario.services.len()];
    for citizen in citizens {
        if let Some(slot) = citizen.booking {
            free[citizen.service][slot.slot] = free[citizen.service][slot.slot].saturating_sub(1);
            booked[citizen.service] += 1;
        }
    }
    let mut rng = Rng::stream(scenario.seed ^ 0x0DD_B00C_0000_0002, u64::from(day));
    let mut missing = Vec::new();
    for (service, &count) in booked.iter().enumerate() {
        let wanted = (count as f64 * spec.no_show_share / (1.0 - spec.no_show_share)).round();
        let slots = free[service].len();
        for _ in 0..wanted as usize {
            let pick = ((rng.uniform() * slots as f64) as usize).min(slots.saturating_sub(1));
            if let Some(slot) = take_nearest(&mut free[service], pick) {
                missing.push((service, slot));
            }
        }
    }
    missing
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
