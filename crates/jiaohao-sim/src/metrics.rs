//! The benchmark's figures: computed per simulated day from its [`DayRecord`], then averaged
//! over the days (a day without the tickets a figure needs is left out of that average).

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::citizens::{Citizen, MINUTE_MS};
use crate::scenario::Scenario;
use crate::simulate::DayRecord;

/// One figure of the benchmark table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    MeanWait,
    P95Wait,
    MaxWait,
    WithinTarget,
    GreenMeanWait,
    UtilSpread,
    IdleWhileWaiting,
    Jain,
    SkipsP99,
    EstMae,
    EstBias,
    EstLate5,
    EstMaeSimple,
    Booked,
    BookedMeanWait,
    BookedP90Wait,
    WalkIns,
    WalkInMeanWait,
    WalkInP90Wait,
    BookingNoShow,
    DonePct,
    SatisfiedPct,
}

impl Figure {
    pub const ALL: [Figure; 22] = [
        Figure::MeanWait,
        Figure::P95Wait,
        Figure::MaxWait,
        Figure::WithinTarget,
        Figure::GreenMeanWait,
        Figure::UtilSpread,
        Figure::IdleWhileWaiting,
        Figure::Jain,
        Figure::SkipsP99,
        Figure::EstMae,
        Figure::EstBias,
        Figure::EstLate5,
        Figure::EstMaeSimple,
        Figure::Booked,
        Figure::BookedMeanWait,
        Figure::BookedP90Wait,
        Figure::WalkIns,
        Figure::WalkInMeanWait,
        Figure::WalkInP90Wait,
        Figure::BookingNoShow,
        Figure::DonePct,
        Figure::SatisfiedPct,
    ];

