//! Redirect URIs (auth-server `oauth::redirect_uri`): registration and the match of a
//! requested URI against a registered one, judged by the WHATWG reading (`url`).
//!
//! Input: `registered\nrequested` (no newline: the same text for both). Asserts:
//! - an accepted registration is the parser's own serialisation, with no user-info or
//!   fragment, and of an allowed kind (https to a plain host or IP, http to 127.0.0.1 or
//!   [::1], or a private-use scheme with a dot); it matches itself; its `Location` with
//!   response parameters keeps scheme, host, port, path and query, then adds the params;
//! - a match holds only for a canonical URI with no user-info or fragment and the same
//!   scheme, host, path and query as the registered one, and the same origin (port
//!   included) unless the registration is loopback http, where any port 1–65535 goes;
//! - once a request matches, the same request with another host or a longer path does not.
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};

use auth_server::oauth::redirect_uri::RedirectUri;
use libfuzzer_sys::fuzz_target;
use oauth_fuzz::two_parts;
use url::{Host, Url};

fuzz_target!(|data: &[u8]| {
    let (first, rest) = two_parts(data);
    let (Ok(registered), Ok(requested)) = (
        std::str::from_utf8(first),
        std::str::from_utf8(rest.unwrap_or(first)),
    ) else {
        return;
    };
    check_registration(registered);
    check_registration(requested);
    check_match(registered, requested);
});

fn is_loopback_http(url: &Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
            Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
            _ => false,
        }
}

fn check_registration(uri: &str) {
    let Ok(accepted) = RedirectUri::parse_registered(uri) else {
        return;
    };
    assert_eq!(accepted.as_str(), uri);
    let url = Url::parse(uri).expect("an accepted URI parses");
    assert_eq!(url.as_str(), uri, "accepted but not canonical");
    assert!(url.username().is_empty() && url.password().is_none());
    assert!(url.fragment().is_none());
    match url.scheme() {
        "https" => assert!(match url.host() {
            Some(Host::Domain(domain)) => shared::parse::is_plain_host(domain),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => true,
            None => false,
        }),
        "http" => assert!(is_loopback_http(&url), "plain http off loopback: {uri}"),
        scheme => assert!(scheme.contains('.') && !url.cannot_be_a_base(), "{uri}"),
    }
    assert_eq!(RedirectUri::from_registered(uri).as_ref(), Some(&accepted));
    assert_eq!(
        RedirectUri::find_registered([uri], uri).as_ref(),
        Some(&accepted),
        "a registered URI must match itself"
    );

    let params = [("code", "c d&e=#"), ("state", uri)];
    let location = Url::parse(&accepted.with_params(&params)).expect("Location parses");
    assert_eq!(
        (location.scheme(), location.host(), location.port()),
        (url.scheme(), url.host(), url.port())
    );
    assert_eq!(location.path(), url.path());
    let mut expected: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    expected.extend(params.map(|(k, v)| (k.to_owned(), v.to_owned())));
    let sent: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert_eq!(sent, expected);
    assert!(!accepted.display_host().is_empty());
}

fn check_match(registered: &str, requested: &str) {
    let Some(matched) = RedirectUri::find_registered([registered], requested) else {
        return;
    };
    assert_eq!(matched.as_str(), requested);
    let reg = Url::parse(registered).expect("a matched registration parses");
    let req = Url::parse(requested).expect("a matched request parses");
    assert_eq!(req.as_str(), requested, "matched a non-canonical request");
    assert!(req.username().is_empty() && req.password().is_none());
    assert!(req.fragment().is_none());
    assert_eq!(reg.scheme(), req.scheme());
    assert_eq!(reg.host(), req.host(), "{registered} matched {requested}");
    assert_eq!(reg.path(), req.path());
    assert_eq!(reg.query(), req.query());
    if is_loopback_http(&reg) {
        let port = req.port_or_known_default().expect("http has a port");
        assert!(port >= 1);
    } else {
        assert_eq!(reg.port(), req.port());
        if reg.origin().is_tuple() {
            assert_eq!(
                reg.origin(),
                req.origin(),
                "{registered} matched {requested}"
            );
        }
    }

    // The neighbours an attacker would try: another host, a longer path.
    if req.host().is_some() {
        let mut other = req.clone();
        if other.set_host(Some("evil.example")).is_ok() && other.as_str() != requested {
            let found = RedirectUri::find_registered([registered], other.as_str());
            assert!(found.is_none(), "{registered} matched {other}");
        }
    }
    if !req.cannot_be_a_base() {
        let mut longer = req.clone();
        longer.set_path(&format!("{}x", req.path()));
        let found = RedirectUri::find_registered([registered], longer.as_str());
        assert!(found.is_none(), "{registered} matched {longer}");
    }
}
