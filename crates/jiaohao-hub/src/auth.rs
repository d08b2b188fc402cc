//! Who is asking: the bearer token of a request, looked up (by its hash) in the database, and
//! what its role allows.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jiaohao_core::WindowNumber;
use jiaohao_store::{ApiToken, Role};

use crate::app::AppState;
use crate::error::ApiError;

/// The holder of a valid token.
#[derive(Debug, Clone)]
pub struct Principal(pub ApiToken);

impl Principal {
    /// How the event log names who did something: `clerk:窗口3#4`.
    pub fn actor(&self) -> String {
        format!("{}:{}#{}", self.0.role.as_str(), self.0.name, self.0.id)
    }

    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.0.role) {
            Ok(())
        } else {
            let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "a {} token may not do this; it needs the role {}",
                self.0.role.as_str(),
                names.join(" or ")
            )))
        }
    }

    /// Admins act for every window; clerks for their own, or every window if not bound to one.
    pub fn require_window(&self, window: WindowNumber) -> Result<(), ApiError> {
        match (self.0.role, self.0.window) {
            (Role::Admin, _) | (Role::Clerk, None) => Ok(()),
            (Role::Clerk, Some(own)) if own == window.get() => Ok(()),
            (Role::Clerk, Some(own)) => Err(ApiError::forbidden(format!(
                "this clerk token is for window {own}, not window {window}"
            ))),
            _ => self.require(&[Role::Admin, Role::Clerk]),
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        let secret = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|secret| !secret.is_empty() && secret.len() <= 256)
            .ok_or_else(ApiError::unauthorized)?;
        let found = state.find_token(secret)?;
        found.map(Principal).ok_or_else(ApiError::unauthorized)
    }
}
