//! Settings for both servers, read from environment variables and an optional TOML file.
//!
//! Every setting has one name, used as the environment variable (`SESSION_IDLE_TIMEOUT`)
//! and, lower-cased, as the key in the TOML file (`session_idle_timeout = "30m"`). The
//! environment wins over the file. A bad value stops startup with an error naming the
//! setting; production mode also refuses to start while a required setting is missing.
//!
//! Settings are a value passed to each server's `startup::build`, never a global, so tests can start
//! several servers with different settings in one process.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ratelimit::{self, Penalty, RateLimitSettings, Rule, RuleKind};

/// Where the SQLite file lives when `DATABASE_URL` is not set.
pub const DEFAULT_SQLITE_PATH: &str = "data/oauth.sqlite3";

/// Development runs on loopback with generated secrets; production insists on real ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

/// The database to use, chosen by the URL scheme.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A `postgres://` or `postgresql://` URL, passed to libpq as is.
    Postgres(String),
    /// A SQLite file; created, with its folder, when missing.
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Parses `postgres://…`, `postgresql://…`, `sqlite://PATH` or a plain file path.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(Self::Postgres(value.to_owned()));
        }
        let path = value
            .strip_prefix("sqlite://")
            .or_else(|| value.strip_prefix("sqlite:"))
            .unwrap_or(value);
        if path.is_empty() || path.contains(":memory:") {
            return Err(
                "a SQLite database must be a file path (an in-memory database \
                 would not be shared between pooled connections)"
                    .into(),
            );
        }
        if let Some((scheme, _)) = value.split_once("://")
            && scheme != "sqlite"
        {
            return Err(format!(
                "unsupported scheme `{scheme}`: use postgres://, postgresql://, sqlite:// or a file path"
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// Shows the backend and location but never a password embedded in a PostgreSQL URL.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => f.write_str(&redact_url_password(url)),
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// A secret from the configuration: kept out of `Debug` and logs.
#[derive(Clone)]
pub struct SecretString(String);

impl SecretString {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
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

/// The raw values, by setting name (upper case), from file and environment.
type RawSettings = HashMap<String, String>;

impl Settings {
    /// Reads the TOML file (if given) and then the process environment, which wins.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut raw = match config_file {
            Some(path) => read_toml_file(path)?,
            None => RawSettings::new(),
        };
        for name in SETTING_NAMES {
            if let Ok(value) = std::env::var(name) {
                raw.insert((*name).to_owned(), value);
            }
        }
        Self::from_values(raw)
    }

    /// Builds settings from explicit values (setting name → value), as tests do.
    pub fn from_values(raw: RawSettings) -> Result<Self, ConfigError> {
        let unknown: Vec<&String> = raw
            .keys()
            .filter(|key| !SETTING_NAMES.contains(&key.as_str()))
            .collect();
        if let Some(key) = unknown.first() {
            return Err(ConfigError::Invalid {
                name: "config file",
                message: format!("unknown setting `{}`", key.to_lowercase()),
            });
        }
        let get = |name: &str| raw.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let mode = match get("APP_ENV") {
            None | Some("development") | Some("dev") => Mode::Development,
            Some("production") | Some("prod") => Mode::Production,
            Some(other) => {
                return Err(invalid(
                    "APP_ENV",
                    format!("`{other}` is neither `development` nor `production`"),
                ));
            }
        };
        let database_url = match get("DATABASE_URL") {
            Some(value) => DatabaseUrl::parse(value).map_err(|m| invalid("DATABASE_URL", m))?,
            None => DatabaseUrl::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH)),
        };
        // In production an unset issuer is reported with the other missing settings below.
        let issuer = match (get("ISSUER"), mode) {
            (Some(value), _) => parse_issuer(value, mode).map_err(|m| invalid("ISSUER", m))?,
            (None, Mode::Development) => "http://127.0.0.1:8080".to_owned(),
            (None, Mode::Production) => String::new(),
        };

        let settings = Settings {
            mode,
            database_pool_size: parse_number(
                get("DATABASE_POOL_SIZE"),
                "DATABASE_POOL_SIZE",
                10,
                1..=1000,
            )?,
            database_timeout: parse_duration_setting(
                get("DATABASE_TIMEOUT"),
                "DATABASE_TIMEOUT",
                "5s",
            )?,
            auth_server_bind: parse_bind(
                get("AUTH_SERVER_BIND"),
                "AUTH_SERVER_BIND",
                "127.0.0.1:8080",
            )?,
            resource_api_bind: parse_bind(
                get("RESOURCE_API_BIND"),
                "RESOURCE_API_BIND",
                "127.0.0.1:8081",
            )?,
            redis_url: get("REDIS_URL").map(|v| SecretString(v.to_owned())),
            key_encryption_key: get("KEY_ENCRYPTION_KEY").map(|v| SecretString(v.to_owned())),
            http_workers: parse_number(
                get("HTTP_WORKERS"),
                "HTTP_WORKERS",
                std::thread::available_parallelism().map_or(2, usize::from),
                1..=1024,
            )?,
            session_idle_timeout: parse_duration_setting(
                get("SESSION_IDLE_TIMEOUT"),
                "SESSION_IDLE_TIMEOUT",
                "30m",
            )?,
            session_absolute_lifetime: parse_duration_setting(
                get("SESSION_ABSOLUTE_LIFETIME"),
                "SESSION_ABSOLUTE_LIFETIME",
                "24h",
            )?,
            session_max_per_user: parse_number(
                get("SESSION_MAX_PER_USER"),
                "SESSION_MAX_PER_USER",
                10,
                1..=1000,
            )?,
            login_max_failures: parse_number(
                get("LOGIN_MAX_FAILURES"),
                "LOGIN_MAX_FAILURES",
                5,
                1..=1000,
            )?,
            login_lockout: parse_duration_setting(get("LOGIN_LOCKOUT"), "LOGIN_LOCKOUT", "15m")?,
            trust_proxy_headers: parse_bool(
                get("TRUST_PROXY_HEADERS"),
                "TRUST_PROXY_HEADERS",
                false,
            )?,
            resource_api_url: match get("RESOURCE_API_URL") {
                Some(value) => {
                    parse_public_url(value, mode).map_err(|m| invalid("RESOURCE_API_URL", m))?
                }
                None => "http://127.0.0.1:8081".to_owned(),
            },
            access_token_ttl: parse_duration_setting(
                get("ACCESS_TOKEN_TTL"),
                "ACCESS_TOKEN_TTL",
                "15m",
            )?,
            authorization_code_ttl: parse_duration_setting(
                get("AUTHORIZATION_CODE_TTL"),
                "AUTHORIZATION_CODE_TTL",
                "60s",
            )?,
            refresh_token_idle_ttl: parse_duration_setting(
                get("REFRESH_TOKEN_IDLE_TTL"),
                "REFRESH_TOKEN_IDLE_TTL",
                "30d",
            )?,
            refresh_token_ttl: parse_duration_setting(
                get("REFRESH_TOKEN_TTL"),
                "REFRESH_TOKEN_TTL",
                "90d",
            )?,
            signing_keys_reload: parse_duration_setting(
                get("SIGNING_KEYS_RELOAD"),
                "SIGNING_KEYS_RELOAD",
                "60s",
            )?,
            jwks_url: match get("JWKS_URL") {
                Some(value) if value.starts_with("https://") || value.starts_with("http://") => {
                    value.to_owned()
                }
                Some(value) => {
                    return Err(invalid(
                        "JWKS_URL",
                        format!("`{value}` is not an http(s) URL"),
                    ));
                }
                None => format!("{issuer}/jwks.json"),
            },
            rate_limits: parse_rate_limits(&get)?,
            audit_retention: parse_duration_setting(
                get("AUDIT_RETENTION"),
                "AUDIT_RETENTION",
                "90d",
            )?,
            cors_allowed_origins: match get("CORS_ALLOWED_ORIGINS") {
                None => Vec::new(),
                Some(list) => list
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|item| !item.is_empty())
                    .map(parse_origin)
                    .collect::<Result<_, _>>()
                    .map_err(|message| invalid("CORS_ALLOWED_ORIGINS", message))?,
            },
            log_format: match get("LOG_FORMAT") {
                None | Some("pretty") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(invalid(
                        "LOG_FORMAT",
                        format!("`{other}` is neither `pretty` nor `json`"),
                    ));
                }
            },
            database_url,
            issuer,
        };
        if let Some(key) = &settings.key_encryption_key
            && key.expose().len() < 32
        {
            return Err(invalid(
                "KEY_ENCRYPTION_KEY",
                "must be at least 32 characters of random data (e.g. `openssl rand -base64 32`)"
                    .into(),
            ));
        }
        if settings.authorization_code_ttl > Duration::from_secs(600) {
            return Err(invalid(
                "AUTHORIZATION_CODE_TTL",
                "must be at most 10m (RFC 6749 §4.1.2)".into(),
            ));
        }
        if settings.refresh_token_ttl < settings.refresh_token_idle_ttl {
            return Err(invalid(
                "REFRESH_TOKEN_TTL",
                "must not be shorter than REFRESH_TOKEN_IDLE_TTL".into(),
            ));
        }
        if settings.session_absolute_lifetime < settings.session_idle_timeout {
            return Err(invalid(
                "SESSION_ABSOLUTE_LIFETIME",
                "must not be shorter than SESSION_IDLE_TIMEOUT".into(),
            ));
        }
        if mode == Mode::Production {
            let mut missing = Vec::new();
            if !settings.issuer.starts_with("https://") {
                missing.push("ISSUER with an https:// URL".to_owned());
            }
            if get("DATABASE_URL").is_none() {
                missing.push("an explicit DATABASE_URL".to_owned());
            }
            if settings.key_encryption_key.is_none() {
                missing
                    .push("KEY_ENCRYPTION_KEY (the secret that encrypts signing keys)".to_owned());
            }
            if !missing.is_empty() {
                return Err(ConfigError::MissingForProduction(missing));
            }
        }
        Ok(settings)
    }

    /// Cookies get `Secure` and the `__Host-` prefix when the issuer is served over https.
    pub fn is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}

