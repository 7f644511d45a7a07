//! The token endpoint's request (auth-server `routes::client_request`, `oauth::params`,
//! `oauth::clients::credentials`, `oauth::grant_type`, `oauth::token::TokenRequest`), read
//! as the route reads it: the body through `serde_urlencoded` (what `web::Form` uses).
//!
//! Input: `authorization\nbody`. The first line is tried twice: as the `Authorization`
//! header itself, and as the `id:secret` a Basic header carries (base64-encoded here, so
//! the fuzzer works on the decoded text). Asserts:
//! - `Params` keeps the first non-empty value of each name, flags a name with two
//!   non-empty values as repeated and one with U+FFFD as malformed (RFC 6749 §3.2);
//! - Basic credentials decode as `application/x-www-form-urlencoded` does (RFC 6749
//!   §2.3.1): `+` is a space, `%XX` two hex digits; anything else is refused; what decodes
//!   encodes back to the same id and secret; two methods at once are refused;
//! - a grant type parses only from its own name, and `TokenRequest` takes each parameter
//!   verbatim, refusing a missing required one as `invalid_request`;
//! - no secret (client secret, code, refresh token) appears in an error or in `Debug`.
#![no_main]

use auth_server::oauth::clients::{self, ClientCredentials};
use auth_server::oauth::error::{ErrorCode, OAuthError};
use auth_server::oauth::grant_type::GrantType;
use auth_server::oauth::params::{MAX_VALUE_LEN, Params};
use auth_server::oauth::token::TokenRequest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use oauth_fuzz::two_parts;
use shared::token::PlainToken;

fuzz_target!(|data: &[u8]| {
    let (first, body) = two_parts(data);
    let Some(body) = body else { return };
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else {
        return;
    };
    let params = check_params(&pairs);
    let first = std::str::from_utf8(first).ok();

    // `HeaderValue::to_str`: visible ASCII and tabs only.
    let header = first
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)));
    check_credentials(header, &params);
    if let Some(decoded) = first {
        let basic = format!("Basic {}", STANDARD.encode(decoded));
        let result = clients::credentials(Some(&basic), None, None);
        check_basic(decoded, &result);
    }
    check_grant(&params);
});

fn check_params(pairs: &[(String, String)]) -> Params {
    let params = Params::new(pairs.to_vec());
    for (name, _) in pairs {
        let mut sent = pairs.iter().filter(|(n, v)| n == name && !v.is_empty());
        let first = sent.next().map(|(_, v)| v.as_str());
        assert_eq!(params.get(name), first, "{name}");
        assert_eq!(params.is_repeated(name), sent.next().is_some(), "{name}");
    }
    if let Some(name) = params.first_repeated() {
        assert!(params.is_repeated(name));
    }
    if let Some(name) = params.first_malformed() {
        assert!(
            pairs
                .iter()
                .any(|(n, v)| n == name && v.contains('\u{FFFD}'))
        );
    }
    if let Some(name) = params.first_too_long(&["code", "scope", "client_id"]) {
        assert!(params.get(name).is_some_and(|v| v.len() > MAX_VALUE_LEN));
    }
    params
}

/// The route stops at a repeated, malformed or overlong parameter before it reads them.
fn passes_route_checks(params: &Params) -> bool {
    params.first_repeated().is_none()
        && params.first_malformed().is_none()
        && params
            .first_too_long(&[
                "grant_type",
                "code",
                "redirect_uri",
                "code_verifier",
                "client_id",
                "client_secret",
                "refresh_token",
                "scope",
            ])
            .is_none()
}

fn check_credentials(header: Option<&str>, params: &Params) {
    if !passes_route_checks(params) {
        return;
    }
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    let result = clients::credentials(header, body_id, body_secret);
    assert_no_secret(&result);
    let Ok(credentials) = result else { return };
    match header {
        None => {
            assert!(!credentials.via_basic);
            assert_eq!(Some(credentials.client_id.as_str()), body_id);
            assert_eq!(credentials.secret.as_ref().map(|s| s.expose()), body_secret);
        }
        Some(header) => {
            assert!(credentials.via_basic);
            assert!(header.starts_with("Basic ") || header.starts_with("basic "));
            assert!(body_secret.is_none(), "two authentication methods accepted");
            if let Some(body_id) = body_id {
                assert_eq!(body_id, credentials.client_id);
            }
        }
    }
}

