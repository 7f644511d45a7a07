//! JWT headers and claims as the task API reads them (`resource_api::auth::jwt`), signed
//! with the fixed key so the signature always holds and only the header and claims decide.
//!
//! Input: `header JSON\nclaims JSON`, base64url-encoded and signed as they are. Asserts, for
//! a token that verifies, what an independent reading of the same JSON (`serde_json`)
//! says: `alg` EdDSA, `typ` at+jwt, `kid` ours (SECURITY.md 18); `iss` ours; `aud` ours;
//! `exp` not past by more than the 60 s leeway and `nbf`, if present, not ahead by more;
//! `sub`, `client_id`, `scope` and `jti` exactly what the caller is then taken to be.
#![no_main]

use std::sync::LazyLock;

use jsonwebtoken::{DecodingKey, Validation};
use libfuzzer_sys::fuzz_target;
use oauth_fuzz::{jwt, two_parts};
use resource_api::auth::LEEWAY_SECONDS;
use resource_api::auth::jwt::{check, read_header};
use serde_json::Value;

static KEY: LazyLock<DecodingKey> = LazyLock::new(jwt::decoding_key);
static VALIDATION: LazyLock<Validation> = LazyLock::new(jwt::validation);

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as f64
}

fuzz_target!(|data: &[u8]| {
    let (header, claims) = two_parts(data);
    let Some(claims) = claims else { return };
    let token = jwt::sign(header, claims);
    let before = now();
    let Ok(kid) = read_header(&token) else { return };
    if kid != jwt::KID {
        return;
    }
    let Ok(checked) = check(&token, kid, &KEY, &VALIDATION) else {
        return;
    };
    let after = now();

    let header: Value = serde_json::from_slice(header).expect("a verified header is JSON");
    assert_eq!(header["alg"], "EdDSA", "{header}");
    assert_eq!(header["typ"], "at+jwt", "{header}");
    assert_eq!(header["kid"], jwt::KID, "{header}");

    let claims: Value = serde_json::from_slice(claims).expect("verified claims are JSON");
    assert_eq!(claims["iss"], jwt::ISSUER, "{claims}");
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == jwt::AUDIENCE,
        Value::Array(list) => list.iter().any(|aud| aud == jwt::AUDIENCE),
        _ => false,
    };
    assert!(audience_ok, "{claims}");
    let leeway = LEEWAY_SECONDS as f64;
    let exp = claims["exp"].as_f64().expect("exp is a number");
    assert!(exp + leeway >= before, "expired: {claims}");
    assert_eq!(checked.exp as f64, exp);
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_f64().expect("nbf is a number");
        assert!(nbf - leeway <= after, "not valid yet: {claims}");
    }
    assert!(claims["iat"].is_number(), "{claims}");
    assert_eq!(claims["sub"], checked.caller.subject.as_str());
    assert_eq!(claims["client_id"], checked.caller.client_id.as_str());
    assert_eq!(claims["jti"], checked.jti.as_str());
    let scope = claims["scope"].as_str().expect("scope is a string");
    assert_eq!(scope.split(' ').collect::<Vec<_>>(), checked.caller.scopes);
});
