//! The phone numbers citizens leave for the callback of a 差评 case: kept beside the event
//! log, never in it (so never on the `ingest` stream to the city), and erased 30 days after
//! the case closes by the hub's daily erasure job, which knows from the log when each case
//! closed and passes the ids here.

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store};
use jiaohao_core::Millis;

impl Store {
    /// Keeps the callback phone of a case (replacing one given before).
    pub fn put_case_phone(&self, case: u64, phone: &str, saved_at: Millis) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO case_contacts (case_id, phone, saved_ms) VALUES (?1, ?2, ?3)",
            params![case as i64, phone, saved_at.0],
        )?;
        Ok(())
    }

    /// The callback phone of a case, if one was left and not erased yet.
    pub fn case_phone(&self, case: u64) -> Result<Option<String>> {
        let mut query = self
            .conn()
            .prepare_cached("SELECT phone FROM case_contacts WHERE case_id = ?1")?;
        Ok(query
            .query_row([case as i64], |row| row.get(0))
            .optional()?)
    }

    /// The ids of the cases that have a callback phone kept.
    pub fn cases_with_phone(&self) -> Result<Vec<u64>> {
        let mut query = self
            .conn()
            .prepare_cached("SELECT case_id FROM case_contacts ORDER BY case_id")?;
        let ids = query.query_map([], |row| row.get::<_, i64>(0))?;
        Ok(ids
            .map(|id| id.map(|id| id as u64))
            .collect::<Result<_, _>>()?)
    }

    /// Erases the callback phones of these cases; returns how many were erased.
    pub fn erase_case_phones(&self, cases: &[u64]) -> Result<usize> {
        let mut erase = self
            .conn()
            .prepare_cached("DELETE FROM case_contacts WHERE case_id = ?1")?;
        let mut erased = 0;
        for case in cases {
            erased += erase.execute([*case as i64])?;
        }
        Ok(erased)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_phones_read_back_and_are_erased() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hub.db")).unwrap();
        store.put_case_phone(41, "13800138000", Millis(1)).unwrap();
        store.put_case_phone(42, "13900139000", Millis(2)).unwrap();
        assert_eq!(
            store.case_phone(41).unwrap().as_deref(),
            Some("13800138000")
        );
        assert_eq!(store.cases_with_phone().unwrap(), vec![41, 42]);
        assert_eq!(store.erase_case_phones(&[41, 7]).unwrap(), 1);
        assert_eq!(store.case_phone(41).unwrap(), None);
        assert_eq!(
            store.case_phone(42).unwrap().as_deref(),
            Some("13900139000")
        );
    }
}
