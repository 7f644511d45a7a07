//! The keys in force on one instance: of each algorithm, the newest published key past its
//! warm-up signs (`status::signing_row`), every published key verifies and appears in the JWKS (RFC 7517). `Keys` holds the ring
//! and swaps it whole on each reload.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::signature::{Ed25519KeyPair, RsaKeyPair};
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use serde_json::json;
use shared::claims::{ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE};
use shared::config::{KeySettings, TokenSettings};
use shared::db::{Db, DbConnection};
use shared::models::now;
use shared::models::signing_key::SigningKeyRow;

use super::crypto::{KeyEncryptionKey, private_der};
use super::signer::TokenSigner;
use super::status::signing_row;
use super::store::{ensure_key, retirement_delay, warm_up};
use super::verified::VerifiedTokens;
use super::{KeyAlgorithm, KeyError};
use crate::oidc::logout::LOGOUT_TOKEN_TYPE;

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

/// A published key, to verify the tokens it signed.
struct VerifyingKey {
    alg: KeyAlgorithm,
    key: DecodingKey,
}

/// The keys in force: the newest of each algorithm signs, all are published and verify.
pub struct KeyRing {
    /// Signs access tokens (EdDSA).
    pub signing: ActiveKey,
    /// Sign ID tokens (`typ` JWT): RS256, and EdDSA for the clients registered for it.
    id_token_rs256: TokenSigner,
    id_token_eddsa: TokenSigner,
    /// Sign back-channel logout tokens (`typ` logout+jwt), with the client's ID-token alg.
    logout_rs256: TokenSigner,
    logout_eddsa: TokenSigner,
    /// The JWKS document (RFC 7517), serialised once.
    pub jwks: String,
    /// Public keys by `kid`, to verify tokens we issued (revocation, introspection).
    verifying: HashMap<String, VerifyingKey>,
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

impl KeyRing {
    /// The published key named `kid`, if it is one of `alg`: a token whose header names
    /// another algorithm than its key's is refused (RFC 8725 §3.1).
    pub fn verifying_key(&self, kid: &str, alg: KeyAlgorithm) -> Option<&DecodingKey> {
        self.verifying
            .get(kid)
            .filter(|key| key.alg == alg)
            .map(|key| &key.key)
    }

    /// The signer of ID tokens with `alg`.
    pub fn id_token_signer(&self, alg: KeyAlgorithm) -> &TokenSigner {
        match alg {
            KeyAlgorithm::RS256 => &self.id_token_rs256,
            KeyAlgorithm::EdDSA => &self.id_token_eddsa,
        }
    }

    /// The signer of back-channel logout tokens with `alg`.
    pub fn logout_token_signer(&self, alg: KeyAlgorithm) -> &TokenSigner {
        match alg {
            KeyAlgorithm::RS256 => &self.logout_rs256,
            KeyAlgorithm::EdDSA => &self.logout_eddsa,
        }
    }
}

/// The key of `alg` that signs now among the published `rows` (newest first), parsed.
fn signing_of<'a>(
    rows: &'a [SigningKeyRow],
    alg: KeyAlgorithm,
    kek: Option<&KeyEncryptionKey>,
    warm_up: chrono::Duration,
) -> Result<(&'a SigningKeyRow, Vec<u8>), KeyError> {
    let row = signing_row(rows, alg.as_str(), now(), warm_up).ok_or_else(|| KeyError::Format {
        kid: format!("(no {} key published)", alg.as_str()),
    })?;
    Ok((row, private_der(row, kek)?))
}

/// Loads the published keys into a ring; a new key signs once `warm_up` has passed.
pub fn load(
    conn: &mut DbConnection,
    kek: Option<&KeyEncryptionKey>,
    warm_up: chrono::Duration,
) -> Result<KeyRing, KeyError> {
    let rows = SigningKeyRow::published(conn, now())?;
    let unreadable = |row: &SigningKeyRow| KeyError::Format {
        kid: row.kid.clone(),
    };
    let (ed25519_row, der) = signing_of(&rows, KeyAlgorithm::EdDSA, kek, warm_up)?;
    // PKCS#8 v1 as stored (the public key is derived from the seed).
    let ed25519 =
        || Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(|_| unreadable(ed25519_row));
    let (rsa_row, rsa_der) = signing_of(&rows, KeyAlgorithm::RS256, kek, warm_up)?;
    let rsa = || RsaKeyPair::from_pkcs8(&rsa_der).map_err(|_| unreadable(rsa_row));
    let signing = ActiveKey {
        signer: TokenSigner::ed25519(ed25519()?, &ed25519_row.kid, ACCESS_TOKEN_TYPE),
        kid: ed25519_row.kid.clone(),
    };
    let id_token_eddsa = TokenSigner::ed25519(ed25519()?, &ed25519_row.kid, ID_TOKEN_TYPE);
    let id_token_rs256 = TokenSigner::rs256(rsa()?, &rsa_row.kid, ID_TOKEN_TYPE);
    let logout_eddsa = TokenSigner::ed25519(ed25519()?, &ed25519_row.kid, LOGOUT_TOKEN_TYPE);
    let logout_rs256 = TokenSigner::rs256(rsa()?, &rsa_row.kid, LOGOUT_TOKEN_TYPE);
    let mut published = Vec::with_capacity(rows.len());
    let mut verifying = HashMap::with_capacity(rows.len());
    for row in &rows {
        let alg = KeyAlgorithm::parse(&row.alg).ok_or_else(|| unreadable(row))?;
        let jwk: Jwk = serde_json::from_str(&row.public_jwk).map_err(|_| unreadable(row))?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| unreadable(row))?;
        verifying.insert(row.kid.clone(), VerifyingKey { alg, key });
        published.push(jwk);
    }
    let jwks = serde_json::to_string(&json!({ "keys": published }))
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    Ok(KeyRing {
        signing,
        id_token_rs256,
        id_token_eddsa,
        logout_rs256,
        logout_eddsa,
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
    warm_up: chrono::Duration,
}

impl Keys {
    pub fn new(keys: &KeySettings, tokens: &TokenSettings) -> Self {
        Self {
            ring: Arc::new(RwLock::new(None)),
            kek: KeyEncryptionKey::from_settings(keys),
            retirement_delay: retirement_delay(keys, tokens),
            warm_up: warm_up(keys),
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
        let (kek, retirement_delay, warm_up) =
            (self.kek.clone(), self.retirement_delay, self.warm_up);
        let ring = db
            .run(move |conn| {
                ensure_key(conn, kek.as_ref(), retirement_delay)?;
                load(conn, kek.as_ref(), warm_up)
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
