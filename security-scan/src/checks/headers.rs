//! Headers on every response (nosniff, HSTS on https; on pages a framing ban, no caching
//! and no referrer), and error bodies that give away stack traces, SQL or file paths.

use super::Check;
use crate::probe::Answer;
use crate::report::{CheckResult, Severity};
use crate::scan::Scan;

const NOSNIFF: Check = Check {
    id: "headers.nosniff",
    title: "Every response carries X-Content-Type-Options: nosniff",
    severity: Severity::Low,
    remediation: "Add `X-Content-Type-Options: nosniff` to every response, errors included, in one middleware.",
};
const HSTS: Check = Check {
    id: "headers.hsts",
    title: "Every https response carries Strict-Transport-Security",
    severity: Severity::Medium,
    remediation: "Send `Strict-Transport-Security: max-age=63072000; includeSubDomains` on every response served over https.",
};
const PAGES: Check = Check {
    id: "headers.pages",
    title: "Sign-in, sign-up and error pages cannot be framed, cached or leak the referrer",
    severity: Severity::Medium,
    remediation: "Serve pages with `Content-Security-Policy: … frame-ancestors 'none'`, `X-Frame-Options: DENY`, `Cache-Control: no-store` and `Referrer-Policy: no-referrer` (RFC 9700 §4.16).",
};
const ERROR_LEAKS: Check = Check {
    id: "headers.error_leaks",
    title: "Bad requests get a 4xx that tells nothing of the server's insides",
    severity: Severity::Medium,
    remediation: "Answer malformed input with a 4xx and a plain message; keep stack traces, SQL and file paths in the server's log, never in a response.",
};

/// What must never appear in an answer to a stranger.
const LEAK_SIGNATURES: [&str; 14] = [
    "panicked at",
    "stack backtrace",
    "RUST_BACKTRACE",
    "Traceback (most recent call last)",
    "SQLITE_",
    "sqlite3",
    "syntax error at or near",
    "diesel::",
    "PG::",
    "ERROR:  ",
    "/home/",
    "/usr/src/",
    ".rs:",
    "at java.",
];

/// A sample of what the servers answer: the documents, the pages, an error of each kind.
async fn sample(scan: &Scan) -> Vec<Answer> {
    let mut urls = vec![
        scan.issuer_url("/.well-known/oauth-authorization-server"),
        scan.endpoint("jwks_uri", "/jwks.json"),
        scan.issuer_url("/login"),
        scan.issuer_url("/register"),
        scan.endpoint("authorization_endpoint", "/authorize"),
        scan.issuer_url("/no-such-page"),
        scan.api_url("/api/health"),
        scan.api_url("/api/tasks"),
        scan.api_url("/no-such-path"),
    ];
    urls.dedup();
    let mut answers = Vec::new();
    for url in urls {
        if let Ok(answer) = scan.get(&scan.plain, &url, "headers").await {
            answers.push(answer);
        }
    }
    if let Ok(answer) = scan
        .post_form(
            &scan.plain,
            &scan.endpoint("token_endpoint", "/token"),
            &[("grant_type", "x")],
            "headers",
        )
        .await
    {
        answers.push(answer);
    }
    answers
}

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    let answers = sample(scan).await;
    let mut results = Vec::new();
    results.push(
        NOSNIFF.judge(
            answers
                .iter()
                .filter(|a| a.header("x-content-type-options") != Some("nosniff"))
                .map(|a| {
                    (
                        format!("{} has no nosniff", a.evidence.request),
                        a.evidence.clone(),
                    )
                })
                .collect(),
        ),
    );
    let https = scan.options.issuer.scheme() == "https" || scan.options.api.scheme() == "https";
    results.push(if https {
        HSTS.judge(
            answers
                .iter()
                .filter(|a| {
                    !a.header("strict-transport-security")
                        .is_some_and(|v| v.contains("max-age="))
                })
                .map(|a| {
                    (
                        format!("{} has no HSTS", a.evidence.request),
                        a.evidence.clone(),
                    )
                })
                .collect(),
        )
    } else {
        HSTS.skip("the target is served over plain http")
    });
    results.push(pages(&answers));
    results.push(error_leaks(scan, &answers).await);
    results
}

fn pages(answers: &[Answer]) -> CheckResult {
    let mut failures = Vec::new();
    for answer in answers.iter().filter(|a| {
        a.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    }) {
        let csp = answer.header("content-security-policy").unwrap_or_default();
        let mut missing = Vec::new();
        if !csp.contains("frame-ancestors 'none'")
            && answer.header("x-frame-options") != Some("DENY")
        {
            missing.push("a framing ban");
        }
        if !answer
            .header("cache-control")
            .is_some_and(|c| c.contains("no-store"))
        {
            missing.push("Cache-Control: no-store");
        }
        if answer.header("referrer-policy").is_none() {
            missing.push("Referrer-Policy");
        }
        if !missing.is_empty() {
            failures.push((
                format!("{} lacks {}", answer.evidence.request, missing.join(", ")),
                answer.evidence.clone(),
            ));
        }
    }
    PAGES.judge(failures)
}

async fn error_leaks(scan: &Scan, sampled: &[Answer]) -> CheckResult {
    let mut answers: Vec<Answer> = sampled.to_vec();
    let junk = [
        scan.endpoint("authorization_endpoint", "/authorize")
            + "?client_id=%FF%FE&redirect_uri=%00",
        scan.api_url("/api/tasks/'%22%3E%3C"),
        scan.api_url("/api/tasks?page=-1&limit=99999999999999999999"),
        scan.issuer_url("/login?return_to=%FF"),
    ];
    for url in junk {
        if let Ok(answer) = scan.get(&scan.plain, &url, "malformed input").await {
            answers.push(answer);
        }
    }
    let json_junk = scan
        .plain
        .post(scan.api_url("/api/tasks"))
        .header("content-type", "application/json")
        .body("{\"title\": [}");
    if let Ok(answer) = crate::probe::send(
        &scan.redactor,
        &reqwest::Method::POST,
        &scan.api_url("/api/tasks"),
        "malformed JSON",
        json_junk,
    )
    .await
    {
        answers.push(answer);
    }
    let mut failures = Vec::new();
    for answer in &answers {
        if answer.status.is_server_error() && answer.status != 503 {
            failures.push((
                format!("{} answered {}", answer.evidence.request, answer.status),
                answer.evidence.clone(),
            ));
        } else if let Some(signature) = LEAK_SIGNATURES.iter().find(|s| answer.body.contains(**s)) {
            failures.push((
                format!("{} shows `{signature}`", answer.evidence.request),
                answer.evidence.clone(),
            ));
        }
    }
    ERROR_LEAKS.judge(failures)
}
