//! SQL injection in every input the OpenAPI document names — each query and path
//! parameter and each top-level body field, the others valid. Payloads are appended to a
//! valid value. Two judgements: a database's error text (or a 500) that the valid value
//! did not cause, and time — a payload that makes SQLite or PostgreSQL work for seconds
//! (`pg_sleep`, a recursive CTE) answered at least [`SLOWER`] later than the slowest of
//! three valid requests, and again on a second try after a fresh baseline, so a busy
//! machine's hiccup is never a finding.

use std::time::Duration;

use serde_json::Value;

use crate::api::{self, Resource, Workbench};
use crate::checks::Check;
use crate::openapi::{self, Location, Operation};
use crate::probe::Answer;
use crate::report::{CheckResult, Evidence, Severity};

const SQL_ERRORS: Check = Check {
    id: "injection.sql_errors",
    title: "SQL metacharacters in any parameter or body field cause no database error",
    severity: Severity::Critical,
    remediation: "Pass every value to the database as a bound parameter (prepared statements, a query builder such as diesel); never build SQL text from input. Answer invalid input with a 4xx that names the field, and keep database errors in the log.",
};
const SQL_TIMING: Check = Check {
    id: "injection.sql_timing",
    title: "No parameter or body field lets a payload make the database sleep",
    severity: Severity::Critical,
    remediation: "Pass every value to the database as a bound parameter; a value that reaches SQL text lets an attacker read the whole database one bit per slow answer.",
};

/// Appended to a valid value; each breaks out of a string or a number.
const ERROR_PAYLOADS: [&str; 7] = [
    "'",
    "\"",
    "' OR '1'='1",
    "') OR ('1'='1",
    "1' AND 1=CAST('a' AS INTEGER)--",
    "\\",
    "' UNION SELECT NULL--",
];

/// How long the heavy payloads make a vulnerable database work (pg_sleep's seconds).
const SLEEP_SECONDS: u64 = 3;
/// How much slower than the slowest baseline a payload must be, twice, to be a finding.
pub const SLOWER: Duration = Duration::from_secs(2);
/// A payload's answer is awaited this long; a timeout counts as slow.
const TIMEOUT: Duration = Duration::from_secs(15);

/// PostgreSQL's pg_sleep and a recursive CTE both databases run for seconds, in a string
/// and in a number context.
fn timing_payloads() -> Vec<String> {
    let s = SLEEP_SECONDS;
    let heavy = "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<15000000) SELECT count(*)>0 FROM c)";
    vec![
        format!("' OR 1=(SELECT 1 FROM pg_sleep({s}))--"),
        format!("';SELECT pg_sleep({s})--"),
        format!("'||(SELECT '' FROM pg_sleep({s}))||'"),
        format!(" OR 1=(SELECT 1 FROM pg_sleep({s}))--"),
        format!("' OR 1={heavy}--"),
        format!(" OR 1={heavy}--"),
    ]
}

/// Database error texts that must never reach a client.
const SIGNATURES: [&str; 16] = [
    ": syntax error",
    "unrecognized token:",
    "SQLITE_ERROR",
    "SQL logic error",
    "sqlite3.OperationalError",
    "no such column",
    "syntax error at or near",
    "unterminated quoted string",
    "invalid input syntax for",
    "current transaction is aborted",
    "PSQLException",
    "SQLSTATE",
    "You have an error in your SQL syntax",
    "quoted string not properly terminated",
    "ODBC SQL",
    "DatabaseError(",
];

/// The database error text in `body` that `baseline` did not have.
pub fn sql_error(body: &str, baseline: &str) -> Option<&'static str> {
    SIGNATURES
        .iter()
        .copied()
        .find(|s| body.contains(s) && !baseline.contains(s))
}

/// Whether `elapsed` is slower than the slowest baseline by [`SLOWER`].
pub fn slowed(baseline_max: Duration, elapsed: Duration) -> bool {
    elapsed >= baseline_max + SLOWER
}

/// Where an input goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Path,
    Query,
    Body,
}

/// One input of one operation.
#[derive(Debug, Clone)]
struct Slot<'o> {
    operation: &'o Operation,
    place: Place,
    name: String,
    valid: String,
}

impl Slot<'_> {
    fn describe(&self) -> String {
        let place = match self.place {
            Place::Path => "path parameter",
            Place::Query => "query parameter",
            Place::Body => "body field",
        };
        format!("{} {place} `{}`", self.operation.describe(), self.name)
    }
}

