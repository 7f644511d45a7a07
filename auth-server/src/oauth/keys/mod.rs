//! Token-signing keys (SECURITY.md 11), kept in the database so every instance signs with
//! the same keys and publishes the same JWKS: an Ed25519 key signs access tokens (and the ID
//! tokens of clients registered for EdDSA), an RSA-2048 key signs ID tokens with RS256, the
//! algorithm OpenID Connect Core §15.1 requires of every provider. The two are made and
//! rotated together. The private half is encrypted with
//! ChaCha20-Poly1305 under a key derived from `KEY_ENCRYPTION_KEY` (bound to the key's
//! `kid`); in development without that secret it is stored plain, with a warning.
//!
//! Every instance keeps the published keys in memory (`KeyRing`) and reloads them
//! periodically, so a key added by `keys rotate` on one instance reaches all of them.
//!
//! - `crypto`: generating a key, its JWK and `kid`, sealing and opening the private half;
//! - `store`: the first keys, rotation and how long retiring keys stay published;
//! - `ring`: the keys in force on an instance (`KeyRing`, `Keys`);
//! - `signer`: signing a JWT with a key that signs, its header serialised once;
//! - `verified`: the tokens a ring has verified, to skip checking their signature again;
//! - `status`: which key signs, which are still published, which are retired.

mod crypto;
mod ring;
mod signer;
mod status;
mod store;
mod verified;

use jsonwebtoken::Algorithm;
use shared::db::DbError;

pub use crypto::{
    KeyEncryptionKey, SealError, generate, plain as plain_secret, read_plain as read_plain_secret,
};
pub use ring::{ActiveKey, KeyRing, Keys, load};
pub use signer::{SignError, TokenSigner};
pub use status::{KeyInfo, KeyStatus, list};
pub use store::{ensure_key, retirement_delay, rotate, warm_up};
pub use verified::VerifiedTokens;

/// The algorithm access tokens are signed with (see README, "Signing algorithm").
pub const ALGORITHM: Algorithm = Algorithm::EdDSA;

/// The algorithms we keep a signing key for, as JWS `alg` names (RFC 7518 §3.1, RFC 8037).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// Ed25519 (RFC 8037): access tokens, and ID tokens for clients that ask for it.
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a 2048-bit key: ID tokens by default.
    RS256,
}

impl KeyAlgorithm {
    /// Every algorithm, in the order keys are made: one key of each is published at all times.
    pub const ALL: [KeyAlgorithm; 2] = [Self::EdDSA, Self::RS256];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::RS256 => "RS256",
        }
    }

    /// The stored or registered name back to the algorithm; `None` for any other name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == name)
    }

    pub const fn jwt(self) -> Algorithm {
        match self {
            Self::EdDSA => Algorithm::EdDSA,
            Self::RS256 => Algorithm::RS256,
        }
    }
}

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
