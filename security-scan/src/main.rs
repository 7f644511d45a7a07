//! `security-scan --issuer URL --api URL […]`: scans a deployment and prints the report on
//! stdout (progress on stderr). Exits 1 when a finding at or above `--fail-on` exists, 2
//! when the target could not be scanned at all (or the options make no sense).
//!
//! `--only` and `--skip` choose check groups: the `rate_limits` group floods the target
//! until it refuses, so run it alone (`--only rate_limits`) against servers with their
//! real limits, and `--skip rate_limits` where the limits are raised for a scan.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use security_scan::checks;
use security_scan::report::{Format, Severity};
use security_scan::scan::{Account, ConfidentialClient, Options, ServiceClient};
use url::Url;

#[derive(Debug, Parser)]
#[command(
    name = "security-scan",
    version,
    about = "Attack an OAuth 2.0 deployment the way an attacker would, and report what it finds"
)]
struct Cli {
    /// The authorization server's issuer URL (its metadata is read from there).
    #[arg(long)]
    issuer: Url,
    /// The task API's base URL (its OpenAPI document is read from there).
    #[arg(long)]
    api: Url,
    /// A confidential client of the authorization-code grant …
    #[arg(long, requires_all = ["client_secret", "redirect_uri"])]
    client_id: Option<String>,
    /// … its secret …
    #[arg(long, env = "SECURITY_SCAN_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// … and its registered redirect URI.
    #[arg(long)]
    redirect_uri: Option<String>,
    /// A public client whose redirect URI is https.
    #[arg(long)]
    public_client_id: Option<String>,
    /// A public native client registered with a loopback redirect URI (http://127.0.0.1/…).
    #[arg(long)]
    loopback_client_id: Option<String>,
    /// An account to sign in with …
    #[arg(long, requires = "password")]
    username: Option<String>,
    /// … and its password.
    #[arg(long, env = "SECURITY_SCAN_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Trust the CA certificates in this PEM file besides the system's (a deployment with
    /// a private CA).
    #[arg(long)]
    ca_cert: Option<std::path::PathBuf>,
    /// Another person's account, for the authorization checks (IDOR, mass assignment);
    /// without it the scanner signs one up through the sign-up page, if there is one …
    #[arg(long, requires = "second_password")]
    second_username: Option<String>,
    /// … and its password.
    #[arg(long, env = "SECURITY_SCAN_SECOND_PASSWORD", hide_env_values = true)]
    second_password: Option<String>,
    /// A confidential client allowed the client-credentials grant (if --client-id is not) …
    #[arg(long, requires = "service_client_secret")]
    service_client_id: Option<String>,
    /// … and its secret.
    #[arg(
        long,
        env = "SECURITY_SCAN_SERVICE_CLIENT_SECRET",
        hide_env_values = true
    )]
    service_client_secret: Option<String>,
    /// Run only these check groups (comma-separated): headers, authentication,
    /// authorization, redirect_uri, oauth, forms, cors, injection, sessions, rate_limits.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Run every check group but these (comma-separated); rate_limits floods the target.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// text, json, markdown or sarif.
    #[arg(long, default_value = "text")]
    format: Format,
    /// Exit 1 when a finding at or above this severity exists: low, medium, high, critical.
    #[arg(long, default_value = "high")]
    fail_on: Severity,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let client = match (cli.client_id, cli.client_secret, cli.redirect_uri) {
        (Some(id), Some(secret), Some(redirect_uri)) => Some(ConfidentialClient {
            id,
            secret,
            redirect_uri,
        }),
        _ => None,
    };
    let account = match (cli.username, cli.password) {
        (Some(username), Some(password)) => Some(Account { username, password }),
        _ => None,
    };
    let ca_certificates_pem = match &cli.ca_cert {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(pem) => Some(pem),
            Err(error) => {
                eprintln!("security-scan: {}: {error}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let groups = match checks::select(&cli.only, &cli.skip) {
        Ok(groups) => groups,
        Err(error) => {
            eprintln!("security-scan: {error}");
            return ExitCode::from(2);
        }
    };
    let mut options = Options::new(cli.issuer, cli.api);
    options.client = client;
    options.public_client_id = cli.public_client_id;
    options.loopback_client_id = cli.loopback_client_id;
    options.account = account;
    options.second_account = match (cli.second_username, cli.second_password) {
        (Some(username), Some(password)) => Some(Account { username, password }),
        _ => None,
    };
    options.service_client = match (cli.service_client_id, cli.service_client_secret) {
        (Some(id), Some(secret)) => Some(ServiceClient { id, secret }),
        _ => None,
    };
    options.ca_certificates_pem = ca_certificates_pem;
    options.groups = groups;
    let report = match security_scan::run(options).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("security-scan: {error}");
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{}", report.render(cli.format)).is_err() {
        return ExitCode::from(2);
    }
    if report.fails_at(cli.fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