/// Every query parameter, path parameter and top-level body field of `operations`.
fn slots(operations: &[Operation]) -> Vec<Slot<'_>> {
    let mut out = Vec::new();
    for operation in operations {
        for parameter in &operation.parameters {
            let place = match parameter.location {
                Location::Path => Place::Path,
                Location::Query => Place::Query,
                Location::Header | Location::Cookie => continue,
            };
            out.push(Slot {
                operation,
                place,
                name: parameter.name.clone(),
                valid: api::plain_text(&openapi::example(&parameter.schema)),
            });
        }
        if let Some(schema) = &operation.body {
            for (name, property) in openapi::properties(schema) {
                if openapi::is_read_only(&property) {
                    continue;
                }
                out.push(Slot {
                    operation,
                    place: Place::Body,
                    name,
                    valid: api::plain_text(&openapi::example(&property)),
                });
            }
        }
    }
    out
}

/// The request for `slot` set to `value`: its path (with the query) and body.
fn request(slot: &Slot<'_>, value: &str, resource: Option<&Resource>) -> (String, Option<Value>) {
    let operation = slot.operation;
    let id = resource.map_or_else(|| "1".to_owned(), |r| r.id.clone());
    let path = if slot.place == Place::Path {
        operation.path_with(value)
    } else {
        operation.path_with(&id)
    };
    let mut query = api::required_query(operation);
    if slot.place == Place::Query {
        query.retain(|(k, _)| *k != slot.name);
        query.push((slot.name.clone(), value.to_owned()));
    }
    let pairs: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut body = Workbench::body(operation);
    if slot.place == Place::Body
        && let Some(Value::Object(object)) = body.as_mut()
    {
        object.insert(slot.name.clone(), Value::String(value.to_owned()));
    }
    (api::with_query(&path, &pairs), body)
}

struct Sender<'b, 'a> {
    bench: &'b Workbench<'a>,
}

impl Sender<'_, '_> {
    async fn send(
        &self,
        slot: &Slot<'_>,
        value: &str,
        resource: Option<&Resource>,
        note: &str,
    ) -> (Option<Answer>, Duration) {
        let (path, body) = request(slot, value, resource);
        let (answer, elapsed) = api::timed(
            self.bench.scan,
            &slot.operation.method,
            &path,
            Some(&self.bench.owner),
            body.as_ref(),
            note,
            TIMEOUT,
        )
        .await;
        let answer = answer.ok();
        // What a create made is cleaned up at the end.
        if let Some(made) = &answer
            && slot.operation.method == reqwest::Method::POST
            && made.status.is_success()
            && let (Some(id), Some(item)) = (
                api::created_id(made),
                self.bench
                    .operations
                    .iter()
                    .find(|o| o.collection_path() == Some(slot.operation.path.as_str())),
            )
        {
            self.bench.adopt(Resource {
                path: item.path_with(&id),
                id,
            });
        }
        (answer, elapsed)
    }
}

