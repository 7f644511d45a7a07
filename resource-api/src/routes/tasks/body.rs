//! Reading task JSON bodies strictly (SECURITY.md 21, 28): one JSON object, each field at
//! most once, no field the client may not set (`id`, `user_id`, timestamps and unknown
//! names are refused, never ignored), every value of the right type and range. Problems
//! are reported per field.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use shared::models::task::TaskStatus;

use crate::problem::Problem;

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 1000;

/// The message for a status that is not one.
pub fn not_a_status() -> String {
    format!(
        "must be one of {}",
        TaskStatus::ALL.map(TaskStatus::as_str).join(", ")
    )
}

/// A JSON object whose keys are unique (serde_json alone would keep the last duplicate).
#[derive(Debug)]
pub struct UniqueObject(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueObject, A::Error> {
                let mut fields: Vec<(String, Value)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    if fields.iter().any(|(seen, _)| *seen == key) {
                        return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
                    }
                    fields.push((key, value));
                }
                Ok(UniqueObject(fields))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// The fields of a task body, validated. `description: Some(None)` means an explicit null.
#[derive(Debug, Default)]
pub struct TaskFields {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<TaskStatus>,
    pub priority: Option<i32>,
}

impl TaskFields {
    /// Validates every field; `required` must all be present.
    pub fn parse(object: UniqueObject, required: &[&str]) -> Result<Self, Problem> {
        let mut errors = BTreeMap::new();
        let mut fields = TaskFields::default();
        for (name, value) in object.0 {
            match name.as_str() {
                // The length counts what was sent; the stored title is trimmed.
                "title" => match value.as_str() {
                    Some(title) if has_control(title) => {
                        errors.insert(name, "must not contain control characters".into());
                    }
                    Some(title)
                        if (1..=TITLE_MAX).contains(&title.chars().count())
                            && !title.trim().is_empty() =>
                    {
                        fields.title = Some(title.trim().to_owned());
                    }
                    Some(_) => {
                        errors.insert(
                            name,
                            format!("must be 1 to {TITLE_MAX} characters, not only spaces"),
                        );
                    }
                    None => {
                        errors.insert(name, "must be a string".into());
                    }
                },
                "description" => match &value {
                    Value::Null => fields.description = Some(None),
                    Value::String(text) if text.chars().count() <= DESCRIPTION_MAX => {
                        fields.description = Some(Some(text.clone()));
                    }
                    Value::String(_) => {
                        errors.insert(
                            name,
                            format!("must be at most {DESCRIPTION_MAX} characters"),
                        );
                    }
                    _ => {
                        errors.insert(name, "must be a string or null".into());
                    }
                },
                "status" => match value.as_str().map(str::parse::<TaskStatus>) {
                    Some(Ok(status)) => fields.status = Some(status),
                    _ => {
                        errors.insert(name, not_a_status());
                    }
                },
                // JSON Schema counts 3.0 as an integer; so do we.
                "priority" => match value.as_i64().or_else(|| {
                    value
                        .as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 1e6)
                        .map(|f| f as i64)
                }) {
                    Some(priority @ 1..=5) => fields.priority = i32::try_from(priority).ok(),
                    _ => {
                        errors.insert(name, "must be an integer from 1 to 5".into());
                    }
                },
                "id" | "user_id" | "created_at" | "updated_at" => {
                    errors.insert(name, "is set by the server and cannot be sent".into());
                }
                _ => {
                    errors.insert(name, "is not a field of a task".into());
                }
            }
        }
        for name in required {
            let present = match *name {
                "title" => fields.title.is_some(),
                "status" => fields.status.is_some(),
                "priority" => fields.priority.is_some(),
                _ => true,
            };
            if !present && !errors.contains_key(*name) {
                errors.insert((*name).to_owned(), "is required".into());
            }
        }
        if errors.is_empty() {
            Ok(fields)
        } else {
            Err(Problem::Validation(errors))
        }
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: &str) -> Result<UniqueObject, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert!(object(r#"{"title":"a","title":"b"}"#).is_err());
        assert!(object(r#"[1]"#).is_err());
    }

    #[test]
    fn fields_are_validated_one_by_one() {
        let fields = TaskFields::parse(
            object(r#"{"title":" Buy milk ","priority":3,"description":null}"#).unwrap(),
            &["title"],
        )
        .unwrap();
        assert_eq!(fields.title.as_deref(), Some("Buy milk"));
        assert_eq!(fields.priority, Some(3));
        assert_eq!(fields.description, Some(None));

        let Err(Problem::Validation(errors)) = TaskFields::parse(
            object(r#"{"title":"","priority":6,"status":"done","user_id":"x","extra":1}"#).unwrap(),
            &["title"],
        ) else {
            panic!("expected validation errors")
        };
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["extra", "priority", "status", "title", "user_id"]
        );

        let Err(Problem::Validation(errors)) =
            TaskFields::parse(object("{}").unwrap(), &["title", "status"])
        else {
            panic!("expected validation errors")
        };
        assert_eq!(errors["title"], "is required");
        assert!(
            TaskFields::parse(
                object(&format!(r#"{{"title":"{}"}}"#, "a".repeat(201))).unwrap(),
                &[]
            )
            .is_err()
        );
        assert!(TaskFields::parse(object(r#"{"priority":2.5}"#).unwrap(), &[]).is_err());
        assert_eq!(
            TaskFields::parse(object(r#"{"priority":2.0}"#).unwrap(), &[])
                .unwrap()
                .priority,
            Some(2)
        );
        assert!(TaskFields::parse(object(r#"{"title":"   "}"#).unwrap(), &[]).is_err());
        assert!(
            TaskFields::parse(
                object(&format!(r#"{{"title":" {} "}}"#, "a".repeat(199))).unwrap(),
                &[]
            )
            .is_err()
        );
        assert!(TaskFields::parse(object(r#"{"priority":"2"}"#).unwrap(), &[]).is_err());
    }
}
