//! CORS (the Fetch standard): no origin is trusted that was not listed — not an arbitrary
//! one, not `null` — credentials are never allowed with a wildcard, and a preflight for a
//! method the endpoint does not take is not approved.

use reqwest::Method;

use super::Check;
use crate::probe;
use crate::report::{CheckResult, Severity};
use crate::scan::Scan;

const ORIGINS: Check = Check {
    id: "cors.origins",
    title: "Neither an arbitrary nor the `null` origin is allowed to read answers",
    severity: Severity::High,
    remediation: "Answer CORS only for an allowlist of exact origins; never echo the request's Origin, never allow `null`, and never send CORS headers on the pages or /authorize.",
};
const CREDENTIALS: Check = Check {
    id: "cors.credentials",
    title: "Credentials are never allowed together with a wildcard or an echoed origin",
    severity: Severity::High,
    remediation: "Never combine `Access-Control-Allow-Credentials: true` with `*` or with an origin that is not on the allowlist.",
};
const PREFLIGHT: Check = Check {
    id: "cors.preflight",
    title: "A preflight from another origin, or for another method, is not approved",
    severity: Severity::Medium,
    remediation: "Approve preflights only for listed origins, the endpoint's own methods and the headers it needs.",
};

const EVIL_ORIGIN: &str = "https://evil.example";

fn targets(scan: &Scan) -> Vec<String> {
    vec![
        scan.endpoint("token_endpoint", "/token"),
        scan.issuer_url("/.well-known/oauth-authorization-server"),
        scan.issuer_url("/login"),
        scan.endpoint("authorization_endpoint", "/authorize"),
        scan.api_url("/api/tasks"),
    ]
}

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    let mut origin_failures = Vec::new();
    let mut credential_failures = Vec::new();
    for url in targets(scan) {
        for origin in [EVIL_ORIGIN, "null"] {
            let request = scan.plain.get(&url).header("origin", origin);
            let Ok(answer) = probe::send(
                &scan.redactor,
                &Method::GET,
                &url,
                &format!("Origin: {origin}"),
                request,
            )
            .await
            else {
                continue;
            };
            let allowed = answer
                .header("access-control-allow-origin")
                .unwrap_or_default()
                .to_owned();
            if allowed == origin
                || (allowed == "*"
                    && answer.header("access-control-allow-credentials") == Some("true"))
            {
                origin_failures.push((
                    format!(
                        "{url} lets `{origin}` read it (Access-Control-Allow-Origin: {allowed})"
                    ),
                    answer.evidence.clone(),
                ));
            }
            if answer.header("access-control-allow-credentials") == Some("true")
                && (allowed == "*" || allowed == origin)
            {
                credential_failures.push((
                    format!("{url} allows credentials for `{allowed}`"),
                    answer.evidence,
                ));
            }
        }
    }
    let mut preflight_failures = Vec::new();
    for url in targets(scan) {
        for (origin, method) in [
            (EVIL_ORIGIN, "POST"),
            (EVIL_ORIGIN, "DELETE"),
            ("null", "GET"),
        ] {
            let request = scan
                .plain
                .request(Method::OPTIONS, &url)
                .header("origin", origin)
                .header("access-control-request-method", method)
                .header("access-control-request-headers", "authorization");
            let Ok(answer) = probe::send(
                &scan.redactor,
                &Method::OPTIONS,
                &url,
                &format!("preflight {method} from {origin}"),
                request,
            )
            .await
            else {
                continue;
            };
            let allowed = answer
                .header("access-control-allow-origin")
                .unwrap_or_default();
            if allowed == origin || allowed == "*" {
                preflight_failures.push((
                    format!("{url} approves {method} from `{origin}`"),
                    answer.evidence.clone(),
                ));
            }
        }
    }
    vec![
        ORIGINS.judge(origin_failures),
        CREDENTIALS.judge(credential_failures),
        PREFLIGHT.judge(preflight_failures),
    ]
}
