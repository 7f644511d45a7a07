//! `return_to`: where to send a person after signing in. Only a path on this server is
//! accepted (SECURITY.md 2: no open redirector); anything else falls back to the account page.

use url::{Position, Url};

/// Where a person lands when `return_to` is absent or refused.
pub const DEFAULT: &str = "/account";

/// The longest path accepted (an authorization request with all its parameters fits).
const MAX_LEN: usize = 4096;

/// The origin `return_to` is resolved against: any fixed one will do, since only what
/// stays on it is accepted and only its path, query and fragment are kept.
const BASE: &str = "https://return-to.invalid/";

/// `input` read by the WHATWG URL parser against this server, if it is a local absolute
/// path, re-serialised from that reading (path, query and fragment, percent-encoded).
///
/// Refused: anything that resolves to another origin (`//host`, `///host`, `/\host`, which
/// browsers read as `//host`, a scheme), backslashes anywhere, control characters and
/// whitespace (which the parser would silently strip), and anything over [`MAX_LEN`].
/// What goes back out in `Location` is the parser's serialisation, never the raw input,
/// so no byte of it can end a header line (SECURITY.md 2: no open redirector).
pub fn local_path(input: &str) -> Option<String> {
    let plausible = input.starts_with('/')
        && input.len() <= MAX_LEN
        && !input.contains('\\')
        && !input.chars().any(|c| c.is_control() || c.is_whitespace());
    if !plausible {
        return None;
    }
    let base = Url::parse(BASE).ok()?;
    let resolved = base.join(input).ok()?;
    (resolved.origin() == base.origin()).then(|| resolved[Position::BeforePath..].to_owned())
}

/// `input` if local (re-serialised), else the default.
pub fn or_default(input: Option<&str>) -> String {
    input
        .and_then(local_path)
        .unwrap_or_else(|| DEFAULT.to_owned())
}

/// `/login?return_to=…` for a page that needs a signed-in person.
pub fn login_url(return_to: &str) -> String {
    format!("/login?return_to={}", percent_encode(return_to))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_url_encodes_the_path() {
        assert_eq!(
            login_url("/authorize?a=b&c=d e"),
            "/login?return_to=%2Fauthorize%3Fa%3Db%26c%3Dd%20e"
        );
    }

    #[test]
    fn accepts_local_paths() {
        for ok in [
            "/",
            "/account",
            "/authorize?client_id=a&state=b%2Fc",
            "/a/b#frag",
        ] {
            assert_eq!(local_path(ok).as_deref(), Some(ok));
        }
    }

    #[test]
    fn refuses_everything_that_could_leave_the_site() {
        for bad in [
            "",
            "account",
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "javascript:alert(1)",
            "http:/evil.example",
            " /account",
            "/acc\nount",
            "///evil.example",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(or_default(Some("https://evil.example")), DEFAULT);
        assert_eq!(or_default(None), DEFAULT);
    }

    #[test]
    fn goes_out_as_the_parser_serialises_it() {
        // Non-ASCII (U+560D U+560A end in the bytes of CR and LF) leaves percent-encoded,
        // dot segments are resolved, and the path never climbs above the root.
        assert_eq!(
            local_path("/account?x=\u{560d}\u{560a}").as_deref(),
            Some("/account?x=%E5%98%8D%E5%98%8A")
        );
        assert_eq!(local_path("/a/../../account").as_deref(), Some("/account"));
        assert_eq!(local_path("/caf\u{e9}").as_deref(), Some("/caf%C3%A9"));
        assert!(local_path("/account?x=\u{560d}\u{560a}").is_some_and(|path| path.is_ascii()));
    }
}
