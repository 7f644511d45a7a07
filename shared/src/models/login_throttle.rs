//! `login_throttles`: consecutive failed sign-ins per username as typed, and lockouts.
//!
//! Keyed by the normalised username whether or not such an account exists, so a lockout
//! looks the same for every username (SECURITY.md 24: no account enumeration).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConnection, DbError};
use crate::schema::login_throttles;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_throttles)]
pub struct LoginThrottle {
    pub username: String,
    pub failures: i32,
    pub last_failure_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

/// What a failed attempt did to the username's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Counted; not locked yet.
    Counted { failures: i32 },
    /// This failure reached the limit: locked until the given time.
    LockedNow { until: NaiveDateTime },
}

impl LoginThrottle {
    pub fn find(conn: &mut DbConnection, username: &str) -> Result<Option<LoginThrottle>, DbError> {
        Ok(login_throttles::table
            .find(username)
            .select(LoginThrottle::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// The time until which the username is locked, if it is locked at `now`.
    pub fn locked_until(
        conn: &mut DbConnection,
        username: &str,
        now: NaiveDateTime,
    ) -> Result<Option<NaiveDateTime>, DbError> {
        Ok(Self::find(conn, username)?
            .and_then(|row| row.locked_until)
            .filter(|until| *until > now))
    }

    /// Counts a failure. Failures older than `window` no longer count; reaching
    /// `max_failures` locks the username for `lockout` and starts the count again.
    /// Runs in a transaction so concurrent failures are each counted once.
    pub fn record_failure(
        conn: &mut DbConnection,
        username: &str,
        now: NaiveDateTime,
        max_failures: u32,
        window: chrono::Duration,
        lockout: chrono::Duration,
    ) -> Result<FailureOutcome, DbError> {
        crate::db::write_transaction(conn, |conn| {
            // Claim the row first (the write lock makes concurrent failures queue up).
            let updated = diesel::update(login_throttles::table.find(username))
                .set(login_throttles::failures.eq(login_throttles::failures + 1))
                .execute(conn)?;
            if updated == 0 {
                // In a savepoint: on PostgreSQL a failed statement would otherwise abort
                // the whole transaction.
                let inserted = conn.transaction(|conn| {
                    diesel::insert_into(login_throttles::table)
                        .values((
                            login_throttles::username.eq(username),
                            login_throttles::failures.eq(0),
                            login_throttles::last_failure_at.eq(now),
                            login_throttles::locked_until.eq(None::<NaiveDateTime>),
                        ))
                        .execute(conn)
                });
                match inserted {
                    Ok(_) => {}
                    // Another request created it between our update and insert.
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => {}
                    Err(e) => return Err(e),
                }
                diesel::update(login_throttles::table.find(username))
                    .set(login_throttles::failures.eq(login_throttles::failures + 1))
                    .execute(conn)?;
            }
            let row: LoginThrottle = login_throttles::table
                .find(username)
                .select(LoginThrottle::as_select())
                .get_result(conn)?;
            // A stale streak (last failure outside the window, or a lockout that has ended)
            // starts again from this failure.
            let streak_expired = row.last_failure_at < now - window
                || row.locked_until.is_some_and(|until| until <= now);
            let failures = if streak_expired { 1 } else { row.failures };
            let outcome = if failures >= i32::try_from(max_failures).unwrap_or(i32::MAX) {
                FailureOutcome::LockedNow {
                    until: now + lockout,
                }
            } else {
                FailureOutcome::Counted { failures }
            };
            let (stored_failures, locked_until) = match outcome {
                FailureOutcome::LockedNow { until } => (0, Some(until)),
                FailureOutcome::Counted { failures } => (failures, None),
            };
            diesel::update(login_throttles::table.find(username))
                .set((
                    login_throttles::failures.eq(stored_failures),
                    login_throttles::last_failure_at.eq(now),
                    login_throttles::locked_until.eq(locked_until),
                ))
                .execute(conn)?;
            Ok(outcome)
        })
        .map_err(DbError::from)
    }

    /// A successful sign-in clears the streak.
    pub fn clear(conn: &mut DbConnection, username: &str) -> Result<(), DbError> {
        diesel::delete(login_throttles::table.find(username)).execute(conn)?;
        Ok(())
    }
}
