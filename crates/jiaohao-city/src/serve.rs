//! The running city service: a follower per hall and the pages, until shut down.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::board::LiveHalls;
use crate::web::{CityZone, Db, WebState};
use crate::{CityError, KeyFile, supervisor};

/// Runs the service on `listener` until `shutdown` resolves: migrates the database, follows
/// every registered hall (picking up halls added or changed while it runs, see
/// [`supervisor`]), serves the pages.
pub async fn run(
    postgres: &str,
    key: Arc<KeyFile>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CityError> {
    run_in(postgres, key, listener, CityZone::default(), shutdown).await
}

/// [`run`] for a city in `zone` (`--time-zone`).
pub async fn run_in(
    postgres: &str,
    key: Arc<KeyFile>,
    listener: TcpListener,
    zone: CityZone,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CityError> {
    // Migrated before anything reads it.
    drop(crate::db::open(postgres).await?);
    let live = LiveHalls::default();
    let (stop_tx, stop) = watch::channel(false);
    let halls_changed = Arc::new(Notify::new());
    let supervisor = tokio::spawn(supervisor::supervise(
        postgres.to_owned(),
        key.clone(),
        live.clone(),
        halls_changed.clone(),
        stop,
    ));
    let state = WebState {
        db: Db::new(postgres),
        live,
        key,
        halls_changed,
        zone,
    };
    let app = crate::web::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| CityError::Invalid(format!("serving the pages failed: {e}")))?;
    let _ = stop_tx.send(true);
    let _ = supervisor.await;
    Ok(())
}
