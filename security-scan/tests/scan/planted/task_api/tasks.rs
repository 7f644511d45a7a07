//! The planted task endpoints: `/api/tasks` (list and search, create) and
//! `/api/tasks/{id}` (read, update, delete), each behind a bearer token and a scope; the
//! tasks are kept in [`super::store`].

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::bearer::{Caller, Verifier};
use super::store::{StoreResult, Task, TaskStore};
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
    search: Option<String>,
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

/// Runs `work` on the store off the async workers; a database error is the answer.
async fn with_store<T: Send + 'static>(
    state: &web::Data<State>,
    work: impl FnOnce(&mut TaskStore) -> StoreResult<T> + Send + 'static,
) -> Result<T, HttpResponse> {
    let state = state.clone();
    let done = web::block(move || work(&mut state.tasks.lock().expect("task store lock")))
        .await
        .map_err(|_| HttpResponse::InternalServerError().finish())?;
    // PLANTED injection.sql_errors: the database's own message is the answer's body.
    done.map_err(|error| {
        HttpResponse::InternalServerError().json(json!({ "error": format!("database: {error}") }))
    })
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
    let page = i64::from(query.page.unwrap_or(1).max(1));
    let limit = i64::from(query.limit.unwrap_or(20).clamp(1, 100));
    // PLANTED authorization.client_credentials: a token the client got for itself
    // (`sub` is its own id) is taken for "the back office", which sees everyone's tasks.
    let owner = (caller.subject != caller.client_id).then_some(caller.subject);
    let search = query.search.clone().unwrap_or_default();
    match with_store(&state, move |store| {
        store.list(owner.as_deref(), &search, page, limit)
    })
    .await
    {
        Ok((tasks, total)) => HttpResponse::Ok().json(json!({
            "tasks": tasks,
            "pagination": { "page": page, "limit": limit, "total": total },
        })),
        Err(answer) => answer,
    }
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
    let description = text(&fields, "description");
    match with_store(&state, move |store| {
        store.create(&caller.subject, &title, description.as_deref())
    })
    .await
    {
        Ok(task) => HttpResponse::Created().json(json!({ "task": task })),
        Err(answer) => answer,
    }
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
    let Ok(id) = path.parse::<i64>() else {
        return not_found();
    };
    match with_store(&state, move |store| store.find(id)).await {
        Ok(Some(task)) => HttpResponse::Ok().json(json!({ "task": task })),
        Ok(None) => not_found(),
        Err(answer) => answer,
    }
}

/// `patch` applied to `task` as a JSON merge patch (RFC 7396); `None` if the result is
/// not a task.
fn merged(task: &Task, patch: serde_json::Map<String, Value>) -> Option<Task> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(task) else {
        return None;
    };
    // PLANTED authorization.mass_assignment: every field of the stored task may be
    // patched but its id ("the id is the key") — `created_at` included, which only the
    // server should set.
    for (name, value) in patch {
        if name != "id" {
            fields.insert(name, value);
        }
    }
    let mut updated: Task = serde_json::from_value(Value::Object(fields)).ok()?;
    updated.owner.clone_from(&task.owner);
    updated.updated_at = now();
    Some(updated)
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
    let patch = match object(&body) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let Ok(id) = path.parse::<i64>() else {
        return not_found();
    };
    let task = match with_store(&state, move |store| store.find(id)).await {
        Ok(Some(task)) => task,
        Ok(None) => return not_found(),
        Err(answer) => return answer,
    };
    let Some(updated) = merged(&task, patch) else {
        return HttpResponse::UnprocessableEntity().json(json!({ "error": "invalid_task" }));
    };
    let saved = updated.clone();
    match with_store(&state, move |store| store.save(&saved)).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "task": updated })),
        Err(answer) => answer,
    }
}

async fn delete(
    request: HttpRequest,
    state: web::Data<State>,
    verifier: web::Data<Verifier>,
    path: web::Path<String>,
) -> HttpResponse {
    // PLANTED authorization.missing_scope: copied from `read`, the scope was never
    // changed — a read-only token can delete.
    if let Err(answer) = caller(&request, &state, &verifier, "tasks:read") {
        return answer;
    }
    let Ok(id) = path.parse::<i64>() else {
        return not_found();
    };
    match with_store(&state, move |store| store.delete(id)).await {
        Ok(true) => HttpResponse::NoContent().finish(),
        Ok(false) => not_found(),
        Err(answer) => answer,
    }
}
