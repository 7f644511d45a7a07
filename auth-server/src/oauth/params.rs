//! Request parameters as OAuth reads them: RFC 6749 §3.1 and §3.2 say a parameter sent
//! without a value is treated as omitted, unknown parameters are ignored, and no parameter
//! may be repeated.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// The longest value accepted for any parameter.
pub const MAX_VALUE_LEN: usize = 2048;

/// A value outside the closed set its parameter allows (a grant type, response type, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: `{value}` is not supported")]
pub struct UnsupportedValue {
    pub parameter: &'static str,
    pub value: String,
}

impl UnsupportedValue {
    pub fn new(parameter: &'static str, value: &str) -> Self {
        Self {
            parameter,
            value: value.to_owned(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Params {
    values: HashMap<String, String>,
    repeated: Vec<String>,
    /// Parameters whose percent-encoding was not UTF-8 (decoded to U+FFFD).
    malformed: Vec<String>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let mut params = Params::default();
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            if value.contains('\u{FFFD}') && !params.malformed.contains(&name) {
                params.malformed.push(name.clone());
            }
            match params.values.entry(name) {
                Entry::Occupied(seen) => {
                    if !params.repeated.contains(seen.key()) {
                        params.repeated.push(seen.key().clone());
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
            }
        }
        params
    }

    /// The value of `name`, if sent once with a non-empty value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|r| r == name)
    }

    /// The first parameter sent more than once, if any.
    pub fn first_repeated(&self) -> Option<&str> {
        self.repeated.first().map(String::as_str)
    }

    /// The first parameter whose value was not valid UTF-8.
    pub fn first_malformed(&self) -> Option<&str> {
        self.malformed.first().map(String::as_str)
    }

    /// The first parameter (among `names`) whose value is too long.
    pub fn first_too_long<'a>(&self, names: &[&'a str]) -> Option<&'a str> {
        names
            .iter()
            .find(|name| self.get(name).is_some_and(|v| v.len() > MAX_VALUE_LEN))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn empty_values_are_omitted_and_repeats_are_noticed() {
        let params = Params::new(pairs(&[("a", "1"), ("b", ""), ("c", "x"), ("c", "y")]));
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), None);
        assert!(params.is_repeated("c"));
        assert_eq!(params.first_repeated(), Some("c"));
    }
}
