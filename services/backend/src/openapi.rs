//! The documented routes and the OpenAPI 3.1 document built from them: each resource's router
//! (`routes/`) registers its handlers with their `#[utoipa::path]` annotations, so a route
//! cannot be served without being described. This module adds what is not a path: the title,
//! the tags, the enums the query strings use and the bearer scheme.

use axum::Router;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::OpenApiRouter;

use crate::{
    AppState,
    db::tasks::{SortKey, SortOrder, StatusFilter},
    routes::{auth, chat, ops, tasks},
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Todo Chatbot API", description = "Tasks, accounts, chat and operations endpoints"),
    components(schemas(StatusFilter, SortKey, SortOrder)),
    modifiers(&BearerAuth),
    tags(
        (name = "tasks"), (name = "auth"), (name = "operations"),
        (name = "chat", description = "The chat agent and its conversation history"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every documented route, and the document that describes them.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(tasks::router())
        .merge(auth::router())
        .merge(ops::router())
        .merge(chat::router())
        .split_for_parts()
}

/// The whole document, as `/api/openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    routes().1
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::Value;

    use super::document;

    /// Every `pattern` in the document, with the path to it.
    pub(crate) fn patterns(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if key == "pattern"
                        && let Some(pattern) = inner.as_str()
                    {
                        found.push((at.to_owned(), pattern.to_owned()));
                    } else {
                        patterns(inner, &format!("{at}/{key}"), found);
                    }
                }
            }
            Value::Array(items) => {
                for (index, inner) in items.iter().enumerate() {
                    patterns(inner, &format!("{at}/{index}"), found);
                }
            }
            _ => {}
        }
    }

    /// The "not only blanks" pattern matches a one-character string exactly when Rust's
    /// `trim` would keep that character, over all of Unicode: the document and the server
    /// agree on what is blank (schemathesis holds the server to the document).
    #[test]
    fn the_not_blank_pattern_is_rusts_white_space_exactly() {
        let document = serde_json::to_value(document()).unwrap();
        let mut found = Vec::new();
        patterns(&document, "", &mut found);
        let not_blank: Vec<_> = found
            .iter()
            .filter(|(at, _)| !at.contains("email"))
            .collect();
        assert_eq!(
            not_blank.len(),
            3,
            "two titles and the chat message: {found:?}"
        );
        for (at, pattern) in not_blank {
            let regex = regex::Regex::new(pattern).unwrap();
            for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
                let mut buffer = [0; 4];
                assert_eq!(
                    regex.is_match(c.encode_utf8(&mut buffer)),
                    !c.is_whitespace(),
                    "{at}: {c:?}"
                );
            }
        }
    }
}
