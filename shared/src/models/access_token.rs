//! `access_tokens`: a record of every JWT access token issued, so it can be revoked.
//! The revoked, unexpired rows are the revocation list the task API mirrors.

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

/// An entry of the revocation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedToken {
    pub jti: String,
    pub expires_at: NaiveDateTime,
    pub revoked_at: NaiveDateTime,
}

impl AccessTokenRecord {
    pub fn insert(conn: &mut DbConnection, record: &AccessTokenRecord) -> Result<(), DbError> {
        diesel::insert_into(access_tokens::table)
            .values(record)
            .execute(conn)?;
        Ok(())
    }

    /// Revokes one token; returns whether it was live (not revoked before).
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

    /// The revocation list: revoked tokens that have not expired yet, revoked at or after
    /// `since`, oldest revocation first (so a poller can resume from the last one seen).
    pub fn revoked_since(
        conn: &mut DbConnection,
        since: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Result<Vec<RevokedToken>, DbError> {
        Ok(access_tokens::table
            .filter(access_tokens::revoked_at.ge(since))
            .filter(access_tokens::expires_at.gt(now))
            .order(access_tokens::revoked_at.asc())
            .select((
                access_tokens::jti,
                access_tokens::expires_at,
                access_tokens::revoked_at,
            ))
            .load::<(String, NaiveDateTime, Option<NaiveDateTime>)>(conn)?
            .into_iter()
            .filter_map(|(jti, expires_at, revoked_at)| {
                revoked_at.map(|revoked_at| RevokedToken {
                    jti,
                    expires_at,
                    revoked_at,
                })
            })
            .collect())
    }

    /// Removes records of tokens that expired before `cutoff`: they verify nowhere anymore.
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
