//! What `keys list` shows of each stored key: whether it signs, is about to, is still
//! published (in the JWKS, verifying the tokens it signed until they expire) or is retired,
//! and whether its private half is encrypted — and [`signing_row`], the rule `load` applies
//! to choose the key that signs.
//!
//! A new key is published at once but signs only once it has been published for the
//! warm-up ([`super::store::warm_up`]: one `SIGNING_KEYS_RELOAD` and a margin), so every
//! instance serves it in its JWKS before any token it signed exists: a resource server that
//! refetches the JWKS from any instance on an unknown `kid` always finds it (SECURITY.md 11).

use chrono::{Duration, NaiveDateTime};
use shared::db::{DbConnection, DbError};
use shared::models::signing_key::SigningKeyRow;

use super::crypto::is_encrypted;

/// Where a key stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// New tokens are signed with it.
    Signing,
    /// Published, newer than the one that signs: takes over when its warm-up ends.
    Next,
    /// No longer signs, but stays in the JWKS until `retire_after`.
    Published,
    /// Past `retire_after`: out of the JWKS, tokens it signed are refused.
    Retired,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signing => "signing",
            Self::Next => "next",
            Self::Published => "published",
            Self::Retired => "retired",
        }
    }
}

/// A stored key as an operator sees it (never its private half).
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    pub status: KeyStatus,
    pub encrypted: bool,
    pub created_at: NaiveDateTime,
    pub retire_after: Option<NaiveDateTime>,
}

/// Every stored key, newest first, with its status at `at` (a key signs after `warm_up`).
pub fn list(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    warm_up: Duration,
) -> Result<Vec<KeyInfo>, DbError> {
    Ok(statuses(&SigningKeyRow::all(conn)?, at, warm_up))
}

/// The key of `alg` that signs at `at`, among `rows` (newest first): the newest published
/// one that has been published for `warm_up`; when none has, the oldest published one —
/// the one longest in every instance's JWKS (the first key of a fresh database, or the only
/// one left after `--retire-previous-now`, signs at once).
pub fn signing_row<'a>(
    rows: &'a [SigningKeyRow],
    alg: &str,
    at: NaiveDateTime,
    warm_up: Duration,
) -> Option<&'a SigningKeyRow> {
    let mut published = rows
        .iter()
        .filter(|row| row.alg == alg && is_published(row, at));
    let oldest = published.clone().next_back();
    published
        .find(|row| row.created_at + warm_up <= at)
        .or(oldest)
}

/// Published at `at`: the same condition as `SigningKeyRow::published`.
fn is_published(row: &SigningKeyRow, at: NaiveDateTime) -> bool {
    row.retire_after.is_none_or(|until| until > at)
}

/// The status of each of `rows` (newest first, as `SigningKeyRow::all` returns them).
fn statuses(rows: &[SigningKeyRow], at: NaiveDateTime, warm_up: Duration) -> Vec<KeyInfo> {
    let signing = |row: &SigningKeyRow| signing_row(rows, &row.alg, at, warm_up);
    rows.iter()
        .map(|row| {
            let signer = signing(row);
            let status = if signer.is_some_and(|signer| signer.kid == row.kid) {
                KeyStatus::Signing
            } else if is_published(row, at)
                && signer.is_some_and(|signer| signer.created_at < row.created_at)
            {
                KeyStatus::Next
            } else if is_published(row, at) {
                KeyStatus::Published
            } else {
                KeyStatus::Retired
            };
            KeyInfo {
                kid: row.kid.clone(),
                alg: row.alg.clone(),
                status,
                encrypted: is_encrypted(row),
                created_at: row.created_at,
                retire_after: row.retire_after,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::oauth::keys::{KeyAlgorithm, KeyEncryptionKey, generate};

    fn row(created_minutes_ago: i64, retire_in_minutes: Option<i64>) -> SigningKeyRow {
        let at = shared::models::now();
        let mut row = generate(KeyAlgorithm::EdDSA, None).unwrap();
        row.created_at = at - Duration::minutes(created_minutes_ago);
        row.retire_after = retire_in_minutes.map(|m| at + Duration::minutes(m));
        row
    }

    fn status_of(rows: &[SigningKeyRow]) -> Vec<KeyStatus> {
        statuses(rows, shared::models::now(), Duration::seconds(30))
            .into_iter()
            .map(|info| info.status)
            .collect()
    }

    #[test]
    fn the_newest_published_key_signs_and_older_ones_stay_published_until_retired() {
        let rows = [row(1, None), row(10, Some(5)), row(20, Some(-5))];
        assert_eq!(
            status_of(&rows),
            [KeyStatus::Signing, KeyStatus::Published, KeyStatus::Retired]
        );
    }

    #[test]
    fn a_new_key_signs_only_after_its_warm_up() {
        let young = |seconds: i64| {
            let mut fresh = row(0, None);
            fresh.created_at = shared::models::now() - Duration::seconds(seconds);
            fresh
        };
        // Ten seconds old, warm-up 30 s: published, the previous key still signs.
        let rows = [young(10), row(10, Some(20))];
        assert_eq!(status_of(&rows), [KeyStatus::Next, KeyStatus::Signing]);
        let rows = [young(31), row(10, Some(20))];
        assert_eq!(status_of(&rows), [KeyStatus::Signing, KeyStatus::Published]);
        // The first key of a fresh database signs at once, and keeps signing while a key
        // rotated in right after it warms up.
        assert_eq!(status_of(&[young(0)]), [KeyStatus::Signing]);
        assert_eq!(
            status_of(&[young(1), young(5)]),
            [KeyStatus::Next, KeyStatus::Signing]
        );
    }

    #[test]
    fn after_retiring_every_key_at_once_the_newest_live_one_signs() {
        // `keys rotate --retire-previous-now`: the new key signs at once, the rest are retired.
        let rows = [row(0, None), row(10, Some(0)), row(20, Some(-5))];
        assert_eq!(
            status_of(&rows),
            [KeyStatus::Signing, KeyStatus::Retired, KeyStatus::Retired]
        );
        // A newest key already past its retirement does not sign; the next live one does.
        let rows = [row(1, Some(-1)), row(10, Some(5))];
        assert_eq!(status_of(&rows), [KeyStatus::Retired, KeyStatus::Signing]);
    }

    #[test]
    fn encryption_is_reported() {
        let secret = shared::config::Settings::from_values(
            [(
                "KEY_ENCRYPTION_KEY".to_owned(),
                "0123456789abcdef0123456789abcdef".to_owned(),
            )]
            .into_iter()
            .collect(),
        )
        .unwrap();
        let kek = KeyEncryptionKey::from_settings(&secret.keys).unwrap();
        let rows = [
            generate(KeyAlgorithm::EdDSA, Some(&kek)).unwrap(),
            generate(KeyAlgorithm::EdDSA, None).unwrap(),
        ];
        let listed = statuses(&rows, shared::models::now(), Duration::seconds(30));
        assert!(listed[0].encrypted);
        assert!(!listed[1].encrypted);
    }

    #[test]
    fn the_newest_key_of_each_algorithm_signs() {
        let mut rsa = generate(KeyAlgorithm::RS256, None).unwrap();
        rsa.created_at = shared::models::now() - Duration::minutes(30);
        let rows = [row(1, None), row(10, Some(5)), rsa];
        assert_eq!(
            status_of(&rows),
            [KeyStatus::Signing, KeyStatus::Published, KeyStatus::Signing]
        );
    }
}
