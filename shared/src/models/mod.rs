//! One module per table: the row structs and the queries on that table.
//! Queries take `&mut DbConnection` and are run through [`crate::db::Db::run`].
//!
//! A lookup by a unique key reads its row with `get_result`, not `first`, which would add a
//! `LIMIT ?` it does not need. (Without the query-planner stability guarantee SQLite is
//! built with — see `.cargo/config.toml` — SQLite parses and plans a statement with a bound
//! LIMIT again on every use: a sixth of a refresh grant's CPU went there.)

pub mod access_token;
pub mod account_token;
pub mod api_key;
pub mod audit_event;
pub mod authorization_code;
pub mod client;
pub mod client_usage;
pub mod consent;
pub mod grant;
pub mod login_throttle;
pub mod recovery_code;
pub mod refresh_token;
pub mod session;
pub mod signing_key;
pub mod task;
pub mod token_revocation;
pub mod totp_factor;
pub mod user;

use chrono::{NaiveDateTime, SubsecRound as _, Utc};

/// The current UTC time at the precision both backends store (microseconds), so a value
/// read back compares equal to the one written.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use diesel::query_builder::QueryId;

    use super::*;
    use crate::schema;

    fn has_static_query_id<Q: QueryId>(_: &Q) -> bool {
        Q::HAS_STATIC_QUERY_ID
    }

    /// Inserts bind NULL for a missing value (`treat_none_as_default_value = false`), so
    /// each insert's SQL is fixed by its type and its prepared statement is found by type,
    /// without writing the SQL out first. With the default, a `None` drops its column and
    /// the SQL depends on the values.
    #[test]
    fn inserts_on_the_token_path_have_fixed_sql() {
        let at = now();
        let refresh = refresh_token::RefreshToken {
            token_hash: "h".into(),
            grant_id: "g".into(),
            client_id: "c".into(),
            parent_hash: None,
            scope: "s".into(),
            issued_at: at,
            idle_expires_at: at,
            expires_at: at,
            used_at: None,
            revoked_at: None,
        };
        assert!(has_static_query_id(
            &diesel::insert_into(schema::refresh_tokens::table).values(&refresh)
        ));
        let access = access_token::AccessTokenRecord {
            jti: "j".into(),
            grant_id: None,
            client_id: "c".into(),
            user_id: None,
            scope: "s".into(),
            issued_at: at,
            expires_at: at,
            revoked_at: None,
        };
        assert!(has_static_query_id(
            &diesel::insert_into(schema::access_tokens::table).values(&access)
        ));
        let grant = grant::Grant {
            id: "g".into(),
            user_id: None,
            client_id: "c".into(),
            scope: "s".into(),
            created_at: at,
            revoked_at: None,
            auth_time: None,
            session_id: None,
            second_factor: false,
        };
        assert!(has_static_query_id(
            &diesel::insert_into(schema::grants::table).values(&grant)
        ));
    }
}
