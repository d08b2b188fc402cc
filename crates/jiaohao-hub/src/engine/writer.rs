//! The one writer: a dedicated thread that owns the hall state and the only writing SQLite
//! connection. Requests arrive over a channel with a oneshot reply (the actor pattern).
//!
//! Why one thread and not a lock: every command must be appended to the log before its
//! answer. The writer takes every request that queued while it was busy and appends them
//! together in one transaction (group commit), so throughput grows with load instead of being
//! capped by the disk's sync rate. It does not wait for the sync: the answers, the stream
//! messages and the hall view of each batch go to the syncer threads (`crate::engine::syncer`), which
//! sync the WAL and only then deliver them, in order, while the writer already works on the
//! next batch. The thread has its own single-threaded runtime so its blocking SQLite calls
//! never stall the HTTP workers. Reads of the whole hall never wait here: the syncer publishes
//! each finished view on a `watch` channel.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiaohao_core::{
    Command, Event, Hall, HallSnapshot, Millis, Now, Projection, ServiceCode, TicketId,
    WindowNumber,
};
use jiaohao_store::{NewRecord, PROMOTED_KIND, RawRecord, SnapshotLookup, Store, StoreError};
use jiaohao_wire as wire;
use jiff::tz::TimeZone;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::clock::{Clock, core_now, time_zone};
use crate::codec;
use crate::engine::error::EngineError;
use crate::engine::stream::{StreamItem, frame};
use crate::engine::syncer::{Delivery, Outcome, Syncer};
use crate::engine::views::{self, ViewContext};

/// The most requests committed in one transaction.
const MAX_BATCH: usize = 512;
/// How often the writer looks at the clock for a day rollover.
const TICK: Duration = Duration::from_secs(1);
/// How often waits are re-projected while tickets wait and nothing else happens.
const REPROJECT_EVERY_TICKS: u32 = 15;
/// A ticket-page query re-projects when the last projection is older than this.
const PROJECTION_MAX_AGE_MS: i64 = 5_000;
/// A queue up to this long is re-projected after every change, before the answers, so they
/// carry exact estimates. A longer one is re-projected after the answers (a projection costs
/// time in proportion to the queue, and nobody in the batch should wait for it), and only as
/// often as its cost allows: no sooner than `PROJECTION_COST_FACTOR` times the last
/// projection's cost, and at least `PROJECTION_MIN_INTERVAL` apart. Measured with 20,000
/// waiting, a projection blocked the writer for tens of milliseconds every 250 ms, and every
/// request that arrived meanwhile waited for it: that was most of the p99 under load.
const SMALL_QUEUE: usize = 300;
const PROJECTION_MIN_INTERVAL: Duration = Duration::from_millis(250);
/// At most this share (1/factor) of the writer's time goes to re-projecting a long queue.
const PROJECTION_COST_FACTOR: u32 = 50;
/// However costly, a long queue is re-projected at least this often while it changes.
const PROJECTION_MAX_INTERVAL: Duration = Duration::from_secs(10);

/// What a successful command answers.
#[derive(Debug, Clone)]
pub enum Answer {
    Issued(wire::IssuedTicket),
    /// The ticket a window action concerned; `None` when call-next found nothing waiting.
    Ticket(Option<wire::TicketDetail>),
    Window(wire::WindowStatus),
    Service(wire::ServiceDef),
    Settings(wire::HallSettings),
    Done,
}

/// What to answer, decided when the command is applied and filled in after the batch.
enum Pending {
    Issued(TicketId),
    /// The person's earlier ticket of today, answered again (`identity = "required"`).
    Reprinted(TicketId),
    Ticket(Option<TicketId>),
    Window(WindowNumber),
    Service(ServiceCode),
    Settings,
    Done,
}

/// Work on the store done in the writer's turn: users, sessions, tokens, device problems (the
/// writer is the only one that writes the file while the hub runs). It returns its answer,
/// which is delivered once the work is durable.
pub type StoreJob = Box<dyn FnOnce(&Store, Now) -> Delivery + Send>;
/// A read of the hall state and its projection, done right after a batch; its answer is
/// delivered after that batch's, once what it saw is durable.
pub type ReadJob = Box<dyn for<'a> FnOnce(&ViewContext<'a>) -> Delivery + Send>;
/// Makes a command from the current state inside the writer, so nothing changes in between.
pub type BuildCommand = Box<dyn FnOnce(&Hall) -> Result<Command, jiaohao_core::Error> + Send>;

pub enum Request {
    Command {
        command: Command,
        actor: String,
        reply: oneshot::Sender<Result<Answer, EngineError>>,
    },
    TicketStatus {
        token: String,
        reply: oneshot::Sender<Option<wire::TicketStatus>>,
    },
    CommandFrom {
        build: BuildCommand,
        actor: String,
        reply: oneshot::Sender<Result<Answer, EngineError>>,
    },
    Store(StoreJob),
    Read(ReadJob),
    /// Records numbered elsewhere, as stored there, to append in order (follow mode only).
    Follow {
        records: Vec<RawRecord>,
        reply: oneshot::Sender<Result<u64, FollowError>>,
    },
    /// Stop following and take changes: record a promotion opening the next term.
    Promote {
        actor: String,
        reply: oneshot::Sender<Result<Promotion, FollowError>>,
    },
}

/// What a promotion did: the record that opened the new term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promotion {
    pub seq: u64,
    pub term: u64,
}

/// Why records to follow were not appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FollowError {
    #[error("record {found} does not follow this log, which expects record {expected} next")]
    OutOfOrder { expected: u64, found: u64 },
    #[error("this hub runs its own hall; it follows no other log")]
    NotFollowing,
    #[error("record {seq} cannot be read: {message}")]
    Unreadable { seq: u64, message: String },
    #[error("the records cannot be stored now")]
    Unavailable,
}

/// The hall as last published: its sequence number, its view, and that view as JSON (made
/// once, here, for `GET /api/hall` and the stream). Readers share both; nobody parses the JSON
/// back.
#[derive(Debug, Clone)]
pub struct Published {
    pub seq: u64,
    pub view: Arc<wire::HallView>,
    pub json: Arc<str>,
}

impl Published {
    /// Publishes `view`, serialized once.
    pub fn new(view: wire::HallView) -> Published {
        let json = Arc::from(serde_json::to_string(&view).unwrap_or_default());
        Published {
            seq: view.seq,
            view: Arc::new(view),
            json,
        }
    }
}

/// Where the durable log stands: the last record and side change made durable, and the term.
/// The replication stream sends what lies up to here (and never what a power cut could still
/// take back); it is published after each write turn's sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Marks {
    pub seq: u64,
    pub side_seq: u64,
    pub term: u64,
}

/// A cheap, cloneable way to talk to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Request>,
}

