//! Redirect URIs, read the way a browser reads them: parsed by the WHATWG URL Standard
//! (the `url` crate, the same parse a browser applies to our `Location` header), then
//! compared component by component. Never matched as strings: `http://127.0.0.1:@evil.example/`
//! survives a split on `:` yet has the host `evil.example`.
//!
//! - What may be registered: `https`; `http` on the loopback IP literals only; or a
//!   private-use scheme for native apps (RFC 8252 §7.1). No user-info, no fragment
//!   (RFC 6749 §3.1.2), and the URI must already be in the form the parser writes it.
//! - What a request may name (RFC 9700 §2.1, §4.1.3): a URI that serialises back to exactly
//!   the string sent, with no user-info and no fragment, equal to a registered one in
//!   scheme, host, port, path and query — except that for a registered `http` URI on
//!   `127.0.0.1` or `[::1]` any port 1–65535 is accepted (RFC 8252 §7.3).
//! - Response parameters are appended to the parsed value's query (RFC 6749 §4.1.2), so
//!   the `Location` header is the parser's own serialisation.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use shared::parse::is_plain_host;
use url::{Host, Url};

/// The longest redirect URI accepted.
pub const MAX_LEN: usize = 2000;

/// A redirect URI that passed the rules above; its string is the parser's serialisation,
/// identical to what was registered or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(Url);

/// Why a redirect URI was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectUriError {
    Length,
    NotAbsolute(url::ParseError),
    /// The parser reads it as another string: registering or sending that one is required,
    /// so that no normalisation hides a difference.
    NotCanonical {
        canonical: String,
    },
    UserInfo,
    Fragment,
    /// `http` on anything but `127.0.0.1` or `[::1]`.
    PlainHttp,
    /// A host a CSP source or a DNS name cannot carry (only letters, digits, `-` and `.`).
    Host,
    Scheme,
    /// Port 0: no browser can be sent there (RFC 8252 §7.3 loopback ports are 1–65535).
    PortZero,
}

impl fmt::Display for RedirectUriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length => write!(f, "a redirect URI is 1 to {MAX_LEN} characters"),
            Self::NotAbsolute(error) => write!(f, "not an absolute URI ({error})"),
            Self::NotCanonical { canonical } => write!(
                f,
                "a browser reads it as `{canonical}`; write it exactly that way"
            ),
            Self::UserInfo => f.write_str("a redirect URI may not contain user information"),
            Self::Fragment => {
                f.write_str("a redirect URI may not contain a fragment (RFC 6749 §3.1.2)")
            }
            Self::PlainHttp => f.write_str(
                "http is allowed only for the loopback addresses 127.0.0.1 and [::1]; use https",
            ),
            Self::Host => f.write_str(
                "the host may contain only letters, digits, `-` and `.` (or be an IP address)",
            ),
            Self::Scheme => f.write_str(
                "use https, http on loopback, or a private-use scheme like com.example.app:/callback",
            ),
            Self::PortZero => f.write_str("port 0 is not a port a browser can be sent to"),
        }
    }
}

impl std::error::Error for RedirectUriError {}

impl RedirectUri {
    /// Checks a URI for registration (see the module documentation).
    pub fn parse_registered(uri: &str) -> Result<Self, RedirectUriError> {
        let parsed = parse_exact(uri)?;
        if parsed.port() == Some(0) {
            return Err(RedirectUriError::PortZero);
        }
        match parsed.scheme() {
            "https" => match parsed.host() {
                Some(Host::Domain(domain)) if is_plain_host(domain) => {}
                Some(Host::Ipv4(_) | Host::Ipv6(_)) => {}
                _ => return Err(RedirectUriError::Host),
            },
            "http" if is_loopback_literal(&parsed) => {}
            "http" => return Err(RedirectUriError::PlainHttp),
            // RFC 8252 §7.1: a private-use scheme is a reverse domain name, so it has a dot
            // (which also keeps out `javascript:`, `data:`, `file:` and their kind).
            scheme if scheme.contains('.') && !parsed.cannot_be_a_base() => {}
            _ => return Err(RedirectUriError::Scheme),
        }
        Ok(Self(parsed))
    }

    /// The registered URI `requested` names, if any (RFC 9700 §4.1.3, RFC 8252 §7.3).
    /// Registered values that no longer parse are skipped, never matched as strings.
    pub fn find_registered<'a>(
        registered: impl IntoIterator<Item = &'a str>,
        requested: &str,
    ) -> Option<Self> {
        let requested = parse_exact(requested).ok()?;
        registered
            .into_iter()
            .filter_map(|uri| Url::parse(uri).ok())
            .any(|registered| matches(&registered, &requested))
            .then_some(Self(requested))
    }

    /// The registered URI itself, for a request that names none (RFC 6749 §3.1.2.3).
    pub fn from_registered(uri: &str) -> Option<Self> {
        Self::parse_registered(uri).ok()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// This URI with `params` appended to its query; any query it had is kept
    /// (RFC 6749 §4.1.2). The result is the parser's serialisation, fit for `Location`.
    pub fn with_params(&self, params: &[(&str, &str)]) -> String {
        let mut uri = self.0.clone();
        uri.query_pairs_mut().extend_pairs(params);
        uri.into()
    }

    /// What to tell a person they will be sent back to: the host (and port), or the
    /// scheme of a private-use URI.
    pub fn display_host(&self) -> String {
        match (self.0.host_str(), self.0.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) if !host.is_empty() => host.to_owned(),
            _ => format!("{}:", self.0.scheme()),
        }
    }
}

