//! Statements on the token endpoint's hot path that diesel would otherwise prepare anew on
//! every call. Diesel caches a prepared statement per connection only when the query's
//! type identifies its SQL; it never caches an `UPDATE` (its `SET` list could vary) nor
//! raw SQL (`sql_query`, which may be built at run time). Each statement here is a type of
//! its own whose SQL is fixed text with bound parameters: it implements `QueryId` with a
//! static id, so each connection parses it once and reuses it from then on (SQLite's
//! parser and PostgreSQL's planner showed up in the token endpoint's profile).

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Nullable, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};

/// Implements what makes a statement type runnable and cacheable: `QueryId` with a static
/// id (the type itself) and `RunQueryDsl`.
macro_rules! cacheable_statement {
    ($name:ident $(<$lt:lifetime>)?) => {
        impl$(<$lt>)? QueryId for $name$(<$lt>)? {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<$($lt,)? Conn> RunQueryDsl<Conn> for $name$(<$lt>)? {}
    };
}

/// A write that changes no row, run first in a SQLite write transaction: SQLite takes its
/// writer lock when a write statement starts (the effect of `BEGIN IMMEDIATE`, which the
/// multi-backend connection cannot issue).
#[derive(Debug, Clone, Copy)]
pub struct TakeWriterLock;

impl<DB: Backend> QueryFragment<DB> for TakeWriterLock {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE __diesel_schema_migrations SET version = version WHERE 1 = 0");
        Ok(())
    }
}

impl QueryId for TakeWriterLock {
    type QueryId = TakeWriterLock;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Conn> RunQueryDsl<Conn> for TakeWriterLock {}

/// `UPDATE refresh_tokens SET used_at = $at WHERE token_hash = $hash AND used_at IS NULL
/// AND revoked_at IS NULL`: spends a live refresh token once (RFC 9700 §4.14.2); 1 row
/// changed means this request spent it.
#[derive(Debug, Clone, Copy)]
pub struct SpendRefreshToken<'a> {
    pub token_hash: &'a str,
    pub at: &'a chrono::NaiveDateTime,
}

impl<DB> QueryFragment<DB> for SpendRefreshToken<'_>
where
    DB: Backend,
    str: ToSql<Text, DB>,
    chrono::NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE refresh_tokens SET used_at = ");
        out.push_bind_param::<Timestamp, _>(self.at)?;
        out.push_sql(" WHERE token_hash = ");
        out.push_bind_param::<Text, _>(self.token_hash)?;
        out.push_sql(" AND used_at IS NULL AND revoked_at IS NULL");
        Ok(())
    }
}

cacheable_statement!(SpendRefreshToken<'a>);

/// `UPDATE authorization_codes SET used_at = $at, grant_id = $grant WHERE code_hash = $hash
/// AND used_at IS NULL`: spends a code once (RFC 6749 §4.1.2).
#[derive(Debug, Clone, Copy)]
pub struct SpendAuthorizationCode<'a> {
    pub code_hash: &'a str,
    pub at: &'a chrono::NaiveDateTime,
    pub grant_id: Option<&'a str>,
}

impl<DB> QueryFragment<DB> for SpendAuthorizationCode<'_>
where
    DB: Backend,
    str: ToSql<Text, DB>,
    for<'x> Option<&'x str>: ToSql<Nullable<Text>, DB>,
    chrono::NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE authorization_codes SET used_at = ");
        out.push_bind_param::<Timestamp, _>(self.at)?;
        out.push_sql(", grant_id = ");
        out.push_bind_param::<Nullable<Text>, _>(&self.grant_id)?;
        out.push_sql(" WHERE code_hash = ");
        out.push_bind_param::<Text, _>(self.code_hash)?;
        out.push_sql(" AND used_at IS NULL");
        Ok(())
    }
}

cacheable_statement!(SpendAuthorizationCode<'a>);

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl as _;
    use diesel::sql_types::Integer;

    /// `.cargo/config.toml` builds the bundled SQLite with its query-planner stability
    /// guarantee; without it every statement with a bound LIMIT or OFFSET is parsed again
    /// on each use, whatever diesel caches.
    #[test]
    fn sqlite_plans_do_not_depend_on_bound_values() {
        #[derive(diesel::QueryableByName)]
        struct Used {
            #[diesel(sql_type = Integer)]
            used: i32,
        }
        let mut conn = <diesel::SqliteConnection as diesel::Connection>::establish(":memory:")
            .expect("an in-memory SQLite database");
        let row: Used =
            diesel::sql_query("SELECT sqlite_compileoption_used('ENABLE_QPSG') AS used")
                .get_result(&mut conn)
                .expect("compile options can be read");
        assert_eq!(row.used, 1, "SQLite was built without SQLITE_ENABLE_QPSG");
    }
}
