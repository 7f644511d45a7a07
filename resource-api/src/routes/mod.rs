//! The task API's routes: `/api/health` and `/api/tasks`.

pub mod tasks;

use actix_web::{HttpResponse, web};
use serde_json::json;

/// RFC 9110 §15.5.6: 405 with the methods the resource does allow.
pub async fn method_not_allowed(allow: &'static str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header(("Allow", allow))
        .content_type("application/problem+json")
        .body(
            json!({ "type": "about:blank", "title": "Method Not Allowed", "status": 405 })
                .to_string(),
        )
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/health")
            .route(web::get().to(shared::http::health::healthz))
            .default_service(web::to(|| method_not_allowed("GET"))),
    )
    .service(
        web::resource("/api/openapi.json")
            .route(web::get().to(crate::openapi::document))
            .default_service(web::to(|| method_not_allowed("GET"))),
    )
    .configure(tasks::configure);
}
