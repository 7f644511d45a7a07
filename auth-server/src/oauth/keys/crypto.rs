//! Key material: a new Ed25519 key with its public JWK and RFC 7638 `kid`, and the private
//! half sealed for storage (ChaCha20-Poly1305 under `KEY_ENCRYPTION_KEY`, bound to the
//! `kid`) or, in development without that secret, stored plain.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use rand::RngCore as _;
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::config::{KeySettings, SecretString};
use shared::models::now;
use shared::models::signing_key::SigningKeyRow;

use super::{ALGORITHM_NAME, KeyError};

const ENCRYPTED_PREFIX: &str = "v1:";
const PLAIN_PREFIX: &str = "plain:";

/// The secret that encrypts private keys at rest. `Debug` shows nothing.
#[derive(Clone)]
pub struct KeyEncryptionKey([u8; 32]);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(***)")
    }
}

impl KeyEncryptionKey {
    pub fn from_secret(secret: &SecretString) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"oauth-signing-key-encryption-v1:");
        hasher.update(secret.expose().as_bytes());
        Self(hasher.finalize().into())
    }

    /// The key named by `KEY_ENCRYPTION_KEY`, if it is set.
    pub fn from_settings(keys: &KeySettings) -> Option<Self> {
        keys.encryption_key.as_ref().map(Self::from_secret)
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new((&self.0).into())
    }
}

/// Builds a JWK and its RFC 7638 thumbprint, used as the `kid`.
fn public_jwk(key: &SigningKey) -> (String, serde_json::Value) {
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    // RFC 7638 §3.2: the required members, in lexicographic order, no whitespace.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
    let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM_NAME, "use": "sig" });
    (kid, jwk)
}

/// A new Ed25519 key, ready to store.
pub fn generate(kek: Option<&KeyEncryptionKey>) -> Result<SigningKeyRow, KeyError> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let der = key
        .to_pkcs8_der()
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let (kid, jwk) = public_jwk(&key);
    let private_key = match kek {
        Some(kek) => seal(der.as_bytes(), &kid, kek)?,
        None => format!("{PLAIN_PREFIX}{}", STANDARD.encode(der.as_bytes())),
    };
    Ok(SigningKeyRow {
        kid,
        alg: ALGORITHM_NAME.to_owned(),
        public_jwk: jwk.to_string(),
        private_key,
        created_at: now(),
        retire_after: None,
    })
}

/// A private key (PKCS#8 DER) encrypted for storage, bound to its `kid`.
pub(super) fn seal(der: &[u8], kid: &str, kek: &KeyEncryptionKey) -> Result<String, KeyError> {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ciphertext = kek
        .cipher()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: der,
                aad: kid.as_bytes(),
            },
        )
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    Ok(format!("{ENCRYPTED_PREFIX}{}", STANDARD.encode(sealed)))
}

/// The PKCS#8 DER of a stored private key.
pub(super) fn private_der(
    row: &SigningKeyRow,
    kek: Option<&KeyEncryptionKey>,
) -> Result<Vec<u8>, KeyError> {
    if let Some(encoded) = row.private_key.strip_prefix(PLAIN_PREFIX) {
        return STANDARD.decode(encoded).map_err(|_| KeyError::Format {
            kid: row.kid.clone(),
        });
    }
    let encoded = row
        .private_key
        .strip_prefix(ENCRYPTED_PREFIX)
        .ok_or_else(|| KeyError::Format {
            kid: row.kid.clone(),
        })?;
    let sealed = STANDARD.decode(encoded).map_err(|_| KeyError::Format {
        kid: row.kid.clone(),
    })?;
    let kek = kek.ok_or_else(|| KeyError::Decrypt {
        kid: row.kid.clone(),
    })?;
    if sealed.len() < 12 {
        return Err(KeyError::Format {
            kid: row.kid.clone(),
        });
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    kek.cipher()
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: row.kid.as_bytes(),
            },
        )
        .map_err(|_| KeyError::Decrypt {
            kid: row.kid.clone(),
        })
}

/// Whether a stored private key is encrypted (rather than plain, from development).
pub(super) fn is_encrypted(row: &SigningKeyRow) -> bool {
    row.private_key.starts_with(ENCRYPTED_PREFIX)
}

/// Whether a stored private key is kept in the clear.
pub(super) fn is_plain(row: &SigningKeyRow) -> bool {
    row.private_key.starts_with(PLAIN_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(secret: &str) -> KeyEncryptionKey {
        let values = [("KEY_ENCRYPTION_KEY".to_owned(), secret.to_owned())]
            .into_iter()
            .collect();
        let settings = shared::config::Settings::from_values(values).unwrap();
        KeyEncryptionKey::from_secret(settings.keys.encryption_key.as_ref().unwrap())
    }

    #[test]
    fn encrypted_keys_decrypt_only_with_their_secret_and_kid() {
        let right = kek("0123456789abcdef0123456789abcdef");
        let wrong = kek("fedcba9876543210fedcba9876543210");
        let row = generate(Some(&right)).unwrap();
        assert!(row.private_key.starts_with(ENCRYPTED_PREFIX));
        assert!(private_der(&row, Some(&right)).is_ok());
        assert!(matches!(
            private_der(&row, Some(&wrong)),
            Err(KeyError::Decrypt { .. })
        ));
        assert!(matches!(
            private_der(&row, None),
            Err(KeyError::Decrypt { .. })
        ));
        let mut moved = row.clone();
        moved.kid = "another-kid".into();
        assert!(
            private_der(&moved, Some(&right)).is_err(),
            "the ciphertext is bound to its kid"
        );
    }

    #[test]
    fn kid_is_the_rfc_7638_thumbprint_of_the_public_jwk() {
        let row = generate(None).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&row.public_jwk).unwrap();
        let canonical = format!(
            r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
            jwk["x"].as_str().unwrap()
        );
        assert_eq!(
            row.kid,
            URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
        );
        assert_eq!(jwk["kid"], row.kid);
        assert_eq!(jwk["alg"], "EdDSA");
        assert!(jwk.get("d").is_none(), "no private part in the JWK");
    }

    #[test]
    fn the_thumbprint_matches_rfc_8037s_example() {
        // RFC 8037 appendix A.1 (the key) and A.3 (its RFC 7638 thumbprint).
        let d = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let key = SigningKey::from_bytes(&d.try_into().unwrap());
        let (kid, jwk) = public_jwk(&key);
        assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }
}
