//! `GET /api/replication?after=SEQ&side_after=SEQ`: the hub's history as a stream of NDJSON
//! lines (`wire::ReplicationLine`), for a standby hub (`replica` token) and the city's service
//! (`ingest` token).
//!
//! The stream opens with a heartbeat (where the log stands), then sends every record after
//! `after` in order, as stored (its own sequence number, term and bytes), and for a `replica`
//! every side change after `side_after` (users, sessions, token hashes, device problems), then
//! whatever the writer makes durable next, as soon as its sync is done: it waits on the
//! writer's marks (`engine::writer::Marks`), never polls. An idle stream sends a heartbeat at
//! least every [`HEARTBEAT`]. Only what is durable is sent, so a reader never holds a record
//! the hub could lose in a power cut. A reader that resumes with the last numbers it holds
//! gets exactly the rest.
//!
//! A stream opened with a token ends when that token is revoked (checked when the side log
//! moves and before each heartbeat), so a revoked reader is cut off within [`HEARTBEAT`] and
//! its next request is refused.
//!
//! An `ingest` reader never sees a secret: no side lines, no `public` messages, and each
//! record's body through `stored::without_secrets` (a ticket's page token and idempotency key
//! blanked).

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

use jiaohao_store::{RawRecord, Role, SideChange, Store, stored};
use jiaohao_wire::ReplicationLine;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::engine::writer::Marks;
use crate::http::api::Params;
use crate::http::auth::{Principal, Via};
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// An idle stream sends a heartbeat this often.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// At most this many records (or side changes) are read for one write.
const CHUNK: usize = 1000;

#[derive(Debug, Default, Deserialize)]
pub struct ReplicationQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    side_after: Option<String>,
}

/// A sequence number from the query: absent is 0 (from the start).
fn position(text: Option<&str>, name: &str) -> Result<u64, ApiError> {
    match text {
        None => Ok(0),
        Some(text) => text.trim().parse().map_err(|_| {
            ApiError::bad_request(format!(
                "{name} must be a sequence number (0 or more), not '{text}'"
            ))
        }),
    }
}

pub async fn stream(
    State(state): State<AppState>,
    who: Principal,
    Params(query): Params<ReplicationQuery>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Replica, Role::Ingest])?;
    let after = position(query.after.as_deref(), "after")?;
    let side_after = position(query.side_after.as_deref(), "side_after")?;
    let ingest = who.role == Role::Ingest;
    let marks = *state.marks.borrow();
    if after > marks.seq {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ahead_of_log",
            format!(
                "this hub's log ends at record {}, before {after}: the reader holds records this hub does not (another history?)",
                marks.seq
            ),
        ));
    }
    if !ingest && side_after > marks.side_seq {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ahead_of_log",
            format!(
                "this hub's side log ends at change {}, before {side_after}: the reader holds changes this hub does not (another history?)",
                marks.side_seq
            ),
        ));
    }
    // A connection of its own: a catch-up reads long runs of the log, and the shared reader
    // checks every request's token.
    let db = state.db.clone();
    let connection = tokio::task::spawn_blocking(move || Store::open_read_only(&db))
        .await
        .map_err(|_| ApiError::shutting_down())?
        .map_err(|error| {
            tracing::error!(%error, "cannot open a reader for the replication stream");
            ApiError::unavailable()
        })?;
    let token = match who.via {
        Via::Token { id } => Some(id),
        Via::Session { .. } => None,
    };
    let reader = Reader {
        connection: Arc::new(Mutex::new(connection)),
        token,
        side_seen: marks.side_seq,
        marks: state.marks.clone(),
        shutdown: state.shutdown.clone(),
        state,
        ingest,
        after,
        side_after,
        opened: false,
        finished: false,
        idle_since: Instant::now(),
    };
    let lines = futures_util::stream::unfold(reader, |mut reader| async move {
        reader
            .next_write()
            .await
            .map(|bytes| (Ok::<Bytes, Infallible>(bytes), reader))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(lines),
    )
        .into_response())
}

