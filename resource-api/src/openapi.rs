//! The OpenAPI 3.1 document of the task API, generated from the code (utoipa) and served at
//! `GET /api/openapi.json`: every endpoint, every response, the error shape, the two ways
//! to authenticate (an OAuth access token or a personal API key, both as Bearer) with the
//! scope each operation needs (OpenAPI 3.1 §4.8.30 lets a bearer requirement list them),
//! and which task fields only the server sets (`readOnly`).

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// A task.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Task)]
pub struct TaskSchema {
    #[schema(min_length = 1, read_only)]
    pub id: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub title: String,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    pub status: Status,
    #[schema(minimum = 1, maximum = 5)]
    pub priority: i32,
    #[schema(format = DateTime, read_only)]
    pub created_at: String,
    #[schema(format = DateTime, read_only)]
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    InProgress,
    Completed,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskEnvelope {
    pub task: TaskSchema,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    #[schema(minimum = 1)]
    pub page: i64,
    #[schema(minimum = 1, maximum = 100)]
    pub limit: i64,
    #[schema(minimum = 0)]
    pub total: i64,
    #[schema(minimum = 0)]
    pub pages: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub tasks: Vec<TaskSchema>,
    pub pagination: Pagination,
}

/// `POST /api/tasks`. Unknown fields, and `id`, `user_id`, `created_at`, `updated_at`, are refused.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NewTask)]
#[serde(deny_unknown_fields)]
pub struct NewTaskSchema {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub title: String,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub status: Option<Status>,
    #[schema(minimum = 1, maximum = 5, nullable = false)]
    pub priority: Option<i32>,
}

/// `PUT /api/tasks/{id}`: a full replacement.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReplaceTask)]
#[serde(deny_unknown_fields)]
pub struct ReplaceTaskSchema {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub title: String,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    pub status: Status,
    #[schema(minimum = 1, maximum = 5)]
    pub priority: i32,
}

/// `PATCH /api/tasks/{id}`: only the fields sent change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PatchTask)]
#[serde(deny_unknown_fields)]
pub struct PatchTaskSchema {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$",
        nullable = false
    )]
    pub title: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub status: Option<Status>,
    #[schema(minimum = 1, maximum = 5, nullable = false)]
    pub priority: Option<i32>,
}

/// RFC 9457 problem details; `errors` maps each invalid field to a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub errors: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut jwt = Http::new(HttpAuthScheme::Bearer);
        jwt.bearer_format = Some("JWT".into());
        jwt.description = Some("An RFC 9068 access token from the authorization server (scopes tasks:read, tasks:write).".into());
        components.add_security_scheme("access_token", SecurityScheme::Http(jwt));
        let mut key = Http::new(HttpAuthScheme::Bearer);
        key.description = Some("A personal API key (tk_…) created on the account page.".into());
        components.add_security_scheme("api_key", SecurityScheme::Http(key));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tasks API", version = "1.0.0", description = "Each user's tasks, for apps holding an access token or an API key."),
    paths(docs::list, docs::create, docs::get, docs::replace, docs::update, docs::delete, docs::health),
    components(schemas(TaskSchema, TaskEnvelope, TaskList, Pagination, NewTaskSchema, ReplaceTaskSchema, PatchTaskSchema, Problem, Health, Status)),
    modifiers(&BearerSecurity),
    security(("access_token" = []), ("api_key" = []))
)]
pub struct ApiDoc;

/// The document as JSON, built on first request: it never changes while the process runs.
static DOCUMENT: std::sync::LazyLock<Result<String, String>> =
    std::sync::LazyLock::new(|| ApiDoc::openapi().to_json().map_err(|e| e.to_string()));

