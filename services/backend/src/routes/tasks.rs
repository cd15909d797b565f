//! The Task API (Phase II): `/api/{user_id}/tasks…`.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Deserializer};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Authorized,
    db::tasks::{self, ListOptions, NewTask, SortKey, SortOrder, StatusFilter, Task, TaskChanges},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiPath, ApiQuery},
};

/// The task routes, each with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(toggle_task))
}

/// Query of the task listing; each parameter is optional.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `all` (default), `pending` or `completed`.
    #[serde(default)]
    status: Option<StatusFilter>,
    /// `created` (default), `title` or `updated`.
    #[serde(default)]
    sort: Option<SortKey>,
    /// `asc` (default) or `desc`.
    #[serde(default)]
    order: Option<SortOrder>,
}

/// Body of `POST /api/{user_id}/tasks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateTask {
    /// 1–200 characters, not only blanks (the pattern: one character that is not white
    /// space); stored trimmed.
    #[schema(
        max_length = 200,
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    title: String,
    /// At most 1000 characters; a blank one is stored as `null`.
    #[serde(default)]
    #[schema(max_length = 1000)]
    description: Option<String>,
}

/// Body of `PUT /api/{user_id}/tasks/{id}`: absent fields stay as they are, `description: null`
/// (or `""`) clears the description.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateTask {
    /// As in creation: 1–200 characters, not only blanks.
    #[serde(default)]
    #[schema(
        max_length = 200,
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    title: Option<String>,
    /// At most 1000 characters; `null` or blank clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable, max_length = 1000)]
    description: Option<Option<String>>,
    #[serde(default)]
    completed: Option<bool>,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The `{id}` of a task route (the `{user_id}` is checked by [`Authorized`]).
#[derive(Debug, Deserialize)]
pub struct TaskPath {
    pub id: i64,
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("task {id}"))
}

/// The user's tasks, filtered and sorted.
#[utoipa::path(get, path = "/api/{user_id}/tasks", tag = "tasks",
    params(("user_id" = String, Path, description = "the token's user"), ListQuery),
    responses((status = 200, body = [Task]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tasks(
    state: axum::extract::State<AppState>,
    auth: Authorized,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let options = ListOptions {
        status: query.status.unwrap_or_default(),
        sort: query.sort.unwrap_or_default(),
        order: query.order.unwrap_or_default(),
    };
    let listing = tasks::list_as_json(&state.db, auth.user_id(), options).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        listing,
    ))
}

/// Creates a task; 201 with a `Location` header.
#[utoipa::path(post, path = "/api/{user_id}/tasks", tag = "tasks",
    params(("user_id" = String, Path, description = "the token's user")),
    request_body = CreateTask,
    responses((status = 201, body = Task), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_task(
    state: axum::extract::State<AppState>,
    auth: Authorized,
    ApiJson(body): ApiJson<CreateTask>,
) -> Result<Response, ApiError> {
    let new = NewTask::new(&body.title, body.description.as_deref())?;
    let task = tasks::create(&state.db, auth.user_id(), &new).await?;
    let location = format!("/api/{}/tasks/{}", encode_segment(auth.user_id()), task.id);
    let mut response = (StatusCode::CREATED, Json(task)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// One task.
#[utoipa::path(get, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = Task), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "an id that is not a 64-bit integer")),
    security(("bearer" = [])))]
pub async fn get_task(
    state: axum::extract::State<AppState>,
    auth: Authorized,
    ApiPath(path): ApiPath<TaskPath>,
) -> Result<Json<Task>, ApiError> {
    let task = tasks::get(&state.db, auth.user_id(), path.id).await?;
    task.map(Json).ok_or_else(|| not_found(path.id))
}

/// Changes the given fields; `updated_at` moves.
#[utoipa::path(put, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path), ("id" = i64, Path)),
    request_body = UpdateTask,
    responses((status = 200, body = Task), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_task(
    state: axum::extract::State<AppState>,
    auth: Authorized,
    ApiPath(path): ApiPath<TaskPath>,
    ApiJson(body): ApiJson<UpdateTask>,
) -> Result<Json<Task>, ApiError> {
    let changes = TaskChanges::new(
        body.title.as_deref(),
        body.description.as_ref().map(Option::as_deref),
        body.completed,
    )?;
    let task = tasks::update(&state.db, auth.user_id(), path.id, &changes).await?;
    task.map(Json).ok_or_else(|| not_found(path.id))
}

/// Deletes a task; 204.
#[utoipa::path(delete, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "an id that is not a 64-bit integer")),
    security(("bearer" = [])))]
pub async fn delete_task(
    state: axum::extract::State<AppState>,
    auth: Authorized,
    ApiPath(path): ApiPath<TaskPath>,
) -> Result<StatusCode, ApiError> {
    match tasks::delete(&state.db, auth.user_id(), path.id).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(not_found(path.id)),
    }
}

/// Toggles `completed`.
#[utoipa::path(patch, path = "/api/{user_id}/tasks/{id}/complete", tag = "tasks",
    params(("user_id" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = Task), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "an id that is not a 64-bit integer")),
    security(("bearer" = [])))]
pub async fn toggle_task(
    state: axum::extract::State<AppState>,
    auth: Authorized,
    ApiPath(path): ApiPath<TaskPath>,
) -> Result<Json<Task>, ApiError> {
    let task = tasks::toggle(&state.db, auth.user_id(), path.id).await?;
    task.map(Json).ok_or_else(|| not_found(path.id))
}

/// Percent-encodes a path segment (user ids from external providers may hold any character).
fn encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
