//! The planted task endpoints: `/api/tasks` (list, create) and `/api/tasks/{id}` (read,
//! update, delete), each behind a bearer token and a scope.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::bearer::{Caller, Verifier};
use super::store::TaskStore;
use crate::planted::state::State;
use crate::planted::values::now;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/tasks", web::get().to(list))
        .route("/api/tasks", web::post().to(create))
        .route("/api/tasks/{id}", web::get().to(read))
        .route("/api/tasks/{id}", web::patch().to(update))
        .route("/api/tasks/{id}", web::delete().to(delete));
}

pub fn query_config() -> web::QueryConfig {
    // PLANTED headers.error_leaks: a query that does not parse (`page=-1`, a limit past
    // u32) is answered 500 with the parser's message — before authentication, too.
    web::QueryConfig::default().error_handler(|error, _request| {
        let body = format!("query error: {error}");
        actix_web::error::InternalError::from_response(
            error,
            HttpResponse::InternalServerError().body(body),
        )
        .into()
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    page: Option<u32>,
    limit: Option<u32>,
}

fn caller(
    request: &HttpRequest,
    state: &State,
    verifier: &Verifier,
    scope: &str,
) -> Result<Caller, HttpResponse> {
    let caller = verifier.authenticate(request, state)?;
    caller.require(scope)?;
    Ok(caller)
}

fn store(state: &State) -> std::sync::MutexGuard<'_, TaskStore> {
    state.tasks.lock().expect("task store lock")
}

async fn list(
    query: web::Query<ListQuery>,
    request: HttpRequest,
    state: web::Data<State>,
    verifier: web::Data<Verifier>,
) -> HttpResponse {
    let caller = match caller(&request, &state, &verifier, "tasks:read") {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let page = query.page.unwrap_or(1).max(1);
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let (tasks, total) = store(&state).list(&caller.subject, page, limit);
    HttpResponse::Ok().json(json!({
        "tasks": tasks,
        "pagination": { "page": page, "limit": limit, "total": total },
    }))
}

/// A JSON object body, or the 400 answer.
fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, HttpResponse> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        _ => Err(HttpResponse::BadRequest().json(json!({ "error": "invalid_body" }))),
    }
}

fn text(fields: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    fields.get(name).and_then(Value::as_str).map(str::to_owned)
}

async fn create(
    request: HttpRequest,
    state: web::Data<State>,
    verifier: web::Data<Verifier>,
    body: web::Bytes,
) -> HttpResponse {
    let caller = match caller(&request, &state, &verifier, "tasks:write") {
        Ok(caller) => caller,
        Err(answer) => return answer,
    };
    let fields = match object(&body) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let Some(title) = text(&fields, "title").filter(|t| !t.trim().is_empty()) else {
        return HttpResponse::UnprocessableEntity().json(json!({ "error": "title_required" }));
    };
    let task = store(&state).create(&caller.subject, title, text(&fields, "description"));
    HttpResponse::Created().json(json!({ "task": task }))
}

fn task_id(path: &str) -> Option<u64> {
    path.parse().ok()
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": "not_found" }))
}

async fn read(
    request: HttpRequest,
    state: web::Data<State>,
    verifier: web::Data<Verifier>,
    path: web::Path<String>,
) -> HttpResponse {
    if let Err(answer) = caller(&request, &state, &verifier, "tasks:read") {
        return answer;
    }
    let Some(id) = task_id(&path) else {
        return not_found();
    };
    match store(&state).find_mut(id) {
        Some(task) => HttpResponse::Ok().json(json!({ "task": task })),
        None => not_found(),
    }
}

async fn update(
    request: HttpRequest,
    state: web::Data<State>,
    verifier: web::Data<Verifier>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(answer) = caller(&request, &state, &verifier, "tasks:write") {
        return answer;
    }
    let fields = match object(&body) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let Some(id) = task_id(&path) else {
        return not_found();
    };
    let mut tasks = store(&state);
    let Some(task) = tasks.find_mut(id) else {
        return not_found();
    };
    if let Some(title) = text(&fields, "title") {
        task.title = title;
    }
    if let Some(description) = text(&fields, "description") {
        task.description = Some(description);
    }
    if let Some(status) = text(&fields, "status") {
        task.status = status;
    }
    task.updated_at = now();
    HttpResponse::Ok().json(json!({ "task": task }))
}

async fn delete(
    request: HttpRequest,
    state: web::Data<State>,
    verifier: web::Data<Verifier>,
    path: web::Path<String>,
) -> HttpResponse {
    if let Err(answer) = caller(&request, &state, &verifier, "tasks:write") {
        return answer;
    }
    match task_id(&path) {
        Some(id) if store(&state).delete(id) => HttpResponse::NoContent().finish(),
        _ => not_found(),
    }
}
