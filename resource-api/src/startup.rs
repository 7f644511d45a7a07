//! `build(settings)`: the task API on the shared foundation (`shared::startup`), with its
//! token verification state and routes.

use std::sync::Arc;

use actix_web::ResponseError as _;
use actix_web::{App, HttpResponse, middleware, web};
use shared::config::Settings;
use shared::http::{cors, request_log, request_metrics, security_headers};
use shared::ratelimit;
use shared::startup::{Application, Foundation, StartupError};

use crate::auth::jwks::JwksCache;
use crate::auth::revocations::RevocationList;
use crate::auth::token_validation;
use crate::auth::verified::VerifiedTokens;
use crate::problem::Problem;
use crate::state::ApiState;
use crate::{rate_limit, routes};

/// Builds the task API: the shared foundation, the JWKS cache and revocation list (loaded
/// before the server opens), and its routes.
pub async fn build(settings: Settings) -> Result<Application, StartupError> {
    let settings = Arc::new(settings);
    let foundation = Foundation::prepare(
        &settings,
        "resource-api",
        settings.http.resource_api_bind,
        settings.http.resource_api_metrics_bind,
    )
    .await?;
    let port = foundation.port();
    let jwks = JwksCache::new(settings.urls.jwks_url.clone()).map_err(StartupError::Fatal)?;
    // In the background: the issuer may start after us (or in the same process, as in
    // `cargo run`). A token with a kid not yet known fetches the keys again anyway.
    jwks.spawn_refresher(settings.keys.reload);
    let revocations = RevocationList::default();
    revocations
        .start(foundation.db.clone(), foundation.readiness.is_migrated())
        .await;
    let state = web::Data::new(ApiState {
        db: foundation.db.clone(),
        jwks,
        revocations,
        verified: VerifiedTokens::default(),
        validation: token_validation(&settings.urls.issuer, &settings.urls.resource_api_url),
        limiter: foundation.limiter.clone(),
        trust_proxy_headers: settings.http.trust_proxy_headers,
    });

    // Requests are counted only where a metrics listener can show the counts.
    let count_requests = settings.http.resource_api_metrics_bind.is_some();
    let https = settings.is_https();
    let cors_origins = settings.http.cors_allowed_origins.clone();
    let common = foundation.common_parts(&settings);
    let app = foundation.serve(settings.http.workers, move || {
        common
            .add_to(App::new())
            .app_data(state.clone())
            .app_data(routes::tasks::json_config())
            .configure(routes::configure)
            .default_service(web::to(not_found))
            .wrap(ratelimit::exempting(
                rate_limit::is_exempt,
                middleware::from_fn(rate_limit::enforce),
            ))
            .wrap(cors::task_api(&cors_origins))
            .wrap(security_headers::api_headers(https))
            .wrap(request_log::middleware())
            .wrap(middleware::Condition::new(
                count_requests,
                middleware::from_fn(request_metrics::counting("resource-api")),
            ))
    })?;
    tracing::info!(address = %settings.http.resource_api_bind, port, tls = settings.http.tls.is_some(), "resource-api listening");
    Ok(app)
}

/// RFC 9457 problem details for an unknown path.
async fn not_found() -> HttpResponse {
    Problem::NotFound.error_response()
}
