//! The HTTP section — where each server listens, with how many workers, behind which
//! proxy, for which browser origins — and our public URLs (the issuer, RFC 8414 §2; the
//! task API's, which is every access token's `aud`; the JWKS the task API reads).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::declare::Default::{Described, Unset, Value};
use super::declare::{self, Setting, Source};
use super::urls;
use super::{ConfigError, Mode};
use crate::parse;

/// Listeners and what arrives on them.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub auth_server_bind: SocketAddr,
    pub resource_api_bind: SocketAddr,
    /// Where each server serves `/metrics`, on a listener of its own; `None`: no metrics
    /// listener.
    pub auth_server_metrics_bind: Option<SocketAddr>,
    pub resource_api_metrics_bind: Option<SocketAddr>,
    /// Worker threads per server; defaults to the number of cores.
    pub workers: usize,
    /// Whether `X-Forwarded-For` names the client (only behind a proxy that sets it).
    pub trust_proxy_headers: bool,
    /// The certificate and key of the TLS listener; `None`: plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Browser origins allowed to call the task API and the OAuth endpoints a browser app
    /// uses (`/token`, `/revoke`, the JWKS and metadata); none by default (SECURITY.md 27).
    pub cors_allowed_origins: Vec<String>,
}

/// The PEM files both servers' public listeners serve TLS with, watched for changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub certificate: PathBuf,
    /// The private key of the leaf (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Where the servers are reached from outside.
#[derive(Debug, Clone)]
pub struct PublicUrls {
    /// The authorization server's public URL, without a trailing slash.
    pub issuer: String,
    /// The task API's public URL: the `aud` of every access token.
    pub resource_api_url: String,
    /// Where resource-api fetches the signing keys; `{ISSUER}/jwks.json` by default.
    pub jwks_url: String,
}

impl PublicUrls {
    /// Cookies get `Secure` and the `__Host-` prefix, and responses HSTS, when the issuer
    /// is served over https.
    pub fn is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}

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
pub const AUTH_SERVER_METRICS_BIND: Setting<SocketAddr> = Setting {
    name: "AUTH_SERVER_METRICS_BIND",
    default: Unset,
    parse: parse::socket_address,
    doc: r#"where auth-server serves Prometheus metrics (`GET /metrics`), on a listener of its own that the public port never answers for (`127.0.0.1:9090`); unset: none (see "Metrics")"#,
};
pub const RESOURCE_API_METRICS_BIND: Setting<SocketAddr> = Setting {
    name: "RESOURCE_API_METRICS_BIND",
    default: Unset,
    parse: parse::socket_address,
    doc: r#"the same for the task API (`127.0.0.1:9091`)"#,
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
pub const TLS_CERT_FILE: Setting<PathBuf> = Setting {
    name: "TLS_CERT_FILE",
    default: Unset,
    parse: path,
    doc: r#"PEM certificate chain (leaf first): both servers then serve HTTPS on their `*_BIND` address with rustls, and load the files again within seconds of a change, without dropping connections (see "TLS"); needs `TLS_KEY_FILE`"#,
};
pub const TLS_KEY_FILE: Setting<PathBuf> = Setting {
    name: "TLS_KEY_FILE",
    default: Unset,
    parse: path,
    doc: r#"PEM private key of that certificate (PKCS#8, RSA or EC)"#,
};
pub const CORS_ALLOWED_ORIGINS: Setting<Vec<String>> = Setting {
    name: "CORS_ALLOWED_ORIGINS",
    default: Unset,
    parse: origins,
    doc: r#"browser origins allowed to call the task API, `/token`, `/revoke`, the JWKS and metadata from JavaScript: exact origins such as `https://app.example.com`, separated by commas or spaces (see "Browser apps")"#,
};
pub const ISSUER: Setting<String> = Setting {
    name: "ISSUER",
    default: Described("`http://127.0.0.1:8080`"),
    parse: declare::text,
    doc: r#"public URL of auth-server; `http` only for loopback in development. When https: `Secure` `__Host-` cookies and HSTS"#,
};
pub const RESOURCE_API_URL: Setting<String> = Setting {
    name: "RESOURCE_API_URL",
    default: Described("`http://127.0.0.1:8081`"),
    parse: declare::text,
    doc: r#"public URL of the task API: the `aud` of access tokens"#,
};
pub const JWKS_URL: Setting<String> = Setting {
    name: "JWKS_URL",
    default: Described("`{ISSUER}/jwks.json`"),
    parse: http_url,
    doc: r#"where resource-api fetches the signing keys (an internal address works)"#,
};

fn path(value: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(value))
}

fn http_url(value: &str) -> Result<String, String> {
    url::Url::parse(value)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http") && url.host().is_some())
        .map(|_| value.to_owned())
        .ok_or_else(|| format!("`{value}` is not an http(s) URL"))
}

/// Exact origins, separated by commas or whitespace.
fn origins(list: &str) -> Result<Vec<String>, String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .map(urls::origin)
        .collect()
}

pub fn read(source: &mut Source) -> Result<HttpSettings, ConfigError> {
    Ok(HttpSettings {
        auth_server_bind: source.get(&AUTH_SERVER_BIND)?,
        resource_api_bind: source.get(&RESOURCE_API_BIND)?,
        auth_server_metrics_bind: source.optional(&AUTH_SERVER_METRICS_BIND)?,
        resource_api_metrics_bind: source.optional(&RESOURCE_API_METRICS_BIND)?,
        workers: source
            .optional(&HTTP_WORKERS)?
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
        trust_proxy_headers: source.get(&TRUST_PROXY_HEADERS)?,
        tls: read_tls(source)?,
        cors_allowed_origins: source.optional(&CORS_ALLOWED_ORIGINS)?.unwrap_or_default(),
    })
}

/// The TLS files: both, or neither.
fn read_tls(source: &mut Source) -> Result<Option<TlsFiles>, ConfigError> {
    let certificate = source.optional(&TLS_CERT_FILE)?;
    let key = source.optional(&TLS_KEY_FILE)?;
    match (certificate, key) {
        (Some(certificate), Some(key)) => Ok(Some(TlsFiles { certificate, key })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::Invalid {
            name: TLS_KEY_FILE.name,
            message: "is needed with TLS_CERT_FILE (the certificate's private key)".into(),
        }),
        (None, Some(_)) => Err(ConfigError::Invalid {
            name: TLS_CERT_FILE.name,
            message: "is needed with TLS_KEY_FILE (the certificate the key belongs to)".into(),
        }),
    }
}

/// The public URLs; plain `http` only for a loopback host in development. In production an
/// unset issuer is left empty, for the production check to report with the rest.
pub fn read_urls(source: &mut Source, mode: Mode) -> Result<PublicUrls, ConfigError> {
    let invalid = |name: &'static str| move |message| ConfigError::Invalid { name, message };
    let issuer = match (source.optional(&ISSUER)?, mode) {
        (Some(value), _) => urls::public_url(&value, mode).map_err(invalid(ISSUER.name))?,
        (None, Mode::Development) => "http://127.0.0.1:8080".to_owned(),
        (None, Mode::Production) => String::new(),
    };
    let resource_api_url = match source.optional(&RESOURCE_API_URL)? {
        Some(value) => urls::public_url(&value, mode).map_err(invalid(RESOURCE_API_URL.name))?,
        None => "http://127.0.0.1:8081".to_owned(),
    };
    let jwks_url = source
        .optional(&JWKS_URL)?
        .unwrap_or_else(|| format!("{issuer}/jwks.json"));
    Ok(PublicUrls {
        issuer,
        resource_api_url,
        jwks_url,
    })
}
