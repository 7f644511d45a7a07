//! Calling the task API as its clients do — an operation of the OpenAPI document, with a
//! bearer token and a JSON body — and the resources the scan makes for itself: created
//! through the collection's POST, read back, and deleted when the checks are done.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::openapi::{self, Operation};
use crate::probe::{self, Answer, Unreachable};
use crate::scan::Scan;

/// One call of the task API. `path` is filled in and may carry a query string.
pub async fn call(
    scan: &Scan,
    method: &Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
    note: &str,
) -> Result<Answer, Unreachable> {
    timed(
        scan,
        method,
        path,
        bearer,
        body,
        note,
        Duration::from_secs(20),
    )
    .await
    .0
}

/// [`call`] with its own timeout, and how long the answer took.
pub async fn timed(
    scan: &Scan,
    method: &Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
    note: &str,
    timeout: Duration,
) -> (Result<Answer, Unreachable>, Duration) {
    let url = scan.api_url(path);
    let mut request = scan.plain.request(method.clone(), &url).timeout(timeout);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let started = Instant::now();
    let answer = probe::send(&scan.redactor, method, &url, note, request).await;
    (answer, started.elapsed())
}

/// `path?name=value&…`, each pair form-encoded.
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}{query}")
}

/// Valid values for an operation's query parameters: the required ones only.
pub fn required_query(operation: &Operation) -> Vec<(String, String)> {
    operation
        .parameters
        .iter()
        .filter(|p| p.location == openapi::Location::Query && p.required)
        .map(|p| (p.name.clone(), plain_text(&openapi::example(&p.schema))))
        .collect()
}

/// A JSON value as it would be written in a query string.
pub fn plain_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A resource the scan made.
#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    /// Its path, `/api/tasks/<id>`.
    pub path: String,
}

/// The id of what a create call made: its `Location`'s last segment (decoded), or the
/// `id` field of the answer.
pub fn created_id(answer: &Answer) -> Option<String> {
    let from_location = answer.location().and_then(|location| {
        let path = location.split(['?', '#']).next()?;
        let last = path.rsplit('/').next().filter(|s| !s.is_empty())?;
        Some(
            url::form_urlencoded::parse(format!("x={}", last.replace('+', "%2B")).as_bytes())
                .next()?
                .1
                .into_owned(),
        )
    });
    from_location.or_else(|| {
        answer
            .json()
            .as_ref()
            .and_then(|body| openapi::find_field(body, "id"))
            .map(plain_text)
    })
}

/// The operations, and resources made through them for one owner, deleted at the end.
#[derive(Debug)]
pub struct Workbench<'a> {
    pub scan: &'a Scan,
    pub operations: Vec<Operation>,
    /// The owner's access token, with every scope.
    pub owner: String,
    made: Mutex<Vec<Resource>>,
}

impl<'a> Workbench<'a> {
    pub fn new(scan: &'a Scan, owner: String) -> Self {
        Self {
            scan,
            operations: scan.operations(),
            owner,
            made: Mutex::new(Vec::new()),
        }
    }

    /// The POST on `item`'s collection, which makes what `item` acts on.
    pub fn creator(&self, item: &Operation) -> Option<&Operation> {
        let collection = item.collection_path()?;
        self.operations
            .iter()
            .find(|o| o.method == Method::POST && o.path == collection)
    }

    /// The GET of `item`'s path, which reads one resource.
    pub fn reader(&self, item: &Operation) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.method == Method::GET && o.path == item.path)
    }

    /// A valid body for `operation`, if it takes one.
    pub fn body(operation: &Operation) -> Option<Value> {
        operation.body.as_ref().map(openapi::example)
    }

    /// Makes a resource for `item` as the owner, with `body` or a valid one.
    pub async fn make(&self, item: &Operation, body: Option<Value>) -> Result<Resource, String> {
        let create = self
            .creator(item)
            .ok_or_else(|| format!("no POST on the collection of {}", item.path))?;
        let body = body.or_else(|| Self::body(create));
        let path = with_query(
            &create.path,
            &required_query(create)
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        );
        let answer = call(
            self.scan,
            &Method::POST,
            &path,
            Some(&self.owner),
            body.as_ref(),
            "create a resource of the scan",
        )
        .await
        .map_err(|e| e.to_string())?;
        if !answer.status.is_success() {
            return Err(format!(
                "{} refused to create: {}",
                create.describe(),
                answer.evidence.response
            ));
        }
        let id =
            created_id(&answer).ok_or_else(|| format!("{} answered no id", create.describe()))?;
        let resource = Resource {
            path: item.path_with(&id),
            id,
        };
        self.adopt(resource.clone());
        Ok(resource)
    }

    /// Remembers a resource made some other way, to delete it at the end.
    pub fn adopt(&self, resource: Resource) {
        if let Ok(mut made) = self.made.lock() {
            made.push(resource);
        }
    }

    /// The resource as its owner reads it (`None` if it cannot be read).
    pub async fn read(&self, item: &Operation, resource: &Resource) -> Option<Value> {
        self.reader(item)?;
        let answer = call(
            self.scan,
            &Method::GET,
            &resource.path,
            Some(&self.owner),
            None,
            "the owner reads it",
        )
        .await
        .ok()?;
        answer.status.is_success().then(|| answer.json()).flatten()
    }

    /// Deletes what was made, if the API has a DELETE for it.
    pub async fn clean_up(&self) {
        let made: Vec<Resource> = self
            .made
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default();
        for resource in made {
            let deletable = self
                .operations
                .iter()
                .any(|o| o.method == Method::DELETE && o.path_with(&resource.id) == resource.path);
            if deletable {
                let _ = call(
                    self.scan,
                    &Method::DELETE,
                    &resource.path,
                    Some(&self.owner),
                    None,
                    "clean up",
                )
                .await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(location: Option<&str>, body: &str) -> Answer {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(location) = location {
            headers.insert("location", location.parse().unwrap());
        }
        Answer {
            status: reqwest::StatusCode::CREATED,
            headers,
            body: body.to_owned(),
            evidence: crate::report::Evidence {
                request: String::new(),
                response: String::new(),
            },
        }
    }

    #[test]
    fn the_created_id_comes_from_the_location_or_the_body() {
        let both = answer(Some("/api/tasks/a%20b?x=1"), r#"{"user":{"id":"u1"}}"#);
        assert_eq!(created_id(&both).as_deref(), Some("a b"));
        let body = answer(None, r#"{"task":{"id":"t1","title":"x"}}"#);
        assert_eq!(created_id(&body).as_deref(), Some("t1"));
        assert_eq!(
            created_id(&answer(None, r#"{"id":7}"#)).as_deref(),
            Some("7")
        );
        assert_eq!(created_id(&answer(None, "{}")), None);
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            with_query("/api/tasks", &[("status", "a b'&")]),
            "/api/tasks?status=a+b%27%26"
        );
        assert_eq!(with_query("/x?a=1", &[("b", "2")]), "/x?a=1&b=2");
        assert_eq!(with_query("/x", &[]), "/x");
    }
}
