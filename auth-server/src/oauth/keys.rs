//! Token-signing keys (SECURITY.md 11): Ed25519 keys kept in the database so every instance
//! signs with the same key and publishes the same JWKS. The private half is encrypted with
//! ChaCha20-Poly1305 under a key derived from `KEY_ENCRYPTION_KEY` (bound to the key's
//! `kid`); in development without that secret it is stored plain, with a warning.
//!
//! Every instance keeps the published keys in memory (`KeyRing`) and reloads them
//! periodically, so a key added by `keys rotate` on one instance reaches all of them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand::RngCore as _;
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::config::{SecretString, Settings};
use shared::db::{Db, DbConnection, DbError, exclusive};
use shared::models::now;
use shared::models::signing_key::SigningKeyRow;

/// The one algorithm we sign with (see README, "Signing algorithm").
pub const ALGORITHM: Algorithm = Algorithm::EdDSA;
pub const ALGORITHM_NAME: &str = "EdDSA";

const ENCRYPTED_PREFIX: &str = "v1:";
const PLAIN_PREFIX: &str = "plain:";
/// Serialises key creation across instances.
const KEY_LOCK_ID: i64 = 0x6f61_7574_685f_6b79; // "oauth_ky"

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Db(#[from] DbError),
    #[error(
        "signing key {kid} cannot be decrypted: KEY_ENCRYPTION_KEY is missing or not the one it was encrypted with"
    )]
    Decrypt { kid: String },
    #[error("signing key {kid} is stored in an unknown format")]
    Format { kid: String },
    #[error("key generation failed: {0}")]
    Generate(String),
}

impl From<diesel::result::Error> for KeyError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(DbError::from(error))
    }
}

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

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new((&self.0).into())
    }
}

/// A key that signs: its `kid` and the encoding key built once.
pub struct ActiveKey {
    pub kid: String,
    pub encoding_key: EncodingKey,
}

