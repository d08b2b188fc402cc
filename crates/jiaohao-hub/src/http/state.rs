//! What every handler shares: the writer's handle, the published hall, the stream, a reader
//! connection, the clock, metrics and limits. Its own module, so that handlers and the
//! assembly of the hub (`crate::app`) import it without importing each other.

use std::sync::{Arc, Mutex};

use jiaohao_store::{ApiToken, Session, Store};
use tokio::sync::{broadcast, watch};

use crate::clock::{Clock, millis};
use crate::engine::stream::StreamItem;
use crate::engine::writer::{Published, WriterHandle};
use crate::http::error::ApiError;
use crate::http::limits::Limits;

#[derive(Clone)]
pub struct AppState {
    pub writer: WriterHandle,
    pub hall: watch::Receiver<Published>,
    pub stream: broadcast::Sender<StreamItem>,
    /// A read-only connection for token checks and stream replays; never used for writing.
    pub(crate) reader: Arc<Mutex<Store>>,
    pub shutdown: watch::Receiver<bool>,
    /// The hub's clock: sessions expire by it.
    pub clock: Arc<dyn Clock>,
    /// Latencies and gauges for `GET /metrics`.
    pub metrics: Arc<crate::engine::metrics::Metrics>,
    /// Rate limits (`limits.rs`).
    pub limits: Arc<Limits>,
    /// The identity key, the SMS sender and what bookings answered (`bookings.rs`).
    pub bookings: Arc<crate::http::bookings::BookingDesk>,
    /// Where the durable log stands (the replication stream's cue).
    pub marks: watch::Receiver<crate::engine::writer::Marks>,
    /// The part the hub plays (primary, standby, fenced) and what a standby knows of its
    /// primary.
    pub role: Arc<crate::standby::Role>,
    /// The database file, for readers that open a connection of their own (a replication
    /// stream reads long runs of the log without holding up the shared reader).
    pub db: Arc<std::path::PathBuf>,
    /// `--sync-standby`: changes wait for a standby's acknowledgement (`None`: they do not).
    pub sync: Option<Arc<crate::standby::SyncStandby>>,
    /// The rating pads' pairing codes shown and not yet used (`pads.rs`).
    pub pairings: Arc<crate::http::pads::Pairings>,
}

impl AppState {
    /// The token with this secret, looked up off the async workers (as every read).
    pub async fn find_token(&self, secret: &str) -> Result<Option<ApiToken>, ApiError> {
        let secret = secret.to_owned();
        self.read(move |store| store.find_token(&secret)).await
    }

    /// The live session with this cookie secret, now.
    pub async fn find_session(&self, secret: &str) -> Result<Option<Session>, ApiError> {
        let (secret, now) = (secret.to_owned(), self.now());
        self.read(move |store| store.find_session(&secret, now))
            .await
    }

    pub fn now(&self) -> jiaohao_core::Millis {
        millis(self.clock.now())
    }

    /// The hall view as last published (shared, not copied).
    pub fn hall_view(&self) -> Arc<jiaohao_wire::HallView> {
        self.hall.borrow().view.clone()
    }

    /// The hall's clock now, for a client to extrapolate from (made at request time, never
    /// stored in a published view, which would be stale for a client that reads it later).
    pub fn hall_clock(&self) -> jiaohao_wire::HallClock {
        jiaohao_wire::HallClock {
            now: crate::clock::rfc3339(self.now(), &self.zone()),
            speed: self.clock.speed(),
        }
    }

    /// A published view's JSON with the hall's clock of this moment added as its last member
    /// (`clock`, see `wire::TimedHallView`), without parsing the view again: the view is
    /// serialized once per change, and closing its object with one more member costs a copy.
    pub fn timed_hall_json(&self, view: &str) -> String {
        let Some(open) = view.trim_end().strip_suffix('}') else {
            return view.to_owned();
        };
        let clock = serde_json::to_string(&self.hall_clock()).unwrap_or_else(|_| "null".into());
        let comma = if open.trim_end().ends_with('{') {
            ""
        } else {
            ","
        };
        format!("{open}{comma}\"clock\":{clock}}}")
    }

    /// The hall's time zone, as its settings name it.
    pub fn zone(&self) -> jiff::tz::TimeZone {
        crate::clock::time_zone(&self.hall.borrow().view.timezone)
    }

    /// Runs a read on the reader connection off the async workers.
    pub async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Store) -> jiaohao_store::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let reader = reader.lock().unwrap_or_else(|e| e.into_inner());
            read(&reader)
        })
        .await
        .map_err(|_| ApiError::shutting_down())?
        .map_err(|error| {
            tracing::error!(%error, "read failed");
            ApiError::unavailable()
        })
    }
}
