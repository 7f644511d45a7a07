//! Settings for both servers, read from environment variables and an optional TOML file.
//!
//! Every setting has one name, used as the environment variable (`SESSION_IDLE_TIMEOUT`)
//! and, lower-cased, as the key in the TOML file (`session_idle_timeout = "30m"`). The
//! environment wins over the file. A bad value stops startup with an error naming the
//! setting; production mode also refuses to start while a required setting is missing.
//!
//! Each setting is declared once, in [`settings`], with its default, parser and the line
//! README shows for it ([`declare`]); a test holds README's table and `.env.example` to
//! those declarations. Settings are a value passed to each server's `startup::build`,
//! never a global, so tests can start several servers with different settings in one
//! process.
//!
//! - [`declare`]: a setting's declaration, and reading one from the sources.
//! - [`source`]: the TOML file.
//! - [`urls`]: database URLs, our public URLs, browser origins.
//! - [`secret`]: values kept out of `Debug`.
//! - [`settings`]: every setting, and the checks between them.

pub mod declare;
pub mod rate_limits;
pub mod secret;
mod settings;
mod source;
pub mod urls;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use self::declare::Declaration;
use self::rate_limits::RateLimitSettings;
pub use self::secret::SecretString;
pub use self::urls::{DEFAULT_SQLITE_PATH, DatabaseUrl};

/// Kept for callers of the old name; the parser lives in [`crate::parse`].
pub use crate::parse::duration as parse_duration;

/// Development runs on loopback with generated secrets; production insists on real ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Everything both servers can be configured with. See README, "Configuration".
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub database_url: DatabaseUrl,
    pub database_pool_size: u32,
    /// How long a request waits for a database connection before answering 503.
    pub database_timeout: Duration,
    pub auth_server_bind: SocketAddr,
    pub resource_api_bind: SocketAddr,
    /// The authorization server's public URL, without a trailing slash.
    pub issuer: String,
    pub redis_url: Option<SecretString>,
    pub key_encryption_key: Option<SecretString>,
    /// Worker threads per server; defaults to the number of cores.
    pub http_workers: usize,
    pub session_idle_timeout: Duration,
    pub session_absolute_lifetime: Duration,
    pub session_max_per_user: u32,
    pub login_max_failures: u32,
    pub login_lockout: Duration,
    /// Whether `X-Forwarded-For` names the client (only behind a proxy that sets it).
    pub trust_proxy_headers: bool,
    /// The task API's public URL: the `aud` of every access token.
    pub resource_api_url: String,
    pub access_token_ttl: Duration,
    /// At most 10 minutes (RFC 6749 §4.1.2); 60 s by default.
    pub authorization_code_ttl: Duration,
    /// A refresh token unused for this long expires.
    pub refresh_token_idle_ttl: Duration,
    /// A refresh token family ends this long after the authorization, however used.
    pub refresh_token_ttl: Duration,
    /// How often each instance reloads the signing keys (a rotation elsewhere shows up).
    pub signing_keys_reload: Duration,
    /// Where resource-api fetches the signing keys; `{ISSUER}/jwks.json` by default.
    pub jwks_url: String,
    /// Browser origins allowed to call the task API and the OAuth endpoints a browser app
    /// uses (`/token`, `/revoke`, the JWKS and metadata); none by default (SECURITY.md 27).
    pub cors_allowed_origins: Vec<String>,
    /// Request limits per IP, client and user (SECURITY.md 26).
    pub rate_limits: RateLimitSettings,
    /// How long security events stay in the audit table.
    pub audit_retention: Duration,
    pub log_format: LogFormat,
}

/// Why the configuration was refused; the message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    FileSyntax { path: PathBuf, message: String },
    #[error("invalid {name}: {message}")]
    Invalid { name: &'static str, message: String },
    #[error("production mode (APP_ENV=production) needs: {}", .0.join("; "))]
    MissingForProduction(Vec<String>),
}

impl Settings {
    /// Reads the TOML file (if given) and then the process environment, which wins.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let file = match config_file {
            Some(path) => source::read_toml_file(path)?,
            None => HashMap::new(),
        };
        settings::read(declare::Source::with_environment(file)).map(|(settings, _)| settings)
    }

    /// Builds settings from explicit values (setting name → value), as tests do.
    pub fn from_values(values: HashMap<String, String>) -> Result<Self, ConfigError> {
        settings::read(declare::Source::values(values)).map(|(settings, _)| settings)
    }

    /// Every setting's declaration, in the order they are read.
    pub fn declarations() -> Vec<Declaration> {
        settings::read(declare::Source::values(HashMap::new()))
            .map(|(_, declared)| declared)
            .unwrap_or_default()
    }

    /// Cookies get `Secure` and the `__Host-` prefix when the issuer is served over https.
    pub fn is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}
