//! What starting either server takes, written once: load the settings and the logger (for
//! a `main`), open the pool and bring the schema up to date (retrying in the background
//! while the database is unreachable), build the rate limiter, bind the listener (port 0
//! picks a free port, as tests do; with `TLS_CERT_FILE` it speaks TLS, [`crate::tls`]), and
//! run the actix server with the parts every app
//! carries — and, when a metrics address is set, a second server on its own listener that
//! answers `GET /metrics` alone ([`crate::metrics`]). Each server adds only its own state,
//! middleware and routes.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::ServerHandle;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::audit::AuditLog;
use crate::config::Settings;
use crate::db::{Db, MigrationError};
use crate::http::health::{self, Readiness};
use crate::http::request_log::ClientIpRule;
use crate::ratelimit::Limiter;
use crate::tls::CertificateReloader;

/// How often migrations are retried while the database cannot be reached.
const MIGRATION_RETRY: Duration = Duration::from_secs(2);
/// How long in-flight requests may run after SIGTERM or SIGINT.
const SHUTDOWN_TIMEOUT_SECONDS: u64 = 10;
/// The exit status of a `main` whose settings were refused (as for a usage error).
pub const EXIT_CONFIG: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database migrations failed: {0}")]
    Migrations(MigrationError),
    #[error("{0}")]
    Fatal(String),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// For a server's `main`: the settings (TOML file, then the environment) with the logger
/// (and the trace exporter, when set) installed, or the exit code after the error has been printed to stderr.
pub fn load_settings(program: &str, config_file: Option<&Path>) -> Result<Settings, ExitCode> {
    match Settings::load(config_file) {
        Ok(settings) => {
            let traces = crate::telemetry::TraceExport::of(&settings, program);
            crate::telemetry::init(settings.log_format, traces);
            Ok(settings)
        }
        Err(error) => {
            eprintln!("{program}: configuration error: {error}");
            Err(ExitCode::from(EXIT_CONFIG))
        }
    }
}

