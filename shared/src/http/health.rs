//! `GET /healthz` (the process is up) and `GET /readyz` (it can reach its database).
//! Load balancers route on `/readyz`; orchestrators restart on `/healthz`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "status": "ok" }))
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
