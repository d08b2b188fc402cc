//! `GET /api/events`: the live stream (Server-Sent Events). A `snapshot` of the hall first,
//! then one event per change with an increasing `id` and a `hall_changed` after each batch.
//! A client that reconnects with `Last-Event-ID` is sent what it missed from the log (across
//! hub restarts too), or a fresh snapshot when that is too much or unknown.
//!
//! Fan-out: the writer turns each change and each hall view into the bytes of one SSE message
//! once ([`frame`]); every subscriber is handed the same bytes. A subscriber that falls behind
//! (its connection backs up) skips the `hall_changed` messages a later one supersedes, but
//! still gets every change.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{broadcast, mpsc};

use crate::app::AppState;
use crate::writer::{Published, StreamItem};

/// At most this many missed events are replayed; a client further behind gets a snapshot.
const MAX_REPLAY: u64 = 1000;
const HEARTBEAT: Duration = Duration::from_secs(15);
/// Messages queued for one subscriber's connection. Small on purpose: when a connection
/// backs up, the messages wait in the broadcast channel instead, where superseded hall views
/// can still be skipped.
const QUEUED_PER_SUBSCRIBER: usize = 16;

/// One Server-Sent Events message, ready to write: `event`, `id` and `data` lines and the
/// blank line that ends it.
pub fn frame(name: &str, id: u64, data: &str) -> Bytes {
    let mut text = String::with_capacity(name.len() + data.len() + 40);
    text.push_str("event: ");
    text.push_str(name);
    text.push_str("\nid: ");
    text.push_str(&id.to_string());
    text.push('\n');
    // Compact JSON has no line breaks; should one ever come, each line is a `data` field.
    for line in data.split('\n') {
        text.push_str("data: ");
        text.push_str(line.trim_end_matches('\r'));
        text.push('\n');
    }
    text.push('\n');
    Bytes::from(text)
}

pub async fn stream(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let last_id = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    // Subscribe before reading anything, so nothing committed in between is missed.
    let live = state.stream.subscribe();
    let (tx, rx) = mpsc::channel(QUEUED_PER_SUBSCRIBER);
    tokio::spawn(feed(state, last_id, live, tx));
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|frame| (Ok::<Bytes, Infallible>(frame), rx))
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(frames),
    )
        .into_response()
}

fn hall_frame(name: &str, published: &Published) -> Bytes {
    frame(name, published.seq, &published.json)
}

/// Feeds one subscriber until it goes away or the hub shuts down.
async fn feed(
    state: AppState,
    last_id: Option<u64>,
    mut live: broadcast::Receiver<StreamItem>,
    tx: mpsc::Sender<Bytes>,
) {
    let _subscriber = state.metrics.subscriber();
    let mut shutdown = state.shutdown.clone();
    let current = state.hall.borrow().clone();
    let mut sent = match last_id {
        Some(last) if last <= current.seq && current.seq - last <= MAX_REPLAY => {
            let Some(sent) = replay(&state, last, &tx).await else {
                return;
            };
            // The log can be ahead of the published view (committed, not yet published);
            // then the live `hall_changed` of that batch follows, and this one would go back.
            let now = state.hall.borrow().clone();
            if now.seq >= sent && tx.send(hall_frame("hall_changed", &now)).await.is_err() {
                return;
            }
            sent.max(now.seq)
        }
        _ => {
            if tx.send(hall_frame("snapshot", &current)).await.is_err() {
                return;
            }
            current.seq
        }
    };
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    // Items taken from the broadcast channel and not yet sent.
    let mut pending: VecDeque<StreamItem> = VecDeque::new();
    loop {
        let item = match pending.pop_front() {
            Some(item) => Some(Some(Ok(item))),
            None => tokio::select! {
                item = live.recv() => Some(Some(item)),
                _ = heartbeat.tick() => Some(None),
                _ = shutdown.wait_for(|stopping| *stopping) => None,
                // The subscriber went away: stop following for it now, not at the next change.
                _ = tx.closed() => return,
            },
        };
        let item = match item {
            Some(Some(item)) => Some(item),
            Some(None) => {
                if tx
                    .send(Bytes::from_static(b":heartbeat\n\n"))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
            None => None,
        };
        let Some(item) = item else {
            // Say goodbye, so a client knows the hub stopped on purpose; then the stream ends
            // and the server can stop.
            let _ = tx
                .send(Bytes::from_static(b"event: shutdown\ndata: {}\n\n"))
                .await;
            return;
        };
        let frame = match item {
            Ok(StreamItem::Change { seq, frame }) => {
                if seq <= sent {
                    continue;
                }
                sent = seq;
                frame
            }
            Ok(StreamItem::HallChanged { seq, frame }) => {
                if seq < sent {
                    continue;
                }
                // Behind: whatever else is waiting already is taken now, and this view is
                // skipped if a later one is among it.
                while let Ok(next) = live.try_recv() {
                    pending.push_back(next);
                }
                if pending
                    .iter()
                    .any(|item| matches!(item, StreamItem::HallChanged { .. }))
                {
                    continue;
                }
                frame
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Too slow to follow every event: start again from the present.
                pending.clear();
                let current = state.hall.borrow().clone();
                sent = current.seq;
                hall_frame("snapshot", &current)
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if tx.send(frame).await.is_err() {
            return;
        }
    }
}

/// Sends the logged changes after `last`; returns the last id sent, or `None` if the client
/// went away or the log could not be read (after sending a snapshot instead).
async fn replay(state: &AppState, last: u64, tx: &mpsc::Sender<Bytes>) -> Option<u64> {
    let missed = state
        .read(move |store| store.public_after(last, MAX_REPLAY as usize))
        .await;
    let Ok(missed) = missed else {
        let current = state.hall.borrow().clone();
        tx.send(hall_frame("snapshot", &current)).await.ok()?;
        return Some(current.seq);
    };
    let mut sent = last;
    for (seq, json) in missed {
        let name = serde_json::from_str::<serde_json::Value>(&json)
            .ok()
            .and_then(|value| value.get("type")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| "change".to_owned());
        tx.send(frame(&name, seq, &json)).await.ok()?;
        sent = seq;
    }
    Some(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_one_complete_server_sent_event() {
        let bytes = frame("ticket_called", 42, r#"{"id":42,"number":"A001"}"#);
        assert_eq!(
            &bytes[..],
            b"event: ticket_called\nid: 42\ndata: {\"id\":42,\"number\":\"A001\"}\n\n"
        );
        // A line break in the data cannot end the message early or forge a field.
        let bytes = frame("hall_changed", 7, "{\"a\":1,\r\nid: 99\n}");
        assert_eq!(
            &bytes[..],
            b"event: hall_changed\nid: 7\ndata: {\"a\":1,\ndata: id: 99\ndata: }\n\n"
        );
    }
}
