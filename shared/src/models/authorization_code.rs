//! `authorization_codes`: issued codes (only their SHA-256 is kept) and their one use.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::authorization_codes;

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes, treat_none_as_default_value = false)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub redirect_uri_in_request: bool,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub grant_id: Option<String>,
    /// OpenID Connect: the request's `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
    /// When the person signed in to the session that approved the request.
    pub auth_time: Option<NaiveDateTime>,
    /// That session's public id (the ID token's `sid`).
    pub session_id: Option<String>,
    /// Whether that sign-in included the second factor (the ID token's `amr`).
    pub second_factor: bool,
}

impl std::fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("client_id", &self.client_id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

impl AuthorizationCode {
    pub fn insert(conn: &mut DbConnection, code: &AuthorizationCode) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(authorization_codes::table)
            .values(code)
            .execute(conn))?;
        Ok(())
    }

    pub fn find(
        conn: &mut DbConnection,
        code_hash: &str,
    ) -> Result<Option<AuthorizationCode>, DbError> {
        Ok(native!(conn, |conn| authorization_codes::table
            .find(code_hash)
            .select(AuthorizationCode::as_select())
            .get_result(conn)
            .optional())?)
    }

    /// Marks the code used if nobody has, and records the grant it was exchanged for:
    /// `true` for the one caller that wins, `false` for every later (or concurrent) one —
    /// the database decides (RFC 6749 §4.1.2).
    pub fn claim(
        conn: &mut DbConnection,
        code_hash: &str,
        now: NaiveDateTime,
        grant_id: Option<&str>,
    ) -> Result<bool, DbError> {
        let spend = crate::db::prepared::SpendAuthorizationCode {
            code_hash,
            at: &now,
            grant_id,
        };
        Ok(native!(conn, |conn| diesel::RunQueryDsl::execute(spend, conn))? == 1)
    }

    /// Deletes the codes a user's authorization of a client left unexchanged (revoking the
    /// app burns them); spent ones stay, so a replay is still recognised. Returns how many.
    pub fn delete_unused_for(
        conn: &mut DbConnection,
        user_id: &str,
        client_id: &str,
    ) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            authorization_codes::table
                .filter(authorization_codes::user_id.eq(user_id))
                .filter(authorization_codes::client_id.eq(client_id))
                .filter(authorization_codes::used_at.is_null()),
        )
        .execute(conn))?)
    }

    /// Deletes every code of the user not yet exchanged, for any client.
    pub fn delete_unused_of_user(conn: &mut DbConnection, user_id: &str) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            authorization_codes::table
                .filter(authorization_codes::user_id.eq(user_id))
                .filter(authorization_codes::used_at.is_null()),
        )
        .execute(conn))?)
    }

    /// Removes codes that expired before `cutoff`, used or not.
    pub fn delete_expired(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            authorization_codes::table.filter(authorization_codes::expires_at.lt(cutoff)),
        )
        .execute(conn))?)
    }
}
