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

impl AccessTokenRecord {
    pub fn insert(conn: &mut DbConnection, record: &AccessTokenRecord) -> Result<(), DbError> {
        diesel::insert_into(access_tokens::table)
            .values(record)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, jti: &str) -> Result<Option<AccessTokenRecord>, DbError> {
        Ok(access_tokens::table
            .find(jti)
            .select(AccessTokenRecord::as_select())
            .first(conn)
            .optional()?)
    }
}
