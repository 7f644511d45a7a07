//! Security headers (SECURITY.md 6 and 29), added to every response that does not set
//! its own value.

use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, HeaderValue, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use actix_web::middleware::DefaultHeaders;

use crate::parse::is_plain_host;

/// Two years, with subdomains: the usual preload-ready HSTS value.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// No script at all, styles and images from this origin only, forms post back here,
/// and no framing (clickjacking, RFC 9700 §4.16).
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// One CSP source expression (CSP3 §2.3.1) built from parsed parts, never pasted from a
/// request: a scheme-source `scheme:` or a host-source `scheme://host[:port]`. Each part is
/// checked against the grammar's narrowest character set (letters, digits and `+-.` for a
/// scheme; letters, digits, `-` and `.` for a host), so no value that reaches it can end
/// the directive (`;`), add a source (space) or quote a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CspSource(String);

impl CspSource {
    /// `scheme:`, or `None` if `scheme` is not a plain URI scheme.
    pub fn scheme(scheme: &str) -> Option<Self> {
        is_scheme(scheme).then(|| Self(format!("{scheme}:")))
    }

    /// `scheme://host[:port]`, or `None` if a part falls outside the strict character set
    /// (an IPv6 literal among them: the host-source grammar has none).
    pub fn host(scheme: &str, host: &str, port: Option<u16>) -> Option<Self> {
        if !is_scheme(scheme) || !is_plain_host(host) {
            return None;
        }
        Some(Self(match port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(scheme: &str) -> bool {
    let mut bytes = scheme.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The page CSP with one extra `form-action` source: a page whose form leads, through
/// redirects, to a client's redirect URI must allow that URI's origin, or the browser
/// blocks the redirect.
pub fn page_csp_allowing_form_action(source: &CspSource) -> String {
    PAGE_CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", source.as_str()),
    )
}

/// `Cross-Origin-Opener-Policy` (not among `http`'s named headers).
const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");

/// A header whose name and value are both static: the middleware copies it into each
/// response without allocating or touching a reference count.
fn fixed(name: HeaderName, value: &'static str) -> (HeaderName, HeaderValue) {
    (name, HeaderValue::from_static(value))
}

/// For the task API: no sniffing, HSTS when served over https, and no caching — its
/// answers are one caller's data, and a shared cache must not hand them to another.
pub fn api_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(fixed(X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add(fixed(CACHE_CONTROL, "no-store"));
    if https {
        headers.add(fixed(STRICT_TRANSPORT_SECURITY, HSTS))
    } else {
        headers
    }
}

/// For servers of HTML pages (sign-in, consent): the API headers (no caching of pages
/// that may show personal data among them) plus a strict CSP, no framing and no referrer.
pub fn page_headers(https: bool) -> DefaultHeaders {
    api_headers(https)
        .add(fixed(CONTENT_SECURITY_POLICY, PAGE_CSP))
        .add(fixed(X_FRAME_OPTIONS, "DENY"))
        .add(fixed(REFERRER_POLICY, "no-referrer"))
        .add(fixed(CROSS_ORIGIN_OPENER_POLICY, "same-origin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_built_from_checked_parts_only() {
        assert_eq!(
            CspSource::host("https", "app.example.com", Some(8443)).map(|s| s.0),
            Some("https://app.example.com:8443".to_owned())
        );
        assert_eq!(
            CspSource::scheme("com.example.app").map(|s| s.0),
            Some("com.example.app:".to_owned())
        );
        for (scheme, host) in [
            ("https", "a.example;frame-ancestors"),
            ("https", "a.example evil.example"),
            ("https", "'unsafe-inline'"),
            ("https", "[::1]"),
            ("https", ""),
            ("https", "a..example"),
            ("https", "a.example,b"),
            ("ht;tp", "a.example"),
            ("1http", "a.example"),
        ] {
            assert_eq!(CspSource::host(scheme, host, None), None, "{scheme} {host}");
        }
        for scheme in ["", "a b", "a;b", "a:b", "*"] {
            assert_eq!(CspSource::scheme(scheme), None, "{scheme}");
        }
    }

    #[actix_web::test]
    async fn pages_get_every_security_header_and_keep_their_own() {
        use actix_web::{App, HttpResponse, test, web};

        let app = test::init_service(
            App::new()
                .wrap(page_headers(true))
                .route("/", web::get().to(HttpResponse::Ok))
                .route(
                    "/cached",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .insert_header(("Cache-Control", "max-age=60"))
                            .finish()
                    }),
                ),
        )
        .await;
        let response = test::call_service(&app, test::TestRequest::get().to_request()).await;
        let headers = response.headers();
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("cache-control", "no-store"),
            ("strict-transport-security", HSTS),
            ("content-security-policy", PAGE_CSP),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
            ("cross-origin-opener-policy", "same-origin"),
        ] {
            assert_eq!(headers.get(name).unwrap(), value, "{name}");
        }
        let own =
            test::call_service(&app, test::TestRequest::get().uri("/cached").to_request()).await;
        assert_eq!(own.headers().get("cache-control").unwrap(), "max-age=60");
        let plain = test::call_service(
            &test::init_service(
                App::new()
                    .wrap(api_headers(false))
                    .route("/", web::get().to(HttpResponse::Ok)),
            )
            .await,
            test::TestRequest::get().to_request(),
        )
        .await;
        assert!(plain.headers().get("strict-transport-security").is_none());
        assert!(plain.headers().get("content-security-policy").is_none());
        assert_eq!(
            plain.headers().get("x-content-type-options").unwrap(),
            "nosniff"
        );
    }

    #[test]
    fn the_extra_source_lands_in_form_action_alone() {
        let source = CspSource::host("http", "127.0.0.1", Some(8400)).expect("valid");
        let csp = page_csp_allowing_form_action(&source);
        assert!(csp.contains("form-action 'self' http://127.0.0.1:8400; frame-ancestors 'none'"));
        assert_eq!(csp.matches(';').count(), PAGE_CSP.matches(';').count());
    }
}
