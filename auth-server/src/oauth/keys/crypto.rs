//! Key material: a new Ed25519 or RSA-2048 key (AWS-LC generates the RSA primes) with its
//! public JWK and RFC 7638 `kid`, and the private half (PKCS#8) sealed for storage
//! (ChaCha20-Poly1305 under `KEY_ENCRYPTION_KEY`, bound to the `kid`) or, in development
//! without that secret, stored plain.

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair, RsaPublicKeyComponents};
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

use super::{KeyAlgorithm, KeyError};

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

    /// `msg` encrypted for storage and bound to `aad` (what it belongs to, so a sealed value
    /// moved to another row does not open): `v1:` and the base64 of nonce and ciphertext.
    pub fn seal(&self, msg: &[u8], aad: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg, aad })
            .map_err(|_| SealError)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(format!("{ENCRYPTED_PREFIX}{}", STANDARD.encode(sealed)))
    }

    /// What [`Self::seal`] sealed with this key and the same `aad`; `None` for anything else.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Option<Vec<u8>> {
        let sealed = STANDARD
            .decode(sealed.strip_prefix(ENCRYPTED_PREFIX)?)
            .ok()?;
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        self.cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
    }
}

/// Encryption failed (only for a message too long for ChaCha20-Poly1305).
#[derive(Debug, thiserror::Error)]
#[error("the value could not be encrypted")]
pub struct SealError;

/// A secret kept in the clear, in development without `KEY_ENCRYPTION_KEY`.
pub fn plain(msg: &[u8]) -> String {
    format!("{PLAIN_PREFIX}{}", STANDARD.encode(msg))
}

/// The bytes of a value stored by [`plain`]; `None` for a sealed or malformed one.
pub fn read_plain(stored: &str) -> Option<Vec<u8>> {
    STANDARD.decode(stored.strip_prefix(PLAIN_PREFIX)?).ok()
}

/// The RFC 7638 thumbprint of a JWK's required members, already in canonical form.
fn thumbprint(canonical: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// An Ed25519 public key as a JWK (RFC 8037 §2), and its thumbprint as the `kid`.
fn ed25519_jwk(key: &SigningKey) -> (String, serde_json::Value) {
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    // RFC 7638 §3.2: the required members, in lexicographic order, no whitespace.
    let kid = thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
    let alg = KeyAlgorithm::EdDSA.as_str();
    let jwk =
        json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": alg, "use": "sig" });
    (kid, jwk)
}

/// The `kid` of an RSA public key given as the base64url of its modulus and exponent.
fn rsa_thumbprint(n: &str, e: &str) -> String {
    thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#))
}

/// An RSA public key as a JWK (RFC 7518 §6.3.1), and its thumbprint as the `kid`.
pub(super) fn rsa_jwk(key: &RsaKeyPair) -> (String, serde_json::Value) {
    let components = RsaPublicKeyComponents::<Vec<u8>>::from(key.public_key());
    let n = URL_SAFE_NO_PAD.encode(&components.n);
    let e = URL_SAFE_NO_PAD.encode(&components.e);
    let kid = rsa_thumbprint(&n, &e);
    let alg = KeyAlgorithm::RS256.as_str();
    let jwk = json!({ "kty": "RSA", "n": n, "e": e, "kid": kid, "alg": alg, "use": "sig" });
    (kid, jwk)
}

/// A new private key of `alg` as PKCS#8 DER, with its `kid` and public JWK.
fn new_key(alg: KeyAlgorithm) -> Result<(Vec<u8>, String, serde_json::Value), KeyError> {
    let failed = |e: &dyn std::fmt::Display| KeyError::Generate(e.to_string());
    match alg {
        KeyAlgorithm::EdDSA => {
            let mut seed = [0u8; 32];
            rand::rng().fill_bytes(&mut seed);
            let key = SigningKey::from_bytes(&seed);
            let der = key.to_pkcs8_der().map_err(|e| failed(&e))?;
            let (kid, jwk) = ed25519_jwk(&key);
            Ok((der.as_bytes().to_vec(), kid, jwk))
        }
        KeyAlgorithm::RS256 => {
            let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| failed(&e))?;
            let der: Pkcs8V1Der<'static> = key.as_der().map_err(|e| failed(&e))?;
            let (kid, jwk) = rsa_jwk(&key);
            Ok((der.as_ref().to_vec(), kid, jwk))
        }
    }
}

/// A new key of `alg`, ready to store.
pub fn generate(
    alg: KeyAlgorithm,
    kek: Option<&KeyEncryptionKey>,
) -> Result<SigningKeyRow, KeyError> {
    let (der, kid, jwk) = new_key(alg)?;
    let private_key = match kek {
        Some(kek) => seal(&der, &kid, kek)?,
        None => plain(&der),
    };
    Ok(SigningKeyRow {
        kid,
        alg: alg.as_str().to_owned(),
        public_jwk: jwk.to_string(),
        private_key,
        created_at: now(),
        retire_after: None,
    })
}

/// A private key (PKCS#8 DER) encrypted for storage, bound to its `kid`.
pub(super) fn seal(der: &[u8], kid: &str, kek: &KeyEncryptionKey) -> Result<String, KeyError> {
    kek.seal(der, kid.as_bytes())
        .map_err(|e| KeyError::Generate(e.to_string()))
}

/// The PKCS#8 DER of a stored private key.
pub(super) fn private_der(
    row: &SigningKeyRow,
    kek: Option<&KeyEncryptionKey>,
) -> Result<Vec<u8>, KeyError> {
    let format_error = || KeyError::Format {
        kid: row.kid.clone(),
    };
    if row.private_key.starts_with(PLAIN_PREFIX) {
        return read_plain(&row.private_key).ok_or_else(format_error);
    }
    if !row.private_key.starts_with(ENCRYPTED_PREFIX) {
        return Err(format_error());
    }
    kek.and_then(|kek| kek.open(&row.private_key, row.kid.as_bytes()))
        .ok_or_else(|| KeyError::Decrypt {
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
        let row = generate(KeyAlgorithm::EdDSA, Some(&right)).unwrap();
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
        let row = generate(KeyAlgorithm::EdDSA, None).unwrap();
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
        let (kid, jwk) = ed25519_jwk(&key);
        assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn the_rsa_thumbprint_matches_rfc_7638s_example() {
        // RFC 7638 §3.1: the example RSA key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            rsa_thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rsa_keys_are_2048_bits_with_a_public_jwk_only() {
        let row = generate(KeyAlgorithm::RS256, None).unwrap();
        assert_eq!(row.alg, "RS256");
        let jwk: serde_json::Value = serde_json::from_str(&row.public_jwk).unwrap();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["e"], "AQAB");
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256, "a 2048-bit modulus");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(jwk.get(private).is_none(), "no {private} in the JWK");
        }
        assert_eq!(
            row.kid,
            rsa_thumbprint(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
        );
        let der = private_der(&row, None).unwrap();
        assert!(RsaKeyPair::from_pkcs8(&der).is_ok());
    }
}