/// Every setting name; anything else in a config file is a typo and is refused.
pub const SETTING_NAMES: &[&str] = &[
    "APP_ENV",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "DATABASE_TIMEOUT",
    "AUTH_SERVER_BIND",
    "RESOURCE_API_BIND",
    "ISSUER",
    "REDIS_URL",
    "KEY_ENCRYPTION_KEY",
    "HTTP_WORKERS",
    "SESSION_IDLE_TIMEOUT",
    "SESSION_ABSOLUTE_LIFETIME",
    "SESSION_MAX_PER_USER",
    "LOGIN_MAX_FAILURES",
    "LOGIN_LOCKOUT",
    "TRUST_PROXY_HEADERS",
    "LOG_FORMAT",
    "RESOURCE_API_URL",
    "ACCESS_TOKEN_TTL",
    "AUTHORIZATION_CODE_TTL",
    "REFRESH_TOKEN_IDLE_TTL",
    "REFRESH_TOKEN_TTL",
    "SIGNING_KEYS_RELOAD",
    "JWKS_URL",
    "CORS_ALLOWED_ORIGINS",
    "RATE_LIMITS",
    "RATE_LIMIT_PER_IP",
    "RATE_LIMIT_LOGIN",
    "RATE_LIMIT_REGISTER",
    "RATE_LIMIT_AUTHORIZE",
    "RATE_LIMIT_TOKEN",
    "RATE_LIMIT_PER_CLIENT",
    "RATE_LIMIT_PER_USER",
    "RATE_LIMIT_BLOCK",
    "REDIS_KEY_PREFIX",
    "AUDIT_RETENTION",
];

