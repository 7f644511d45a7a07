//! `client_usage`: when each client last authenticated, kept to about the hour (each
//! instance writes at most once an hour per client). `auth-server doctor` reads it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::{DbConnection, DbError, native};
use crate::schema::client_usage;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = client_usage)]
pub struct ClientUsage {
    pub client_id: String,
    pub last_used_at: NaiveDateTime,
}

impl ClientUsage {
    /// Records that `client_id` authenticated at `at` (the latest write wins: every
    /// instance writes its present moment).
    pub fn record(
        conn: &mut DbConnection,
        client_id: &str,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        let row = ClientUsage {
            client_id: client_id.to_owned(),
            last_used_at: at,
        };
        native!(conn, |conn| diesel::insert_into(client_usage::table)
            .values(&row)
            .on_conflict(client_usage::client_id)
            .do_update()
            .set(client_usage::last_used_at.eq(excluded(client_usage::last_used_at)))
            .execute(conn))?;
        Ok(())
    }

    /// Every recorded client's last use, by client id.
    pub fn all(conn: &mut DbConnection) -> Result<HashMap<String, NaiveDateTime>, DbError> {
        let rows: Vec<ClientUsage> = native!(conn, |conn| client_usage::table
            .select(ClientUsage::as_select())
            .load(conn))?;
        Ok(rows
            .into_iter()
            .map(|row| (row.client_id, row.last_used_at))
            .collect())
    }
}
