//! The real auth-server and resource-api make no finding, and skip nothing but what plain
//! http cannot show: every check group with the rate limits raised out of the way, then
//! the rate_limits group alone against the default limits (as `.ci/security-scan.sh`
//! scans them).

use security_scan::report::{Format, Outcome};

use crate::described;
use crate::real::{self, Limits};

/// Checks that can only run over https; the servers are reached over plain http here.
const SKIPPED_OVER_HTTP: &[&str] = &["headers.hsts"];

/// Scans servers started with `limits`; asserts no finding and no skip, and that every
/// group the scan ran has results. Returns how many checks ran.
async fn scan_finds_nothing(limits: Limits) -> usize {
    let stack = real::start(limits).await;
    let groups = stack.options.groups.clone();
    let report = security_scan::run(stack.options.clone())
        .await
        .expect("the real servers can be scanned");
    let backend = stack.database.backend();
    println!(
        "on {backend}, {limits:?} rate limits:\n{}",
        report.render(Format::Text)
    );

    let findings: Vec<String> = report.findings().map(described).collect();
    assert!(
        findings.is_empty(),
        "the real servers (on {backend}, {limits:?} rate limits) have findings:\n{}",
        findings.join("\n")
    );
    let skipped: Vec<String> = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped { .. }))
        .filter(|r| !SKIPPED_OVER_HTTP.contains(&r.id.as_str()))
        .map(described)
        .collect();
    assert!(
        skipped.is_empty(),
        "checks that did not run against the real servers:\n{}",
        skipped.join("\n")
    );
    for group in &groups {
        assert!(
            report.results.iter().any(|r| r.group == *group),
            "no result for the group {group}"
        );
    }
    assert!(
        report.results.iter().all(|r| groups.contains(&r.group)),
        "only the groups asked for ran"
    );
    report.results.len()
}

#[actix_web::test]
async fn real_servers_make_no_findings() {
    let ran = scan_finds_nothing(Limits::Raised).await;
    assert!(ran > 40, "the scan ran its checks: {ran}");
}

#[actix_web::test]
async fn real_servers_meet_their_rate_limits() {
    let ran = scan_finds_nothing(Limits::Default).await;
    assert_eq!(ran, 3, "the three rate_limits checks ran");
}
