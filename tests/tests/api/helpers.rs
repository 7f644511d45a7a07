//! `spawn_app()` and the helpers the tests share: a browser-like client (cookie jar,
//! redirects not followed), form helpers that read the CSRF token from the page, and
//! direct database access to check what was stored or to move time forward.

use std::collections::HashMap;
use std::path::PathBuf;

use auth_server::accounts::register::{self, NewAccount};
use auth_server::domain::{EmailAddress, NewPassword, Username};
use diesel::Connection as _;
use diesel::RunQueryDsl as _;
use reqwest::header::HeaderMap;
use scraper::{Html, Selector};
use shared::config::Settings;
use shared::db::{Db, DbConnection, DbError};

/// A password that satisfies the policy.
pub const PASSWORD: &str = "violet-anchor-tundra-42";

/// Where this test's data lives; dropped (deleted) with the test.
pub enum TestDatabase {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh, empty database and the URL to reach it.
    pub fn create() -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = diesel::PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .expect("create test database");
                let url = replace_database_name(&admin_url, &name);
                (Self::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = std::env::temp_dir()
                    .join(format!("oauth-test-{}", uuid::Uuid::new_v4().simple()));
                let url = format!("sqlite://{}", dir.join("test.sqlite3").display());
                (Self::Sqlite { dir }, url)
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { dir } => {
                let _ignored = std::fs::remove_dir_all(dir);
            }
            Self::Postgres { admin_url, name } => {
                if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                    let _ignored = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .execute(&mut admin);
                }
            }
        }
    }
}

/// `postgres://u@h:5432/test?x=y` with the database name replaced.
pub fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base.split_once("://").expect("a URL");
    let authority = rest.split('/').next().unwrap_or(rest);
    let mut replaced = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        replaced.push('?');
        replaced.push_str(query);
    }
    replaced
}

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

pub struct TestApp {
    pub address: String,
    /// A browser: cookie jar on, redirects off so each hop can be checked.
    pub client: reqwest::Client,
    pub db: Db,
    /// Kept so the database is dropped (deleted) with the app.
    pub _database: TestDatabase,
}

/// reqwest is built with rustls and no default crypto provider (resource-api installs ring
/// when it starts); install it here too, so a client built before any server works.
pub fn install_tls_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

pub fn browser() -> reqwest::Client {
    install_tls_provider();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
        .build()
        .expect("client")
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
    install_tls_provider();
    let settings = test_settings(url, overrides);
    let app = auth_server::startup::build(settings)
        .await
        .expect("auth-server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: browser(),
        db,
        _database: database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_with(&self.client, path).await
    }

    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_with(&self.client, path, fields).await
    }

    pub async fn post_form_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// Loads `page` and returns its form's CSRF token (setting the CSRF cookie on the way).
    pub async fn csrf_from_with(&self, client: &reqwest::Client, page: &str) -> String {
        let html = self
            .get_with(client, page)
            .await
            .text()
            .await
            .expect("body");
        hidden_field(&html, "csrf_token").expect("page has a CSRF field")
    }

    pub async fn register_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let csrf = self.csrf_from_with(client, "/register").await;
        self.post_form_with(
            client,
            "/register",
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    pub async fn register(&self, username: &str, email: &str, password: &str) -> reqwest::Response {
        self.register_with(&self.client, username, email, password)
            .await
    }

    pub async fn login_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        self.login_to_with(client, username, password, "").await
    }

    pub async fn login_to_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
        return_to: &str,
    ) -> reqwest::Response {
        let csrf = self.csrf_from_with(client, "/login").await;
        self.post_form_with(
            client,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("password", password),
                ("return_to", return_to),
            ],
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.login_with(&self.client, username, password).await
    }

    /// Creates the account `username` (password [`PASSWORD`]) the way the operator CLI
    /// does: no session exists afterwards.
    pub async fn create_user(&self, username: &str) {
        let email = format!("{username}@example.com");
        let account = NewAccount {
            username: Username::parse(username).expect("valid username"),
            email: EmailAddress::parse(&email).expect("valid email"),
            password: NewPassword::parse(PASSWORD, username, &email).expect("valid password"),
        };
        register::create_account(&self.db, account)
            .await
            .expect("account created");
    }

    /// The CSRF token of the signed-in account page.
    pub async fn account_csrf(&self, client: &reqwest::Client) -> String {
        self.csrf_from_with(client, "/account").await
    }

    /// Runs a query against this app's database.
    pub async fn query<T, F>(&self, work: F) -> T
    where
        F: FnOnce(&mut DbConnection) -> Result<T, diesel::result::Error> + Send + 'static,
        T: Send + 'static,
    {
        self.db
            .run(move |conn| work(conn).map_err(DbError::from))
            .await
            .expect("test query")
    }
}

/// A write lock held by the test on its own connection until the returned sender fires or
/// is dropped: on SQLite the database's single writer lock, on PostgreSQL an `ACCESS
/// EXCLUSIVE` lock on `table` (every use of the table waits, reads too, so a request
/// blocked by it has done nothing with the table yet). The receiver fires once
/// the lock is held.
pub struct HeldWriteLock {
    pub held: tokio::sync::oneshot::Receiver<()>,
    release_tx: tokio::sync::oneshot::Sender<()>,
    holder: std::thread::JoinHandle<()>,
}

impl TestApp {
    pub fn hold_write_lock(&self, table: &'static str) -> HeldWriteLock {
        let pool = self.db.pool().clone();
        let (held_tx, held) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        let holder = std::thread::spawn(move || {
            let mut conn = pool.get().expect("a connection for the lock");
            shared::db::write_transaction::<_, DbError, _>(&mut conn, |conn| {
                if matches!(conn, DbConnection::Postgresql(_)) {
                    diesel::sql_query(format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
                        .execute(conn)?;
                }
                let _ignored = held_tx.send(());
                let _released_or_dropped = release_rx.blocking_recv();
                Ok(())
            })
            .expect("lock transaction");
        });
        HeldWriteLock {
            held,
            release_tx,
            holder,
        }
    }
}

impl HeldWriteLock {
    /// Releases the lock and waits until its transaction has ended.
    pub async fn release(self) {
        let _ignored = self.release_tx.send(());
        let holder = self.holder;
        actix_web::rt::task::spawn_blocking(move || holder.join().expect("lock holder"))
            .await
            .expect("join");
    }
}

/// The `value` of `<input name=NAME>` in a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(&format!("input[name=\"{name}\"]")).expect("selector");
    document
        .select(&selector)
        .next()
        .and_then(|input| input.value().attr("value"))
        .map(str::to_owned)
}

/// The visible text of every element matching `css`.
pub fn texts(html: &str, css: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(css).expect("selector");
    document
        .select(&selector)
        .map(|element| element.text().collect::<String>().trim().to_owned())
        .collect()
}

/// Every `Set-Cookie` header, as sent.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// The value of cookie `name` set by a response, if any.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    set_cookies(headers).into_iter().find_map(|cookie| {
        let first = cookie.split(';').next()?.trim().to_owned();
        let (key, value) = first.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// auth-server and resource-api on one fresh database, as deployed.
pub struct TestStack {
    pub auth: TestApp,
    pub api_address: String,
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
    actix_web::rt::spawn(api.run_until_stopped());
    TestStack { auth, api_address }
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
