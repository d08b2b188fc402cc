//! The hub's SQLite file: the append-only event log the hall state is folded from, the API
//! tokens, users and sessions, the problems devices report, and the stored form of events
//! (`stored`, a contract of its own, independent of the HTTP API).
//!
//! The hall at the latest day start is kept beside the log (`snapshots`), so a start-up folds
//! only the day so far.
//!
//! Durability: WAL with `synchronous=FULL`, so a committed batch survives `kill -9` and power
//! loss; or, after [`Store::defer_syncs`], commits that the caller syncs itself (the hub's
//! writer and syncer threads). Migrations are an append-only list keyed by `PRAGMA user_version`; a file written by a
//! newer version is refused rather than misread.

mod account_changes;
mod case_contacts;
mod contacts;
mod devices;
mod replication;
mod snapshots;
pub mod stored;
mod tokens;
mod users;

use std::path::Path;

use jiaohao_core::{Event, Millis};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use account_changes::AccountChange;
pub use contacts::BookingContact;
pub use devices::DeviceProblem;
pub use replication::{ApplyError, PROMOTED_KIND, RawRecord, SetAside, SideChange, promoted_body};
pub use snapshots::SnapshotLookup;
pub use tokens::{ApiToken, Role};
pub use users::{Session, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database was written by a newer jiaohao (schema {found}, this version knows up to {supported}); upgrade jiaohao or use a backup"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("{} exists already; a backup never overwrites a file", .0.display())]
    TargetExists(std::path::PathBuf),
    #[error("{0} exists already")]
    Exists(String),
    #[error("event {seq} in the log cannot be read: {message}")]
    Corrupt { seq: u64, message: String },
    #[error(
        "event {seq} in the log is of kind '{kind}', which this version does not know: the log was written by a newer jiaohao; upgrade jiaohao"
    )]
    UnknownKind { seq: u64, kind: String },
}

