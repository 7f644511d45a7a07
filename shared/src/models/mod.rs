//! One module per table: the row structs and the queries on that table.
//! Queries take `&mut DbConnection` and are run through [`crate::db::Db::run`].
//!
//! A lookup by a unique key reads its row with `get_result`, not `first`: `first` adds
//! `LIMIT ?`, and SQLite marks a statement whose LIMIT is a bound parameter to be parsed
//! and planned again every time a value is bound to it, so the statement cache would never
//! hit (measured: a sixth of a refresh grant's CPU went to re-preparing one such query).

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
