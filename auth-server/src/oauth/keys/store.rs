//! Keys in the database: the first keys, rotation (SECURITY.md 11: rotation with no failed
//! request), and how long the previous keys stay published. Key creation is serialised
//! across instances by one lock.

use shared::config::{KeySettings, TokenSettings};
use shared::db::{DbConnection, exclusive};
use shared::models::now;
use shared::models::signing_key::SigningKeyRow;

use super::crypto::{KeyEncryptionKey, generate, is_plain, private_der, seal};
use super::{KeyAlgorithm, KeyError};

/// Serialises key creation across instances.
const KEY_LOCK_ID: i64 = 0x6f61_7574_685f_6b79; // "oauth_ky"

/// Creates the first signing keys — one of each algorithm (`KeyAlgorithm::ALL`) — where
/// none of that algorithm is published, once across all instances. A database whose keys
/// predate an algorithm gets a key of it beside the others.
///
/// When `KEY_ENCRYPTION_KEY` is set but a key that signs was stored in the clear (a
/// database that started in development), that key may have been copied along with the
/// database, so it must not sign again: every plain private key is encrypted in place and
/// new keys take over, as in `keys rotate` (the old ones stay published for
/// `retirement_delay`, so no token they signed fails).
pub fn ensure_key(
    conn: &mut DbConnection,
    kek: Option<&KeyEncryptionKey>,
    retirement_delay: chrono::Duration,
) -> Result<bool, KeyError> {
    exclusive(conn, KEY_LOCK_ID, |conn| {
        let published = SigningKeyRow::published(conn, now())?;
        let signing: Vec<&SigningKeyRow> = KeyAlgorithm::ALL
            .iter()
            .filter_map(|alg| published.iter().find(|row| row.alg == alg.as_str()))
            .collect();
        if let Some(kek) = kek
            && let Some(stale) = signing.iter().find(|row| is_plain(row))
        {
            let stale = stale.kid.clone();
            seal_plain_keys(conn, kek)?;
            let retire_after = now() + retirement_delay;
            let rows = add_key_set(conn, Some(kek), retire_after)?;
            tracing::warn!(
                kids = ?rows.iter().map(|row| &row.kid).collect::<Vec<_>>(),
                replaced_kid = %stale,
                previous_keys_published_until = %retire_after,
                "a signing key was stored unencrypted: the keys are now encrypted and retiring, and new encrypted keys sign"
            );
            return Ok(true);
        }
        let mut created = false;
        for alg in KeyAlgorithm::ALL {
            if published.iter().any(|row| row.alg == alg.as_str()) {
                continue;
            }
            let row = generate(alg, kek)?;
            SigningKeyRow::insert(conn, &row)?;
            if kek.is_none() {
                tracing::warn!(
                    kid = %row.kid,
                    alg = alg.as_str(),
                    "KEY_ENCRYPTION_KEY is not set: the signing key is stored unencrypted (acceptable in development only)"
                );
            }
            tracing::info!(kid = %row.kid, alg = alg.as_str(), encrypted = kek.is_some(), "generated a token-signing key");
            created = true;
        }
        Ok(created)
    })
}

/// Stores a new key of each algorithm and retires every other key after `retire_after`.
fn add_key_set(
    conn: &mut DbConnection,
    kek: Option<&KeyEncryptionKey>,
    retire_after: chrono::NaiveDateTime,
) -> Result<Vec<SigningKeyRow>, KeyError> {
    let rows = KeyAlgorithm::ALL
        .into_iter()
        .map(|alg| generate(alg, kek))
        .collect::<Result<Vec<_>, _>>()?;
    for row in &rows {
        SigningKeyRow::insert(conn, row)?;
    }
    let kids: Vec<&str> = rows.iter().map(|row| row.kid.as_str()).collect();
    SigningKeyRow::retire_all_but(conn, &kids, retire_after)?;
    Ok(rows)
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

/// How long a new key is published before it signs: every instance reloads its keys within
/// `SIGNING_KEYS_RELOAD`, so by then each one's JWKS serves the key (see `status`). The
/// margin — a second and a tenth of the period — covers a reload slow to finish and clock
/// skew between the instance that stored the key and the others.
pub fn warm_up(keys: &KeySettings) -> chrono::Duration {
    let reload = chrono::Duration::from_std(keys.reload).unwrap_or(chrono::Duration::MAX);
    let margin = chrono::Duration::seconds(1) + reload / 10;
    reload.checked_add(&margin).unwrap_or(chrono::Duration::MAX)
}

/// How long after a rotation the previous keys stay published: the longest an access token
/// signed by them can live, plus clock skew. They sign until the new key's warm-up ends and
/// each instance has reloaded after that.
pub fn retirement_delay(keys: &KeySettings, tokens: &TokenSettings) -> chrono::Duration {
    let ttl = chrono::Duration::from_std(tokens.access_token_ttl).unwrap_or(chrono::Duration::MAX);
    let reload = chrono::Duration::from_std(keys.reload).unwrap_or(chrono::Duration::MAX);
    [warm_up(keys), reload, chrono::Duration::seconds(60)]
        .into_iter()
        .try_fold(ttl, |total, part| total.checked_add(&part))
        .unwrap_or(chrono::Duration::MAX)
}

/// Adds a new key of each algorithm, which signs once its warm-up has passed; every other published key stays
/// in the JWKS until `retire_after` (set it past the expiry of the last token those keys
/// may sign), then leaves it (SECURITY.md 11: rotation with no failed request).
pub fn rotate(
    conn: &mut DbConnection,
    kek: Option<&KeyEncryptionKey>,
    retire_after: chrono::NaiveDateTime,
) -> Result<Vec<SigningKeyRow>, KeyError> {
    exclusive(conn, KEY_LOCK_ID, |conn| {
        let rows = add_key_set(conn, kek, retire_after)?;
        tracing::info!(
            kids = ?rows.iter().map(|row| &row.kid).collect::<Vec<_>>(),
            retire_previous_after = %retire_after,
            "rotated the token-signing keys"
        );
        Ok(rows)
    })
}
