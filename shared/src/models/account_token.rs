//! `account_tokens`: the single-use links sent by mail (email verification, password
//! reset), and sign-ins waiting for their second factor. Rows hold the token's SHA-256, never the token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::account_tokens;

/// What a link is for; stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    /// A sign-in whose password was right, waiting for its second factor (not mailed).
    SecondFactor,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::SecondFactor => "second_factor",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = account_tokens, treat_none_as_default_value = false)]
pub struct AccountToken {
    pub token_hash: String,
    pub user_id: String,
    pub purpose: String,
    /// The address a verification link proves.
    pub email: Option<String>,
    /// The password a reset link was issued against (see `PasswordFingerprint`).
    pub password_fingerprint: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl AccountToken {
    pub fn insert(conn: &mut DbConnection, token: &AccountToken) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(account_tokens::table)
            .values(token)
            .execute(conn))?;
        Ok(())
    }

    /// The unused, unexpired token with this hash and purpose.
    pub fn find_live(
        conn: &mut DbConnection,
        token_hash: &str,
        purpose: Purpose,
        now: NaiveDateTime,
    ) -> Result<Option<AccountToken>, DbError> {
        Ok(native!(conn, |conn| account_tokens::table
            .find(token_hash)
            .filter(account_tokens::purpose.eq(purpose.as_str()))
            .filter(account_tokens::used_at.is_null())
            .filter(account_tokens::expires_at.gt(now))
            .select(AccountToken::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// Marks the token used; `false` when it was used already (a second, racing use).
    pub fn claim(
        conn: &mut DbConnection,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let claimed = native!(conn, |conn| diesel::update(
            account_tokens::table
                .find(token_hash)
                .filter(account_tokens::used_at.is_null()),
        )
        .set(account_tokens::used_at.eq(now))
        .execute(conn))?;
        Ok(claimed == 1)
    }

    /// Marks every unused token of the user for `purpose` used: older links die when a
    /// newer one has done its job.
    pub fn retire_all(
        conn: &mut DbConnection,
        user_id: &str,
        purpose: Purpose,
        now: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::update(
            account_tokens::table
                .filter(account_tokens::user_id.eq(user_id))
                .filter(account_tokens::purpose.eq(purpose.as_str()))
                .filter(account_tokens::used_at.is_null()),
        )
        .set(account_tokens::used_at.eq(now))
        .execute(conn))?)
    }

    /// How many links of `purpose` the user was sent since `since` (for rate limits).
    pub fn count_since(
        conn: &mut DbConnection,
        user_id: &str,
        purpose: Purpose,
        since: NaiveDateTime,
    ) -> Result<i64, DbError> {
        Ok(native!(conn, |conn| account_tokens::table
            .filter(account_tokens::user_id.eq(user_id))
            .filter(account_tokens::purpose.eq(purpose.as_str()))
            .filter(account_tokens::created_at.gt(since))
            .count()
            .get_result(conn))?)
    }

    /// Removes tokens expired before `cutoff` (run periodically).
    pub fn delete_expired(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            account_tokens::table.filter(account_tokens::expires_at.le(cutoff))
        )
        .execute(conn))?)
    }
}
