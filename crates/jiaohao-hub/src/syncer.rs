//! The writer's second thread: makes what the writer appended durable, and only then lets
//! anyone see it.
//!
//! The writer commits with `synchronous=NORMAL`: each batch is written to the WAL but not
//! synced, so the writer goes on to the next batch at once. Everything a batch produces (its
//! answers, its stream messages, the hall view after it) is handed here as an [`Outcome`], in
//! order. This thread syncs the WAL (`fdatasync`) once for all the outcomes that queued while
//! the previous sync ran, then delivers them in order. A request waits for at most the sync in
//! flight and one more, never for the writer's work on other batches, and nobody is told of a
//! change a power cut could still take back.
//!
//! If a sync fails, what the disk holds is unknown: the hub stops with an error (a supervisor
//! such as systemd starts it again, and the hall is folded from what the disk really holds),
//! as PostgreSQL does on a failed `fsync`. Nobody is answered for the outcomes of that round.

use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::{broadcast, watch};

use crate::metrics::Metrics;
use crate::writer::{Published, StreamItem};

/// Sends an answer that has been made already (a reply on its channel).
pub type Delivery = Box<dyn FnOnce() + Send>;

/// What one turn of the writer hands on.
#[derive(Default)]
pub struct Outcome {
    /// The turn wrote to the database: a sync must cover it before anything is delivered.
    pub wrote: bool,
    /// The changes for the live stream, in log order.
    pub changes: Vec<StreamItem>,
    /// The hall view after the turn, when it changed, and its `hall_changed` message (sent
    /// after the view is published, as before the syncer: whoever gets it finds the view).
    pub view: Option<Published>,
    pub view_message: Option<StreamItem>,
    /// Answers to the requests of the turn.
    pub deliveries: Vec<Delivery>,
}

/// How many outcomes may wait for a sync. If the disk stalls, the writer stops here (and the
/// requests queue before it) instead of piling up work nobody can be told of.
const MAX_WAITING: usize = 1024;

