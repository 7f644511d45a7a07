//! `security-scan`: attacks an OAuth 2.0 authorization server and its resource server the
//! way an attacker would, and reports what it finds. It learns the endpoints from the
//! server's metadata (RFC 8414) and the API's OpenAPI document, runs every check group
//! ([`checks`]), and writes a [`report::Report`] with a severity, the evidence and the fix
//! for each finding.
//!
//! - [`scan`]: the target, discovery and the HTTP clients.
//! - [`probe`]: one request, its evidence, and the redaction of secrets.
//! - [`flows`]: the legitimate parties (a person signing in, an app's code flow).
//! - [`checks`]: the attacks, by group.
//! - [`report`]: results, score and the text, JSON, Markdown and SARIF formats.

pub mod accounts;
pub mod api;
pub mod checks;
pub mod flows;
pub mod openapi;
pub mod probe;
pub mod report;
pub mod scan;

use report::Report;
use scan::{Options, Scan};

/// Discovers the target and runs every check.
pub async fn run(options: Options) -> Result<Report, String> {
    let scan = Scan::discover(options).await?;
    let results = checks::run_all(&scan).await;
    Ok(Report {
        issuer: scan.options.issuer.to_string(),
        api: scan.options.api.to_string(),
        results,
    })
}
