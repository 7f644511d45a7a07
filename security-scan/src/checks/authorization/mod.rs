//! Who may do what in the task API (OWASP API Security Top 10 2023, API1, API3, API5),
//! every operation taken from its OpenAPI document: another person's resource through each
//! operation that takes a resource id ([`idor`]), a token without the scope the operation's
//! security requirement names (RFC 6750 §3.1), a client-credentials token — which acts for
//! no person (RFC 6749 §4.4) — on a person's resources, and read-only or ownership fields
//! sent on create and update ([`mass_assignment`]).

mod idor;
mod mass_assignment;

use reqwest::Method;
use serde_json::Value;

use super::Check;
use crate::api::{self, Workbench};
use crate::flows;
use crate::openapi::Operation;
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const MISSING_SCOPE: Check = Check {
    id: "authorization.missing_scope",
    title: "A token without the scope an operation requires is refused",
    severity: Severity::High,
    remediation: "Check on every operation that the token carries the scope its security requirement names, and answer 403 `insufficient_scope` otherwise (RFC 6750 §3.1).",
};
const CLIENT_CREDENTIALS: Check = Check {
    id: "authorization.client_credentials",
    title: "A client-credentials token, which acts for no person, cannot reach a person's resources",
    severity: Severity::High,
    remediation: "A token whose subject is the client itself (RFC 6749 §4.4) acts for nobody: refuse it (403) on every per-person operation instead of reading the resources of whatever id it names.",
};

const NEEDS: &str = "needs --client-id, --client-secret, --redirect-uri, --username and --password, and the API's OpenAPI document";

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    let all = [
        idor::IDOR,
        MISSING_SCOPE,
        CLIENT_CREDENTIALS,
        mass_assignment::MASS_ASSIGNMENT,
    ];
    if scan.operations().is_empty() {
        return all.iter().map(|c| c.skip(NEEDS)).collect();
    }
    let owner = match flows::user_tokens(scan, &scan.all_scopes()).await {
        Ok((_, tokens)) => tokens,
        Err(why) => return all.iter().map(|c| c.skip(why.clone())).collect(),
    };
    let bench = Workbench::new(scan, owner.access_token);
    let results = vec![
        idor::run(&bench).await,
        missing_scope(&bench).await,
        client_credentials(&bench).await,
        mass_assignment::run(&bench).await,
    ];
    bench.clean_up().await;
    results
}

/// Calls `operation` with `bearer` on `target` (a resource id, for an operation that
/// takes one), with a valid body.
async fn attempt(
    bench: &Workbench<'_>,
    operation: &Operation,
    target: Option<&api::Resource>,
    bearer: &str,
    note: &str,
) -> Option<crate::probe::Answer> {
    let path = match target {
        Some(resource) => operation.path_with(&resource.id),
        None => operation.path.clone(),
    };
    let query = api::required_query(operation);
    let pairs: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = Workbench::body(operation);
    api::call(
        bench.scan,
        &operation.method,
        &api::with_query(&path, &pairs),
        Some(bearer),
        body.as_ref(),
        note,
    )
    .await
    .ok()
}

/// Operations that need credentials, reads first and deletions last (so a deletion that
/// should have been refused does not hide what comes after it).
fn protected(bench: &Workbench<'_>) -> Vec<Operation> {
    let mut operations: Vec<Operation> = bench
        .operations
        .iter()
        .filter(|o| !o.public)
        .cloned()
        .collect();
    operations.sort_by_key(|o| match o.method {
        Method::GET => 0,
        Method::DELETE => 2,
        _ => 1,
    });
    operations
}

/// The resource an operation acts on: a fresh one of the owner, for one that takes an id.
async fn target_for(
    bench: &Workbench<'_>,
    operation: &Operation,
) -> Result<Option<api::Resource>, String> {
    if operation.takes_resource_id() {
        bench.make(operation, None).await.map(Some)
    } else {
        Ok(None)
    }
}

async fn missing_scope(bench: &Workbench<'_>) -> CheckResult {
    let scan = bench.scan;
    let Some(client) = &scan.options.client else {
        return MISSING_SCOPE.skip(NEEDS);
    };
    let Some(account) = &scan.options.account else {
        return MISSING_SCOPE.skip(NEEDS);
    };
    let all: Vec<String> = scan
        .all_scopes()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let scoped: Vec<Operation> = protected(bench)
        .into_iter()
        .filter(|o| !o.scopes.is_empty())
        .collect();
    if scoped.is_empty() {
        return MISSING_SCOPE
            .skip("the OpenAPI document names no scope in any operation's security requirement");
    }
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    let mut tokens: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut tested = 0;
    for operation in &scoped {
        let without: Vec<&str> = all
            .iter()
            .filter(|s| !operation.scopes.contains(s))
            .map(String::as_str)
            .collect();
        if without.is_empty() {
            continue;
        }
        let scope = without.join(" ");
        let token = match tokens.get(&scope) {
            Some(token) => token.clone(),
            None => match flows::tokens_for(scan, client, account, &scope).await {
                Ok((_, issued)) => {
                    tokens.insert(scope.clone(), issued.access_token.clone());
                    issued.access_token
                }
                Err(why) => return MISSING_SCOPE.skip(format!("a token for `{scope}`: {why}")),
            },
        };
        let target = match target_for(bench, operation).await {
            Ok(target) => target,
            Err(why) => return MISSING_SCOPE.skip(why),
        };
        tested += 1;
        let note = format!("a token for `{scope}` only");
        if let Some(answer) = attempt(bench, operation, target.as_ref(), &token, &note).await
            && answer.status.is_success()
        {
            failures.push((
                format!(
                    "{} (needs {}) answered {} to a token for `{scope}`",
                    operation.describe(),
                    operation.scopes.join(" "),
                    answer.status
                ),
                answer.evidence,
            ));
        }
    }
    if tested == 0 {
        return MISSING_SCOPE
            .skip("every operation needs every scope: no token can lack one and still be issued");
    }
    MISSING_SCOPE.judge(failures)
}

