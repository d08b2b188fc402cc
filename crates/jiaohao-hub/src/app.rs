//! Putting the hub together: shared state, the router, and `run`/`spawn`, which tests and the
//! demo use to start a real hub on a real port.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{delete, get, post, put};
use jiaohao_core::Command;
use jiaohao_store::{ApiToken, Session, Store};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};

use crate::api;
use crate::backups::{self, DailyBackup};
use crate::clock::{Clock, SystemClock, millis};
use crate::error::ApiError;
use crate::events;
use crate::limits::{self, LimitConfig, Limits};
use crate::writer::{self, Published, StreamItem, WriterHandle};
use crate::{pages, people, reports};

/// How a hub is started.
pub struct HubConfig {
    /// The SQLite file; created if missing.
    pub db: PathBuf,
    /// Commands that seed an empty database (from a hall file); ignored when the log has events.
    pub seed: Vec<Command>,
    pub clock: Arc<dyn Clock>,
    /// Rate limits on ticket issuing (per kiosk) and on the public endpoints (per address).
    pub limits: LimitConfig,
    /// Where and how many automatic daily backups to keep; `None`: no automatic backups.
    pub backup: Option<DailyBackup>,
}

impl HubConfig {
    pub fn new(db: impl Into<PathBuf>) -> HubConfig {
        HubConfig {
            db: db.into(),
            seed: Vec::new(),
            clock: Arc::new(SystemClock),
            limits: LimitConfig::default(),
            backup: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub writer: WriterHandle,
    pub hall: watch::Receiver<Published>,
    pub stream: broadcast::Sender<StreamItem>,
    /// A read-only connection for token checks and stream replays; never used for writing.
    reader: Arc<Mutex<Store>>,
    pub shutdown: watch::Receiver<bool>,
    /// The hub's clock: sessions expire by it.
    pub clock: Arc<dyn Clock>,
    /// Latencies and gauges for `GET /metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Rate limits (`limits.rs`).
    pub limits: Arc<Limits>,
}

impl AppState {
    pub fn find_token(&self, secret: &str) -> Result<Option<ApiToken>, ApiError> {
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        reader.find_token(secret).map_err(|error| {
            tracing::error!(%error, "token lookup failed");
            ApiError::unavailable()
        })
    }

    /// The live session with this cookie secret, now.
    pub fn find_session(&self, secret: &str) -> Result<Option<Session>, ApiError> {
        let now = self.now();
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        reader.find_session(secret, now).map_err(|error| {
            tracing::error!(%error, "session lookup failed");
            ApiError::unavailable()
        })
    }

    pub fn now(&self) -> jiaohao_core::Millis {
        millis(self.clock.now())
    }

    /// The hall's time zone, as its settings name it.
    pub fn zone(&self) -> jiff::tz::TimeZone {
        let json = self.hall.borrow().json.clone();
        let name = serde_json::from_str::<serde_json::Value>(&json)
            .ok()
            .and_then(|v| v.get("timezone")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| "Asia/Shanghai".to_owned());
        crate::clock::time_zone(&name)
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

pub fn router(state: AppState) -> Router {
    // The public endpoints a stranger can reach, limited per client address.
    let limited = axum::middleware::from_fn_with_state(state.clone(), limits::public);
    Router::new()
        .route("/api/health", get(api::health))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/hall", get(api::hall))
        .route(
            "/api/hall/settings",
            get(api::get_settings).put(api::put_settings),
        )
        .route("/api/events", get(events::stream))
        .route("/api/tickets", post(api::issue_ticket))
        .route(
            "/api/tickets/{token}",
            get(api::ticket_status).layer(limited.clone()),
        )
        .route(
            "/api/services",
            get(api::list_services).post(api::add_service),
        )
        .route(
            "/api/services/{code}",
            get(api::get_service)
                .put(api::put_service)
                .delete(api::delete_service),
        )
        .route("/api/windows", get(api::list_windows).post(api::add_window))
        .route(
            "/api/windows/{n}",
            get(api::get_window)
                .put(api::put_window)
                .delete(api::delete_window),
        )
        .route(
            "/api/windows/{n}/services",
            get(api::get_window_services).put(api::put_window_services),
        )
        .route(
            "/api/windows/{n}/call-next",
            post(api::call_next).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::metrics::time_call_next,
            )),
        )
        .route("/api/windows/{n}/call", post(api::call_ticket))
        .route("/api/windows/{n}/recall", post(api::recall))
        .route("/api/windows/{n}/no-show", post(api::no_show))
        .route("/api/windows/{n}/finish", post(api::finish))
        .route("/api/windows/{n}/transfer", post(api::transfer))
        .route("/api/windows/{n}/open", post(api::open))
        .route("/api/windows/{n}/close", post(api::close))
        .route("/api/windows/{n}/pause", post(api::pause))
        .route("/api/windows/{n}/resume", post(api::resume))
        .route("/api/tokens", get(api::list_tokens).post(api::create_token))
        .route("/api/tokens/{id}", delete(api::revoke_token))
        .route(
            "/api/devices/problems",
            get(api::list_device_problems).post(api::report_device_problem),
        )
        .route("/api/hall/notices", put(api::put_notices))
        .route("/api/windows/{n}/queue", get(api::window_queue))
        .route(
            "/api/windows/{n}/rating",
            get(api::rating_prompt)
                .post(api::rate)
                .layer(limited.clone()),
        )
        .route("/api/me", get(people::me))
        .route("/api/me/window", put(people::choose_window))
        .route(
            "/api/users",
            get(people::list_users).post(people::create_user),
        )
        .route("/api/users/{id}", delete(people::disable_user))
        .route("/api/reports", get(reports::report))
        .route("/api/reports/csv", get(reports::report_csv))
        .route("/api/audit", get(reports::audit))
        .route("/api/advice", get(api::advice))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/", get(pages::home))
        .route(
            "/login",
            get(pages::login_page)
                .post(people::login)
                .layer(limited.clone()),
        )
        .route("/logout", post(people::logout))
        .route("/counter", get(pages::counter))
        .route("/admin", get(pages::admin))
        .route("/rate/{n}", get(pages::rate))
        .route("/t/{token}", get(pages::ticket).layer(limited))
        .route("/assets/{name}", get(pages::asset))
        .merge(crate::calendar::routes())
        .fallback(pages::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Headers every answer carries: no MIME sniffing, no framing by other sites, no referrer
/// leaking a ticket page's token, and a content policy that allows only the hub itself.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    response
}

/// A hub whose database is open and whose writer runs, ready to serve.
pub struct Hub {
    state: AppState,
    shutdown_tx: watch::Sender<bool>,
    stopped: tokio::sync::oneshot::Receiver<()>,
    db: PathBuf,
    backup: Option<DailyBackup>,
}

impl Hub {
    /// Opens the database, folds the log and starts the writer.
    pub fn open(config: HubConfig) -> anyhow::Result<Hub> {
        let clock = config.clock.clone();
        let outputs = writer::start(config.db.clone(), config.seed, config.clock)?;
        let reader = Store::open_read_only(&config.db)?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let state = AppState {
            writer: outputs.handle,
            hall: outputs.hall,
            stream: outputs.stream,
            reader: Arc::new(Mutex::new(reader)),
            shutdown: shutdown_rx,
            clock,
            metrics: outputs.metrics,
            limits: Arc::new(Limits::new(config.limits)),
        };
        Ok(Hub {
            state,
            shutdown_tx,
            stopped: outputs.stopped,
            db: config.db,
            backup: config.backup,
        })
    }

    /// Serves on `listener` until `shutdown` completes, then finishes the requests in flight,
    /// ends the event streams and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Hub {
            state,
            shutdown_tx,
            stopped,
            db,
            backup,
        } = self;
        tracing::info!(address = %listener.local_addr()?, db = %db.display(), "hub serving");
        let backups =
            backup.map(|backup| tokio::spawn(backups::daily(db.clone(), backup, state.clone())));
        let signal = async move {
            shutdown.await;
            // Tell the event streams first: they would otherwise hold the server open.
            let _ = shutdown_tx.send(true);
        };
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .await?;
        if let Some(backups) = backups {
            // It stops at the shutdown signal; a backup being written finishes first.
            let _ = backups.await;
        }
        // The router, and with it every writer handle, is gone: the writer drains and stops.
        let _ = stopped.await;
        Ok(())
    }
}

/// Opens the hub and serves it on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    config: HubConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Hub::open(config)?.serve(listener, shutdown).await
}

/// A hub running in this process, for tests and the demo.
pub struct RunningHub {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningHub {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the hub gracefully and waits until its database is closed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await?
    }
}

/// Starts a hub on `listen` (use `127.0.0.1:0` for a free port) in the current runtime.
pub async fn spawn(listen: &str, config: HubConfig) -> anyhow::Result<RunningHub> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let hub = Hub::open(config)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(hub.serve(listener, async move {
        let _ = stopped.await;
    }));
    Ok(RunningHub {
        addr,
        stop: Some(stop),
        task,
    })
}
