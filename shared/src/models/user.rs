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

    pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<User>, DbError> {
        Ok(native!(conn, |conn| users::table
            .find(id)
            .select(User::as_select())
            .get_result(conn))
        .optional()?)
    }
}
