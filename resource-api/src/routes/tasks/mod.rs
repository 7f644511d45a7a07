//! `/api/tasks`: the task endpoints (DESIGN.md "Contracts: Task API"). Reads need
//! `tasks:read`, writes `tasks:write`; every query is scoped to the token's user, so
//! another user's task is 404 (SECURITY.md 21).

pub mod body;
mod handlers;

use actix_web::error::{InternalError, JsonPayloadError};
use actix_web::{ResponseError, web};
use serde::Serialize;
use shared::models::task::Task;

use crate::problem::Problem;

pub const BODY_LIMIT: usize = 16 * 1024;

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

/// `2026-11-28T05:30:00.123Z`, written directly (chrono's formatter parses its pattern
/// on every call, which shows in a profile of the list endpoint).
fn rfc3339(at: chrono::NaiveDateTime) -> String {
    use chrono::{Datelike as _, Timelike as _};
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.nanosecond() / 1_000_000 % 1000
    )
}

/// `{"task": …}`.
#[derive(Debug, Serialize)]
pub struct TaskBody {
    pub task: TaskView,
}

/// `{"tasks": […], "pagination": …}`.
#[derive(Debug, Serialize)]
pub struct TaskListBody {
    pub tasks: Vec<TaskView>,
    pub pagination: PageInfo,
}

#[derive(Debug, Serialize)]
pub struct PageInfo {
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    pub pages: i64,
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
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
                | JsonPayloadError::Overflow { .. } => {
                    Problem::PayloadTooLarge { limit: BODY_LIMIT }
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 678_901)
            .unwrap();
        assert_eq!(rfc3339(at), "2026-01-02T03:04:05.678Z");
        assert_eq!(
            rfc3339(at),
            at.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        );
    }
}