/// The `RATE_LIMIT_*` settings: each a rule `N/period`; sign-up's is a sliding window,
/// the others token buckets.
fn parse_rate_limits<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<RateLimitSettings, ConfigError> {
    let rule = |name: &'static str, default: &'static str, kind: RuleKind| {
        let value = get(name).unwrap_or(default);
        Rule::parse(value, kind).ok_or_else(|| {
            invalid(
                name,
                format!("`{value}` is not a limit like 10/1m (1 to 1000000 requests per period)"),
            )
        })
    };
    let block = parse_duration_setting(get("RATE_LIMIT_BLOCK"), "RATE_LIMIT_BLOCK", "5m")?;
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    Ok(RateLimitSettings {
        enabled: parse_bool(get("RATE_LIMITS"), "RATE_LIMITS", true)?,
        per_ip: rule("RATE_LIMIT_PER_IP", "6000/1m", RuleKind::Bucket)?,
        login: rule("RATE_LIMIT_LOGIN", "10/1m", RuleKind::Bucket)?,
        register: rule("RATE_LIMIT_REGISTER", "20/1h", RuleKind::Window)?,
        authorize: rule("RATE_LIMIT_AUTHORIZE", "60/1m", RuleKind::Bucket)?,
        token: rule("RATE_LIMIT_TOKEN", "300/1m", RuleKind::Bucket)?,
        per_client: rule("RATE_LIMIT_PER_CLIENT", "600/1m", RuleKind::Bucket)?,
        per_user: rule("RATE_LIMIT_PER_USER", "1200/1m", RuleKind::Bucket)?,
        penalty: Penalty {
            violations: ratelimit::VIOLATIONS_BEFORE_BLOCK,
            base_block_us: micros(block),
            max_block_us: micros(ratelimit::MAX_BLOCK.max(block)),
            memory_us: micros(ratelimit::BLOCK_MEMORY),
        },
        redis_key_prefix: get("REDIS_KEY_PREFIX").unwrap_or("oauth:rl:").to_owned(),
    })
}

