//! What the scanner reads in the task API's OpenAPI document (OpenAPI 3.1, §4.8): every
//! operation with its parameters, its JSON request body, its success response and the
//! scopes its security requirement names (§4.8.30; for `http` bearer schemes 3.1 allows a
//! list of roles — we read them as scopes). `$ref`s are resolved, and a valid value can be
//! made for any schema (JSON Schema 2020-12 keywords), so each attack changes one input of
//! an otherwise valid request.

use reqwest::Method;
use serde_json::{Map, Value, json};

mod schema;

pub use schema::{example, example_marked, is_read_only, properties, read_only_properties};

/// Where a parameter goes (§4.8.12.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub location: Location,
    pub required: bool,
    /// The parameter's schema, `$ref`s resolved.
    pub schema: Value,
}

/// One operation (a method on a path).
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    /// The path template, `/api/tasks/{id}`.
    pub path: String,
    pub parameters: Vec<Parameter>,
    /// The `application/json` request body's schema, resolved, if it takes one.
    pub body: Option<Value>,
    /// The first 2xx response's JSON schema, resolved.
    pub success: Option<Value>,
    /// Scopes a caller's token needs (from the security requirement).
    pub scopes: Vec<String>,
    /// Whether a caller without credentials may use it (`security: [{}]` or none at all).
    pub public: bool,
}

impl Operation {
    pub fn path_parameters(&self) -> impl Iterator<Item = &Parameter> {
        self.parameters
            .iter()
            .filter(|p| p.location == Location::Path)
    }

    /// Whether the path names one resource: it has a path parameter.
    pub fn takes_resource_id(&self) -> bool {
        self.path_parameters().next().is_some()
    }

    /// The path of the collection the resource belongs to: the template without its last
    /// `/{…}` segment (`/api/tasks/{id}` → `/api/tasks`).
    pub fn collection_path(&self) -> Option<&str> {
        let (parent, last) = self.path.rsplit_once('/')?;
        (last.starts_with('{') && last.ends_with('}') && !parent.is_empty()).then_some(parent)
    }

    /// The path with every parameter replaced by `value` (percent-encoded as a segment).
    pub fn path_with(&self, value: &str) -> String {
        fill_path(&self.path, &encode_segment(value))
    }

    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The document, and the operations read from it.
#[derive(Debug, Clone)]
pub struct Api {
    document: Value,
}

impl Api {
    pub fn new(document: Value) -> Self {
        Self { document }
    }

    /// Every operation, in the document's order of paths.
    pub fn operations(&self) -> Vec<Operation> {
        let Some(paths) = self.document.get("paths").and_then(Value::as_object) else {
            return Vec::new();
        };
        let default_security = self.document.get("security");
        let mut operations = Vec::new();
        for (path, item) in paths {
            let item = self.resolve(item);
            let shared_parameters = item.get("parameters").cloned().unwrap_or(Value::Null);
            for (name, method) in [
                ("get", Method::GET),
                ("put", Method::PUT),
                ("post", Method::POST),
                ("delete", Method::DELETE),
                ("patch", Method::PATCH),
            ] {
                let Some(operation) = item.get(name) else {
                    continue;
                };
                let mut parameters = self.parameters(&shared_parameters);
                for own in self.parameters(operation.get("parameters").unwrap_or(&Value::Null)) {
                    parameters.retain(|p| p.name != own.name || p.location != own.location);
                    parameters.push(own);
                }
                let security = operation.get("security").or(default_security);
                operations.push(Operation {
                    method,
                    path: path.clone(),
                    parameters,
                    body: operation
                        .get("requestBody")
                        .map(|b| self.resolve(b))
                        .and_then(|b| json_schema(&b))
                        .map(|s| self.resolve_deep(&s, 0)),
                    success: self.success_schema(operation),
                    scopes: self.scopes(security),
                    public: security
                        .and_then(Value::as_array)
                        .is_none_or(|alternatives| {
                            alternatives
                                .iter()
                                .any(|a| a.as_object().is_some_and(Map::is_empty))
                        }),
                });
            }
        }
        operations
    }

    fn parameters(&self, list: &Value) -> Vec<Parameter> {
        list.as_array()
            .into_iter()
            .flatten()
            .map(|p| self.resolve(p))
            .filter_map(|p| {
                let location = match p.get("in")?.as_str()? {
                    "path" => Location::Path,
                    "query" => Location::Query,
                    "header" => Location::Header,
                    "cookie" => Location::Cookie,
                    _ => return None,
                };
                Some(Parameter {
                    name: p.get("name")?.as_str()?.to_owned(),
                    location,
                    required: p
                        .get("required")
                        .and_then(Value::as_bool)
                        .unwrap_or(location == Location::Path),
                    schema: self.resolve_deep(p.get("schema").unwrap_or(&json!({})), 0),
                })
            })
            .collect()
    }

    fn success_schema(&self, operation: &Value) -> Option<Value> {
        let responses = operation.get("responses")?.as_object()?;
        let (_, response) = responses
            .iter()
            .filter(|(status, _)| status.starts_with('2'))
            .min_by_key(|(status, _)| status.as_str())?;
        json_schema(&self.resolve(response)).map(|s| self.resolve_deep(&s, 0))
    }

