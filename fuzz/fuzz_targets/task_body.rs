//! Task JSON bodies (resource-api `routes::tasks::body`), read as the handlers read them:
//! the bytes through `serde_json` into `UniqueObject`, then `TaskFields::parse` with the
//! fields POST, PUT and PATCH require. Asserts:
//! - `UniqueObject` is exactly the JSON object, each key once (SECURITY.md 28);
//! - the fields accepted are the ones an independent reading of the object allows — a title
//!   of 1–200 characters without control characters and not only spaces (kept trimmed),
//!   a description of at most 1000 characters or null, a known status, an integer priority
//!   1–5 — and the fields refused are exactly the ones it does not: wrong values, fields
//!   the server sets (`id`, `user_id`, timestamps: no mass assignment), unknown names, and
//!   required fields not sent.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use resource_api::problem::Problem;
use resource_api::routes::tasks::body::{DESCRIPTION_MAX, TITLE_MAX, TaskFields, UniqueObject};
use serde_json::{Map, Value};
use shared::models::task::TaskStatus;

const REQUIRED: [&[&str]; 3] = [&["title"], &["title", "status", "priority"], &[]];

fuzz_target!(|data: &[u8]| {
    let Ok(object) = serde_json::from_slice::<UniqueObject>(data) else {
        return;
    };
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(data) else {
        panic!("UniqueObject read something that is not a JSON object");
    };
    assert_eq!(object.0.len(), map.len(), "a key counted twice");
    for (key, value) in &object.0 {
        assert_eq!(map.get(key), Some(value));
    }
    for required in REQUIRED {
        let copy = UniqueObject(object.0.clone());
        let expected = expected(&map, required);
        match (TaskFields::parse(copy, required), expected) {
            (Ok(fields), Ok(())) => check_fields(&fields, &map),
            (Err(Problem::Validation(errors)), Err(refused)) => {
                let keys: BTreeSet<&str> = errors.keys().map(String::as_str).collect();
                assert_eq!(keys, refused, "{map:?} with {required:?}");
            }
            (got, want) => panic!("{map:?} with {required:?}: {got:?}, expected {want:?}"),
        }
    }
});

fn is_title(value: &Value) -> bool {
    value.as_str().is_some_and(|t| {
        let length = t.chars().count();
        (1..=TITLE_MAX).contains(&length)
            && !t.chars().any(char::is_control)
            && !t.trim().is_empty()
    })
}

fn priority(value: &Value) -> Option<i32> {
    let n = value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (1.0..=5.0).contains(n))?;
    // `as_f64` rounds a large integer; the exact reading must agree.
    if value.is_i64() || value.is_u64() {
        assert_eq!(value.as_i64(), Some(n as i64));
    }
    Some(n as i32)
}

fn is_status(value: &Value) -> bool {
    TaskStatus::ALL.iter().any(|s| value == s.as_str())
}

/// Which fields an independent reading refuses.
fn expected<'a>(
    map: &'a Map<String, Value>,
    required: &[&'a str],
) -> Result<(), BTreeSet<&'a str>> {
    let mut refused = BTreeSet::new();
    for (name, value) in map {
        let ok = match name.as_str() {
            "title" => is_title(value),
            "description" => {
                value.is_null()
                    || value
                        .as_str()
                        .is_some_and(|d| d.chars().count() <= DESCRIPTION_MAX)
            }
            "status" => is_status(value),
            "priority" => priority(value).is_some(),
            _ => false,
        };
        if !ok {
            refused.insert(name.as_str());
        }
    }
    for name in required {
        if !map.contains_key(*name) {
            refused.insert(name);
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(refused)
    }
}

fn check_fields(fields: &TaskFields, map: &Map<String, Value>) {
    let title = map.get("title").and_then(Value::as_str).map(str::trim);
    assert_eq!(fields.title.as_deref(), title);
    let description = map
        .get("description")
        .map(|d| d.as_str().map(str::to_owned));
    assert_eq!(fields.description, description);
    let status = map.get("status").and_then(Value::as_str);
    assert_eq!(fields.status.map(TaskStatus::as_str), status);
    assert_eq!(fields.priority, map.get("priority").and_then(priority));
}
