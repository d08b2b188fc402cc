//! API and device tokens: who may do what. Only a SHA-256 hash of each token is stored, so a
//! copy of the database does not hand out working tokens.

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::{Result, Store};
use jiaohao_core::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Edits the hall and may act for every window.
    Admin,
    /// Watches the hall (值班长): reads everything, edits the public notices only.
    Supervisor,
    /// Works a window: its own (when the token names one) or any.
    Clerk,
    /// Issues tickets.
    Kiosk,
    /// Reads the hall for a wall or window display.
    Display,
    /// A standby hub: reads the whole replication stream, the rows beside the log included
    /// (users, password hashes, sessions, token hashes), to take over from this hub.
    Replica,
    /// The city's service: reads the event log only, with tickets' secrets stripped; never
    /// users, sessions or tokens.
    Ingest,
    /// A window's rating pad (评价器), paired by the admin's one-time code: rates the ticket
    /// just finished at its window, nothing else.
    RatingPad,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "supervisor" => Some(Role::Supervisor),
            "clerk" => Some(Role::Clerk),
            "kiosk" => Some(Role::Kiosk),
            "display" => Some(Role::Display),
            "replica" => Some(Role::Replica),
            "ingest" => Some(Role::Ingest),
            "rating_pad" => Some(Role::RatingPad),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Clerk => "clerk",
            Role::Kiosk => "kiosk",
            Role::Display => "display",
            Role::Replica => "replica",
            Role::Ingest => "ingest",
            Role::RatingPad => "rating_pad",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub role: Role,
    /// For a clerk: the one window it may act for; `None` for all. For a rating pad: its
    /// window.
    pub window: Option<u16>,
    pub name: String,
    pub created_at: Millis,
    pub revoked: bool,
}

pub(crate) fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

impl Store {
    /// Records a token; the caller made the secret (≥128 random bits) and shows it once.
    pub fn add_token(
        &self,
        secret: &str,
        role: Role,
        window: Option<u16>,
        name: &str,
        at: Millis,
        actor: &str,
    ) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO api_tokens (token_hash, role, window, name, created_ms, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash(secret), role.as_str(), window, name, at.0, actor],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// The live (not revoked) token with this secret.
    pub fn find_token(&self, secret: &str) -> Result<Option<ApiToken>> {
        let found = self
            .conn()
            .prepare_cached(
                "SELECT id, role, window, name, created_ms, revoked_ms FROM api_tokens WHERE token_hash = ?1",
            )?
            .query_row([hash(secret)], row_to_token)
            .optional()?;
        Ok(found.flatten().filter(|token| !token.revoked))
    }

    pub fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        let mut query = self.conn().prepare(
            "SELECT id, role, window, name, created_ms, revoked_ms FROM api_tokens ORDER BY id",
        )?;
        let rows = query.query_map([], row_to_token)?;
        let tokens: Vec<Option<ApiToken>> = rows.collect::<Result<_, _>>()?;
        Ok(tokens.into_iter().flatten().collect())
    }

    /// Revokes a token; returns whether a live token was revoked.
    pub fn revoke_token(&self, id: i64, at: Millis, actor: &str) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE api_tokens SET revoked_ms = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_ms IS NULL",
            params![id, at.0, actor],
        )?;
        Ok(changed > 0)
    }
}

/// A row with a role this version does not know reads as `None` and grants nothing.
fn row_to_token(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<ApiToken>> {
    let role: String = row.get(1)?;
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    Ok(Some(ApiToken {
        id: row.get(0)?,
        role,
        window: row.get(2)?,
        name: row.get(3)?,
        created_at: Millis(row.get(4)?),
        revoked: row.get::<_, Option<i64>>(5)?.is_some(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_by_secret_until_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hall.db")).unwrap();
        let id = store
            .add_token(
                "s3cret-s3cret-s3cret",
                Role::Clerk,
                Some(3),
                "window 3",
                Millis(5),
                "test",
            )
            .unwrap();
        let found = store.find_token("s3cret-s3cret-s3cret").unwrap().unwrap();
        assert_eq!((found.role, found.window), (Role::Clerk, Some(3)));
        assert!(store.find_token("other").unwrap().is_none());
        assert!(store.revoke_token(id, Millis(9), "test").unwrap());
        assert!(!store.revoke_token(id, Millis(9), "test").unwrap());
        assert!(store.find_token("s3cret-s3cret-s3cret").unwrap().is_none());
        assert!(store.list_tokens().unwrap()[0].revoked);
    }
}
