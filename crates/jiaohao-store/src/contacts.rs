//! The names and phone numbers of bookings (预约): kept beside the event log, never in it, so
//! that they can be erased when the booking's life plus 30 days is over (the log keeps only a
//! keyed hash of the person and the masked ID number). With them, the SHA-256 of the booking's
//! SMS code and of its cancel token: the clear values only ever reach the citizen.

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store};
use jiaohao_core::Millis;

/// A booking's contact row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingContact {
    pub code: String,
    /// `None` once erased.
    pub name: Option<String>,
    pub phone: Option<String>,
    pub sms_code_sha256: String,
    pub cancel_sha256: String,
    pub sms_sent_at: Millis,
    /// When the daily job erases the name and phone.
    pub erase_after: Millis,
}

impl Store {
    /// Keeps a new booking's contact (replacing one of the same code).
    pub fn put_booking_contact(&self, contact: &BookingContact) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO booking_contacts
                (code, name, phone, sms_code_sha256, cancel_sha256, sms_sent_ms, erase_after_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                contact.code,
                contact.name,
                contact.phone,
                contact.sms_code_sha256,
                contact.cancel_sha256,
                contact.sms_sent_at.0,
                contact.erase_after.0
            ],
        )?;
        Ok(())
    }

    pub fn booking_contact(&self, code: &str) -> Result<Option<BookingContact>> {
        let mut query = self.conn().prepare_cached(
            "SELECT code, name, phone, sms_code_sha256, cancel_sha256, sms_sent_ms, erase_after_ms
             FROM booking_contacts WHERE code = ?1",
        )?;
        Ok(query
            .query_row([code], |row| {
                Ok(BookingContact {
                    code: row.get(0)?,
                    name: row.get(1)?,
                    phone: row.get(2)?,
                    sms_code_sha256: row.get(3)?,
                    cancel_sha256: row.get(4)?,
                    sms_sent_at: Millis(row.get(5)?),
                    erase_after: Millis(row.get(6)?),
                })
            })
            .optional()?)
    }

    /// The booking an `Idempotency-Key` made, with the HMAC of its request, if it was made
    /// since `since`.
    pub fn booking_by_idempotency_key(
        &self,
        key: &str,
        since: Millis,
    ) -> Result<Option<(String, String)>> {
        let mut query = self.conn().prepare_cached(
            "SELECT request_hmac, code FROM booking_idempotency WHERE key = ?1 AND made_ms >= ?2",
        )?;
        Ok(query
            .query_row(params![key, since.0], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?)
    }

    /// Keeps the booking an `Idempotency-Key` made (replacing an expired one of the same
    /// key) and forgets the keys made before `expired`.
    pub fn put_booking_idempotency_key(
        &self,
        key: &str,
        request_hmac: &str,
        code: &str,
        made: Millis,
        expired: Millis,
    ) -> Result<()> {
        self.conn().execute(
            "DELETE FROM booking_idempotency WHERE made_ms < ?1",
            [expired.0],
        )?;
        self.conn().execute(
            "INSERT OR REPLACE INTO booking_idempotency (key, request_hmac, code, made_ms)
             VALUES (?1, ?2, ?3, ?4)",
            params![key, request_hmac, code, made.0],
        )?;
        Ok(())
    }

    /// Erases the names and phone numbers due by `now`; returns how many were erased.
    pub fn erase_booking_contacts(&self, now: Millis) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE booking_contacts SET name = NULL, phone = NULL
             WHERE erase_after_ms <= ?1 AND (name IS NOT NULL OR phone IS NOT NULL)",
            [now.0],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_read_back_until_they_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hub.db")).unwrap();
        store
            .put_booking_idempotency_key("k1", "mac", "ABCD2345", Millis(1_000), Millis(0))
            .unwrap();
        assert_eq!(
            store.booking_by_idempotency_key("k1", Millis(500)).unwrap(),
            Some(("mac".to_owned(), "ABCD2345".to_owned()))
        );
        assert_eq!(
            store
                .booking_by_idempotency_key("k1", Millis(1_001))
                .unwrap(),
            None
        );
        assert_eq!(
            store.booking_by_idempotency_key("k2", Millis(0)).unwrap(),
            None
        );
        store
            .put_booking_idempotency_key("k2", "mac", "ABCD2346", Millis(9_000), Millis(2_000))
            .unwrap();
        assert_eq!(
            store.booking_by_idempotency_key("k1", Millis(0)).unwrap(),
            None
        );
    }

    #[test]
    fn contacts_read_back_and_are_erased_when_due() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hub.db")).unwrap();
        let contact = BookingContact {
            code: "ABCD2345".into(),
            name: Some("张三".into()),
            phone: Some("13800138000".into()),
            sms_code_sha256: "a".repeat(64),
            cancel_sha256: "b".repeat(64),
            sms_sent_at: Millis(1_000),
            erase_after: Millis(5_000),
        };
        store.put_booking_contact(&contact).unwrap();
        assert_eq!(
            store.booking_contact("ABCD2345").unwrap(),
            Some(contact.clone())
        );
        assert_eq!(store.erase_booking_contacts(Millis(4_999)).unwrap(), 0);
        assert_eq!(store.erase_booking_contacts(Millis(5_000)).unwrap(), 1);
        let erased = store.booking_contact("ABCD2345").unwrap().unwrap();
        assert_eq!((erased.name, erased.phone), (None, None));
        assert_eq!(erased.sms_code_sha256, contact.sms_code_sha256);
        assert_eq!(store.erase_booking_contacts(Millis(9_000)).unwrap(), 0);
    }
}
