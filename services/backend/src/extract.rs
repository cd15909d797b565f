//! Request extractors whose rejections are JSON [`ApiError`]s, so no plain-text axum rejection
//! ever reaches a client.

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;
use todo_service_kit::body::read_limited;

use crate::{AppState, error::ApiError};

/// A JSON body. Malformed JSON is 400, JSON of the wrong shape is 422, a body over the limit is
/// 413, a non-JSON content type is 415. A missing content type is read as JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
            let content_type = content_type
                .to_str()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let essence = content_type.split(';').next().unwrap_or_default().trim();
            if !(essence == "application/json" || essence.ends_with("+json")) {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "expected a JSON body (Content-Type: application/json), got `{essence}`"
                )));
            }
        }
        // Read here rather than by `Bytes`: a refused body is drained, so the client reads the 413.
        let bytes = read_limited(req.into_body(), state.config.body_limit_bytes).await?;
        if bytes.is_empty() {
            return Err(ApiError::MalformedJson(
                "the request body is empty; expected JSON".into(),
            ));
        }
        // Syntax first: `[1,` must be 400 even though its shape is also wrong.
        serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
            .map_err(|e| ApiError::MalformedJson(format!("the body is not valid JSON: {e}")))?;
        // Every body is an object: serde would also read a struct from an array of its fields
        // in order (`["a title"]`), which no client means and the document does not allow.
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(ApiError::Validation(
                "the body must be a JSON object ({…}), not an array or a single value".into(),
            ));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::Validation(e.to_string()))
    }
}

/// Path parameters; a value of the wrong type (a task id that is not a number) is 422.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::Validation(rejection.body_text()))
    }
}

/// Query parameters; an unknown value (`status=done`) is 422 naming the accepted ones.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::Validation(rejection.body_text()))
    }
}
