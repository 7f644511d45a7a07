//! The planted authorization server's access tokens: JWTs signed with Ed25519 (RFC 8037)
//! under a `kid` its JWKS publishes, typ `at+jwt` with the RFC 9068 claims. Issuing them
//! is done right; the task API's verification is where the weaknesses are.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore as _;
use serde_json::{Value, json};

use super::state::{State, random};

/// How long an access token lives.
const LIFETIME: i64 = 600;

pub struct Signer {
    key: SigningKey,
    encoding: EncodingKey,
    pub kid: String,
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

impl Signer {
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        let key = SigningKey::from_bytes(&seed);
        let der = key.to_pkcs8_der().expect("PKCS#8 of a fresh key");
        Self {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            key,
            kid: random("kid-"),
        }
    }

    /// The raw public key (32 bytes).
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.verifying_key()
    }

    /// The JWKS entry (RFC 8037 §2).
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public_key()),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }
}

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
