//! What the fuzz targets share: reading an input as two parts, and the fixed key, issuer and
//! audience the JWT targets verify against (the seeds in `corpus/jwt_*` are signed with
//! it; `seeds.py` writes them).

/// `first\nrest`: the part before the first newline and the rest; with no newline, the
/// whole input and `None`.
pub fn two_parts(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    }
}

pub mod jwt {
    //! A fixed Ed25519 key and the task API's validation, as `resource-api` builds it.

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::{Signer as _, SigningKey};
    use jsonwebtoken::{DecodingKey, Validation};

    pub const ISSUER: &str = "https://issuer.example";
    pub const AUDIENCE: &str = "https://api.example";
    pub const KID: &str = "fuzz-key";
    /// Not a secret: the private key of the fuzz targets, and of nothing else.
    const SEED: [u8; 32] = [7; 32];

    /// A token the task API accepts until 2100 (`exp` 4102444800), and the only one the
    /// `jwt_token` target may see verify: the committed seed `corpus/jwt_token/genuine`.
    pub const GENUINE_HEADER: &str = r#"{"alg":"EdDSA","typ":"at+jwt","kid":"fuzz-key"}"#;
    pub const GENUINE_CLAIMS: &str = concat!(
        r#"{"iss":"https://issuer.example","sub":"user-1","aud":"https://api.example","#,
        r#""client_id":"client-1","scope":"tasks:read tasks:write","iat":1767225600,"#,
        r#""exp":4102444800,"jti":"jti-1"}"#
    );

    pub fn decoding_key() -> DecodingKey {
        let public = SigningKey::from_bytes(&SEED).verifying_key();
        // As the task API reads a JWK: `x`, base64url (RFC 8037 §2).
        DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(public.as_bytes()))
            .expect("a 32-byte Ed25519 public key")
    }

    pub fn validation() -> Validation {
        resource_api::auth::token_validation(ISSUER, AUDIENCE)
    }

    /// A JWS compact serialisation (RFC 7515 §7.1) of exactly these header and payload
    /// bytes, signed with the fixed key: whatever they say, the signature is good.
    pub fn sign(header: &[u8], claims: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = SigningKey::from_bytes(&SEED).sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    pub fn genuine() -> String {
        sign(GENUINE_HEADER.as_bytes(), GENUINE_CLAIMS.as_bytes())
    }
}
