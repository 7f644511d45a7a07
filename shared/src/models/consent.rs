//! `consents`: the scopes a user has allowed each app, so consent is asked only once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::consents;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consents)]
pub struct Consent {
    pub user_id: String,
    pub client_id: String,
    /// Space-separated scopes allowed so far.
    pub scope: String,
    pub granted_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Consent {
    pub fn find(
        conn: &mut DbConnection,
        user_id: &str,
        client_id: &str,
    ) -> Result<Option<Consent>, DbError> {
        Ok(native!(conn, |conn| consents::table
            .find((user_id, client_id))
            .select(Consent::as_select())
            .get_result(conn))
        .optional()?)
    }

    /// The user's consents with each client's name, most recent first.
    pub fn list_for_user(
        conn: &mut DbConnection,
        user_id: &str,
    ) -> Result<Vec<(Consent, String)>, DbError> {
        use crate::schema::clients;
        Ok(native!(conn, |conn| consents::table
            .inner_join(clients::table)
            .filter(consents::user_id.eq(user_id))
            .order(consents::updated_at.desc())
            .select((Consent::as_select(), clients::name))
            .load(conn))?)
    }

    /// Returns whether there was a consent to delete.
    pub fn delete(
        conn: &mut DbConnection,
        user_id: &str,
        client_id: &str,
    ) -> Result<bool, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            consents::table.find((user_id, client_id))
        )
        .execute(conn))?
            > 0)
    }

    /// Records that the user allowed `scope` (all scopes allowed so far) to the client.
    pub fn save(
        conn: &mut DbConnection,
        user_id: &str,
        client_id: &str,
        scope: &str,
        now: NaiveDateTime,
    ) -> Result<(), DbError> {
        let updated = native!(conn, |conn| diesel::update(
            consents::table.find((user_id, client_id))
        )
        .set((consents::scope.eq(scope), consents::updated_at.eq(now)))
        .execute(conn))?;
        if updated == 0 {
            native!(conn, |conn| diesel::insert_into(consents::table)
                .values((
                    consents::user_id.eq(user_id),
                    consents::client_id.eq(client_id),
                    consents::scope.eq(scope),
                    consents::granted_at.eq(now),
                    consents::updated_at.eq(now),
                ))
                .execute(conn))?;
        }
        Ok(())
    }
}