impl StoreError {
    /// Whether the error means the disk refuses writes (full, read-only, I/O error), which the
    /// hub reports as "temporarily unavailable" rather than as a bug.
    pub fn is_disk_problem(&self) -> bool {
        use rusqlite::ErrorCode::*;
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                DiskFull | ReadOnly | SystemIoFailure | CannotOpen | DatabaseBusy | DatabaseLocked
            ),
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The schema, one migration per entry; never edit an entry that has shipped, add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the event log and the API tokens.
    "CREATE TABLE events (
        seq     INTEGER PRIMARY KEY,
        at_ms   INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        kind    TEXT NOT NULL,
        body    TEXT NOT NULL,
        public  TEXT
    );
    CREATE INDEX events_kind ON events(kind);
    CREATE TABLE api_tokens (
        id          INTEGER PRIMARY KEY,
        token_hash  BLOB NOT NULL UNIQUE,
        role        TEXT NOT NULL,
        window      INTEGER,
        name        TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        revoked_ms  INTEGER
    );",
    // 2: people who sign in to the pages, their sessions, and an index for reports by time.
    "CREATE TABLE users (
        id              INTEGER PRIMARY KEY,
        username        TEXT NOT NULL UNIQUE,
        role            TEXT NOT NULL,
        password_hash   TEXT NOT NULL,
        created_ms      INTEGER NOT NULL,
        disabled_ms     INTEGER,
        failed_logins   INTEGER NOT NULL DEFAULT 0,
        locked_until_ms INTEGER
    );
    CREATE TABLE sessions (
        id          INTEGER PRIMARY KEY,
        token_hash  BLOB NOT NULL UNIQUE,
        user_id     INTEGER NOT NULL REFERENCES users(id),
        window      INTEGER,
        csrf        TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        expires_ms  INTEGER NOT NULL,
        ended_ms    INTEGER
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE INDEX events_at ON events(at_ms);",
    // 3: problems devices report to the hub (a kiosk's printer fault, …). Not events: they are
    // not the hall's state.
    "CREATE TABLE device_problems (
        id       INTEGER PRIMARY KEY,
        at_ms    INTEGER NOT NULL,
        device   TEXT NOT NULL,
        kind     TEXT NOT NULL,
        message  TEXT NOT NULL
    );",
    // 4: who created and who disabled or revoked each user and token, for the audit trail
    // (empty for rows written before this version).
    "ALTER TABLE users ADD COLUMN created_by TEXT;
    ALTER TABLE users ADD COLUMN disabled_by TEXT;
    ALTER TABLE api_tokens ADD COLUMN created_by TEXT;
    ALTER TABLE api_tokens ADD COLUMN revoked_by TEXT;",
    // 5: the hall at the latest day start (a cache of the log's fold, see `snapshots`): `seq`
    // is the day start it follows, `version` that of the JSON in `body`.
    "CREATE TABLE hall_snapshots (
        seq      INTEGER PRIMARY KEY,
        version  INTEGER NOT NULL,
        body     TEXT NOT NULL
    );",
    // 6: replication (a standby, the city). Each record keeps the term it was written in (a
    // promotion starts a new one; older records are term 1). The rows kept outside the log
    // (users, sessions, API tokens, device problems) get a change log of their own, numbered
    // by `side_changes.seq` and written by triggers in the same transaction as the row
    // change, so no writer can forget it; the rows already there are logged once, here, in an
    // order their references allow (users before sessions). A row is logged as JSON of all its
    // columns, blobs (token hashes) in hex; see `replication`. `promotions_here` names the
    // promotions this file's own hub made (not replicated): such a hub never follows again.
    "ALTER TABLE events ADD COLUMN term INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE promotions_here (
        seq    INTEGER PRIMARY KEY,
        term   INTEGER NOT NULL
    );
    CREATE TABLE side_changes (
        seq    INTEGER PRIMARY KEY,
        tbl    TEXT NOT NULL,
        op     TEXT NOT NULL,
        row    TEXT NOT NULL
    );
    INSERT INTO side_changes (tbl, op, row) SELECT 'users', 'upsert', json_object('id', users.id, 'username', users.username, 'role', users.role, 'password_hash', users.password_hash, 'created_ms', users.created_ms, 'disabled_ms', users.disabled_ms, 'failed_logins', users.failed_logins, 'locked_until_ms', users.locked_until_ms, 'created_by', users.created_by, 'disabled_by', users.disabled_by) FROM users ORDER BY id;
    INSERT INTO side_changes (tbl, op, row) SELECT 'sessions', 'upsert', json_object('id', sessions.id, 'token_hash', hex(sessions.token_hash), 'user_id', sessions.user_id, 'window', sessions.window, 'csrf', sessions.csrf, 'created_ms', sessions.created_ms, 'expires_ms', sessions.expires_ms, 'ended_ms', sessions.ended_ms) FROM sessions ORDER BY id;
    INSERT INTO side_changes (tbl, op, row) SELECT 'api_tokens', 'upsert', json_object('id', api_tokens.id, 'token_hash', hex(api_tokens.token_hash), 'role', api_tokens.role, 'window', api_tokens.window, 'name', api_tokens.name, 'created_ms', api_tokens.created_ms, 'revoked_ms', api_tokens.revoked_ms, 'created_by', api_tokens.created_by, 'revoked_by', api_tokens.revoked_by) FROM api_tokens ORDER BY id;
    INSERT INTO side_changes (tbl, op, row) SELECT 'device_problems', 'upsert', json_object('id', device_problems.id, 'at_ms', device_problems.at_ms, 'device', device_problems.device, 'kind', device_problems.kind, 'message', device_problems.message) FROM device_problems ORDER BY id;
    CREATE TRIGGER users_side_insert AFTER INSERT ON users BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('users', 'upsert', json_object('id', NEW.id, 'username', NEW.username, 'role', NEW.role, 'password_hash', NEW.password_hash, 'created_ms', NEW.created_ms, 'disabled_ms', NEW.disabled_ms, 'failed_logins', NEW.failed_logins, 'locked_until_ms', NEW.locked_until_ms, 'created_by', NEW.created_by, 'disabled_by', NEW.disabled_by));
    END;
    CREATE TRIGGER users_side_update AFTER UPDATE ON users BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('users', 'upsert', json_object('id', NEW.id, 'username', NEW.username, 'role', NEW.role, 'password_hash', NEW.password_hash, 'created_ms', NEW.created_ms, 'disabled_ms', NEW.disabled_ms, 'failed_logins', NEW.failed_logins, 'locked_until_ms', NEW.locked_until_ms, 'created_by', NEW.created_by, 'disabled_by', NEW.disabled_by));
    END;
    CREATE TRIGGER users_side_delete AFTER DELETE ON users BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('users', 'delete', json_object('id', OLD.id));
    END;
    CREATE TRIGGER sessions_side_insert AFTER INSERT ON sessions BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('sessions', 'upsert', json_object('id', NEW.id, 'token_hash', hex(NEW.token_hash), 'user_id', NEW.user_id, 'window', NEW.window, 'csrf', NEW.csrf, 'created_ms', NEW.created_ms, 'expires_ms', NEW.expires_ms, 'ended_ms', NEW.ended_ms));
    END;
    CREATE TRIGGER sessions_side_update AFTER UPDATE ON sessions BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('sessions', 'upsert', json_object('id', NEW.id, 'token_hash', hex(NEW.token_hash), 'user_id', NEW.user_id, 'window', NEW.window, 'csrf', NEW.csrf, 'created_ms', NEW.created_ms, 'expires_ms', NEW.expires_ms, 'ended_ms', NEW.ended_ms));
    END;
    CREATE TRIGGER sessions_side_delete AFTER DELETE ON sessions BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('sessions', 'delete', json_object('id', OLD.id));
    END;
    CREATE TRIGGER api_tokens_side_insert AFTER INSERT ON api_tokens BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('api_tokens', 'upsert', json_object('id', NEW.id, 'token_hash', hex(NEW.token_hash), 'role', NEW.role, 'window', NEW.window, 'name', NEW.name, 'created_ms', NEW.created_ms, 'revoked_ms', NEW.revoked_ms, 'created_by', NEW.created_by, 'revoked_by', NEW.revoked_by));
    END;
    CREATE TRIGGER api_tokens_side_update AFTER UPDATE ON api_tokens BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('api_tokens', 'upsert', json_object('id', NEW.id, 'token_hash', hex(NEW.token_hash), 'role', NEW.role, 'window', NEW.window, 'name', NEW.name, 'created_ms', NEW.created_ms, 'revoked_ms', NEW.revoked_ms, 'created_by', NEW.created_by, 'revoked_by', NEW.revoked_by));
    END;
    CREATE TRIGGER api_tokens_side_delete AFTER DELETE ON api_tokens BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('api_tokens', 'delete', json_object('id', OLD.id));
    END;
    CREATE TRIGGER device_problems_side_insert AFTER INSERT ON device_problems BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('device_problems', 'upsert', json_object('id', NEW.id, 'at_ms', NEW.at_ms, 'device', NEW.device, 'kind', NEW.kind, 'message', NEW.message));
    END;
    CREATE TRIGGER device_problems_side_update AFTER UPDATE ON device_problems BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('device_problems', 'upsert', json_object('id', NEW.id, 'at_ms', NEW.at_ms, 'device', NEW.device, 'kind', NEW.kind, 'message', NEW.message));
    END;
    CREATE TRIGGER device_problems_side_delete AFTER DELETE ON device_problems BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('device_problems', 'delete', json_object('id', OLD.id));
    END;",
    // 7: the names and phone numbers of bookings (预约), outside the event log so they can be
    // erased (see `contacts`); the SMS code and cancel token as SHA-256 hex. A standby gets
    // them through `side_changes` (migration 8).
    "CREATE TABLE booking_contacts (
        code              TEXT PRIMARY KEY,
        name              TEXT,
        phone             TEXT,
        sms_code_sha256   TEXT NOT NULL,
        cancel_sha256     TEXT NOT NULL,
        sms_sent_ms       INTEGER NOT NULL,
        erase_after_ms    INTEGER NOT NULL
    );
    CREATE INDEX booking_contacts_erase ON booking_contacts (erase_after_ms);",
    // 8: the phone numbers citizens leave for the callback of a 差评 case, outside the event
    // log so they can be erased 30 days after the case closes (see `case_contacts`); keyed
    // by the case's id. In `side_changes` since migration 10.
    "CREATE TABLE case_contacts (
        case_id     INTEGER PRIMARY KEY,
        phone       TEXT NOT NULL,
        saved_ms    INTEGER NOT NULL
    );",
    // 9: the contacts of bookings join the side log, so a `replica` standby holds
    // them (to verify an SMS code, honour a cancel link, text a booking after a promotion)
    // and their erasure (an upsert with the name and phone gone); `ingest` never reads the
    // side log. The rows a hub holds now are logged once, in code order.
    "INSERT INTO side_changes (tbl, op, row) SELECT 'booking_contacts', 'upsert', json_object('code', booking_contacts.code, 'name', booking_contacts.name, 'phone', booking_contacts.phone, 'sms_code_sha256', booking_contacts.sms_code_sha256, 'cancel_sha256', booking_contacts.cancel_sha256, 'sms_sent_ms', booking_contacts.sms_sent_ms, 'erase_after_ms', booking_contacts.erase_after_ms) FROM booking_contacts ORDER BY code;
    CREATE TRIGGER booking_contacts_side_insert AFTER INSERT ON booking_contacts BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('booking_contacts', 'upsert', json_object('code', NEW.code, 'name', NEW.name, 'phone', NEW.phone, 'sms_code_sha256', NEW.sms_code_sha256, 'cancel_sha256', NEW.cancel_sha256, 'sms_sent_ms', NEW.sms_sent_ms, 'erase_after_ms', NEW.erase_after_ms));
    END;
    CREATE TRIGGER booking_contacts_side_update AFTER UPDATE ON booking_contacts BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('booking_contacts', 'upsert', json_object('code', NEW.code, 'name', NEW.name, 'phone', NEW.phone, 'sms_code_sha256', NEW.sms_code_sha256, 'cancel_sha256', NEW.cancel_sha256, 'sms_sent_ms', NEW.sms_sent_ms, 'erase_after_ms', NEW.erase_after_ms));
    END;
    CREATE TRIGGER booking_contacts_side_delete AFTER DELETE ON booking_contacts BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('booking_contacts', 'delete', json_object('code', OLD.code));
    END;",
    // 10: the callback phones of 差评 cases join the side log like the booking contacts
    // (migration 9), so a promoted standby can still call the citizen back; their erasure
    // travels as a delete. `ingest` never reads the side log.
    "INSERT INTO side_changes (tbl, op, row) SELECT 'case_contacts', 'upsert', json_object('case_id', case_id, 'phone', phone, 'saved_ms', saved_ms) FROM case_contacts ORDER BY case_id;
    CREATE TRIGGER case_contacts_side_insert AFTER INSERT ON case_contacts BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('case_contacts', 'upsert', json_object('case_id', NEW.case_id, 'phone', NEW.phone, 'saved_ms', NEW.saved_ms));
    END;
    CREATE TRIGGER case_contacts_side_update AFTER UPDATE ON case_contacts BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('case_contacts', 'upsert', json_object('case_id', NEW.case_id, 'phone', NEW.phone, 'saved_ms', NEW.saved_ms));
    END;
    CREATE TRIGGER case_contacts_side_delete AFTER DELETE ON case_contacts BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('case_contacts', 'delete', json_object('case_id', OLD.case_id));
    END;",
    // 11: the `Idempotency-Key`s of `POST /api/bookings`, so that a retry after a
    // restart gets its booking back. The request is kept as an HMAC (it holds an ID number),
    // the answer's cancel token not at all (the hub derives it again from the key file).
    "CREATE TABLE booking_idempotency (
        key             TEXT PRIMARY KEY,
        request_hmac    TEXT NOT NULL,
        code            TEXT NOT NULL,
        made_ms         INTEGER NOT NULL
    );
    CREATE INDEX booking_idempotency_made ON booking_idempotency (made_ms);",
    // 12: the bookings' `Idempotency-Key`s join the side log too (migration 11 made them), so
    // a retry sent to a promoted standby gets its booking back rather than a 409; their
    // expiry travels as deletes. `ingest` never reads the side log.
    "INSERT INTO side_changes (tbl, op, row) SELECT 'booking_idempotency', 'upsert', json_object('key', key, 'request_hmac', request_hmac, 'code', code, 'made_ms', made_ms) FROM booking_idempotency ORDER BY key;
    CREATE TRIGGER booking_idempotency_side_insert AFTER INSERT ON booking_idempotency BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('booking_idempotency', 'upsert', json_object('key', NEW.key, 'request_hmac', NEW.request_hmac, 'code', NEW.code, 'made_ms', NEW.made_ms));
    END;
    CREATE TRIGGER booking_idempotency_side_update AFTER UPDATE ON booking_idempotency BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('booking_idempotency', 'upsert', json_object('key', NEW.key, 'request_hmac', NEW.request_hmac, 'code', NEW.code, 'made_ms', NEW.made_ms));
    END;
    CREATE TRIGGER booking_idempotency_side_delete AFTER DELETE ON booking_idempotency BEGIN
        INSERT INTO side_changes (tbl, op, row) VALUES ('booking_idempotency', 'delete', json_object('key', OLD.key));
    END;",
];

