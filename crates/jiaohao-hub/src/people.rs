//! People who sign in to the pages: passwords (argon2), the sign-in form and its lock after
//! five wrong passwords, sessions, `GET /api/me`, and the users API.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiaohao_core::{Millis, WindowNumber};
use jiaohao_signin::{Lockout, decoy_hash};
pub use jiaohao_signin::{check_password, hash_password, parse_username, verify_password};
use jiaohao_store::{Role, Store, StoreError, User};
use jiaohao_wire as wire;
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::http::api::Body;
use crate::http::auth::{Principal, SESSION_COOKIE, Via, cookie, same_origin};
use crate::http::error::ApiError;
use crate::http::pages::{self, LOGIN_COOKIE, Notice};
use crate::http::state::AppState;

/// The hall's rule for wrong passwords (`jiaohao-signin`: five in a row lock an account for a
/// quarter of an hour).
pub const LOCKOUT: Lockout = Lockout::STANDARD;
/// Wrong passwords in a row that lock an account.
pub const LOCK_AFTER: u32 = LOCKOUT.after;
/// How long a session lasts: one working day.
pub const SESSION_MS: i64 = jiaohao_signin::SESSION_MS;

/// The roles a person can have (device roles are for tokens).
pub const USER_ROLES: [Role; 3] = [Role::Admin, Role::Supervisor, Role::Clerk];

pub fn parse_user_role(text: &str) -> Result<Role, String> {
    Role::parse(text)
        .filter(|role| USER_ROLES.contains(role))
        .ok_or_else(|| {
            format!("'{text}' is not a role for a person: use admin, supervisor or clerk")
        })
}

/// Adds a user to the database at `db` (the `user add` command); returns its id.
/// Who the audit trail names for changes made with the `jiaohao-hub` command line.
pub const CLI_ACTOR: &str = "cli";

pub fn add_user(
    db: &std::path::Path,
    username: &str,
    role: Role,
    password: &str,
) -> anyhow::Result<i64> {
    let username = parse_username(username.trim()).map_err(anyhow::Error::msg)?;
    if !USER_ROLES.contains(&role) {
        anyhow::bail!("a person's role is admin, supervisor or clerk");
    }
    check_password(password).map_err(anyhow::Error::msg)?;
    let hash = hash_password(password).map_err(anyhow::Error::msg)?;
    let store = Store::open(db)?;
    let id = store.add_user(
        &username,
        role,
        &hash,
        crate::clock::millis(jiff::Timestamp::now()),
        CLI_ACTOR,
    )?;
    Ok(id)
}

fn user_info(user: &User, zone: &jiff::tz::TimeZone, now: Millis) -> wire::UserInfo {
    wire::UserInfo {
        id: user.id,
        username: user.username.clone(),
        role: user.role.as_str().to_owned(),
        created_at: rfc3339(user.created_at, zone),
        disabled: user.disabled,
        locked_until: user
            .locked_until
            .filter(|until| *until > now)
            .map(|until| rfc3339(until, zone)),
    }
}

fn storage(error: StoreError) -> ApiError {
    tracing::error!(%error, "user store failed");
    ApiError::unavailable()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    window: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    login_token: String,
}

/// Where to go after signing in: a page of this hub only, never another site.
fn safe_next(next: &str, role: Role) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.starts_with("/login")
        && next.len() <= 200;
    if local {
        next.to_owned()
    } else if role == Role::Clerk {
        "/counter".to_owned()
    } else {
        "/admin".to_owned()
    }
}

