//! What a standby or the city reads from a hub's file, and what a standby writes into its own:
//! the log's records as stored (their sequence number, term and bytes, verbatim), and the
//! change log of the rows kept outside the log (`side_changes`, written by triggers, see
//! migration 6).
//!
//! A standby's file is the primary's: the same records with the same numbers, terms and
//! bytes, and the same side rows. Applying a side change writes the row, and the row's trigger
//! logs it under the standby's next side number, which is the primary's number as long as the
//! two agree; when they do not, the change is refused as a divergence.

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store, StoreError};
use jiaohao_core::Millis;

/// The kind of the store's own record of a promotion: it is in the log (numbered and
/// replicated like every record) but is no hall event, and the fold skips it.
pub const PROMOTED_KIND: &str = "promoted";

/// One record of the log as stored, bytes and all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub seq: u64,
    /// The term it was written in (1 until the first promotion).
    pub term: u64,
    pub at: Millis,
    pub actor: String,
    pub kind: String,
    /// The stored JSON of the event (`stored`), verbatim.
    pub body: String,
    /// The live stream's message for it, if any.
    pub public: Option<String>,
}

/// One change to a row kept outside the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideChange {
    pub seq: u64,
    /// One of [`SIDE_TABLES`]: `users`, `sessions`, `api_tokens`, `device_problems`,
    /// `booking_contacts`, `case_contacts` or `booking_idempotency`.
    pub table: String,
    /// `upsert` (the row as it now is) or `delete` (only its key, see `key_column`).
    pub op: String,
    /// The row as a JSON object of all its columns; blobs in hex.
    pub row: String,
}

/// The tables whose rows the side log carries, each with its columns (and whether a column is
/// a blob, logged in hex). It must match the triggers of migration 6: a column added to one of
/// these tables needs new triggers and a new entry here.
const SIDE_TABLES: &[(&str, &[(&str, bool)])] = &[
    (
        "users",
        &[
            ("id", false),
            ("username", false),
            ("role", false),
            ("password_hash", false),
            ("created_ms", false),
            ("disabled_ms", false),
            ("failed_logins", false),
            ("locked_until_ms", false),
            ("created_by", false),
            ("disabled_by", false),
        ],
    ),
    (
        "sessions",
        &[
            ("id", false),
            ("token_hash", true),
            ("user_id", false),
            ("window", false),
            ("csrf", false),
            ("created_ms", false),
            ("expires_ms", false),
            ("ended_ms", false),
        ],
    ),
    (
        "api_tokens",
        &[
            ("id", false),
            ("token_hash", true),
            ("role", false),
            ("window", false),
            ("name", false),
            ("created_ms", false),
            ("revoked_ms", false),
            ("created_by", false),
            ("revoked_by", false),
        ],
    ),
    (
        "device_problems",
        &[
            ("id", false),
            ("at_ms", false),
            ("device", false),
            ("kind", false),
            ("message", false),
        ],
    ),
    (
        "booking_contacts",
        &[
            ("code", false),
            ("name", false),
            ("phone", false),
            ("sms_code_sha256", false),
            ("cancel_sha256", false),
            ("sms_sent_ms", false),
            ("erase_after_ms", false),
        ],
    ),
    (
        "case_contacts",
        &[("case_id", false), ("phone", false), ("saved_ms", false)],
    ),
    (
        "booking_idempotency",
        &[
            ("key", false),
            ("request_hmac", false),
            ("code", false),
            ("made_ms", false),
        ],
    ),
];

/// The column a side table's rows are known by (`id`, but a booking's contact by its code, a
/// case's callback phone by its case and a booking's `Idempotency-Key` by the key).
fn key_column(table: &str) -> &'static str {
    match table {
        "booking_contacts" => "code",
        "case_contacts" => "case_id",
        "booking_idempotency" => "key",
        _ => "id",
    }
}

/// Why a standby cannot take what its primary sent.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("side change {found} does not follow this file's side log, which expects {expected}")]
    OutOfOrder { expected: u64, found: u64 },
    #[error(
        "side change {seq} cannot be applied ({reason}): this file's history differs from the primary's"
    )]
    Diverged { seq: u64, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(error: rusqlite::Error) -> ApplyError {
        ApplyError::Store(StoreError::Sqlite(error))
    }
}

