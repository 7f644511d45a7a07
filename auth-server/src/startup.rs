//! `build(settings)`: the authorization server on the shared foundation
//! (`shared::startup`), with its state, key refresher, pruner, pages and endpoints.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, middleware, web};
use shared::config::Settings;
use shared::http::{request_log, request_metrics, security_headers};
use shared::ratelimit;
use shared::startup::{Application, Foundation, StartupError};

use crate::accounts::sessions;
use crate::error::AppError;
use crate::mail::Mailer;
use crate::oauth::housekeeping::{self, Pruned};
use crate::oauth::keys::KeyError;
use crate::oidc::logout::BackChannel;
use crate::password_hash::PasswordHashing;
use crate::routes;
use crate::state::AppState;
use crate::web::forms::form_config;
use crate::web::rate_limit;

/// How often expired sessions are deleted.
const PRUNE_INTERVAL: Duration = Duration::from_secs(600);
/// How often loading is retried while the keys could not be loaded yet.
const KEY_RETRY_INTERVAL: Duration = Duration::from_secs(2);

/// Builds the authorization server: the shared foundation, its state and signing keys, the
/// background refreshers, and its pages and endpoints.
pub async fn build(settings: Settings) -> Result<Application, StartupError> {
    let settings = Arc::new(settings);
    let foundation = Foundation::prepare(
        &settings,
        "auth-server",
        settings.http.auth_server_bind,
        settings.http.auth_server_metrics_bind,
    )
    .await?;
    let port = foundation.port();
    let password_hashing = PasswordHashing::start(&settings.password_hashing).map_err(|e| {
        StartupError::Fatal(format!("cannot start the password-hashing threads: {e}"))
    })?;
    let back_channel = BackChannel::new(&settings.urls.issuer).map_err(StartupError::Fatal)?;
    let mailer = Mailer::start(&settings.mail).map_err(StartupError::Fatal)?;
    let state = web::Data::new(AppState::new(
        foundation.db.clone(),
        foundation.audit.clone(),
        settings.clone(),
        foundation.limiter.clone(),
        password_hashing,
        back_channel,
        mailer,
    ));
    load_signing_keys(&state, foundation.readiness.is_migrated()).await?;
    spawn_key_refresher(state.clone());
    spawn_pruner(state.clone());

    // Requests are counted only where a metrics listener can show the counts.
    let count_requests = settings.http.auth_server_metrics_bind.is_some();
    let https = settings.is_https();
    let cors_origins = settings.http.cors_allowed_origins.clone();
    let common = foundation.common_parts(&settings);
    let app = foundation.serve(settings.http.workers, move || {
        common
            .add_to(App::new())
            .app_data(state.clone())
            .app_data(form_config())
            .app_data(query_config())
            .configure(|cfg| routes::configure(cfg, &cors_origins))
            .default_service(web::to(not_found))
            .wrap(ratelimit::exempting(
                rate_limit::is_exempt,
                middleware::from_fn(rate_limit::enforce),
            ))
            .wrap(security_headers::page_headers(https))
            .wrap(request_log::middleware())
            .wrap(middleware::Condition::new(
                count_requests,
                middleware::from_fn(request_metrics::counting("auth-server")),
            ))
    })?;
    tracing::info!(address = %settings.http.auth_server_bind, port, tls = settings.http.tls.is_some(), issuer = %settings.urls.issuer, "auth-server listening");
    Ok(app)
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req| {
        AppError::BadRequest(format!("The address has an invalid query string: {error}.")).into()
    })
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Loads (creating if needed) the signing keys. A key that cannot be decrypted stops
/// startup; an unreachable database does not (the refresher keeps trying).
async fn load_signing_keys(state: &AppState, database_ready: bool) -> Result<(), StartupError> {
    if !database_ready {
        return Ok(());
    }
    match state.keys.refresh(&state.db).await {
        Ok(()) => Ok(()),
        Err(KeyError::Db(error)) if error.is_unavailable() => {
            tracing::warn!(error = %error, "signing keys not loaded yet: database unavailable");
            Ok(())
        }
        Err(error) => Err(StartupError::Fatal(format!("signing keys: {error}"))),
    }
}

fn spawn_key_refresher(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        loop {
            let loaded = state.keys.current().is_some();
            actix_web::rt::time::sleep(if loaded {
                state.settings.keys.reload
            } else {
                KEY_RETRY_INTERVAL
            })
            .await;
            if let Err(error) = state.keys.refresh(&state.db).await {
                tracing::warn!(error = %error, "could not reload the signing keys");
            }
        }
    });
}

/// Deletes expired sessions, codes and tokens now and then, so tables hold live rows only.
fn spawn_pruner(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(PRUNE_INTERVAL);
        loop {
            interval.tick().await;
            match sessions::prune(&state.db, state.sessions).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "pruned expired sessions"),
                Err(error) => tracing::warn!(error = %error, "could not prune sessions"),
            }
            match housekeeping::prune(&state.db, state.settings.audit.retention).await {
                Ok(pruned) if pruned == Pruned::default() => {}
                Ok(pruned) => {
                    tracing::info!(?pruned, "pruned expired codes, tokens and audit events")
                }
                Err(error) => tracing::warn!(error = %error, "could not prune codes and tokens"),
            }
        }
    });
}
