//! Redirect URIs: what may be registered, how a request's URI is matched (RFC 9700 §4.1.3:
//! exact string match, except the port of a loopback URI for native apps, RFC 8252 §7.3),
//! and how response parameters are added.

/// The longest redirect URI accepted.
pub const MAX_LEN: usize = 2000;

/// Checks a URI for registration: absolute, no fragment (RFC 6749 §3.1.2), no userinfo,
/// no whitespace; `https`, or `http` on a loopback address only; or a private-use scheme
/// with a dot in it (`com.example.app:/callback`, RFC 8252 §7.1) for native apps.
pub fn validate_for_registration(uri: &str) -> Result<(), String> {
    if uri.is_empty() || uri.len() > MAX_LEN {
        return Err(format!("a redirect URI is 1 to {MAX_LEN} characters"));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a redirect URI may not contain whitespace".into());
    }
    if uri.contains('#') {
        return Err("a redirect URI may not contain a fragment (RFC 6749 §3.1.2)".into());
    }
    let (scheme, rest) = uri
        .split_once(':')
        .ok_or_else(|| format!("`{uri}` is not an absolute URI"))?;
    match scheme {
        "https" | "http" => {
            let authority = rest
                .strip_prefix("//")
                .and_then(|r| r.split(['/', '?']).next())
                .filter(|a| !a.is_empty())
                .ok_or_else(|| format!("`{uri}` has no host"))?;
            if authority.contains('@') {
                return Err("a redirect URI may not contain user information".into());
            }
            if scheme == "http" && !is_loopback_authority(authority) {
                return Err(format!(
                    "`{uri}`: http is allowed only for loopback (127.0.0.1, [::1]); use https"
                ));
            }
            Ok(())
        }
        private
            if private.contains('.')
                && private
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-')) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "`{uri}`: use https, http on loopback, or a private-use scheme like com.example.app:/callback"
        )),
    }
}

/// `127.0.0.1[:port]` or `[::1][:port]`. (`localhost` is not a loopback literal: RFC 8252
/// §8.3 advises against it, since it may resolve elsewhere.)
fn is_loopback_authority(authority: &str) -> bool {
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host == "127.0.0.1" || host == "::1"
}

/// Splits `http://127.0.0.1:1234/cb?x` into (`http://127.0.0.1`, `/cb?x`) ignoring the port,
/// for a loopback http URI; `None` for anything else.
fn loopback_without_port(uri: &str) -> Option<(String, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    if !is_loopback_authority(authority) {
        return None;
    }
    let host = if authority.starts_with('[') {
        authority.split(']').next().map(|h| format!("{h}]"))?
    } else {
        authority.split(':').next()?.to_owned()
    };
    Some((host, tail))
}

/// Whether `requested` is `registered` exactly, or differs from a registered loopback
/// http URI in the port alone.
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    match (
        loopback_without_port(registered),
        loopback_without_port(requested),
    ) {
        (Some((host_a, tail_a)), Some((host_b, tail_b))) => host_a == host_b && tail_a == tail_b,
        _ => false,
    }
}

/// The URI with response parameters appended to its query (RFC 6749 §4.1.2: any query
/// component of the registered URI is kept).
pub fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    let mut result = uri.to_owned();
    let mut separator = if uri.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        result.push(separator);
        result.push_str(name);
        result.push('=');
        result.push_str(&crate::web::return_to::percent_encode(value));
        separator = '&';
    }
    result
}

/// `scheme://host[:port]` of an http(s) URI, for a CSP `form-action` source.
pub fn origin(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_accepts_https_loopback_and_private_schemes() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com/cb?tenant=1",
            "http://127.0.0.1/callback",
            "http://127.0.0.1:8400/callback",
            "http://[::1]:8400/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(validate_for_registration(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn registration_refuses_http_fragments_userinfo_and_junk() {
        for bad in [
            "",
            "http://app.example.com/callback",
            "http://localhost:8080/cb",
            "https://app.example.com/cb#frag",
            "https://user:pw@app.example.com/cb",
            "https:///cb",
            "/relative",
            "javascript:alert(1)",
            "https://app.example.com/a b",
        ] {
            assert!(validate_for_registration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn matching_is_exact_except_the_loopback_port() {
        let registered = "https://app.example.com/callback";
        assert!(matches(registered, registered));
        for mismatch in [
            "https://app.example.com/callback/",
            "https://app.example.com/callback/extra",
            "https://app.example.com/call",
            "https://app.example.com:8443/callback",
            "https://app.example.com/callback?x=1",
            "https://app.example.com/callback#f",
            "https://evil@app.example.com/callback",
            "https://APP.example.com/callback",
            "http://app.example.com/callback",
        ] {
            assert!(!matches(registered, mismatch), "{mismatch}");
        }
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
        assert!(matches(
            "http://127.0.0.1:80/cb",
            "http://127.0.0.1:51234/cb"
        ));
        assert!(matches("http://[::1]/cb", "http://[::1]:4000/cb"));
        assert!(!matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51234/other"
        ));
        assert!(!matches("http://127.0.0.1/cb", "http://[::1]:51234/cb"));
    }

    #[test]
    fn params_are_appended_encoded() {
        assert_eq!(
            with_params("https://a.example/cb", &[("code", "x y"), ("state", "s&t")]),
            "https://a.example/cb?code=x%20y&state=s%26t"
        );
        assert_eq!(
            with_params("https://a.example/cb?t=1", &[("code", "c")]),
            "https://a.example/cb?t=1&code=c"
        );
    }
}
