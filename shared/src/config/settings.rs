//! Every setting, declared once (name, default, parser, README line), and [`read`], which
//! builds [`Settings`] from a [`Source`] and applies the checks between settings and the
//! production rules.

use std::net::SocketAddr;
use std::time::Duration;

use super::declare::Default::{Described, Unset, Value};
use super::declare::{Declaration, Setting, Source};
use super::urls::{self, DEFAULT_SQLITE_PATH, DatabaseUrl};
use super::{ConfigError, LogFormat, Mode, SecretString, Settings, rate_limits};
use crate::parse;

// Mode and database.
pub const APP_ENV: Setting<Mode> = Setting {
    name: "APP_ENV",
    default: Value("development"),
    parse: mode,
    doc: r#"`production` refuses to start without an https `ISSUER`, an explicit `DATABASE_URL` and `KEY_ENCRYPTION_KEY`, and says which is missing"#,
};
pub const DATABASE_URL: Setting<DatabaseUrl> = Setting {
    name: "DATABASE_URL",
    default: Described("`./data/oauth.sqlite3`"),
    parse: DatabaseUrl::parse,
    doc: r#"`postgres://…`, `postgresql://…`, `sqlite://PATH` or a file path"#,
};
pub const DATABASE_POOL_SIZE: Setting<u32> = Setting {
    name: "DATABASE_POOL_SIZE",
    default: Value("10"),
    parse: |v| parse::number(v, 1..=1000),
    doc: r#"connections per server (SQLite: at most 8)"#,
};
pub const DATABASE_TIMEOUT: Setting<Duration> = Setting {
    name: "DATABASE_TIMEOUT",
    default: Value("5s"),
    parse: parse::duration_setting,
    doc: r#"wait for a connection before answering 503"#,
};

// HTTP.
pub const AUTH_SERVER_BIND: Setting<SocketAddr> = Setting {
    name: "AUTH_SERVER_BIND",
    default: Value("127.0.0.1:8080"),
    parse: parse::socket_address,
    doc: r#"listen address of auth-server"#,
};
pub const RESOURCE_API_BIND: Setting<SocketAddr> = Setting {
    name: "RESOURCE_API_BIND",
    default: Value("127.0.0.1:8081"),
    parse: parse::socket_address,
    doc: r#"listen address of the task API"#,
};
pub const ISSUER: Setting<String> = Setting {
    name: "ISSUER",
    default: Described("`http://127.0.0.1:8080`"),
    parse: text,
    doc: r#"public URL of auth-server; `http` only for loopback in development. When https: `Secure` `__Host-` cookies and HSTS"#,
};
pub const RESOURCE_API_URL: Setting<String> = Setting {
    name: "RESOURCE_API_URL",
    default: Described("`http://127.0.0.1:8081`"),
    parse: text,
    doc: r#"public URL of the task API: the `aud` of access tokens"#,
};
pub const HTTP_WORKERS: Setting<usize> = Setting {
    name: "HTTP_WORKERS",
    default: Described("cores"),
    parse: |v| parse::number(v, 1..=1024),
    doc: r#"worker threads per server"#,
};
pub const TRUST_PROXY_HEADERS: Setting<bool> = Setting {
    name: "TRUST_PROXY_HEADERS",
    default: Value("false"),
    parse: parse::boolean,
    doc: r#"behind exactly one reverse proxy that appends the client's address to `X-Forwarded-For`: take the client IP from that last entry (earlier entries and `Forwarded` are the client's own claims and are ignored)"#,
};
pub const CORS_ALLOWED_ORIGINS: Setting<Vec<String>> = Setting {
    name: "CORS_ALLOWED_ORIGINS",
    default: Unset,
    parse: origins,
    doc: r#"browser origins allowed to call the task API, `/token`, `/revoke`, the JWKS and metadata from JavaScript: exact origins such as `https://app.example.com`, separated by commas or spaces (see "Browser apps")"#,
};
pub const LOG_FORMAT: Setting<LogFormat> = Setting {
    name: "LOG_FORMAT",
    default: Value("pretty"),
    parse: log_format,
    doc: r#"`json` for one JSON object per line; filter with `RUST_LOG`. Logs go to stderr (colours only when it is a terminal)"#,
};

// Secrets and keys.
pub const KEY_ENCRYPTION_KEY: Setting<SecretString> = Setting {
    name: "KEY_ENCRYPTION_KEY",
    default: Unset,
    parse: key_encryption_key,
    doc: r#"32+ characters; encrypts token-signing keys (required in production)"#,
};
pub const SIGNING_KEYS_RELOAD: Setting<Duration> = Setting {
    name: "SIGNING_KEYS_RELOAD",
    default: Value("60s"),
    parse: parse::duration_setting,
    doc: r#"how often each auth-server reloads the signing keys (a rotation elsewhere shows up) and resource-api refetches the JWKS"#,
};
pub const JWKS_URL: Setting<String> = Setting {
    name: "JWKS_URL",
    default: Described("`{ISSUER}/jwks.json`"),
    parse: http_url,
    doc: r#"where resource-api fetches the signing keys (an internal address works)"#,
};