fn session_cookie(secret: &str, max_age_s: i64) -> HeaderValue {
    let value = jiaohao_signin::web::session_cookie(SESSION_COOKIE, secret, max_age_s);
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn clear_cookie(name: &str) -> HeaderValue {
    HeaderValue::from_str(&jiaohao_signin::web::clear_cookie(name))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /login`: the sign-in form. Wrong passwords are counted; the fifth in a row locks the
/// account for a quarter of an hour, and the form says so.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return pages::login_response(
            &state,
            StatusCode::BAD_REQUEST,
            Some(Notice::expired()),
            "",
            "",
        );
    };
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    // Pages are sent with `Referrer-Policy: no-referrer`, under which browsers post forms
    // with `Origin: null`; the form's own token (kept in a SameSite=Strict cookie too) is
    // what proves the post came from the form this hub sent.
    let null_origin = headers
        .get(header::ORIGIN)
        .is_some_and(|origin| origin.as_bytes() == b"null");
    let origin_ok = null_origin || same_origin(&headers);
    if !origin_ok || !crate::secret::same(&form.login_token, expected) {
        return pages::login_response(
            &state,
            StatusCode::FORBIDDEN,
            Some(Notice::expired()),
            &form.username,
            &form.next,
        );
    }
    match sign_in(&state, &form).await {
        Ok((secret, role)) => {
            let mut response = (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, safe_next(&form.next, role))],
            )
                .into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                session_cookie(&secret, SESSION_MS / 1000),
            );
            headers.append(header::SET_COOKIE, clear_cookie(LOGIN_COOKIE));
            response
        }
        Err((status, notice)) => {
            pages::login_response(&state, status, Some(notice), &form.username, &form.next)
        }
    }
}

/// Checks the form's name and password; returns a new session's cookie secret and the role.
async fn sign_in(
    state: &AppState,
    form: &LoginForm,
) -> Result<(String, Role), (StatusCode, Notice)> {
    let unavailable = || (StatusCode::SERVICE_UNAVAILABLE, Notice::unavailable());
    let username = form.username.trim().to_owned();
    let lookup = username.clone();
    let user = state
        .read(move |store| store.find_user(&lookup))
        .await
        .map_err(|_| unavailable())?
        .filter(|user| !user.disabled);
    let now = state.now();
    let zone = state.zone();
    if let Some(user) = &user
        && let Some(until) = user
            .locked_until
            .filter(|until| Lockout::is_locked(Some(until.0), now.0))
    {
        return Err((StatusCode::LOCKED, Notice::locked(&rfc3339(until, &zone))));
    }
    let password = form.password.clone();
    let hash = user
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let good = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user else {
        return Err((StatusCode::UNAUTHORIZED, Notice::wrong_password(None)));
    };
    if !good {
        let id = user.id;
        let after = state
            .writer
            .store(move |store, _| {
                store
                    .record_login_failure(id, now, &LOCKOUT)
                    .map_err(storage)
            })
            .await
            .map_err(|_| unavailable())?;
        let locked = after.as_ref().and_then(|u| u.locked_until);
        return Err(match locked.filter(|until| *until > now) {
            Some(until) => (StatusCode::LOCKED, Notice::locked(&rfc3339(until, &zone))),
            None => {
                let used = after.as_ref().map_or(1, |u| u.failed_logins);
                (
                    StatusCode::UNAUTHORIZED,
                    Notice::wrong_password(Some(LOCKOUT.tries_left(used))),
                )
            }
        });
    }
    let window = match form.window.trim() {
        "" => None,
        text => {
            let number = WindowNumber::parse(text)
                .ok()
                .filter(|n| window_exists(state, n.get()));
            match number {
                Some(number) => Some(number.get()),
                None => return Err((StatusCode::BAD_REQUEST, Notice::no_such_window(text))),
            }
        }
    };
    let window = window.filter(|_| matches!(user.role, Role::Clerk | Role::Admin));
    let secret = crate::secret::api_token();
    let csrf = crate::secret::csrf_token();
    let (id, cookie_secret, role) = (user.id, secret.clone(), user.role);
    state
        .writer
        .store(move |store, _| {
            store.clear_login_failures(id).map_err(storage)?;
            store
                .add_session(
                    &cookie_secret,
                    id,
                    window,
                    &csrf,
                    now,
                    Millis(now.0 + SESSION_MS),
                )
                .map_err(storage)
        })
        .await
        .map_err(|_| unavailable())?;
    tracing::info!(user = %user.username, role = role.as_str(), ?window, "signed in");
    Ok((secret, role))
}

fn window_exists(state: &AppState, number: u16) -> bool {
    state.hall_view().windows.iter().any(|w| w.number == number)
}

/// `POST /logout`: ends the session (a change: it needs the session's anti-forgery token).
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(session)) = state.find_session(secret).await
    {
        if let Err(error) = crate::http::auth::check_csrf(&headers, &session.csrf) {
            return error.into_response();
        }
        let id = session.id;
        let _ = state
            .writer
            .store(move |store, now| store.end_session(id, now.at).map_err(storage))
            .await;
        tracing::info!(user = %session.user.username, "signed out");
    }
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    response
}

fn me_of(who: &Principal, state: &AppState) -> wire::Me {
    let zone = state.zone();
    wire::Me {
        name: who.name.clone(),
        role: who.role.as_str().to_owned(),
        window: who.window,
        via: if who.is_session() { "session" } else { "token" }.to_owned(),
        csrf_token: match &who.via {
            Via::Session { csrf, .. } => Some(csrf.clone()),
            Via::Token { .. } => None,
        },
        expires_at: who.expires_at.map(|at| rfc3339(at, &zone)),
    }
}

/// `GET /api/me`: who is asking, and for a session its anti-forgery token.
pub async fn me(State(state): State<AppState>, who: Principal) -> Response {
    (StatusCode::OK, axum::Json(me_of(&who, &state))).into_response()
}

/// `PUT /api/me/window`: the window a signed-in clerk works at (or none).
pub async fn choose_window(
    State(state): State<AppState>,
    who: Principal,
    Body(body): Body<wire::ChooseWindow>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Clerk, Role::Admin])?;
    let Via::Session { id, .. } = who.via else {
        return Err(ApiError::bad_request(
            "a token's window is fixed when the token is made; only a signed-in person chooses a window",
        ));
    };
    if let Some(number) = body.window {
        let number = WindowNumber::new(u32::from(number))?;
        if !window_exists(&state, number.get()) {
            return Err(jiaohao_core::Error::UnknownWindow(number).into());
        }
    }
    let window = body.window;
    state
        .writer
        .store(move |store, _| store.set_session_window(id, window).map_err(storage))
        .await?;
    let mut who = who;
    who.window = window;
    tracing::info!(user = %who.name, ?window, "window chosen");
    Ok((StatusCode::OK, axum::Json(me_of(&who, &state))).into_response())
}

pub async fn list_users(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let users = state.read(|store| store.list_users()).await?;
    let (zone, now) = (state.zone(), state.now());
    let users: Vec<wire::UserInfo> = users.iter().map(|u| user_info(u, &zone, now)).collect();
    Ok((StatusCode::OK, axum::Json(users)).into_response())
}

pub async fn create_user(
    State(state): State<AppState>,
    who: Principal,
    Body(request): Body<wire::CreateUserRequest>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let username = parse_username(&request.username).map_err(ApiError::bad_request)?;
    let role = parse_user_role(&request.role).map_err(ApiError::bad_request)?;
    check_password(&request.password).map_err(ApiError::bad_request)?;
    let password = request.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::shutting_down())?
        .map_err(|message| {
            tracing::error!(%message, "hashing failed");
            ApiError::unavailable()
        })?;
    let actor = who.actor();
    let name = username.clone();
    let by = actor.clone();
    let user = state
        .writer
        .store(move |store, now| {
            let id = store
                .add_user(&name, role, &hash, now.at, &by)
                .map_err(|e| match e {
                    StoreError::Exists(what) => ApiError::new(
                        StatusCode::CONFLICT,
                        "user_exists",
                        format!("{what} exists already: choose another name"),
                    ),
                    other => storage(other),
                })?;
            store.user(id).map_err(storage)
        })
        .await?
        .ok_or_else(ApiError::unavailable)?;
    tracing::info!(user = %username, role = role.as_str(), %actor, "user created");
    let info = user_info(&user, &state.zone(), state.now());
    Ok((StatusCode::CREATED, axum::Json(info)).into_response())
}

/// `DELETE /api/users/{id}`: disables a user and ends their sessions; the name stays taken.
pub async fn disable_user(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let id = crate::http::api::row_id(&id, "user")?;
    if matches!(who.via, Via::Session { user_id, .. } if user_id == id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_account",
            "you cannot disable the account you are signed in with",
        ));
    }
    let actor = who.actor();
    let by = actor.clone();
    let disabled = state
        .writer
        .store(move |store, now| store.disable_user(id, now.at, &by).map_err(storage))
        .await?;
    if disabled {
        tracing::info!(id, %actor, "user disabled");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!(
            "there is no enabled user {id}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsE", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn names_roles_and_next_pages_are_checked() {
        assert_eq!(parse_username("zhang.san").unwrap(), "zhang.san");
        for bad in ["", " zhang", "Zhang", "张三", "-x", "a b", &"x".repeat(33)] {
            assert!(parse_username(bad).is_err(), "{bad:?}");
        }
        assert!(parse_user_role("kiosk").is_err());
        assert_eq!(parse_user_role("supervisor"), Ok(Role::Supervisor));
        assert_eq!(safe_next("/admin#reports", Role::Admin), "/admin#reports");
        assert_eq!(safe_next("//evil.example/", Role::Clerk), "/counter");
        assert_eq!(safe_next("https://evil.example/", Role::Admin), "/admin");
        assert_eq!(safe_next("", Role::Clerk), "/counter");
    }
}
