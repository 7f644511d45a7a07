//! A setting is declared once, where it is read: its name (the environment variable, and
//! lower-cased the TOML key), its default as README shows it, its parser and its
//! documentation line. Reading settings through a [`Source`] records every declaration,
//! so the list of names, the unknown-key check and the README and `.env.example` checks
//! all come from those same declarations.
//!
//! A secret ([`FILE_FORMS`]) may instead be given as `NAME_FILE=/path`, the way container
//! secrets are mounted: the file's content, trimmed, is the value. Giving both forms in the
//! same place is an error naming the setting.

use std::collections::HashMap;

use super::ConfigError;

/// What a setting is when it is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    /// This value, parsed like a given one (`30m`).
    Value(&'static str),
    /// Computed where the setting is read; the words say how (`cores`).
    Described(&'static str),
    /// Unset: the feature it configures is off, or production refuses to start.
    Unset,
}

/// One setting: everything about it in one place.
#[derive(Debug)]
pub struct Setting<T> {
    pub name: &'static str,
    pub default: Default,
    pub parse: fn(&str) -> Result<T, String>,
    /// README's "meaning" column for it.
    pub doc: &'static str,
}

/// The parser of a setting whose value is any text, or one checked later against other
/// settings (a public URL against the mode).
pub fn text(value: &str) -> Result<String, String> {
    Ok(value.to_owned())
}

/// The secret settings and the name of their file form (`DATABASE_URL_FILE`), in the
/// environment or, lower-cased, as a TOML key.
pub const FILE_FORMS: &[(&str, &str)] = &[
    ("DATABASE_URL", "DATABASE_URL_FILE"),
    ("KEY_ENCRYPTION_KEY", "KEY_ENCRYPTION_KEY_FILE"),
    ("REDIS_URL", "REDIS_URL_FILE"),
    ("SMTP_URL", "SMTP_URL_FILE"),
];

/// The file form of `name`, if it is a secret setting.
pub fn file_form(name: &str) -> Option<&'static str> {
    FILE_FORMS
        .iter()
        .find(|(secret, _)| *secret == name)
        .map(|(_, file)| *file)
}

/// A setting's declaration without its type: what README and `.env.example` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declaration {
    pub name: &'static str,
    pub default: Default,
    pub doc: &'static str,
}

/// The values to read settings from: a TOML file's (or a test's) values by name, then the
/// process environment, which wins.
#[derive(Debug)]
pub struct Source {
    values: HashMap<String, String>,
    environment: bool,
    declared: Vec<Declaration>,
}

impl Source {
    /// `values` alone (tests, `Settings::from_values`).
    pub fn values(values: HashMap<String, String>) -> Self {
        Self {
            values,
            environment: false,
            declared: Vec::new(),
        }
    }

    /// `values` from a file, with the environment over them.
    pub fn with_environment(values: HashMap<String, String>) -> Self {
        Self {
            environment: true,
            ..Self::values(values)
        }
    }

    /// The trimmed, non-empty value given for `setting`, if any, from the environment or
    /// else the file's values, each in its plain or (for a secret) its `_FILE` form;
    /// records its declaration.
    pub fn raw<T>(&mut self, setting: &Setting<T>) -> Result<Option<String>, ConfigError> {
        self.declared.push(Declaration {
            name: setting.name,
            default: setting.default,
            doc: setting.doc,
        });
        let from_environment = if self.environment {
            given_in(setting.name, |name| std::env::var(name).ok())?
        } else {
            None
        };
        match from_environment {
            Some(value) => Ok(Some(value)),
            None => given_in(setting.name, |name| self.values.get(name).cloned()),
        }
    }

    /// The value of `setting`, or `None` when it is not given (for defaults computed by
    /// the caller, and settings that may stay unset).
    pub fn optional<T>(&mut self, setting: &Setting<T>) -> Result<Option<T>, ConfigError> {
        self.raw(setting)?
            .map(|value| {
                (setting.parse)(&value).map_err(|message| ConfigError::Invalid {
                    name: setting.name,
                    message,
                })
            })
            .transpose()
    }

    /// The value of `setting`, or its declared default.
    pub fn get<T>(&mut self, setting: &Setting<T>) -> Result<T, ConfigError> {
        if let Some(value) = self.optional(setting)? {
            return Ok(value);
        }
        match setting.default {
            Default::Value(default) => {
                (setting.parse)(default).map_err(|message| ConfigError::Invalid {
                    name: setting.name,
                    message: format!("the default does not parse: {message}"),
                })
            }
            Default::Described(_) | Default::Unset => Err(ConfigError::Invalid {
                name: setting.name,
                message: "has no default value; read it with `optional`".into(),
            }),
        }
    }

    /// Whether `setting` was given at all, in either form (production needs some
    /// explicitly).
    pub fn is_given<T>(&self, setting: &Setting<T>) -> bool {
        let given = |value: &String| !value.trim().is_empty();
        let mut names = vec![setting.name];
        names.extend(file_form(setting.name));
        names.iter().any(|name| {
            (self.environment && std::env::var(name).is_ok_and(|v| given(&v)))
                || self.values.get(*name).is_some_and(given)
        })
    }

    /// Every declaration read, after refusing a value for a name nobody declared (a typo
    /// in a config file).
    pub fn finish(self) -> Result<Vec<Declaration>, ConfigError> {
        let mut unknown: Vec<&String> = self
            .values
            .keys()
            .filter(|key| {
                !self
                    .declared
                    .iter()
                    .any(|d| d.name == key.as_str() || file_form(d.name) == Some(key.as_str()))
            })
            .collect();
        unknown.sort();
        if let Some(key) = unknown.first() {
            return Err(ConfigError::Invalid {
                name: "config file",
                message: format!("unknown setting `{}`", key.to_lowercase()),
            });
        }
        Ok(self.declared)
    }
}

/// The value of setting `name` in one place (`lookup` reads a name there): its plain form,
/// or the content of the file its `_FILE` form names; both given is an error.
fn given_in(
    name: &'static str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    let non_empty = |value: Option<String>| {
        value
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let plain = non_empty(lookup(name));
    let Some(file_name) = file_form(name) else {
        return Ok(plain);
    };
    let Some(path) = non_empty(lookup(file_name)) else {
        return Ok(plain);
    };
    if plain.is_some() {
        return Err(ConfigError::Invalid {
            name,
            message: format!("is given both as {name} and as {file_name}: set one of them"),
        });
    }
    let content = std::fs::read_to_string(&path).map_err(|error| ConfigError::Invalid {
        name: file_name,
        message: format!("cannot read `{path}`: {error}"),
    })?;
    match non_empty(Some(content)) {
        Some(value) => Ok(Some(value)),
        None => Err(ConfigError::Invalid {
            name: file_name,
            message: format!("`{path}` is empty"),
        }),
    }
}
