//! `GET /api/events`: the live stream (Server-Sent Events). A `snapshot` of the hall first
//! (with the hall's clock of that moment), then one event per change with an increasing `id`
//! and a `hall_changed` after each batch. A client that reconnects with `Last-Event-ID` is sent what it missed from the log (across
//! hub restarts too), or a fresh snapshot when that is too much or unknown.
//!
//! Fan-out: the writer turns each change and each hall view into the bytes of one SSE message
//! once ([`frame`], in the engine); every subscriber is handed the same bytes. Each subscriber is one stream
//! polled by its connection's own task (no task or queue in between), and the messages that
//! are ready when it is polled go out as one write: a call's `ticket_called` and the
//! `hall_changed` after it reach a display in one packet. A subscriber that falls behind (its
//! connection backs up) skips the `hall_changed` messages a later one supersedes, but still
//! gets every change.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::{broadcast, watch};

use crate::engine::metrics::{ConnectionCounts, SubscriberGuard};
use crate::engine::stream::{StreamItem, frame};
use crate::engine::writer::Published;
use crate::http::auth::Principal;
use crate::http::limits::StreamGuard;
use crate::http::state::AppState;

/// At most this many missed events are replayed; a client further behind gets a snapshot.
const MAX_REPLAY: u64 = 1000;
const HEARTBEAT: Duration = Duration::from_secs(15);
/// How long a resuming client's `Last-Event-ID` may be ahead of the published view.
const VIEW_CATCH_UP: Duration = Duration::from_millis(500);
/// At most this many bytes of ready messages are joined into one write.
const MAX_WRITE: usize = 256 * 1024;

