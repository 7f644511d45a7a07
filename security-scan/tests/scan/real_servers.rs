//! The real auth-server and resource-api make no finding, and skip nothing but what plain
//! http cannot show.

use security_scan::report::{Format, Outcome};

use crate::{described, real};

/// Checks that can only run over https; the servers are reached over plain http here.
const SKIPPED_OVER_HTTP: &[&str] = &["headers.hsts"];

#[actix_web::test]
async fn real_servers_make_no_findings() {
    let stack = real::start().await;
    let report = security_scan::run(stack.options.clone())
        .await
        .expect("the real servers can be scanned");
    println!(
        "on {}:\n{}",
        stack.database.backend(),
        report.render(Format::Text)
    );

    let findings: Vec<String> = report.findings().map(described).collect();
    assert!(
        findings.is_empty(),
        "the real servers (on {}) have findings:\n{}",
        stack.database.backend(),
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
    assert!(
        report.results.len() > 20,
        "the scan ran its checks: {}",
        report.results.len()
    );
}
