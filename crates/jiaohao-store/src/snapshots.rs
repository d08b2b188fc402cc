//! The hall at the latest day start, kept beside the log so that a start-up folds only the
//! events after it (a year of history costs nothing to start). A cache, never the record: one
//! that is missing, of another version, or that does not match its day start in the log is
//! ignored, and the hub folds the whole log and writes a new one.

use jiaohao_core::{Event, HallSnapshot, Millis};
use rusqlite::{OptionalExtension, params};

use crate::stored::{self, SNAPSHOT_VERSION};
use crate::{Result, Store};

/// What the database holds as the latest hall snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotLookup {
    /// None was ever written.
    Missing,
    /// The hall after event `seq` (a day start): fold the events after it.
    Found {
        seq: u64,
        snapshot: Box<HallSnapshot>,
    },
    /// One exists but cannot be used (another version, or it does not match the log).
    Ignored { seq: u64, reason: String },
}

impl Store {
    /// Keeps `snapshot` as the hall after event `seq`, the day start it was taken at, and
    /// drops the older ones.
    pub fn save_hall_snapshot(&self, seq: u64, snapshot: &HallSnapshot) -> Result<()> {
        let tx = self.conn().unchecked_transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO hall_snapshots (seq, version, body) VALUES (?1, ?2, ?3)",
            params![
                seq as i64,
                SNAPSHOT_VERSION,
                stored::snapshot_to_json(snapshot)
            ],
        )?;
        tx.execute(
            "DELETE FROM hall_snapshots WHERE seq <> ?1",
            params![seq as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The latest hall snapshot, if this version can use it: of [`SNAPSHOT_VERSION`], and
    /// following a day start of the log on the same date at the same moment.
    pub fn latest_hall_snapshot(&self) -> Result<SnapshotLookup> {
        let row = self
            .conn()
            .query_row(
                "SELECT s.seq, s.version, s.body, e.at_ms, e.body
                 FROM hall_snapshots s LEFT JOIN events e ON e.seq = s.seq
                 ORDER BY s.seq DESC LIMIT 1",
                [],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)? as u64,
                        row.get::<_, i64>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, Option<i64>>(3)?,
                        row.get::<_, Option<String>>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((seq, version, body, event_at, event_body)) = row else {
            return Ok(SnapshotLookup::Missing);
        };
        let ignored = |reason: String| Ok(SnapshotLookup::Ignored { seq, reason });
        if version != SNAPSHOT_VERSION {
            return ignored(format!(
                "it is of version {version}, this jiaohao writes version {SNAPSHOT_VERSION}"
            ));
        }
        let snapshot = match stored::snapshot_from_json(&body) {
            Ok(snapshot) => snapshot,
            Err(error) => return ignored(format!("it cannot be read: {error}")),
        };
        let (Some(event_at), Some(event_body)) = (event_at, event_body) else {
            return ignored(format!("the log has no event {seq}"));
        };
        let day_start = stored::event_from_json(&event_body);
        let matches = matches!(day_start, Ok(Event::DayStarted { date }) if date == snapshot.date)
            && Millis(event_at) == snapshot.day_started_at;
        if !matches {
            return ignored(format!("event {seq} of the log is not its day start"));
        }
        Ok(SnapshotLookup::Found {
            seq,
            snapshot: Box::new(snapshot),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewRecord;
    use jiaohao_core::{HallSettings, LocalDate, TicketId, WindowNumber};

    fn snapshot(day: u8, at: i64) -> HallSnapshot {
        HallSnapshot {
            date: LocalDate::new(2026, 12, day).unwrap(),
            day_started_at: Millis(at),
            next_ticket_id: TicketId(17),
            settings: HallSettings::default(),
            calendar: None,
            services: Vec::new(),
            windows: Vec::new(),
            registry: Default::default(),
        }
    }

    /// A log of two days: day starts at events 1 and 3.
    fn two_days(store: &mut Store) {
        let events = [
            Event::DayStarted {
                date: LocalDate::new(2026, 12, 1).unwrap(),
            },
            Event::WindowOpened {
                window: WindowNumber::new(1).unwrap(),
            },
            Event::DayStarted {
                date: LocalDate::new(2026, 12, 2).unwrap(),
            },
        ];
        let records: Vec<NewRecord<'_>> = events
            .iter()
            .enumerate()
            .map(|(i, event)| NewRecord {
                seq: i as u64 + 1,
                at: Millis(1000 * (i as i64 + 1)),
                actor: "t",
                event,
                public: None,
            })
            .collect();
        store.append(&records).unwrap();
    }

    #[test]
    fn the_latest_snapshot_is_found_and_replaces_the_older() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("hall.db")).unwrap();
        assert_eq!(
            store.latest_hall_snapshot().unwrap(),
            SnapshotLookup::Missing
        );
        two_days(&mut store);
        store.save_hall_snapshot(1, &snapshot(1, 1000)).unwrap();
        store.save_hall_snapshot(3, &snapshot(2, 3000)).unwrap();
        assert_eq!(
            store.latest_hall_snapshot().unwrap(),
            SnapshotLookup::Found {
                seq: 3,
                snapshot: Box::new(snapshot(2, 3000))
            }
        );
        let rows: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM hall_snapshots", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 1, "only the latest is kept");
    }

    #[test]
    fn a_snapshot_of_another_version_or_not_matching_the_log_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("hall.db")).unwrap();
        two_days(&mut store);
        let ignored = |store: &Store| {
            matches!(
                store.latest_hall_snapshot().unwrap(),
                SnapshotLookup::Ignored { seq: 3, .. }
            )
        };
        // Not the day start it claims to follow: another date, another moment.
        store.save_hall_snapshot(3, &snapshot(1, 3000)).unwrap();
        assert!(ignored(&store));
        store.save_hall_snapshot(3, &snapshot(2, 2999)).unwrap();
        assert!(ignored(&store));
        // The right one, then of an older version, then unreadable.
        store.save_hall_snapshot(3, &snapshot(2, 3000)).unwrap();
        assert!(!ignored(&store));
        store
            .conn()
            .execute("UPDATE hall_snapshots SET version = version - 1", [])
            .unwrap();
        let SnapshotLookup::Ignored { reason, .. } = store.latest_hall_snapshot().unwrap() else {
            panic!("an older version is used");
        };
        assert!(reason.contains("version"), "{reason}");
        store.save_hall_snapshot(3, &snapshot(2, 3000)).unwrap();
        store
            .conn()
            .execute("UPDATE hall_snapshots SET body = '{}'", [])
            .unwrap();
        assert!(ignored(&store));
        // Following an event the log does not hold.
        store.save_hall_snapshot(9, &snapshot(2, 3000)).unwrap();
        assert!(matches!(
            store.latest_hall_snapshot().unwrap(),
            SnapshotLookup::Ignored { seq: 9, .. }
        ));
    }
}