pub async fn run(bench: Option<&Workbench<'_>>) -> Vec<CheckResult> {
    let Some(bench) = bench else {
        let why = "needs the OpenAPI document and a token (--client-id, --client-secret, --redirect-uri, --username, --password)";
        return vec![SQL_ERRORS.skip(why), SQL_TIMING.skip(why)];
    };
    let sender = Sender { bench };
    let mut error_failures: Vec<(String, Evidence)> = Vec::new();
    let mut timing_failures: Vec<(String, Evidence)> = Vec::new();
    let all = slots(&bench.operations);
    for slot in &all {
        let resource = if slot.operation.takes_resource_id() {
            bench.make(slot.operation, None).await.ok()
        } else {
            None
        };
        let valid = match (slot.place, &resource) {
            (Place::Path, Some(resource)) => resource.id.clone(),
            _ => slot.valid.clone(),
        };
        let mut baseline = Vec::new();
        let mut baseline_body = String::new();
        let mut baseline_status = 0;
        for _ in 0..3 {
            let (answer, elapsed) = sender
                .send(slot, &valid, resource.as_ref(), "valid value")
                .await;
            if let Some(answer) = answer {
                baseline_body = answer.body;
                baseline_status = answer.status.as_u16();
            }
            baseline.push(elapsed);
        }
        let baseline_max = baseline.iter().copied().max().unwrap_or_default();
        for payload in ERROR_PAYLOADS {
            let value = format!("{valid}{payload}");
            let (Some(answer), _) = sender
                .send(slot, &value, resource.as_ref(), "SQL metacharacters")
                .await
            else {
                continue;
            };
            if let Some(signature) = sql_error(&answer.body, &baseline_body) {
                error_failures.push((
                    format!("{}: `{payload}` shows `{signature}`", slot.describe()),
                    answer.evidence,
                ));
                break;
            }
            if answer.status == 500 && baseline_status < 500 {
                error_failures.push((
                    format!(
                        "{}: `{payload}` made the server fail (500)",
                        slot.describe()
                    ),
                    answer.evidence,
                ));
                break;
            }
        }
        for payload in timing_payloads() {
            let value = format!("{valid}{payload}");
            let (answer, first) = sender
                .send(slot, &value, resource.as_ref(), "SQL that sleeps")
                .await;
            if !slowed(baseline_max, first) {
                continue;
            }
            // Confirm against a fresh baseline, so one stall of the machine is not a finding.
            let (_, fresh) = sender
                .send(slot, &valid, resource.as_ref(), "valid value again")
                .await;
            let (again, second) = sender
                .send(slot, &value, resource.as_ref(), "SQL that sleeps, again")
                .await;
            if slowed(baseline_max.max(fresh), second) {
                let evidence = again
                    .or(answer)
                    .map(|a| a.evidence)
                    .unwrap_or_else(|| Evidence {
                        request: slot.describe(),
                        response: format!("no answer within {}s", TIMEOUT.as_secs()),
                    });
                timing_failures.push((
                    format!(
                        "{}: `{payload}` answered after {:.1}s and {:.1}s, valid values within {:.1}s",
                        slot.describe(),
                        first.as_secs_f64(),
                        second.as_secs_f64(),
                        baseline_max.max(fresh).as_secs_f64()
                    ),
                    evidence,
                ));
                break;
            }
        }
    }
    if all.is_empty() {
        let why = "the OpenAPI document names no parameter or body field";
        return vec![SQL_ERRORS.skip(why), SQL_TIMING.skip(why)];
    }
    vec![
        SQL_ERRORS.judge(error_failures),
        SQL_TIMING.judge(timing_failures),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_error_is_one_the_valid_value_did_not_cause() {
        let answer = r#"{"error":"near \"'\": syntax error"}"#;
        assert_eq!(sql_error(answer, "{}"), Some(": syntax error"));
        assert_eq!(sql_error(answer, answer), None);
        assert_eq!(
            sql_error("ERROR: unterminated quoted string at or near \"'\"", ""),
            Some("unterminated quoted string")
        );
        assert_eq!(
            sql_error(r#"{"errors":{"status":"must be one of pending"}}"#, ""),
            None
        );
    }

    #[test]
    fn slow_means_seconds_beyond_the_slowest_baseline() {
        let base = Duration::from_millis(300);
        assert!(!slowed(base, Duration::from_millis(2200)));
        assert!(slowed(base, Duration::from_millis(2300)));
        assert!(slowed(base, TIMEOUT));
    }

    #[test]
    fn every_parameter_and_body_field_is_a_slot() {
        let api = openapi::Api::new(serde_json::json!({
            "paths": {"/t/{id}": {"patch": {
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}},
                               {"name": "v", "in": "query", "required": true, "schema": {"type": "integer"}}],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                    "title": {"type": "string"}, "id": {"type": "string", "readOnly": true}}}}}}
            }}}
        }));
        let operations = api.operations();
        let all = slots(&operations);
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["id", "v", "title"]);
        let resource = Resource {
            id: "r1".into(),
            path: "/t/r1".into(),
        };
        let (path, body) = request(&all[2], "x'", Some(&resource));
        assert_eq!(path, "/t/r1?v=1");
        assert_eq!(body, Some(serde_json::json!({"title": "x'"})));
        let (path, _) = request(&all[0], "r1' OR '1'='1", Some(&resource));
        assert_eq!(path, "/t/r1%27%20OR%20%271%27%3D%271?v=1");
        let (path, _) = request(&all[1], "1 OR 1=1", Some(&resource));
        assert_eq!(path, "/t/r1?v=1+OR+1%3D1");
    }
}
