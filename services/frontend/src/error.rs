//! The frontend's own error answers: JSON `{"detail", "code"}` as the API contract says.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use todo_service_kit::body::BodyError;

/// Why a request could not be answered by the backend (or at all).
#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    /// The backend's address stays in the server's log, not in the client's answer.
    #[error("the backend cannot be reached; try again in a moment")]
    BackendUnavailable,
    /// The whole proxied call (connection, upload, answer headers) passed its deadline.
    #[error("the backend did not answer within {seconds} s (PROXY_TIMEOUT_SECONDS)")]
    BackendTimeout { seconds: u64 },
    /// No connection to the backend could be opened in time (at most 5 s).
    #[error(
        "no connection to the backend could be opened within {seconds} s (the proxy's connect timeout); try again in a moment"
    )]
    ConnectTimeout { seconds: u64 },
    /// The same message and code as the backend's own 413.
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the backend's answer could not be relayed; try again")]
    BadGateway,
    #[error("the request could not be forwarded: {0}")]
    BadRequest(String),
    #[error("no such page: {0}")]
    NotFound(String),
}

impl From<BodyError> for FrontendError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge { limit } => Self::PayloadTooLarge { limit },
            unreadable @ BodyError::Unreadable(_) => Self::BadRequest(unreadable.to_string()),
        }
    }
}

impl FrontendError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BackendUnavailable | Self::BadGateway => StatusCode::BAD_GATEWAY,
            Self::BackendTimeout { .. } | Self::ConnectTimeout { .. } => {
                StatusCode::GATEWAY_TIMEOUT
            }
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BackendUnavailable => "backend_unavailable",
            Self::BackendTimeout { .. } | Self::ConnectTimeout { .. } => "backend_timeout",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::BadGateway => "bad_gateway",
            Self::BadRequest(_) => "bad_request",
            Self::NotFound(_) => "not_found",
        }
    }
}

impl IntoResponse for FrontendError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "detail": self.to_string(), "code": self.code() });
        (self.status(), Json(body)).into_response()
    }
}
