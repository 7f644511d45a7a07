//! Personal API keys (SECURITY.md 22), looked up by their SHA-256 on every request, so a
//! revoked or expired key is refused at once. The last-used time is written at most once
//! a minute per key.

use shared::db::{Db, DbError};
use shared::models::api_key::{ApiKey, KEY_LEN};
use shared::models::now;
use shared::token::HashedToken;

use super::{AuthError, Authenticated, Via};

const TOUCH_INTERVAL_SECONDS: i64 = 60;

pub async fn verify(db: &Db, key: &str) -> Result<Authenticated, AuthError> {
    if key.len() != KEY_LEN {
        return Err(AuthError::InvalidToken("malformed API key"));
    }
    let hash = HashedToken::of(key);
    let row = db
        .run(move |conn| {
            let Some(row) = ApiKey::find_by_hash(conn, hash.as_str())? else {
                return Ok(Err(AuthError::InvalidToken("unknown API key")));
            };
            let at = now();
            if row.revoked_at.is_some() {
                return Ok(Err(AuthError::InvalidToken("the API key has been revoked")));
            }
            if row.expires_at <= at {
                return Ok(Err(AuthError::InvalidToken("the API key has expired")));
            }
            if row
                .last_used_at
                .is_none_or(|t| (at - t).num_seconds() >= TOUCH_INTERVAL_SECONDS)
            {
                ApiKey::touch(conn, &row.id, at)?;
            }
            Ok::<_, DbError>(Ok(row))
        })
        .await
        .map_err(|error| {
            tracing::warn!(error = %error, "API key lookup failed");
            AuthError::Unavailable
        })??;
    Ok(Authenticated {
        client_id: format!("api_key:{}", row.id),
        subject: row.user_id,
        scopes: row.scopes.split(' ').map(str::to_owned).collect(),
        via: Via::ApiKey,
    })
}
