//! The planted authorization server's access tokens: JWTs signed with its key
//! ([`super::keys`]), typ `at+jwt` with the RFC 9068 claims. Issuing and checking them here
//! is done right; the task API's verification is where the weaknesses are.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

use super::state::State;
use super::values::{now, random};

/// How long an access token lives.
const LIFETIME: i64 = 600;

/// A fresh access token for `subject` and `client_id` with `scope`.
pub fn access_token(state: &State, subject: &str, client_id: &str, scope: &str) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    header.kid = Some(state.signer.kid.clone());
    let now = now();
    let claims = json!({
        "iss": state.issuer,
        "sub": subject,
        "aud": state.api,
        "client_id": client_id,
        "scope": scope,
        "iat": now,
        "exp": now + LIFETIME,
        "jti": random("jti-"),
    });
    let token =
        jsonwebtoken::encode(&header, &claims, &state.signer.encoding).expect("signing works");
    state.remember(&token);
    token
}

/// The claims of a token this server issued, if its signature is its own and it has not
/// expired (introspection and revocation check tokens properly).
pub fn verified_claims(state: &State, token: &str) -> Option<Value> {
    use ed25519_dalek::Verifier as _;
    let (message, signature) = token.rsplit_once('.')?;
    let signature =
        ed25519_dalek::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?).ok()?;
    state
        .signer
        .verifying_key()
        .verify(message.as_bytes(), &signature)
        .ok()?;
    let payload = message.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (claims["exp"].as_i64()? > now()).then_some(claims)
}
