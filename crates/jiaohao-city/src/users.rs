//! City users (city admin, viewer) and their sessions, in PostgreSQL, signed in with the
//! project's shared sign-in rules (`jiaohao-signin`: argon2id, name and password rules,
//! lockout, session and CSRF secrets). A session row holds the SHA-256 of its secret, never
//! the secret.

use jiaohao_signin::{Lockout, SESSION_MS};
use sha2::{Digest, Sha256};
use tokio_postgres::GenericClient;

use crate::CityError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CityRole {
    /// Registers halls and users, sees everything.
    Admin,
    /// Sees the board, the halls and the reports.
    Viewer,
}

impl CityRole {
    pub fn as_str(self) -> &'static str {
        match self {
            CityRole::Admin => "city_admin",
            CityRole::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<CityRole> {
        match text {
            "city_admin" | "admin" => Some(CityRole::Admin),
            "viewer" => Some(CityRole::Viewer),
            _ => None,
        }
    }
}

/// Who a session belongs to.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub name: String,
    pub role: CityRole,
    pub csrf: String,
}

fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Adds a user (or sets the password and role of one that exists).
pub async fn add(
    client: &impl GenericClient,
    name: &str,
    role: CityRole,
    password: &str,
) -> Result<(), CityError> {
    let name = jiaohao_signin::parse_username(name).map_err(CityError::Invalid)?;
    jiaohao_signin::check_password(password).map_err(CityError::Invalid)?;
    let hash = jiaohao_signin::hash_password(password).map_err(CityError::Invalid)?;
    client
        .execute(
            "INSERT INTO users (name, role, password_hash) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role,
               password_hash = excluded.password_hash, failed_logins = 0, locked_until = NULL",
            &[&name, &role.as_str(), &hash],
        )
        .await?;
    Ok(())
}

/// Why a sign-in failed, in words for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    WrongPassword,
    Locked,
    /// The password was right, but a city admin disabled the user.
    Disabled,
}

/// Checks a user's password against its hash under the shared lockout: refused while locked;
/// a wrong one counts as a failed sign-in (and may lock the user). The row's `failed` and
/// `locked_until` are as read with the hash.
async fn check_password(
    client: &impl GenericClient,
    name: &str,
    password: &str,
    hash: &str,
    failed: i32,
    locked_until: Option<i64>,
    now: i64,
) -> Result<Result<(), Refused>, CityError> {
    if Lockout::is_locked(locked_until, now) {
        return Ok(Err(Refused::Locked));
    }
    if jiaohao_signin::verify_password(password, hash) {
        return Ok(Ok(()));
    }
    let after = Lockout::STANDARD.after_failure(failed.max(0) as u32, now);
    client
        .execute(
            "UPDATE users SET failed_logins = $2, locked_until = $3 WHERE name = $1",
            &[&name, &(after.failed_logins as i32), &after.locked_until],
        )
        .await?;
    Ok(Err(if after.locked_until.is_some() {
        Refused::Locked
    } else {
        Refused::WrongPassword
    }))
}

/// Signs a user in: the new session's secret and CSRF token.
pub async fn sign_in(
    client: &impl GenericClient,
    name: &str,
    password: &str,
) -> Result<Result<(String, SignedIn), Refused>, CityError> {
    let now = now_ms();
    let row = client
        .query_opt(
            "SELECT name, role, password_hash, failed_logins, locked_until, disabled FROM users WHERE name = $1",
            &[&name.trim()],
        )
        .await?;
    let Some(row) = row else {
        // Spend the same time as for a real user.
        let _ = jiaohao_signin::verify_password(password, jiaohao_signin::decoy_hash());
        return Ok(Err(Refused::WrongPassword));
    };
    let name: String = row.get(0);
    let role = CityRole::parse(row.get(1)).unwrap_or(CityRole::Viewer);
    let hash: String = row.get(2);
    let failed: i32 = row.get(3);
    let locked_until: Option<i64> = row.get(4);
    let disabled: bool = row.get(5);
    if let Err(refused) =
        check_password(client, &name, password, &hash, failed, locked_until, now).await?
    {
        return Ok(Err(refused));
    }
    // Said only after the right password, so a guesser learns nothing about the name.
    if disabled {
        return Ok(Err(Refused::Disabled));
    }
    let secret = jiaohao_signin::secret::session_secret();
    let csrf = jiaohao_signin::secret::csrf_token();
    client
        .execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE name = $1",
            &[&name],
        )
        .await?;
    client
        .execute("DELETE FROM sessions WHERE expires_ms < $1", &[&now])
        .await?;
    client
        .execute(
            "INSERT INTO sessions (secret, name, csrf, expires_ms) VALUES ($1, $2, $3, $4)",
            &[&digest(&secret), &name, &csrf, &(now + SESSION_MS)],
        )
        .await?;
    Ok(Ok((secret, SignedIn { name, role, csrf })))
}

