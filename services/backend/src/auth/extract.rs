//! Extractors that authenticate a request: [`AuthUser`] for any valid bearer token,
//! [`Authorized`] for `/api/{user_id}/…` routes where the path user must be the token's user.

use std::collections::HashMap;

use axum::{
    extract::{FromRequestParts, Path},
    http::{header, request::Parts},
};

use super::Claims;
use crate::{AppState, error::ApiError, observability::RequestContext};

/// The user a valid bearer token names.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub claims: Claims,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized("missing Authorization header; send `Bearer <token>`".into())
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        let claims = state
            .auth
            .verify(token)
            .await
            .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
        if let Some(context) = parts.extensions.get::<RequestContext>() {
            context.set_user_id(&claims.sub);
        }
        Ok(Self {
            user_id: claims.sub.clone(),
            claims,
        })
    }
}

/// An authenticated request whose `{user_id}` path segment is the token's user (else 403).
#[derive(Debug, Clone)]
pub struct Authorized(pub AuthUser);

impl Authorized {
    pub fn user_id(&self) -> &str {
        &self.0.user_id
    }
}

impl FromRequestParts<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::Validation(rejection.body_text()))?;
        match params.get("user_id") {
            Some(path_user) if *path_user == user.user_id => Ok(Self(user)),
            Some(_) => Err(ApiError::Forbidden(
                "the user in the path is not the user of the token".into(),
            )),
            None => Err(ApiError::internal(anyhow::anyhow!(
                "Authorized used on a route without {{user_id}}"
            ))),
        }
    }
}
