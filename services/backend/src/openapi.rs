//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{
    db::tasks::{SortKey, SortOrder, StatusFilter},
    routes::{auth, ops, tasks},
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Todo Chatbot API", description = "Tasks, accounts, chat and operations endpoints"),
    paths(
        tasks::list_tasks, tasks::create_task, tasks::get_task, tasks::update_task,
        tasks::delete_task, tasks::toggle_task,
        auth::sign_up, auth::sign_in, auth::me,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
    ),
    components(schemas(StatusFilter, SortKey, SortOrder)),
    modifiers(&BearerAuth),
    tags((name = "tasks"), (name = "auth"), (name = "operations"))
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

/// The whole document: this module's paths and the chat module's.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::routes::chat::openapi());
    doc
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
