//! Two hubs in a hall: the role a hub plays (primary, standby, fenced), and the standby's
//! follower, which reads its primary's replication stream (`GET /api/replication` with a
//! `replica` token) and hands it to the writer running in follow mode.
//!
//! The follower appends each record as the primary stored it (same number, term and bytes,
//! through `WriterHandle::follow`) and applies each side change (users, sessions, token hashes,
//! device problems) in the writer's turn, so only the writer writes the file. When the link
//! breaks it reconnects with a growing pause (up to [`MAX_BACKOFF`]) and resumes after the last
//! record and side change it holds. It resumes one record early and compares that record with
//! its own: a primary that holds other bytes under a number the standby has (or fewer records
//! than it) follows another history, and the standby stops with that error instead of serving
//! it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiaohao_client::{Client, ClientError, ReplicationStream};
use jiaohao_store::{RawRecord, SideChange};
use jiaohao_wire::ReplicationLine;
use tokio::sync::watch;

use crate::engine::writer::FollowError;
use crate::http::state::AppState;

/// The longest pause between two attempts to reach the primary.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// At most this many records (or side changes) are handed to the writer at once.
const BATCH: usize = 1000;

/// Where a standby follows from.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// The primary's address, such as `http://192.168.1.10:8080`.
    pub primary: String,
    /// A `replica` token of the primary.
    pub token: String,
}

/// The part a hub plays now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Primary,
    /// Follows `primary` and takes no changes.
    Standby {
        primary: String,
    },
    /// A former primary whose peer holds a newer term: it takes no changes until it rejoins.
    Fenced {
        peer: String,
        term: u64,
    },
}

/// The hub's part and what the standby knows of its primary, shared by the follower and the
/// http layer (which refuses changes unless the hub is the primary).
pub struct Role {
    part: watch::Sender<Part>,
    /// The primary's last record, as its latest heartbeat or record said.
    primary_last_seq: AtomicU64,
    /// Why the standby stopped following (another history), if it did.
    stopped: Mutex<Option<String>>,
}

impl Role {
    pub fn new(part: Part) -> Role {
        Role {
            part: watch::Sender::new(part),
            primary_last_seq: AtomicU64::new(0),
            stopped: Mutex::new(None),
        }
    }

    pub fn part(&self) -> Part {
        self.part.borrow().clone()
    }

    pub fn set(&self, part: Part) {
        self.part.send_replace(part);
    }

    pub fn watch(&self) -> watch::Receiver<Part> {
        self.part.subscribe()
    }

    pub fn primary_last_seq(&self) -> u64 {
        self.primary_last_seq.load(Ordering::Relaxed)
    }

    fn saw_primary_at(&self, seq: u64) {
        self.primary_last_seq.fetch_max(seq, Ordering::Relaxed);
    }

