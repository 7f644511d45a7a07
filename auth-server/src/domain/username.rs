//! Usernames: 3–32 characters of lower-case letters, digits, `.`, `_` and `-`, starting with
//! a letter or digit. Input is trimmed and lower-cased, so `Alice` and `alice` are one account.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 32;

impl Username {
    pub fn parse(input: &str) -> Result<Self, String> {
        let value = normalize(input);
        if value.is_empty() {
            return Err("Enter a username.".into());
        }
        let length = value.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&length) {
            return Err(format!(
                "A username is {MIN_LEN} to {MAX_LEN} characters long."
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(
                "A username may contain only letters a–z, digits, dots, dashes and underscores."
                    .into(),
            );
        }
        if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("A username starts with a letter or a digit.".into());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The form a username is compared in. Also used for sign-in input that is not a valid
/// username, so a typo and a stranger's name are throttled alike.
pub fn normalize(input: &str) -> String {
    input.trim().to_lowercase()
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalizes_valid_names() {
        assert_eq!(Username::parse("  Alice_1 ").unwrap().as_str(), "alice_1");
        assert_eq!(Username::parse("a.b-c").unwrap().as_str(), "a.b-c");
        assert!(Username::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn refuses_invalid_names() {
        for bad in [
            "",
            "ab",
            &"a".repeat(33),
            "al ice",
            "_alice",
            "alïce",
            "a<b>",
            "a\u{0}b",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}