impl WriterHandle {
    pub async fn command(&self, command: Command, actor: String) -> Result<Answer, EngineError> {
        self.ask(|reply| Request::Command {
            command,
            actor,
            reply,
        })
        .await?
    }

    pub async fn ticket_status(
        &self,
        token: String,
    ) -> Result<Option<wire::TicketStatus>, EngineError> {
        self.ask(|reply| Request::TicketStatus { token, reply })
            .await
    }

    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<T>) -> Request,
    ) -> Result<T, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(request(reply))
            .await
            .map_err(|_| EngineError::Stopping)?;
        answer.await.map_err(|_| EngineError::Stopping)
    }

    /// Applies the command `build` makes from the hall as it is when the writer gets to it.
    pub async fn command_from(
        &self,
        build: impl FnOnce(&Hall) -> Result<Command, jiaohao_core::Error> + Send + 'static,
        actor: String,
    ) -> Result<Answer, EngineError> {
        self.ask(|reply| Request::CommandFrom {
            build: Box::new(build),
            actor,
            reply,
        })
        .await?
    }

    /// Appends records numbered elsewhere (another hub's log), which must continue this log
    /// without a gap; answers the sequence number of the last record now held, once the
    /// records are durable. Only a writer started with [`start_following`] takes them.
    pub async fn follow(&self, records: Vec<RawRecord>) -> Result<u64, FollowError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Follow { records, reply })
            .await
            .map_err(|_| FollowError::Unavailable)?;
        answer.await.map_err(|_| FollowError::Unavailable)?
    }

    /// Ends follow mode: records a `promoted` record with the next term and takes commands from
    /// then on (its clock starts days again). Refused by a writer that follows nothing.
    pub async fn promote(&self, actor: String) -> Result<Promotion, FollowError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Promote { actor, reply })
            .await
            .map_err(|_| FollowError::Unavailable)?;
        answer.await.map_err(|_| FollowError::Unavailable)?
    }

    /// Runs `job` on the writing connection in the writer's turn (users, sessions, tokens,
    /// device problems): the one way to write to the store beside the log. The job's answer,
    /// error and all, is the caller's; the writer only adds that it stopped.
    pub async fn store<T, E>(
        &self,
        job: impl FnOnce(&Store, Now) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<EngineError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: StoreJob = Box::new(move |store, now| {
            let answer = job(store, now);
            Box::new(move || {
                let _ = reply.send(answer);
            })
        });
        self.tx
            .send(Request::Store(job))
            .await
            .map_err(|_| EngineError::Stopping)?;
        answer.await.map_err(|_| EngineError::Stopping)?
    }

    /// Reads the hall state and its projection (what a window may call, what it may have rated).
    pub async fn read<T: Send + 'static>(
        &self,
        read: impl for<'a> FnOnce(&ViewContext<'a>) -> T + Send + 'static,
    ) -> Result<T, EngineError> {
        let (reply, answer) = oneshot::channel();
        let job: ReadJob = Box::new(move |context| {
            let answer = read(context);
            Box::new(move || {
                let _ = reply.send(answer);
            })
        });
        self.tx
            .send(Request::Read(job))
            .await
            .map_err(|_| EngineError::Stopping)?;
        answer.await.map_err(|_| EngineError::Stopping)
    }
}

/// The channels the rest of the hub reads the writer's output from.
pub struct Outputs {
    pub handle: WriterHandle,
    pub hall: watch::Receiver<Published>,
    pub stream: broadcast::Sender<StreamItem>,
    /// Ends when the writer thread has stopped and closed the database.
    pub stopped: oneshot::Receiver<()>,
    /// The hub's measurements; the writer records its commit times there.
    pub metrics: Arc<crate::engine::metrics::Metrics>,
    /// Says when a sync failed: the hub must stop (`crate::engine::syncer`).
    pub failed: crate::engine::syncer::Failed,
    /// Where the durable log stands, after each write turn (the replication stream's cue).
    pub marks: watch::Receiver<Marks>,
}

struct Writer {
    hall: Hall,
    store: Store,
    db: PathBuf,
    seq: u64,
    clock: Arc<dyn Clock>,
    zone: TimeZone,
    zone_name: String,
    projection: Projection,
    projected_at: Millis,
    /// When the last projection was made and how long it took, in real time (the hub's clock
    /// may be a test's): they pace the projections of a long queue.
    projected_instant: Instant,
    projection_cost: Duration,
    /// A change was made since the last projection (skipped under load); the next tick makes one.
    projection_behind: bool,
    /// The hall view last handed on, to tell whether the next one differs.
    published_json: Arc<str>,
    stream: broadcast::Sender<StreamItem>,
    /// Makes each turn's writes durable, then delivers its outcome (absent while seeding).
    syncer: Option<Syncer>,
    metrics: Arc<crate::engine::metrics::Metrics>,
    /// Follow mode: the log is numbered elsewhere and arrives through [`Request::Follow`];
    /// no commands, no day rollover by the clock.
    following: bool,
    /// A copy of the hall as of event `base_seq`. A failed commit goes back to it and folds
    /// only the events logged since, not the whole history (which grows by thousands of events
    /// a day and would hold up the writer, and the reads it answers, for seconds).
    base: Hall,
    base_seq: u64,
    /// Where the durable log stands, published after each write turn's sync.
    marks: Arc<watch::Sender<Marks>>,
}

/// The copy of the hall a failed commit goes back to is renewed after this many events (and
/// ten more per ticket of the day, so copying a big day's hall stays a small share of the
/// writer's time), and when a day starts.
const REBASE_AFTER_EVENTS: u64 = 20_000;

/// Moves the requests already queued into `batch`, up to `MAX_BATCH`.
fn take_queued(rx: &mut mpsc::Receiver<Request>, batch: &mut Vec<Request>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(request) => batch.push(request),
            Err(_) => break,
        }
    }
}

/// The hall as the log says it is, and where the log stands.
struct Folded {
    hall: Hall,
    /// The sequence number of the log's last event.
    seq: u64,
    /// The last day start folded, with the snapshot of the hall right after it.
    day_start: Option<(u64, HallSnapshot)>,
}

/// `base` (the hall as of event `after`) with every event logged after `after` folded in.
fn fold(store: &Store, base: Hall, after: u64) -> Result<Folded, StoreError> {
    let mut hall = base;
    let mut day_start = None;
    store.for_each_record_after(after, |record| {
        if let Event::DayStarted { date } = record.event {
            // Costs a copy of the configuration, once a day of the log.
            day_start = Some((record.seq, hall.day_start_snapshot(date, record.at)));
        }
        hall.evolve(&record.event, record.at);
    })?;
    Ok(Folded {
        hall,
        seq: store.last_seq()?,
        day_start,
    })
}

