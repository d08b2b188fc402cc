//! Putting the hub together: the engine (`crate::engine`) and the http layer (`crate::http`),
//! and `run`/`spawn`, which tests and the demo use to start a real hub on a real port.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use jiaohao_core::Command;
use jiaohao_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::backups::{self, DailyBackup};
use crate::clock::{Clock, SystemClock};
use crate::engine::writer;
use crate::http::conn::Timeouts;
use crate::http::limits::{Caps, LimitConfig, Limits};
use crate::http::{AppState, router};
use crate::standby::{self, Diverged, FollowConfig, Part, Role};

/// How a hub is started.
pub struct HubConfig {
    /// The SQLite file; created if missing.
    pub db: PathBuf,
    /// Commands that seed an empty database (from a hall file); ignored when the log has events.
    pub seed: Vec<Command>,
    pub clock: Arc<dyn Clock>,
    /// Rate limits on ticket issuing (per kiosk) and on the public endpoints (per address).
    pub limits: LimitConfig,
    /// Caps on connections and event streams per address, room kept for devices, trusted
    /// proxies.
    pub caps: Caps,
    /// How long a client may take to send a request's head and body.
    pub timeouts: Timeouts,
    /// Where and how many automatic daily backups to keep; `None`: no automatic backups.
    pub backup: Option<DailyBackup>,
    /// The identity key file (HMAC of ID numbers); `None`: `identity.key` beside the database.
    pub identity_key: Option<PathBuf>,
    /// Where booking SMS go; with none, bookings are refused.
    pub sms: crate::sms::SmsSender,
    /// Citizens at least this old by their ID number get the green channel without asking
    /// (when the kiosk sends the ID number); `None`: off.
    pub green_channel_age: Option<u8>,
    /// Run as a standby of this primary: follow its log, take no changes (`seed` is unused).
    pub follow: Option<FollowConfig>,
    /// The other hub of the hall: if it holds a newer term, this hub takes no changes.
    pub peer: Option<String>,
    /// Answer a change only once a standby has acknowledged it, waiting at most this long
    /// (then answer alone); `None`: answer once it is durable here.
    pub sync_standby: Option<std::time::Duration>,
}

impl HubConfig {
    pub fn new(db: impl Into<PathBuf>) -> HubConfig {
        HubConfig {
            db: db.into(),
            seed: Vec::new(),
            clock: Arc::new(SystemClock),
            limits: LimitConfig::default(),
            caps: Caps::default(),
            timeouts: Timeouts::default(),
            backup: None,
            identity_key: None,
            sms: crate::sms::SmsSender::None,
            green_channel_age: None,
            follow: None,
            peer: None,
            sync_standby: None,
        }
    }
}

/// A hub whose database is open and whose writer runs, ready to serve.
pub struct Hub {
    state: AppState,
    shutdown_tx: watch::Sender<bool>,
    stopped: tokio::sync::oneshot::Receiver<()>,
    failed: crate::engine::syncer::Failed,
    db: PathBuf,
    backup: Option<DailyBackup>,
    timeouts: Timeouts,
    follow: Option<FollowConfig>,
    peer: Option<String>,
}

impl Hub {
    /// Opens the database, folds the log and starts the writer.
    pub fn open(config: HubConfig) -> anyhow::Result<Hub> {
        let files = crate::files::raise_open_file_limit();
        tracing::info!(
            raised_from = files.was,
            connections = files.connection_capacity(),
            "open files: soft limit {}, hard limit {}",
            files.soft,
            files.hard
        );
        let clock = config.clock.clone();
        let key_path = config
            .identity_key
            .clone()
            .unwrap_or_else(|| crate::identity::IdentityKey::default_path(&config.db));
        let key = crate::identity::IdentityKey::load_or_create(&key_path)?;
        let mut config = config;
        if config.follow.is_some()
            && let Some(term) = Store::open(&config.db)?.promoted_here()?
        {
            // The operator promoted this hub and its settings still say `--follow`: following
            // the old primary again would refuse the hall's changes (or stop on its history).
            tracing::warn!(
                term,
                "this hub was promoted (term {term}); it serves as the primary and ignores --follow: remove follow from its settings"
            );
            config.follow = None;
        }
        let (outputs, part) = match &config.follow {
            Some(follow) => (
                writer::start_following(config.db.clone(), config.clock)?,
                Part::Standby {
                    primary: follow.primary.clone(),
                },
            ),
            None => (
                writer::start(config.db.clone(), config.seed, config.clock)?,
                Part::Primary,
            ),
        };
        let reader = Store::open_read_only(&config.db)?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let state = AppState {
            writer: outputs.handle,
            hall: outputs.hall,
            stream: outputs.stream,
            reader: Arc::new(Mutex::new(reader)),
            db: Arc::new(config.db.clone()),
            shutdown: shutdown_rx,
            clock,
            metrics: outputs.metrics,
            bookings: Arc::new(crate::http::bookings::BookingDesk::new(
                key,
                config.sms,
                config.green_channel_age,
            )),
            limits: Arc::new(Limits::new(
                config.limits,
                config.caps,
                files.connection_capacity(),
            )),
            marks: outputs.marks,
            role: Arc::new(Role::new(part)),
            sync: config
                .sync_standby
                .map(|wait| Arc::new(standby::SyncStandby::new(wait))),
            pairings: Arc::default(),
        };
        Ok(Hub {
            state,
            shutdown_tx,
            stopped: outputs.stopped,
            failed: outputs.failed,
            db: config.db,
            backup: config.backup,
            timeouts: config.timeouts,
            follow: config.follow,
            peer: config.peer,
        })
    }

