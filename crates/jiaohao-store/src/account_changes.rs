//! Changes to the people and devices that may use the hub — users created and disabled, tokens
//! created and revoked — with who made them and when, for the audit trail. They are not hall
//! events (the hall's state does not depend on them); they are read from the `users` and
//! `api_tokens` rows themselves, so there is no second record to drift.

use rusqlite::params;

use crate::{Result, Store};
use jiaohao_core::Millis;

/// One change to a user or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountChange {
    pub at: Millis,
    /// Who made it, as events name actors (`admin:li`, `cli`); empty for rows written before
    /// the hub recorded it.
    pub actor: String,
    /// `user_created`, `user_disabled`, `token_created` or `token_revoked`.
    pub kind: &'static str,
    /// What was changed: `user zhang (clerk)`, `token 3 "kiosk 1" (kiosk)`.
    pub subject: String,
}

const KINDS: [&str; 4] = [
    "user_created",
    "user_disabled",
    "token_created",
    "token_revoked",
];

impl Store {
    /// Every change made in `[start, end)`, oldest first.
    pub fn account_changes_between(
        &self,
        start: Millis,
        end: Millis,
    ) -> Result<Vec<AccountChange>> {
        let mut query = self.conn().prepare_cached(
            "SELECT at, actor, kind, subject FROM (
                SELECT created_ms AS at, created_by AS actor, 0 AS kind,
                       'user ' || username || ' (' || role || ')' AS subject, id FROM users
                UNION ALL
                SELECT disabled_ms, disabled_by, 1,
                       'user ' || username || ' (' || role || ')', id FROM users
                    WHERE disabled_ms IS NOT NULL
                UNION ALL
                SELECT created_ms, created_by, 2,
                       'token ' || id || ' \"' || name || '\" (' || role || ')', id FROM api_tokens
                UNION ALL
                SELECT revoked_ms, revoked_by, 3,
                       'token ' || id || ' \"' || name || '\" (' || role || ')', id FROM api_tokens
                    WHERE revoked_ms IS NOT NULL
            ) WHERE at >= ?1 AND at < ?2 ORDER BY at, kind, id",
        )?;
        let rows = query.query_map(params![start.0, end.0], |row| {
            let kind: i64 = row.get(2)?;
            Ok(AccountChange {
                at: Millis(row.get(0)?),
                actor: row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                kind: KINDS[kind.clamp(0, 3) as usize],
                subject: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    #[test]
    fn changes_come_from_the_rows_with_who_and_when() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hall.db")).unwrap();
        let user = store
            .add_user(
                "zhang",
                Role::Clerk,
                "$argon2id$fake",
                Millis(10),
                "admin:li",
            )
            .unwrap();
        let token = store
            .add_token(
                "s3cret-s3cret-s3cret",
                Role::Kiosk,
                None,
                "kiosk 1",
                Millis(20),
                "cli",
            )
            .unwrap();
        assert!(store.revoke_token(token, Millis(30), "admin:li").unwrap());
        assert!(store.disable_user(user, Millis(40), "admin:wu").unwrap());
        let changes = store
            .account_changes_between(Millis(0), Millis(100))
            .unwrap();
        let seen: Vec<(i64, &str, &str, &str)> = changes
            .iter()
            .map(|c| (c.at.0, c.actor.as_str(), c.kind, c.subject.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (10, "admin:li", "user_created", "user zhang (clerk)"),
                (20, "cli", "token_created", "token 1 \"kiosk 1\" (kiosk)"),
                (
                    30,
                    "admin:li",
                    "token_revoked",
                    "token 1 \"kiosk 1\" (kiosk)"
                ),
                (40, "admin:wu", "user_disabled", "user zhang (clerk)"),
            ]
        );
        // The range is half-open and filters each kind by its own time.
        let middle = store
            .account_changes_between(Millis(20), Millis(40))
            .unwrap();
        assert_eq!(
            middle.iter().map(|c| c.kind).collect::<Vec<_>>(),
            ["token_created", "token_revoked"]
        );
    }
}
