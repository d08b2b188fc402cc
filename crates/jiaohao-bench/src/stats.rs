//! Latency percentiles.

use std::time::Duration;

/// The `p`-th percentile (0–100) of a set of durations, in milliseconds.
pub fn percentile_ms(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_hundred() {
        let mut samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        samples.reverse();
        assert_eq!(percentile_ms(&mut samples, 50.0), 51.0);
        assert_eq!(percentile_ms(&mut samples, 99.0), 99.0);
        assert_eq!(percentile_ms(&mut samples, 100.0), 100.0);
        assert!(percentile_ms(&mut [], 50.0).is_nan());
    }
}