/// For a server's `main`: success, or the error on stderr and a failure exit code.
/// The spans still waiting are sent first.
pub fn exit_code<E: std::fmt::Display>(program: &str, result: Result<(), E>) -> ExitCode {
    crate::telemetry::traces::shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What every server sets up the same way before adding its own state.
#[derive(Debug)]
pub struct Foundation {
    pub db: Db,
    /// Security events of this server, kept in the same database (SECURITY.md 30).
    pub audit: AuditLog,
    pub readiness: Readiness,
    pub limiter: Limiter,
    /// `auth-server` or `resource-api`: the `server` label of its metrics.
    pub server: &'static str,
    listener: TcpListener,
    port: u16,
    /// The TLS configuration of the public listener; `None`: plain HTTP.
    tls: Option<rustls::ServerConfig>,
    metrics_listener: Option<TcpListener>,
}

impl Foundation {
    /// Prepares the database, builds the rate limiter and binds `address` (and
    /// `metrics_address`, if any) for `server`.
    pub async fn prepare(
        settings: &Settings,
        server: &'static str,
        address: SocketAddr,
        metrics_address: Option<SocketAddr>,
    ) -> Result<Self, StartupError> {
        let tls = settings
            .http
            .tls
            .as_ref()
            .map(|files| {
                let reloader = CertificateReloader::load(files)?;
                reloader.watch();
                reloader.server_config()
            })
            .transpose()
            .map_err(|error| StartupError::Fatal(error.to_string()))?;
        let (db, readiness) = prepare_database(settings).await?;
        let listener = bind(address)?;
        let metrics_listener = metrics_address.map(bind).transpose()?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let audit = AuditLog::new(db.pool().clone());
        let limiter = Limiter::new(&settings.rate_limits, Some(audit.clone()))
            .await
            .map_err(StartupError::Fatal)?;
        Ok(Self {
            db,
            audit,
            readiness,
            limiter,
            server,
            listener,
            port,
            tls,
            metrics_listener,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The app data and routes every server carries: the client-IP rule of the request log,
    /// the database and readiness for the health probes, and `/healthz` and `/readyz`.
    pub fn common_parts(&self, settings: &Settings) -> CommonParts {
        CommonParts {
            ip_rule: ClientIpRule {
                trust_proxy_headers: settings.http.trust_proxy_headers,
            },
            db: web::Data::new(self.db.clone()),
            readiness: web::Data::new(self.readiness.clone()),
        }
    }

    /// Runs the app `factory` builds (once per worker) on the bound listener, with
    /// `workers` workers and a graceful shutdown on SIGTERM or SIGINT.
    pub fn serve<F, T, B>(self, workers: usize, factory: F) -> Result<Application, StartupError>
    where
        F: Fn() -> App<T> + Send + Clone + 'static,
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
        B: MessageBody + 'static,
    {
        let address = self
            .listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let server = HttpServer::new(factory)
            .workers(workers)
            .shutdown_timeout(SHUTDOWN_TIMEOUT_SECONDS);
        let server = match self.tls {
            Some(tls) => server.listen_rustls_0_23(self.listener, tls),
            None => server.listen(self.listener),
        };
        let server: Server = server
            .map_err(|source| StartupError::Bind { address, source })?
            .run();
        let metrics = self
            .metrics_listener
            .map(|listener| serve_metrics(listener, self.server, &self.db))
            .transpose()?;
        Ok(Application {
            port: self.port,
            server,
            metrics,
            db: self.db,
        })
    }
}

/// The metrics server: one worker, `GET /metrics` and nothing else, started now.
fn serve_metrics(
    listener: TcpListener,
    server: &'static str,
    db: &Db,
) -> Result<(u16, ServerHandle), StartupError> {
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let scraped = web::Data::new(Scraped {
        server,
        db: db.clone(),
    });
    let running = HttpServer::new(move || {
        App::new()
            .app_data(scraped.clone())
            .route("/metrics", web::get().to(metrics_page))
            .default_service(web::to(HttpResponse::NotFound))
    })
    .workers(1)
    .shutdown_timeout(1)
    .disable_signals()
    .listen(listener)
    .map_err(|source| StartupError::Bind { address, source })?
    .run();
    let handle = running.handle();
    actix_web::rt::spawn(running);
    Ok((port, handle))
}

/// What a scrape reads besides the counters: the server's pool.
struct Scraped {
    server: &'static str,
    db: Db,
}

async fn metrics_page(scraped: web::Data<Scraped>) -> HttpResponse {
    let pool = scraped.db.pool();
    let state = pool.state();
    crate::metrics::observe_pool(
        scraped.server,
        state.connections,
        state.idle_connections,
        pool.max_size(),
    );
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .body(crate::metrics::encode())
}

/// See [`Foundation::common_parts`]; cheap to clone into each worker's app.
#[derive(Debug, Clone)]
pub struct CommonParts {
    ip_rule: ClientIpRule,
    db: web::Data<Db>,
    readiness: web::Data<Readiness>,
}

impl CommonParts {
    pub fn add_to<T>(&self, app: App<T>) -> App<T>
    where
        T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
    {
        app.app_data(self.ip_rule)
            .app_data(self.db.clone())
            .app_data(self.readiness.clone())
            .configure(health::configure)
    }
}

/// A server bound and ready: run it until it is stopped (SIGTERM or SIGINT end it
/// gracefully: in-flight requests finish).
pub struct Application {
    port: u16,
    server: Server,
    /// The metrics listener's port and its server, which stops with this one.
    metrics: Option<(u16, ServerHandle)>,
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
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when one was set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stopped = self.server.await;
        if let Some((_, metrics)) = self.metrics {
            metrics.stop(true).await;
        }
        stopped
    }
}

/// Opens the pool and runs the migrations. A database that cannot be reached is not fatal:
/// the server starts, `/readyz` answers 503, and migrations are retried until they succeed.
/// A migration that fails on a reachable database is fatal.
pub async fn prepare_database(settings: &Settings) -> Result<(Db, Readiness), StartupError> {
    let db = Db::connect_server(&settings.database);
    let readiness = Readiness::default();
    match migrate_once(&db).await {
        Ok(()) => readiness.mark_migrated(),
        Err(MigrationError::Connect(error)) => {
            tracing::error!(
                database = %settings.database.url,
                error = %error,
                "database unreachable at startup; serving 503 and retrying"
            );
            let (db, readiness) = (db.clone(), readiness.clone());
            actix_web::rt::spawn(async move {
                loop {
                    actix_web::rt::time::sleep(MIGRATION_RETRY).await;
                    match migrate_once(&db).await {
                        Ok(()) => {
                            readiness.mark_migrated();
                            tracing::info!("database reachable again; migrations done");
                            break;
                        }
                        Err(error) => tracing::warn!(error = %error, "database still unavailable"),
                    }
                }
            });
        }
        Err(error) => return Err(StartupError::Migrations(error)),
    }
    Ok((db, readiness))
}

async fn migrate_once(db: &Db) -> Result<(), MigrationError> {
    let db = db.clone();
    let applied = actix_web::web::block(move || db.migrate())
        .await
        .map_err(|e| MigrationError::Migration(format!("migration task failed: {e}")))??;
    if !applied.is_empty() {
        tracing::info!(versions = ?applied, "applied database migrations");
    }
    Ok(())
}

/// Binds a listener, naming the address when it fails (port 0 picks a free port).
pub fn bind(address: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(address).map_err(|source| StartupError::Bind {
        address: address.to_string(),
        source,
    })
}