/// The hall as the log says it is, folded from the snapshot of the latest day start (only
/// the day so far is read), or from the whole log when there is no snapshot this version can
/// use; then the snapshot of the latest day start folded is saved for the next start.
fn load(store: &Store) -> Result<(Hall, u64), StoreError> {
    let (base, after) = match store.latest_hall_snapshot()? {
        SnapshotLookup::Found { seq, snapshot } => (Hall::from_snapshot(&snapshot), seq),
        SnapshotLookup::Missing => (Hall::new(), 0),
        SnapshotLookup::Ignored { seq, reason } => {
            tracing::info!(seq, %reason, "hall snapshot ignored; folding the whole log");
            (Hall::new(), 0)
        }
    };
    let folded = fold(store, base, after)?;
    if let Some((seq, snapshot)) = &folded.day_start {
        save_snapshot(store, *seq, snapshot);
    }
    Ok((folded.hall, folded.seq))
}

/// Saves the snapshot of a day start. A failure costs only the next start-up's time, so it
/// is logged, not raised.
fn save_snapshot(store: &Store, seq: u64, snapshot: &HallSnapshot) {
    match store.save_hall_snapshot(seq, snapshot) {
        Ok(()) => tracing::debug!(seq, date = %snapshot.date, "hall snapshot saved"),
        Err(error) => tracing::warn!(%error, seq, "cannot save the hall snapshot"),
    }
}

/// Opens the database, folds the log into the hall, seeds an empty log with `seed` commands,
/// and starts the writer thread.
pub fn start(db: PathBuf, seed: Vec<Command>, clock: Arc<dyn Clock>) -> anyhow::Result<Outputs> {
    start_writer(db, seed, clock, false)
}

/// Starts the writer in follow mode, for a standby: it folds the log it has and then only
/// appends records numbered elsewhere ([`WriterHandle::follow`]), in order. Nothing seeds it,
/// it refuses commands, and its clock never starts a day: the followed log does. Its views,
/// stream and reads work as a running hall's.
pub fn start_following(db: PathBuf, clock: Arc<dyn Clock>) -> anyhow::Result<Outputs> {
    start_writer(db, Vec::new(), clock, true)
}

