//! `users`: accounts that sign in to the authorization server.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::users;

#[derive(Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the current email address was proven by a link sent to it.
    pub email_verified_at: Option<NaiveDateTime>,
}

/// Leaves the password hash out of logs.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl User {
    /// Inserts a user; a taken username or email comes back as a unique violation
    /// (see [`DbError::is_unique_violation`]).
    pub fn insert(conn: &mut DbConnection, new_user: &NewUser<'_>) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(users::table)
            .values(new_user)
            .execute(conn))?;
        Ok(())
    }

    pub fn find_by_username(
        conn: &mut DbConnection,
        username: &str,
    ) -> Result<Option<User>, DbError> {
        Ok(native!(conn, |conn| users::table
            .filter(users::username.eq(username))
            .select(User::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// The account a "forgot password" form names, by username or by email address
    /// (both stored normalised: lower-case).
    pub fn find_by_username_or_email(
        conn: &mut DbConnection,
        login: &str,
    ) -> Result<Option<User>, DbError> {
        Ok(native!(conn, |conn| users::table
            .filter(users::username.eq(login).or(users::email.eq(login)))
            .select(User::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// Stores a new password hash; returns whether the user exists.
    pub fn set_password_hash(
        conn: &mut DbConnection,
        id: &str,
        password_hash: &str,
        at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let updated = native!(conn, |conn| diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(password_hash),
                users::updated_at.eq(at),
            ))
            .execute(conn))?;
        Ok(updated == 1)
    }

    /// Gives the user a new, not yet proven, email address; a taken one comes back as a
    /// unique violation.
    pub fn set_email(
        conn: &mut DbConnection,
        id: &str,
        email: &str,
        at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let updated = native!(conn, |conn| diesel::update(users::table.find(id))
            .set((
                users::email.eq(email),
                users::email_verified_at.eq(None::<NaiveDateTime>),
                users::updated_at.eq(at),
            ))
            .execute(conn))?;
        Ok(updated == 1)
    }

    /// Records `email` as proven, if it is still the user's address.
    pub fn mark_email_verified(
        conn: &mut DbConnection,
        id: &str,
        email: &str,
        at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let updated = native!(conn, |conn| diesel::update(
            users::table.find(id).filter(users::email.eq(email))
        )
        .set((users::email_verified_at.eq(at), users::updated_at.eq(at)))
        .execute(conn))?;
        Ok(updated == 1)
    }

    /// Deletes the user; the schema's cascades remove every row that names them (but the
    /// audit table's). Returns whether the user existed.
    pub fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
        let deleted = native!(conn, |conn| diesel::delete(users::table.find(id))
            .execute(conn))?;
        Ok(deleted == 1)
    }

    pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<User>, DbError> {
        Ok(native!(conn, |conn| users::table
            .find(id)
            .select(User::as_select())
            .get_result(conn))
        .optional()?)
    }
}
