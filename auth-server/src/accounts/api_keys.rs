//! Personal API keys (SECURITY.md 22): for a person's own scripts. 256 random bits after a
//! `tk_` prefix, shown once, stored as SHA-256 with the first characters kept visible,
//! limited to chosen scopes, always expiring, revocable at once.

use shared::db::{Db, DbError};
use shared::models::api_key::ApiKey;
use shared::models::now;
use shared::token::PlainToken;

use crate::oauth::scope::Scope;

pub use shared::models::api_key::KEY_PREFIX;
/// How much of the key stays visible in lists: the prefix and six characters.
const VISIBLE: usize = KEY_PREFIX.len() + 6;
const MAX_NAME_LEN: usize = 100;
pub const MAX_DAYS: i64 = 365;

/// What a person asks for.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub scope: String,
    pub expires_in_days: i64,
}

/// Validates the request; a message fit to show the person when it is refused.
pub fn validate(new: &NewApiKey) -> Result<(String, Scope), String> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control)
    {
        return Err(format!(
            "Give the key a name of 1 to {MAX_NAME_LEN} characters."
        ));
    }
    let scope =
        Scope::parse(new.scope.trim()).map_err(|_| "Choose at least one permission.".to_owned())?;
    if !(1..=MAX_DAYS).contains(&new.expires_in_days) {
        return Err(format!("A key lasts 1 to {MAX_DAYS} days."));
    }
    Ok((name.to_owned(), scope))
}

/// Creates a key for the user; returns the row and the key (which exists nowhere else).
pub async fn create(
    db: &Db,
    user_id: String,
    new: NewApiKey,
) -> Result<Result<(ApiKey, PlainToken), String>, DbError> {
    let (name, scope) = match validate(&new) {
        Ok(valid) => valid,
        Err(message) => return Ok(Err(message)),
    };
    let key = PlainToken::generate(KEY_PREFIX);
    let at = now();
    let row = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        prefix: key.expose()[..VISIBLE].to_owned(),
        key_hash: key.hash().as_str().to_owned(),
        user_id,
        name,
        scopes: scope.to_string(),
        created_at: at,
        expires_at: at + chrono::Duration::days(new.expires_in_days),
        last_used_at: None,
        revoked_at: None,
    };
    let stored = row.clone();
    db.run(move |conn| ApiKey::insert(conn, &stored)).await?;
    tracing::info!(target: "security", event = "api_key_created", user_id = %row.user_id, key_id = %row.id, prefix = %row.prefix);
    Ok(Ok((row, key)))
}

pub async fn list(db: &Db, user_id: String) -> Result<Vec<ApiKey>, DbError> {
    db.run(move |conn| ApiKey::list_for_user(conn, &user_id))
        .await
}

/// Revokes one of the user's keys; `false` when it is not theirs or already revoked.
pub async fn revoke(db: &Db, user_id: String, id: String) -> Result<bool, DbError> {
    let (user, key) = (user_id.clone(), id.clone());
    let revoked = db
        .run(move |conn| ApiKey::revoke_owned(conn, &user, &key, now()))
        .await?;
    if revoked {
        tracing::info!(target: "security", event = "api_key_revoked", user_id = %user_id, key_id = %id);
    }
    Ok(revoked)
}
