//! `Application::build(settings)`: prepare the database, bind (port 0 works), serve.

use std::sync::Arc;

use actix_web::ResponseError as _;
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use shared::config::Settings;
use shared::http::request_log::{self, ClientIpRule};
use shared::http::security_headers;
use shared::http::{cors, health};
use shared::ratelimit::Limiter;
use shared::startup::{StartupError, bind, prepare_database};

use crate::auth::jwks::JwksCache;
use crate::auth::revocations::RevocationList;
use crate::auth::token_validation;
use crate::auth::verified::VerifiedTokens;
use crate::problem::Problem;
use crate::state::ApiState;
use crate::{rate_limit, routes};

pub struct Application {
    port: u16,
    server: Server,
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
        let listener = bind(settings.resource_api_bind)?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let address = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let https = settings.is_https();
        let jwks = JwksCache::new(settings.jwks_url.clone()).map_err(StartupError::Fatal)?;
        // In the background: the issuer may start after us (or in the same process, as in
        // `cargo run`). A token with a kid not yet known fetches the keys again anyway.
        jwks.spawn_refresher(settings.signing_keys_reload);
        let revocations = RevocationList::default();
        revocations.start(db.clone(), readiness.is_migrated()).await;
        let state = web::Data::new(ApiState {
            db: db.clone(),
            jwks,
            revocations,
            verified: VerifiedTokens::default(),
            validation: token_validation(&settings.issuer, &settings.resource_api_url),
            limiter: Limiter::new(
                &settings.rate_limits,
                settings.redis_url.as_ref().map(|url| url.expose()),
                Some(db.clone()),
            )
            .await
            .map_err(StartupError::Fatal)?,
            trust_proxy_headers: settings.trust_proxy_headers,
        });
        let db = web::Data::new(db);
        let readiness = web::Data::new(readiness);
        let cors_origins = settings.cors_allowed_origins.clone();
        let ip_rule = ClientIpRule {
            trust_proxy_headers: settings.trust_proxy_headers,
        };
        let server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(rate_limit::enforce))
                .wrap(cors::task_api(&cors_origins))
                .wrap(security_headers::api_headers(https))
                .wrap(request_log::middleware())
                .app_data(ip_rule)
                .app_data(db.clone())
                .app_data(readiness.clone())
                .app_data(state.clone())
                .app_data(routes::tasks::json_config())
                .configure(health::configure)
                .configure(routes::configure)
                .default_service(web::to(not_found))
        })
        .workers(settings.http_workers)
        .shutdown_timeout(10)
        .listen(listener)
        .map_err(|source| StartupError::Bind { address, source })?
        .run();
        tracing::info!(address = %settings.resource_api_bind, port, "resource-api listening");
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// RFC 9457 problem details for an unknown path.
async fn not_found() -> HttpResponse {
    Problem::NotFound.error_response()
}
