//! `GET /healthz` (the process is up) and `GET /readyz` (it can reach its database).
//! Load balancers route on `/readyz`; orchestrators restart on `/healthz`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db::Db;

/// Whether the schema is up to date. Until the startup migrations have run (they are
/// retried while the database is unreachable) the server is not ready.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    migrated: Arc<AtomicBool>,
}

impl Readiness {
    pub fn mark_migrated(&self) {
        self.migrated.store(true, Ordering::Release);
    }

    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }
}

/// A static answer: no JSON value built, no header parsed, no allocation for the body
/// (orchestrators probe it often).
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(r#"{"status":"ok"}"#)
}

pub async fn readyz(db: web::Data<Db>, readiness: web::Data<Readiness>) -> HttpResponse {
    match db.ping().await {
        Ok(()) if !readiness.is_migrated() => HttpResponse::ServiceUnavailable()
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Retry-After", "5"))
            .json(json!({ "status": "unavailable", "database": "migrations pending" })),
        Ok(()) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": "ready", "database": "ok" })),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed: database unreachable");
            HttpResponse::ServiceUnavailable()
                .insert_header(("Cache-Control", "no-store"))
                .insert_header(("Retry-After", "5"))
                .json(json!({ "status": "unavailable", "database": "unreachable" }))
        }
    }
}

/// Mounts both probes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;
    use actix_web::http::StatusCode;

    use super::*;

    #[actix_web::test]
    async fn healthz_is_uncached_json_saying_ok() {
        let response = healthz().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers().get(CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(
            response.headers().get(CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let body = to_bytes(response.into_body()).await.unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            json!({ "status": "ok" })
        );
    }
}