// Sessions and sign-in.
pub const SESSION_IDLE_TIMEOUT: Setting<Duration> = Setting {
    name: "SESSION_IDLE_TIMEOUT",
    default: Value("30m"),
    parse: parse::duration_setting,
    doc: r#"a session ends after this long without a request"#,
};
pub const SESSION_ABSOLUTE_LIFETIME: Setting<Duration> = Setting {
    name: "SESSION_ABSOLUTE_LIFETIME",
    default: Value("24h"),
    parse: parse::duration_setting,
    doc: r#"a session ends this long after sign-in, however active"#,
};
pub const SESSION_MAX_PER_USER: Setting<u32> = Setting {
    name: "SESSION_MAX_PER_USER",
    default: Value("10"),
    parse: |v| parse::number(v, 1..=1000),
    doc: r#"signing in beyond this ends the user's oldest session"#,
};
pub const LOGIN_MAX_FAILURES: Setting<u32> = Setting {
    name: "LOGIN_MAX_FAILURES",
    default: Value("5"),
    parse: |v| parse::number(v, 1..=1000),
    doc: r#"consecutive failed sign-ins that lock a username"#,
};
pub const LOGIN_LOCKOUT: Setting<Duration> = Setting {
    name: "LOGIN_LOCKOUT",
    default: Value("15m"),
    parse: parse::duration_setting,
    doc: r#"how long the lock lasts"#,
};

// Tokens.
pub const ACCESS_TOKEN_TTL: Setting<Duration> = Setting {
    name: "ACCESS_TOKEN_TTL",
    default: Value("15m"),
    parse: parse::duration_setting,
    doc: r#"lifetime of access tokens"#,
};
pub const AUTHORIZATION_CODE_TTL: Setting<Duration> = Setting {
    name: "AUTHORIZATION_CODE_TTL",
    default: Value("60s"),
    parse: parse::duration_setting,
    doc: r#"lifetime of authorization codes (at most `10m`)"#,
};
pub const REFRESH_TOKEN_IDLE_TTL: Setting<Duration> = Setting {
    name: "REFRESH_TOKEN_IDLE_TTL",
    default: Value("30d"),
    parse: parse::duration_setting,
    doc: r#"a refresh token unused this long expires"#,
};
pub const REFRESH_TOKEN_TTL: Setting<Duration> = Setting {
    name: "REFRESH_TOKEN_TTL",
    default: Value("90d"),
    parse: parse::duration_setting,
    doc: r#"a refresh token family ends this long after the authorization"#,
};

// Audit.
pub const AUDIT_RETENTION: Setting<Duration> = Setting {
    name: "AUDIT_RETENTION",
    default: Value("90d"),
    parse: parse::duration_setting,
    doc: r#"how long security events stay in the audit table"#,
};

fn mode(value: &str) -> Result<Mode, String> {
    match value {
        "development" | "dev" => Ok(Mode::Development),
        "production" | "prod" => Ok(Mode::Production),
        other => Err(format!(
            "`{other}` is neither `development` nor `production`"
        )),
    }
}

fn log_format(value: &str) -> Result<LogFormat, String> {
    match value {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("`{other}` is neither `pretty` nor `json`")),
    }
}

/// A value checked later, against other settings (a public URL against the mode).
fn text(value: &str) -> Result<String, String> {
    Ok(value.to_owned())
}

fn http_url(value: &str) -> Result<String, String> {
    url::Url::parse(value)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http") && url.host().is_some())
        .map(|_| value.to_owned())
        .ok_or_else(|| format!("`{value}` is not an http(s) URL"))
}

fn key_encryption_key(value: &str) -> Result<SecretString, String> {
    if value.len() < 32 {
        return Err(
            "must be at least 32 characters of random data (e.g. `openssl rand -base64 32`)".into(),
        );
    }
    Ok(SecretString::new(value))
}

/// Exact origins, separated by commas or whitespace.
fn origins(list: &str) -> Result<Vec<String>, String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .map(urls::origin)
        .collect()
}

fn invalid(name: &'static str, message: String) -> ConfigError {
    ConfigError::Invalid { name, message }
}

