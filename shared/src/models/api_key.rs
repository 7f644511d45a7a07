//! `api_keys`: personal access tokens for scripts (SECURITY.md 22). The key itself is shown
//! once; the database keeps its SHA-256 and a short visible prefix.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::api_keys;

/// Every personal API key starts with this, which tells it apart from a JWT.
pub const KEY_PREFIX: &str = "tk_";
/// The random part: 256 bits, base64url without padding.
pub const KEY_LEN: usize = KEY_PREFIX.len() + 43;

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys, treat_none_as_default_value = false)]
pub struct ApiKey {
    pub id: String,
    pub prefix: String,
    pub key_hash: String,
    pub user_id: String,
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Leaves the hash out of logs.
impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("prefix", &self.prefix)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    pub fn insert(conn: &mut DbConnection, key: &ApiKey) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(api_keys::table)
            .values(key)
            .execute(conn))?;
        Ok(())
    }

    pub fn find_by_hash(
        conn: &mut DbConnection,
        key_hash: &str,
    ) -> Result<Option<ApiKey>, DbError> {
        Ok(native!(conn, |conn| api_keys::table
            .filter(api_keys::key_hash.eq(key_hash))
            .select(ApiKey::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// The user's keys, newest first (revoked ones included, for the record).
    pub fn list_for_user(conn: &mut DbConnection, user_id: &str) -> Result<Vec<ApiKey>, DbError> {
        Ok(native!(conn, |conn| api_keys::table
            .filter(api_keys::user_id.eq(user_id))
            .order((api_keys::created_at.desc(), api_keys::id.desc()))
            .select(ApiKey::as_select())
            .load(conn))?)
    }

    /// Revokes one of the user's keys; returns whether a live key was revoked.
    pub fn revoke_owned(
        conn: &mut DbConnection,
        user_id: &str,
        id: &str,
        now: NaiveDateTime,
    ) -> Result<bool, DbError> {
        Ok(native!(conn, |conn| diesel::update(
            api_keys::table
                .filter(api_keys::id.eq(id))
                .filter(api_keys::user_id.eq(user_id))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(now))
        .execute(conn))?
            > 0)
    }

    pub fn touch(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), DbError> {
        native!(conn, |conn| diesel::update(api_keys::table.find(id))
            .set(api_keys::last_used_at.eq(now))
            .execute(conn))?;
        Ok(())
    }
}
