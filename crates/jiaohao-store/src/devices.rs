//! Problems the devices report to the hub (a kiosk's printer fault, a display's audio), for
//! the admin to see. Not events: they are not the hall's state and never replay into it.

use rusqlite::params;

use crate::{Result, Store};
use jiaohao_core::Millis;

/// One problem a device reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProblem {
    pub id: i64,
    pub at: Millis,
    /// Who reported it, as the event log names actors (`kiosk:kiosk 1#2`).
    pub device: String,
    /// `printer`, `display`, `audio` or `other`; the hub checks it.
    pub kind: String,
    pub message: String,
}

impl Store {
    /// Records a problem a device reported; returns its id.
    pub fn add_device_problem(
        &self,
        at: Millis,
        device: &str,
        kind: &str,
        message: &str,
    ) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO device_problems (at_ms, device, kind, message) VALUES (?1, ?2, ?3, ?4)",
            params![at.0, device, kind, message],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// The latest `limit` problems, newest (last reported) first.
    pub fn device_problems(&self, limit: usize) -> Result<Vec<DeviceProblem>> {
        let mut query = self.conn().prepare_cached(
            "SELECT id, at_ms, device, kind, message FROM device_problems ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = query.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
            Ok(DeviceProblem {
                id: row.get(0)?,
                at: Millis(row.get(1)?),
                device: row.get(2)?,
                kind: row.get(3)?,
                message: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_problems_read_back_newest_first_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hall.db");
        let store = Store::open(&path).unwrap();
        assert!(store.device_problems(10).unwrap().is_empty());
        let first = store
            .add_device_problem(
                Millis(1_000),
                "kiosk:kiosk 1#2",
                "printer",
                "cannot reach the printer",
            )
            .unwrap();
        let second = store
            .add_device_problem(Millis(2_000), "display:大厅#3", "audio", "no sound card")
            .unwrap();
        let third = store
            .add_device_problem(Millis(3_000), "kiosk:kiosk 1#2", "printer", "paper end")
            .unwrap();

        let all = store.device_problems(10).unwrap();
        let ids: Vec<i64> = all.iter().map(|p| p.id).collect();
        assert_eq!(ids, [third, second, first]);
        assert_eq!(
            all[1],
            DeviceProblem {
                id: second,
                at: Millis(2_000),
                device: "display:大厅#3".into(),
                kind: "audio".into(),
                message: "no sound card".into(),
            }
        );
        let latest: Vec<i64> = store
            .device_problems(2)
            .unwrap()
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(latest, [third, second]);
        drop(store);

        // They outlive the process, and the reader connection sees them.
        let reader = Store::open_read_only(&path).unwrap();
        assert_eq!(reader.device_problems(1).unwrap()[0].message, "paper end");
    }
}
