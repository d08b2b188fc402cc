//! People who sign in to the hall's pages (admins, supervisors, clerks) and their sessions.
//! Passwords are stored only as argon2 hashes made by the caller; session cookies, like API
//! tokens, only as SHA-256 hashes, so a copy of the database hands out no working session.

use rusqlite::{OptionalExtension, params};

use crate::tokens::{Role, hash};
use crate::{Result, Store, StoreError};
use jiaohao_core::Millis;
use jiaohao_signin::Lockout;

/// A person who signs in to the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The argon2 hash in PHC string form.
    pub password_hash: String,
    pub created_at: Millis,
    pub disabled: bool,
    /// Wrong passwords in a row since the last good one or the last lock.
    pub failed_logins: u32,
    /// Signing in is refused until then.
    pub locked_until: Option<Millis>,
}

/// A signed-in browser: who, at which window, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub user: User,
    /// For a clerk: the window they sign in at; `None` until chosen.
    pub window: Option<u16>,
    /// The anti-forgery token the session's pages send with every change.
    pub csrf: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

const USER_COLUMNS: &str = "u.id, u.username, u.role, u.password_hash, u.created_ms, u.disabled_ms, u.failed_logins, u.locked_until_ms";

/// A row with a role this version does not know reads as `None` and grants nothing.
fn row_to_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<User>> {
    let role: String = row.get(2)?;
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    Ok(Some(User {
        id: row.get(0)?,
        username: row.get(1)?,
        role,
        password_hash: row.get(3)?,
        created_at: Millis(row.get(4)?),
        disabled: row.get::<_, Option<i64>>(5)?.is_some(),
        failed_logins: row.get::<_, i64>(6)?.clamp(0, i64::from(u32::MAX)) as u32,
        locked_until: row.get::<_, Option<i64>>(7)?.map(Millis),
    }))
}

impl Store {
    /// Adds a user; refuses a name that exists already (even a disabled one: names in the event
    /// log must keep meaning one person).
    pub fn add_user(
        &self,
        username: &str,
        role: Role,
        password_hash: &str,
        at: Millis,
        actor: &str,
    ) -> Result<i64> {
        let inserted = self.conn().execute(
            "INSERT INTO users (username, role, password_hash, created_ms, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![username, role.as_str(), password_hash, at.0, actor],
        );
        match inserted {
            Ok(_) => Ok(self.conn().last_insert_rowid()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::Exists(format!("a user named '{username}'")))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn find_user(&self, username: &str) -> Result<Option<User>> {
        let found = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.username = ?1"
            ))?
            .query_row([username], row_to_user)
            .optional()?;
        Ok(found.flatten())
    }

