//! Signing our access tokens (RFC 7515 compact serialisation, RFC 8037 EdDSA). The JOSE
//! header is fixed per key, so it is serialised and encoded once when the key is loaded;
//! the Ed25519 key is kept expanded (its public half derived once, not per signature).
//! Each token then costs one JSON serialisation of its claims, straight into the output,
//! and one signature. Verifying tokens — untrusted input — stays with jsonwebtoken.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey};
use serde::Serialize;
use shared::claims::ACCESS_TOKEN_TYPE;

use super::ALGORITHM_NAME;

/// Signs access tokens with one key. `Debug` shows the `kid` only.
pub struct TokenSigner {
    key: SigningKey,
    /// `BASE64URL(header) "."`, the start of every token this key signs.
    encoded_header: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner").finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

impl TokenSigner {
    pub fn new(key: SigningKey, kid: &str) -> Self {
        let header = Header {
            alg: ALGORITHM_NAME,
            typ: ACCESS_TOKEN_TYPE,
            kid,
        };
        // A struct of three strings always serialises.
        let json = serde_json::to_vec(&header).unwrap_or_default();
        let mut encoded_header = URL_SAFE_NO_PAD.encode(json);
        encoded_header.push('.');
        Self {
            key,
            encoded_header,
        }
    }

    /// `header.claims.signature`, each part base64url without padding (RFC 7515 §7.1).
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, serde_json::Error> {
        let json = serde_json::to_vec(claims)?;
        let signature_len = 86; // 64 bytes, base64url without padding
        let mut token = String::with_capacity(
            self.encoded_header.len() + json.len().div_ceil(3) * 4 + 1 + signature_len,
        );
        token.push_str(&self.encoded_header);
        URL_SAFE_NO_PAD.encode_string(&json, &mut token);
        let signature = self.key.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    use jsonwebtoken::{DecodingKey, EncodingKey, Validation};
    use shared::claims::AccessTokenClaims;

    use super::*;

    fn claims() -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "https://issuer.example".into(),
            sub: "user-1".into(),
            aud: "https://api.example".into(),
            client_id: "client-1".into(),
            scope: "tasks:read".into(),
            iat: 1_700_000_000,
            exp: 4_000_000_000,
            jti: "jti-1".into(),
        }
    }

    /// What jsonwebtoken verifies, and byte for byte what it would have signed (Ed25519
    /// signatures are deterministic), but for the header's member order.
    #[test]
    fn tokens_verify_with_jsonwebtoken_and_match_its_signature() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let signer = TokenSigner::new(key.clone(), "kid-1");
        let token = signer.sign(&claims()).unwrap();

        let public = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let decoding = DecodingKey::from_ed_components(&public).unwrap();
        let mut validation = Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.set_audience(&["https://api.example"]);
        let decoded =
            jsonwebtoken::decode::<AccessTokenClaims>(&token, &decoding, &validation).unwrap();
        assert_eq!(decoded.claims, claims());
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
        assert_eq!(header.typ.as_deref(), Some(ACCESS_TOKEN_TYPE));
        assert_eq!(header.kid.as_deref(), Some("kid-1"));

        let mut theirs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        theirs.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        theirs.kid = Some("kid-1".to_owned());
        let der = key.to_pkcs8_der().unwrap();
        let reference = jsonwebtoken::encode(
            &theirs,
            &claims(),
            &EncodingKey::from_ed_der(der.as_bytes()),
        )
        .unwrap();
        let (_, reference_payload) = reference.split_once('.').unwrap();
        let (_, our_payload) = token.split_once('.').unwrap();
        let payload = |rest: &str| rest.split_once('.').unwrap().0.to_owned();
        assert_eq!(payload(our_payload), payload(reference_payload));
    }

    #[test]
    fn a_tampered_token_does_not_verify() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let token = TokenSigner::new(key.clone(), "k").sign(&claims()).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims();
        forged.scope = "tasks:read tasks:write".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let forged_token = parts.join(".");
        let public = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let decoding = DecodingKey::from_ed_components(&public).unwrap();
        let mut validation = Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.set_audience(&["https://api.example"]);
        assert!(
            jsonwebtoken::decode::<AccessTokenClaims>(&forged_token, &decoding, &validation)
                .is_err()
        );
    }
}
