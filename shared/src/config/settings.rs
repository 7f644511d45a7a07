//! The settings of the whole process — the mode, the log format, where traces go, the audit retention —
//! and [`read`], which builds [`Settings`] section by section from a [`Source`] and applies
//! the production rules.

use std::time::Duration;

use super::declare::Default::{Unset, Value};
use super::declare::{Declaration, Setting, Source};
use super::{
    AuditSettings, ConfigError, LogFormat, Mode, Settings, accounts, database, http, mail,
    rate_limits, tokens,
};
use crate::parse;

pub const APP_ENV: Setting<Mode> = Setting {
    name: "APP_ENV",
    default: Value("development"),
    parse: mode,
    doc: r#"`production` refuses to start without an https `ISSUER`, an explicit `DATABASE_URL`, `KEY_ENCRYPTION_KEY`, a mail transport other than the log (`SMTP_URL`), and TLS (`TLS_CERT_FILE`) or a proxy in front that terminates it (`TRUST_PROXY_HEADERS`), and says which is missing"#,
};
pub const LOG_FORMAT: Setting<LogFormat> = Setting {
    name: "LOG_FORMAT",
    default: Value("pretty"),
    parse: log_format,
    doc: r#"`json` for one JSON object per line; filter with `RUST_LOG`. Logs go to stderr (colours only when it is a terminal)"#,
};
pub const OTEL_EXPORTER_OTLP_ENDPOINT: Setting<String> = Setting {
    name: "OTEL_EXPORTER_OTLP_ENDPOINT",
    default: Unset,
    parse: otlp_endpoint,
    doc: r#"OpenTelemetry collector (OTLP over HTTP with protobuf, `http://127.0.0.1:4318`): each server sends its traces to `{…}/v1/traces`; unset: no traces (see "Traces")"#,
};
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

/// An http(s) base URL without credentials (those go in `OTEL_EXPORTER_OTLP_HEADERS`,
/// which the exporter reads itself), a query or a fragment.
fn otlp_endpoint(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|e| format!("`{value}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("`{value}` is not an http(s) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold credentials; give them in OTEL_EXPORTER_OTLP_HEADERS".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn log_format(value: &str) -> Result<LogFormat, String> {
    match value {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("`{other}` is neither `pretty` nor `json`")),
    }
}

/// Reads every setting from `source` (each one, unconditionally, so that the list of
/// declarations is complete), section by section, then applies the production rules.
pub fn read(mut source: Source) -> Result<(Settings, Vec<Declaration>), ConfigError> {
    let mode = source.get(&APP_ENV)?;
    let settings = Settings {
        mode,
        log_format: source.get(&LOG_FORMAT)?,
        otlp_endpoint: source.optional(&OTEL_EXPORTER_OTLP_ENDPOINT)?,
        database: database::read(&mut source)?,
        http: http::read(&mut source)?,
        urls: http::read_urls(&mut source, mode)?,
        keys: tokens::read_keys(&mut source)?,
        sessions: accounts::read_sessions(&mut source)?,
        login: accounts::read_login(&mut source)?,
        password_hashing: accounts::read_password_hashing(&mut source)?,
        tokens: tokens::read_tokens(&mut source)?,
        mail: mail::read(&mut source)?,
        rate_limits: rate_limits::read(&mut source)?,
        audit: AuditSettings {
            retention: source.get(&AUDIT_RETENTION)?,
        },
    };
    if mode == Mode::Production {
        let mut missing = Vec::new();
        if !settings.urls.issuer.starts_with("https://") {
            missing.push("ISSUER with an https:// URL".to_owned());
        }
        if !settings.database.url_given {
            missing.push("an explicit DATABASE_URL".to_owned());
        }
        if settings.keys.encryption_key.is_none() {
            missing.push("KEY_ENCRYPTION_KEY (the secret that encrypts signing keys)".to_owned());
        }
        if settings.mail.transport == mail::MailTransport::Log {
            missing.push(
                "SMTP_URL, or MAIL_TRANSPORT=file:DIR (the log transport would write \
                 password-reset links to the log)"
                    .to_owned(),
            );
        }
        if settings.http.tls.is_none() && !settings.http.trust_proxy_headers {
            missing.push(
                "TLS_CERT_FILE and TLS_KEY_FILE, or TRUST_PROXY_HEADERS=true behind a reverse \
                 proxy that terminates TLS (plain http would carry passwords and tokens in \
                 the clear)"
                    .to_owned(),
            );
        }
        if !missing.is_empty() {
            return Err(ConfigError::MissingForProduction(missing));
        }
    }
    let declared = source.finish()?;
    Ok((settings, declared))
}
