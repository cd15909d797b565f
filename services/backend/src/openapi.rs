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
    doc.merge(crate::chat::openapi());
    doc
}