/// The thread and the way to it.
pub struct Syncer {
    tx: Option<mpsc::SyncSender<Outcome>>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the thread that syncs `wal` (the database's write-ahead log) and delivers.
    pub fn start(
        wal: PathBuf,
        hall: watch::Sender<Published>,
        stream: broadcast::Sender<StreamItem>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Syncer> {
        let (tx, rx) = mpsc::sync_channel(MAX_WAITING);
        let thread = std::thread::Builder::new()
            .name("jiaohao-syncer".into())
            .spawn(move || run(rx, wal, hall, stream, metrics))?;
        Ok(Syncer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn send(&self, outcome: Outcome) {
        if let Some(tx) = &self.tx {
            // The thread only ends when this side closes, or when it stops the hub.
            let _ = tx.send(outcome);
        }
    }

    /// Delivers everything sent so far and stops the thread.
    pub fn finish(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the syncer thread panicked");
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.finish();
    }
}

fn run(
    rx: mpsc::Receiver<Outcome>,
    wal: PathBuf,
    hall: watch::Sender<Published>,
    stream: broadcast::Sender<StreamItem>,
    metrics: Arc<Metrics>,
) {
    while let Ok(first) = rx.recv() {
        let mut round = vec![first];
        round.extend(rx.try_iter());
        if round.iter().any(|outcome| outcome.wrote) {
            let started = Instant::now();
            if let Err(error) = sync(&wal) {
                tracing::error!(
                    %error,
                    wal = %wal.display(),
                    "the disk did not make committed changes durable; stopping so the hall is \
                     folded again from what the disk holds"
                );
                std::process::exit(1);
            }
            metrics.sync.observe(started.elapsed());
        }
        for outcome in round {
            for item in outcome.changes {
                let _ = stream.send(item);
            }
            if let Some(view) = outcome.view {
                hall.send_replace(view);
            }
            if let Some(message) = outcome.view_message {
                let _ = stream.send(message);
            }
            for delivery in outcome.deliveries {
                delivery();
            }
        }
    }
}

/// Syncs the WAL's data to the disk. The file is opened for each sync, so it is always the
/// WAL SQLite writes now; a WAL that is not there has nothing left to sync (SQLite moved it
/// into the database file, synced, when the last connection closed).
fn sync(wal: &std::path::Path) -> std::io::Result<()> {
    match std::fs::File::open(wal) {
        Ok(file) => file.sync_data(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn published(seq: u64) -> Published {
        Published {
            seq,
            json: Arc::from(format!("{{\"seq\":{seq}}}")),
        }
    }

    #[test]
    fn outcomes_are_delivered_in_order_after_one_sync_for_the_writes() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("hall.db-wal");
        std::fs::write(&wal, b"frames").unwrap();
        let (hall, hall_rx) = watch::channel(published(0));
        let (stream, mut stream_rx) = broadcast::channel(16);
        let metrics = Metrics::new();
        let mut syncer = Syncer::start(wal, hall, stream, metrics.clone()).unwrap();
        // Each delivery notes how many syncs had finished when it was made.
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let delivery = |n: u32| -> Delivery {
            let delivered = delivered.clone();
            let metrics = metrics.clone();
            Box::new(move || delivered.lock().unwrap().push((n, metrics.sync.count())))
        };

        // Reads only: nothing to sync.
        syncer.send(Outcome {
            deliveries: vec![delivery(1)],
            ..Outcome::default()
        });
        // A write with its stream message and view, then a read that saw it.
        syncer.send(Outcome {
            wrote: true,
            changes: vec![StreamItem::Change {
                seq: 7,
                frame: axum::body::Bytes::from_static(b"data: 7\n\n"),
            }],
            view: Some(published(7)),
            view_message: Some(StreamItem::HallChanged {
                seq: 7,
                frame: axum::body::Bytes::from_static(b"data: view 7\n\n"),
            }),
            deliveries: vec![delivery(2), delivery(3)],
        });
        syncer.send(Outcome {
            deliveries: vec![delivery(4)],
            ..Outcome::default()
        });
        syncer.finish();

        let delivered = delivered.lock().unwrap().clone();
        let order: Vec<u32> = delivered.iter().map(|(n, _)| *n).collect();
        assert_eq!(order, vec![1, 2, 3, 4]);
        // The write's answers, and the read after it, went out only after its sync.
        assert!(delivered[1..].iter().all(|(_, syncs)| *syncs == 1));
        assert_eq!(hall_rx.borrow().seq, 7);
        assert!(matches!(
            stream_rx.try_recv(),
            Ok(StreamItem::Change { seq: 7, .. })
        ));
        assert!(matches!(
            stream_rx.try_recv(),
            Ok(StreamItem::HallChanged { seq: 7, .. })
        ));
        // However the outcomes fell into rounds, one round held the write: one sync.
        assert_eq!(metrics.sync.count(), 1);
    }

    #[test]
    fn reads_alone_never_sync() {
        let dir = tempfile::tempdir().unwrap();
        let (hall, _) = watch::channel(published(0));
        let (stream, _) = broadcast::channel(16);
        let metrics = Metrics::new();
        let mut syncer = Syncer::start(
            dir.path().join("hall.db-wal"),
            hall,
            stream,
            metrics.clone(),
        )
        .unwrap();
        for _ in 0..3 {
            syncer.send(Outcome::default());
        }
        syncer.finish();
        assert_eq!(metrics.sync.count(), 0);
    }

    #[test]
    fn a_wal_that_is_gone_has_nothing_to_sync_and_other_failures_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(sync(&dir.path().join("absent.db-wal")).is_ok());
        let present = dir.path().join("present.db-wal");
        std::fs::write(&present, b"frames").unwrap();
        assert!(sync(&present).is_ok());
        // Any other failure is reported, not taken for "nothing to sync".
        assert!(sync(&present.join("under-a-file")).is_err());
    }
}
