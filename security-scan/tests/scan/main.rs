//! The scanner against servers whose answers are known: a deliberately vulnerable
//! ("planted") authorization server and task API, where every check must report its
//! finding, and the real auth-server and resource-api, where none may. Both run
//! in-process on port 0; `cargo test -p security-scan -- --nocapture` shows the reports.

// Tests fail by panicking: unwrap and expect are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The planted handlers return the answer to send as their `Err`, for early returns; the
// size of an `HttpResponse` does not matter in a test server.
#![allow(clippy::result_large_err)]

mod planted;
mod real;

mod planted_server;
mod real_servers;

use security_scan::report::{CheckResult, Outcome};

/// One line for a result: its id and how it ended, with the detail or the reason.
pub fn described(result: &CheckResult) -> String {
    match &result.outcome {
        Outcome::Pass => format!("{}: passed", result.id),
        Outcome::Fail { detail } => format!("{}: failed: {detail}", result.id),
        Outcome::Skipped { reason } => format!("{}: skipped: {reason}", result.id),
    }
}
