//! Migrations from a stored older database: `fixtures/hall-v1.sqlite3` was written with schema
//! version 1 (see `fixtures/make_v1.py`). Today's code must open it, bring it up to date, and
//! read back the same events, tokens and hall state.

use std::path::{Path, PathBuf};

use jiaohao_core::{Event, Hall, Millis};
use jiaohao_store::{NewRecord, Record, Role, Store, stored};

const SECRET: &str = "fixture-admin-token-0123456789abcdef";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A copy of the stored v1 file in a fresh directory (opening migrates it in place).
fn v1_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hall.sqlite3");
    std::fs::copy(fixtures().join("hall-v1.sqlite3"), &path).unwrap();
    (dir, path)
}

/// The rows the fixture was made from: (seq, at_ms, actor, kind, body, public).
fn rows() -> Vec<(u64, i64, String, String, String, Option<String>)> {
    let text = std::fs::read_to_string(fixtures().join("v1-events.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Appends one new record (window 1 closed) at `at` after the file's last; answers the
/// number of that last record before it.
fn append_a_close(store: &mut Store, at: Millis) -> u64 {
    let last = store.last_seq().unwrap();
    let event = Event::WindowClosed {
        window: jiaohao_core::WindowNumber::new(1).unwrap(),
        reason: None,
    };
    store
        .append(&[NewRecord {
            seq: last + 1,
            at,
            actor: "test",
            event: &event,
            public: None,
        }])
        .unwrap();
    last
}

fn records(store: &Store) -> Vec<Record> {
    let mut all = Vec::new();
    store
        .for_each_record_after(0, |record| all.push(record))
        .unwrap();
    all
}

#[test]
fn a_version_1_database_is_migrated_and_reads_back_the_same() {
    let (_dir, path) = v1_copy();
    let latest = {
        let fresh = tempfile::tempdir().unwrap();
        Store::open(&fresh.path().join("new.sqlite3"))
            .unwrap()
            .schema_version()
            .unwrap()
    };
    assert!(latest > 1);
    {
        let old = Store::open_read_only(&path).unwrap();
        assert_eq!(old.schema_version().unwrap(), 1, "the fixture is version 1");
    }

    let mut store = Store::open(&path).expect("today's code opens a version 1 file");
    assert_eq!(store.schema_version().unwrap(), latest);

    // Every event, in order, as it was written.
    let rows = rows();
    let read = records(&store);
    assert_eq!(read.len(), rows.len());
    for (record, (seq, at, actor, kind, body, _)) in read.iter().zip(&rows) {
        assert_eq!(record.seq, *seq);
        assert_eq!(record.at, Millis(*at));
        assert_eq!(&record.actor, actor);
        assert_eq!(record.event.kind(), kind);
        assert_eq!(record.event, stored::event_from_json(body).unwrap());
    }
    let public: Vec<(u64, String)> = rows
        .iter()
        .filter_map(|(seq, .., public)| Some((*seq, public.clone()?)))
        .collect();
    let replayed: Vec<(u64, String)> = store
        .public_after(0, 1000)
        .unwrap()
        .into_iter()
        .map(|message| (message.seq, message.json))
        .collect();
    assert_eq!(replayed, public);

    // The hall folds from it: three tickets, one served, one transferred then not shown up,
    // one still waiting.
    let mut hall = Hall::new();
    for record in &read {
        hall.evolve(&record.event, record.at);
    }
    hall.check_invariants().unwrap();
    let issued: Vec<&Event> = read
        .iter()
        .map(|r| &r.event)
        .filter(|e| matches!(e, Event::TicketIssued { .. }))
        .collect();
    assert_eq!(issued.len(), 3);
    assert_eq!(hall.queues().len(), 1, "A002 still waits");

    // The old token still signs in.
    let token = store.find_token(SECRET).unwrap().expect("the v1 token");
    assert_eq!(token.role, Role::Admin);

    // The migrated file takes new events, and keeps them across a reopen.
    let last = append_a_close(&mut store, Millis(rows.last().unwrap().1 + 1000));
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.last_seq().unwrap(), last + 1);
    assert_eq!(records(&store).len(), rows.len() + 1);
}

#[test]
fn the_stored_v1_file_is_left_alone_by_the_test() {
    // The fixture itself stays at version 1 (the tests migrate copies of it).
    let store = Store::open_read_only(&fixtures().join("hall-v1.sqlite3")).unwrap();
    assert_eq!(store.schema_version().unwrap(), 1);
}

/// The schema version before records had a term (version 6 gave each record the term it was
/// written in).
const BEFORE_TERMS: i64 = 5;

/// The log's rows as stored, read with SQLite itself: (seq, at_ms, actor, kind, body, public).
fn stored_rows(path: &Path) -> Vec<(u64, i64, String, String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut query = conn
        .prepare("SELECT seq, at_ms, actor, kind, body, public FROM events ORDER BY seq")
        .unwrap();
    query
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)? as u64,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn records_written_before_terms_existed_read_back_as_term_1_with_their_bytes_unchanged() {
    // A file as a hub of the version before terms left it, with the v1 fixture's records.
    let (_dir, path) = v1_copy();
    Store::migrate_file_to(&path, BEFORE_TERMS).unwrap();
    let before = stored_rows(&path);
    assert_eq!(before, rows(), "the records of the fixture, as written");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, BEFORE_TERMS);
        let has_term: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM pragma_table_info('events') WHERE name = 'term'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert!(
            !has_term,
            "records have no term yet at version {BEFORE_TERMS}"
        );
    }

    let mut store = Store::open(&path).expect("today's code opens it");
    assert!(store.schema_version().unwrap() > BEFORE_TERMS);
    let raw = store.raw_records_after(0, u64::MAX, 10_000).unwrap();
    assert_eq!(raw.len(), before.len());
    for (record, (seq, at, actor, kind, body, public)) in raw.iter().zip(&before) {
        assert_eq!(record.term, 1, "record {seq} is term 1");
        assert_eq!(
            (
                record.seq,
                record.at,
                &record.actor,
                &record.kind,
                &record.body,
                &record.public
            ),
            (*seq, Millis(*at), actor, kind, body, public),
            "record {seq} keeps its bytes"
        );
    }
    assert_eq!(stored_rows(&path), before, "nothing rewritten in place");

    // The log goes on in term 1 until a promotion.
    let last = append_a_close(&mut store, Millis(before.last().unwrap().1 + 1000));
    assert_eq!(store.raw_record(last + 1).unwrap().unwrap().term, 1);
}
