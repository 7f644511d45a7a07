//! What the scanner reads in the task API's OpenAPI document (OpenAPI 3.1, §4.8): every
//! operation with its parameters, its JSON request body, its success response and the
//! scopes its security requirement names (§4.8.30; for `http` bearer schemes 3.1 allows a
//! list of roles — we read them as scopes). `$ref`s are resolved, and a valid value can be
//! made for any schema (JSON Schema 2020-12 keywords), so each attack changes one input of
//! an otherwise valid request.

use reqwest::Method;
use serde_json::{Map, Value, json};

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

/// The schema's type, ignoring `null` in a type list.
fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

/// Whether a property is read-only (JSON Schema 2020-12 validation §9.4).
pub fn is_read_only(schema: &Value) -> bool {
    schema.get("readOnly").and_then(Value::as_bool) == Some(true)
}

/// The `properties` of an object schema (through `allOf`).
pub fn properties(schema: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.extend(properties(part));
    }
    out
}

/// Every read-only property of `schema` and of the objects inside it (an envelope such as
/// `{"task": Task}` included), with its schema.
pub fn read_only_properties(schema: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    collect_read_only(schema, 0, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn collect_read_only(schema: &Value, depth: usize, out: &mut Vec<(String, Value)>) {
    if depth > 3 {
        return;
    }
    for (name, property) in properties(schema) {
        if is_read_only(&property) {
            out.push((name, property));
        } else {
            collect_read_only(&property, depth + 1, out);
        }
    }
    if let Some(items) = schema.get("items") {
        collect_read_only(items, depth + 1, out);
    }
}

/// A value `schema` accepts, made from its keywords (`const`, `enum`, `examples`,
/// `default`, `format`, bounds); read-only properties are left out of objects.
pub fn example(schema: &Value) -> Value {
    example_at(schema, 0)
}

fn example_at(schema: &Value, depth: usize) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.iter().find(|v| !v.is_null()))
    {
        return first.clone();
    }
    if let Some(first) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
        .or_else(|| schema.get("example"))
        .or_else(|| schema.get("default").filter(|d| !d.is_null()))
    {
        return first.clone();
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(first) = schema
            .get(combinator)
            .and_then(Value::as_array)
            .and_then(|alternatives| alternatives.iter().find(|a| type_of(a) != Some("null")))
        {
            return example_at(first, depth + 1);
        }
    }
    match type_of(schema) {
        Some("object") => object_example(schema, depth),
        None if schema.get("properties").is_some() || schema.get("allOf").is_some() => {
            object_example(schema, depth)
        }
        Some("array") => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = example_at(schema.get("items").unwrap_or(&json!({})), depth + 1);
            Value::Array(std::iter::repeat_n(item, usize::try_from(min).unwrap_or(0)).collect())
        }
        Some("integer") => json!(number_example(schema)),
        Some("number") => json!(number_example(schema)),
        Some("boolean") => json!(true),
        Some("null") => Value::Null,
        _ => Value::String(string_example(schema)),
    }
}

/// [`example`], with every free-text string property of the object set to `text` (cut to
/// its `maxLength`): a body whose effect can be told from the resource it changes.
pub fn example_marked(schema: &Value, text: &str) -> Value {
    let mut value = example(schema);
    if let Value::Object(object) = &mut value {
        for (name, property) in properties(schema) {
            let free_text = type_of(&property) == Some("string")
                && ["enum", "const", "format"]
                    .iter()
                    .all(|k| property.get(*k).is_none());
            if free_text && object.contains_key(&name) {
                let max = property
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .and_then(|m| usize::try_from(m).ok())
                    .unwrap_or(usize::MAX);
                object.insert(name, Value::String(text.chars().take(max).collect()));
            }
        }
    }
    value
}

fn object_example(schema: &Value, depth: usize) -> Value {
    let mut object = Map::new();
    for (name, property) in properties(schema) {
        if is_read_only(&property) {
            continue;
        }
        object.insert(name, example_at(&property, depth + 1));
    }
    Value::Object(object)
}

fn number_example(schema: &Value) -> i64 {
    let bound = |name: &str| schema.get(name).and_then(Value::as_f64);
    let low = bound("minimum")
        .or_else(|| bound("exclusiveMinimum").map(|m| m.floor() + 1.0))
        .unwrap_or(1.0);
    let high = bound("maximum")
        .or_else(|| bound("exclusiveMaximum").map(|m| m.ceil() - 1.0))
        .unwrap_or(f64::MAX);
    // Truncation is meant: bounds of an integer parameter are integers.
    #[allow(clippy::cast_possible_truncation)]
    let value = low.max(1.0).min(high) as i64;
    value
}

fn string_example(schema: &Value) -> String {
    let text = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => "2030-01-02T03:04:05Z".to_owned(),
        Some("date") => "2030-01-02".to_owned(),
        Some("email") => "scan@example.com".to_owned(),
        Some("uri" | "url") => "https://example.com/".to_owned(),
        Some("uuid") => "0b7e1c3a-5d2f-4f6e-9a8b-1c2d3e4f5a6b".to_owned(),
        _ => "security-scan".to_owned(),
    };
    let min = schema
        .get("minLength")
        .and_then(Value::as_u64)
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(0);
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(usize::MAX);
    let mut text = text;
    while text.chars().count() < min {
        text.push('x');
    }
    text.chars().take(max.max(1)).collect()
}

/// The first value of key `name` in `value`, searched depth-first (an envelope such as
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
    fn examples_follow_the_keywords() {
        assert_eq!(
            example(&json!({"type": "integer", "exclusiveMinimum": 0})),
            json!(1)
        );
        assert_eq!(
            example(&json!({"type": "integer", "minimum": -5, "maximum": 0})),
            json!(0)
        );
        assert_eq!(
            example(&json!({"type": "string", "minLength": 20})),
            json!("security-scanxxxxxxx")
        );
        assert_eq!(example(&json!({"type": "boolean"})), json!(true));
        assert_eq!(
            example(&json!({"oneOf": [{"type": "null"}, {"type": "string", "format": "email"}]})),
            json!("scan@example.com")
        );
        assert_eq!(
            example(
                &json!({"type": "object", "properties": {"id": {"readOnly": true, "type": "string"}, "n": {"type": "integer"}}})
            ),
            json!({"n": 1})
        );
    }

    #[test]
    fn a_marked_example_changes_free_text_only() {
        let schema = json!({"type": "object", "properties": {
            "title": {"type": "string", "maxLength": 4},
            "status": {"type": "string", "enum": ["open"]},
            "due": {"type": "string", "format": "date"},
            "n": {"type": "integer"}
        }});
        assert_eq!(
            example_marked(&schema, "marker"),
            json!({"title": "mark", "status": "open", "due": "2030-01-02", "n": 1})
        );
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
