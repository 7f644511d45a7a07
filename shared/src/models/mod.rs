//! One module per table: the row structs and the queries on that table.
//! Queries take `&mut DbConnection` and are run through [`crate::db::Db::run`].
//!
//! A lookup by a unique key reads its row with `get_result`, not `first`, which would add a
//! `LIMIT ?` it does not need. (Without the query-planner stability guarantee SQLite is
//! built with — see `.cargo/config.toml` — SQLite parses and plans a statement with a bound
//! LIMIT again on every use: a sixth of a refresh grant's CPU went there.)

pub mod access_token;
pub mod api_key;
pub mod audit_event;
pub mod authorization_code;
pub mod client;
pub mod consent;
pub mod grant;
pub mod login_throttle;
pub mod refresh_token;
pub mod session;
pub mod signing_key;
pub mod task;
pub mod token_revocation;
pub mod user;

use chrono::{NaiveDateTime, SubsecRound as _, Utc};

/// The current UTC time at the precision both backends store (microseconds), so a value
/// read back compares equal to the one written.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}
