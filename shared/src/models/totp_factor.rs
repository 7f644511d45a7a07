//! `totp_factors`: a user's TOTP second factor (RFC 6238), one per user. The secret column
//! holds the shared key sealed for storage; the auth server seals and opens it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::totp_factors;

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = totp_factors, treat_none_as_default_value = false)]
pub struct TotpFactor {
    pub user_id: String,
    /// The shared key, sealed (`v1:`) or, in development, plain (`plain:`).
    pub secret: String,
    pub created_at: NaiveDateTime,
    /// `None` while enrolment waits for its first code: such a factor guards nothing.
    pub confirmed_at: Option<NaiveDateTime>,
    /// The highest time step accepted (RFC 6238 §5.2: a code is accepted once).
    pub last_used_step: i64,
}

/// Leaves the secret out of logs.
impl std::fmt::Debug for TotpFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFactor")
            .field("user_id", &self.user_id)
            .field("confirmed_at", &self.confirmed_at)
            .finish_non_exhaustive()
    }
}

impl TotpFactor {
    /// Starts (or starts again) an enrolment: the user's unconfirmed factor is replaced; a
    /// confirmed one is left alone (`false`).
    pub fn begin_enrolment(conn: &mut DbConnection, factor: &TotpFactor) -> Result<bool, DbError> {
        let removed_pending = native!(conn, |conn| diesel::delete(
            totp_factors::table
                .find(&factor.user_id)
                .filter(totp_factors::confirmed_at.is_null()),
        )
        .execute(conn))?;
        if removed_pending == 0 && Self::find(conn, &factor.user_id)?.is_some() {
            return Ok(false);
        }
        native!(conn, |conn| diesel::insert_into(totp_factors::table)
            .values(factor)
            .execute(conn))?;
        Ok(true)
    }

    pub fn find(conn: &mut DbConnection, user_id: &str) -> Result<Option<TotpFactor>, DbError> {
        Ok(native!(conn, |conn| totp_factors::table
            .find(user_id)
            .select(TotpFactor::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// The user's factor once confirmed: the one that guards sign-in.
    pub fn find_confirmed(
        conn: &mut DbConnection,
        user_id: &str,
    ) -> Result<Option<TotpFactor>, DbError> {
        Ok(Self::find(conn, user_id)?.filter(|f| f.confirmed_at.is_some()))
    }

    /// Whether the user signs in with a second factor.
    pub fn is_enabled(conn: &mut DbConnection, user_id: &str) -> Result<bool, DbError> {
        Ok(Self::find_confirmed(conn, user_id)?.is_some())
    }

    /// Locks the user's factor row until the transaction ends (PostgreSQL; SQLite's single
    /// writer serialises write transactions anyway), so attempts on one account are
    /// decided one at a time.
    pub fn lock(conn: &mut DbConnection, user_id: &str) -> Result<(), DbError> {
        native!(conn, |conn| diesel::update(
            totp_factors::table.find(user_id)
        )
        .set(totp_factors::last_used_step.eq(totp_factors::last_used_step))
        .execute(conn))?;
        Ok(())
    }

    /// Records that the code of time step `step` was accepted, unless that step (or a
    /// later one) was accepted already: `false` for a reused code, even when two requests
    /// race with it.
    pub fn accept_step(conn: &mut DbConnection, user_id: &str, step: i64) -> Result<bool, DbError> {
        let updated = native!(conn, |conn| diesel::update(
            totp_factors::table
                .find(user_id)
                .filter(totp_factors::last_used_step.lt(step)),
        )
        .set(totp_factors::last_used_step.eq(step))
        .execute(conn))?;
        Ok(updated == 1)
    }

    /// Confirms an enrolment (its first code was right); `false` if it was confirmed already.
    pub fn confirm(
        conn: &mut DbConnection,
        user_id: &str,
        at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let updated = native!(conn, |conn| diesel::update(
            totp_factors::table
                .find(user_id)
                .filter(totp_factors::confirmed_at.is_null()),
        )
        .set(totp_factors::confirmed_at.eq(at))
        .execute(conn))?;
        Ok(updated == 1)
    }

    /// Removes the user's factor (turning two-factor sign-in off); `false` if there was none.
    pub fn delete(conn: &mut DbConnection, user_id: &str) -> Result<bool, DbError> {
        let deleted = native!(conn, |conn| diesel::delete(
            totp_factors::table.find(user_id)
        )
        .execute(conn))?;
        Ok(deleted == 1)
    }
}
