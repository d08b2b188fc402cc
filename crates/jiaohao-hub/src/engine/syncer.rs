//! The writer's sync threads: make what the writer appended durable, and only then let
//! anyone see it.
//!
//! The writer commits with `synchronous=NORMAL`: each batch is written to the WAL but not
//! synced, so the writer goes on to the next batch at once. Everything a batch produces (its
//! answers, its stream messages, the hall view after it) is handed here as an [`Outcome`], in
//! order. A sync thread syncs the WAL (`fdatasync`) for everything written so far and then
//! delivers, in order, the outcomes it made durable; while it syncs, a second one starts on
//! what the writer wrote meanwhile. A request waits for about one sync, never for the writer's
//! work on other batches, and nobody is told of a change a power cut could still take back.
//!
//! If a sync fails, what the disk holds is unknown: the syncer delivers nothing more and
//! reports a [`SyncFailed`] on its `failed` channel; `Hub::serve` stops and returns it, and the
//! daemon exits non-zero (a supervisor such as systemd starts it again, and the hall is folded
//! from what the disk really holds), as PostgreSQL does on a failed `fsync`. Nobody is answered
//! for what that sync covered. The process is never ended from here: a hub embedded in the
//! demo or in a test stops alone.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::{broadcast, watch};

use crate::engine::metrics::Metrics;
use crate::engine::stream::StreamItem;
use crate::engine::writer::Published;

/// The disk did not make committed changes durable: the hub must stop.
#[derive(Debug, thiserror::Error)]
#[error(
    "the disk did not make committed changes durable ({wal}): {source}; stopping so that the \
     hall is folded again from what the disk holds"
)]
pub struct SyncFailed {
    pub wal: String,
    #[source]
    pub source: std::io::Error,
}

/// Where a fatal sync error is reported: `None` until one happens.
pub type Failed = watch::Receiver<Option<Arc<SyncFailed>>>;

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

/// Syncs that may run at once. A batch written while one sync runs need not wait for it to end
/// before its own starts: Linux's `fdatasync` writes what is dirty when it is called, waits for
/// what an earlier sync is still writing, and flushes; so when it returns, everything written
/// before it began is durable, whichever sync started first.
const SYNCS_AT_ONCE: usize = 2;

/// What the writer and the sync threads share.
#[derive(Default)]
struct State {
    /// Outcomes not yet delivered, in order, each with the number of writing outcomes up to it:
    /// it may go once a sync that began after that many writes has ended.
    waiting: VecDeque<(u64, Outcome)>,
    /// Writing outcomes handed on so far.
    written: u64,
    /// The most writes a sync has begun after; syncs are needed while it is below `written`.
    requested: u64,
    /// The most writes a finished sync has covered.
    durable: u64,
    stopping: bool,
    /// A sync failed: nothing more is delivered, and outcomes handed on are dropped (their
    /// requests are answered that the hub is stopping).
    failed: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    wal: PathBuf,
    hall: watch::Sender<Published>,
    stream: broadcast::Sender<StreamItem>,
    metrics: Arc<Metrics>,
    failed: watch::Sender<Option<Arc<SyncFailed>>>,
}

