//! The full check of an access token, free of state: the header first (SECURITY.md 18:
//! `alg` pinned to EdDSA, `typ` at+jwt, a `kid`), then, with the key that `kid` names, the
//! signature and the claims (RFC 9068 §4: `iss`, `aud`, `exp`, `nbf`). `verify` in the
//! parent module looks the key up in the JWKS between the two; the fuzz targets call both
//! with a fixed key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use shared::claims::{ACCESS_TOKEN_TYPE, AccessTokenClaims};

use super::{AuthError, Authenticated, Via};

/// What the full check of a token establishes.
#[derive(Debug, Clone)]
pub struct CheckedToken {
    pub caller: Authenticated,
    pub jti: String,
    pub kid: String,
    pub exp: i64,
}

/// The `kid` of a token whose header is one of ours; nothing in it is trusted beyond that.
pub fn read_header(token: &str) -> Result<String, AuthError> {
    if !header_and_claims_are_utf8(token) {
        return Err(AuthError::InvalidToken("malformed token"));
    }
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| AuthError::InvalidToken("malformed token"))?;
    // SECURITY.md 18: the algorithm is ours to choose, never the token's.
    if header.alg != Algorithm::EdDSA {
        return Err(AuthError::InvalidToken("unexpected algorithm"));
    }
    // RFC 9068 §4: a JWT of another type is not an access token, whoever signed it.
    if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
        return Err(AuthError::InvalidToken("not an access token"));
    }
    header.kid.ok_or(AuthError::InvalidToken("no key id"))
}

/// RFC 7519 §7.2 steps 4 and 10: the header and the claims are each the UTF-8 of a JSON
/// object. serde_json skips a member it does not read without checking its UTF-8, so a
/// token with invalid UTF-8 in an unknown claim would pass `decode` (found by the
/// `jwt_claims` fuzz target); the decoded bytes are checked here first.
fn header_and_claims_are_utf8(token: &str) -> bool {
    let mut segments = token.split('.');
    [segments.next(), segments.next()]
        .into_iter()
        .all(|segment| {
            segment
                .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
                .is_some_and(|bytes| std::str::from_utf8(&bytes).is_ok())
        })
}

