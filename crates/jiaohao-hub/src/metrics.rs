//! `GET /metrics`: the hub's figures in Prometheus' text exposition format, written by hand
//! (a dozen lines of format do not need a crate). Per-service figures come from the hall state
//! in the writer's turn; latencies and the subscriber count from [`Metrics`], a few atomics the
//! writer, the call-next route and the event stream update as they work.
//!
//! Who may read it: a scraper on the hub's own machine (a loopback peer) without credentials,
//! and anyone else with an admin, supervisor or display token or session. The figures are
//! counts and times, no ticket or person, but a hall need not publish its load to the street.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiaohao_core::TicketStatus;
use jiaohao_store::Role;

use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::state::AppState;

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

    fn write(&self, out: &mut String, name: &str, help: &str) {
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

/// Times the call-next route (a layer on that route only).
pub async fn time_call_next(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.call_next.observe(started.elapsed());
    response
}

/// Whether a peer is on the hub's own machine: a loopback address, also written as an
/// IPv4-mapped IPv6 address when the hub listens on `[::]`.
fn on_this_machine(peer: &SocketAddr) -> bool {
    peer.ip().to_canonical().is_loopback()
}

/// One service's figures, read from the hall in the writer's turn.
struct ServiceFigures {
    code: String,
    issued: u32,
    served: u32,
    waiting: usize,
    projected_wait_ms: Option<i64>,
}

pub async fn metrics(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, _) = request.into_parts();
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
    if !peer.is_some_and(|ConnectInfo(peer)| on_this_machine(peer)) {
        let principal = Principal::from_request_parts(&mut parts, &state).await?;
        principal.require(&[Role::Admin, Role::Supervisor, Role::Display])?;
    }
    let services = state
        .writer
        .read(|context| {
            let hall = context.hall;
            hall.services()
                .into_iter()
                .map(|service| ServiceFigures {
                    code: service.code.to_string(),
                    issued: hall.issued_today(&service.code),
                    served: hall
                        .tickets()
                        .iter()
                        .filter(|t| t.service == service.code && t.status == TicketStatus::Done)
                        .count() as u32,
                    waiting: hall.queues().waiting_for_service(&service.code),
                    projected_wait_ms: context.projection.new_ticket_wait_ms(&service.code),
                })
                .collect::<Vec<_>>()
        })
        .await?;
    let seq = state.hall.borrow().seq;
    let body = exposition(&services, &state.metrics, seq);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

/// A label value with `\`, `"` and line breaks escaped, as the format asks.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn exposition(services: &[ServiceFigures], metrics: &Metrics, seq: u64) -> String {
    let mut out = String::new();
    let mut family =
        |name: &str, kind: &str, help: &str, value: &dyn Fn(&ServiceFigures) -> Option<String>| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for service in services {
                if let Some(value) = value(service) {
                    let _ = writeln!(
                        out,
                        "{name}{{service=\"{}\"}} {value}",
                        label(&service.code)
                    );
                }
            }
        };
    family(
        "jiaohao_tickets_issued_total",
        "counter",
        "Tickets issued today per service; starts again at 0 with each local day.",
        &|s| Some(s.issued.to_string()),
    );
    family(
        "jiaohao_tickets_served_total",
        "counter",
        "Tickets finished at a window today per service (after transfers, the service that finished them); starts again at 0 with each local day.",
        &|s| Some(s.served.to_string()),
    );
    family(
        "jiaohao_tickets_waiting",
        "gauge",
        "Tickets waiting to be called per service.",
        &|s| Some(s.waiting.to_string()),
    );
    family(
        "jiaohao_projected_wait_seconds",
        "gauge",
        "Projected wait of a ticket taken now per service; absent when no working window would call it.",
        &|s| {
            s.projected_wait_ms
                .map(|ms| (ms as f64 / 1000.0).to_string())
        },
    );
    metrics.call_next.write(
        &mut out,
        "jiaohao_call_next_duration_seconds",
        "Time from a call-next request to its answer.",
    );
    metrics.commit.write(
        &mut out,
        "jiaohao_commit_duration_seconds",
        "Time to append and commit one batch of events to SQLite (written to the WAL; the sync follows).",
    );
    metrics.sync.write(
        &mut out,
        "jiaohao_sync_duration_seconds",
        "Time to sync the WAL to the disk (one sync covers every batch written before it began; answers wait for it).",
    );
    let _ = writeln!(
        out,
        "# HELP jiaohao_sse_subscribers Event-stream subscribers connected now.\n# TYPE jiaohao_sse_subscribers gauge\njiaohao_sse_subscribers {}",
        metrics.sse_subscribers()
    );
    let _ = writeln!(
        out,
        "# HELP jiaohao_log_last_seq The sequence number of the last event published from the log.\n# TYPE jiaohao_log_last_seq gauge\njiaohao_log_last_seq {seq}"
    );
    out
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

    #[test]
    fn only_loopback_peers_read_without_credentials() {
        let peer = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert!(on_this_machine(&peer("127.0.0.1:5000")));
        assert!(on_this_machine(&peer("127.8.9.10:5000")));
        assert!(on_this_machine(&peer("[::1]:5000")));
        assert!(on_this_machine(&peer("[::ffff:127.0.0.1]:5000")));
        assert!(!on_this_machine(&peer("10.0.0.7:5000")));
        assert!(!on_this_machine(&peer("[::ffff:192.168.1.20]:5000")));
        assert!(!on_this_machine(&peer("[fe80::1]:5000")));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