/// The statement that writes a row of `table` from its logged JSON (`?1`): inserted, or
/// updated in place when its id exists.
fn upsert_sql(table: &str, columns: &[(&str, bool)]) -> String {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let values: Vec<String> = columns
        .iter()
        .map(|(name, blob)| {
            if *blob {
                format!("unhex(json_extract(?1, '$.{name}'))")
            } else {
                format!("json_extract(?1, '$.{name}')")
            }
        })
        .collect();
    let key = key_column(table);
    let updates: Vec<String> = names
        .iter()
        .filter(|name| **name != key)
        .map(|name| format!("{name} = excluded.{name}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) SELECT {} WHERE true ON CONFLICT({key}) DO UPDATE SET {}",
        names.join(", "),
        values.join(", "),
        updates.join(", ")
    )
}

fn row_to_raw(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        seq: row.get::<_, i64>(0)? as u64,
        term: row.get::<_, i64>(1)? as u64,
        at: Millis(row.get(2)?),
        actor: row.get(3)?,
        kind: row.get(4)?,
        body: row.get(5)?,
        public: row.get(6)?,
    })
}

impl Store {
    /// The term of the log's last record (1 for an empty log).
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The records after `after` up to `upto`, in order, at most `limit` of them.
    pub fn raw_records_after(&self, after: u64, upto: u64, limit: usize) -> Result<Vec<RawRecord>> {
        let mut query = self.conn().prepare_cached(
            "SELECT seq, term, at_ms, actor, kind, body, public FROM events
             WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = query.query_map(
            params![after as i64, upto.min(i64::MAX as u64) as i64, limit as i64],
            row_to_raw,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The record with this sequence number as stored, if any.
    pub fn raw_record(&self, seq: u64) -> Result<Option<RawRecord>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT seq, term, at_ms, actor, kind, body, public FROM events WHERE seq = ?1",
            )?
            .query_row([seq as i64], row_to_raw)
            .optional()?)
    }