/// A client-credentials token: of the confidential client if it may use the grant, else
/// of `--service-client-id`.
async fn client_credentials_token(scan: &Scan) -> Result<String, String> {
    let token_url = scan.endpoint("token_endpoint", "/token");
    let scope = scan.all_scopes();
    let mut candidates = Vec::new();
    if let Some(client) = &scan.options.client {
        candidates.push((client.id.clone(), client.secret.clone()));
    }
    if let Some(service) = &scan.options.service_client {
        candidates.push((service.id.clone(), service.secret.clone()));
    }
    let mut refusals = Vec::new();
    for (id, secret) in candidates {
        for fields in [
            vec![
                ("grant_type", "client_credentials"),
                ("scope", scope.as_str()),
            ],
            vec![("grant_type", "client_credentials")],
        ] {
            let answer = scan
                .post_with_basic(&id, &secret, &token_url, &fields, "client credentials")
                .await
                .map_err(|e| e.to_string())?;
            if let Ok(tokens) = flows::tokens_of(scan, &answer) {
                return Ok(tokens.access_token);
            }
            refusals.push(format!("{id}: {}", answer.status));
        }
    }
    Err(format!(
        "no client may use the client-credentials grant (give --service-client-id and --service-client-secret): {}",
        refusals.join(", ")
    ))
}

/// Whether `value` holds the string `wanted` anywhere, or has it as the number of an `id`
/// (`created_id` writes `"id": 12` as `12`; a count or a page number is not an id).
fn mentions(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        Value::Array(items) => items.iter().any(|v| mentions(v, wanted)),
        Value::Object(map) => map.iter().any(|(key, v)| match v {
            Value::Number(n) => key == "id" && n.to_string() == wanted,
            _ => mentions(v, wanted),
        }),
        _ => false,
    }
}

async fn client_credentials(bench: &Workbench<'_>) -> CheckResult {
    let token = match client_credentials_token(bench.scan).await {
        Ok(token) => token,
        Err(why) => return CLIENT_CREDENTIALS.skip(why),
    };
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    for operation in protected(bench) {
        let note = "a client-credentials token";
        if operation.takes_resource_id() {
            let target = match target_for(bench, &operation).await {
                Ok(target) => target,
                Err(why) => return CLIENT_CREDENTIALS.skip(why),
            };
            if let Some(answer) = attempt(bench, &operation, target.as_ref(), &token, note).await
                && answer.status.is_success()
            {
                failures.push((
                    format!(
                        "{} answered {} on a person's resource",
                        operation.describe(),
                        answer.status
                    ),
                    answer.evidence,
                ));
            }
        } else if operation.method == Method::GET {
            // A listing may serve such a token nothing; it must not serve it a person's.
            let Some(item) = bench
                .operations
                .iter()
                .find(|o| o.collection_path() == Some(operation.path.as_str()))
            else {
                continue;
            };
            let Ok(resource) = bench.make(item, None).await else {
                continue;
            };
            if let Some(answer) = attempt(bench, &operation, None, &token, note).await
                && answer.status.is_success()
                && answer.json().is_some_and(|b| mentions(&b, &resource.id))
            {
                failures.push((
                    format!("{} listed a person's resource", operation.describe()),
                    answer.evidence,
                ));
            }
        }
    }
    CLIENT_CREDENTIALS.judge(failures)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::mentions;

    #[test]
    fn a_listing_mentions_an_id_only_as_a_whole_value() {
        let listing = json!({"tasks": [{"id": "t-1", "title": "x"}], "total": 1});
        assert!(mentions(&listing, "t-1"));
        assert!(!mentions(&listing, "t-"));
        assert!(!mentions(&json!({"tasks": []}), "t-1"));
        assert!(mentions(&json!({"tasks": [{"id": 12}]}), "12"));
        assert!(!mentions(&json!({"tasks": [{"id": 123}]}), "12"));
        assert!(!mentions(&json!({"tasks": [], "total": 12}), "12"));
    }
}
