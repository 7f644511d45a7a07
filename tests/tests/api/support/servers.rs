//! Starting the servers in-process on port 0, as deployed: `spawn_app` for the auth-server
//! on a fresh database, `spawn_stack` for the auth-server and the task API sharing one.

use std::collections::HashMap;
use std::sync::Arc;

use shared::config::Settings;
use shared::db::Db;

use super::database::TestDatabase;

/// Settings for a test server on `database_url`, plus overrides.
pub fn test_settings(database_url: &str, overrides: &[(&str, &str)]) -> Settings {
    let mut values: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("AUTH_SERVER_BIND", "127.0.0.1:0"),
        ("RESOURCE_API_BIND", "127.0.0.1:0"),
        ("HTTP_WORKERS", "1"),
        ("DATABASE_TIMEOUT", "2s"),
        ("DATABASE_POOL_SIZE", "4"),
        // Tests send many requests from one address in a moment; the rate-limit tests
        // set their own, lower limits.
        ("RATE_LIMIT_PER_IP", "100000/1m"),
        ("RATE_LIMIT_LOGIN", "100000/1m"),
        ("RATE_LIMIT_REGISTER", "100000/1h"),
        ("RATE_LIMIT_AUTHORIZE", "100000/1m"),
        ("RATE_LIMIT_TOKEN", "100000/1m"),
        ("RATE_LIMIT_PER_CLIENT", "100000/1m"),
        ("RATE_LIMIT_PER_USER", "100000/1m"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (key, value) in overrides {
        values.insert((*key).to_owned(), (*value).to_owned());
    }
    Settings::from_values(values).expect("valid test settings")
}

/// A running auth-server: where it listens and its database. Cheap to clone (each
/// [`TestUser`](super::browser::TestUser) holds one); the database is dropped (deleted)
/// with the last clone.
#[derive(Clone)]
pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of the metrics listener, when the settings set one.
    pub metrics_address: Option<String>,
    pub db: Db,
    database: Arc<TestDatabase>,
    database_url: String,
}

/// reqwest is built with rustls and no default crypto provider (resource-api installs ring
/// when it starts); install it here too, so clients work with the auth-server alone.
fn install_tls_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts auth-server on a fresh database with extra settings.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let (database, url) = TestDatabase::create();
    spawn_app_on(database, &url, overrides).await
}

/// Starts auth-server on `url` (which may be unreachable), keeping `database` until the end.
pub async fn spawn_app_on(
    database: TestDatabase,
    url: &str,
    overrides: &[(&str, &str)],
) -> TestApp {
    start(Arc::new(database), url, overrides).await
}

async fn start(database: Arc<TestDatabase>, url: &str, overrides: &[(&str, &str)]) -> TestApp {
    install_tls_provider();
    let settings = test_settings(url, overrides);
    let app = auth_server::startup::build(settings)
        .await
        .expect("auth-server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let db = app.db().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        db,
        database,
        database_url: url.to_owned(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The `DATABASE_URL` this app runs on.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Whether this app's database is PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        self.database.is_postgres()
    }

    /// Another auth-server instance on this app's database, with `overrides`.
    pub async fn another_instance(&self, overrides: &[(&str, &str)]) -> TestApp {
        start(self.database.clone(), &self.database_url, overrides).await
    }
}

/// auth-server and resource-api on one fresh database, as deployed.
pub struct TestStack {
    pub auth: TestApp,
    pub api_address: String,
    /// The task API's metrics listener, when the settings set one.
    pub api_metrics_address: Option<String>,
}

pub async fn spawn_stack() -> TestStack {
    spawn_stack_with(&[]).await
}

pub async fn spawn_stack_with(overrides: &[(&str, &str)]) -> TestStack {
    let (database, url) = TestDatabase::create();
    let auth = spawn_app_on(database, &url, overrides).await;
    let jwks_url = format!("{}/jwks.json", auth.address);
    let mut api_overrides = overrides.to_vec();
    api_overrides.push(("JWKS_URL", &jwks_url));
    let api = resource_api::startup::build(test_settings(&url, &api_overrides))
        .await
        .expect("resource-api starts");
    let api_address = format!("http://127.0.0.1:{}", api.port());
    let api_metrics_address = api
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    actix_web::rt::spawn(api.run_until_stopped());
    TestStack {
        auth,
        api_address,
        api_metrics_address,
    }
}

impl TestStack {
    pub fn api_url(&self, path: &str) -> String {
        format!("{}{}", self.api_address, path)
    }

    /// A request to the task API with `token` as Bearer (if any).
    pub fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = reqwest::Client::new().request(method, self.api_url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}