/// Parses `uri` and requires it to be exactly what the parser writes back, with neither
/// user-info nor fragment.
fn parse_exact(uri: &str) -> Result<Url, RedirectUriError> {
    if uri.is_empty() || uri.len() > MAX_LEN {
        return Err(RedirectUriError::Length);
    }
    let parsed = Url::parse(uri).map_err(RedirectUriError::NotAbsolute)?;
    if parsed.as_str() != uri {
        return Err(RedirectUriError::NotCanonical {
            canonical: parsed.into(),
        });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(RedirectUriError::UserInfo);
    }
    if parsed.fragment().is_some() {
        return Err(RedirectUriError::Fragment);
    }
    Ok(parsed)
}

/// `http://127.0.0.1…` or `http://[::1]…`: the loopback IP literals of RFC 8252 §7.3.
/// (`localhost` is another host: RFC 8252 §8.3 advises against it, as it may resolve
/// elsewhere.)
fn is_loopback_literal(uri: &Url) -> bool {
    uri.scheme() == "http"
        && match uri.host() {
            Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
            Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
            _ => false,
        }
}

/// Whether `requested` names `registered`: equal in scheme, host, port, path and query;
/// for a loopback `http` registration, equal in all but the port, which may be any of
/// 1–65535 (RFC 8252 §7.3).
fn matches(registered: &Url, requested: &Url) -> bool {
    let same_but_port = registered.scheme() == requested.scheme()
        && registered.host() == requested.host()
        && registered.path() == requested.path()
        && registered.query() == requested.query()
        && registered.username().is_empty()
        && registered.password().is_none()
        && registered.fragment().is_none();
    if !same_but_port {
        return false;
    }
    if is_loopback_literal(registered) {
        requested
            .port_or_known_default()
            .is_some_and(|port| port >= 1)
    } else {
        registered.port() == requested.port()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(registered: &str, requested: &str) -> bool {
        RedirectUri::find_registered([registered], requested).is_some()
    }

    #[test]
    fn registration_accepts_https_loopback_and_private_schemes() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com/cb?tenant=1",
            "https://app.example.com:8443/cb",
            "https://xn--bcher-kva.example/cb",
            "https://192.0.2.7/cb",
            "http://127.0.0.1/callback",
            "http://127.0.0.1:8400/callback",
            "http://[::1]:8400/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(
                RedirectUri::parse_registered(ok).map(|u| u.as_str().to_owned()),
                Ok(ok.to_owned()),
                "{ok}"
            );
        }
    }

    #[test]
    fn registration_refuses_http_fragments_userinfo_and_junk() {
        for (bad, why) in [
            ("", RedirectUriError::Length),
            (
                "http://app.example.com/callback",
                RedirectUriError::PlainHttp,
            ),
            ("http://localhost:8080/cb", RedirectUriError::PlainHttp),
            ("http://127.0.0.2/cb", RedirectUriError::PlainHttp),
            (
                "https://app.example.com/cb#frag",
                RedirectUriError::Fragment,
            ),
            ("https://app.example.com/cb#", RedirectUriError::Fragment),
            (
                "https://user:pw@app.example.com/cb",
                RedirectUriError::UserInfo,
            ),
            ("https://app_1.example.com/cb", RedirectUriError::Host),
            ("https://a;b.example/cb", RedirectUriError::Host),
            ("javascript:alert(1)", RedirectUriError::Scheme),
            ("data:text/html,hi", RedirectUriError::Scheme),
            ("com.example.app:opaque", RedirectUriError::Scheme),
        ] {
            assert_eq!(RedirectUri::parse_registered(bad), Err(why), "{bad:?}");
        }
        for not_canonical in [
            "https://app.example.com",
            "https://APP.example.com/cb",
            "HTTPS://app.example.com/cb",
            "https://app.example.com/a b",
            "https://app.example.com:443/cb",
            "https://app.example.com/a/../cb",
            "http://2130706433/cb",
            "https:///cb",
        ] {
            assert!(
                matches!(
                    RedirectUri::parse_registered(not_canonical),
                    Err(RedirectUriError::NotCanonical { .. })
                ),
                "{not_canonical:?}"
            );
        }
        assert!(matches!(
            RedirectUri::parse_registered("/relative"),
            Err(RedirectUriError::NotAbsolute(_))
        ));
    }

    #[test]
    fn matching_is_exact_for_https() {
        let registered = "https://app.example.com/callback";
        assert!(accepted(registered, registered));
        for mismatch in [
            "https://app.example.com/callback/",
            "https://app.example.com/callback/extra",
            "https://app.example.com/call",
            "https://app.example.com:8443/callback",
            "https://app.example.com:443/callback",
            "https://app.example.com/callback?x=1",
            "https://app.example.com/callback#f",
            "https://evil@app.example.com/callback",
            "https://app.example.com@evil.example/callback",
            "https://app.example.com\\@evil.example/callback",
            "https://APP.example.com/callback",
            "http://app.example.com/callback",
            "https://app.example.com/%63allback",
            "https://app.example.com/./callback",
            " https://app.example.com/callback",
            "https://app.example.com/call\tback",
        ] {
            assert!(!accepted(registered, mismatch), "{mismatch:?}");
        }
    }

    #[test]
    fn port_zero_is_refused_at_registration() {
        // Found by the redirect_uri fuzz target: registered, it could never be matched.
        for uri in [
            "http://[::1]:0/cb",
            "http://127.0.0.1:0/cb",
            "https://app.example.com:0/cb",
        ] {
            assert!(matches!(
                RedirectUri::parse_registered(uri),
                Err(RedirectUriError::PortZero)
            ));
        }
    }

    /// The attacks of the review that found the string-matching flaw, and the loopback
    /// exception as RFC 8252 §7.3 has it.
    #[test]
    fn loopback_lets_only_the_port_differ() {
        assert!(accepted("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
        assert!(accepted("http://127.0.0.1/cb", "http://127.0.0.1/cb"));
        assert!(accepted(
            "http://127.0.0.1:80/cb",
            "http://127.0.0.1:51234/cb"
        ));
        assert!(accepted("http://127.0.0.1:8400/cb", "http://127.0.0.1/cb"));
        assert!(accepted("http://[::1]/cb", "http://[::1]:4000/cb"));
        assert!(accepted("http://127.0.0.1/cb", "http://127.0.0.1:65535/cb"));
        for attack in [
            "http://127.0.0.1:@evil.example/cb",
            "http://127.0.0.1:1@evil.example/cb",
            "http://127.0.0.1:x@evil.example/cb",
            "http://[::1]:@evil.example/cb",
            "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:+80/cb",
            "http://127.0.0.1:0/cb",
            "http://127.0.0.1:080/cb",
            "http://127.0.0.1:80/cb",
            "http://127.0.0.1:1;frame-ancestors evil.example/cb",
            "http://127.0.0.1:51234/other",
            "http://127.0.0.1:51234/cb?x=1",
            "http://[::1]:51234/cb",
            "http://localhost:51234/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://2130706433:51234/cb",
            "https://127.0.0.1:51234/cb",
        ] {
            assert!(!accepted("http://127.0.0.1/cb", attack), "{attack:?}");
        }
        assert!(!accepted("http://[::1]/cb", "http://[::1]:0/cb"));
        assert!(!accepted(
            "http://[::1]/cb",
            "http://[0:0:0:0:0:0:0:1]:8/cb"
        ));
    }

    #[test]
    fn a_port_differs_only_for_the_loopback_literals() {
        assert!(!accepted(
            "https://127.0.0.1/cb",
            "https://127.0.0.1:8443/cb"
        ));
        assert!(!accepted("com.example.app:/cb", "com.example.app:/cb?x"));
        assert!(accepted("com.example.app:/cb", "com.example.app:/cb"));
    }

    #[test]
    fn params_are_appended_to_the_parsed_query() {
        let uri = RedirectUri::parse_registered("https://a.example/cb").expect("valid");
        assert_eq!(
            uri.with_params(&[("code", "x y"), ("state", "s&t=#")]),
            "https://a.example/cb?code=x+y&state=s%26t%3D%23"
        );
        let with_query = RedirectUri::parse_registered("https://a.example/cb?t=1").expect("valid");
        assert_eq!(
            with_query.with_params(&[("code", "c")]),
            "https://a.example/cb?t=1&code=c"
        );
        let native = RedirectUri::parse_registered("com.example.app:/cb").expect("valid");
        assert_eq!(
            native.with_params(&[("code", "c")]),
            "com.example.app:/cb?code=c"
        );
    }

    #[test]
    fn the_host_shown_to_a_person_is_the_parsed_one() {
        for (uri, shown) in [
            ("https://app.example.com/cb", "app.example.com"),
            ("https://app.example.com:8443/cb", "app.example.com:8443"),
            ("http://127.0.0.1:8400/cb", "127.0.0.1:8400"),
            ("http://[::1]/cb", "[::1]"),
            ("com.example.app:/cb", "com.example.app:"),
        ] {
            let parsed = RedirectUri::parse_registered(uri).expect("valid");
            assert_eq!(parsed.display_host(), shown, "{uri}");
        }
    }
}
