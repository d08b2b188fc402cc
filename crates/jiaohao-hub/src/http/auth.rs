//! Who is asking: a device's bearer token, or a person's session cookie, each looked up (by
//! its hash) in the database, and what its role allows.
//!
//! A request is authenticated by `Authorization: Bearer <token>` or, when it has none, by the
//! `jiaohao_session` cookie of a signed-in browser. A change made with a cookie must also come
//! from the hub's own pages: its `Origin` (when sent) must be the hub itself, and it must carry
//! the session's anti-forgery token in `X-CSRF-Token`. The cookie is `SameSite=Strict` too, so
//! another site can neither send it nor read the token. A paired rating pad (`pads.rs`) has
//! no session: its device token is in the `jiaohao_pad` cookie (`SameSite=Strict`, and its
//! changes must come from the hub's own page by `Origin`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use jiaohao_core::WindowNumber;
use jiaohao_store::{ApiToken, Role, Session};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "jiaohao_session";
/// The header a page sends its session's anti-forgery token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the asker proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Token { id: i64 },
    Session { id: i64, user_id: i64, csrf: String },
}

/// The holder of a valid token or session.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    /// A clerk token's window, or the window a person signed in at.
    pub window: Option<u16>,
    /// The token's name or the user name.
    pub name: String,
    pub via: Via,
    /// When a session ends (`None` for tokens).
    pub expires_at: Option<jiaohao_core::Millis>,
}

impl Principal {
    pub fn from_token(token: ApiToken) -> Principal {
        Principal {
            role: token.role,
            window: token.window,
            name: token.name,
            via: Via::Token { id: token.id },
            expires_at: None,
        }
    }

    pub fn from_session(session: Session) -> Principal {
        Principal {
            role: session.user.role,
            window: session.window,
            name: session.user.username,
            via: Via::Session {
                id: session.id,
                user_id: session.user.id,
                csrf: session.csrf,
            },
            expires_at: Some(session.expires_at),
        }
    }

    /// How the event log names who did something: `clerk:窗口3#4` for a token (its name and
    /// id), `clerk:zhang@3` for a person signed in at window 3, `admin:li` for one at none.
    pub fn actor(&self) -> String {
        match (&self.via, self.window) {
            (Via::Token { id }, _) => format!("{}:{}#{id}", self.role.as_str(), self.name),
            (Via::Session { .. }, Some(window)) => {
                format!("{}:{}@{window}", self.role.as_str(), self.name)
            }
            (Via::Session { .. }, None) => format!("{}:{}", self.role.as_str(), self.name),
        }
    }

    pub fn is_session(&self) -> bool {
        matches!(self.via, Via::Session { .. })
    }

    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "a {} may not do this; it needs the role {}",
                self.role.as_str(),
                names.join(" or ")
            )))
        }
    }

    /// Admins act for every window; a clerk for their own: the window of a clerk token (or
    /// every window if the token names none), or the window a clerk signed in at.
    pub fn require_window(&self, window: WindowNumber) -> Result<(), ApiError> {
        match (self.role, self.window) {
            (Role::Admin, _) => Ok(()),
            (Role::Clerk, None) if !self.is_session() => Ok(()),
            (Role::Clerk, None) => Err(ApiError::forbidden(
                "choose the window you work at first (on the counter page)",
            )),
            (Role::Clerk, Some(own)) if own == window.get() => Ok(()),
            (Role::Clerk, Some(own)) => Err(ApiError::forbidden(format!(
                "you work at window {own}, not window {window}"
            ))),
            _ => self.require(&[Role::Admin, Role::Clerk]),
        }
    }

    /// Reading a window's queue: whoever may act for it, and supervisors.
    pub fn require_window_read(&self, window: WindowNumber) -> Result<(), ApiError> {
        if self.role == Role::Supervisor {
            Ok(())
        } else {
            self.require_window(window)
        }
    }
}

/// The value of one cookie of a request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok());
    jiaohao_signin::web::cookie(values, name)
}

/// Whether a request comes from the hub's own pages: its `Origin`, when sent, names the host
/// the request was sent to. Browsers send `Origin` with every cross-site POST, PUT and DELETE.
pub fn same_origin(headers: &HeaderMap) -> bool {
    // An origin that is not text is no origin of ours.
    let origin = headers
        .get(header::ORIGIN)
        .map(|origin| origin.to_str().unwrap_or_default());
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    jiaohao_signin::web::same_origin(origin, host)
}

fn forgery() -> ApiError {
    ApiError::forbidden_code(
        "csrf",
        "this change did not come from the hub's own page (or the page is out of date): reload the page and try again",
    )
}

/// Checks a session's change request: from the hub's own page, with the session's token.
pub fn check_csrf(headers: &HeaderMap, csrf: &str) -> Result<(), ApiError> {
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !same_origin(headers) || !crate::secret::same(sent, csrf) {
        return Err(forgery());
    }
    Ok(())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::resolve(parts, state).await?;
        // Devices before strangers (`limits.rs`): this address showed credentials.
        if let Some(ConnectInfo(client)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            state.limits.saw_device(client.ip());
        }
        Ok(principal)
    }
}

impl Principal {
    /// Who the credentials of a request name, if they are valid.
    async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Principal, ApiError> {
        if let Some(header) = parts.headers.get(header::AUTHORIZATION) {
            let secret = header
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|secret| !secret.is_empty() && secret.len() <= 256)
                .ok_or_else(ApiError::unauthorized)?;
            let found = state.find_token(secret).await?;
            return found
                .map(Principal::from_token)
                .ok_or_else(ApiError::unauthorized);
        }
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let session = cookie(&parts.headers, SESSION_COOKIE);
        // A paired rating pad (`pads.rs`): its device token in a cookie of its own.
        if session.is_none()
            && let Some(secret) = cookie(&parts.headers, crate::http::pads::PAD_COOKIE)
        {
            if secret.is_empty() || secret.len() > 256 {
                return Err(ApiError::unauthorized());
            }
            if unsafe_method && !same_origin(&parts.headers) {
                return Err(forgery());
            }
            let found = state.find_token(secret).await?;
            return found
                .filter(|token| token.role == Role::RatingPad)
                .map(Principal::from_token)
                .ok_or_else(ApiError::unauthorized);
        }
        let secret = session
            .filter(|secret| !secret.is_empty() && secret.len() <= 256)
            .ok_or_else(ApiError::unauthorized)?;
        let session = state
            .find_session(secret)
            .await?
            .ok_or_else(ApiError::session_ended)?;
        if unsafe_method {
            check_csrf(&parts.headers, &session.csrf)?;
        }
        Ok(Principal::from_session(session))
    }
}

/// Who a page is for: a signed-in person, or nobody (the page then sends them to sign in).
pub struct MaybeSession(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(MaybeSession(None));
        };
        if secret.is_empty() || secret.len() > 256 {
            return Ok(MaybeSession(None));
        }
        Ok(MaybeSession(
            state
                .find_session(secret)
                .await?
                .map(Principal::from_session),
        ))
    }
}