/// The sync threads and the way to them.
pub struct Syncer {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the threads that sync `wal` (the database's write-ahead log) and deliver; a
    /// failed sync is reported on the returned channel.
    pub fn start(
        wal: PathBuf,
        hall: watch::Sender<Published>,
        stream: broadcast::Sender<StreamItem>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Syncer, Failed)> {
        let (failed, failed_rx) = watch::channel(None);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            wal,
            hall,
            stream,
            metrics,
            failed,
        });
        let mut threads = Vec::new();
        for _ in 0..SYNCS_AT_ONCE {
            let shared = shared.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("jiaohao-syncer".into())
                    .spawn(move || run(&shared))?,
            );
        }
        Ok((Syncer { shared, threads }, failed_rx))
    }

    /// Whether a sync has failed (then nothing written since is known to be on the disk).
    pub fn failed(&self) -> bool {
        lock(&self.shared.state).failed
    }

    /// Hands on a turn's outcome; it is delivered once everything written up to it is
    /// durable. Waits while `MAX_WAITING` outcomes wait.
    pub fn send(&self, outcome: Outcome) {
        let mut state = lock(&self.shared.state);
        while state.waiting.len() >= MAX_WAITING && !state.failed {
            state = wait(&self.shared.changed, state);
        }
        if state.failed {
            // Dropped: its requests learn that the hub is stopping.
            return;
        }
        if outcome.wrote {
            state.written += 1;
        } else if state.waiting.is_empty() && state.written <= state.durable {
            // Nothing is pending: what it read is durable already.
            self.shared.deliver(outcome);
            return;
        }
        let needs = state.written;
        state.waiting.push_back((needs, outcome));
        self.shared.changed.notify_all();
    }

    /// Delivers everything sent so far and stops the threads.
    pub fn finish(&mut self) {
        lock(&self.shared.state).stopping = true;
        self.shared.changed.notify_all();
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a syncer thread panicked");
            }
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Locks the state; a thread that panicked holding it left nothing half-done that matters
/// here (the lock guards plain counters and a queue).
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wait<'a>(changed: &Condvar, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    changed
        .wait(state)
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn deliver(&self, outcome: Outcome) {
        for item in outcome.changes {
            let _ = self.stream.send(item);
        }
        if let Some(view) = outcome.view {
            self.hall.send_replace(view);
        }
        if let Some(message) = outcome.view_message {
            let _ = self.stream.send(message);
        }
        for delivery in outcome.deliveries {
            delivery();
        }
    }
}