/// One exact origin as a browser sends it in `Origin` (RFC 6454 §6.2): scheme, host and a
/// non-default port, lower case, nothing else. Anything a browser would never send is
/// refused, since it could only ever fail to match.
fn parse_origin(value: &str) -> Result<String, String> {
    let origin = value.to_ascii_lowercase();
    if origin == "*" || origin == "null" {
        return Err(format!(
            "`{value}` is not allowed: list each origin exactly (e.g. https://app.example.com)"
        ));
    }
    let (scheme, authority) = origin
        .split_once("://")
        .filter(|(scheme, _)| *scheme == "https" || *scheme == "http")
        .ok_or_else(|| format!("`{value}` is not an http(s) origin"))?;
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', '*']) {
        return Err(format!(
            "`{value}` is not an origin: scheme://host[:port], with no path or trailing slash"
        ));
    }
    // The port is what follows the last colon, unless that colon is inside an IPv6 literal.
    if let Some((host, port)) = authority.rsplit_once(':').filter(|(_, p)| !p.contains(']')) {
        let default_port = if scheme == "https" { "443" } else { "80" };
        if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(format!("`{value}` has an invalid host or port"));
        }
        if port == default_port {
            return Err(format!(
                "`{value}`: leave out the default port {default_port}; browsers do not send it"
            ));
        }
    }
    Ok(origin)
}

fn invalid(name: &'static str, message: String) -> ConfigError {
    ConfigError::Invalid { name, message }
}

fn read_toml_file(path: &Path) -> Result<RawSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
        path: path.to_owned(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::FileSyntax {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut raw = RawSettings::new();
    for (key, value) in table {
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(ConfigError::FileSyntax {
                    path: path.to_owned(),
                    message: format!(
                        "`{key}` must be a string, integer or boolean, not {}",
                        other.type_str()
                    ),
                });
            }
        };
        raw.insert(key.to_uppercase(), value);
    }
    Ok(raw)
}

/// The issuer is an absolute http(s) URL with no query or fragment (RFC 8414 §2).
/// Plain http is accepted only for a loopback host, and only in development.
fn parse_issuer(value: &str, mode: Mode) -> Result<String, String> {
    parse_public_url(value, mode)
}

