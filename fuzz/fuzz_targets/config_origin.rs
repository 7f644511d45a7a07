//! Browser origins in settings (`shared::config::urls::origin`, what `CORS_ALLOWED_ORIGINS`
//! lists) and public base URLs (`shared::config::urls::public_url`, `ISSUER` and
//! `RESOURCE_API_URL`). Asserts that an accepted origin is exactly the WHATWG origin
//! serialisation of what was written (lower case, http(s), a plain host or an IP, no
//! default or zero port, no path: what a browser sends in `Origin`, RFC 6454 §6.2), that it
//! is never `*` or `null`, and that it is accepted again as itself; and that an accepted
//! public URL is absolute http(s) with a host, no user-info, query or fragment, the value
//! as written less trailing slashes, and https whenever it is not loopback development.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::config::Mode;
use shared::config::urls::{origin, public_url};
use url::{Host, Url};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(accepted) = origin(text) {
        assert_eq!(accepted, text.to_ascii_lowercase());
        assert!(accepted != "null" && accepted != "*");
        let url = Url::parse(&accepted).expect("an origin parses");
        assert!(matches!(url.scheme(), "http" | "https"));
        assert_eq!(url.origin().ascii_serialization(), accepted);
        assert!(url.port() != Some(0));
        match url.host() {
            Some(Host::Domain(domain)) => assert!(shared::parse::is_plain_host(domain)),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => {}
            None => panic!("an origin without a host: {accepted}"),
        }
        assert_eq!(origin(&accepted).as_ref(), Ok(&accepted));
    }

    for mode in [Mode::Development, Mode::Production] {
        let Ok(accepted) = public_url(text, mode) else {
            continue;
        };
        assert_eq!(accepted, text.trim_end_matches('/'));
        let url = Url::parse(text).expect("a public URL parses");
        assert!(matches!(url.scheme(), "http" | "https"));
        assert!(url.host().is_some());
        assert!(url.username().is_empty() && url.password().is_none());
        assert!(url.query().is_none() && url.fragment().is_none());
        if mode == Mode::Production {
            assert_eq!(url.scheme(), "https", "{text}");
        }
        assert_eq!(public_url(&accepted, mode).as_ref(), Ok(&accepted));
    }
});