pub async fn stream(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    // A display or a signed-in page: valid credentials make the address a device's, for as
    // long as this stream is held too.
    let with_credentials = (parts.headers.contains_key(header::AUTHORIZATION)
        || parts.headers.contains_key(header::COOKIE))
        && Principal::from_request_parts(&mut parts, &state)
            .await
            .is_ok();
    let client = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied();
    let headers = parts.headers;
    // One address may hold only so many streams (`limits.rs`); a device address any number.
    let place = match client {
        Some(ConnectInfo(client)) => match state.limits.stream(client.ip(), with_credentials) {
            Ok(place) => Some(place),
            Err(refusal) => {
                ConnectionCounts::count(&state.metrics.connections.streams_refused);
                return refusal.into_response();
            }
        },
        None => None,
    };
    let last_id = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    // Subscribe before reading anything, so nothing committed in between is missed.
    let subscriber = Subscriber::new(state, last_id, place);
    let frames = futures_util::stream::unfold(subscriber, |mut subscriber| async move {
        subscriber
            .next_write()
            .await
            .map(|bytes| (Ok::<Bytes, Infallible>(bytes), subscriber))
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

/// A hall view made for this subscriber now (its opening, or a fresh start after a lag), so it
/// carries the hall's clock of this moment; the live `hall_changed` views, made once for all
/// subscribers, do not.
fn hall_frame(state: &AppState, name: &str, published: &Published) -> Bytes {
    frame(name, published.seq, &state.timed_hall_json(&published.json))
}

/// Bytes for one write: a single message as it is (shared, not copied), several joined.
#[derive(Default)]
struct Write {
    parts: Vec<Bytes>,
    len: usize,
}

impl Write {
    fn push(&mut self, bytes: Bytes) {
        self.len += bytes.len();
        self.parts.push(bytes);
    }

    fn into_bytes(mut self) -> Option<Bytes> {
        match self.parts.len() {
            0 => None,
            1 => self.parts.pop(),
            _ => {
                let mut joined = Vec::with_capacity(self.len);
                for part in &self.parts {
                    joined.extend_from_slice(part);
                }
                Some(Bytes::from(joined))
            }
        }
    }
}

/// What the broadcast channel hands over: an item, or word that items were missed or that the
/// channel closed.
type Received = Result<StreamItem, broadcast::error::RecvError>;

/// One follower of the stream, from its first message until it goes away or the hub stops.
/// Dropped with its connection's body: that ends it and frees its place in the gauge.
struct Subscriber {
    state: AppState,
    live: broadcast::Receiver<StreamItem>,
    shutdown: watch::Receiver<bool>,
    heartbeat: tokio::time::Interval,
    /// `Some(Last-Event-ID)` until the opening (snapshot or replay) is sent.
    opening: Option<Option<u64>>,
    /// The id of the last change or view sent.
    sent: u64,
    /// What was taken from the broadcast channel and not yet handled, in order (a `Lagged`
    /// among it too, so that no gap is lost).
    pending: VecDeque<Received>,
    finished: bool,
    _gauge: SubscriberGuard,
    _place: Option<StreamGuard>,
}

impl Subscriber {
    fn new(state: AppState, last_id: Option<u64>, place: Option<StreamGuard>) -> Subscriber {
        let live = state.stream.subscribe();
        Subscriber {
            live,
            shutdown: state.shutdown.clone(),
            heartbeat: tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT),
            opening: Some(last_id),
            sent: 0,
            pending: VecDeque::new(),
            finished: false,
            _gauge: state.metrics.subscriber(),
            _place: place,
            state,
        }
    }

    /// The next bytes to write, or `None` when the stream ends.
    async fn next_write(&mut self) -> Option<Bytes> {
        if self.finished {
            return None;
        }
        if let Some(last_id) = self.opening.take() {
            return Some(self.open(last_id).await);
        }
        loop {
            let item = match self.pending.pop_front() {
                Some(item) => item,
                None => tokio::select! {
                    item = self.live.recv() => item,
                    _ = self.heartbeat.tick() => {
                        return Some(Bytes::from_static(b":heartbeat\n\n"));
                    }
                    _ = self.shutdown.wait_for(|stopping| *stopping) => {
                        // Say goodbye, so a client knows the hub stopped on purpose; then the
                        // stream ends and the server can stop.
                        self.finished = true;
                        return Some(Bytes::from_static(b"event: shutdown\ndata: {}\n\n"));
                    }
                },
            };
            let mut write = Write::default();
            self.take(item, &mut write);
            // Whatever else is ready goes into the same write.
            while !self.finished && write.len < MAX_WRITE {
                let Some(next) = self.pending.pop_front().or_else(|| self.try_live()) else {
                    break;
                };
                self.take(next, &mut write);
            }
            if let Some(bytes) = write.into_bytes() {
                return Some(bytes);
            }
            if self.finished {
                return None;
            }
        }
    }

    /// What the broadcast channel holds now, without waiting; `None` when it is empty.
    fn try_live(&mut self) -> Option<Received> {
        match self.live.try_recv() {
            Ok(item) => Some(Ok(item)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                Some(Err(broadcast::error::RecvError::Lagged(n)))
            }
            Err(broadcast::error::TryRecvError::Closed) => {
                Some(Err(broadcast::error::RecvError::Closed))
            }
            Err(broadcast::error::TryRecvError::Empty) => None,
        }
    }

    /// Adds what `item` asks to send to `write`, if anything.
    fn take(&mut self, item: Received, write: &mut Write) {
        match item {
            Ok(StreamItem::Change { seq, frame }) => {
                if seq > self.sent {
                    self.sent = seq;
                    write.push(frame);
                }
            }
            Ok(StreamItem::HallChanged { seq, frame }) => {
                if seq < self.sent {
                    return;
                }
                // Behind: whatever else is waiting already is taken now, and this view is
                // skipped if a later one is among it.
                while let Some(next) = self.try_live() {
                    let closed = matches!(next, Err(broadcast::error::RecvError::Closed));
                    self.pending.push_back(next);
                    if closed {
                        break;
                    }
                }
                if !self
                    .pending
                    .iter()
                    .any(|item| matches!(item, Ok(StreamItem::HallChanged { .. })))
                {
                    write.push(frame);
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Too slow to follow every event: start again from the present. What came
                // before the gap (already in this write) and what is still pending stays: the
                // ids skip what the snapshot holds, and a change committed after the view it
                // shows still goes out.
                let current = self.state.hall.borrow().clone();
                self.sent = self.sent.max(current.seq);
                write.push(hall_frame(&self.state, "snapshot", &current));
            }
            Err(broadcast::error::RecvError::Closed) => self.finished = true,
        }
    }

    /// The first write: a snapshot, or what the client missed since `last_id` from the log.
    async fn open(&mut self, last_id: Option<u64>) -> Bytes {
        let mut current = self.state.hall.borrow().clone();
        if let Some(last) = last_id
            && last > current.seq
        {
            // A batch's changes go out before its view is published: a client that saw them
            // and came straight back may be a moment ahead of the view. Wait for it (briefly:
            // an id that stays ahead is from another history, and gets a snapshot).
            let mut hall = self.state.hall.clone();
            if let Ok(Ok(view)) = tokio::time::timeout(
                VIEW_CATCH_UP,
                hall.wait_for(|published| published.seq >= last),
            )
            .await
            {
                current = view.clone();
            }
        }
        let mut write = Write::default();
        match last_id {
            Some(last) if last <= current.seq && current.seq - last <= MAX_REPLAY => {
                // `current` was published before the log is read, so the read holds every
                // change up to it: the view follows the replay, unless the read also saw
                // changes committed since (their batch is published later, into the live
                // channel subscribed before the read, view and all), and this view would go
                // back.
                let replayed = replay(&self.state, last, &mut write).await;
                if replayed <= current.seq {
                    write.push(hall_frame(&self.state, "hall_changed", &current));
                    self.sent = current.seq;
                } else {
                    self.sent = replayed;
                }
            }
            _ => {
                write.push(hall_frame(&self.state, "snapshot", &current));
                self.sent = current.seq;
            }
        }
        write.into_bytes().unwrap_or_default()
    }
}

/// Adds the logged changes after `last` to `write`; returns the last id added. If the log
/// cannot be read, adds a snapshot instead and returns its id.
async fn replay(state: &AppState, last: u64, write: &mut Write) -> u64 {
    let missed = state
        .read(move |store| store.public_after(last, MAX_REPLAY as usize))
        .await;
    let Ok(missed) = missed else {
        let current = state.hall.borrow().clone();
        write.push(hall_frame(state, "snapshot", &current));
        return current.seq;
    };
    let mut sent = last;
    for message in missed {
        write.push(frame(
            crate::engine::views::change_name(&message.kind),
            message.seq,
            &message.json,
        ));
        sent = message.seq;
    }
    sent
}
