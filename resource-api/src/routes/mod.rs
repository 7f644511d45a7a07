//! The task API's routes: `/api/health` and `/api/tasks`.

pub mod tasks;

use actix_web::{HttpResponse, web};
use serde_json::json;

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/health", web::get().to(health))
        .configure(tasks::configure);
}
