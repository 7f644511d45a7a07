//! Guessing passwords (OWASP ASVS 2.2.1; NIST SP 800-63B §5.2.2): failed sign-ins for
//! one username lead to a lockout, and failures from one address to a slow-down. Neither
//! touches the scan's own account: the lockout is tried on a throwaway account the scan
//! signs up (then the right password must be refused too), or on a username no one has;
//! the slow-down on a fresh username per attempt, with a successful sign-in of the scan's
//! account before and after (servers forget an address's failures when it signs in).

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::accounts::{self, random_name};
use crate::checks::Check;
use crate::flows::{self, hidden_field};
use crate::probe::Answer;
use crate::report::{CheckResult, Severity};
use crate::scan::Scan;

const LOCKOUT: Check = Check {
    id: "sessions.lockout",
    title: "Repeated failed sign-ins lock the username, so even the right password is refused for a while",
    severity: Severity::High,
    remediation: "Count consecutive failures per username (existing or not, so the lock reveals nothing), lock it after a few (5 by default, LOGIN_MAX_FAILURES) for a while (LOGIN_LOCKOUT), and answer a locked sign-in with 429 and Retry-After.",
};
const SLOW_DOWN: Check = Check {
    id: "sessions.slow_down",
    title: "Repeated failed sign-ins from one address are slowed down or refused",
    severity: Severity::Medium,
    remediation: "Delay each sign-in attempt from an address with many recent failures (a second more per failure, up to a ceiling) or refuse it with 429, so guessing across many usernames (password spraying) is slow.",
};

/// Failed attempts made before a check gives up waiting for the lock or the slow-down.
pub const MAX_FAILURES: usize = 20;
/// How much later than the first failures' median an attempt must be answered, twice in
/// a row, to count as slowed.
pub const SLOWED_BY: Duration = Duration::from_millis(1500);

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    vec![lockout(scan).await, slow_down(scan).await]
}

/// One sign-in attempt on a fresh browser: the answer and how long it took.
async fn attempt(scan: &Scan, username: &str, password: &str) -> Option<(Answer, Duration)> {
    let browser = scan.browser();
    let login = scan.issuer_url("/login");
    let page = scan.get(&browser, &login, "sign-in page").await.ok()?;
    let csrf = hidden_field(&page.body, "csrf_token")?;
    let started = Instant::now();
    let answer = scan
        .post_form(
            &browser,
            &login,
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("password", password),
                ("return_to", "/account"),
            ],
            "sign-in attempt",
        )
        .await
        .ok()?;
    Some((answer, started.elapsed()))
}

/// Whether an answer to a sign-in is a refusal that says "wait": 429 or Retry-After.
pub fn says_wait(answer: &Answer) -> bool {
    answer.status == StatusCode::TOO_MANY_REQUESTS || answer.header("retry-after").is_some()
}

/// Whether an answer to a sign-in signed the person in (a redirect away from the
/// sign-in page).
fn signed_in(answer: &Answer) -> bool {
    answer.status.is_redirection()
        && answer
            .location()
            .is_some_and(|to| !to.starts_with("/login"))
}

async fn lockout(scan: &Scan) -> CheckResult {
    let throwaway = accounts::sign_up(scan, "scan-lock-").await.ok();
    let username = throwaway
        .as_ref()
        .map_or_else(|| random_name("scan-nobody-"), |a| a.username.clone());
    let mut last = None;
    let mut failures = 0;
    for _ in 0..MAX_FAILURES {
        let wrong = format!("not-the-password-{}", random_name(""));
        let Some((answer, _)) = attempt(scan, &username, &wrong).await else {
            return LOCKOUT.skip("the sign-in page did not answer");
        };
        failures += 1;
        if signed_in(&answer) {
            return LOCKOUT.skip("a wrong password signed in: see the other findings");
        }
        let wait = says_wait(&answer);
        last = Some(answer);
        if wait {
            break;
        }
    }
    let Some(last) = last else {
        return LOCKOUT.skip("no attempt was answered");
    };
    match &throwaway {
        // The proof of a lock: the right password is refused now.
        Some(account) => match attempt(scan, &account.username, &account.password).await {
            Some((answer, _)) if signed_in(&answer) => LOCKOUT.fail(
                format!("after {failures} failed sign-ins the right password still signs in: no lockout"),
                vec![last.evidence, answer.evidence],
            ),
            Some(_) => LOCKOUT.pass(),
            None => LOCKOUT.skip("the sign-in page did not answer"),
        },
        // No account to prove it on: the lock must at least be said.
        None if says_wait(&last) => LOCKOUT.pass(),
        None => LOCKOUT.fail(
            format!("{failures} failed sign-ins for one username, and no lockout (no 429, no Retry-After)"),
            vec![last.evidence],
        ),
    }
}

/// The median of some durations.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Whether the attempts, in order, show a slow-down: two in a row answered [`SLOWED_BY`]
/// later than the median of the first three.
pub fn slowed_down(times: &[Duration]) -> bool {
    if times.len() < 5 {
        return false;
    }
    let baseline = median(times[..3].to_vec());
    times[3..]
        .windows(2)
        .any(|pair| pair.iter().all(|t| *t >= baseline + SLOWED_BY))
}

async fn slow_down(scan: &Scan) -> CheckResult {
    let Some(account) = &scan.options.account else {
        return SLOW_DOWN.skip(super::NEEDS);
    };
    // Start from a clean record: a successful sign-in.
    if let Err(why) =
        flows::sign_in(scan, &scan.browser(), &account.username, &account.password).await
    {
        return SLOW_DOWN.skip(why);
    }
    let mut times = Vec::new();
    let mut verdict = None;
    let mut last = None;
    for _ in 0..MAX_FAILURES {
        let username = random_name("scan-spray-");
        let Some((answer, took)) = attempt(scan, &username, "Winter2026!").await else {
            verdict = Some(SLOW_DOWN.skip("the sign-in page did not answer"));
            break;
        };
        times.push(took);
        if says_wait(&answer) || slowed_down(&times) {
            verdict = Some(SLOW_DOWN.pass());
            break;
        }
        last = Some(answer);
    }
    // Leave no slowed address behind for the checks that follow.
    let _ = flows::sign_in(scan, &scan.browser(), &account.username, &account.password).await;
    verdict.unwrap_or_else(|| {
        let total: Duration = times.iter().sum();
        SLOW_DOWN.fail(
            format!(
                "{} failed sign-ins for different usernames from one address in {:.1}s, none slowed or refused",
                times.len(),
                total.as_secs_f64()
            ),
            last.map(|a| vec![a.evidence]).unwrap_or_default(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn a_slow_down_is_two_slow_answers_in_a_row() {
        assert!(!slowed_down(&ms(&[60, 50, 70, 55, 60, 65, 58, 62])));
        assert!(
            !slowed_down(&ms(&[60, 50, 70, 3000, 60, 65])),
            "one stall is noise"
        );
        assert!(slowed_down(&ms(&[60, 50, 70, 55, 1100, 2060, 3050])));
        assert!(!slowed_down(&ms(&[60, 50, 70, 55])));
    }
}