fn start_writer(
    db: PathBuf,
    seed: Vec<Command>,
    clock: Arc<dyn Clock>,
    following: bool,
) -> anyhow::Result<Outputs> {
    let store = Store::open(&db)?;
    let (hall, seq) = load(&store)?;
    if let Err(broken) = hall.check_invariants() {
        tracing::error!(%broken, "the folded log breaks an invariant");
    }
    let zone_name = hall.settings().timezone.clone();
    let zone = time_zone(&zone_name);
    let (stream, _) = broadcast::channel(4096);
    let mut writer = Writer {
        hall,
        store,
        db,
        seq,
        clock,
        zone,
        zone_name,
        projection: Projection::default(),
        projected_at: Millis(0),
        projected_instant: Instant::now(),
        projection_cost: Duration::ZERO,
        projection_behind: false,
        published_json: Arc::from(""),
        stream: stream.clone(),
        syncer: None,
        metrics: crate::engine::metrics::Metrics::new(),
        following,
        base: Hall::new(),
        base_seq: 0,
        marks: Arc::new(watch::Sender::new(Marks::default())),
    };
    let metrics = writer.metrics.clone();
    if seq == 0 && !seed.is_empty() {
        writer.seed(seed)?;
    }
    writer.rebase();
    let now = writer.now();
    writer.reproject(now);
    let published = writer.view(now);
    writer.published_json = published.json.clone();
    let (hall_tx, hall_rx) = watch::channel(published);
    writer.marks.send_replace(writer.marks_now());
    let marks = writer.marks.subscribe();
    writer.store.defer_syncs()?;
    let (syncer, failed) = Syncer::start(
        jiaohao_store::wal_path(&writer.db),
        hall_tx,
        stream.clone(),
        metrics.clone(),
    )?;
    writer.syncer = Some(syncer);
    tracing::info!(events = writer.seq, "hall state folded from the log");

    let (tx, rx) = mpsc::channel(4096);
    let (stopped_tx, stopped) = oneshot::channel();
    std::thread::Builder::new()
        .name("jiaohao-writer".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build();
            match runtime {
                Ok(runtime) => runtime.block_on(writer.run(rx)),
                Err(error) => tracing::error!(%error, "the writer cannot start its runtime"),
            }
            let _ = stopped_tx.send(());
        })?;
    Ok(Outputs {
        handle: WriterHandle { tx },
        hall: hall_rx,
        stream,
        stopped,
        metrics,
        failed,
        marks,
    })
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut ticks_since_projection = 0u32;
        loop {
            tokio::select! {
                request = rx.recv() => {
                    let Some(first) = request else { break };
                    let mut batch = vec![first];
                    take_queued(&mut rx, &mut batch);
                    self.handle_batch(batch);
                    ticks_since_projection = 0;
                }
                _ = tick.tick() => {
                    let now = self.now();
                    if !self.following && self.hall.date().is_none_or(|today| now.date > today) {
                        let (reply, _) = oneshot::channel();
                        self.handle_batch(vec![Request::Command {
                            command: Command::Tick,
                            actor: "clock".into(),
                            reply,
                        }]);
                        ticks_since_projection = 0;
                    } else {
                        // Time alone changes the view: a service reaches its closing time,
                        // waits shrink. Publishing sends `hall_changed` only if it differs.
                        ticks_since_projection += 1;
                        if (self.projection_behind
                            || (ticks_since_projection >= REPROJECT_EVERY_TICKS
                                && !self.hall.queues().is_empty()))
                            && (!self.long_queue() || self.projection_due())
                        {
                            self.reproject(now);
                            ticks_since_projection = 0;
                        }
                        let mut outcome = Outcome::default();
                        self.publish(now, &mut outcome);
                        // Rows written beside the writer (a token made with the command line
                        // while the hub runs, synced by its own commit) reach the replication
                        // stream within a tick.
                        let marks = self.marks_now();
                        if marks != *self.marks.borrow() {
                            let sender = self.marks.clone();
                            outcome.deliveries.push(Box::new(move || {
                                sender.send_replace(marks);
                            }));
                        }
                        self.hand_on(outcome);
                    }
                }
            }
        }
        // Everything written is made durable and delivered first.
        let mut failed = false;
        if let Some(syncer) = &mut self.syncer {
            syncer.finish();
            failed = syncer.failed();
        }
        // Fold the log into the database file before closing: a reader connection may still
        // be open at this moment, and then closing alone would leave the WAL behind. Not after
        // a failed sync: what the page cache holds of the WAL is not known to be on the disk.
        if failed {
            tracing::error!(
                "writer stopped after a failed sync; the database was not checkpointed"
            );
            return;
        }
        if let Err(error) = self.store.checkpoint() {
            tracing::warn!(%error, "cannot checkpoint the database at shutdown");
        }
        tracing::info!("writer stopped; database closed");
    }

    fn now(&self) -> Now {
        core_now(self.clock.now(), &self.zone)
    }

    /// Where the log stands now (committed; durable once this turn's sync is done).
    fn marks_now(&self) -> Marks {
        Marks {
            seq: self.seq,
            side_seq: self.store.last_side_seq().unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot read the side log's position");
                self.marks.borrow().side_seq
            }),
            term: self.store.term(),
        }
    }

    /// Hands a turn's outcome to the syncer, which delivers it once it is durable.
    fn hand_on(&self, outcome: Outcome) {
        if let Some(syncer) = &self.syncer {
            syncer.send(outcome);
        }
    }

    /// Applies the seed commands of a hall file to an empty log as one transaction.
    fn seed(&mut self, commands: Vec<Command>) -> anyhow::Result<()> {
        let now = self.now();
        let day_start = self.day_start_ahead(now);
        let mut records = Vec::new();
        for command in &commands {
            let events = self
                .hall
                .apply(command, now)
                .map_err(|e| anyhow::anyhow!("the hall file does not fit: {e}"))?;
            records.extend(self.records_for(events, now, "hall-file"));
        }
        self.commit(&records)?;
        self.save_day_start(day_start, &records);
        self.follow_time_zone();
        Ok(())
    }

    /// The snapshot of the hall as a day start on this batch's date would leave it, when the
    /// batch's first accepted command will start a day: taken before the batch (which a
    /// refused command leaves unchanged), since the day start's own state is gone once the
    /// command's other events are folded.
    fn day_start_ahead(&self, now: Now) -> Option<HallSnapshot> {
        self.hall
            .date()
            .is_none_or(|today| now.date > today)
            .then(|| self.hall.day_start_snapshot(now.date, now.at))
    }

    /// After a commit: saves the snapshot taken ahead if the batch started a day.
    fn save_day_start(&self, snapshot: Option<HallSnapshot>, committed: &[Prepared]) {
        let Some(snapshot) = snapshot else { return };
        let day_start = committed
            .iter()
            .find(|p| matches!(p.event, Event::DayStarted { date } if date == snapshot.date));
        if let Some(day_start) = day_start {
            save_snapshot(&self.store, day_start.seq, &snapshot);
        }
    }

    /// Folds records numbered elsewhere and prepares them for the stream; their bytes go to
    /// `raw`, to be stored verbatim. All of them or, when they do not continue the log or one
    /// cannot be read, none. A day start among them gets its snapshot, as when this writer
    /// starts a day itself; a promotion record is stored but not folded (no hall event).
    fn follow(
        &mut self,
        records: Vec<RawRecord>,
        prepared: &mut Vec<Prepared>,
        raw: &mut Vec<RawRecord>,
        day_start: &mut Option<HallSnapshot>,
    ) -> Result<u64, FollowError> {
        if !self.following {
            return Err(FollowError::NotFollowing);
        }
        let mut events = Vec::with_capacity(records.len());
        for (offset, record) in records.iter().enumerate() {
            let expected = self.seq + 1 + offset as u64;
            if record.seq != expected {
                return Err(FollowError::OutOfOrder {
                    expected,
                    found: record.seq,
                });
            }
            if record.kind == PROMOTED_KIND {
                events.push(None);
                continue;
            }
            let event = jiaohao_store::stored::event_from_json(&record.body).map_err(|error| {
                FollowError::Unreadable {
                    seq: record.seq,
                    message: error.to_string(),
                }
            })?;
            events.push(Some(event));
        }
        for (record, event) in records.into_iter().zip(events) {
            self.seq = record.seq;
            if let Some(event) = event {
                if let Event::DayStarted { date } = event {
                    *day_start = Some(self.hall.day_start_snapshot(date, record.at));
                }
                self.hall.evolve(&event, record.at);
                // The stream sends the primary's own message when it has one (the same bytes
                // the primary sent its displays), named as this hub names it.
                let public = self
                    .public_message(record.seq, record.at, &event)
                    .map(|(name, json)| (name, record.public.clone().unwrap_or(json)));
                prepared.push(Prepared {
                    seq: record.seq,
                    at: record.at,
                    actor: record.actor.clone(),
                    event,
                    public,
                });
            }
            raw.push(record);
        }
        Ok(self.seq)
    }

    /// Ends follow mode with a promotion record of the next term, committed at once.
    fn promote(&mut self, now: Now, actor: &str) -> Result<Promotion, FollowError> {
        if !self.following {
            return Err(FollowError::NotFollowing);
        }
        let promotion = Promotion {
            seq: self.seq + 1,
            term: self.store.term() + 1,
        };
        self.store
            .append_promoted(promotion.seq, now.at, actor, promotion.term)
            .map_err(|error| {
                tracing::error!(%error, "cannot record the promotion");
                FollowError::Unavailable
            })?;
        self.seq = promotion.seq;
        self.following = false;
        tracing::info!(
            seq = promotion.seq,
            term = promotion.term,
            "promoted: this hub is the primary now"
        );
        Ok(promotion)
    }

    /// The stream message of a followed event, as [`Writer::records_for`] makes it.
    fn public_message(
        &self,
        seq: u64,
        at: Millis,
        event: &Event,
    ) -> Option<(&'static str, String)> {
        let change = views::change(&self.hall, event)?;
        let name = change.name();
        let message = wire::ChangeMessage {
            id: seq,
            at: crate::clock::rfc3339(at, &self.zone),
            change,
        };
        Some((name, serde_json::to_string(&message).unwrap_or_default()))
    }

    /// Numbers events and prepares them for the log and the stream.
    fn records_for(&mut self, events: Vec<Event>, now: Now, actor: &str) -> Vec<Prepared> {
        events
            .into_iter()
            .map(|event| {
                self.seq += 1;
                let change = views::change(&self.hall, &event);
                Prepared {
                    seq: self.seq,
                    at: now.at,
                    actor: actor.to_owned(),
                    public: change.map(|change| {
                        let name = change.name();
                        let message = wire::ChangeMessage {
                            id: self.seq,
                            at: crate::clock::rfc3339(now.at, &self.zone),
                            change,
                        };
                        let json = serde_json::to_string(&message).unwrap_or_default();
                        (name, json)
                    }),
                    event,
                }
            })
            .collect()
    }

    fn commit(&mut self, prepared: &[Prepared]) -> Result<(), StoreError> {
        let records: Vec<NewRecord<'_>> = prepared
            .iter()
            .map(|p| NewRecord {
                seq: p.seq,
                at: p.at,
                actor: &p.actor,
                event: &p.event,
                public: p.public.as_ref().map(|(_, json)| json.clone()),
            })
            .collect();
        let started = std::time::Instant::now();
        let appended = self.store.append(&records);
        self.metrics.commit.observe(started.elapsed());
        appended
    }

    fn handle_batch(&mut self, batch: Vec<Request>) {
        if self.syncer.as_ref().is_some_and(Syncer::failed) {
            // The hub is stopping after a failed sync: nothing more goes into the log, where a
            // restart would find a change nobody was told of. Dropped requests are answered
            // that the hub is stopping.
            return;
        }
        let now = self.now();
        let mut day_start = if self.following {
            None
        } else {
            self.day_start_ahead(now)
        };
        let mut followed = Vec::new();
        let mut prepared = Vec::new();
        let mut raw = Vec::new();
        let mut promotions = Vec::new();
        let mut promoted = Vec::new();
        let mut replies = Vec::new();
        let mut queries = Vec::new();
        let mut reads = Vec::new();
        // What the batch hands on; the answers of store work go in first. Whether that work
        // wrote anything (and needs the sync) shows in the connection's change count.
        let mut outcome = Outcome::default();
        let changes_before = self.store.total_changes();
        for request in batch {
            match request {
                Request::Follow { records, reply } => {
                    let result = self.follow(records, &mut prepared, &mut raw, &mut day_start);
                    followed.push((reply, result));
                }
                Request::Promote { actor, reply } => promotions.push((actor, reply)),
                Request::Command { reply, .. } | Request::CommandFrom { reply, .. }
                    if self.following =>
                {
                    replies.push((reply, Err(EngineError::Following)));
                }
                Request::CommandFrom {
                    build,
                    actor,
                    reply,
                } => match build(&self.hall)
                    .and_then(|command| Ok((self.hall.apply(&command, now)?, command)))
                {
                    Ok((events, command)) => {
                        let pending = self.pending_answer(&command, &events);
                        prepared.extend(self.records_for(events, now, &actor));
                        replies.push((reply, Ok(pending)));
                    }
                    Err(error) => replies.push((reply, Err(EngineError::from(error)))),
                },
                Request::Store(job) => outcome.deliveries.push(job(&self.store, now)),
                Request::Read(job) => reads.push(job),
                Request::Command {
                    command,
                    actor,
                    reply,
                } => match self.hall.apply(&command, now) {
                    Ok(events) => {
                        let pending = self.pending_answer(&command, &events);
                        prepared.extend(self.records_for(events, now, &actor));
                        replies.push((reply, Ok(pending)));
                    }
                    Err(error) => replies.push((reply, Err(EngineError::from(error)))),
                },
                Request::TicketStatus { token, reply } => queries.push((token, reply)),
            }
        }

        let mut committed = true;
        let appended = if raw.is_empty() {
            (!prepared.is_empty()).then(|| self.commit(&prepared))
        } else {
            Some(self.store.append_raw(&raw))
        };
        if let Some(Err(error)) = appended {
            committed = false;
            tracing::error!(%error, "commit failed; the batch is refused and the state reloaded");
            self.reload();
        }
        // After what the batch followed, in its place in the log.
        for (actor, reply) in promotions {
            promoted.push((reply, self.promote(now, &actor)));
        }
        if committed && !prepared.is_empty() {
            self.save_day_start(day_start, &prepared);
            self.follow_time_zone();
            self.rebase_if_due();
        }
        // A short queue is projected once for the whole batch, before anything reads it; a long
        // one after the answers (see `SMALL_QUEUE`).
        let changed = committed && !prepared.is_empty();
        if changed {
            self.projection_behind = true;
        }
        let stale = now.at.since(self.projected_at) > PROJECTION_MAX_AGE_MS;
        let long_queue = self.long_queue();
        if !long_queue && (self.projection_behind || stale) {
            self.reproject(now);
        }
        outcome.wrote = !prepared.is_empty()
            || !raw.is_empty()
            || !promoted.is_empty()
            || self.store.total_changes() != changes_before;
        if outcome.wrote {
            // First among the deliveries: the replication stream may send it once it is durable.
            let (marks, sender) = (self.marks_now(), self.marks.clone());
            outcome.deliveries.insert(
                0,
                Box::new(move || {
                    sender.send_replace(marks);
                }),
            );
        }
        // Published before the answers (the syncer keeps this order): whoever is told of a
        // change finds it in every read.
        if changed {
            for item in prepared {
                if let Some((name, json)) = item.public {
                    outcome.changes.push(StreamItem::Change {
                        seq: item.seq,
                        frame: frame(name, item.seq, &json),
                    });
                }
            }
            self.publish(now, &mut outcome);
        }
        let context = ViewContext {
            hall: &self.hall,
            projection: &self.projection,
            now,
            zone: &self.zone,
        };
        for (reply, pending) in replies {
            let answer = match pending {
                Ok(_) if !committed => Err(EngineError::Unavailable),
                Ok(pending) => Ok(answer(&context, pending)),
                Err(error) => Err(error),
            };
            outcome.deliveries.push(Box::new(move || {
                let _ = reply.send(answer);
            }));
        }
        for (reply, result) in followed {
            let result = match result {
                Ok(_) if !committed => Err(FollowError::Unavailable),
                result => result,
            };
            outcome.deliveries.push(Box::new(move || {
                let _ = reply.send(result);
            }));
        }
        for (reply, result) in promoted {
            outcome.deliveries.push(Box::new(move || {
                let _ = reply.send(result);
            }));
        }
        for (token, reply) in queries {
            let status = match self.hall.ticket_by_token(&token) {
                Some(ticket) => Some(context.ticket_status(ticket)),
                None => self
                    .hall
                    .registry()
                    .ratable_by_token(&token)
                    .map(|ticket| context.earlier_ticket_status(ticket)),
            };
            outcome.deliveries.push(Box::new(move || {
                let _ = reply.send(status);
            }));
        }
        for read in reads {
            outcome.deliveries.push(read(&context));
        }
        self.hand_on(outcome);
        // Everyone in the batch has their answer made. The new estimates reach the published
        // view with the next batch or tick, within a second.
        if long_queue && (self.projection_behind || stale) && self.projection_due() {
            self.reproject(now);
        }
    }

    fn long_queue(&self) -> bool {
        self.hall.queues().len() > SMALL_QUEUE
    }

    /// Whether a long queue may be re-projected now (see `SMALL_QUEUE`).
    fn projection_due(&self) -> bool {
        let interval = (self.projection_cost * PROJECTION_COST_FACTOR)
            .clamp(PROJECTION_MIN_INTERVAL, PROJECTION_MAX_INTERVAL);
        self.projected_instant.elapsed() >= interval
    }

    fn pending_answer(&self, command: &Command, events: &[Event]) -> Pending {
        let last_ticket = events.iter().rev().find_map(|event| match event {
            Event::TicketCalled { id, .. }
            | Event::TicketFinished { id, .. }
            | Event::TicketNoShow { id, .. }
            | Event::TicketTransferred { id, .. } => Some(*id),
            _ => None,
        });
        match command {
            Command::IssueTicket {
                idempotency_key, ..
            } => {
                let issued = events.iter().find_map(|event| match event {
                    Event::TicketIssued { id, .. } => Some(*id),
                    _ => None,
                });
                let earlier = || {
                    idempotency_key
                        .as_deref()
                        .and_then(|key| self.hall.ticket_by_idempotency_key(key))
                        .map(|t| t.id)
                };
                match issued.or_else(earlier) {
                    Some(id) => Pending::Issued(id),
                    None => Pending::Done,
                }
            }
            Command::IssueForPerson {
                service,
                person,
                idempotency_key,
                ..
            } => {
                let issued = events.iter().find_map(|event| match event {
                    Event::TicketIssued { id, .. } => Some(*id),
                    _ => None,
                });
                match (issued, self.hall.ticket_of(person, service)) {
                    (Some(id), _) => Pending::Issued(id),
                    // A retry of the same request (its key) is no reprint: its answer was lost.
                    (None, Some(earlier))
                        if idempotency_key.is_some()
                            && earlier.idempotency_key == *idempotency_key =>
                    {
                        Pending::Issued(earlier.id)
                    }
                    (None, Some(earlier)) => Pending::Reprinted(earlier.id),
                    (None, None) => Pending::Done,
                }
            }
            Command::CheckIn { .. } => match events.iter().find_map(|event| match event {
                Event::TicketIssued { id, .. } => Some(*id),
                _ => None,
            }) {
                Some(id) => Pending::Issued(id),
                None => Pending::Done,
            },
            Command::CallNext { .. } | Command::CallTicket { .. } => {
                Pending::Ticket(events.iter().find_map(|event| match event {
                    Event::TicketCalled { id, .. } => Some(*id),
                    _ => None,
                }))
            }
            Command::Recall { .. }
            | Command::NoShow { .. }
            | Command::Finish { .. }
            | Command::Transfer { .. } => Pending::Ticket(last_ticket),
            Command::Open { window }
            | Command::Close { window, .. }
            | Command::Pause { window, .. }
            | Command::Resume { window } => Pending::Window(*window),
            Command::AddWindow(def) | Command::UpdateWindow(def) => Pending::Window(def.number),
            Command::AssignServices { window, .. } => Pending::Window(*window),
            Command::AddService(service) | Command::UpdateService(service) => {
                Pending::Service(service.code.clone())
            }
            Command::ConfigureHall(_) => Pending::Settings,
            Command::RemoveService(_)
            | Command::RemoveWindow(_)
            | Command::SetCalendar(_)
            | Command::Tick
            | Command::RateTicket { .. }
            | Command::ConfigureBooking { .. }
            | Command::Book { .. }
            | Command::VerifyBooking { .. }
            | Command::CancelBooking { .. }
            | Command::RateOwnTicket { .. }
            | Command::CallBackCase { .. }
            | Command::FixCase { .. }
            | Command::CloseCase { .. } => Pending::Done,
        }
    }

    /// After a failed commit: the in-memory state ran ahead of the log, so fold it again, from
    /// the kept copy (never older than the day start's snapshot: it is renewed at each day
    /// start, so it never holds more than a day's tickets either).
    fn reload(&mut self) {
        let folded = match fold(&self.store, self.base.clone(), self.base_seq) {
            Ok(folded) => Ok(folded),
            Err(error) => {
                // Reading failed too: reopen the file and try once more.
                tracing::error!(%error, "cannot read the log back; reopening the database");
                Store::open(&self.db).and_then(|store| {
                    store.defer_syncs()?;
                    self.store = store;
                    fold(&self.store, self.base.clone(), self.base_seq)
                })
            }
        };
        if let Ok(folded) = folded {
            self.hall = folded.hall;
            self.seq = folded.seq;
        }
    }

    /// Makes the hall as it is now the one a failed commit goes back to.
    fn rebase(&mut self) {
        self.base = self.hall.clone();
        self.base_seq = self.seq;
    }

    /// After a commit: renews the base when a day has started or enough events have passed.
    fn rebase_if_due(&mut self) {
        let since = self.seq.saturating_sub(self.base_seq);
        let due = REBASE_AFTER_EVENTS + 10 * self.hall.tickets().len() as u64;
        if since >= due || self.hall.date() != self.base.date() {
            self.rebase();
        }
    }

    /// Picks up a time-zone change of the hall settings.
    fn follow_time_zone(&mut self) {
        if self.hall.settings().timezone != self.zone_name {
            self.zone_name = self.hall.settings().timezone.clone();
            self.zone = time_zone(&self.zone_name);
        }
    }

    fn reproject(&mut self, now: Now) {
        let started = Instant::now();
        self.projection = Projection::of(&self.hall, now);
        self.projection_cost = started.elapsed();
        self.projected_instant = Instant::now();
        self.projected_at = now.at;
        self.projection_behind = false;
    }

    /// The hall view as of now, ready to publish.
    fn view(&self, now: Now) -> Published {
        let context = ViewContext {
            hall: &self.hall,
            projection: &self.projection,
            now,
            zone: &self.zone,
        };
        Published::new(context.hall_view(self.seq))
    }

    /// Adds the hall view as of now to `outcome` when it differs from the last one handed on,
    /// with its `hall_changed` message when anybody listens to the stream.
    fn publish(&mut self, now: Now, outcome: &mut Outcome) {
        let view = self.view(now);
        if *self.published_json == *view.json {
            return;
        }
        self.published_json = view.json.clone();
        // Nobody listening (no subscriber yet): no need to make the message.
        outcome.view_message =
            (self.stream.receiver_count() > 0).then(|| StreamItem::HallChanged {
                seq: self.seq,
                frame: frame("hall_changed", self.seq, &view.json),
            });
        outcome.view = Some(view);
    }
}

