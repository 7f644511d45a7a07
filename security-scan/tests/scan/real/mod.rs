//! The real auth-server and resource-api, in-process on a fresh database ([`database`]),
//! set up as `.ci/security-scan.sh` sets them up: rate limits out of the way (the scan
//! sends thousands of requests from one address) for every check group but rate_limits,
//! or at their defaults for rate_limits alone; a confidential, a public and a loopback
//! client, a service client (client credentials) and an account, made through the crates'
//! own registration functions (those the operator CLI calls). The second person the
//! authorization checks need is signed up by the scanner itself, through the sign-up page.

pub mod database;

use std::collections::HashMap;

use auth_server::accounts::register::{self, NewAccount};
use auth_server::domain::{EmailAddress, NewPassword, Username};
use auth_server::oauth::clients::{self, NewClient};
use auth_server::password_hash::PasswordHashing;
use security_scan::scan::{Account, ConfidentialClient, Options, ServiceClient};
use shared::config::{PasswordHashSettings, Settings};
use shared::db::Db;
use url::Url;

use database::TestDatabase;

const USERNAME: &str = "scan-user";
const PASSWORD: &str = "violet-anchor-tundra-42";
const REDIRECT_URI: &str = "https://app.example.com/callback";

/// The rate limits the servers run with, and so the check groups the scan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limits {
    /// Raised out of the way: every group but rate_limits, whose bursts would not meet
    /// them. The sign-in lockout and slow-down are not rate limits and keep their
    /// defaults.
    Raised,
    /// The defaults: the rate_limits group alone.
    Default,
}

/// The rate-limit settings (shared::config::rate_limits), each raised to a million a
/// second.
const RATE_LIMITS: [&str; 7] = [
    "RATE_LIMIT_PER_IP",
    "RATE_LIMIT_LOGIN",
    "RATE_LIMIT_REGISTER",
    "RATE_LIMIT_AUTHORIZE",
    "RATE_LIMIT_TOKEN",
    "RATE_LIMIT_PER_CLIENT",
    "RATE_LIMIT_PER_USER",
];

impl Limits {
    /// The groups a scan of servers with these limits runs (as `--skip rate_limits` and
    /// `--only rate_limits` choose them).
    pub fn groups(self) -> Vec<&'static str> {
        let rate_limits = vec!["rate_limits".to_owned()];
        match self {
            Self::Raised => security_scan::checks::select(&[], &rate_limits),
            Self::Default => security_scan::checks::select(&rate_limits, &[]),
        }
        .expect("rate_limits is a group")
    }
}

/// Both servers running, and what the scanner is given.
pub struct RealStack {
    pub database: TestDatabase,
    pub options: Options,
}

/// Two free ports. The issuer must name the port it is reached on, so the ports are
/// picked before the servers bind them (another process could take one in between;
/// nothing on a test machine does).
fn free_ports() -> (u16, u16) {
    let port = |listener: &std::net::TcpListener| listener.local_addr().expect("address").port();
    let a = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let b = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    (port(&a), port(&b))
}

fn settings(limits: Limits, values: &[(&str, &str)]) -> Settings {
    let raised = match limits {
        Limits::Raised => RATE_LIMITS.map(|name| (name, "1000000/1s")).to_vec(),
        Limits::Default => Vec::new(),
    };
    let all: HashMap<String, String> = [("HTTP_WORKERS", "2"), ("DATABASE_POOL_SIZE", "4")]
        .iter()
        .chain(&raised)
        .chain(values)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_values(all).expect("valid settings")
}

async fn register_client(
    db: &Db,
    name: &str,
    redirect_uri: &str,
    public: bool,
) -> (String, Option<String>) {
    let (client, secret) = clients::register(
        db,
        NewClient {
            name: name.into(),
            redirect_uris: vec![redirect_uri.into()],
            scope: "tasks:read tasks:write".into(),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            is_public: public,
            is_first_party: false,
            require_pkce: true,
            is_resource_server: false,
            id_token_signed_response_alg: None,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            require_mfa: false,
        },
    )
    .await
    .expect("client registered");
    (client.client_id, secret.map(|s| s.expose().to_owned()))
}

