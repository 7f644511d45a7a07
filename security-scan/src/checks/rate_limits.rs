//! Rate limits (RFC 6585 §4: 429 Too Many Requests; RFC 9110 §10.2.3: Retry-After): a
//! burst from one address at the task API, at the token endpoint and at the sign-in form
//! must be refused, with a `Retry-After` a client can obey, before a budget of requests is
//! spent. Requests go one after another and stop at the first refusal, so the scan costs
//! the target one refusal per endpoint. This group floods: run it alone (`--only
//! rate_limits`) against servers with their real limits, and skip it elsewhere.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use super::Check;
use crate::accounts::random_name;
use crate::api;
use crate::flows::{self, hidden_field};
use crate::probe::Answer;
use crate::report::{CheckResult, Severity};
use crate::scan::Scan;

const SIGN_IN: Check = Check {
    id: "rate_limits.sign_in",
    title: "A burst of sign-in attempts from one address is refused with 429 and Retry-After",
    severity: Severity::Medium,
    remediation: "Limit POST /login per address (10 a minute by default, RATE_LIMIT_LOGIN) and answer the excess with 429 and a Retry-After header.",
};
const TOKEN: Check = Check {
    id: "rate_limits.token",
    title: "A burst of token requests from one address is refused with 429 and Retry-After",
    severity: Severity::Medium,
    remediation: "Limit the token, revocation and introspection endpoints per address and per client (RATE_LIMIT_TOKEN, RATE_LIMIT_PER_CLIENT) and answer the excess with 429, an OAuth error body and Retry-After.",
};
const API: Check = Check {
    id: "rate_limits.api",
    title: "A burst of task API requests is refused with 429 and Retry-After",
    severity: Severity::Low,
    remediation: "Limit the task API per user and per address (RATE_LIMIT_PER_USER, RATE_LIMIT_PER_IP) and answer the excess with a 429 problem and Retry-After.",
};

/// Sign-in attempts before the sign-in check gives up: a limit above this is no limit
/// against guessing.
pub const SIGN_IN_BUDGET: usize = 100;
/// Token requests before the token check gives up.
pub const TOKEN_BUDGET: usize = 1_000;
/// Task API requests before the API check gives up.
pub const API_BUDGET: usize = 3_000;

/// RFC 9110 §10.2.3: `Retry-After` is an HTTP-date or a number of seconds.
pub fn retry_after_valid(value: &str) -> bool {
    let value = value.trim();
    (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
        || httpdate::parse_http_date(value).is_ok()
}

/// The verdict on a burst: `refusal` is the first 429, if one came.
fn judge(
    check: Check,
    sent: usize,
    took: Duration,
    refusal: Option<Answer>,
    last: Option<Answer>,
) -> CheckResult {
    match refusal {
        Some(answer) => match answer.header("retry-after") {
            Some(value) if retry_after_valid(value) => check.pass(),
            Some(value) => check.fail(
                format!("refused after {sent} requests, but Retry-After `{value}` is neither seconds nor an HTTP date"),
                vec![answer.evidence],
            ),
            None => check.fail(
                format!("refused with 429 after {sent} requests, but without Retry-After"),
                vec![answer.evidence],
            ),
        },
        None => check.fail(
            format!("{sent} requests in {:.1}s and none refused with 429", took.as_secs_f64()),
            last.map(|a| vec![a.evidence]).unwrap_or_default(),
        ),
    }
}

/// Whether an answer is the refusal the burst waits for.
fn refused(answer: &Answer) -> bool {
    answer.status == StatusCode::TOO_MANY_REQUESTS
}

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    // The API first (its token needs a sign-in), the sign-in form last.
    vec![
        api_burst(scan).await,
        token_burst(scan).await,
        sign_in_burst(scan).await,
    ]
}

async fn api_burst(scan: &Scan) -> CheckResult {
    let path = scan
        .operations()
        .into_iter()
        .find(|o| o.method == Method::GET && !o.public && !o.takes_resource_id())
        .map_or_else(|| "/api/tasks".to_owned(), |o| o.path);
    let token = flows::user_tokens(scan, &scan.all_scopes())
        .await
        .ok()
        .map(|(_, tokens)| tokens.access_token);
    let note = if token.is_some() {
        "burst, with a token"
    } else {
        "burst, no credentials"
    };
    let started = Instant::now();
    let (mut sent, mut last) = (0, None);
    while sent < API_BUDGET {
        sent += 1;
        let Ok(answer) = api::call(scan, &Method::GET, &path, token.as_deref(), None, note).await
        else {
            return API.skip(format!("{} stopped answering", scan.api_url(&path)));
        };
        if refused(&answer) {
            return judge(API, sent, started.elapsed(), Some(answer), None);
        }
        last = Some(answer);
    }
    judge(API, sent, started.elapsed(), None, last)
}

async fn token_burst(scan: &Scan) -> CheckResult {
    let url = scan.endpoint("token_endpoint", "/token");
    let started = Instant::now();
    let (mut sent, mut last) = (0, None);
    while sent < TOKEN_BUDGET {
        sent += 1;
        let fields = [
            ("grant_type", "authorization_code"),
            ("code", "ac_guessed-by-the-scan"),
            ("redirect_uri", "https://app.invalid/cb"),
            (
                "code_verifier",
                "a-verifier-of-the-scan-that-is-long-enough-0123456789",
            ),
        ];
        let answer = match &scan.options.client {
            Some(client) => scan.post_as_client(client, &url, &fields, "burst").await,
            None => scan.post_form(&scan.plain, &url, &fields, "burst").await,
        };
        let Ok(answer) = answer else {
            return TOKEN.skip(format!("{url} stopped answering"));
        };
        if refused(&answer) {
            return judge(TOKEN, sent, started.elapsed(), Some(answer), None);
        }
        last = Some(answer);
    }
    judge(TOKEN, sent, started.elapsed(), None, last)
}

async fn sign_in_burst(scan: &Scan) -> CheckResult {
    let login = scan.issuer_url("/login");
    let started = Instant::now();
    let (mut sent, mut last) = (0, None);
    while sent < SIGN_IN_BUDGET {
        let browser = scan.browser();
        let Ok(page) = scan.get(&browser, &login, "sign-in page").await else {
            return SIGN_IN.skip("the sign-in page stopped answering");
        };
        if refused(&page) {
            return judge(SIGN_IN, sent, started.elapsed(), Some(page), None);
        }
        let Some(csrf) = hidden_field(&page.body, "csrf_token") else {
            return SIGN_IN.skip("the sign-in page has no csrf_token field");
        };
        sent += 1;
        // A new username each time: a lockout of one username is not a rate limit.
        let username = random_name("scan-burst-");
        let Ok(answer) = scan
            .post_form(
                &browser,
                &login,
                &[
                    ("csrf_token", &csrf),
                    ("username", &username),
                    ("password", "Spring2026!"),
                    ("return_to", "/account"),
                ],
                "burst",
            )
            .await
        else {
            return SIGN_IN.skip("the sign-in stopped answering");
        };
        if refused(&answer) {
            return judge(SIGN_IN, sent, started.elapsed(), Some(answer), None);
        }
        last = Some(answer);
    }
    judge(SIGN_IN, sent, started.elapsed(), None, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        assert!(retry_after_valid("30"));
        assert!(retry_after_valid(" 0 "));
        assert!(retry_after_valid("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert!(!retry_after_valid(""));
        assert!(!retry_after_valid("-1"));
        assert!(!retry_after_valid("30s"));
        assert!(!retry_after_valid("soon"));
    }
}