struct Prepared {
    seq: u64,
    at: Millis,
    actor: String,
    event: Event,
    public: Option<(&'static str, String)>,
}

fn answer(context: &ViewContext<'_>, pending: Pending) -> Answer {
    let hall = context.hall;
    match pending {
        Pending::Issued(id) => match hall.ticket(id) {
            Some(ticket) => Answer::Issued(context.issued_ticket(ticket)),
            None => Answer::Done,
        },
        Pending::Reprinted(id) => match hall.ticket(id) {
            Some(ticket) => Answer::Issued(wire::IssuedTicket {
                reprint: true,
                ..context.issued_ticket(ticket)
            }),
            None => Answer::Done,
        },
        Pending::Ticket(id) => Answer::Ticket(
            id.and_then(|id| hall.ticket(id))
                .map(|ticket| views::ticket_detail(ticket, context.zone)),
        ),
        Pending::Window(number) => match hall.window(number) {
            Some(window) => Answer::Window(context.window_status(window)),
            None => Answer::Done,
        },
        Pending::Service(code) => match hall.service(&code) {
            Some(service) => Answer::Service(codec::service_to_wire(service)),
            None => Answer::Done,
        },
        Pending::Settings => Answer::Settings(codec::settings_to_wire(hall.settings())),
        Pending::Done => Answer::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiaohao_core::{ClockTime, LocalDate, ServiceCode, WindowNumber};

    /// Logs a morning of the default hall: its seed, a window opened, tickets issued, called
    /// and finished; returns the records as logged.
    fn log_a_morning(store: &mut Store) -> Vec<jiaohao_store::Record> {
        let mut commands = crate::hall_file::parse(crate::hall_file::DEFAULT_HALL).unwrap();
        let window = WindowNumber::new(1).unwrap();
        commands.push(Command::Open { window });
        for i in 0..40u32 {
            let service = if i % 2 == 0 { "hukou" } else { "id_card" };
            commands.push(Command::IssueTicket {
                service: ServiceCode::parse(service).unwrap(),
                green_channel: i % 7 == 0,
                token: format!("{i:032}"),
                idempotency_key: None,
            });
            if i % 3 == 0 {
                commands.push(Command::CallNext { window });
                commands.push(Command::finish(window));
            }
        }
        let mut hall = Hall::new();
        let mut events = Vec::new();
        for (i, command) in commands.iter().enumerate() {
            let now = Now {
                at: Millis(1_800_000_000_000 + 1_000 * i as i64),
                date: LocalDate::new(2026, 12, 2).unwrap(),
                time: ClockTime::from_minutes(9 * 60 + i as u16 / 60).unwrap(),
            };
            let applied = hall.apply(command, now).unwrap();
            events.extend(applied.into_iter().map(|event| (now.at, event)));
        }
        let records: Vec<NewRecord<'_>> = events
            .iter()
            .enumerate()
            .map(|(i, (at, event))| NewRecord {
                seq: i as u64 + 1,
                at: *at,
                actor: "test",
                event,
                public: None,
            })
            .collect();
        store.append(&records).unwrap();
        let mut logged = Vec::new();
        store
            .for_each_record_after(0, |record| logged.push(record))
            .unwrap();
        logged
    }

    #[test]
    fn folding_what_came_after_a_base_gives_the_hall_of_the_whole_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("hall.db")).unwrap();
        let logged = log_a_morning(&mut store);
        assert!(logged.len() > 80, "{} events", logged.len());
        let Folded {
            hall: whole,
            seq: last,
            ..
        } = fold(&store, Hall::new(), 0).unwrap();
        assert_eq!(last, logged.len() as u64);
        assert_eq!(whole.tickets().len(), 40);
        for cut in [
            1,
            logged.len() / 3,
            logged.len() / 2,
            logged.len() - 1,
            logged.len(),
        ] {
            let mut base = Hall::new();
            for record in &logged[..cut] {
                base.evolve(&record.event, record.at);
            }
            let Folded { hall, seq, .. } = fold(&store, base, cut as u64).unwrap();
            assert_eq!(seq, last);
            assert!(hall == whole, "folding from event {cut} gives another hall");
        }
    }

