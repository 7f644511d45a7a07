//! The planted authorization server's signing key: Ed25519 (RFC 8037), under a `kid`
//! its JWKS publishes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::EncodingKey;
use rand::RngCore as _;
use serde_json::{Value, json};

use super::values::random;

pub struct Signer {
    key: SigningKey,
    pub encoding: EncodingKey,
    pub kid: String,
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
