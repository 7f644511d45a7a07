//! `return_to`: where to send a person after signing in. Only a path on this server is
//! accepted (SECURITY.md 2: no open redirector); anything else falls back to the account page.

/// Where a person lands when `return_to` is absent or refused.
pub const DEFAULT: &str = "/account";

/// The longest path accepted (an authorization request with all its parameters fits).
const MAX_LEN: usize = 4096;

/// Returns `input` if it is a local absolute path, else `None`.
///
/// Refused: scheme-relative `//host`, backslash tricks (`/\host`, which browsers read as
/// `//host`), anything with a scheme or authority, control characters and whitespace.
pub fn local_path(input: &str) -> Option<&str> {
    let acceptable = input.starts_with('/')
        && !input.starts_with("//")
        && input.len() <= MAX_LEN
        && !input.contains('\\')
        && !input.chars().any(|c| c.is_control() || c.is_whitespace());
    acceptable.then_some(input)
}

/// `input` if local, else the default.
pub fn or_default(input: Option<&str>) -> &str {
    input.and_then(local_path).unwrap_or(DEFAULT)
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
            assert_eq!(local_path(ok), Some(ok));
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
}
