//! `/api/tasks`: the task endpoints (DESIGN.md "Contracts: Task API"). Reads need
//! `tasks:read`, writes `tasks:write`; every query is scoped to the token's user, so
//! another user's task is 404 (SECURITY.md 21).

mod body;
mod handlers;

use actix_web::error::{InternalError, JsonPayloadError};
use actix_web::{ResponseError, web};
use serde::Serialize;
use shared::models::task::Task;

use crate::problem::Problem;

pub use body::UniqueObject;

const BODY_LIMIT: usize = 16 * 1024;

/// A task as the API shows it.
#[derive(Debug, Serialize)]
pub struct TaskView {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub status: String,
    pub priority: i32,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        let rfc3339 = |at: chrono::NaiveDateTime| {
            at.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        Self {
            id: task.id,
            title: task.title,
            description: task.description,
            status: task.status,
            priority: task.priority,
            created_at: rfc3339(task.created_at),
            updated_at: rfc3339(task.updated_at),
        }
    }
}

/// JSON bodies: 16 KiB at most (413), `application/json` only (415), malformed → 400.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .content_type_required(true)
        .error_handler(|error, _req| {
            let problem = match &error {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => Problem::PayloadTooLarge,
                JsonPayloadError::ContentType => Problem::UnsupportedMediaType,
                JsonPayloadError::Deserialize(inner) => {
                    Problem::BadRequest(format!("The body is not a valid JSON object: {inner}"))
                }
                other => Problem::BadRequest(format!("The body could not be read: {other}")),
            };
            let response = problem.error_response();
            InternalError::from_response(error, response).into()
        })
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/tasks")
            .route(web::get().to(handlers::list))
            .route(web::post().to(handlers::create))
            .default_service(web::to(|| crate::routes::method_not_allowed("GET, POST"))),
    )
    .service(
        web::resource("/api/tasks/{id}")
            .route(web::get().to(handlers::get))
            .route(web::put().to(handlers::replace))
            .route(web::patch().to(handlers::update))
            .route(web::delete().to(handlers::delete))
            .default_service(web::to(|| {
                crate::routes::method_not_allowed("GET, PUT, PATCH, DELETE")
            })),
    );
}
