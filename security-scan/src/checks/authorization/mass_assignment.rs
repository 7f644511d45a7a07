//! Mass assignment (OWASP API3:2023, "broken object property level authorization"): every
//! property the OpenAPI schemas mark `readOnly` (JSON Schema validation §9.4) — the
//! request body's and the answers' of the same resource — and the usual ownership fields,
//! each sent with a value of the scan's in an otherwise valid create or update. A refusal
//! (4xx) or a field silently ignored passes; a value that comes back, in the answer or when
//! the owner reads the resource again, sticks: a finding.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{self, Resource, Workbench};
use crate::checks::Check;
use crate::flows;
use crate::openapi::{self, Operation, find_field};
use crate::probe::Answer;
use crate::report::{CheckResult, Evidence, Severity};

pub const MASS_ASSIGNMENT: Check = Check {
    id: "authorization.mass_assignment",
    title: "Read-only and ownership fields sent on create or update do not stick",
    severity: Severity::High,
    remediation: "Read request bodies into a type that has only the writable fields and refuse (400) every other one — ids, timestamps, the owner — instead of copying the body into the stored record.",
};

/// Fields that say who owns a record, tried when the request schema does not make them
/// writable.
const OWNERSHIP_FIELDS: [&str; 5] = ["user_id", "owner_id", "owner", "userId", "ownerId"];

/// Whether an instant-looking string names the same UTC second as another
/// (`2001-02-03T04:05:06Z` and `2001-02-03 04:05:06.000+00:00` do).
fn utc_second(text: &str) -> Option<String> {
    let head = text.get(..19)?;
    let rest = text.get(19..)?;
    let shape_ok = head.char_indices().all(|(i, c)| match i {
        4 | 7 => c == '-',
        10 => matches!(c, 'T' | 't' | ' '),
        13 | 16 => c == ':',
        _ => c.is_ascii_digit(),
    });
    let rest = rest
        .strip_prefix('.')
        .map_or(rest, |r| r.trim_start_matches(|c: char| c.is_ascii_digit()));
    let utc = matches!(rest, "" | "Z" | "z" | "+00:00" | "+0000");
    (shape_ok && utc).then(|| head.replace([' ', 't'], "T"))
}

/// Whether what came back is what was sent.
pub fn same_value(sent: &Value, got: Option<&Value>) -> bool {
    let Some(got) = got else {
        return false;
    };
    match (sent, got) {
        (Value::String(a), Value::String(b)) => {
            a == b || utc_second(a).is_some_and(|a| utc_second(b) == Some(a))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => sent == got,
    }
}

/// A value of the scan's for a read-only property, recognisable when it comes back.
fn forced_value(schema: &Value) -> Value {
    match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => return json!("2001-02-03T04:05:06Z"),
        Some("date") => return json!("2001-02-03"),
        Some("uuid") => return json!("5ca1ab1e-0000-4000-8000-00000000beef"),
        _ => {}
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer" | "number") => json!(424_242),
        Some("boolean") => json!(true),
        _ => json!(crate::accounts::random_name("scan-forced-")),
    }
}

/// The read-only properties of the resource `operation` writes, from every schema of it.
fn read_only_fields(bench: &Workbench<'_>, operation: &Operation) -> Vec<(String, Value)> {
    let item = item_of(bench, operation);
    let mut schemas: Vec<&Value> = operation
        .body
        .iter()
        .chain(operation.success.iter())
        .collect();
    if let Some(reader) = item.and_then(|item| bench.reader(item)) {
        schemas.extend(reader.success.iter());
    }
    let mut fields: Vec<(String, Value)> = schemas
        .into_iter()
        .flat_map(openapi::read_only_properties)
        .collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields.dedup_by(|a, b| a.0 == b.0);
    fields
}

/// The operation on one resource of what `operation` writes (itself, for an update).
fn item_of<'b>(bench: &'b Workbench<'_>, operation: &'b Operation) -> Option<&'b Operation> {
    if operation.takes_resource_id() {
        return Some(operation);
    }
    bench
        .operations
        .iter()
        .find(|o| o.collection_path() == Some(operation.path.as_str()))
}