/// A public base URL of one of our servers: http(s), no query or fragment, no trailing
/// slash; plain http only for a loopback host in development.
fn parse_public_url(value: &str, mode: Mode) -> Result<String, String> {
    let value = value.trim_end_matches('/');
    let (scheme, rest) = value
        .split_once("://")
        .ok_or_else(|| format!("`{value}` is not an absolute URL"))?;
    if value.contains(['?', '#']) || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain a query, a fragment or whitespace".into());
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("`{value}` has no valid host"));
    }
    let host = host_of(authority);
    match scheme {
        "https" => Ok(value.to_owned()),
        "http" if mode == Mode::Development && is_loopback_host(host) => Ok(value.to_owned()),
        "http" => Err(format!(
            "`{value}`: http is allowed only for a loopback host in development; use https"
        )),
        other => Err(format!("unsupported scheme `{other}`")),
    }
}

fn host_of(authority: &str) -> &str {
    if let Some(bracketed) = authority.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or_default();
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _port)| host)
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn parse_bind(
    value: Option<&str>,
    name: &'static str,
    default: &str,
) -> Result<SocketAddr, ConfigError> {
    let value = value.unwrap_or(default);
    value.parse().map_err(|_| {
        invalid(
            name,
            format!("`{value}` is not an address like 127.0.0.1:8080"),
        )
    })
}

