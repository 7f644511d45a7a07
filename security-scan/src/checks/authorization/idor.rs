//! Broken object-level authorization (OWASP API1:2023): for every operation of the
//! OpenAPI document that takes a resource id, the owner makes a fresh resource and a
//! second person, with a token of every scope, calls the operation on it. Any 2xx is a
//! finding, and so is a resource of the owner's that changed or vanished although the
//! call was refused. The second person's listings must not show the owner's resource.

use reqwest::Method;

use super::{mentions, protected};
use crate::api::{self, Workbench};
use crate::checks::Check;
use crate::flows;
use crate::openapi::{self, Operation};
use crate::report::{CheckResult, Evidence, Severity};

pub const IDOR: Check = Check {
    id: "authorization.idor",
    title: "Another person's resource cannot be read, changed or deleted through any operation",
    severity: Severity::Critical,
    remediation: "Look every resource up by its id and its owner together (`WHERE id = ? AND user_id = ?`) on every operation, and answer 404 for someone else's; never take the id alone as permission.",
};

/// The intruder's call: the operation on the owner's resource, with a body of their own.
async fn intrude(
    bench: &Workbench<'_>,
    operation: &Operation,
    resource: &api::Resource,
    bearer: &str,
) -> Option<crate::probe::Answer> {
    let body = operation
        .body
        .as_ref()
        .map(|schema| openapi::example_marked(schema, "scan-intruder-was-here"));
    let query = api::required_query(operation);
    let pairs: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    api::call(
        bench.scan,
        &operation.method,
        &api::with_query(&operation.path_with(&resource.id), &pairs),
        Some(bearer),
        body.as_ref(),
        "a second person, on the owner's resource",
    )
    .await
    .ok()
}

pub async fn run(bench: &Workbench<'_>) -> CheckResult {
    let scan = bench.scan;
    let Some(client) = &scan.options.client else {
        return IDOR.skip(super::NEEDS);
    };
    let second = match crate::accounts::second_person(scan).await {
        Ok(account) => account,
        Err(why) => return IDOR.skip(why),
    };
    let intruder = match flows::tokens_for(scan, client, &second, &scan.all_scopes()).await {
        Ok((_, tokens)) => tokens.access_token,
        Err(why) => return IDOR.skip(format!("the second person's token: {why}")),
    };
    let operations = protected(bench);
    let items: Vec<&Operation> = operations
        .iter()
        .filter(|o| o.takes_resource_id())
        .collect();
    if items.is_empty() {
        return IDOR.skip("the OpenAPI document has no operation that takes a resource id");
    }
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    for operation in items {
        let resource = match bench.make(operation, None).await {
            Ok(resource) => resource,
            Err(why) => return IDOR.skip(why),
        };
        let before = bench.read(operation, &resource).await;
        let Some(answer) = intrude(bench, operation, &resource, &intruder).await else {
            continue;
        };
        let after = bench.read(operation, &resource).await;
        if answer.status.is_success() {
            failures.push((
                format!(
                    "{} answered {} to another person",
                    operation.describe(),
                    answer.status
                ),
                answer.evidence,
            ));
        } else if before.is_some() && after != before {
            failures.push((
                format!(
                    "{} answered {} to another person, but the owner's resource {}",
                    operation.describe(),
                    answer.status,
                    if after.is_none() {
                        "is gone"
                    } else {
                        "changed"
                    }
                ),
                answer.evidence,
            ));
        }
    }
    // Listings: the owner's resource is not among the second person's.
    for listing in operations
        .iter()
        .filter(|o| o.method == Method::GET && !o.takes_resource_id())
    {
        let Some(item) = operations
            .iter()
            .find(|o| o.collection_path() == Some(listing.path.as_str()))
        else {
            continue;
        };
        let Ok(resource) = bench.make(item, None).await else {
            continue;
        };
        if let Some(answer) =
            super::attempt(bench, listing, None, &intruder, "a second person lists").await
            && answer.status.is_success()
            && answer.json().is_some_and(|b| mentions(&b, &resource.id))
        {
            failures.push((
                format!(
                    "{} lists the owner's resource to another person",
                    listing.describe()
                ),
                answer.evidence,
            ));
        }
    }
    IDOR.judge(failures)
}