/// A back-end service: a confidential client of the client-credentials grant only, as an
/// operator registers one (`clients create --grant-type client_credentials`).
async fn register_service(db: &Db) -> ServiceClient {
    let (client, secret) = clients::register(
        db,
        NewClient {
            name: "Scanned service".into(),
            redirect_uris: Vec::new(),
            scope: "tasks:read tasks:write".into(),
            grant_types: vec!["client_credentials".into()],
            is_public: false,
            is_first_party: false,
            require_pkce: false,
            is_resource_server: false,
            id_token_signed_response_alg: None,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            require_mfa: false,
        },
    )
    .await
    .expect("service client registered");
    ServiceClient {
        id: client.client_id,
        secret: secret
            .expect("a confidential client's secret")
            .expose()
            .to_owned(),
    }
}

pub async fn start(limits: Limits) -> RealStack {
    let _already = rustls::crypto::ring::default_provider().install_default();
    let (database, database_url) = TestDatabase::create();
    let (auth_port, api_port) = free_ports();
    let issuer = format!("http://127.0.0.1:{auth_port}");
    let api = format!("http://127.0.0.1:{api_port}");
    let auth_bind = format!("127.0.0.1:{auth_port}");
    let api_bind = format!("127.0.0.1:{api_port}");
    let jwks_url = format!("{issuer}/jwks.json");
    let common = [
        ("DATABASE_URL", database_url.as_str()),
        ("ISSUER", issuer.as_str()),
        ("RESOURCE_API_URL", api.as_str()),
        ("AUTH_SERVER_BIND", auth_bind.as_str()),
        ("RESOURCE_API_BIND", api_bind.as_str()),
    ];

    let auth = auth_server::startup::build(settings(limits, &common))
        .await
        .expect("auth-server starts");
    let db = auth.db().clone();
    actix_web::rt::spawn(auth.run_until_stopped());
    let mut api_values = common.to_vec();
    api_values.push(("JWKS_URL", &jwks_url));
    let resource_api = resource_api::startup::build(settings(limits, &api_values))
        .await
        .expect("resource-api starts");
    actix_web::rt::spawn(resource_api.run_until_stopped());

    let email = "scan@example.com";
    // The CLI's way: a hashing thread of its own, for one account.
    let hashing = PasswordHashing::start(&PasswordHashSettings {
        threads: 1,
        queue: 1,
    })
    .expect("a password-hashing thread");
    register::create_account(
        &db,
        &hashing,
        NewAccount {
            username: Username::parse(USERNAME).expect("username"),
            email: EmailAddress::parse(email).expect("email"),
            password: NewPassword::parse(PASSWORD, USERNAME, email).expect("password"),
        },
    )
    .await
    .expect("account created");
    let (confidential, secret) = register_client(&db, "Scanned app", REDIRECT_URI, false).await;
    let (public, _) =
        register_client(&db, "Scanned SPA", "https://spa.example.com/callback", true).await;
    let (loopback, _) = register_client(
        &db,
        "Scanned desktop app",
        "http://127.0.0.1/callback",
        true,
    )
    .await;
    let service = register_service(&db).await;

    RealStack {
        database,
        options: Options {
            client: Some(ConfidentialClient {
                id: confidential,
                secret: secret.expect("a confidential client's secret"),
                redirect_uri: REDIRECT_URI.into(),
            }),
            public_client_id: Some(public),
            loopback_client_id: Some(loopback),
            account: Some(Account {
                username: USERNAME.into(),
                password: PASSWORD.into(),
            }),
            service_client: Some(service),
            groups: limits.groups(),
            ..Options::new(
                Url::parse(&issuer).expect("issuer"),
                Url::parse(&api).expect("API"),
            )
        },
    }
}
