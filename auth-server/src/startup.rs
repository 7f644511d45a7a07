//! `Application::build(settings)` prepares the database, binds (port 0 picks a free port,
//! as tests do) and returns the server, ready to run until stopped (SIGTERM or SIGINT end
//! it gracefully: in-flight requests finish).

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use shared::config::Settings;
use shared::db::Db;
use shared::http::health::{self, Readiness};
use shared::http::request_log::{self, ClientIpRule};
use shared::http::security_headers;
use shared::ratelimit::Limiter;
use shared::startup::{StartupError, bind, prepare_database};

use crate::accounts::sessions;
use crate::error::AppError;
use crate::oauth::housekeeping::{self, Pruned};
use crate::oauth::keys::KeyError;
use crate::routes;
use crate::state::AppState;
use crate::web::forms::form_config;
use crate::web::rate_limit;

/// How often expired sessions are deleted.
const PRUNE_INTERVAL: Duration = Duration::from_secs(600);
/// How often loading is retried while the keys could not be loaded yet.
const KEY_RETRY_INTERVAL: Duration = Duration::from_secs(2);

pub struct Application {
    port: u16,
    server: Server,
    db: Db,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let settings = Arc::new(settings);
        let (db, readiness) = prepare_database(&settings).await?;
        let listener = bind(settings.auth_server_bind)?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let limiter = Limiter::new(
            &settings.rate_limits,
            settings.redis_url.as_ref().map(|url| url.expose()),
            Some(db.clone()),
        )
        .await
        .map_err(StartupError::Fatal)?;
        let state = web::Data::new(AppState::new(db.clone(), settings.clone(), limiter));
        load_signing_keys(&state, readiness.is_migrated()).await?;
        spawn_key_refresher(state.clone());
        spawn_pruner(state.clone());
        let server = build_server(listener, state, db.clone(), readiness, &settings)?;
        tracing::info!(address = %settings.auth_server_bind, port, issuer = %settings.issuer, "auth-server listening");
        Ok(Self { port, server, db })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn build_server(
    listener: std::net::TcpListener,
    state: web::Data<AppState>,
    db: Db,
    readiness: Readiness,
    settings: &Settings,
) -> Result<Server, StartupError> {
    let https = settings.is_https();
    let cors_origins = settings.cors_allowed_origins.clone();
    let db = web::Data::new(db);
    let readiness = web::Data::new(readiness);
    let ip_rule = ClientIpRule {
        trust_proxy_headers: settings.trust_proxy_headers,
    };
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware::from_fn(rate_limit::enforce))
            .wrap(security_headers::page_headers(https))
            .wrap(request_log::middleware())
            .app_data(ip_rule)
            .app_data(state.clone())
            .app_data(db.clone())
            .app_data(readiness.clone())
            .app_data(form_config())
            .app_data(query_config())
            .configure(health::configure)
            .configure(|cfg| routes::configure(cfg, &cors_origins))
            .default_service(web::to(not_found))
    })
    .workers(settings.http_workers)
    .shutdown_timeout(10)
    .listen(listener)
    .map_err(|source| StartupError::Bind { address, source })?
    .run();
    Ok(server)
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
                state.settings.signing_keys_reload
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
            match housekeeping::prune(&state.db, state.settings.audit_retention).await {
                Ok(pruned) if pruned == Pruned::default() => {}
                Ok(pruned) => {
                    tracing::info!(?pruned, "pruned expired codes, tokens and audit events")
                }
                Err(error) => tracing::warn!(error = %error, "could not prune codes and tokens"),
            }
        }
    });
}