    /// Why the follower stopped, if it did.
    pub fn stopped(&self) -> Option<String> {
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Why following cannot go on.
#[derive(Debug, thiserror::Error)]
#[error("the standby stopped following {primary}: {reason}")]
pub struct Diverged {
    pub primary: String,
    pub reason: String,
}

/// How one connection to the primary ended.
enum Ended {
    /// The link broke, or the primary closed the stream: reconnect.
    Reconnect,
    /// The hub stops, or was promoted: follow no more.
    Stop,
}

/// Follows the primary until the hub stops or is promoted; an error means the primary's
/// history is not this file's (the hub must stop).
pub async fn follow(state: AppState, config: FollowConfig) -> Result<(), Diverged> {
    let client = Client::new(config.primary.clone()).with_token(config.token);
    let diverged = |reason: String| Diverged {
        primary: config.primary.clone(),
        reason,
    };
    let mut part = state.role.watch();
    let mut shutdown = state.shutdown.clone();
    let mut backoff = Duration::from_millis(100);
    loop {
        if !matches!(*part.borrow_and_update(), Part::Standby { .. }) || *shutdown.borrow() {
            return Ok(());
        }
        let marks = *state.marks.borrow();
        // One record early: it must be the one this file holds.
        let after = marks.seq.saturating_sub(1);
        let opened = tokio::select! {
            opened = client.replication(after, marks.side_seq) => opened,
            _ = part.changed() => continue,
            _ = shutdown.wait_for(|stopping| *stopping) => return Ok(()),
        };
        let ended = match opened {
            Ok(stream) => {
                backoff = Duration::from_millis(100);
                tracing::info!(primary = %config.primary, after = marks.seq, "following the primary");
                let result = run(&state, &client, stream, marks, &mut part, &mut shutdown).await;
                match result {
                    Ok(ended) => ended,
                    Err(reason) => {
                        let error = diverged(reason);
                        tracing::error!(%error, "the standby stops");
                        *state.role.stopped.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(error.to_string());
                        return Err(error);
                    }
                }
            }
            Err(error) if error.code() == Some("ahead_of_log") => {
                let error = diverged(format!(
                    "the primary holds less than this standby ({error}); this file follows another history"
                ));
                tracing::error!(%error, "the standby stops");
                *state.role.stopped.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(error.to_string());
                return Err(error);
            }
            Err(error) => {
                warn_unreachable(&config.primary, &error);
                Ended::Reconnect
            }
        };
        if let Ended::Stop = ended {
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return Ok(()),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn warn_unreachable(primary: &str, error: &ClientError) {
    match error.status() {
        Some(401 | 403) => tracing::error!(
            %primary, %error,
            "the primary refuses the follow token: give a replica token of the primary (--follow-token)"
        ),
        _ => tracing::warn!(%primary, %error, "cannot reach the primary; trying again"),
    }
}

/// Reads one connection's lines and hands them to the writer in batches: whatever has arrived
/// goes together. `held` is the last record this file held when the stream was opened (the
/// stream starts one before it). An error is a divergence.
async fn run(
    state: &AppState,
    client: &Client,
    mut stream: ReplicationStream,
    marks: crate::engine::writer::Marks,
    part: &mut watch::Receiver<Part>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Ended, String> {
    let held = marks.seq;
    // What this file holds durably, told to the primary after each batch.
    let (mut durable, mut side_durable) = (marks.seq, marks.side_seq);
    loop {
        let line = tokio::select! {
            line = stream.next() => line,
            _ = part.changed() => return Ok(Ended::Stop),
            _ = shutdown.wait_for(|stopping| *stopping) => return Ok(Ended::Stop),
        };
        let mut line = match line {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(Ended::Reconnect),
            Err(error) => {
                tracing::warn!(%error, "the replication stream broke; reconnecting");
                return Ok(Ended::Reconnect);
            }
        };
        let mut records = Vec::new();
        let mut sides = Vec::new();
        loop {
            match line {
                ReplicationLine::Heartbeat {
                    last_seq,
                    identity_key_id,
                    ..
                } => {
                    if let Some(theirs) = identity_key_id
                        && theirs != state.bookings.key.id()
                    {
                        return Err(format!(
                            "this hub's identity key (the HMAC key of ID numbers) is not the primary's ({theirs}): promoted, it would not recognise the hall's people. Stop it, copy the primary's key file (identity.key beside its database, or its --identity-key) over this hub's, mode 0600, and start it again"
                        ));
                    }
                    if last_seq < held {
                        return Err(format!(
                            "the primary's log ends at record {last_seq}, this standby holds {held}"
                        ));
                    }
                    state.role.saw_primary_at(last_seq);
                }
                ReplicationLine::Record {
                    seq,
                    term,
                    at_ms,
                    actor,
                    kind,
                    body,
                    public,
                } => {
                    let record = RawRecord {
                        seq,
                        term,
                        at: jiaohao_core::Millis(at_ms),
                        actor,
                        kind,
                        body,
                        public,
                    };
                    state.role.saw_primary_at(seq);
                    if seq <= held {
                        check_same(state, record).await?;
                    } else {
                        records.push(record);
                    }
                }
                ReplicationLine::Side {
                    seq,
                    table,
                    op,
                    row,
                } => sides.push(SideChange {
                    seq,
                    table,
                    op,
                    row: row.to_string(),
                }),
            }
            if records.len() >= BATCH || sides.len() >= BATCH {
                break;
            }
            match stream.buffered() {
                Some(Ok(next)) => line = next,
                Some(Err(error)) => {
                    tracing::warn!(%error, "an unreadable line from the primary; reconnecting");
                    return Ok(Ended::Reconnect);
                }
                None => break,
            }
        }
        let batch = !records.is_empty() || !sides.is_empty();
        if !records.is_empty() {
            match state.writer.follow(records).await {
                Ok(seq) => durable = seq,
                Err(FollowError::Unreadable { seq, message }) => {
                    return Err(format!(
                        "record {seq} cannot be read by this version ({message}): upgrade this hub to the primary's version"
                    ));
                }
                Err(FollowError::NotFollowing) => return Ok(Ended::Stop),
                Err(error) => {
                    tracing::warn!(%error, "records not appended; reconnecting");
                    return Ok(Ended::Reconnect);
                }
            }
        }
        if !sides.is_empty() {
            let applied = state
                .writer
                .store(move |store, _| Ok::<_, Applied>(store.apply_side_changes(&sides)))
                .await;
            match applied {
                Ok(Ok(seq)) => side_durable = seq,
                Ok(Err(jiaohao_store::ApplyError::Diverged { seq, reason })) => {
                    return Err(format!(
                        "side change {seq} does not fit this file: {reason}"
                    ));
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "side changes not applied; reconnecting");
                    return Ok(Ended::Reconnect);
                }
                Err(_) => return Ok(Ended::Stop),
            }
        }
        if batch {
            // Durable here: tell the primary (it may be waiting to answer a change), without
            // waiting for its answer: the next batch is read meanwhile, and the primary keeps
            // the highest numbers it was told.
            let acker = client.with_timeout(Duration::from_secs(1));
            let (seq, side_seq) = (durable, side_durable);
            tokio::spawn(async move {
                if let Err(error) = acker.acknowledge(seq, side_seq).await {
                    tracing::debug!(%error, "the acknowledgement did not reach the primary");
                }
            });
        }
    }
}

/// The error of a store job that cannot fail by itself (only the writer's stopping).
#[derive(Debug)]
struct Applied;

impl From<crate::engine::EngineError> for Applied {
    fn from(_: crate::engine::EngineError) -> Applied {
        Applied
    }
}

/// A record the standby holds already must be the one it holds, byte for byte.
async fn check_same(state: &AppState, record: RawRecord) -> Result<(), String> {
    let seq = record.seq;
    let mine = state
        .read(move |store| store.raw_record(seq))
        .await
        .map_err(|error| format!("cannot read record {seq} back: {}", error.message))?;
    match mine {
        Some(mine)
            if mine.term == record.term
                && mine.at == record.at
                && mine.actor == record.actor
                && mine.kind == record.kind
                && mine.body == record.body =>
        {
            Ok(())
        }
        Some(_) => Err(format!(
            "record {seq} differs between the primary and this standby: the two logs have diverged"
        )),
        None => Err(format!("record {seq} is missing here")),
    }
}

/// `serve --sync-standby`: a change's answer waits until a connected standby has
/// acknowledged the record it wrote (the standby posts the last record it has made durable to
/// `POST /api/replication/ack` after each batch), for at most `wait`. When none has in time,
/// the hub answers anyway and runs alone (no more waiting, said in `/api/health` and
/// `/metrics`) until a standby's acknowledgement reaches its last record again.
pub struct SyncStandby {
    wait: Duration,
    /// The highest record and side change a standby said it holds.
    acked: watch::Sender<(u64, u64)>,
    alone: std::sync::atomic::AtomicBool,
}

impl SyncStandby {
    pub fn new(wait: Duration) -> SyncStandby {
        SyncStandby {
            wait,
            acked: watch::Sender::new((0, 0)),
            alone: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn alone(&self) -> bool {
        self.alone.load(Ordering::Relaxed)
    }

    /// A standby holds every record up to `seq` and side change up to `side_seq` durably;
    /// `last` is where this hub's logs end.
    pub fn acknowledged(&self, seq: u64, side_seq: u64, last: crate::engine::writer::Marks) {
        self.acked.send_if_modified(|acked| {
            let newer = seq > acked.0 || side_seq > acked.1;
            *acked = (acked.0.max(seq), acked.1.max(side_seq));
            newer
        });
        if seq >= last.seq && side_seq >= last.side_seq && self.alone.swap(false, Ordering::Relaxed)
        {
            tracing::info!(seq, "a standby caught up: changes wait for it again");
        }
    }

    /// Waits until a standby has acknowledged record `seq` and side change `side_seq`, or the
    /// time is up (then the hub runs alone). Returns at once while alone.
    pub async fn wait_for(&self, seq: u64, side_seq: u64) {
        if self.alone() {
            return;
        }
        let mut acked = self.acked.subscribe();
        let held = |acked: &(u64, u64)| acked.0 >= seq && acked.1 >= side_seq;
        let waited = tokio::time::timeout(self.wait, acked.wait_for(held)).await;
        if waited.is_err() && !self.alone.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                seq,
                "no standby acknowledged in time: answering alone until one catches up"
            );
        }
    }
}

/// `serve --peer URL`: asks the other hub of the hall for its term; if it holds a newer one
/// and is the primary, this hub was taken over while it was away and takes no more changes.
/// Returns whether this hub is fenced now. An unreachable peer changes nothing.
pub async fn check_peer(state: &AppState, peer: &str) -> bool {
    let client = Client::new(peer.to_owned()).with_timeout(Duration::from_secs(2));
    let Ok(health) = client.health().await else {
        return matches!(state.role.part(), Part::Fenced { .. });
    };
    let own = state.marks.borrow().term;
    match (health.role.as_deref(), health.term) {
        (Some("primary"), Some(term)) if term > own => {
            if !matches!(state.role.part(), Part::Fenced { .. }) {
                tracing::error!(
                    %peer, term, own,
                    "the peer holds a newer term: this hub was taken over and takes no changes; stop it and rejoin it as a standby with `jiaohao-hub rejoin --db <its database> --primary <the peer> --follow-token <a replica token> --set-aside <file>`"
                );
            }
            state.role.set(Part::Fenced {
                peer: peer.to_owned(),
                term,
            });
            true
        }
        _ => matches!(state.role.part(), Part::Fenced { .. }),
    }
}

/// Checks the peer every [`PEER_CHECK`] until the hub stops.
pub async fn watch_peer(state: AppState, peer: String) {
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            () = tokio::time::sleep(PEER_CHECK) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        if matches!(state.role.part(), Part::Primary) {
            check_peer(&state, &peer).await;
        }
    }
}

/// How often a hub started with `--peer` asks its peer for its term.
pub const PEER_CHECK: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standby_knows_the_furthest_the_primary_has_said() {
        let role = Role::new(Part::Standby {
            primary: "http://p".into(),
        });
        role.saw_primary_at(7);
        role.saw_primary_at(5);
        assert_eq!(role.primary_last_seq(), 7);
        role.set(Part::Primary);
        assert_eq!(role.part(), Part::Primary);
    }
}

/// What `jiaohao-hub rejoin` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejoined {
    /// The last record both logs hold alike; this file keeps the records up to it.
    pub agreed: u64,
    /// How many records were set aside, and where.
    pub set_aside: usize,
    /// The last side change both side logs hold alike, and how many after it were set aside
    /// (in the same file, after the records).
    pub side_agreed: u64,
    pub side_set_aside: usize,
    pub file: std::path::PathBuf,
}

/// Writes a new file only its owner may read (mode 0600 on Unix).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Turns a stopped former primary's file at `db` into a standby's of `primary` (reached with
/// a `replica` token of it): finds the last record the two logs hold alike (and the last
/// side change the two side logs hold alike), writes every record after it and then every
/// side change after that to `set_aside` (one `ReplicationLine` per line, for the audit; the
/// file must not exist and is made readable by its owner only), and removes them and the
/// rows beside the log from the file, which the new primary's side log fills again. Then `serve --follow PRIMARY` goes on from there.
pub async fn rejoin(
    db: &std::path::Path,
    primary: &str,
    token: &str,
    set_aside: &std::path::Path,
) -> anyhow::Result<Rejoined> {
    use anyhow::Context;
    anyhow::ensure!(
        !set_aside.exists(),
        "{} exists already; name a new file for the records set aside",
        set_aside.display()
    );
    let mut store =
        jiaohao_store::Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let client = Client::new(primary.to_owned()).with_token(token.to_owned());
    // The primary's record `seq`, or `None` past its end.
    async fn theirs(client: &Client, seq: u64) -> anyhow::Result<Option<RawRecord>> {
        let mut stream = client.replication(seq - 1, 0).await?;
        loop {
            match stream.next().await? {
                Some(ReplicationLine::Heartbeat { last_seq, .. }) if last_seq < seq => {
                    return Ok(None);
                }
                Some(ReplicationLine::Record {
                    seq,
                    term,
                    at_ms,
                    actor,
                    kind,
                    body,
                    public,
                }) => {
                    return Ok(Some(RawRecord {
                        seq,
                        term,
                        at: jiaohao_core::Millis(at_ms),
                        actor,
                        kind,
                        body,
                        public,
                    }));
                }
                Some(_) => {}
                None => anyhow::bail!("the primary closed the stream"),
            }
        }
    }
    let same = |mine: &RawRecord, theirs: &RawRecord| {
        (mine.term, mine.at, &mine.actor, &mine.kind, &mine.body)
            == (
                theirs.term,
                theirs.at,
                &theirs.actor,
                &theirs.kind,
                &theirs.body,
            )
    };
    // The logs agree up to some record and differ after it: search for it.
    let (mut agreed, mut differs) = (0u64, store.last_seq()? + 1);
    while differs - agreed > 1 {
        let probe = agreed + (differs - agreed) / 2;
        let mine = store
            .raw_record(probe)?
            .with_context(|| format!("record {probe} is missing from {}", db.display()))?;
        match theirs(&client, probe).await? {
            Some(theirs) if same(&mine, &theirs) => agreed = probe,
            _ => differs = probe,
        }
    }
    // The side logs too (the new primary's rows will be followed from its side log whole):
    // the changes made here after the point they agree to are set aside with the records.
    async fn their_side(
        client: &Client,
        last_seq: u64,
        seq: u64,
    ) -> anyhow::Result<Option<SideChange>> {
        let mut stream = match client.replication(last_seq, seq - 1).await {
            Ok(stream) => stream,
            Err(error) if error.code() == Some("ahead_of_log") => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        loop {
            match stream.next().await? {
                Some(ReplicationLine::Heartbeat { last_side_seq, .. }) if last_side_seq < seq => {
                    return Ok(None);
                }
                Some(ReplicationLine::Side {
                    seq,
                    table,
                    op,
                    row,
                }) => {
                    return Ok(Some(SideChange {
                        seq,
                        table,
                        op,
                        row: row.to_string(),
                    }));
                }
                Some(_) => {}
                None => anyhow::bail!("the primary closed the stream"),
            }
        }
    }
    let same_side = |mine: &SideChange, theirs: &SideChange| {
        let row = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
        (&mine.table, &mine.op, row(&mine.row)) == (&theirs.table, &theirs.op, row(&theirs.row))
    };
    let their_last = client
        .health()
        .await?
        .last_seq
        .context("the primary does not say where its log ends")?;
    let (mut side_agreed, mut side_differs) = (0u64, store.last_side_seq()? + 1);
    while side_differs - side_agreed > 1 {
        let probe = side_agreed + (side_differs - side_agreed) / 2;
        let mine = store
            .side_changes_after(probe - 1, probe, 1)?
            .pop()
            .with_context(|| format!("side change {probe} is missing from {}", db.display()))?;
        match their_side(&client, their_last, probe).await? {
            Some(theirs) if same_side(&mine, &theirs) => side_agreed = probe,
            _ => side_differs = probe,
        }
    }
    let aside = store.rejoin(agreed, side_agreed)?;
    let mut text = String::new();
    for record in &aside.records {
        let line = ReplicationLine::Record {
            seq: record.seq,
            term: record.term,
            at_ms: record.at.0,
            actor: record.actor.clone(),
            kind: record.kind.clone(),
            body: record.body.clone(),
            public: record.public.clone(),
        };
        text.push_str(&serde_json::to_string(&line)?);
        text.push('\n');
    }
    for change in &aside.side_changes {
        let line = ReplicationLine::Side {
            seq: change.seq,
            table: change.table.clone(),
            op: change.op.clone(),
            row: serde_json::from_str(&change.row)?,
        };
        text.push_str(&serde_json::to_string(&line)?);
        text.push('\n');
    }
    // Password and token hashes are among the side rows: only the hub's user reads the file.
    write_private(set_aside, &text).with_context(|| format!("writing {}", set_aside.display()))?;
    Ok(Rejoined {
        agreed,
        set_aside: aside.records.len(),
        side_agreed,
        side_set_aside: aside.side_changes.len(),
        file: set_aside.to_owned(),
    })
}