/// Reads every setting from `source` (each one, unconditionally, so that the list of
/// declarations is complete), then checks them together.
pub fn read(mut source: Source) -> Result<(Settings, Vec<Declaration>), ConfigError> {
    let mode = source.get(&APP_ENV)?;
    let database_given = source.is_given(&DATABASE_URL);
    let database_url = source
        .optional(&DATABASE_URL)?
        .unwrap_or_else(|| DatabaseUrl::Sqlite(DEFAULT_SQLITE_PATH.into()));
    // In production an unset issuer is reported with the other missing settings below.
    let issuer = match (source.optional(&ISSUER)?, mode) {
        (Some(value), _) => urls::public_url(&value, mode).map_err(|m| invalid(ISSUER.name, m))?,
        (None, Mode::Development) => "http://127.0.0.1:8080".to_owned(),
        (None, Mode::Production) => String::new(),
    };
    let resource_api_url = match source.optional(&RESOURCE_API_URL)? {
        Some(value) => {
            urls::public_url(&value, mode).map_err(|m| invalid(RESOURCE_API_URL.name, m))?
        }
        None => "http://127.0.0.1:8081".to_owned(),
    };
    let jwks_url = source
        .optional(&JWKS_URL)?
        .unwrap_or_else(|| format!("{issuer}/jwks.json"));
    let settings = Settings {
        mode,
        database_pool_size: source.get(&DATABASE_POOL_SIZE)?,
        database_timeout: source.get(&DATABASE_TIMEOUT)?,
        auth_server_bind: source.get(&AUTH_SERVER_BIND)?,
        resource_api_bind: source.get(&RESOURCE_API_BIND)?,
        http_workers: source
            .optional(&HTTP_WORKERS)?
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
        trust_proxy_headers: source.get(&TRUST_PROXY_HEADERS)?,
        cors_allowed_origins: source.optional(&CORS_ALLOWED_ORIGINS)?.unwrap_or_default(),
        log_format: source.get(&LOG_FORMAT)?,
        key_encryption_key: source.optional(&KEY_ENCRYPTION_KEY)?,
        signing_keys_reload: source.get(&SIGNING_KEYS_RELOAD)?,
        session_idle_timeout: source.get(&SESSION_IDLE_TIMEOUT)?,
        session_absolute_lifetime: source.get(&SESSION_ABSOLUTE_LIFETIME)?,
        session_max_per_user: source.get(&SESSION_MAX_PER_USER)?,
        login_max_failures: source.get(&LOGIN_MAX_FAILURES)?,
        login_lockout: source.get(&LOGIN_LOCKOUT)?,
        access_token_ttl: source.get(&ACCESS_TOKEN_TTL)?,
        authorization_code_ttl: source.get(&AUTHORIZATION_CODE_TTL)?,
        refresh_token_idle_ttl: source.get(&REFRESH_TOKEN_IDLE_TTL)?,
        refresh_token_ttl: source.get(&REFRESH_TOKEN_TTL)?,
        audit_retention: source.get(&AUDIT_RETENTION)?,
        redis_url: source.optional(&rate_limits::REDIS_URL)?,
        rate_limits: rate_limits::read(&mut source)?,
        database_url,
        issuer,
        resource_api_url,
        jwks_url,
    };
    check_together(&settings)?;
    if mode == Mode::Production {
        let mut missing = Vec::new();
        if !settings.issuer.starts_with("https://") {
            missing.push("ISSUER with an https:// URL".to_owned());
        }
        if !database_given {
            missing.push("an explicit DATABASE_URL".to_owned());
        }
        if settings.key_encryption_key.is_none() {
            missing.push("KEY_ENCRYPTION_KEY (the secret that encrypts signing keys)".to_owned());
        }
        if !missing.is_empty() {
            return Err(ConfigError::MissingForProduction(missing));
        }
    }
    let declared = source.finish()?;
    Ok((settings, declared))
}

/// Rules that relate two settings, or cap one (RFC 6749 §4.1.2 for codes).
fn check_together(settings: &Settings) -> Result<(), ConfigError> {
    if settings.authorization_code_ttl > Duration::from_secs(600) {
        return Err(invalid(
            AUTHORIZATION_CODE_TTL.name,
            "must be at most 10m (RFC 6749 §4.1.2)".into(),
        ));
    }
    if settings.refresh_token_ttl < settings.refresh_token_idle_ttl {
        return Err(invalid(
            REFRESH_TOKEN_TTL.name,
            "must not be shorter than REFRESH_TOKEN_IDLE_TTL".into(),
        ));
    }
    if settings.session_absolute_lifetime < settings.session_idle_timeout {
        return Err(invalid(
            SESSION_ABSOLUTE_LIFETIME.name,
            "must not be shorter than SESSION_IDLE_TIMEOUT".into(),
        ));
    }
    Ok(())
}
