//! Schemas (JSON Schema 2020-12 as OpenAPI 3.1 uses it): their properties, which are
//! read-only (validation §9.4), and a valid value made from their keywords (`const`,
//! `enum`, `examples`, `default`, `format`, bounds).

use serde_json::{Map, Value, json};

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
#[cfg(test)]
mod tests {
    use super::*;

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
}
