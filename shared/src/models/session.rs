//! `sessions`: signed-in browsers. Rows are found by the SHA-256 of the cookie value.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::models::user::User;
use crate::schema::{sessions, users};
use crate::token::HashedToken;

#[derive(Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct Session {
    /// Public handle, safe to show and to put in a URL.
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    /// The absolute end of the session, whatever the activity.
    pub expires_at: NaiveDateTime,
    /// When the person last proved their second factor in this session (`None`: the
    /// session rests on the password alone).
    pub second_factor_at: Option<NaiveDateTime>,
}

/// Leaves the token hash and CSRF token out of logs.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("last_seen_at", &self.last_seen_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub csrf_token: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub second_factor_at: Option<NaiveDateTime>,
}

impl Session {
    pub fn insert(conn: &mut DbConnection, new_session: &NewSession<'_>) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(sessions::table)
            .values(new_session)
            .execute(conn))?;
        Ok(())
    }

    /// The session a cookie names, with its user, in one query (every page view asks).
    pub fn find_by_token(
        conn: &mut DbConnection,
        token: &HashedToken,
    ) -> Result<Option<(Session, User)>, DbError> {
        Ok(native!(conn, |conn| sessions::table
            .inner_join(users::table)
            .filter(sessions::token_hash.eq(token.as_str()))
            .select((Session::as_select(), User::as_select()))
            .get_result(conn))
        .optional()?)
    }

    /// The user's sessions, newest first.
    pub fn list_for_user(conn: &mut DbConnection, user_id: &str) -> Result<Vec<Session>, DbError> {
        Ok(native!(conn, |conn| sessions::table
            .filter(sessions::user_id.eq(user_id))
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .select(Session::as_select())
            .load(conn))?)
    }

    pub fn touch(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> Result<(), DbError> {
        native!(conn, |conn| diesel::update(sessions::table.find(id))
            .set(sessions::last_seen_at.eq(at))
            .execute(conn))?;
        Ok(())
    }

    /// Records that the session's person proved their second factor at `at` (step-up).
    pub fn mark_second_factor(
        conn: &mut DbConnection,
        id: &str,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        native!(conn, |conn| diesel::update(sessions::table.find(id))
            .set(sessions::second_factor_at.eq(at))
            .execute(conn))?;
        Ok(())
    }

    /// Deletes one session; returns whether it existed.
    pub fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
        Ok(
            native!(conn, |conn| diesel::delete(sessions::table.find(id))
                .execute(conn))?
                > 0,
        )
    }

    /// Deletes one of the user's sessions (and no one else's); returns whether it existed.
    pub fn delete_for_user(
        conn: &mut DbConnection,
        user_id: &str,
        id: &str,
    ) -> Result<bool, DbError> {
        let deleted = native!(conn, |conn| diesel::delete(
            sessions::table
                .filter(sessions::id.eq(id))
                .filter(sessions::user_id.eq(user_id)),
        )
        .execute(conn))?;
        Ok(deleted > 0)
    }

    /// Deletes every session of the user but `keep` (the one making the request, if any);
    /// returns the ids of those deleted, so their apps can be told.
    pub fn delete_all_for_user(
        conn: &mut DbConnection,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, DbError> {
        let doomed: Vec<String> = native!(conn, |conn| sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep.unwrap_or("")))
            .select(sessions::id)
            .load(conn))?;
        if !doomed.is_empty() {
            native!(conn, |conn| diesel::delete(
                sessions::table.filter(sessions::id.eq_any(&doomed))
            )
            .execute(conn))?;
        }
        Ok(doomed)
    }

    /// Keeps the user's `keep` newest sessions and deletes the rest; returns how many ended.
    pub fn delete_oldest_beyond(
        conn: &mut DbConnection,
        user_id: &str,
        keep: u32,
    ) -> Result<usize, DbError> {
        let doomed: Vec<String> = native!(conn, |conn| sessions::table
            .filter(sessions::user_id.eq(user_id))
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .offset(i64::from(keep))
            .select(sessions::id)
            .load(conn))?;
        if doomed.is_empty() {
            return Ok(0);
        }
        Ok(native!(conn, |conn| diesel::delete(
            sessions::table.filter(sessions::id.eq_any(&doomed))
        )
        .execute(conn))?)
    }

    /// Removes sessions past their absolute lifetime or idle since before `idle_cutoff`.
    pub fn delete_expired(
        conn: &mut DbConnection,
        now: NaiveDateTime,
        idle_cutoff: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            sessions::table.filter(
                sessions::expires_at
                    .le(now)
                    .or(sessions::last_seen_at.lt(idle_cutoff)),
            ),
        )
        .execute(conn))?)
    }
}