fn parse_number<T>(
    value: Option<&str>,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(value) = value else {
        return Ok(default);
    };
    match value.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(invalid(
            name,
            format!(
                "`{value}` is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

fn parse_bool(value: Option<&str>, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(other) => Err(invalid(name, format!("`{other}` is not true or false"))),
    }
}

fn parse_duration_setting(
    value: Option<&str>,
    name: &'static str,
    default: &str,
) -> Result<Duration, ConfigError> {
    let value = value.unwrap_or(default);
    parse_duration(value).ok_or_else(|| {
        invalid(
            name,
            format!(
                "`{value}` is not a duration like 90s, 30m, 24h or 7d (plain numbers are seconds; at most 3650d)"
            ),
        )
    })
}

/// The longest duration any setting takes: beyond it, adding a duration to a timestamp
/// could overflow (and panic) where it is used.
const MAX_DURATION_SECONDS: u64 = 10 * 365 * 86_400;

/// `"90"`, `"90s"`, `"30m"`, `"24h"`, `"7d"` → a positive duration of at most ten years.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let amount: u64 = digits.parse().ok()?;
    let seconds_per_unit = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    let seconds = amount.checked_mul(seconds_per_unit)?;
    (1..=MAX_DURATION_SECONDS)
        .contains(&seconds)
        .then(|| Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> RawSettings {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_development_on_sqlite_and_loopback() {
        let settings = Settings::from_values(RawSettings::new()).unwrap();
        assert_eq!(settings.mode, Mode::Development);
        assert_eq!(
            settings.database_url,
            DatabaseUrl::Sqlite(DEFAULT_SQLITE_PATH.into())
        );
        assert_eq!(settings.auth_server_bind.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.resource_api_bind.to_string(), "127.0.0.1:8081");
        assert_eq!(settings.issuer, "http://127.0.0.1:8080");
        assert_eq!(settings.session_idle_timeout, Duration::from_secs(1800));
        assert_eq!(
            settings.session_absolute_lifetime,
            Duration::from_secs(86_400)
        );
        assert_eq!(settings.login_max_failures, 5);
        assert_eq!(settings.login_lockout, Duration::from_secs(900));
        assert!(!settings.is_https());
    }

    #[test]
    fn database_url_scheme_picks_the_backend() {
        assert!(
            DatabaseUrl::parse("postgres://u@h/db")
                .unwrap()
                .is_postgres()
        );
        assert!(
            DatabaseUrl::parse("postgresql://u@h/db")
                .unwrap()
                .is_postgres()
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///abs/x.db").unwrap(),
            DatabaseUrl::Sqlite("/abs/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("x.db").unwrap(),
            DatabaseUrl::Sqlite("x.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
    }

    #[test]
    fn database_url_debug_hides_the_password() {
        let url =
            DatabaseUrl::parse("postgres://app:hunter2@db:5432/prod?sslmode=require").unwrap();
        let shown = format!("{url:?} {url}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://app:***@db:5432/prod"), "{shown}");
    }

    #[test]
    fn a_bad_value_names_the_setting() {
        for (name, value) in [
            ("AUTH_SERVER_BIND", "nonsense"),
            ("SESSION_IDLE_TIMEOUT", "soon"),
            ("SESSION_MAX_PER_USER", "0"),
            ("APP_ENV", "staging"),
            ("ISSUER", "ftp://x"),
            ("TRUST_PROXY_HEADERS", "maybe"),
            ("KEY_ENCRYPTION_KEY", "short"),
            ("AUTHORIZATION_CODE_TTL", "11m"),
            ("RESOURCE_API_URL", "http://api.example.com"),
            ("REFRESH_TOKEN_TTL", "1d"),
        ] {
            let error = Settings::from_values(values(&[(name, value)])).unwrap_err();
            assert!(error.to_string().contains(name), "{name}: {error}");
        }
    }

    #[test]
    fn http_issuer_only_for_loopback_in_development() {
        for ok in [
            "http://localhost:8080",
            "http://127.0.0.1",
            "http://[::1]:9000",
        ] {
            assert!(
                Settings::from_values(values(&[("ISSUER", ok)])).is_ok(),
                "{ok}"
            );
        }
        let error =
            Settings::from_values(values(&[("ISSUER", "http://auth.example.com")])).unwrap_err();
        assert!(error.to_string().contains("loopback"), "{error}");
    }

    #[test]
    fn production_lists_everything_missing() {
        let error = Settings::from_values(values(&[("APP_ENV", "production")])).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("https"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
        assert!(message.contains("KEY_ENCRYPTION_KEY"), "{message}");

        let ok = Settings::from_values(values(&[
            ("APP_ENV", "production"),
            ("ISSUER", "https://auth.example.com/"),
            ("DATABASE_URL", "postgres://app@db/prod"),
            ("KEY_ENCRYPTION_KEY", "0123456789abcdef0123456789abcdef"),
        ]))
        .unwrap();
        assert_eq!(ok.issuer, "https://auth.example.com");
        assert!(ok.is_https());
        assert!(!format!("{ok:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(
            parse_duration("3650d"),
            Some(Duration::from_secs(3650 * 86_400))
        );
        for bad in ["", "0", "-5", "5x", "m", "99999999999999999999d", "3651d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        // A setting too long to add to a timestamp is refused at startup, not at use.
        let error = Settings::from_values(values(&[("SESSION_ABSOLUTE_LIFETIME", "100000d")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("SESSION_ABSOLUTE_LIFETIME"), "{error}");
    }

    #[test]
    fn toml_file_is_read_and_environment_names_are_its_keys() {
        let dir = std::env::temp_dir().join(format!("cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(
            &path,
            "session_max_per_user = 3\nissuer = \"http://localhost:9000\"\n",
        )
        .unwrap();
        let raw = read_toml_file(&path).unwrap();
        let settings = Settings::from_values(raw).unwrap();
        assert_eq!(settings.session_max_per_user, 3);
        assert_eq!(settings.issuer, "http://localhost:9000");

        std::fs::write(&path, "sesion_max_per_user = 3\n").unwrap();
        let error = Settings::from_values(read_toml_file(&path).unwrap()).unwrap_err();
        assert!(error.to_string().contains("sesion_max_per_user"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn cors_origins_are_exact_and_as_browsers_send_them() {
        let parse = |list: &str| {
            Settings::from_values(values(&[("CORS_ALLOWED_ORIGINS", list)]))
                .map(|s| s.cors_allowed_origins)
        };
        assert_eq!(
            parse("https://App.example.com, http://127.0.0.1:5173\thttp://[::1]:3000").unwrap(),
            [
                "https://app.example.com",
                "http://127.0.0.1:5173",
                "http://[::1]:3000"
            ]
        );
        assert!(
            Settings::from_values(RawSettings::new())
                .unwrap()
                .cors_allowed_origins
                .is_empty()
        );
        for refused in [
            "*",
            "null",
            "https://app.example.com/",
            "https://app.example.com/path",
            "app.example.com",
            "ftp://app.example.com",
            "https://*.example.com",
            "https://app.example.com:443",
            "https://app.example.com:0",
            "https://app.example.com:99999",
            "https://",
        ] {
            let error = parse(refused).unwrap_err().to_string();
            assert!(error.contains("CORS_ALLOWED_ORIGINS"), "{refused}: {error}");
        }
    }
}
