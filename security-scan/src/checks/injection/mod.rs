//! Input that changes what the server does: SQL in every parameter and body field of the
//! OpenAPI document ([`sql`]: error signatures, and time), markup in every page and error
//! page of the authorization server and in what it stores ([`xss`]), `../` in path
//! parameters and static routes ([`traversal`]), and CR/LF in every value that reaches a
//! header ([`crlf`]).

mod crlf;
mod sql;
mod traversal;
mod xss;

use crate::api::Workbench;
use crate::flows;
use crate::report::CheckResult;
use crate::scan::Scan;

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    // The owner's token, for the operations that need one.
    let bench = match flows::user_tokens(scan, &scan.all_scopes()).await {
        Ok((_, tokens)) if scan.openapi.is_some() => {
            Some(Workbench::new(scan, tokens.access_token))
        }
        _ => None,
    };
    let mut results = sql::run(bench.as_ref()).await;
    results.push(xss::reflected::run(scan).await);
    results.push(xss::stored::run(scan, bench.as_ref()).await);
    results.push(traversal::run(scan, bench.as_ref()).await);
    results.push(crlf::run(scan, bench.as_ref()).await);
    if let Some(bench) = &bench {
        bench.clean_up().await;
    }
    results
}
