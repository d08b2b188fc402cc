//! What the hub measures as it works: latency histograms and a subscriber gauge in atomics,
//! updated by the writer, the syncer threads, the call-next route and the event stream, and
//! written out by `GET /metrics` (`crate::http::metrics`).

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds: a synced commit costs a few milliseconds,
/// a call under load tens of them.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A latency histogram: a count per bucket (not cumulative; the exposition sums them), the
/// total count and the sum in nanoseconds.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        // Read the count after the buckets: an observation in between lands in +Inf, which
        // keeps the buckets at most the count, as Prometheus expects.
        let count = self.count().max(cumulative);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// What the hub measures as it works; one per hub, shared by the writer and the handlers.
#[derive(Debug, Default)]
pub struct Metrics {
    /// How long each append of a batch to SQLite took (the writer records it; the WAL is
    /// written, not yet synced).
    pub commit: Histogram,
    /// How long each sync of the WAL took (the syncer threads record it): what the disk costs.
    pub sync: Histogram,
    /// How long `POST /api/windows/{n}/call-next` took, from request to answer.
    pub call_next: Histogram,
    sse_subscribers: AtomicI64,
    /// What the accept loop (`crate::http::conn`) saw.
    pub connections: ConnectionCounts,
}

/// Counters of the accept loop: connections refused at the door, and connections closed or
/// requests cut off because a client was too slow.
#[derive(Debug, Default)]
pub struct ConnectionCounts {
    pub accepted: AtomicU64,
    /// Refused: the address held as many as one address may.
    pub refused_per_address: AtomicU64,
    /// Refused: the strangers held all they may, or the hub was full.
    pub refused_capacity: AtomicU64,
    /// Closed: a request's head did not arrive within the header-read timeout.
    pub header_timeouts: AtomicU64,
    /// Closed: a kept-alive connection stayed idle past the timeout.
    pub idle_closed: AtomicU64,
    /// Answered `408`: a request's body did not arrive within the body-read timeout.
    pub body_timeouts: AtomicU64,
    /// Event streams refused: the address followed as many as one address may.
    pub streams_refused: AtomicU64,
}

impl ConnectionCounts {
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    /// Counts an event-stream subscriber until the guard is dropped.
    pub fn subscriber(self: &Arc<Metrics>) -> SubscriberGuard {
        self.sse_subscribers.fetch_add(1, Ordering::Relaxed);
        SubscriberGuard(self.clone())
    }

    pub fn sse_subscribers(&self) -> i64 {
        self.sse_subscribers.load(Ordering::Relaxed)
    }
}

/// Holds one place in the subscriber gauge.
pub struct SubscriberGuard(Arc<Metrics>);

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        self.0.sse_subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_at_the_count() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(500));
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_secs(60));
        let mut out = String::new();
        histogram.write(&mut out, "t", "test");
        assert!(out.contains("t_bucket{le=\"0.001\"} 1\n"), "{out}");
        assert!(out.contains("t_bucket{le=\"0.0025\"} 1\n"), "{out}");
        assert!(out.contains("t_bucket{le=\"0.005\"} 3\n"), "{out}");
        assert!(out.contains("t_bucket{le=\"5\"} 3\n"), "{out}");
        assert!(out.contains("t_bucket{le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("t_count 4\n"), "{out}");
        assert!(out.contains("t_sum 60.0065\n"), "{out}");
    }

    #[test]
    fn the_subscriber_gauge_follows_its_guards() {
        let metrics = Metrics::new();
        let first = metrics.subscriber();
        let second = metrics.subscriber();
        assert_eq!(metrics.sse_subscribers(), 2);
        drop(first);
        assert_eq!(metrics.sse_subscribers(), 1);
        drop(second);
        assert_eq!(metrics.sse_subscribers(), 0);
    }
}
