//! The `Authorization: Bearer` credentials of RFC 6750 §2.1, read by their grammar:
//! `"Bearer" 1*SP b64token`, the scheme case-insensitive (RFC 9110 §11.1), where
//! `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.

/// The token of a Bearer `Authorization` header value; `None` for another scheme or a
/// value that does not follow the grammar.
pub fn token(header_value: &str) -> Option<&str> {
    let scheme_len = header_value.find(' ')?;
    let (scheme, rest) = header_value.split_at(scheme_len);
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim_start_matches(' ');
    is_b64token(token).then_some(token)
}

fn is_b64token(value: &str) -> bool {
    let body = value.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::token;

    #[test]
    fn reads_bearer_tokens_by_the_grammar() {
        assert_eq!(token("Bearer abc.def-_~+/=="), Some("abc.def-_~+/=="));
        assert_eq!(token("bearer  abc"), Some("abc"));
        for refused in [
            "Basic abc",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer =",
            "Bearer a=b",
            "Bearerabc",
            "Bearer a\t",
        ] {
            assert_eq!(token(refused), None, "{refused:?}");
        }
    }
}
