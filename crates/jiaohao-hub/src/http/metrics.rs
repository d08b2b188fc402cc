//! `GET /metrics`: the hub's figures in Prometheus' text exposition format, written by hand
//! (a dozen lines of format do not need a crate). Per-service figures come from the hall state
//! in the writer's turn; latencies and the subscriber count from [`Metrics`]
//! (`crate::engine::metrics`), a few atomics the writer, the call-next route and the event
//! stream update as they work.
//!
//! Who may read it: a scraper on the hub's own machine (a loopback peer) without credentials,
//! and anyone else with an admin, supervisor or display token or session. The figures are
//! counts and times, no ticket or person, but a hall need not publish its load to the street.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiaohao_core::TicketStatus;
use jiaohao_store::Role;

use crate::engine::metrics::Metrics;
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::state::AppState;

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
    let (total, strangers) = state.limits.connections_held();
    let held = Held {
        total,
        strangers,
        capacity: state.limits.capacity(),
    };
    let mut body = exposition(&services, &state.metrics, seq, held);
    standby_figures(&state, &mut body);
    sms_figures(&state, &mut body);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

/// Booking SMS sent and not sent (whatever the sender: file, command or HTTP gateway).
fn sms_figures(state: &AppState, out: &mut String) {
    use std::sync::atomic::Ordering::Relaxed;
    let _ = writeln!(
        out,
        "# HELP jiaohao_sms_total Booking verification SMS: sent, or failed (the command failed, the HTTP gateway answered other than 2xx or not in time).\n# TYPE jiaohao_sms_total counter\njiaohao_sms_total{{result=\"sent\"}} {}\njiaohao_sms_total{{result=\"failed\"}} {}",
        state.bookings.sms_sent.load(Relaxed),
        state.bookings.sms_failed.load(Relaxed)
    );
}

/// The hub's part and, on a standby, its lag; with `--sync-standby`, whether it runs alone.
fn standby_figures(state: &AppState, out: &mut String) {
    let marks = *state.marks.borrow();
    let _ = writeln!(
        out,
        "# HELP jiaohao_term The term of the hub's log (1 until the first promotion)."
    );
    let _ = writeln!(out, "# TYPE jiaohao_term gauge");
    let _ = writeln!(out, "jiaohao_term {}", marks.term);
    if let crate::standby::Part::Standby { .. } = state.role.part() {
        let lag = state.role.primary_last_seq().saturating_sub(marks.seq);
        let _ = writeln!(
            out,
            "# HELP jiaohao_standby_lag_records Records the primary holds that this standby does not yet."
        );
        let _ = writeln!(out, "# TYPE jiaohao_standby_lag_records gauge");
        let _ = writeln!(out, "jiaohao_standby_lag_records {lag}");
    }
    if let Some(sync) = &state.sync {
        let _ = writeln!(
            out,
            "# HELP jiaohao_sync_standby_alone 1 while no standby acknowledges changes in time (--sync-standby): answers do not wait for one."
        );
        let _ = writeln!(out, "# TYPE jiaohao_sync_standby_alone gauge");
        let _ = writeln!(out, "jiaohao_sync_standby_alone {}", u8::from(sync.alone()));
    }
}

/// A label value with `\`, `"` and line breaks escaped, as the format asks.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The accept loop's figures: connections held and refused, slow clients cut off.
fn connection_figures(out: &mut String, metrics: &Metrics, held: Held) {
    use std::sync::atomic::Ordering::Relaxed;
    let counts = &metrics.connections;
    let _ = writeln!(
        out,
        "# HELP jiaohao_connections_open Connections held now (all; strangers: from addresses that showed no credentials lately).\n# TYPE jiaohao_connections_open gauge\njiaohao_connections_open{{from=\"all\"}} {}\njiaohao_connections_open{{from=\"strangers\"}} {}",
        held.total, held.strangers
    );
    let _ = writeln!(
        out,
        "# HELP jiaohao_connection_capacity Connections the hub may hold at once (its open-file limit less what it needs itself).\n# TYPE jiaohao_connection_capacity gauge\njiaohao_connection_capacity {}",
        held.capacity
    );
    let _ = writeln!(
        out,
        "# HELP jiaohao_connections_accepted_total Connections accepted.\n# TYPE jiaohao_connections_accepted_total counter\njiaohao_connections_accepted_total {}",
        counts.accepted.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP jiaohao_connections_refused_total Connections answered 503 at once and closed: per_address (one address held its cap), capacity (the strangers held all they may).\n# TYPE jiaohao_connections_refused_total counter\njiaohao_connections_refused_total{{reason=\"per_address\"}} {}\njiaohao_connections_refused_total{{reason=\"capacity\"}} {}",
        counts.refused_per_address.load(Relaxed),
        counts.refused_capacity.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP jiaohao_slow_clients_total Connections closed or requests cut off for slowness: header (a request head not in time; closed), idle (a kept-alive connection idle too long; closed), body (a request body not in time; 408).\n# TYPE jiaohao_slow_clients_total counter\njiaohao_slow_clients_total{{cut=\"header\"}} {}\njiaohao_slow_clients_total{{cut=\"idle\"}} {}\njiaohao_slow_clients_total{{cut=\"body\"}} {}",
        counts.header_timeouts.load(Relaxed),
        counts.idle_closed.load(Relaxed),
        counts.body_timeouts.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP jiaohao_streams_refused_total Event-stream subscriptions answered 503: the address followed the stream as often as one address may.\n# TYPE jiaohao_streams_refused_total counter\njiaohao_streams_refused_total {}",
        counts.streams_refused.load(Relaxed)
    );
}

/// Connections held now and the capacity, as the limits count them.
struct Held {
    total: u32,
    strangers: u32,
    capacity: u32,
}

fn exposition(services: &[ServiceFigures], metrics: &Metrics, seq: u64, held: Held) -> String {
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
    connection_figures(&mut out, metrics, held);
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