/// The write-ahead log SQLite keeps beside the database file `db`.
pub fn wal_path(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

/// One event of the log as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub seq: u64,
    pub at: Millis,
    pub actor: String,
    pub event: Event,
}

/// One event to append. `public` is the JSON the event stream sends for it, if any: stored
/// beside the event so a reconnecting display can be sent what it missed.
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    pub seq: u64,
    pub at: Millis,
    pub actor: &'a str,
    pub event: &'a Event,
    pub public: Option<String>,
}

/// A logged event's public stream message, with the kind of the event it tells of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicMessage {
    pub seq: u64,
    /// The event's kind as logged (`Event::kind`).
    pub kind: String,
    pub json: String,
}

pub struct Store {
    conn: Connection,
    /// The term new records are written in: that of the log's last record (a promotion's
    /// record opens a new one), 1 for an empty log.
    term: u64,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store { conn, term: 1 };
        store.migrate()?;
        store.term = store.read_term()?;
        Ok(store)
    }

    /// Brings the file at `path` to schema `version` and no further, as a hub of that version
    /// left it: for tests of the migrations after it, on records written before them.
    #[doc(hidden)]
    pub fn migrate_file_to(path: &Path, version: i64) -> Result<()> {
        let conn = Connection::open(path)?;
        let mut store = Store { conn, term: 1 };
        store.migrate_up_to(version.clamp(0, MIGRATIONS.len() as i64) as usize)
    }

    /// Opens an existing database for reading only (the hub's reader connection).
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Store { conn, term: 1 };
        store.check_version()?;
        // A file of an older schema (not yet migrated) has no terms: all its records are term 1.
        store.term = store.read_term().unwrap_or(1);
        Ok(store)
    }

    /// Commits from now on are written to the WAL but not synced (`synchronous=NORMAL`):
    /// the caller makes them durable itself, by syncing [`wal_path`] before it tells anyone
    /// of them (the hub's syncer threads). Checkpoints still sync both files.
    pub fn defer_syncs(&self) -> Result<()> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(())
    }

    /// Rows inserted, changed or deleted through this connection since it was opened: a
    /// difference tells whether some work wrote anything (and so needs a sync).
    pub fn total_changes(&self) -> u64 {
        self.conn.total_changes()
    }

    /// Moves everything in the write-ahead log into the database file and empties the log, so
    /// a stopped hub leaves one self-contained file. Readers that are open do not block it.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The term of the last record (records written before terms existed are term 1).
    fn read_term(&self) -> Result<u64> {
        let term: Option<i64> = self
            .conn
            .query_row(
                "SELECT term FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?;
        Ok(term.unwrap_or(1).max(1) as u64)
    }

    fn check_version(&self) -> Result<i64> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::TooNew {
                found: version,
                supported,
            });
        }
        Ok(version)
    }

    fn migrate(&mut self) -> Result<()> {
        self.migrate_up_to(MIGRATIONS.len())
    }

    /// Applies the migrations after the file's version up to `upto` (a version number).
    fn migrate_up_to(&mut self, upto: usize) -> Result<()> {
        let version = self.check_version()?;
        let tx = self.conn.transaction()?;
        for (index, migration) in MIGRATIONS
            .iter()
            .enumerate()
            .take(upto)
            .skip(version as usize)
        {
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// Appends events in one transaction: all of them are committed when this returns, or none.
    /// Committed is durable only while syncs are not deferred (`synchronous=FULL`, as opened).
    /// After [`Store::defer_syncs`] the commit is in the WAL, seen by readers and kept if the
    /// process is killed, but a power cut can take it back until the caller syncs
    /// [`wal_path`] (the hub's syncer threads do, before anyone is told).
    pub fn append(&mut self, records: &[NewRecord<'_>]) -> Result<()> {
        let term = self.term;
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (seq, term, at_ms, actor, kind, body, public) VALUES (?1, ?7, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for record in records {
                insert.execute(params![
                    record.seq as i64,
                    record.at.0,
                    record.actor,
                    record.event.kind(),
                    stored::event_to_json(record.event),
                    record.public,
                    term as i64,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The sequence number of the last event, 0 for an empty log.
    pub fn last_seq(&self) -> Result<u64> {
        let seq: Option<i64> = self
            .conn
            .query_row("SELECT MAX(seq) FROM events", [], |row| row.get(0))?;
        Ok(seq.unwrap_or(0) as u64)
    }

    /// Reads the log in order from the event after `after` (0: the whole log), calling `each`
    /// for every record.
    pub fn for_each_record_after(&self, after: u64, mut each: impl FnMut(Record)) -> Result<()> {
        let mut query = self
            .conn
            .prepare("SELECT seq, at_ms, actor, body FROM events WHERE seq > ?1 AND kind <> 'promoted' ORDER BY seq")?;
        let mut rows = query.query(params![after as i64])?;
        while let Some(row) = rows.next()? {
            each(row_to_record(row)?);
        }
        Ok(())
    }

    /// The public stream messages after `seq`, oldest first, at most `limit` of them.
    pub fn public_after(&self, seq: u64, limit: usize) -> Result<Vec<PublicMessage>> {
        let mut query = self.conn.prepare_cached(
            "SELECT seq, kind, public FROM events WHERE seq > ?1 AND public IS NOT NULL ORDER BY seq LIMIT ?2",
        )?;
        let rows = query.query_map(params![seq as i64, limit as i64], |row| {
            Ok(PublicMessage {
                seq: row.get::<_, i64>(0)? as u64,
                kind: row.get(1)?,
                json: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Reads, in order, every record logged at or after `from` and before `to`.
    pub fn for_each_record_between(
        &self,
        from: Millis,
        to: Millis,
        mut each: impl FnMut(Record),
    ) -> Result<()> {
        let mut query = self.conn.prepare_cached(
            "SELECT seq, at_ms, actor, body FROM events WHERE at_ms >= ?1 AND at_ms < ?2 AND kind <> 'promoted' ORDER BY seq",
        )?;
        let mut rows = query.query(params![from.0, to.0])?;
        while let Some(row) = rows.next()? {
            each(row_to_record(row)?);
        }
        Ok(())
    }

    /// Reads, in order, the records of these `kinds` logged at or after `from` and before `to`:
    /// what a report of past days reads beside its range (the visits of the days before it, the
    /// ratings and case steps logged after it).
    pub fn for_each_record_of_kinds(
        &self,
        kinds: &[&str],
        from: Millis,
        to: Millis,
        mut each: impl FnMut(Record),
    ) -> Result<()> {
        let marks: Vec<String> = (3..3 + kinds.len()).map(|i| format!("?{i}")).collect();
        let mut query = self.conn.prepare_cached(&format!(
            "SELECT seq, at_ms, actor, body FROM events WHERE at_ms >= ?1 AND at_ms < ?2
                AND kind IN ({}) ORDER BY seq",
            marks.join(", ")
        ))?;
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&from.0, &to.0];
        values.extend(kinds.iter().map(|kind| kind as &dyn rusqlite::ToSql));
        let mut rows = query.query(values.as_slice())?;
        while let Some(row) = rows.next()? {
            each(row_to_record(row)?);
        }
        Ok(())
    }

    /// Reads, in order, every configuration event (the hall's settings, service and window
    /// definitions and removals) logged before `to`: the hall as it stood at `to`, for reports.
    pub fn for_each_configuration_before(
        &self,
        to: Millis,
        mut each: impl FnMut(Record),
    ) -> Result<()> {
        let mut query = self.conn.prepare_cached(
            "SELECT seq, at_ms, actor, body FROM events WHERE at_ms < ?1 AND kind IN
                ('hall_configured', 'service_defined', 'service_removed', 'window_defined',
                 'window_removed') ORDER BY seq",
        )?;
        let mut rows = query.query(params![to.0])?;
        while let Some(row) = rows.next()? {
            each(row_to_record(row)?);
        }
        Ok(())
    }

    /// The event with this sequence number, if any.
    pub fn record(&self, seq: u64) -> Result<Option<Record>> {
        let mut query = self.conn.prepare_cached(
            "SELECT seq, at_ms, actor, body FROM events WHERE seq = ?1 AND kind <> 'promoted'",
        )?;
        let mut rows = query.query([seq as i64])?;
        rows.next()?.map(row_to_record).transpose()
    }

    /// Copies the whole database to `out` with SQLite's online backup, which runs safely while
    /// the hub writes: the copy is a consistent snapshot. `out` must not exist yet.
    pub fn backup_to(&self, out: &Path) -> Result<()> {
        if out.exists() {
            return Err(StoreError::TargetExists(out.to_owned()));
        }
        let mut target = Connection::open(out)?;
        let backup = rusqlite::backup::Backup::new(&self.conn, &mut target)?;
        backup.run_to_completion(1024, std::time::Duration::from_millis(0), None)?;
        drop(backup);
        // A backup is one self-contained file: no WAL beside it.
        target.pragma_update(None, "journal_mode", "DELETE")?;
        Ok(())
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// A row of `SELECT seq, at_ms, actor, body FROM events` as a record; a body that does not
/// decode is reported with its sequence number, and one of a kind this version does not know
/// as such (a newer jiaohao wrote it), not as damage.
fn row_to_record(row: &rusqlite::Row<'_>) -> Result<Record> {
    let seq = row.get::<_, i64>(0)? as u64;
    let body: String = row.get(3)?;
    let event = stored::event_from_json(&body).map_err(|error| match error {
        stored::DecodeError::UnknownKind(kind) => StoreError::UnknownKind { seq, kind },
        stored::DecodeError::Invalid(message) => StoreError::Corrupt { seq, message },
    })?;
    Ok(Record {
        seq,
        at: Millis(row.get(1)?),
        actor: row.get(2)?,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiaohao_core::{LocalDate, WindowNumber};

    #[test]
    fn appended_events_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hall.db");
        let events = [
            Event::DayStarted {
                date: LocalDate::new(2026, 11, 23).unwrap(),
            },
            Event::WindowOpened {
                window: WindowNumber::new(3).unwrap(),
            },
        ];
        {
            let mut store = Store::open(&path).unwrap();
            assert_eq!(store.last_seq().unwrap(), 0);
            let records: Vec<NewRecord<'_>> = events
                .iter()
                .enumerate()
                .map(|(i, event)| NewRecord {
                    seq: i as u64 + 1,
                    at: Millis(1000 * i as i64),
                    actor: "test",
                    event,
                    public: Some(format!("{{\"n\":{i}}}")),
                })
                .collect();
            store.append(&records).unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.last_seq().unwrap(), 2);
        let mut read = Vec::new();
        store
            .for_each_record_after(0, |record| read.push(record))
            .unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].event, events[1]);
        assert_eq!(read[1].at, Millis(1000));
        let mut after_first = Vec::new();
        store
            .for_each_record_after(1, |record| after_first.push(record))
            .unwrap();
        assert_eq!(after_first.len(), 1);
        assert_eq!(after_first[0].event, events[1]);
        assert_eq!(
            store.public_after(1, 10).unwrap(),
            vec![PublicMessage {
                seq: 2,
                kind: events[1].kind().to_owned(),
                json: "{\"n\":1}".to_owned()
            }]
        );
        assert_eq!(store.record(2).unwrap().unwrap().actor, "test");
        assert!(store.record(3).unwrap().is_none());
    }

    #[test]
    fn a_duplicate_sequence_number_rolls_the_whole_batch_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("hall.db")).unwrap();
        let event = Event::WindowOpened {
            window: WindowNumber::new(1).unwrap(),
        };
        let record = |seq| NewRecord {
            seq,
            at: Millis(0),
            actor: "t",
            event: &event,
            public: None,
        };
        store.append(&[record(1)]).unwrap();
        assert!(store.append(&[record(2), record(1)]).is_err());
        assert_eq!(store.last_seq().unwrap(), 1);
    }

    #[test]
    fn a_backup_holds_every_event_and_opens_as_a_hall_database() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("hall.db")).unwrap();
        let event = Event::WindowOpened {
            window: WindowNumber::new(1).unwrap(),
        };
        let records: Vec<NewRecord<'_>> = (1..=50)
            .map(|seq| NewRecord {
                seq,
                at: Millis(seq as i64),
                actor: "t",
                event: &event,
                public: None,
            })
            .collect();
        store.append(&records).unwrap();
        let out = dir.path().join("backup.db");
        store.backup_to(&out).unwrap();
        assert!(
            store.backup_to(&out).is_err(),
            "an existing file is never overwritten"
        );
        let restored = Store::open(&out).unwrap();
        assert_eq!(restored.last_seq().unwrap(), 50);
        assert_eq!(restored.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_file_of_an_older_schema_is_brought_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hall.db");
        let conn = Connection::open(&path).unwrap();
        for migration in &MIGRATIONS[..2] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert!(store.device_problems(10).unwrap().is_empty());
    }

    #[test]
    fn an_event_of_a_kind_this_version_does_not_know_is_named_not_called_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("hall.db")).unwrap();
        let event = Event::WindowOpened {
            window: WindowNumber::new(1).unwrap(),
        };
        store
            .append(&[NewRecord {
                seq: 1,
                at: Millis(0),
                actor: "t",
                event: &event,
                public: None,
            }])
            .unwrap();
        // What a newer jiaohao might write: a kind this version has never heard of.
        store
            .conn()
            .execute(
                "INSERT INTO events (seq, at_ms, actor, kind, body) VALUES (2, 1, 'newer', 'calendar_set', ?1)",
                [r#"{"type":"calendar_set","weekdays":[1,2,3,4,5]}"#],
            )
            .unwrap();
        let error = store.for_each_record_after(0, |_| {}).unwrap_err();
        assert!(
            matches!(&error, StoreError::UnknownKind { seq: 2, kind } if kind == "calendar_set"),
            "{error:?}"
        );
        assert!(error.to_string().contains("newer jiaohao"), "{error}");
        // A damaged record is still called damaged.
        store
            .conn()
            .execute(
                "UPDATE events SET body = '{\"type\":\"window_opened\"}' WHERE seq = 2",
                [],
            )
            .unwrap();
        let error = store.record(2).unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { seq: 2, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hall.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
        assert!(err.to_string().contains("newer jiaohao"));
    }
}