impl std::fmt::Debug for ActiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The keys in force: the newest signs, all are published and verify.
pub struct KeyRing {
    pub signing: ActiveKey,
    /// The JWKS document (RFC 7517), serialised once.
    pub jwks: String,
    /// Public keys by `kid`, to verify tokens we issued (revocation, introspection).
    pub verifying: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("signing", &self.signing)
            .field("published", &self.verifying.keys().collect::<Vec<_>>())
            .finish()
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
fn seal(der: &[u8], kid: &str, kek: &KeyEncryptionKey) -> Result<String, KeyError> {
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
fn private_der(row: &SigningKeyRow, kek: Option<&KeyEncryptionKey>) -> Result<Vec<u8>, KeyError> {
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

/// Creates the first signing key if no key is published, once across all instances.
///
/// When `KEY_ENCRYPTION_KEY` is set but the key that signs was stored in the clear (a
/// database that started in development), that key may have been copied along with the
/// database, so it must not sign again: every plain private key is encrypted in place and
/// a new key takes over, as in `keys rotate` (the old one stays published for
/// `retirement_delay`, so no token it signed fails).
pub fn ensure_key(
    conn: &mut DbConnection,
    kek: Option<&KeyEncryptionKey>,
    retirement_delay: chrono::Duration,
) -> Result<bool, KeyError> {
    exclusive(conn, KEY_LOCK_ID, |conn| {
        if let Some(newest) = SigningKeyRow::published(conn, now())?.first() {
            let Some(kek) = kek else { return Ok(false) };
            if !newest.private_key.starts_with(PLAIN_PREFIX) {
                return Ok(false);
            }
            let stale = newest.kid.clone();
            seal_plain_keys(conn, kek)?;
            let row = generate(Some(kek))?;
            SigningKeyRow::insert(conn, &row)?;
            let retire_after = now() + retirement_delay;
            SigningKeyRow::retire_all_but(conn, &row.kid, retire_after)?;
            tracing::warn!(
                kid = %row.kid,
                replaced_kid = %stale,
                previous_keys_published_until = %retire_after,
                "the signing key was stored unencrypted: it is now encrypted and retiring, and a new encrypted key signs"
            );
            return Ok(true);
        }
        let row = generate(kek)?;
        SigningKeyRow::insert(conn, &row)?;
        if kek.is_none() {
            tracing::warn!(
                kid = %row.kid,
                "KEY_ENCRYPTION_KEY is not set: the signing key is stored unencrypted (acceptable in development only)"
            );
        }
        tracing::info!(kid = %row.kid, encrypted = kek.is_some(), "generated the first token-signing key");
        Ok(true)
    })
}

/// Encrypts in place every private key stored in the clear.
fn seal_plain_keys(conn: &mut DbConnection, kek: &KeyEncryptionKey) -> Result<(), KeyError> {
    for row in SigningKeyRow::all(conn)? {
        if row.private_key.starts_with(PLAIN_PREFIX) {
            let sealed = seal(&private_der(&row, None)?, &row.kid, kek)?;
            SigningKeyRow::set_private_key(conn, &row.kid, &sealed)?;
        }
    }
    Ok(())
}

/// How long after a rotation the previous keys stay published: the longest an access token
/// signed by them can live — including tokens signed by instances that have not reloaded
/// their keys yet — plus clock skew.
pub fn retirement_delay(settings: &Settings) -> chrono::Duration {
    let ttl =
        chrono::Duration::from_std(settings.access_token_ttl).unwrap_or(chrono::Duration::MAX);
    let reload =
        chrono::Duration::from_std(settings.signing_keys_reload).unwrap_or(chrono::Duration::MAX);
    ttl + reload + chrono::Duration::seconds(60)
}

/// Loads the published keys into a ring: the newest signs.
pub fn load(conn: &mut DbConnection, kek: Option<&KeyEncryptionKey>) -> Result<KeyRing, KeyError> {
    let rows = SigningKeyRow::published(conn, now())?;
    let newest = rows.first().ok_or_else(|| KeyError::Format {
        kid: "(none published)".into(),
    })?;
    let signing = ActiveKey {
        kid: newest.kid.clone(),
        encoding_key: EncodingKey::from_ed_der(&private_der(newest, kek)?),
    };
    let mut published = Vec::with_capacity(rows.len());
    let mut verifying = HashMap::with_capacity(rows.len());
    for row in &rows {
        let jwk: Jwk = serde_json::from_str(&row.public_jwk).map_err(|_| KeyError::Format {
            kid: row.kid.clone(),
        })?;
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| KeyError::Format {
            kid: row.kid.clone(),
        })?;
        verifying.insert(row.kid.clone(), decoding);
        published.push(jwk);
    }
    let jwks = serde_json::to_string(&json!({ "keys": published }))
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    Ok(KeyRing {
        signing,
        jwks,
        verifying,
    })
}

/// Adds a new key that signs from now on; every other published key stays in the JWKS
/// until `retire_after` (set it past the expiry of the last token those keys may sign),
/// then leaves it (SECURITY.md 11: rotation with no failed request).
pub fn rotate(
    conn: &mut DbConnection,
    kek: Option<&KeyEncryptionKey>,
    retire_after: chrono::NaiveDateTime,
) -> Result<SigningKeyRow, KeyError> {
    exclusive(conn, KEY_LOCK_ID, |conn| {
        let row = generate(kek)?;
        SigningKeyRow::insert(conn, &row)?;
        SigningKeyRow::retire_all_but(conn, &row.kid, retire_after)?;
        tracing::info!(kid = %row.kid, retire_previous_after = %retire_after, "rotated the token-signing key");
        Ok(row)
    })
}

/// The ring in force on this instance, swapped whole on reload. Empty until the database
/// could first be reached.
#[derive(Debug, Clone)]
pub struct Keys {
    ring: Arc<RwLock<Option<Arc<KeyRing>>>>,
    kek: Option<KeyEncryptionKey>,
    retirement_delay: chrono::Duration,
}

impl Keys {
    pub fn new(settings: &Settings) -> Self {
        Self {
            ring: Arc::new(RwLock::new(None)),
            kek: settings
                .key_encryption_key
                .as_ref()
                .map(KeyEncryptionKey::from_secret),
            retirement_delay: retirement_delay(settings),
        }
    }

    /// The keys in force, or `None` while they could not be loaded yet.
    pub fn current(&self) -> Option<Arc<KeyRing>> {
        match self.ring.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Creates the first key if none is published, then (re)loads the published keys.
    pub async fn refresh(&self, db: &Db) -> Result<(), KeyError> {
        let (kek, retirement_delay) = (self.kek.clone(), self.retirement_delay);
        let ring = db
            .run(move |conn| {
                ensure_key(conn, kek.as_ref(), retirement_delay)?;
                load(conn, kek.as_ref())
            })
            .await?;
        let ring = Some(Arc::new(ring));
        match self.ring.write() {
            Ok(mut guard) => *guard = ring,
            Err(poisoned) => *poisoned.into_inner() = ring,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(secret: &str) -> KeyEncryptionKey {
        let values = [("KEY_ENCRYPTION_KEY".to_owned(), secret.to_owned())]
            .into_iter()
            .collect();
        let settings = shared::config::Settings::from_values(values).unwrap();
        KeyEncryptionKey::from_secret(settings.key_encryption_key.as_ref().unwrap())
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
