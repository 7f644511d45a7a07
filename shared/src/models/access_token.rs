//! `access_tokens`: a record of every JWT access token issued, so it can be revoked.
//! Setting `revoked_at` appends the token to `token_revocations` (a database trigger, in
//! the same transaction): the feed the task API follows, see
//! [`crate::models::token_revocation`].

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::access_tokens;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_tokens, treat_none_as_default_value = false)]
pub struct AccessTokenRecord {
    pub jti: String,
    pub grant_id: Option<String>,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

impl AccessTokenRecord {
    pub fn insert(conn: &mut DbConnection, record: &AccessTokenRecord) -> Result<(), DbError> {
        native!(conn, |conn| diesel::insert_into(access_tokens::table)
            .values(record)
            .execute(conn))?;
        Ok(())
    }

    /// Records a token in one statement, only if its client's row is still the one
    /// `client_updated_at` was read from and the client is enabled (see
    /// [`crate::models::client::Client::is_unchanged`]). Returns whether it was recorded:
    /// `false` means the client changed, and nothing was written.
    pub fn insert_for_unchanged_client(
        conn: &mut DbConnection,
        record: &AccessTokenRecord,
        client_updated_at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        use diesel::dsl::exists;
        use diesel::sql_types::{Nullable, Text, Timestamp};

        use crate::schema::clients;

        let client_unchanged = exists(
            clients::table
                .filter(clients::client_id.eq(&record.client_id))
                .filter(clients::updated_at.eq(client_updated_at))
                .filter(clients::disabled_at.is_null()),
        );
        let row = diesel::select((
            record.jti.as_str().into_sql::<Text>(),
            record.grant_id.as_deref().into_sql::<Nullable<Text>>(),
            record.client_id.as_str().into_sql::<Text>(),
            record.user_id.as_deref().into_sql::<Nullable<Text>>(),
            record.scope.as_str().into_sql::<Text>(),
            record.issued_at.into_sql::<Timestamp>(),
            record.expires_at.into_sql::<Timestamp>(),
        ))
        .filter(client_unchanged);
        let inserted = native!(conn, |conn| diesel::insert_into(access_tokens::table)
            .values(row)
            .into_columns((
                access_tokens::jti,
                access_tokens::grant_id,
                access_tokens::client_id,
                access_tokens::user_id,
                access_tokens::scope,
                access_tokens::issued_at,
                access_tokens::expires_at,
            ))
            .execute(conn))?;
        Ok(inserted == 1)
    }

    /// In one query: whether the client's row is unchanged since `client_updated_at` (see
    /// [`crate::models::client::Client::is_unchanged`]), and whether the token `jti` is
    /// recorded and not revoked.
    pub fn client_unchanged_and_live(
        conn: &mut DbConnection,
        client_id: &str,
        client_updated_at: NaiveDateTime,
        jti: &str,
    ) -> Result<(bool, bool), DbError> {
        use diesel::dsl::exists;

        use crate::schema::clients;

        Ok(native!(conn, |conn| diesel::select((
            exists(
                clients::table
                    .filter(clients::client_id.eq(client_id))
                    .filter(clients::updated_at.eq(client_updated_at))
                    .filter(clients::disabled_at.is_null()),
            ),
            exists(
                access_tokens::table
                    .filter(access_tokens::jti.eq(jti))
                    .filter(access_tokens::revoked_at.is_null()),
            ),
        ))
        .get_result(conn))?)
    }

    /// Revokes one token; returns whether it was live (not revoked before). The database
    /// appends it to `token_revocations` as it commits.
    pub fn revoke(conn: &mut DbConnection, jti: &str, now: NaiveDateTime) -> Result<bool, DbError> {
        Ok(native!(conn, |conn| diesel::update(
            access_tokens::table
                .find(jti)
                .filter(access_tokens::revoked_at.is_null()),
        )
        .set(access_tokens::revoked_at.eq(now))
        .execute(conn))?
            > 0)
    }

    /// Removes records of tokens that expired before `cutoff` (pass
    /// [`crate::claims::accepted_expiry_floor`]): they verify nowhere anymore.
    pub fn delete_expired(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            access_tokens::table.filter(access_tokens::expires_at.lt(cutoff))
        )
        .execute(conn))?)
    }

    pub fn find(conn: &mut DbConnection, jti: &str) -> Result<Option<AccessTokenRecord>, DbError> {
        Ok(native!(conn, |conn| access_tokens::table
            .find(jti)
            .select(AccessTokenRecord::as_select())
            .get_result(conn))
        .optional()?)
    }
}
