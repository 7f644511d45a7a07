//! `token_revocations`: the feed of revoked access tokens that the task API follows
//! (SECURITY.md 19), one row per token, numbered (`seq`) by the database.
//!
//! The task API must see every revocation, soon, and whatever the clocks of the servers
//! say. Polling `access_tokens` by `revoked_at` compared the revoker's clock with the
//! poller's, and missed a revocation written with a clock behind (or committed after) the
//! poller's cursor. Instead the poller asks for the rows numbered after the last one it
//! read. That is safe only if numbers become visible in order, i.e. are taken in commit
//! order:
//!
//! - Rows are appended by a database trigger on `access_tokens` (see the migration
//!   `token_revocations`): any statement that sets `revoked_at` appends, in the same
//!   transaction, whichever code revoked — [`AccessTokenRecord::revoke`],
//!   [`Grant::revoke_family`], or an operator's SQL.
//! - On PostgreSQL the trigger is deferred to commit and first takes
//!   `LOCK TABLE token_revocations IN SHARE ROW EXCLUSIVE MODE`, which serialises appenders
//!   until they commit (readers are not blocked). A transaction that took number 5
//!   therefore commits before another can take 6. Because the lock is taken at commit, it
//!   is the last lock a revoking transaction takes: it never waits for a row lock while
//!   holding it, so revocations cannot deadlock, however many grants one transaction
//!   revokes.
//! - SQLite has one writer at a time, holding its lock from the first write to commit:
//!   numbers are in commit order as they are.
//!
//! A row is kept until no verifier accepts the token anymore
//! ([`crate::claims::accepted_expiry_floor`]): `exp` plus the leeway, not `exp` alone.
//!
//! [`AccessTokenRecord::revoke`]: crate::models::access_token::AccessTokenRecord::revoke
//! [`Grant::revoke_family`]: crate::models::grant::Grant::revoke_family

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, native};
use crate::schema::token_revocations;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = token_revocations)]
pub struct TokenRevocation {
    /// The position in the feed: increasing in commit order, never reused.
    pub seq: i64,
    pub jti: String,
    /// The token's expiry, so a follower knows how long to remember it.
    pub expires_at: NaiveDateTime,
}

impl TokenRevocation {
    /// The revocations numbered after `seq`, in order: a follower passes the last number it
    /// has read (0 at first) and so misses none and reads none twice.
    pub fn after(conn: &mut DbConnection, seq: i64) -> Result<Vec<TokenRevocation>, DbError> {
        Ok(native!(conn, |conn| token_revocations::table
            .filter(token_revocations::seq.gt(seq))
            .order(token_revocations::seq.asc())
            .select(TokenRevocation::as_select())
            .load(conn))?)
    }

    /// Removes the revocations of tokens that expired before `cutoff` (pass
    /// [`crate::claims::accepted_expiry_floor`]): no verifier accepts them anymore.
    pub fn delete_expired(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(native!(conn, |conn| diesel::delete(
            token_revocations::table.filter(token_revocations::expires_at.lt(cutoff)),
        )
        .execute(conn))?)
    }
}
