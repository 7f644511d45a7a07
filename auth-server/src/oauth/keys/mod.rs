//! Token-signing keys (SECURITY.md 11): Ed25519 keys kept in the database so every instance
//! signs with the same key and publishes the same JWKS. The private half is encrypted with
//! ChaCha20-Poly1305 under a key derived from `KEY_ENCRYPTION_KEY` (bound to the key's
//! `kid`); in development without that secret it is stored plain, with a warning.
//!
//! Every instance keeps the published keys in memory (`KeyRing`) and reloads them
//! periodically, so a key added by `keys rotate` on one instance reaches all of them.
//!
//! - `crypto`: generating a key, its JWK and `kid`, sealing and opening the private half;
//! - `store`: the first key, rotation and how long retiring keys stay published;
//! - `ring`: the keys in force on an instance (`KeyRing`, `Keys`);
//! - `signer`: signing access tokens with the active key;
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

pub use crypto::{KeyEncryptionKey, generate};
pub use ring::{ActiveKey, KeyRing, Keys, load};
pub use status::{KeyInfo, KeyStatus, list};
pub use store::{ensure_key, retirement_delay, rotate};
pub use verified::VerifiedTokens;

/// The one algorithm we sign with (see README, "Signing algorithm").
pub const ALGORITHM: Algorithm = Algorithm::EdDSA;
pub const ALGORITHM_NAME: &str = "EdDSA";

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
