//! `grants`: one row per authorization, the family its tokens descend from. Revoking a
//! grant revokes every refresh and access token issued under it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::{access_tokens, grants, refresh_tokens};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = grants, treat_none_as_default_value = false)]
pub struct Grant {
    pub id: String,
    pub user_id: Option<String>,
    pub client_id: String,
    pub scope: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// For a user's authorization: when they signed in to approve it (OpenID Connect's
    /// `auth_time`, the same in every ID token of the grant).
    pub auth_time: Option<NaiveDateTime>,
    /// The public id of the session that approved it (the ID tokens' `sid`).
    pub session_id: Option<String>,
    /// Whether that sign-in included the second factor (the ID tokens' `amr`).
    pub second_factor: bool,
}

/// A client to tell that a session ended (OpenID Connect Back-Channel Logout 1.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutReceiver {
    pub client_id: String,
    pub backchannel_logout_uri: String,
    pub id_token_signed_response_alg: String,
    pub user_id: String,
}

impl Grant {
    /// The live grants approved from the session `session_id`: (id, scope).
    pub fn live_in_session(
        conn: &mut DbConnection,
        session_id: &str,
    ) -> Result<Vec<(String, String)>, DbError> {
        Ok(native!(conn, |conn| grants::table
            .filter(grants::session_id.eq(session_id))
            .filter(grants::revoked_at.is_null())
            .select((grants::id, grants::scope))
            .load(conn))?)
    }

    /// Every client with a back-channel logout URI that a person authorized from the
    /// session `session_id` (with the grant's user), once each.
    pub fn logout_receivers(
        conn: &mut DbConnection,
        session_id: &str,
    ) -> Result<Vec<LogoutReceiver>, DbError> {
        use crate::schema::clients;
        let rows: Vec<(String, Option<String>, String, Option<String>)> =
            native!(conn, |conn| grants::table
                .inner_join(clients::table)
                .filter(grants::session_id.eq(session_id))
                .filter(clients::backchannel_logout_uri.is_not_null())
                .select((
                    clients::client_id,
                    clients::backchannel_logout_uri,
                    clients::id_token_signed_response_alg,
                    grants::user_id,
                ))
                .distinct()
                .load(conn))?;
        Ok(rows
            .into_iter()
            .filter_map(|(client_id, uri, alg, user_id)| {
                Some(LogoutReceiver {
                    client_id,
                    backchannel_logout_uri: uri?,
                    id_token_signed_response_alg: alg,
                    user_id: user_id?,
                })
            })
            .collect())
    }

    /// The live grants of a user to a client (for revoking an app).
    pub fn live_for(
        conn: &mut DbConnection,
        user_id: &str,
        client_id: &str,
    ) -> Result<Vec<String>, DbError> {
        Ok(native!(conn, |conn| grants::table
            .filter(grants::user_id.eq(user_id))
            .filter(grants::client_id.eq(client_id))
            .filter(grants::revoked_at.is_null())
            .select(grants::id)
            .load(conn))?)
    }

    /// Every live grant of a user, to any client (a password reset revokes them all).
    pub fn live_of_user(conn: &mut DbConnection, user_id: &str) -> Result<Vec<String>, DbError> {
        Ok(native!(conn, |conn| grants::table
            .filter(grants::user_id.eq(user_id))
            .filter(grants::revoked_at.is_null())
            .select(grants::id)
            .load(conn))?)
    }

    /// A user's grants that still carry a usable token — an unexpired, unrevoked refresh
    /// or access token — with each client's name: every family the person could revoke.
    pub fn in_use_by(
        conn: &mut DbConnection,
        user_id: &str,
        now: NaiveDateTime,
    ) -> Result<Vec<(Grant, String)>, DbError> {
        use crate::schema::clients;
        use diesel::dsl::exists;
        let live_refresh = refresh_tokens::table
            .filter(refresh_tokens::grant_id.eq(grants::id))
            .filter(refresh_tokens::revoked_at.is_null())
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::expires_at.gt(now));
        let live_access = access_tokens::table
            .filter(access_tokens::grant_id.eq(grants::id.nullable()))
            .filter(access_tokens::revoked_at.is_null())
            .filter(access_tokens::expires_at.gt(now));
        Ok(native!(conn, |conn| grants::table
            .inner_join(clients::table)
            .filter(grants::user_id.eq(user_id))
            .filter(grants::revoked_at.is_null())
            .filter(exists(live_refresh).or(exists(live_access)))
            .order(grants::created_at.desc())
            .select((Grant::as_select(), clients::name))
            .load(conn))?)
    }

    pub fn insert(conn: &mut DbConnection, grant: &Grant) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(grants::table)
            .values(grant)
            .execute(conn))?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Grant>, DbError> {
        Ok(native!(conn, |conn| grants::table
            .find(id)
            .select(Grant::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// Revokes the grant and everything issued under it; returns the access-token ids
    /// newly revoked (which the database appends to `token_revocations` as the transaction
    /// commits). Idempotent.
    pub fn revoke_family(
        conn: &mut DbConnection,
        grant_id: &str,
        now: NaiveDateTime,
    ) -> Result<Vec<String>, DbError> {
        native!(conn, |conn| diesel::update(
            grants::table
                .find(grant_id)
                .filter(grants::revoked_at.is_null()),
        )
        .set(grants::revoked_at.eq(now))
        .execute(conn))?;
        native!(conn, |conn| diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::grant_id.eq(grant_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn))?;
        let jtis: Vec<String> = native!(conn, |conn| access_tokens::table
            .filter(access_tokens::grant_id.eq(grant_id))
            .filter(access_tokens::revoked_at.is_null())
            .select(access_tokens::jti)
            .load(conn))?;
        if !jtis.is_empty() {
            native!(conn, |conn| diesel::update(
                access_tokens::table.filter(access_tokens::jti.eq_any(&jtis))
            )
            .set(access_tokens::revoked_at.eq(now))
            .execute(conn))?;
        }
        Ok(jtis)
    }
}