/// `POST /api/replication/ack` (replica): the standby holds every record up to `seq` and
/// every side change up to `side_seq` durably; a primary started with `--sync-standby` answers the changes waiting for it.
pub async fn acknowledge(
    State(state): State<AppState>,
    who: Principal,
    crate::http::api::Body(ack): crate::http::api::Body<jiaohao_wire::ReplicationAck>,
) -> Result<StatusCode, ApiError> {
    who.require(&[Role::Replica])?;
    if let Some(sync) = &state.sync {
        // A standby older than `side_seq` says nothing of the side log: its records are
        // what can be waited for.
        let side_seq = ack.side_seq.unwrap_or(u64::MAX);
        sync.acknowledged(ack.seq, side_seq, *state.marks.borrow());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// One reader of the stream, from its opening heartbeat until it goes away or the hub stops.
struct Reader {
    state: AppState,
    connection: Arc<Mutex<Store>>,
    marks: watch::Receiver<Marks>,
    shutdown: watch::Receiver<bool>,
    ingest: bool,
    /// The token the stream was opened with: the stream ends when it is revoked.
    token: Option<i64>,
    /// The side log's end when the token was last checked.
    side_seen: u64,
    /// The last record and side change sent (or that the reader said it holds).
    after: u64,
    side_after: u64,
    opened: bool,
    finished: bool,
    /// When the last write went out: a heartbeat follows [`HEARTBEAT`] after it.
    idle_since: Instant,
}

impl Reader {
    async fn next_write(&mut self) -> Option<Bytes> {
        if self.finished {
            return None;
        }
        if !self.opened {
            self.opened = true;
            return Some(self.heartbeat());
        }
        loop {
            let marks = *self.marks.borrow_and_update();
            // A revocation is a side change: check the token when the side log moved.
            if marks.side_seq != self.side_seen {
                self.side_seen = marks.side_seq;
                if !self.token_live().await {
                    self.finished = true;
                    return None;
                }
            }
            if self.after < marks.seq {
                let (after, upto) = (self.after, marks.seq);
                let read = self
                    .read(move |store| store.raw_records_after(after, upto, CHUNK))
                    .await;
                let Ok(records) = read else {
                    // The reader reconnects and resumes where it stopped.
                    self.finished = true;
                    return None;
                };
                if let Some(last) = records.last() {
                    self.after = last.seq;
                }
                let lines: Vec<ReplicationLine> =
                    records.iter().filter_map(|r| self.record_line(r)).collect();
                return Some(self.write(lines.into_iter()));
            }
            if !self.ingest && self.side_after < marks.side_seq {
                let (after, upto) = (self.side_after, marks.side_seq);
                let read = self
                    .read(move |store| store.side_changes_after(after, upto, CHUNK))
                    .await;
                let Ok(changes) = read else {
                    self.finished = true;
                    return None;
                };
                if let Some(last) = changes.last() {
                    self.side_after = last.seq;
                }
                return Some(self.write(changes.into_iter().map(side_line)));
            }
            let woke = tokio::select! {
                changed = self.marks.changed() => {
                    if changed.is_ok() { Wake::Marks } else { Wake::Stop }
                }
                () = tokio::time::sleep_until(self.idle_since + HEARTBEAT) => Wake::Heartbeat,
                _ = self.shutdown.wait_for(|stopping| *stopping) => Wake::Stop,
            };
            match woke {
                Wake::Marks => {}
                // Also checked here, for a token revoked by another process (the CLI).
                Wake::Heartbeat if !self.token_live().await => {
                    self.finished = true;
                    return None;
                }
                Wake::Heartbeat => return Some(self.heartbeat()),
                Wake::Stop => {
                    self.finished = true;
                    return None;
                }
            }
        }
    }

    /// Runs a read on this stream's own connection, off the async workers.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Store) -> jiaohao_store::Result<T> + Send + 'static,
    ) -> Result<T, ()> {
        let connection = self.connection.clone();
        tokio::task::spawn_blocking(move || {
            let store = connection.lock().unwrap_or_else(|e| e.into_inner());
            read(&store)
        })
        .await
        .map_err(|_| ())?
        .map_err(|error| tracing::warn!(%error, "the replication stream cannot read the log"))
    }

    /// Whether the stream's token is still live (always, for a session); a store that cannot
    /// be read ends the stream too (the reader reconnects and is asked again).
    async fn token_live(&self) -> bool {
        let Some(id) = self.token else {
            return true;
        };
        let tokens = self.state.read(move |store| store.list_tokens()).await;
        tokens.is_ok_and(|tokens| tokens.iter().any(|t| t.id == id && !t.revoked))
    }

    fn heartbeat(&mut self) -> Bytes {
        let marks = *self.marks.borrow();
        let line = ReplicationLine::Heartbeat {
            last_seq: marks.seq,
            last_side_seq: if self.ingest { 0 } else { marks.side_seq },
            term: marks.term,
            at_ms: self.state.now().0,
            identity_key_id: (!self.ingest).then(|| self.state.bookings.key.id()),
        };
        self.write(std::iter::once(line))
    }

    fn write(&mut self, lines: impl Iterator<Item = ReplicationLine>) -> Bytes {
        self.idle_since = Instant::now();
        let mut text = String::new();
        for line in lines {
            if let Ok(json) = serde_json::to_string(&line) {
                text.push_str(&json);
                text.push('\n');
            }
        }
        Bytes::from(text)
    }

    /// A record's line as this reader may see it; `None` for a record withheld from an
    /// `ingest` reader because its secrets cannot be told apart.
    fn record_line(&self, record: &RawRecord) -> Option<ReplicationLine> {
        let (body, public) = if self.ingest {
            (stored::without_secrets(&record.body)?, None)
        } else {
            (record.body.clone(), record.public.clone())
        };
        Some(ReplicationLine::Record {
            seq: record.seq,
            term: record.term,
            at_ms: record.at.0,
            actor: record.actor.clone(),
            kind: record.kind.clone(),
            body,
            public,
        })
    }
}

/// What ended a wait for something to send.
enum Wake {
    Marks,
    Heartbeat,
    Stop,
}

fn side_line(change: SideChange) -> ReplicationLine {
    ReplicationLine::Side {
        seq: change.seq,
        table: change.table,
        op: change.op,
        row: serde_json::from_str(&change.row).unwrap_or(serde_json::Value::Null),
    }
}
