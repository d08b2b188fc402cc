//! The one error type of the HTTP API: a status and a JSON body `{"error": …, "code": …}`
//! that says what is wrong and never leaks internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiaohao_core::error::ErrorKind;
use jiaohao_wire::ErrorBody;

use crate::engine::error::EngineError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in first, or send a valid token as Authorization: Bearer <token>",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn forbidden_code(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }

    /// A session cookie that is unknown, expired or ended.
    pub fn session_ended() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "your session has ended: sign in again",
        )
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The database refuses writes (disk full, read-only, I/O error): nothing was changed.
    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the hub cannot save changes right now (disk full or read-only?); nothing was changed, try again shortly",
        )
    }

    pub fn shutting_down() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the hub is stopping; try again in a moment",
        )
    }
}

impl From<jiaohao_core::Error> for ApiError {
    fn from(error: jiaohao_core::Error) -> ApiError {
        let status = match error.kind() {
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

/// The one place an engine answer becomes an HTTP one.
impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        match error {
            EngineError::Refused(error) => ApiError::from(error),
            EngineError::Unavailable => ApiError::unavailable(),
            EngineError::Stopping => ApiError::shutting_down(),
            EngineError::Following => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "following",
                "this hub follows another hall's log and takes no commands",
            ),
        }
    }
}

/// A failed store write in a job of the http layer: logged here, answered as unavailable
/// (nothing was changed; the details stay in the log).
pub fn storage(what: &'static str) -> impl FnOnce(jiaohao_store::StoreError) -> ApiError {
    move |error| {
        tracing::error!(%error, "{what}");
        ApiError::unavailable()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.message,
            code: self.code.to_owned(),
        };
        (self.status, Json(body)).into_response()
    }
}
