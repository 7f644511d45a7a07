//! The task handlers: authenticate, check the scope, validate, call the store, answer.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use shared::models::now;
use shared::models::task::{Task, TaskChanges, TaskFilter, TaskStatus};

use super::body::{TaskFields, UniqueObject, not_a_status};
use super::{PageInfo, TaskBody, TaskListBody, TaskView};
use crate::auth::Authenticated;
use crate::problem::Problem;
use crate::state::ApiState;

const READ: &str = "tasks:read";
const WRITE: &str = "tasks:write";
const DEFAULT_LIMIT: i64 = 10;
const MAX_LIMIT: i64 = 100;

/// Page, limit and filters from the query string, each checked.
fn list_query(req: &HttpRequest) -> Result<(i64, i64, TaskFilter), Problem> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| Problem::BadRequest("The query string is not valid URL encoding.".into()))?
        .into_inner();
    let mut errors = BTreeMap::new();
    let (mut page, mut limit, mut filter) = (1, DEFAULT_LIMIT, TaskFilter::default());
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &pairs {
        if seen.contains(&name.as_str()) {
            errors.insert(name.clone(), "is repeated".to_owned());
            continue;
        }
        seen.push(name);
        match name.as_str() {
            "page" => match value.parse::<i64>() {
                Ok(n) if (1..=1_000_000).contains(&n) => page = n,
                _ => {
                    errors.insert(name.clone(), "must be an integer of at least 1".to_owned());
                }
            },
            "limit" => match value.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                _ => {
                    errors.insert(
                        name.clone(),
                        format!("must be an integer from 1 to {MAX_LIMIT}"),
                    );
                }
            },
            "status" => match value.parse::<TaskStatus>() {
                Ok(status) => filter.status = Some(status),
                Err(_) => {
                    errors.insert(name.clone(), not_a_status());
                }
            },
            "priority" => match value.parse::<i32>() {
                Ok(n) if (1..=5).contains(&n) => filter.priority = Some(n),
                _ => {
                    errors.insert(name.clone(), "must be an integer from 1 to 5".to_owned());
                }
            },
            // Other parameters (cache busters and the like) are ignored.
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok((page, limit, filter))
    } else {
        Err(Problem::Validation(errors))
    }
}

pub async fn list(
    auth: Authenticated,
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let user_id = auth.require_user(READ)?.to_owned();
    let (page, limit, filter) = list_query(&req)?;
    let offset = (page - 1) * limit;
    let (rows, total) = state
        .db
        .run(move |conn| Task::page(conn, &user_id, &filter, offset, limit))
        .await
        .map_err(Problem::from)?;
    let body = TaskListBody {
        tasks: rows.into_iter().map(TaskView::from).collect(),
        pagination: PageInfo {
            page,
            limit,
            total,
            pages: (total + limit - 1) / limit,
        },
    };
    Ok(HttpResponse::Ok().json(body))
}

pub async fn create(
    auth: Authenticated,
    state: web::Data<ApiState>,
    body: web::Json<UniqueObject>,
) -> Result<HttpResponse, actix_web::Error> {
    let user_id = auth.require_user(WRITE)?.to_owned();
    let fields = TaskFields::parse(body.into_inner(), &["title"])?;
    let at = now();
    let task = Task {
        id: uuid::Uuid::now_v7().to_string(),
        user_id,
        title: fields.title.unwrap_or_default(),
        description: fields.description.flatten(),
        status: fields
            .status
            .unwrap_or(TaskStatus::Pending)
            .as_str()
            .to_owned(),
        priority: fields.priority.unwrap_or(3),
        created_at: at,
        updated_at: at,
    };
    let stored = task.clone();
    state
        .db
        .run(move |conn| Task::insert(conn, &stored))
        .await
        .map_err(Problem::from)?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/tasks/{}", task.id)))
        .json(TaskBody {
            task: TaskView::from(task),
        }))
}

pub async fn get(
    auth: Authenticated,
    state: web::Data<ApiState>,
    path: web::Path<String>,
) -> Result<HttpResponse, actix_web::Error> {
    let user_id = auth.require_user(READ)?.to_owned();
    let id = path.into_inner();
    let task = state
        .db
        .run(move |conn| Task::find_owned(conn, &user_id, &id))
        .await
        .map_err(Problem::from)?
        .ok_or(Problem::NotFound)?;
    Ok(HttpResponse::Ok().json(TaskBody {
        task: TaskView::from(task),
    }))
}

async fn apply(
    user_id: String,
    state: &ApiState,
    id: String,
    fields: TaskFields,
) -> Result<HttpResponse, actix_web::Error> {
    let changes = TaskChanges {
        title: fields.title,
        description: fields.description,
        status: fields.status.map(|status| status.as_str().to_owned()),
        priority: fields.priority,
        updated_at: now(),
    };
    let task = state
        .db
        .run(move |conn| Task::update_owned(conn, &user_id, &id, &changes))
        .await
        .map_err(Problem::from)?
        .ok_or(Problem::NotFound)?;
    Ok(HttpResponse::Ok().json(TaskBody {
        task: TaskView::from(task),
    }))
}

/// PUT: a full replacement; an absent description becomes null.
pub async fn replace(
    auth: Authenticated,
    state: web::Data<ApiState>,
    path: web::Path<String>,
    body: web::Json<UniqueObject>,
) -> Result<HttpResponse, actix_web::Error> {
    let user_id = auth.require_user(WRITE)?.to_owned();
    let mut fields = TaskFields::parse(body.into_inner(), &["title", "status", "priority"])?;
    fields.description = Some(fields.description.flatten());
    apply(user_id, &state, path.into_inner(), fields).await
}

/// PATCH: only the fields sent change.
pub async fn update(
    auth: Authenticated,
    state: web::Data<ApiState>,
    path: web::Path<String>,
    body: web::Json<UniqueObject>,
) -> Result<HttpResponse, actix_web::Error> {
    let user_id = auth.require_user(WRITE)?.to_owned();
    let fields = TaskFields::parse(body.into_inner(), &[])?;
    apply(user_id, &state, path.into_inner(), fields).await
}

pub async fn delete(
    auth: Authenticated,
    state: web::Data<ApiState>,
    path: web::Path<String>,
) -> Result<HttpResponse, actix_web::Error> {
    let user_id = auth.require_user(WRITE)?.to_owned();
    let id = path.into_inner();
    let deleted = state
        .db
        .run(move |conn| Task::delete_owned(conn, &user_id, &id))
        .await
        .map_err(Problem::from)?;
    if !deleted {
        return Err(Problem::NotFound.into());
    }
    Ok(HttpResponse::NoContent().finish())
}