    /// Logs `days` days of the default hall through the core, each with tickets issued,
    /// called and finished, and an admin change; returns the seq of each day start.
    fn log_days(store: &mut Store, days: u8) -> Vec<u64> {
        let mut hall = Hall::new();
        let mut events = Vec::new();
        let window = WindowNumber::new(1).unwrap();
        let mut token = 0u32;
        for day in 0..days {
            let mut commands = if day == 0 {
                crate::hall_file::parse(crate::hall_file::DEFAULT_HALL).unwrap()
            } else {
                vec![Command::Tick]
            };
            commands.push(Command::Open { window });
            for i in 0..12u32 {
                token += 1;
                commands.push(Command::IssueTicket {
                    service: ServiceCode::parse(if i % 2 == 0 { "hukou" } else { "id_card" })
                        .unwrap(),
                    green_channel: i % 5 == 0,
                    token: format!("{token:032}"),
                    idempotency_key: None,
                });
                if i % 2 == 0 {
                    commands.push(Command::CallNext { window });
                }
            }
            let mut settings = hall.settings().clone();
            settings.notices_zh = vec![format!("第{day}天")];
            commands.push(Command::ConfigureHall(settings));
            for (i, command) in commands.iter().enumerate() {
                let now = Now {
                    at: Millis(1_800_000_000_000 + 86_400_000 * i64::from(day) + 1_000 * i as i64),
                    date: LocalDate::new(2026, 12, 2 + day).unwrap(),
                    time: ClockTime::from_minutes(9 * 60 + i as u16 / 60).unwrap(),
                };
                let applied = hall.apply(command, now).unwrap();
                events.extend(applied.into_iter().map(|event| (now.at, event)));
            }
        }
        let records: Vec<NewRecord<'_>> = events
            .iter()
            .enumerate()
            .map(|(i, (at, event))| NewRecord {
                seq: i as u64 + 1,
                at: *at,
                actor: "test",
                event,
                public: None,
            })
            .collect();
        store.append(&records).unwrap();
        records
            .iter()
            .filter(|r| matches!(r.event, Event::DayStarted { .. }))
            .map(|r| r.seq)
            .collect()
    }