    /// The key in the JSON report.
    pub fn key(self) -> &'static str {
        match self {
            Figure::MeanWait => "mean_wait_min",
            Figure::P95Wait => "p95_wait_min",
            Figure::MaxWait => "max_wait_min",
            Figure::WithinTarget => "within_target_pct",
            Figure::GreenMeanWait => "green_mean_wait_min",
            Figure::UtilSpread => "util_spread",
            Figure::IdleWhileWaiting => "idle_while_waiting_min",
            Figure::Jain => "jain",
            Figure::SkipsP99 => "skips_p99",
            Figure::EstMae => "est_mae_min",
            Figure::EstBias => "est_bias_min",
            Figure::EstLate5 => "est_late5_pct",
            Figure::EstMaeSimple => "est_mae_ql_min",
            Figure::Booked => "booked_count",
            Figure::BookedMeanWait => "booked_mean_wait_min",
            Figure::BookedP90Wait => "booked_p90_wait_min",
            Figure::WalkIns => "walk_in_count",
            Figure::WalkInMeanWait => "walk_in_mean_wait_min",
            Figure::WalkInP90Wait => "walk_in_p90_wait_min",
            Figure::BookingNoShow => "booking_no_show_pct",
            Figure::DonePct => "done_pct",
            Figure::SatisfiedPct => "satisfied_pct",
        }
    }

    /// The column heading in the markdown table.
    pub fn heading(self) -> &'static str {
        match self {
            Figure::MeanWait => "mean wait (min)",
            Figure::P95Wait => "p95 wait (min)",
            Figure::MaxWait => "max wait (min)",
            Figure::WithinTarget => "within target (%)",
            Figure::GreenMeanWait => "green mean (min)",
            Figure::UtilSpread => "util spread",
            Figure::IdleWhileWaiting => "idle while waiting (min)",
            Figure::Jain => "Jain",
            Figure::SkipsP99 => "skips p99",
            Figure::EstMae => "est MAE (min)",
            Figure::EstBias => "est bias (min)",
            Figure::EstLate5 => "late >5 min (%)",
            Figure::EstMaeSimple => "simple MAE (min)",
            Figure::Booked => "booked",
            Figure::BookedMeanWait => "booked mean (min)",
            Figure::BookedP90Wait => "booked p90 (min)",
            Figure::WalkIns => "walk-ins",
            Figure::WalkInMeanWait => "walk-in mean (min)",
            Figure::WalkInP90Wait => "walk-in p90 (min)",
            Figure::BookingNoShow => "booking no-show (%)",
            Figure::DonePct => "一次办结 (%)",
            Figure::SatisfiedPct => "满意率 (%)",
        }
    }

    /// Digits after the point in the table.
    pub fn decimals(self) -> usize {
        match self {
            Figure::UtilSpread | Figure::Jain => 3,
            Figure::SkipsP99
            | Figure::WithinTarget
            | Figure::EstLate5
            | Figure::Booked
            | Figure::WalkIns
            | Figure::BookingNoShow
            | Figure::DonePct
            | Figure::SatisfiedPct => 1,
            _ => 2,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The figures of the booked / walk-in split, only where a service takes bookings (a
    /// table leaves their columns out when no row has them).
    pub fn is_booking(self) -> bool {
        matches!(
            self,
            Figure::Booked
                | Figure::BookedMeanWait
                | Figure::BookedP90Wait
                | Figure::WalkIns
                | Figure::WalkInMeanWait
                | Figure::WalkInP90Wait
                | Figure::BookingNoShow
        )
    }
}

/// A value for each [`Figure`]; `None` where the day (or every day) had nothing to measure.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    values: [Option<f64>; 22],
}

impl Figures {
    pub fn get(&self, figure: Figure) -> Option<f64> {
        self.values[figure.index()]
    }

    fn set(&mut self, figure: Figure, value: Option<f64>) {
        self.values[figure.index()] = value;
    }

    /// The figures of one simulated day. Tickets issued during the warm-up are left out, and
    /// so are no-shows' waits and estimates (the citizen had left).
    pub fn of_day(scenario: &Scenario, citizens: &[Citizen], day: &DayRecord) -> Figures {
        let mut figures = Figures::default();
        let measured: Vec<usize> = (0..day.tickets.len().min(citizens.len()))
            .filter(|&i| citizens[i].arrival_ms >= day.measured_from_ms && !citizens[i].no_show)
            .collect();
        let wait_min = |i: usize| day.tickets[i].wait_ms() as f64 / MINUTE_MS;
        let since_issue_min = |i: usize| day.tickets[i].since_issue_ms() as f64 / MINUTE_MS;
        let mut waits: Vec<f64> = measured.iter().map(|&i| wait_min(i)).collect();
        waits.sort_by(f64::total_cmp);
        figures.set(Figure::MeanWait, mean(&waits));
        figures.set(Figure::P95Wait, percentile(&waits, 0.95));
        figures.set(Figure::MaxWait, waits.last().copied());
        let within = waits
            .iter()
            .filter(|&&w| w <= scenario.target_wait_min)
            .count();
        figures.set(Figure::WithinTarget, share_pct(within, waits.len()));
        let green: Vec<f64> = measured
            .iter()
            .filter(|&&i| citizens[i].green_channel)
            .map(|&i| wait_min(i))
            .collect();
        figures.set(Figure::GreenMeanWait, mean(&green));

        let shares: Vec<f64> = day
            .windows
            .iter()
            .filter(|w| w.busy_ms + w.idle_ms > 0)
            .map(|w| w.busy_ms as f64 / (w.busy_ms + w.idle_ms) as f64)
            .collect();
        let highest = shares.iter().copied().reduce(f64::max);
        let lowest = shares.iter().copied().reduce(f64::min);
        figures.set(Figure::UtilSpread, highest.zip(lowest).map(|(h, l)| h - l));
        let starved_ms: i64 = day.windows.iter().map(|w| w.idle_while_waiting_ms).sum();
        figures.set(
            Figure::IdleWhileWaiting,
            Some(starved_ms as f64 / MINUTE_MS),
        );

        let service_means: Vec<f64> = (0..scenario.services.len())
            .filter_map(|service| {
                let waits: Vec<f64> = measured
                    .iter()
                    .filter(|&&i| citizens[i].service == service)
                    .map(|&i| wait_min(i))
                    .collect();
                mean(&waits)
            })
            .collect();
        figures.set(Figure::Jain, jain(&service_means));
        figures.set(Figure::SkipsP99, skips_p99(citizens, day));

        let estimated: Vec<(f64, f64)> = measured
            .iter()
            .filter_map(|&i| {
                let estimate = day.tickets[i].estimate_ms? as f64 / MINUTE_MS;
                Some((estimate, since_issue_min(i)))
            })
            .collect();
        let errors: Vec<f64> = estimated.iter().map(|(e, w)| e - w).collect();
        let absolute: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
        figures.set(Figure::EstMae, mean(&absolute));
        figures.set(Figure::EstBias, mean(&errors));
        let late = estimated.iter().filter(|(e, w)| w - e > 5.0).count();
        figures.set(Figure::EstLate5, share_pct(late, estimated.len()));
        let simple: Vec<f64> = measured
            .iter()
            .filter_map(|&i| {
                let estimate = day.tickets[i].simple_estimate_ms? as f64 / MINUTE_MS;
                Some((estimate - since_issue_min(i)).abs())
            })
            .collect();
        figures.set(Figure::EstMaeSimple, mean(&simple));

        // A replayed day's recorded row has booked tickets though its scenario books nothing.
        if scenario.has_bookings() || day.tickets.iter().any(|ticket| ticket.booked) {
            for (booked, count, mean_figure, p90_figure) in [
                (
                    true,
                    Figure::Booked,
                    Figure::BookedMeanWait,
                    Figure::BookedP90Wait,
                ),
                (
                    false,
                    Figure::WalkIns,
                    Figure::WalkInMeanWait,
                    Figure::WalkInP90Wait,
                ),
            ] {
                let mut waits: Vec<f64> = measured
                    .iter()
                    .filter(|&&i| day.tickets[i].booked == booked)
                    .map(|&i| wait_min(i))
                    .collect();
                waits.sort_by(f64::total_cmp);
                figures.set(count, Some(waits.len() as f64));
                figures.set(mean_figure, mean(&waits));
                figures.set(p90_figure, percentile(&waits, 0.90));
            }
            let tally = day.bookings;
            figures.set(
                Figure::BookingNoShow,
                share_pct(
                    tally.verified.saturating_sub(tally.checked_in) as usize,
                    tally.verified as usize,
                ),
            );
        }
        // How the visits ended and were rated: the served citizens' drawn outcomes (一次办结率,
        // the share done in one visit) and ratings (满意率, the share of good ones).
        let served: Vec<&Citizen> = (0..day.tickets.len().min(citizens.len()))
            .map(|i| &citizens[i])
            .filter(|c| !c.no_show)
            .collect();
        let done = served
            .iter()
            .filter(|c| c.outcome == crate::citizens::VisitOutcome::Done)
            .count();
        figures.set(Figure::DonePct, share_pct(done, served.len()));
        let rated: Vec<_> = served.iter().filter_map(|c| c.rating).collect();
        let good = rated.iter().filter(|r| !r.is_bad()).count();
        figures.set(Figure::SatisfiedPct, share_pct(good, rated.len()));
        figures
    }

    /// The mean of each figure over the days that have it.
    pub fn average(days: &[Figures]) -> Figures {
        let mut average = Figures::default();
        for figure in Figure::ALL {
            let values: Vec<f64> = days.iter().filter_map(|d| d.get(figure)).collect();
            average.set(figure, mean(&values));
        }
        average
    }
}

impl Serialize for Figures {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(Figure::ALL.len()))?;
        for figure in Figure::ALL {
            map.serialize_entry(figure.key(), &self.get(figure))?;
        }
        map.end()
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn share_pct(count: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| 100.0 * count as f64 / total as f64)
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Jain's fairness index, (Σx)² / (n·Σx²): 1 when all are equal, 1/n when one takes all.
fn jain(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let sum: f64 = values.iter().sum();
    let squares: f64 = values.iter().map(|x| x * x).sum();
    Some(if squares > 0.0 {
        sum * sum / (values.len() as f64 * squares)
    } else {
        1.0
    })
}

/// For each measured normal ticket, how many normal tickets that arrived later were called
/// before it; the 99th percentile over those tickets. Green-channel tickets may pass by rule
/// and are left out on both sides.
fn skips_p99(citizens: &[Citizen], day: &DayRecord) -> Option<f64> {
    let calls = day
        .tickets
        .iter()
        .map(|t| t.call_seq as usize + 1)
        .max()
        .unwrap_or(0);
    // A Fenwick tree over call order, filled with the later arrivals as we walk back in time.
    let mut tree = vec![0u32; calls + 1];
    let mut skips = Vec::new();
    for (citizen, ticket) in citizens.iter().zip(&day.tickets).rev() {
        if citizen.green_channel {
            continue;
        }
        let seq = ticket.call_seq as usize;
        if citizen.arrival_ms >= day.measured_from_ms && !citizen.no_show {
            let mut earlier_calls = 0u32;
            let mut i = seq;
            while i > 0 {
                earlier_calls += tree[i];
                i &= i - 1;
            }
            skips.push(f64::from(earlier_calls));
        }
        let mut i = seq + 1;
        while i <= calls {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    skips.sort_by(f64::total_cmp);
    percentile(&skips, 0.99)
}

/// A markdown table of figures under a `### title` line: one row per `(name, figures)`, a
/// column per [`Figure`], `–` where a figure is missing.
pub fn markdown_table<'a>(
    title: &str,
    first_column: &str,
    rows: impl IntoIterator<Item = (&'a str, &'a Figures)>,
) -> String {
    use std::fmt::Write as _;
    let rows: Vec<(&str, &Figures)> = rows.into_iter().collect();
    let columns: Vec<Figure> = Figure::ALL
        .into_iter()
        .filter(|figure| {
            !figure.is_booking()
                || rows
                    .iter()
                    .any(|(_, figures)| figures.get(*figure).is_some())
        })
        .collect();
    let mut out = format!("{title}\n\n| {first_column} |");
    for figure in &columns {
        let _ = write!(out, " {} |", figure.heading());
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(columns.len()));
    out.push('\n');
    for (name, figures) in rows {
        let _ = write!(out, "| {name} |");
        for &figure in &columns {
            match figures.get(figure) {
                Some(value) => {
                    let _ = write!(out, " {value:.0$} |", figure.decimals());
                }
                None => out.push_str(" – |"),
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.95), Some(95.0));
        assert_eq!(percentile(&values, 0.99), Some(99.0));
        assert_eq!(percentile(&[3.0], 0.99), Some(3.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn jain_index() {
        assert_eq!(jain(&[2.0, 2.0, 2.0]), Some(1.0));
        assert_eq!(jain(&[0.0, 0.0]), Some(1.0));
        assert!((jain(&[1.0, 0.0, 0.0, 0.0]).unwrap() - 0.25).abs() < 1e-12);
    }
}
