//! The checks, by group. Each check has a stable id (`group.name`), a title, a severity,
//! and the fix; it ends passed, failed (with what was seen and the evidence), or skipped
//! (with what it lacked). Groups run one after another, in [`GROUPS`] order; a progress
//! bar per group on a terminal.
//!
//! headers (on every response, error leaks) · authentication (the task API's door) ·
//! authorization (IDOR, scopes, client-credentials tokens, mass assignment) · redirect_uri
//! · oauth (the code flow's guarantees) · forms (CSRF) · cors · injection (SQL, XSS, path
//! traversal, CR/LF) · sessions (cookies, fixation, sign-out, lockout, slow-down) ·
//! rate_limits (bursts; run it alone against the real limits).

mod authentication;
mod authorization;
mod cors;
mod forms;
mod headers;
mod injection;
mod oauth;
mod rate_limits;
mod redirect_uris;
mod sessions;

use std::io::IsTerminal as _;

use crate::report::{CheckResult, Evidence, Outcome, Severity};
use crate::scan::Scan;

/// What a check is, before it has run.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub remediation: &'static str,
}

impl Check {
    fn result(self, outcome: Outcome, evidence: Vec<Evidence>) -> CheckResult {
        CheckResult {
            id: self.id.to_owned(),
            group: self.id.split('.').next().unwrap_or(self.id),
            title: self.title.to_owned(),
            severity: self.severity,
            outcome,
            evidence,
            remediation: self.remediation,
        }
    }

    pub fn pass(self) -> CheckResult {
        self.result(Outcome::Pass, Vec::new())
    }

    pub fn fail(self, detail: impl Into<String>, evidence: Vec<Evidence>) -> CheckResult {
        self.result(
            Outcome::Fail {
                detail: detail.into(),
            },
            evidence,
        )
    }

    pub fn skip(self, reason: impl Into<String>) -> CheckResult {
        self.result(
            Outcome::Skipped {
                reason: reason.into(),
            },
            Vec::new(),
        )
    }

    /// Passed when `failures` is empty, else failed with them (at most five shown).
    pub fn judge(self, failures: Vec<(String, Evidence)>) -> CheckResult {
        if failures.is_empty() {
            return self.pass();
        }
        let detail = failures
            .iter()
            .take(5)
            .map(|(what, _)| what.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let more = failures.len().saturating_sub(5);
        let detail = if more > 0 {
            format!("{detail}; and {more} more")
        } else {
            detail
        };
        self.fail(
            detail,
            failures.into_iter().take(5).map(|(_, e)| e).collect(),
        )
    }
}

/// The groups, in the order they run.
pub const GROUPS: [&str; 10] = [
    "headers",
    "authentication",
    "authorization",
    "redirect_uri",
    "oauth",
    "forms",
    "cors",
    "injection",
    "sessions",
    "rate_limits",
];

/// The groups to run, in [`GROUPS`] order: those of `only` (every group when it is
/// empty) except those of `skip`. An unknown name is an error.
pub fn select(only: &[String], skip: &[String]) -> Result<Vec<&'static str>, String> {
    for name in only.iter().chain(skip) {
        if !GROUPS.contains(&name.as_str()) {
            return Err(format!(
                "`{name}` is not a check group; the groups are {}",
                GROUPS.join(", ")
            ));
        }
    }
    let selected: Vec<&'static str> = GROUPS
        .into_iter()
        .filter(|g| only.is_empty() || only.iter().any(|o| o == g))
        .filter(|g| !skip.iter().any(|s| s == g))
        .collect();
    if selected.is_empty() {
        return Err("--only and --skip leave no check group to run".into());
    }
    Ok(selected)
}

/// Runs the groups of `scan.options.groups` (every one if it names none) against `scan`.
pub async fn run_all(scan: &Scan) -> Vec<CheckResult> {
    let terminal = std::io::stderr().is_terminal();
    let mut results = Vec::new();
    let groups = if scan.options.groups.is_empty() {
        GROUPS.to_vec()
    } else {
        scan.options.groups.clone()
    };
    for group in groups {
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(format!("{group} checks"));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        if !terminal {
            eprintln!("security-scan: {group} checks");
        }
        let found = match group {
            "headers" => headers::run(scan).await,
            "authentication" => authentication::run(scan).await,
            "authorization" => authorization::run(scan).await,
            "redirect_uri" => redirect_uris::run(scan).await,
            "oauth" => oauth::run(scan).await,
            "forms" => forms::run(scan).await,
            "cors" => cors::run(scan).await,
            "injection" => injection::run(scan).await,
            "sessions" => sessions::run(scan).await,
            _ => rate_limits::run(scan).await,
        };
        let failed = found.iter().filter(|r| r.failed()).count();
        match bar {
            Some(bar) => bar.finish_with_message(format!(
                "{group} checks: {} run, {failed} failed",
                found.len()
            )),
            None => eprintln!(
                "security-scan: {group}: {} run, {failed} failed",
                found.len()
            ),
        }
        results.extend(found);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn groups_are_selected_in_their_order() {
        assert_eq!(select(&[], &[]).unwrap(), GROUPS.to_vec());
        assert_eq!(
            select(&names(&["cors", "headers"]), &[]).unwrap(),
            ["headers", "cors"]
        );
        let without = select(&[], &names(&["headers"])).unwrap();
        assert!(!without.contains(&"headers") && without.len() == GROUPS.len() - 1);
        assert!(select(&names(&["nope"]), &[]).unwrap_err().contains("nope"));
        assert!(select(&names(&["cors"]), &names(&["cors"])).is_err());
    }
}
