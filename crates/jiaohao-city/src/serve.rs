//! The running city service: a follower per hall and the pages, until shut down.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::board::LiveHalls;
use crate::web::{Db, WebState};
use crate::{CityError, KeyFile, follower, halls};

/// Runs the service on `listener` until `shutdown` resolves: migrates the database, follows
/// every registered hall (and each one added on the admin page), serves the pages.
pub async fn run(
    postgres: &str,
    key: Arc<KeyFile>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CityError> {
    let client = crate::db::open(postgres).await?;
    let live = LiveHalls::default();
    let (stop_tx, stop) = watch::channel(false);
    let start = {
        let postgres = postgres.to_owned();
        let key = key.clone();
        let live = live.clone();
        let stop = stop.clone();
        move |hall: halls::HallEntry| {
            tracing::info!(hall = %hall.name, url = %hall.url, "following hall");
            tokio::spawn(follower::follow(
                postgres.clone(),
                hall,
                key.clone(),
                live.clone(),
                stop.clone(),
            ));
        }
    };
    for hall in halls::list(&client).await? {
        start(hall);
    }
    drop(client);
    let state = WebState {
        db: Db::new(postgres),
        live,
        key,
        on_hall_added: Arc::new(start),
    };
    let app = crate::web::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| CityError::Invalid(format!("serving the pages failed: {e}")))?;
    let _ = stop_tx.send(true);
    Ok(())
}