pub async fn document() -> HttpResponse {
    match &*DOCUMENT {
        Ok(json) => HttpResponse::Ok()
            .content_type("application/json")
            .body(json.clone()),
        Err(error) => {
            tracing::error!(error = %error, "OpenAPI document failed to serialise");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The operations as documentation: each function's attribute describes the handler of
/// the same name in `routes::tasks`.
#[allow(dead_code)]
mod docs {
    use super::{
        Health, NewTaskSchema, PatchTaskSchema, Problem, ReplaceTaskSchema, Status, TaskEnvelope,
        TaskList,
    };

    #[utoipa::path(get, path = "/api/tasks", tag = "tasks",
        security(("access_token" = ["tasks:read"]), ("api_key" = ["tasks:read"])),
        params(
            ("page" = Option<i64>, Query, minimum = 1, maximum = 1000000, description = "Page, from 1"),
            ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Tasks per page (default 10)"),
            ("status" = Option<Status>, Query, description = "Only tasks in this status"),
            ("priority" = Option<i32>, Query, minimum = 1, maximum = 5),
        ),
        responses(
            (status = 200, description = "The user's tasks, newest first", body = TaskList),
            (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
            (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "Missing scope tasks:read", body = Problem, content_type = "application/problem+json"),
            (status = 429, description = "Rate limit reached (per IP or per user); Retry-After says when to retry", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn list() {}

    #[utoipa::path(post, path = "/api/tasks", tag = "tasks", request_body = NewTaskSchema,
        security(("access_token" = ["tasks:write"]), ("api_key" = ["tasks:write"])),
        responses(
            (status = 201, description = "Created; Location names it", body = TaskEnvelope),
            (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
            (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "Missing scope tasks:write", body = Problem, content_type = "application/problem+json"),
            (status = 413, description = "Body over 16 KiB", body = Problem, content_type = "application/problem+json"),
            (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
            (status = 429, description = "Rate limit reached (per IP or per user); Retry-After says when to retry", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn create() {}

    #[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks",
        security(("access_token" = ["tasks:read"]), ("api_key" = ["tasks:read"])),
        params(("id" = String, Path, description = "The task's id")),
        responses(
            (status = 200, description = "The task", body = TaskEnvelope),
            (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "Missing scope tasks:read", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "No such task of this user", body = Problem, content_type = "application/problem+json"),
            (status = 429, description = "Rate limit reached (per IP or per user); Retry-After says when to retry", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn get() {}

    #[utoipa::path(put, path = "/api/tasks/{id}", tag = "tasks", request_body = ReplaceTaskSchema,
        security(("access_token" = ["tasks:write"]), ("api_key" = ["tasks:write"])),
        params(("id" = String, Path, description = "The task's id")),
        responses(
            (status = 200, description = "Replaced", body = TaskEnvelope),
            (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
            (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "Missing scope tasks:write", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "No such task of this user", body = Problem, content_type = "application/problem+json"),
            (status = 413, description = "Body over 16 KiB", body = Problem, content_type = "application/problem+json"),
            (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
            (status = 429, description = "Rate limit reached (per IP or per user); Retry-After says when to retry", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn replace() {}

    #[utoipa::path(patch, path = "/api/tasks/{id}", tag = "tasks", request_body = PatchTaskSchema,
        security(("access_token" = ["tasks:write"]), ("api_key" = ["tasks:write"])),
        params(("id" = String, Path, description = "The task's id")),
        responses(
            (status = 200, description = "Updated", body = TaskEnvelope),
            (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
            (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "Missing scope tasks:write", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "No such task of this user", body = Problem, content_type = "application/problem+json"),
            (status = 413, description = "Body over 16 KiB", body = Problem, content_type = "application/problem+json"),
            (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
            (status = 429, description = "Rate limit reached (per IP or per user); Retry-After says when to retry", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn update() {}

    #[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks",
        security(("access_token" = ["tasks:write"]), ("api_key" = ["tasks:write"])),
        params(("id" = String, Path, description = "The task's id")),
        responses(
            (status = 204, description = "Deleted"),
            (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = "Missing scope tasks:write", body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "No such task of this user", body = Problem, content_type = "application/problem+json"),
            (status = 429, description = "Rate limit reached (per IP or per user); Retry-After says when to retry", body = Problem, content_type = "application/problem+json"),
            (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
        ))]
    pub fn delete() {}

    #[utoipa::path(get, path = "/api/health", tag = "health", security(()),
        responses((status = 200, description = "The process is up", body = Health)))]
    pub fn health() {}
}