/// `decoded` is what the Basic header carried: `id:secret`, each form-urlencoded.
fn check_basic(decoded: &str, result: &Result<ClientCredentials, OAuthError>) {
    assert_no_secret(result);
    let expected = decoded
        .split_once(':')
        .and_then(|(id, secret)| Some((form_decode(id)?, form_decode(secret)?)));
    let got = result.as_ref().ok().map(|c| {
        let secret = c.secret.as_ref().map(|s| s.expose().to_owned());
        (c.client_id.clone(), secret.unwrap_or_default())
    });
    assert_eq!(got, expected, "Basic credentials {decoded:?}");
    if let Some((id, secret)) = got {
        let encoded: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let encoded_secret: String =
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let header = format!(
            "Basic {}",
            STANDARD.encode(format!("{encoded}:{encoded_secret}"))
        );
        let again = clients::credentials(Some(&header), None, None).expect("re-encoded");
        assert_eq!(again.client_id, id);
        assert_eq!(again.secret.map(|s| s.expose().to_owned()), Some(secret));
    }
}

/// The reference: `+` is a space, `%` takes exactly two hex digits, the result is UTF-8.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let (hi, lo) = (*bytes.get(i + 1)?, *bytes.get(i + 2)?);
                let digit = |b: u8| char::from(b).to_digit(16);
                out.push(u8::try_from(digit(hi)? * 16 + digit(lo)?).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn check_grant(params: &Params) {
    if !passes_route_checks(params) {
        return;
    }
    let Some(name) = params.get("grant_type") else {
        return;
    };
    let Ok(grant_type) = name.parse::<GrantType>() else {
        assert!(GrantType::ALL.iter().all(|g| g.as_str() != name));
        return;
    };
    assert_eq!(grant_type.as_str(), name);
    let result = TokenRequest::parse(grant_type, params);
    let required = match grant_type {
        GrantType::AuthorizationCode => Some("code"),
        GrantType::RefreshToken => Some("refresh_token"),
        GrantType::ClientCredentials => None,
    };
    match (result, required.map(|r| (r, params.get(r)))) {
        (Err(error), Some((name, None))) => {
            assert_eq!(error.code, ErrorCode::InvalidRequest);
            assert_eq!(error.description, format!("{name} is missing"));
        }
        (Err(error), _) => panic!("refused with every parameter present: {error:?}"),
        (Ok(_), Some((name, None))) => panic!("accepted without {name}"),
        (Ok(request), _) => match request {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                assert_eq!(Some(code.expose()), params.get("code"));
                assert_hidden(&code);
                assert_eq!(redirect_uri.as_deref(), params.get("redirect_uri"));
                assert_eq!(code_verifier.as_deref(), params.get("code_verifier"));
            }
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
            } => {
                assert_eq!(Some(refresh_token.expose()), params.get("refresh_token"));
                assert_hidden(&refresh_token);
                assert_eq!(scope.as_deref(), params.get("scope"));
            }
            TokenRequest::ClientCredentials { scope } => {
                assert_eq!(scope.as_deref(), params.get("scope"));
            }
        },
    }
}

/// SECURITY.md: a secret's `Debug` never shows it; a client's token is shown as no more
/// than that.
fn assert_hidden(token: &PlainToken) {
    assert_eq!(format!("{token:?}"), "PlainToken(***)");
}

/// The only things `credentials` says when it refuses: fixed texts, nothing of the input.
const CREDENTIAL_ERRORS: [&str; 5] = [
    "unsupported Authorization scheme; use Basic",
    "use one client authentication method, not two",
    "malformed Basic credentials",
    "client_id in the body differs from the Basic credentials",
    "client authentication is required",
];

/// SECURITY.md: secrets never in errors or `Debug`.
fn assert_no_secret(result: &Result<ClientCredentials, OAuthError>) {
    match result {
        Ok(credentials) => {
            if let Some(secret) = &credentials.secret {
                assert_hidden(secret);
            }
        }
        Err(error) => assert!(
            CREDENTIAL_ERRORS.contains(&error.description.as_str()),
            "{error}"
        ),
    }
}
