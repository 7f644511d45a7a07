//! The keys in force on one instance: the newest published key signs, every published key
//! verifies and appears in the JWKS (RFC 7517). `Keys` holds the ring and swaps it whole on
//! each reload.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use serde_json::json;
use shared::config::{KeySettings, TokenSettings};
use shared::db::{Db, DbConnection};
use shared::models::now;
use shared::models::signing_key::SigningKeyRow;

use super::KeyError;
use super::crypto::{KeyEncryptionKey, private_der};
use super::signer::TokenSigner;
use super::store::{ensure_key, retirement_delay};
use super::verified::VerifiedTokens;

/// A key that signs: its `kid` and its signer, built once.
pub struct ActiveKey {
    pub kid: String,
    pub signer: TokenSigner,
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
    /// Tokens these keys have verified.
    pub verified: VerifiedTokens,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("signing", &self.signing)
            .field("published", &self.verifying.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Loads the published keys into a ring: the newest signs.
pub fn load(conn: &mut DbConnection, kek: Option<&KeyEncryptionKey>) -> Result<KeyRing, KeyError> {
    let rows = SigningKeyRow::published(conn, now())?;
    let newest = rows.first().ok_or_else(|| KeyError::Format {
        kid: "(none published)".into(),
    })?;
    let key =
        SigningKey::from_pkcs8_der(&private_der(newest, kek)?).map_err(|_| KeyError::Format {
            kid: newest.kid.clone(),
        })?;
    let signing = ActiveKey {
        signer: TokenSigner::new(key, &newest.kid),
        kid: newest.kid.clone(),
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
        verified: VerifiedTokens::default(),
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
    pub fn new(keys: &KeySettings, tokens: &TokenSettings) -> Self {
        Self {
            ring: Arc::new(RwLock::new(None)),
            kek: KeyEncryptionKey::from_settings(keys),
            retirement_delay: retirement_delay(keys, tokens),
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