    /// Appends records numbered elsewhere (a standby's primary), verbatim, in one transaction.
    pub fn append_raw(&mut self, records: &[RawRecord]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (seq, term, at_ms, actor, kind, body, public) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for record in records {
                insert.execute(params![
                    record.seq as i64,
                    record.term as i64,
                    record.at.0,
                    record.actor,
                    record.kind,
                    record.body,
                    record.public,
                ])?;
            }
        }
        tx.commit()?;
        if let Some(term) = records.iter().map(|record| record.term).max() {
            self.term = self.term.max(term);
        }
        Ok(())
    }

    /// Records a promotion: a `promoted` record numbered `seq` opens term `term`, and every
    /// record appended after it is of that term.
    pub fn append_promoted(&mut self, seq: u64, at: Millis, actor: &str, term: u64) -> Result<()> {
        self.append_raw(&[RawRecord {
            seq,
            term,
            at,
            actor: actor.to_owned(),
            kind: PROMOTED_KIND.to_owned(),
            body: promoted_body(term),
            public: None,
        }])?;
        // Kept beside the log, not replicated: this file's hub was promoted, so it never
        // follows another again (a restart with `--follow` still in its settings would).
        self.conn().execute(
            "INSERT OR REPLACE INTO promotions_here (seq, term) VALUES (?1, ?2)",
            params![seq as i64, term as i64],
        )?;
        Ok(())
    }

    /// The term of the latest promotion this file's own hub made, if it made one.
    pub fn promoted_here(&self) -> Result<Option<u64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT term FROM promotions_here ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get::<_, i64>(0),
            )
            .optional()?
            .map(|term| term as u64))
    }

    /// The number of the last side change, 0 when there is none.
    pub fn last_side_seq(&self) -> Result<u64> {
        let seq: Option<i64> =
            self.conn()
                .query_row("SELECT MAX(seq) FROM side_changes", [], |row| row.get(0))?;
        Ok(seq.unwrap_or(0) as u64)
    }

    /// The side changes after `after` up to `upto`, in order, at most `limit` of them.
    pub fn side_changes_after(
        &self,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<SideChange>> {
        let mut query = self.conn().prepare_cached(
            "SELECT seq, tbl, op, row FROM side_changes WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = query.query_map(
            params![after as i64, upto.min(i64::MAX as u64) as i64, limit as i64],
            |row| {
                Ok(SideChange {
                    seq: row.get::<_, i64>(0)? as u64,
                    table: row.get(1)?,
                    op: row.get(2)?,
                    row: row.get(3)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies side changes from the primary, in order, in one transaction: each writes its
    /// row, whose trigger logs it here under the same number. Refuses them all when one does
    /// not continue this file's side log or does not fit its rows.
    pub fn apply_side_changes(&self, changes: &[SideChange]) -> Result<u64, ApplyError> {
        // `&self`: the hub's writer runs it as a store job; nothing else uses the connection
        // meanwhile (the writer is its one user).
        let tx = self.conn.unchecked_transaction()?;
        let mut last: u64 = tx
            .query_row("SELECT MAX(seq) FROM side_changes", [], |row| {
                row.get::<_, Option<i64>>(0)
            })?
            .unwrap_or(0) as u64;
        for change in changes {
            if change.seq != last + 1 {
                return Err(ApplyError::OutOfOrder {
                    expected: last + 1,
                    found: change.seq,
                });
            }
            let diverged = |reason: String| ApplyError::Diverged {
                seq: change.seq,
                reason,
            };
            let Some((table, columns)) =
                SIDE_TABLES.iter().find(|(table, _)| *table == change.table)
            else {
                return Err(diverged(format!("unknown table '{}'", change.table)));
            };
            match change.op.as_str() {
                "upsert" => tx
                    .prepare_cached(&upsert_sql(table, columns))?
                    .execute([&change.row])
                    .map_err(|error| diverged(error.to_string()))?,
                "delete" => tx
                    .prepare_cached(&format!(
                        "DELETE FROM {table} WHERE {key} = json_extract(?1, '$.{key}')",
                        key = key_column(table)
                    ))?
                    .execute([&change.row])
                    .map_err(|error| diverged(error.to_string()))?,
                other => return Err(diverged(format!("unknown operation '{other}'"))),
            };
            let logged: i64 = tx.query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM side_changes",
                [],
                |row| row.get(0),
            )?;
            if logged as u64 == last {
                // Nothing changed here (a delete of a row this file never had): logged as sent.
                tx.execute(
                    "INSERT INTO side_changes (seq, tbl, op, row) VALUES (?1, ?2, ?3, ?4)",
                    params![change.seq as i64, change.table, change.op, change.row],
                )?;
            } else if logged as u64 != change.seq {
                return Err(diverged(format!(
                    "it was logged here as side change {logged}"
                )));
            }
            last = change.seq;
        }
        tx.commit()?;
        Ok(last)
    }
}

/// What [`Store::rejoin`] set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// The records after the point the two logs agree to, as they were stored here.
    pub records: Vec<RawRecord>,
    /// The side changes (users, sessions, tokens, device problems) after the point the two
    /// side logs agree to, as they were logged here.
    pub side_changes: Vec<SideChange>,
}

impl Store {
    /// Turns this file (a former primary's) into one that can follow the new primary: the
    /// records after `agreed` (the last one both logs hold alike) are removed and returned,
    /// with the day-start snapshots after it; the rows beside the log are emptied with their
    /// change log, to be followed again from the new primary's (its users, sessions and token
    /// hashes are the hall's now), and the side changes after `side_agreed` (the last one both
    /// side logs hold alike) are returned; the mark of a promotion made here is removed. One
    /// transaction: all of it or nothing.
    pub fn rejoin(&mut self, agreed: u64, side_agreed: u64) -> Result<SetAside> {
        let records = self.raw_records_after(agreed, u64::MAX, usize::MAX >> 1)?;
        let side_changes = self.side_changes_after(side_agreed, u64::MAX, usize::MAX >> 1)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM events WHERE seq > ?1", [agreed as i64])?;
        tx.execute("DELETE FROM hall_snapshots WHERE seq > ?1", [agreed as i64])?;
        tx.execute_batch(
            "DELETE FROM sessions; DELETE FROM users; DELETE FROM api_tokens;
             DELETE FROM device_problems; DELETE FROM booking_contacts; DELETE FROM case_contacts;
             DELETE FROM booking_idempotency;
             DELETE FROM side_changes; DELETE FROM promotions_here;",
        )?;
        tx.commit()?;
        self.term = self.read_term()?;
        Ok(SetAside {
            records,
            side_changes,
        })
    }
}

/// The stored body of a promotion record.
pub fn promoted_body(term: u64) -> String {
    format!(r#"{{"type":"{PROMOTED_KIND}","term":{term}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    #[test]
    fn every_row_change_is_logged_and_a_second_file_applies_it_to_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let primary = Store::open(&dir.path().join("primary.db")).unwrap();
        let user = primary
            .add_user("zhang", Role::Clerk, "$argon2id$fake", Millis(1), "cli")
            .unwrap();
        primary
            .add_session(
                "cookie-secret",
                user,
                Some(3),
                "csrf",
                Millis(2),
                Millis(99),
            )
            .unwrap();
        let token = primary
            .add_token(
                "s3cret-s3cret-s3cret",
                Role::Kiosk,
                None,
                "kiosk 1",
                Millis(3),
                "cli",
            )
            .unwrap();
        primary.revoke_token(token, Millis(4), "cli").unwrap();
        primary
            .add_device_problem(Millis(5), "kiosk:kiosk 1#1", "printer", "paper end")
            .unwrap();
        primary
            .conn()
            .execute("DELETE FROM device_problems", [])
            .unwrap();
        let contact = crate::BookingContact {
            code: "Y7K2Q9".into(),
            name: Some("王芳".into()),
            phone: Some("13800138000".into()),
            sms_code_sha256: "ab".repeat(32),
            cancel_sha256: "cd".repeat(32),
            sms_sent_at: Millis(6),
            erase_after: Millis(100),
        };
        primary.put_booking_contact(&contact).unwrap();
        assert_eq!(primary.erase_booking_contacts(Millis(100)).unwrap(), 1);
        primary
            .put_case_phone(41, "13900139000", Millis(7))
            .unwrap();
        assert_eq!(primary.erase_case_phones(&[41]).unwrap(), 1);
        primary
            .put_booking_idempotency_key("k1", "mac", "ABCD2345", Millis(8), Millis(0))
            .unwrap();
        let changes = primary.side_changes_after(0, u64::MAX, 100).unwrap();
        let seen: Vec<(u64, &str, &str)> = changes
            .iter()
            .map(|c| (c.seq, c.table.as_str(), c.op.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (1, "users", "upsert"),
                (2, "sessions", "upsert"),
                (3, "api_tokens", "upsert"),
                (4, "api_tokens", "upsert"),
                (5, "device_problems", "upsert"),
                (6, "device_problems", "delete"),
                (7, "booking_contacts", "upsert"),
                (8, "booking_contacts", "upsert"),
                (9, "case_contacts", "upsert"),
                (10, "case_contacts", "delete"),
                (11, "booking_idempotency", "upsert"),
            ]
        );
        assert!(changes[8].row.contains("13900139000"));
        assert!(changes[6].row.contains("13800138000"));
        assert!(
            !changes[7].row.contains("13800138000") && !changes[7].row.contains("王芳"),
            "the erasure travels: {}",
            changes[7].row
        );
        assert!(!changes[2].row.contains("s3cret"), "only the hash travels");

        let standby = Store::open(&dir.path().join("standby.db")).unwrap();
        assert_eq!(standby.apply_side_changes(&changes[..2]).unwrap(), 2);
        assert!(matches!(
            standby.apply_side_changes(&changes[3..]),
            Err(ApplyError::OutOfOrder {
                expected: 3,
                found: 4
            })
        ));
        assert_eq!(standby.apply_side_changes(&changes[2..6]).unwrap(), 6);
        assert_eq!(standby.apply_side_changes(&changes[6..7]).unwrap(), 7);
        assert_eq!(
            standby.booking_contact("Y7K2Q9").unwrap().as_ref(),
            Some(&contact)
        );
        assert_eq!(standby.apply_side_changes(&changes[7..9]).unwrap(), 9);
        assert_eq!(
            standby.case_phone(41).unwrap().as_deref(),
            Some("13900139000")
        );
        assert_eq!(standby.apply_side_changes(&changes[9..]).unwrap(), 11);
        assert_eq!(standby.case_phone(41).unwrap(), None);
        assert_eq!(
            standby.booking_by_idempotency_key("k1", Millis(0)).unwrap(),
            Some(("mac".to_owned(), "ABCD2345".to_owned()))
        );
        let erased = standby.booking_contact("Y7K2Q9").unwrap().unwrap();
        assert_eq!((erased.name, erased.phone), (None, None));
        assert_eq!(erased.cancel_sha256, contact.cancel_sha256);
        assert_eq!(
            standby.side_changes_after(0, u64::MAX, 100).unwrap(),
            changes
        );
        assert!(
            standby
                .find_token("s3cret-s3cret-s3cret")
                .unwrap()
                .is_none()
        );
        assert_eq!(
            standby.list_tokens().unwrap(),
            primary.list_tokens().unwrap()
        );
        let session = standby.find_session("cookie-secret", Millis(50)).unwrap();
        assert_eq!(session.unwrap().user.username, "zhang");
        assert!(standby.device_problems(10).unwrap().is_empty());
    }

    #[test]
    fn rows_written_before_the_side_log_existed_are_logged_by_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        // The schema just before the side log's migration (found by what it makes, so the
        // test holds wherever the migration is numbered).
        let before = crate::MIGRATIONS
            .iter()
            .position(|m| m.contains("CREATE TABLE side_changes"))
            .unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        for migration in &crate::MIGRATIONS[..before] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", before as i64)
            .unwrap();
        conn.execute(
            "INSERT INTO api_tokens (token_hash, role, name, created_ms) VALUES (x'00ff', 'admin', 'a', 1)",
            [],
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        let changes = store.side_changes_after(0, u64::MAX, 10).unwrap();
        assert_eq!(changes.len(), 1);
        assert!(
            changes[0].row.contains(r#""token_hash":"00FF""#),
            "{}",
            changes[0].row
        );
        assert_eq!(store.term(), 1);
    }

    #[test]
    fn rejoining_sets_the_records_after_the_agreed_one_aside_and_empties_the_side_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("hall.db")).unwrap();
        let records: Vec<RawRecord> = (1..=5)
            .map(|seq| RawRecord {
                seq,
                term: 1,
                at: Millis(seq as i64),
                actor: "t".into(),
                kind: "window_opened".into(),
                body: r#"{"type":"window_opened","window":1}"#.into(),
                public: None,
            })
            .collect();
        store.append_raw(&records).unwrap();
        store.append_promoted(6, Millis(6), "admin:li", 2).unwrap();
        store
            .add_token(
                "s3cret-s3cret-s3cret",
                Role::Kiosk,
                None,
                "k",
                Millis(1),
                "cli",
            )
            .unwrap();
        let aside = store.rejoin(3, 0).unwrap();
        assert_eq!(
            aside.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [4, 5, 6]
        );
        assert_eq!(
            aside
                .side_changes
                .iter()
                .map(|c| c.table.as_str())
                .collect::<Vec<_>>(),
            ["api_tokens"]
        );
        assert_eq!(store.last_seq().unwrap(), 3);
        assert_eq!(store.term(), 1);
        assert_eq!(store.last_side_seq().unwrap(), 0);
        assert!(store.list_tokens().unwrap().is_empty());
        assert_eq!(store.promoted_here().unwrap(), None);
    }

    #[test]
    fn records_keep_their_term_and_bytes_and_a_promotion_opens_the_next_term() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("hall.db")).unwrap();
        let record = RawRecord {
            seq: 1,
            term: 1,
            at: Millis(7),
            actor: "kiosk:k#1".into(),
            kind: "window_opened".into(),
            body: r#"{"type":"window_opened","window":1}"#.into(),
            public: Some("{}".into()),
        };
        store.append_raw(std::slice::from_ref(&record)).unwrap();
        assert_eq!(store.promoted_here().unwrap(), None);
        store.append_promoted(2, Millis(8), "admin:li", 2).unwrap();
        assert_eq!(store.term(), 2);
        assert_eq!(store.promoted_here().unwrap(), Some(2));
        assert_eq!(store.raw_record(1).unwrap().unwrap(), record);
        let all = store.raw_records_after(0, u64::MAX, 10).unwrap();
        assert_eq!(all[1].body, r#"{"type":"promoted","term":2}"#);
        // The fold never sees the promotion.
        let mut folded = Vec::new();
        store
            .for_each_record_after(0, |record| folded.push(record.seq))
            .unwrap();
        assert_eq!(folded, [1]);
        assert_eq!(store.last_seq().unwrap(), 2);
        drop(store);
        assert_eq!(Store::open(&dir.path().join("hall.db")).unwrap().term(), 2);
    }
}