    /// Serves on `listener` until `shutdown` completes, then finishes the requests in flight,
    /// ends the event streams and closes the database. If a sync fails meanwhile, it stops the
    /// same way by itself and returns that error.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.serve_with_public(listener, None, shutdown).await
    }

    /// As [`Hub::serve`], and also on `public` (if given) with only the routes a citizen's
    /// phone needs (`http::public_router`): a separate port for the hall's Wi-Fi, with its
    /// own accept queue, under the same limits.
    pub async fn serve_with_public(
        self,
        listener: TcpListener,
        public: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Hub {
            state,
            shutdown_tx,
            stopped,
            failed,
            db,
            backup,
            timeouts,
            follow,
            peer,
        } = self;
        if let Some(peer) = peer {
            // Before the first change is taken: a hub taken over while it was away refuses
            // changes from the start.
            standby::check_peer(&state, &peer).await;
            tokio::spawn(standby::watch_peer(state.clone(), peer));
        }
        tracing::info!(address = %listener.local_addr()?, db = %db.display(), "hub serving");
        let erasing = tokio::spawn(crate::http::bookings::erase_contacts(state.clone()));
        let backups =
            backup.map(|backup| tokio::spawn(backups::daily(db.clone(), backup, state.clone())));
        let mut fatal = failed.clone();
        // A standby follows its primary until the hub stops or is promoted; if it finds
        // another history, the hub stops with that error.
        let (diverged_tx, mut diverged) = watch::channel(None::<Arc<Diverged>>);
        if let Some(follow) = follow {
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(error) = standby::follow(state, follow).await {
                    diverged_tx.send_replace(Some(Arc::new(error)));
                }
            });
        }
        let stopped_following = diverged.clone();
        let signal = async move {
            tokio::select! {
                () = shutdown => {}
                _ = fatal.wait_for(Option::is_some) => {}
                // Only an error stops the hub: a follower that ends because the standby was
                // promoted drops its sender, and that is no reason to stop.
                Ok(_) = diverged.wait_for(Option::is_some) => {}
            }
            // Tell the event streams first: they would otherwise hold the server open.
            let _ = shutdown_tx.send(true);
        };
        let (limits, metrics) = (state.limits.clone(), state.metrics.clone());
        // One signal for both accept loops.
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            signal.await;
            let _ = stop_tx.send(true);
        });
        let on_stop = |mut stop: watch::Receiver<bool>| async move {
            let _ = stop.wait_for(|stop| *stop).await;
        };
        let public = public.map(|public| {
            if let Ok(address) = public.local_addr() {
                tracing::info!(%address, "public side serving (ticket pages, their stream)");
            }
            tokio::spawn(crate::http::conn::serve(
                public,
                crate::http::public_router(state.clone()),
                limits.clone(),
                metrics.clone(),
                timeouts,
                on_stop(stop_rx.clone()),
            ))
        });
        crate::http::conn::serve(
            listener,
            router(state),
            limits,
            metrics,
            timeouts,
            on_stop(stop_rx),
        )
        .await;
        if let Some(public) = public {
            let _ = public.await;
        }
        if let Some(backups) = backups {
            // It stops at the shutdown signal; a backup being written finishes first.
            let _ = backups.await;
        }
        erasing.abort();
        let _ = erasing.await;
        // The router, and with it every writer handle, is gone: the writer drains and stops.
        let _ = stopped.await;
        if let Some(error) = stopped_following.borrow().clone() {
            return Err(anyhow::anyhow!("{error}"));
        }
        match failed.borrow().clone() {
            Some(error) => Err(anyhow::Error::new(SyncError(error))),
            None => Ok(()),
        }
    }
}

/// A fatal sync error as `serve` returns it (the syncer shares it, so it is behind an `Arc`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct SyncError(Arc<crate::engine::syncer::SyncFailed>);

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