/// The user of a session secret, if it is valid.
pub async fn session(
    client: &impl GenericClient,
    secret: &str,
) -> Result<Option<SignedIn>, CityError> {
    let row = client
        .query_opt(
            "SELECT u.name, u.role, s.csrf FROM sessions s JOIN users u ON u.name = s.name
             WHERE s.secret = $1 AND s.expires_ms > $2 AND NOT u.disabled",
            &[&digest(secret), &now_ms()],
        )
        .await?;
    Ok(row.map(|r| SignedIn {
        name: r.get(0),
        role: CityRole::parse(r.get(1)).unwrap_or(CityRole::Viewer),
        csrf: r.get(2),
    }))
}

pub async fn sign_out(client: &impl GenericClient, secret: &str) -> Result<(), CityError> {
    client
        .execute("DELETE FROM sessions WHERE secret = $1", &[&digest(secret)])
        .await?;
    Ok(())
}

/// A city user as the users page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    pub name: String,
    pub role: CityRole,
    pub disabled: bool,
}

pub async fn list(client: &impl GenericClient) -> Result<Vec<UserEntry>, CityError> {
    let rows = client
        .query("SELECT name, role, disabled FROM users ORDER BY name", &[])
        .await?;
    Ok(rows
        .iter()
        .map(|r| UserEntry {
            name: r.get(0),
            role: CityRole::parse(r.get(1)).unwrap_or(CityRole::Viewer),
            disabled: r.get(2),
        })
        .collect())
}

/// Adds a new user; a name already taken is refused (the CLI's `user add` is the way to reset
/// a password).
pub async fn create(
    client: &impl GenericClient,
    name: &str,
    role: CityRole,
    password: &str,
) -> Result<(), CityError> {
    let name = jiaohao_signin::parse_username(name).map_err(CityError::Invalid)?;
    let taken = client
        .query_opt("SELECT 1 FROM users WHERE name = $1", &[&name])
        .await?;
    if taken.is_some() {
        return Err(CityError::Invalid(format!(
            "用户名 {name} 已存在 / the user name {name} is taken"
        )));
    }
    add(client, &name, role, password).await
}

/// Disables a user (their sessions end at once) or enables them again. `false` if there is
/// no such user.
pub async fn set_disabled(
    client: &impl GenericClient,
    name: &str,
    disabled: bool,
) -> Result<bool, CityError> {
    let changed = client
        .execute(
            "UPDATE users SET disabled = $2 WHERE name = $1",
            &[&name, &disabled],
        )
        .await?;
    if disabled {
        client
            .execute("DELETE FROM sessions WHERE name = $1", &[&name])
            .await?;
    }
    Ok(changed == 1)
}

/// Changes a user's own password: the current one must be right (a wrong one counts as a
/// failed sign-in, with the same lockout), the new one follows the shared rules. The user's
/// other sessions end; the one with `keep` (the session secret in use) stays.
pub async fn change_password(
    client: &impl GenericClient,
    name: &str,
    current: &str,
    new: &str,
    keep: &str,
) -> Result<Result<(), Refused>, CityError> {
    let now = now_ms();
    let Some(row) = client
        .query_opt(
            "SELECT password_hash, failed_logins, locked_until FROM users WHERE name = $1",
            &[&name],
        )
        .await?
    else {
        return Ok(Err(Refused::WrongPassword));
    };
    let hash: String = row.get(0);
    let failed: i32 = row.get(1);
    let locked_until: Option<i64> = row.get(2);
    if let Err(refused) =
        check_password(client, name, current, &hash, failed, locked_until, now).await?
    {
        return Ok(Err(refused));
    }
    jiaohao_signin::check_password(new).map_err(CityError::Invalid)?;
    let hash = jiaohao_signin::hash_password(new).map_err(CityError::Invalid)?;
    client
        .execute(
            "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE name = $1",
            &[&name, &hash],
        )
        .await?;
    client
        .execute(
            "DELETE FROM sessions WHERE name = $1 AND secret <> $2",
            &[&name, &digest(keep)],
        )
        .await?;
    Ok(Ok(()))
}

/// A city admin sets another user's password (the user forgot it): the new one follows the
/// shared rules, a lockout is lifted, and the user's sessions end. `false` if there is no
/// such user.
pub async fn reset_password(
    client: &impl GenericClient,
    name: &str,
    new: &str,
) -> Result<bool, CityError> {
    jiaohao_signin::check_password(new).map_err(CityError::Invalid)?;
    let hash = jiaohao_signin::hash_password(new).map_err(CityError::Invalid)?;
    let changed = client
        .execute(
            "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE name = $1",
            &[&name, &hash],
        )
        .await?;
    client
        .execute("DELETE FROM sessions WHERE name = $1", &[&name])
        .await?;
    Ok(changed == 1)
}