pub async fn run(bench: &Workbench<'_>) -> CheckResult {
    let scan = bench.scan;
    let writers: Vec<Operation> = bench
        .operations
        .iter()
        .filter(|o| {
            !o.public
                && o.body.is_some()
                && matches!(o.method, Method::POST | Method::PUT | Method::PATCH)
        })
        .cloned()
        .collect();
    if writers.is_empty() {
        return MASS_ASSIGNMENT.skip("the OpenAPI document has no create or update operation");
    }
    // The second person's id, as the owner to smuggle in.
    let second = match (
        &scan.options.client,
        crate::accounts::second_person(scan).await,
    ) {
        (Some(client), Ok(account)) => {
            flows::tokens_for(scan, client, &account, &scan.all_scopes())
                .await
                .ok()
                .map(|(_, tokens)| tokens.access_token)
        }
        _ => None,
    };
    let second_sub = second
        .as_deref()
        .and_then(flows::token_claims)
        .and_then(|claims| claims["sub"].as_str().map(str::to_owned));
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    for operation in &writers {
        let schema = operation.body.clone().unwrap_or(Value::Null);
        let writable: Vec<String> = openapi::properties(&schema)
            .into_iter()
            .filter(|(_, p)| !openapi::is_read_only(p))
            .map(|(name, _)| name)
            .collect();
        let mut fields: Vec<(String, Value)> = read_only_fields(bench, operation)
            .into_iter()
            .map(|(name, property)| {
                let value = forced_value(&property);
                (name, value)
            })
            .collect();
        for name in OWNERSHIP_FIELDS {
            if !writable.iter().any(|w| w == name) {
                let owner = second_sub
                    .clone()
                    .unwrap_or_else(|| crate::accounts::random_name("scan-owner-"));
                fields.push((name.to_owned(), json!(owner)));
            }
        }
        for (field, value) in fields {
            if let Some(failure) =
                assign(bench, operation, &schema, &field, &value, second.as_deref()).await
            {
                failures.push(failure);
            }
        }
    }
    MASS_ASSIGNMENT.judge(failures)
}

/// Sends `field: value` with an otherwise valid body; a finding if it sticks.
async fn assign(
    bench: &Workbench<'_>,
    operation: &Operation,
    schema: &Value,
    field: &str,
    value: &Value,
    second: Option<&str>,
) -> Option<(String, Evidence)> {
    let target: Option<Resource> = if operation.takes_resource_id() {
        Some(bench.make(operation, None).await.ok()?)
    } else {
        None
    };
    let mut body = openapi::example(schema);
    body.as_object_mut()?
        .insert(field.to_owned(), value.clone());
    let path = target
        .as_ref()
        .map_or_else(|| operation.path.clone(), |r| r.path.clone());
    let answer: Answer = api::call(
        bench.scan,
        &operation.method,
        &path,
        Some(&bench.owner),
        Some(&body),
        &format!("with the read-only or ownership field `{field}`"),
    )
    .await
    .ok()?;
    if !answer.status.is_success() {
        return None;
    }
    let item = item_of(bench, operation)?;
    let id = if target.is_none() {
        api::created_id(&answer)?
    } else {
        answer
            .json()
            .as_ref()
            .and_then(|b| find_field(b, "id"))
            .map_or_else(
                || target.as_ref().map(|t| t.id.clone()),
                |v| Some(api::plain_text(v)),
            )?
    };
    let resource = Resource {
        path: item.path_with(&id),
        id: id.clone(),
    };
    bench.adopt(resource.clone());
    let answered = answer.json();
    let reread = bench.read(item, &resource).await;
    let shown = answered
        .as_ref()
        .and_then(|b| find_field(b, field))
        .or_else(|| reread.as_ref().and_then(|b| find_field(b, field)));
    let stuck = same_value(value, shown)
        || (field == "id" && same_value(value, Some(&json!(id))))
        || (reread.is_none()
            && bench.reader(item).is_some()
            && taken_over(bench, &resource, second).await);
    stuck.then(|| {
        (
            format!(
                "{} kept `{field}: {value}` sent by the client",
                operation.describe()
            ),
            answer.evidence,
        )
    })
}

/// Whether the second person can now read the resource the owner no longer can.
async fn taken_over(bench: &Workbench<'_>, resource: &Resource, second: Option<&str>) -> bool {
    let Some(token) = second else {
        return false;
    };
    api::call(
        bench.scan,
        &Method::GET,
        &resource.path,
        Some(token),
        None,
        "does the second person own it now",
    )
    .await
    .is_ok_and(|a| a.status.is_success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_sticks_when_it_comes_back_the_same() {
        let sent = json!("2001-02-03T04:05:06Z");
        assert!(same_value(&sent, Some(&json!("2001-02-03T04:05:06.000Z"))));
        assert!(same_value(&sent, Some(&json!("2001-02-03 04:05:06+00:00"))));
        assert!(!same_value(&sent, Some(&json!("2026-11-28T05:30:00.123Z"))));
        assert!(!same_value(
            &sent,
            Some(&json!("2001-02-03T04:05:06+02:00"))
        ));
        assert!(!same_value(&sent, None));
        assert!(same_value(&json!(424_242), Some(&json!(424_242.0))));
        assert!(same_value(
            &json!("scan-forced-x"),
            Some(&json!("scan-forced-x"))
        ));
        assert!(!same_value(
            &json!("scan-forced-x"),
            Some(&json!("0190-uuid"))
        ));
    }

    #[test]
    fn forced_values_follow_the_schema() {
        assert_eq!(
            forced_value(&json!({"type": "string", "format": "date-time"})),
            json!("2001-02-03T04:05:06Z")
        );
        assert_eq!(forced_value(&json!({"type": "integer"})), json!(424_242));
        assert!(
            forced_value(&json!({"type": "string"}))
                .as_str()
                .unwrap()
                .starts_with("scan-forced-")
        );
    }
}
