//! Settings for both servers, read from environment variables and an optional TOML file.
//!
//! Every setting has one name, used as the environment variable (`SESSION_IDLE_TIMEOUT`)
//! and, lower-cased, as the key in the TOML file (`session_idle_timeout = "30m"`). The
//! environment wins over the file. A bad value stops startup with an error naming the
//! setting; production mode also refuses to start while a required setting is missing.
//!
//! Each setting is declared once, in its section's module, with its default, parser and the line
//! README shows for it ([`declare`]); a test holds README's table and `.env.example` to
//! those declarations. Settings are a value passed to each server's `startup::build`,
//! never a global, so tests can start several servers with different settings in one
//! process.
//!
//! - [`declare`]: a setting's declaration, and reading one from the sources.
//! - [`source`]: the TOML file.
//! - [`urls`]: database URLs, our public URLs, browser origins.
//! - [`secret`]: values kept out of `Debug`.
//! - [`database`], [`http`], [`accounts`], [`tokens`], [`mail`], [`rate_limits`]: the
//!   sections, each with the declarations of its settings.
//! - [`settings`]: the process-wide settings, and reading them all.

pub mod accounts;
pub mod database;
pub mod declare;
pub mod http;
pub mod mail;
pub mod rate_limits;
pub mod secret;
mod settings;
mod source;
pub mod tokens;
pub mod urls;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use self::accounts::{LoginSettings, PasswordHashSettings, SessionSettings};
pub use self::database::DatabaseSettings;
pub use self::declare::Declaration;
pub use self::http::{HttpSettings, PublicUrls, TlsFiles};
pub use self::mail::{MailSettings, MailTransport};
pub use self::rate_limits::RateLimitSettings;
pub use self::secret::SecretString;
pub use self::tokens::{KeySettings, TokenSettings};
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

/// Everything both servers can be configured with, by section; each consumer takes its
/// own section (`build_pool(&settings.database)`). See README, "Configuration".
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub log_format: LogFormat,
    /// Where traces are sent (OTLP/HTTP base URL); `None`: no traces.
    pub otlp_endpoint: Option<String>,
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub urls: PublicUrls,
    pub keys: KeySettings,
    pub sessions: SessionSettings,
    pub login: LoginSettings,
    /// Sign-in and sign-up password hashing: its threads and queue.
    pub password_hashing: PasswordHashSettings,
    pub tokens: TokenSettings,
    /// Verification and password-reset messages.
    pub mail: MailSettings,
    /// Request limits per IP, client and user (SECURITY.md 26).
    pub rate_limits: RateLimitSettings,
    pub audit: AuditSettings,
}

/// The audit table (SECURITY.md 30).
#[derive(Debug, Clone, Copy)]
pub struct AuditSettings {
    /// How long security events stay in the audit table.
    pub retention: Duration,
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
        self.urls.is_https()
    }
}
