//! Signing people in, as a piece any jiaohao service uses (the hub today, the city service
//! next) without copying it: argon2id passwords and the rules for names and passwords
//! ([`password`]), the lock after wrong passwords in a row ([`Lockout`]), unguessable
//! session and anti-forgery secrets compared in constant time ([`secret`]), and the session
//! cookie and same-origin check a browser's requests are judged by ([`web`]).
//!
//! What it leaves to each service is where users and sessions are kept (the hub's SQLite
//! store, the city's PostgreSQL) and how answers look: it takes and returns plain values, and
//! times are milliseconds since the epoch passed in by the caller.

pub mod password;
pub mod secret;
pub mod web;

pub use password::{check_password, decoy_hash, hash_password, parse_username, verify_password};

/// How long a session lasts: one working day, in milliseconds.
pub const SESSION_MS: i64 = 12 * 60 * 60 * 1000;

/// The rule for wrong passwords: `after` in a row lock the account for `lock_ms`, and the count
/// starts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub after: u32,
    pub lock_ms: i64,
}

/// What one more wrong password makes of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterFailure {
    /// Wrong passwords in a row now counted (0 once the account is locked).
    pub failed_logins: u32,
    /// Set when this failure locked the account: signing in is refused until then.
    pub locked_until: Option<i64>,
}

impl Lockout {
    /// Five wrong passwords in a row lock an account for a quarter of an hour.
    pub const STANDARD: Lockout = Lockout {
        after: 5,
        lock_ms: 15 * 60 * 1000,
    };

    /// One more wrong password at `now_ms` on an account with `failed_logins` before it.
    pub fn after_failure(&self, failed_logins: u32, now_ms: i64) -> AfterFailure {
        let failed = failed_logins.saturating_add(1);
        if failed >= self.after {
            AfterFailure {
                failed_logins: 0,
                locked_until: Some(now_ms.saturating_add(self.lock_ms)),
            }
        } else {
            AfterFailure {
                failed_logins: failed,
                locked_until: None,
            }
        }
    }

    /// Whether an account locked until `locked_until` (if at all) is locked at `now_ms`.
    pub fn is_locked(locked_until: Option<i64>, now_ms: i64) -> bool {
        locked_until.is_some_and(|until| until > now_ms)
    }

    /// How many more wrong passwords the account takes before it locks.
    pub fn tries_left(&self, failed_logins: u32) -> u32 {
        self.after.saturating_sub(failed_logins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_wrong_password_in_a_row_locks_for_a_quarter_of_an_hour() {
        let rule = Lockout::STANDARD;
        let mut failed = 0;
        for n in 1..5 {
            let after = rule.after_failure(failed, 1_000);
            assert_eq!(after.failed_logins, n);
            assert_eq!(after.locked_until, None);
            assert_eq!(rule.tries_left(after.failed_logins), 5 - n);
            failed = after.failed_logins;
        }
        let locked = rule.after_failure(failed, 1_000);
        assert_eq!(locked.failed_logins, 0, "the count starts again");
        assert_eq!(locked.locked_until, Some(1_000 + 15 * 60 * 1000));
        assert!(Lockout::is_locked(locked.locked_until, 1_000));
        assert!(!Lockout::is_locked(
            locked.locked_until,
            1_000 + 15 * 60 * 1000
        ));
        assert!(!Lockout::is_locked(None, 0));
    }
}
