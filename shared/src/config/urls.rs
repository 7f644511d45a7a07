//! The URLs settings name, each read by a parser for its kind: the database URL (which
//! picks the backend, and is shown with its password hidden), our servers' public URLs
//! (the issuer, RFC 8414 §2), and browser origins for CORS (RFC 6454). Public URLs and
//! origins are parsed by the WHATWG URL Standard, then compared as parsed values.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use url::{Host, Url};

use super::Mode;

/// Where the SQLite file lives when `DATABASE_URL` is not set.
pub const DEFAULT_SQLITE_PATH: &str = "data/oauth.sqlite3";

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
        match value.split_once("://").map(|(scheme, _)| scheme) {
            Some("postgres" | "postgresql") => {
                return Url::parse(value)
                    .map(|_| Self::Postgres(value.to_owned()))
                    .map_err(|e| format!("not a valid PostgreSQL URL: {e}"));
            }
            Some("sqlite") | None => {}
            Some(scheme) => {
                return Err(format!(
                    "unsupported scheme `{scheme}`: use postgres://, postgresql://, sqlite:// or a file path"
                ));
            }
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
            Self::Postgres(url) => f.write_str(&redact_password(url)),
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, from the parsed URL.
fn redact_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() && parsed.set_password(Some("***")).is_err() {
                return "postgres://(a URL whose password cannot be hidden)".into();
            }
            parsed.into()
        }
        Err(_) => "postgres://(an unparseable URL)".into(),
    }
}

/// A public base URL of one of our servers (the issuer, the task API's `aud`): absolute
/// `http(s)` with a host, no user-info, query or fragment, written as the parser writes it
/// (give or take a trailing slash, which is dropped). Plain `http` only for a loopback host
/// in development.
pub fn public_url(value: &str, mode: Mode) -> Result<String, String> {
    let parsed =
        Url::parse(value).map_err(|e| format!("`{value}` is not an absolute URL ({e})"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(format!("unsupported scheme `{}`", parsed.scheme()));
    }
    if parsed.host().is_none() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("`{value}` has no valid host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("must not contain a query, a fragment or whitespace".into());
    }
    let written = value.trim_end_matches('/');
    if parsed.as_str().trim_end_matches('/') != written {
        return Err(format!(
            "`{value}` is read as `{parsed}`; write it that way (without whitespace)"
        ));
    }
    match parsed.scheme() {
        "http" if mode == Mode::Production || !is_loopback(&parsed) => Err(format!(
            "`{value}`: http is allowed only for a loopback host in development; use https"
        )),
        _ => Ok(written.to_owned()),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback() || ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// One exact origin as a browser sends it in `Origin` (RFC 6454 §6.2): scheme, host and a
/// non-default port, lower case, nothing else. Anything a browser would never send is
/// refused, since it could only ever fail to match.
pub fn origin(value: &str) -> Result<String, String> {
    let written = value.to_ascii_lowercase();
    if written == "*" || written == "null" {
        return Err(format!(
            "`{value}` is not allowed: list each origin exactly (e.g. https://app.example.com)"
        ));
    }
    let parsed = Url::parse(&written)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http"))
        .ok_or_else(|| format!("`{value}` is not an http(s) origin"))?;
    let host_ok = match parsed.host() {
        Some(Host::Domain(domain)) => crate::parse::is_plain_host(domain),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => true,
        None => false,
    };
    if !host_ok || parsed.port() == Some(0) {
        return Err(format!("`{value}` has an invalid host or port"));
    }
    let serialised = parsed.origin().ascii_serialization();
    if serialised == written {
        return Ok(serialised);
    }
    let default_port = if parsed.scheme() == "https" { 443 } else { 80 };
    if written == format!("{serialised}:{default_port}") {
        return Err(format!(
            "`{value}`: leave out the default port {default_port}; browsers do not send it"
        ));
    }
    Err(format!(
        "`{value}` is not an origin: scheme://host[:port], with no path or trailing slash"
    ))
}
