//! Startup steps both servers share: open the pool, bring the schema up to date (retrying
//! in the background while the database is unreachable), and prune on a timer.

use std::time::Duration;

use crate::config::Settings;
use crate::db::{Db, MigrationError, build_pool};
use crate::http::health::Readiness;

/// How often migrations are retried while the database cannot be reached.
const MIGRATION_RETRY: Duration = Duration::from_secs(2);

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

/// Opens the pool and runs the migrations. A database that cannot be reached is not fatal:
/// the server starts, `/readyz` answers 503, and migrations are retried until they succeed.
/// A migration that fails on a reachable database is fatal.
pub async fn prepare_database(settings: &Settings) -> Result<(Db, Readiness), StartupError> {
    let db = Db::new(build_pool(settings));
    let readiness = Readiness::default();
    match migrate_once(&db).await {
        Ok(()) => readiness.mark_migrated(),
        Err(MigrationError::Connect(error)) => {
            tracing::error!(
                database = %settings.database_url,
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
pub fn bind(address: std::net::SocketAddr) -> Result<std::net::TcpListener, StartupError> {
    std::net::TcpListener::bind(address).map_err(|source| StartupError::Bind {
        address: address.to_string(),
        source,
    })
}
