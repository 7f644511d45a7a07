//! Deleting what can no longer be used: expired codes (kept a day past expiry, so a late
//! replay still revokes what the code issued), expired access-token records (the
//! revocation list only needs unexpired ones) and expired refresh tokens.

use shared::db::{Db, DbError};
use shared::models::access_token::AccessTokenRecord;
use shared::models::authorization_code::AuthorizationCode;
use shared::models::now;
use shared::models::refresh_token::RefreshToken;

/// How long a code row outlives its expiry, for replay detection.
const CODE_RETENTION: chrono::Duration = chrono::Duration::days(1);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub codes: usize,
    pub access_tokens: usize,
    pub refresh_tokens: usize,
}

pub async fn prune(db: &Db) -> Result<Pruned, DbError> {
    db.run(|conn| {
        let at = now();
        Ok(Pruned {
            codes: AuthorizationCode::delete_expired(conn, at - CODE_RETENTION)?,
            access_tokens: AccessTokenRecord::delete_expired(conn, at)?,
            refresh_tokens: RefreshToken::delete_expired(conn, at)?,
        })
    })
    .await
}
