//! The TOML file named by `--config`: its keys are the settings' names in lower case, its
//! values strings, integers or booleans.

use std::collections::HashMap;
use std::path::Path;

use super::ConfigError;

/// The file's values by setting name (upper case).
pub fn read_toml_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
        path: path.to_owned(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::FileSyntax {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut values = HashMap::new();
    for (key, value) in table {
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(ConfigError::FileSyntax {
                    path: path.to_owned(),
                    message: format!(
                        "`{key}` must be a string, integer or boolean, not {}",
                        other.type_str()
                    ),
                });
            }
        };
        values.insert(key.to_uppercase(), value);
    }
    Ok(values)
}