/// The signature (with `key`, the one `kid` names) and the claims, as `validation` says.
pub fn check(
    token: &str,
    kid: String,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<CheckedToken, AuthError> {
    let claims = jsonwebtoken::decode::<AccessTokenClaims>(token, key, validation)
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                AuthError::InvalidToken("the token has expired")
            }
            jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                AuthError::InvalidToken("the token is for another audience")
            }
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                AuthError::InvalidToken("the token is from another issuer")
            }
            jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                AuthError::InvalidToken("the token is not valid yet")
            }
            _ => AuthError::InvalidToken("the signature or claims do not verify"),
        })?
        .claims;
    let caller = Authenticated {
        subject: claims.sub,
        client_id: claims.client_id,
        scopes: claims.scope.split(' ').map(str::to_owned).collect(),
        via: Via::AccessToken,
    };
    Ok(CheckedToken {
        caller,
        jti: claims.jti,
        kid,
        exp: claims.exp,
    })
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};

    use super::*;

    /// PKCS#8 of the Ed25519 key whose seed is 32 bytes of 7, and its public `x`.
    const PKCS8_PREFIX: &str = "302e020100300506032b657004220420";
    const X: &str = "6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw";

    fn encoding_key() -> EncodingKey {
        let hex = format!("{PKCS8_PREFIX}{}", "07".repeat(32));
        let der: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        EncodingKey::from_ed_der(&der)
    }

    fn sign(header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &encoding_key()).unwrap()
    }

    fn header() -> Header {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some("k1".into());
        header
    }

    fn claims(changes: Value) -> Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": "https://issuer.example", "sub": "user-1", "aud": "https://api.example",
            "client_id": "client-1", "scope": "tasks:read tasks:write",
            "iat": now, "exp": now + 300, "jti": "jti-1",
        });
        for (name, value) in changes.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims
    }

    fn verify(token: &str) -> Result<CheckedToken, AuthError> {
        let kid = read_header(token)?;
        let key = DecodingKey::from_ed_components(X).unwrap();
        let validation =
            super::super::token_validation("https://issuer.example", "https://api.example");
        check(token, kid, &key, &validation)
    }

    fn refusal(token: &str) -> &'static str {
        match verify(token) {
            Err(AuthError::InvalidToken(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_token_of_ours_names_its_caller() {
        let checked = verify(&sign(&header(), &claims(json!({})))).unwrap();
        assert_eq!(checked.caller.subject, "user-1");
        assert_eq!(checked.caller.client_id, "client-1");
        assert_eq!(checked.caller.scopes, ["tasks:read", "tasks:write"]);
        assert_eq!(
            (checked.jti.as_str(), checked.kid.as_str()),
            ("jti-1", "k1")
        );
    }

    #[test]
    fn the_header_is_checked_before_any_key() {
        assert_eq!(refusal("not.a.jwt"), "malformed token");
        let mut hs = header();
        hs.alg = Algorithm::HS256;
        let forged = jsonwebtoken::encode(
            &hs,
            &claims(json!({})),
            &EncodingKey::from_secret(X.as_bytes()),
        )
        .unwrap();
        assert_eq!(refusal(&forged), "unexpected algorithm");
        let mut jwt = header();
        jwt.typ = Some("JWT".into());
        assert_eq!(
            refusal(&sign(&jwt, &claims(json!({})))),
            "not an access token"
        );
        let mut no_kid = header();
        no_kid.kid = None;
        assert_eq!(refusal(&sign(&no_kid, &claims(json!({})))), "no key id");
    }

    /// Found by the `jwt_claims` fuzz target: a byte that is not UTF-8 in a claim we do not
    /// read (0x9b here) was accepted, signature and all.
    #[test]
    fn header_and_claims_must_be_utf8() {
        let key = encoding_key();
        let good_header = serde_json::to_vec(&header()).unwrap();
        let good_claims = serde_json::to_vec(&claims(json!({}))).unwrap();
        let mut bad_claims = good_claims.clone();
        bad_claims.pop();
        bad_claims.extend_from_slice(b",\"x\":\"\x9b\"}");
        let mut bad_header = good_header.clone();
        bad_header.pop();
        bad_header.extend_from_slice(b",\"x\":\"\xff\"}");
        let token = |header: &[u8], claims: &[u8]| {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let signature =
                jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::EdDSA).unwrap();
            format!("{input}.{signature}")
        };
        assert!(verify(&token(&good_header, &good_claims)).is_ok());
        assert_eq!(
            refusal(&token(&good_header, &bad_claims)),
            "malformed token"
        );
        assert_eq!(
            refusal(&token(&bad_header, &good_claims)),
            "malformed token"
        );
    }

    #[test]
    fn claims_are_ours_and_current() {
        let past = chrono::Utc::now().timestamp() - 3600;
        for (changes, why) in [
            (
                json!({ "aud": "https://other.example" }),
                "the token is for another audience",
            ),
            (
                json!({ "iss": "https://evil.example" }),
                "the token is from another issuer",
            ),
            (json!({ "exp": past }), "the token has expired"),
            (json!({ "nbf": past + 7200 }), "the token is not valid yet"),
            (
                json!({ "sub": null }),
                "the signature or claims do not verify",
            ),
        ] {
            assert_eq!(
                refusal(&sign(&header(), &claims(changes.clone()))),
                why,
                "{changes}"
            );
        }
        let token = sign(&header(), &claims(json!({})));
        let (body, signature) = token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{body}.{flipped}{}", &signature[1..]);
        assert_eq!(refusal(&tampered), "the signature or claims do not verify");
    }
}