    /// The scopes of the first alternative that names any: a bearer token of OAuth
    /// (`oauth2`, `openIdConnect`, or `http` bearer) must carry them all.
    fn scopes(&self, security: Option<&Value>) -> Vec<String> {
        let schemes = self
            .document
            .pointer("/components/securitySchemes")
            .cloned()
            .unwrap_or(Value::Null);
        for alternative in security.and_then(Value::as_array).into_iter().flatten() {
            for (scheme, scopes) in alternative.as_object().into_iter().flatten() {
                let definition = self.resolve(&schemes[scheme.as_str()]);
                let bearer = match definition["type"].as_str() {
                    Some("oauth2" | "openIdConnect") => true,
                    Some("http") => definition["scheme"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("bearer")),
                    _ => false,
                };
                let names: Vec<String> = scopes
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                if bearer && !names.is_empty() {
                    return names;
                }
            }
        }
        Vec::new()
    }

    /// `value` itself, or what its `$ref` (a local JSON pointer) names.
    pub fn resolve(&self, value: &Value) -> Value {
        let mut current = value.clone();
        for _ in 0..16 {
            let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
                return current;
            };
            let Some(target) = reference
                .strip_prefix('#')
                .and_then(|pointer| self.document.pointer(pointer))
            else {
                return current;
            };
            current = target.clone();
        }
        current
    }

    /// A schema with every `$ref` inside it resolved (to a bounded depth: schemas may
    /// be recursive).
    fn resolve_deep(&self, schema: &Value, depth: usize) -> Value {
        let resolved = self.resolve(schema);
        if depth > 8 {
            return resolved;
        }
        match resolved {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, self.resolve_deep(&v, depth + 1)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.resolve_deep(v, depth + 1))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// The JSON schema of a request body or response object (§4.8.13, §4.8.17).
fn json_schema(object: &Value) -> Option<Value> {
    let content = object.get("content")?.as_object()?;
    content
        .iter()
        .find(|(media, _)| {
            media.starts_with("application/json")
                || (media.ends_with("+json") && *media != "application/problem+json")
        })
        .and_then(|(_, media)| media.get("schema").cloned())
}

/// `template` with every `{name}` replaced by `value`.
pub fn fill_path(template: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a value stays one
/// path segment.
pub fn encode_segment(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `{"task": {"id": …}}` included).
pub fn find_field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map
            .get(name)
            .or_else(|| map.values().find_map(|v| find_field(v, name))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({
            "openapi": "3.1.0",
            "security": [{"token": []}],
            "paths": {
                "/api/health": {"get": {"security": [{}], "responses": {"200": {"description": "up"}}}},
                "/api/things": {
                    "get": {
                        "security": [{"token": ["things:read"]}],
                        "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                        "responses": {"200": {"description": "list"}}
                    },
                    "post": {
                        "security": [{"token": ["things:write"]}],
                        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewThing"}}}},
                        "responses": {"201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}}}
                    }
                },
                "/api/things/{id}": {
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "delete": {"responses": {"204": {"description": "gone"}}}
                }
            },
            "components": {
                "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
                "schemas": {
                    "NewThing": {"type": "object", "required": ["title"], "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": 5},
                        "kind": {"$ref": "#/components/schemas/Kind"},
                        "rank": {"type": "integer", "minimum": 2, "maximum": 5},
                        "note": {"type": ["string", "null"]}
                    }},
                    "Kind": {"type": "string", "enum": ["big", "small"]},
                    "Thing": {"type": "object", "properties": {
                        "id": {"type": "string", "readOnly": true},
                        "created_at": {"type": "string", "format": "date-time", "readOnly": true},
                        "title": {"type": "string"}
                    }},
                    "Envelope": {"type": "object", "properties": {"thing": {"$ref": "#/components/schemas/Thing"}}}
                }
            }
        })
    }

    #[test]
    fn operations_carry_their_scopes_parameters_and_schemas() {
        let api = Api::new(document());
        let operations = api.operations();
        let described: Vec<String> = operations.iter().map(Operation::describe).collect();
        assert_eq!(
            described,
            [
                "GET /api/health",
                "GET /api/things",
                "POST /api/things",
                "DELETE /api/things/{id}"
            ]
        );
        assert!(operations[0].public);
        assert!(!operations[1].public);
        assert_eq!(operations[1].scopes, ["things:read"]);
        assert_eq!(operations[2].scopes, ["things:write"]);
        assert!(
            operations[3].scopes.is_empty(),
            "the default requirement names none"
        );
        assert_eq!(operations[1].parameters[0].location, Location::Query);
        let delete = &operations[3];
        assert!(delete.takes_resource_id());
        assert_eq!(delete.collection_path(), Some("/api/things"));
        assert_eq!(delete.path_with("a/b c"), "/api/things/a%2Fb%20c");
        assert_eq!(
            example(operations[2].body.as_ref().unwrap()),
            json!({"title": "secur", "kind": "big", "rank": 2, "note": "security-scan"})
        );
        let read_only = read_only_properties(operations[2].success.as_ref().unwrap());
        let names: Vec<&str> = read_only.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["created_at", "id"]);
    }

    #[test]
    fn fields_are_found_inside_envelopes() {
        let answer = json!({"thing": {"id": "t1", "owner": {"id": "u1"}}});
        assert_eq!(find_field(&answer, "id"), Some(&json!("t1")));
        assert_eq!(find_field(&answer, "owner"), Some(&json!({"id": "u1"})));
        assert_eq!(find_field(&answer, "missing"), None);
        assert_eq!(fill_path("/a/{x}/b/{y}", "v"), "/a/v/b/v");
    }
}
