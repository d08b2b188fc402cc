//! `GET /api/events`: the live stream (Server-Sent Events). A `snapshot` of the hall first,
//! then one event per change with an increasing `id` and a `hall_changed` after each batch.
//! A client that reconnects with `Last-Event-ID` is sent what it missed from the log (across
//! hub restarts too), or a fresh snapshot when that is too much or unknown.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::{broadcast, mpsc};

use crate::app::AppState;
use crate::writer::{Published, StreamItem};

/// At most this many missed events are replayed; a client further behind gets a snapshot.
const MAX_REPLAY: u64 = 1000;
const HEARTBEAT: Duration = Duration::from_secs(15);

pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let last_id = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    // Subscribe before reading anything, so nothing committed in between is missed.
    let live = state.stream.subscribe();
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(feed(state, last_id, live, tx));
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
}

fn hall_event(name: &str, published: &Published) -> Event {
    Event::default()
        .event(name)
        .id(published.seq.to_string())
        .data(&*published.json)
}

/// Feeds one subscriber until it goes away or the hub shuts down.
async fn feed(
    state: AppState,
    last_id: Option<u64>,
    mut live: broadcast::Receiver<StreamItem>,
    tx: mpsc::Sender<Event>,
) {
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
            if now.seq >= sent && tx.send(hall_event("hall_changed", &now)).await.is_err() {
                return;
            }
            sent.max(now.seq)
        }
        _ => {
            if tx.send(hall_event("snapshot", &current)).await.is_err() {
                return;
            }
            current.seq
        }
    };
    loop {
        let item = tokio::select! {
            item = live.recv() => item,
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        };
        let event = match item {
            Ok(StreamItem::Change { seq, name, json }) => {
                if seq <= sent {
                    continue;
                }
                sent = seq;
                Event::default()
                    .event(name)
                    .id(seq.to_string())
                    .data(&*json)
            }
            Ok(StreamItem::HallChanged(published)) => {
                if published.seq < sent {
                    continue;
                }
                hall_event("hall_changed", &published)
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Too slow to follow every event: start again from the present.
                let current = state.hall.borrow().clone();
                sent = current.seq;
                hall_event("snapshot", &current)
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

/// Sends the logged changes after `last`; returns the last id sent, or `None` if the client
/// went away or the log could not be read (after sending a snapshot instead).
async fn replay(state: &AppState, last: u64, tx: &mpsc::Sender<Event>) -> Option<u64> {
    let missed = state
        .read(move |store| store.public_after(last, MAX_REPLAY as usize))
        .await;
    let Ok(missed) = missed else {
        let current = state.hall.borrow().clone();
        tx.send(hall_event("snapshot", &current)).await.ok()?;
        return Some(current.seq);
    };
    let mut sent = last;
    for (seq, json) in missed {
        let name = serde_json::from_str::<serde_json::Value>(&json)
            .ok()
            .and_then(|value| value.get("type")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| "change".to_owned());
        let event = Event::default().event(name).id(seq.to_string()).data(json);
        tx.send(event).await.ok()?;
        sent = seq;
    }
    Some(sent)
}