/// One sync thread: whenever something written is not yet covered by a sync, syncs it, then
/// delivers, in order, every outcome that has become durable.
fn run(shared: &Shared) {
    let mut state = lock(&shared.state);
    loop {
        if state.failed {
            return;
        } else if state.requested < state.written {
            let target = state.written;
            state.requested = target;
            drop(state);
            let started = Instant::now();
            if let Err(source) = sync(&shared.wal) {
                let failed = SyncFailed {
                    wal: shared.wal.display().to_string(),
                    source,
                };
                tracing::error!(error = %failed, "the hub stops");
                state = lock(&shared.state);
                state.failed = true;
                // Nobody is told of what the failed sync covered, nor of anything after it.
                state.waiting.clear();
                shared.changed.notify_all();
                drop(state);
                shared.failed.send_replace(Some(Arc::new(failed)));
                return;
            }
            shared.metrics.sync.observe(started.elapsed());
            state = lock(&shared.state);
            state.durable = state.durable.max(target);
            // Delivered under the lock, so two threads never deliver out of order.
            while state
                .waiting
                .front()
                .is_some_and(|(needs, _)| *needs <= state.durable)
            {
                if let Some((_, outcome)) = state.waiting.pop_front() {
                    shared.deliver(outcome);
                }
            }
            shared.changed.notify_all();
        } else if state.stopping {
            return;
        } else {
            state = wait(&shared.changed, state);
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

    /// The view of an empty hall, as of event `seq`.
    fn published(seq: u64) -> Published {
        let zone = jiff::tz::TimeZone::UTC;
        let context = crate::engine::views::ViewContext {
            hall: &jiaohao_core::Hall::new(),
            projection: &jiaohao_core::Projection::default(),
            now: crate::clock::core_now(jiff::Timestamp::UNIX_EPOCH, &zone),
            zone: &zone,
        };
        Published::new(context.hall_view(seq))
    }

    /// A syncer over a WAL file in a fresh folder, with the receiving ends of what it sends.
    struct Started {
        syncer: Syncer,
        wal: PathBuf,
        hall: watch::Receiver<Published>,
        stream: broadcast::Receiver<StreamItem>,
        metrics: Arc<Metrics>,
        /// Bind it (as `_dir`) for as long as the WAL is used: dropping it removes the folder.
        _dir: tempfile::TempDir,
    }

    fn start() -> Started {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("hall.db-wal");
        std::fs::write(&wal, b"frames").unwrap();
        let (hall_tx, hall) = watch::channel(published(0));
        let (stream_tx, stream) = broadcast::channel(16);
        let metrics = Metrics::new();
        let (syncer, _failed) =
            Syncer::start(wal.clone(), hall_tx, stream_tx, metrics.clone()).unwrap();
        Started {
            syncer,
            wal,
            hall,
            stream,
            metrics,
            _dir: dir,
        }
    }

    #[test]
    fn outcomes_are_delivered_in_order_after_one_sync_for_the_writes() {
        let Started {
            mut syncer,
            hall: hall_rx,
            stream: mut stream_rx,
            metrics,
            _dir,
            ..
        } = start();
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
                frame: bytes::Bytes::from_static(b"data: 7\n\n"),
            }],
            view: Some(published(7)),
            view_message: Some(StreamItem::HallChanged {
                seq: 7,
                frame: bytes::Bytes::from_static(b"data: view 7\n\n"),
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
        // One write: one sync, however the threads took turns.
        assert_eq!(metrics.sync.count(), 1);
    }

    #[test]
    fn with_two_sync_threads_every_outcome_still_goes_in_order() {
        let Started {
            mut syncer,
            wal,
            metrics,
            _dir,
            ..
        } = start();
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let mut writes = 0u64;
        for n in 0..500u32 {
            let wrote = n % 3 != 2;
            if wrote {
                writes += 1;
                // The writer appends to the WAL before it hands the outcome on.
                std::fs::write(&wal, n.to_le_bytes()).unwrap();
            }
            let delivered = delivered.clone();
            syncer.send(Outcome {
                wrote,
                deliveries: vec![Box::new(move || delivered.lock().unwrap().push(n))],
                ..Outcome::default()
            });
        }
        syncer.finish();
        assert_eq!(*delivered.lock().unwrap(), (0..500).collect::<Vec<_>>());
        // Syncs cover several writes when they come faster than the disk: never more syncs
        // than writes, and at least one.
        let syncs = metrics.sync.count();
        assert!(
            (1..=writes).contains(&syncs),
            "{syncs} syncs for {writes} writes"
        );
    }

    #[test]
    fn reads_alone_never_sync() {
        let Started {
            mut syncer,
            metrics,
            _dir,
            ..
        } = start();
        for _ in 0..3 {
            syncer.send(Outcome::default());
        }
        syncer.finish();
        assert_eq!(metrics.sync.count(), 0);
    }

    #[test]
    fn a_failed_sync_is_reported_and_nothing_it_covered_is_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"frames").unwrap();
        // A path under a plain file cannot be opened: every sync fails.
        let (hall_tx, hall) = watch::channel(published(0));
        let (stream_tx, _stream) = broadcast::channel(16);
        let (mut syncer, mut failed) =
            Syncer::start(file.join("hall.db-wal"), hall_tx, stream_tx, Metrics::new()).unwrap();
        let delivered = Arc::new(Mutex::new(Vec::new()));
        for n in 0..3u32 {
            let delivered = delivered.clone();
            syncer.send(Outcome {
                wrote: true,
                view: Some(published(u64::from(n) + 1)),
                deliveries: vec![Box::new(move || delivered.lock().unwrap().push(n))],
                ..Outcome::default()
            });
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let error = runtime
            .block_on(async {
                tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    failed.wait_for(Option::is_some),
                )
                .await
                .map(|found| found.map(|error| error.clone()))
            })
            .expect("the failure is reported in time")
            .expect("the channel stays open")
            .expect("an error");
        assert!(error.to_string().contains("durable"), "{error}");
        assert!(syncer.failed());
        // More work after the failure is dropped, not delivered; finishing does not hang.
        syncer.send(Outcome {
            deliveries: vec![Box::new(|| panic!("delivered after a failed sync"))],
            ..Outcome::default()
        });
        syncer.finish();
        assert!(delivered.lock().unwrap().is_empty());
        assert_eq!(hall.borrow().seq, 0, "no view after the failed sync");
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
