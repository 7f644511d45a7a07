//! Email addresses: a pragmatic check (one `@`, a non-empty local part of at most 64
//! characters, a dotted domain, at most 254 characters, no spaces or control characters).
//! Stored lower-cased. Whether the mailbox exists is for a confirmation mail to tell.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

pub const MAX_LEN: usize = 254;

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim().to_lowercase();
        if value.is_empty() {
            return Err("Enter an email address.".into());
        }
        if value.chars().count() > MAX_LEN {
            return Err(format!(
                "An email address is at most {MAX_LEN} characters long."
            ));
        }
        let invalid = || "Enter an email address like name@example.com.".to_owned();
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty() && local.len() <= 64 && !local.contains('@');
        let domain_ok = domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'));
        let no_bad_chars = !value.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '"' | '(' | ')' | ',' | ';' | '\\')
        });
        if local_ok && domain_ok && no_bad_chars {
            Ok(Self(value))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_addresses() {
        assert_eq!(
            EmailAddress::parse(" Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        assert!(EmailAddress::parse("a.b+tag@sub.example.co.uk").is_ok());
    }

    #[test]
    fn refuses_malformed_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a b@example.com",
            "alice@@example.com",
            "alice@.example.com",
            "alice@example..com",
            "<a>@example.com",
            &long,
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
    }
}