    pub fn user(&self, id: i64) -> Result<Option<User>> {
        let found = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"
            ))?
            .query_row([id], row_to_user)
            .optional()?;
        Ok(found.flatten())
    }

    pub fn list_users(&self) -> Result<Vec<User>> {
        let mut query = self
            .conn()
            .prepare(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.id"))?;
        let rows = query.query_map([], row_to_user)?;
        let users: Vec<Option<User>> = rows.collect::<Result<_, _>>()?;
        Ok(users.into_iter().flatten().collect())
    }

    /// Counts a wrong password by the `lockout` rule (which locks the account after so many in
    /// a row and starts the count again). Returns the user as it now is.
    pub fn record_login_failure(
        &self,
        id: i64,
        at: Millis,
        lockout: &Lockout,
    ) -> Result<Option<User>> {
        let Some(user) = self.user(id)? else {
            return Ok(None);
        };
        let after = lockout.after_failure(user.failed_logins, at.0);
        match after.locked_until {
            Some(until) => self.conn().execute(
                "UPDATE users SET failed_logins = ?2, locked_until_ms = ?3 WHERE id = ?1",
                params![id, after.failed_logins, until],
            )?,
            None => self.conn().execute(
                "UPDATE users SET failed_logins = ?2 WHERE id = ?1",
                params![id, after.failed_logins],
            )?,
        };
        self.user(id)
    }

    /// After a good password: the count of wrong ones starts again.
    pub fn clear_login_failures(&self, id: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE users SET failed_logins = 0, locked_until_ms = NULL WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    /// Disables a user and ends their sessions; returns whether an enabled user was disabled.
    pub fn disable_user(&self, id: i64, at: Millis, actor: &str) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE users SET disabled_ms = ?2, disabled_by = ?3 WHERE id = ?1 AND disabled_ms IS NULL",
            params![id, at.0, actor],
        )?;
        self.conn().execute(
            "UPDATE sessions SET ended_ms = ?2 WHERE user_id = ?1 AND ended_ms IS NULL",
            params![id, at.0],
        )?;
        Ok(changed > 0)
    }

    /// Starts a session; the caller made the secret (≥128 random bits) for the cookie.
    pub fn add_session(
        &self,
        secret: &str,
        user_id: i64,
        window: Option<u16>,
        csrf: &str,
        at: Millis,
        expires_at: Millis,
    ) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO sessions (token_hash, user_id, window, csrf, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash(secret), user_id, window, csrf, at.0, expires_at.0],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// The live session with this cookie secret at `now`: not ended, not expired, its user
    /// not disabled.
    pub fn find_session(&self, secret: &str, now: Millis) -> Result<Option<Session>> {
        let found = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS}, s.id, s.window, s.csrf, s.created_ms, s.expires_ms
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.ended_ms IS NULL AND s.expires_ms > ?2
                   AND u.disabled_ms IS NULL"
            ))?
            .query_row(params![hash(secret), now.0], |row| {
                let Some(user) = row_to_user(row)? else {
                    return Ok(None);
                };
                Ok(Some(Session {
                    user,
                    id: row.get(8)?,
                    window: row.get(9)?,
                    csrf: row.get(10)?,
                    created_at: Millis(row.get(11)?),
                    expires_at: Millis(row.get(12)?),
                }))
            })
            .optional()?;
        Ok(found.flatten())
    }

    pub fn end_session(&self, id: i64, at: Millis) -> Result<()> {
        self.conn().execute(
            "UPDATE sessions SET ended_ms = ?2 WHERE id = ?1 AND ended_ms IS NULL",
            params![id, at.0],
        )?;
        Ok(())
    }

    pub fn set_session_window(&self, id: i64, window: Option<u16>) -> Result<()> {
        self.conn().execute(
            "UPDATE sessions SET window = ?2 WHERE id = ?1",
            params![id, window],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_sign_in_and_lock_after_wrong_passwords() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hall.db")).unwrap();
        let id = store
            .add_user("zhang", Role::Clerk, "$argon2id$fake", Millis(1), "test")
            .unwrap();
        assert!(matches!(
            store.add_user("zhang", Role::Admin, "x", Millis(2), "test"),
            Err(StoreError::Exists(_))
        ));
        for n in 1..5 {
            let user = store
                .record_login_failure(
                    id,
                    Millis(10),
                    &Lockout {
                        after: 5,
                        lock_ms: 1000,
                    },
                )
                .unwrap()
                .unwrap();
            assert_eq!((user.failed_logins, user.locked_until), (n, None));
        }
        let locked = store
            .record_login_failure(
                id,
                Millis(10),
                &Lockout {
                    after: 5,
                    lock_ms: 1000,
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(locked.locked_until, Some(Millis(1010)));
        store.clear_login_failures(id).unwrap();
        assert_eq!(
            store.find_user("zhang").unwrap().unwrap().locked_until,
            None
        );

        store
            .add_session(
                "cookie-secret-0123456789",
                id,
                Some(3),
                "csrf",
                Millis(5),
                Millis(100),
            )
            .unwrap();
        let session = store
            .find_session("cookie-secret-0123456789", Millis(50))
            .unwrap()
            .unwrap();
        assert_eq!(
            (session.user.username.as_str(), session.window),
            ("zhang", Some(3))
        );
        assert!(
            store
                .find_session("cookie-secret-0123456789", Millis(100))
                .unwrap()
                .is_none()
        );
        store.set_session_window(session.id, Some(4)).unwrap();
        assert_eq!(
            store
                .find_session("cookie-secret-0123456789", Millis(60))
                .unwrap()
                .unwrap()
                .window,
            Some(4)
        );
        assert!(store.disable_user(id, Millis(70), "test").unwrap());
        assert!(
            store
                .find_session("cookie-secret-0123456789", Millis(60))
                .unwrap()
                .is_none()
        );
        assert!(store.list_users().unwrap()[0].disabled);
    }
}
