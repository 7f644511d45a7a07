//! `refresh_tokens`: issued refresh tokens (only their SHA-256 is kept), in families.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::models::grant::Grant;
use crate::schema::{grants, refresh_tokens};

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens, treat_none_as_default_value = false)]
pub struct RefreshToken {
    pub token_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub parent_hash: Option<String>,
    pub scope: String,
    pub issued_at: NaiveDateTime,
    pub idle_expires_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("grant_id", &self.grant_id)
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl RefreshToken {
    pub fn insert(conn: &mut DbConnection, token: &RefreshToken) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(refresh_tokens::table)
            .values(token)
            .execute(conn))?;
        Ok(())
    }

    /// Marks the token used if nobody has: `true` for the one caller that wins.
    pub fn claim(
        conn: &mut DbConnection,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let spend = crate::db::prepared::SpendRefreshToken {
            token_hash,
            at: &now,
        };
        Ok(native!(conn, |conn| diesel::RunQueryDsl::execute(spend, conn))? == 1)
    }

    /// Removes tokens past their absolute expiry before `cutoff`.
    pub fn delete_expired(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            refresh_tokens::table.filter(refresh_tokens::expires_at.lt(cutoff))
        )
        .execute(conn))?)
    }

    pub fn find(
        conn: &mut DbConnection,
        token_hash: &str,
    ) -> Result<Option<RefreshToken>, DbError> {
        Ok(native!(conn, |conn| refresh_tokens::table
            .find(token_hash)
            .select(RefreshToken::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// The token and the grant it belongs to, in one query.
    pub fn find_with_grant(
        conn: &mut DbConnection,
        token_hash: &str,
    ) -> Result<Option<(RefreshToken, Grant)>, DbError> {
        Ok(native!(conn, |conn| refresh_tokens::table
            .inner_join(grants::table)
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .select((RefreshToken::as_select(), Grant::as_select()))
            .get_result(conn)
            .optional())?)
    }
}
