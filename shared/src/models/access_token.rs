//! `access_tokens`: a record of every JWT access token issued, so it can be revoked.
//! Setting `revoked_at` appends the token to `token_revocations` (a database trigger, in
//! the same transaction): the feed the task API follows, see
//! [`crate::models::token_revocation`].

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError};
use crate::schema::access_tokens;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_tokens)]
pub struct AccessTokenRecord {
    pub jti: String,
    pub grant_id: Option<String>,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

impl AccessTokenRecord {
    pub fn insert(conn: &mut DbConnection, record: &AccessTokenRecord) -> Result<(), DbError> {
        diesel::insert_into(access_tokens::table)
            .values(record)
            .execute(conn)?;
        Ok(())
    }

    /// Revokes one token; returns whether it was live (not revoked before). The database
    /// appends it to `token_revocations` as it commits.
    pub fn revoke(conn: &mut DbConnection, jti: &str, now: NaiveDateTime) -> Result<bool, DbError> {
        Ok(diesel::update(
            access_tokens::table
                .find(jti)
                .filter(access_tokens::revoked_at.is_null()),
        )
        .set(access_tokens::revoked_at.eq(now))
        .execute(conn)?
            > 0)
    }

    /// Removes records of tokens that expired before `cutoff` (pass
    /// [`crate::claims::accepted_expiry_floor`]): they verify nowhere anymore.
    pub fn delete_expired(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(
            diesel::delete(access_tokens::table.filter(access_tokens::expires_at.lt(cutoff)))
                .execute(conn)?,
        )
    }

    pub fn find(conn: &mut DbConnection, jti: &str) -> Result<Option<AccessTokenRecord>, DbError> {
        Ok(access_tokens::table
            .find(jti)
            .select(AccessTokenRecord::as_select())
            .first(conn)
            .optional()?)
    }
}
