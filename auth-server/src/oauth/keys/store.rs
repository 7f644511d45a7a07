//! Keys in the database: the first key, rotation (SECURITY.md 11: rotation with no failed
//! request), and how long the previous keys stay published. Key creation is serialised
//! across instances by one lock.

use shared::config::{KeySettings, TokenSettings};
use shared::db::{DbConnection, exclusive};
use shared::models::now;
use shared::models::signing_key::SigningKeyRow;

use super::KeyError;
use super::crypto::{KeyEncryptionKey, generate, is_plain, private_der, seal};

/// Serialises key creation across instances.
const KEY_LOCK_ID: i64 = 0x6f61_7574_685f_6b79; // "oauth_ky"

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
            if !is_plain(newest) {
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
        if is_plain(&row) {
            let sealed = seal(&private_der(&row, None)?, &row.kid, kek)?;
            SigningKeyRow::set_private_key(conn, &row.kid, &sealed)?;
        }
    }
    Ok(())
}

/// How long after a rotation the previous keys stay published: the longest an access token
/// signed by them can live — including tokens signed by instances that have not reloaded
/// their keys yet — plus clock skew.
pub fn retirement_delay(keys: &KeySettings, tokens: &TokenSettings) -> chrono::Duration {
    let ttl = chrono::Duration::from_std(tokens.access_token_ttl).unwrap_or(chrono::Duration::MAX);
    let reload = chrono::Duration::from_std(keys.reload).unwrap_or(chrono::Duration::MAX);
    ttl + reload + chrono::Duration::seconds(60)
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
