//! Keeps one follower per registered hall while the service runs. It re-reads the halls table
//! every few seconds (and at once when the admin page registers a hall), so a hall added with
//! `jiaohao-city hall add` or a token changed with `hall token` in another process is picked
//! up without a restart: a new hall gets a follower, a hall whose address or sealed token
//! changed gets a new one (the old one stopped first), a hall gone from the table loses its.
//! Polling rather than LISTEN/NOTIFY: one small query every few seconds, and nothing to miss
//! while PostgreSQL is away.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::board::LiveHalls;
use crate::halls::{self, HallEntry};
use crate::{KeyFile, follower};

/// How often the halls table is read again.
pub const RESCAN: Duration = Duration::from_secs(3);

struct Running {
    entry: HallEntry,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Runs until `stop` turns true, then stops every follower and waits for them.
pub async fn supervise(
    postgres: String,
    key: Arc<KeyFile>,
    live: LiveHalls,
    changed: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut running: HashMap<i32, Running> = HashMap::new();
    loop {
        match crate::db::connect(&postgres).await {
            Ok(client) => match halls::list(&client).await {
                Ok(list) => reconcile(&postgres, &key, &live, &mut running, list).await,
                Err(error) => tracing::warn!(%error, "cannot read the halls table"),
            },
            Err(error) => tracing::warn!(%error, "cannot reach PostgreSQL for the halls table"),
        }
        tokio::select! {
            _ = tokio::time::sleep(RESCAN) => {}
            _ = changed.notified() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
    }
    for (_, follower) in running.drain() {
        follower.stop().await;
    }
}

async fn reconcile(
    postgres: &str,
    key: &Arc<KeyFile>,
    live: &LiveHalls,
    running: &mut HashMap<i32, Running>,
    list: Vec<HallEntry>,
) {
    let ids: Vec<i32> = list.iter().map(|h| h.id).collect();
    let gone: Vec<i32> = running
        .keys()
        .filter(|id| !ids.contains(id))
        .copied()
        .collect();
    for id in gone {
        if let Some(follower) = running.remove(&id) {
            tracing::info!(hall = %follower.entry.name, "hall no longer registered: not following it");
            follower.stop().await;
        }
    }
    for hall in list {
        if let Some(current) = running.get(&hall.id) {
            if current.entry.url == hall.url && current.entry.token_sealed == hall.token_sealed {
                continue;
            }
            tracing::info!(hall = %hall.name, "hall's address or token changed: following it anew");
            if let Some(old) = running.remove(&hall.id) {
                old.stop().await;
            }
        } else {
            tracing::info!(hall = %hall.name, url = %hall.url, "following hall");
        }
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(follower::follow(
            postgres.to_owned(),
            hall.clone(),
            key.clone(),
            live.clone(),
            stop_rx,
        ));
        running.insert(
            hall.id,
            Running {
                entry: hall,
                stop,
                task,
            },
        );
    }
}
