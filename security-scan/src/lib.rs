//! `security-scan`: attacks an OAuth 2.0 authorization server and its resource server the
//! way an attacker would, and reports what it finds. It learns the endpoints from the
//! server's metadata (RFC 8414) and the API's operations, parameters, schemas and scopes
//! from its OpenAPI document, runs the check groups ([`checks::GROUPS`], or those
//! [`checks::select`] picks), and writes a [`report::Report`] with a severity, the evidence
//! and the fix for each finding.
//!
//! - [`scan`]: the target, discovery and the HTTP clients.
//! - [`probe`]: one request (through the client, or raw), its evidence, and the redaction
//!   of secrets.
//! - [`openapi`]: the task API's operations as the OpenAPI document describes them, and
//!   valid values for its schemas.
//! - [`api`]: calling those operations, and the resources the scan makes (and deletes).
//! - [`flows`]: the legitimate parties (a person signing in, an app's code flow).
//! - [`accounts`]: accounts the scan signs up for itself (a second person, throwaways).
//! - [`checks`]: the attacks, by group.
//! - [`report`]: results, score and the text, JSON, Markdown and SARIF formats.
//!
//! The scan changes the target as a user would: it signs up accounts when the sign-up
//! page is open (unless `--second-username` is given), creates and deletes resources of
//! its accounts, locks a throwaway account, and — in the `rate_limits` group — sends
//! bursts until the limits answer 429.

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

/// Discovers the target and runs the check groups of `options.groups`.
pub async fn run(options: Options) -> Result<Report, String> {
    let scan = Scan::discover(options).await?;
    let results = checks::run_all(&scan).await;
    Ok(Report {
        issuer: scan.options.issuer.to_string(),
        api: scan.options.api.to_string(),
        results,
    })
}