    #[test]
    fn start_up_folds_only_what_follows_the_latest_day_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("hall.db")).unwrap();
        let day_starts = log_days(&mut store, 3);
        assert_eq!(day_starts.len(), 3);
        let whole = fold(&store, Hall::new(), 0).unwrap();
        assert_eq!(whole.hall.tickets().len(), 12);

        // No snapshot yet: the whole log is folded, and the latest day start's snapshot saved.
        assert_eq!(
            store.latest_hall_snapshot().unwrap(),
            SnapshotLookup::Missing
        );
        let (hall, seq) = load(&store).unwrap();
        assert!(hall == whole.hall);
        assert_eq!(seq, whole.seq);
        let SnapshotLookup::Found {
            seq: snapshot_seq, ..
        } = store.latest_hall_snapshot().unwrap()
        else {
            panic!("no snapshot saved");
        };
        assert_eq!(snapshot_seq, day_starts[2]);

        // From now on only what follows it is read: an event before it that cannot be read
        // no longer matters (folding the whole log would fail on it).
        let body: String = store
            .record(2)
            .map(|record| jiaohao_store::stored::event_to_json(&record.unwrap().event))
            .unwrap();
        // Another connection changes the file, as a damaged disk or an older hub would.
        let db = dir.path().join("hall.db");
        let execute = |sql: &str, value: &dyn rusqlite::ToSql| {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.execute(sql, [value]).unwrap();
        };
        let damage = |body: &str| execute("UPDATE events SET body = ?1 WHERE seq = 2", &body);
        damage("{}");
        assert!(fold(&store, Hall::new(), 0).is_err());
        let (hall, seq) = load(&store).unwrap();
        assert!(hall == whole.hall, "the hall from the snapshot differs");
        assert_eq!(seq, whole.seq);

        // A snapshot of an older version is ignored: the whole log is folded again (and here
        // fails on the damaged event, which shows it was read).
        execute(
            "UPDATE hall_snapshots SET version = ?1",
            &(jiaohao_store::stored::SNAPSHOT_VERSION - 1),
        );
        assert!(load(&store).is_err());
        damage(&body);
        let (hall, _) = load(&store).unwrap();
        assert!(hall == whole.hall);
        assert!(
            matches!(
                store.latest_hall_snapshot().unwrap(),
                SnapshotLookup::Found { seq, .. } if seq == day_starts[2]
            ),
            "the snapshot is rebuilt"
        );
    }

    #[tokio::test]
    async fn the_writer_saves_a_snapshot_when_a_day_starts() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hall.db");
        let start_at: jiff::Timestamp = "2026-12-02T01:00:00Z".parse().unwrap();
        let clock = Arc::new(crate::clock::ManualClock::new(start_at));
        let seed = crate::hall_file::parse(crate::hall_file::DEFAULT_HALL).unwrap();
        let outputs = start(db.clone(), seed, clock.clone()).unwrap();
        let window = WindowNumber::new(1).unwrap();
        let issue = |token: u32| Command::IssueTicket {
            service: ServiceCode::parse("hukou").unwrap(),
            green_channel: false,
            token: format!("{token:032}"),
            idempotency_key: None,
        };
        let handle = outputs.handle.clone();
        handle
            .command(Command::Open { window }, "test".into())
            .await
            .unwrap();
        for token in 0..3 {
            handle.command(issue(token), "test".into()).await.unwrap();
        }
        handle
            .command(Command::CallNext { window }, "test".into())
            .await
            .unwrap();
        // The next morning, the first ticket starts the day in the same command.
        clock.advance(jiff::SignedDuration::from_hours(24));
        handle.command(issue(3), "test".into()).await.unwrap();
        drop(handle);
        drop(outputs.handle);
        outputs.stopped.await.unwrap();

        let store = Store::open(&db).unwrap();
        let SnapshotLookup::Found { seq, snapshot } = store.latest_hall_snapshot().unwrap() else {
            panic!("no snapshot saved at the day start");
        };
        assert_eq!(snapshot.date, LocalDate::new(2026, 12, 3).unwrap());
        assert_eq!(
            snapshot.next_ticket_id,
            TicketId(3),
            "ids go on across days"
        );
        assert!(matches!(
            store.record(seq).unwrap().unwrap().event,
            Event::DayStarted { .. }
        ));
        let whole = fold(&store, Hall::new(), 0).unwrap();
        let (hall, _) = load(&store).unwrap();
        assert!(hall == whole.hall);
        assert_eq!(hall.tickets().len(), 1);
    }

    #[tokio::test]
    async fn a_following_writer_appends_records_numbered_elsewhere_in_order_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut source = Store::open(&dir.path().join("source.db")).unwrap();
        let day_starts = log_days(&mut source, 2);
        let records = source.raw_records_after(0, u64::MAX, 1_000_000).unwrap();
        let db = dir.path().join("standby.db");
        // A clock days after the log: a following writer never starts a day of its own.
        let clock = Arc::new(crate::clock::ManualClock::new(
            "2027-06-01T01:00:00Z".parse().unwrap(),
        ));
        let outputs = start_following(db.clone(), clock.clone()).unwrap();
        let handle = outputs.handle.clone();
        assert_eq!(handle.follow(records[..50].to_vec()).await, Ok(50));
        assert_eq!(
            handle.follow(records[60..].to_vec()).await,
            Err(FollowError::OutOfOrder {
                expected: 51,
                found: 61
            })
        );
        assert_eq!(
            handle.follow(records[50..].to_vec()).await,
            Ok(records.len() as u64)
        );
        let refused = handle
            .command(
                Command::Open {
                    window: WindowNumber::new(1).unwrap(),
                },
                "test".into(),
            )
            .await
            .unwrap_err();
        assert_eq!(refused, EngineError::Following);
        let date = handle
            .read(|context: &ViewContext<'_>| context.hall.date())
            .await
            .unwrap();
        assert_eq!(date, Some(LocalDate::new(2026, 12, 3).unwrap()));
        // Promoted: a record of the next term, then commands of its own.
        let last = records.len() as u64;
        assert_eq!(
            handle.promote("admin:li".into()).await,
            Ok(Promotion {
                seq: last + 1,
                term: 2
            })
        );
        assert_eq!(
            handle.promote("admin:li".into()).await,
            Err(FollowError::NotFollowing)
        );
        handle
            .command(
                Command::Open {
                    window: WindowNumber::new(1).unwrap(),
                },
                "test".into(),
            )
            .await
            .unwrap();
        drop(handle);
        drop(outputs.handle);
        outputs.stopped.await.unwrap();

        // The standby's log is the source's, record for record, with the day start snapshot.
        let standby = Store::open(&db).unwrap();
        let copied = standby.raw_records_after(0, u64::MAX, 1_000_000).unwrap();
        assert_eq!(copied[..records.len()], records[..]);
        assert_eq!(copied[records.len()].kind, "promoted");
        assert_eq!(
            (
                copied[records.len() + 1].seq,
                copied[records.len() + 1].term
            ),
            (last + 2, 2),
            "numbering goes on, in the new term"
        );
        assert_eq!(standby.term(), 2);
        // Promoted, its clock (past the log's last day) started a day of its own before the
        // command, with its snapshot.
        assert!(matches!(
            standby.latest_hall_snapshot().unwrap(),
            SnapshotLookup::Found { seq, .. } if seq > day_starts[1]
        ));
        let (hall, _) = load(&standby).unwrap();
        assert_eq!(hall.date(), Some(LocalDate::new(2027, 6, 1).unwrap()));

        // A writer that runs its own hall follows nothing.
        let own = start(dir.path().join("own.db"), Vec::new(), clock).unwrap();
        assert_eq!(
            own.handle.follow(records[..1].to_vec()).await,
            Err(FollowError::NotFollowing)
        );
    }
}
