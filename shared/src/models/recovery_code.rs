//! `recovery_codes`: single-use codes that stand in for a lost authenticator. Rows hold
//! the code's SHA-256, never the code.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::recovery_codes;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = recovery_codes, treat_none_as_default_value = false)]
pub struct RecoveryCode {
    pub code_hash: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl RecoveryCode {
    /// Replaces every recovery code of the user with `codes`.
    pub fn replace_all(
        conn: &mut DbConnection,
        user_id: &str,
        codes: &[RecoveryCode],
    ) -> Result<(), DbError> {
        Self::delete_all(conn, user_id)?;
        native!(conn, |conn| diesel::insert_into(recovery_codes::table)
            .values(codes)
            .execute(conn))?;
        Ok(())
    }

    pub fn delete_all(conn: &mut DbConnection, user_id: &str) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))
        )
        .execute(conn))?)
    }

    /// Spends the user's unused code with this hash: `false` for an unknown or used one
    /// (also when two requests race with the same code).
    pub fn spend(
        conn: &mut DbConnection,
        user_id: &str,
        code_hash: &str,
        at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let spent = native!(conn, |conn| diesel::update(
            recovery_codes::table
                .find(code_hash)
                .filter(recovery_codes::user_id.eq(user_id))
                .filter(recovery_codes::used_at.is_null()),
        )
        .set(recovery_codes::used_at.eq(at))
        .execute(conn))?;
        Ok(spent == 1)
    }

    /// Whether the user has (or had: spent ones too) a code with this hash.
    pub fn exists(
        conn: &mut DbConnection,
        user_id: &str,
        code_hash: &str,
    ) -> Result<bool, DbError> {
        Ok(native!(conn, |conn| recovery_codes::table
            .find(code_hash)
            .filter(recovery_codes::user_id.eq(user_id))
            .select(recovery_codes::code_hash)
            .get_result::<String>(conn))
        .optional()?
        .is_some())
    }

    /// How many of the user's codes are still unused.
    pub fn count_unused(conn: &mut DbConnection, user_id: &str) -> Result<i64, DbError> {
        Ok(native!(conn, |conn| recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::used_at.is_null())
            .count()
            .get_result(conn))?)
    }
}
