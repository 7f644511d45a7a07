//! Scopes (RFC 6749 §3.3): a set of space-separated tokens. Only the scopes this server
//! knows can be registered or asked for; each has a sentence for the consent page.

use std::collections::BTreeSet;
use std::fmt;

/// Every scope the server knows, with what it lets an app do, in plain words.
pub const KNOWN_SCOPES: &[(&str, &str)] = &[
    (
        "openid",
        "Know who you are: sign you in with your Tasks Account",
    ),
    ("profile", "See your username"),
    ("email", "See your email address"),
    (
        "offline_access",
        "Keep its access while you are away, until you disconnect it",
    ),
    ("tasks:read", "See your tasks"),
    ("tasks:write", "Create, change and delete your tasks"),
];

/// OpenID Connect Core §3.1.2.1: a request with this scope is an OpenID Connect request.
pub const OPENID: &str = "openid";
/// Core §11: with `openid`, a refresh token is issued only when this was granted.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The scopes about a person (Core §5.4, §11): they mean nothing in a token with no
/// user, so `client_credentials` never grants them.
pub const IDENTITY_SCOPES: &[&str] = &[OPENID, "profile", "email", OFFLINE_ACCESS];

/// A non-empty set of known scopes, kept sorted so equal sets print equally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(BTreeSet<String>);

/// Why a scope string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    Empty,
    /// Not `1*( %x21 / %x23-5B / %x5D-7E )` tokens separated by single spaces.
    Malformed,
    Unknown(String),
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the scope is empty"),
            Self::Malformed => {
                f.write_str("the scope is not a space-separated list of scope tokens")
            }
            Self::Unknown(token) => write!(f, "unknown scope \"{token}\""),
        }
    }
}

fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

impl Scope {
    /// Parses a scope parameter: tokens separated by single spaces, each known.
    pub fn parse(value: &str) -> Result<Self, ScopeError> {
        if value.is_empty() {
            return Err(ScopeError::Empty);
        }
        let mut tokens = BTreeSet::new();
        for token in value.split(' ') {
            if token.is_empty() || !token.chars().all(is_scope_char) {
                return Err(ScopeError::Malformed);
            }
            if !KNOWN_SCOPES.iter().any(|(known, _)| *known == token) {
                return Err(ScopeError::Unknown(token.chars().take(64).collect()));
            }
            tokens.insert(token.to_owned());
        }
        Ok(Self(tokens))
    }

    /// A scope stored by us (space-separated, already validated when written).
    pub fn from_stored(value: &str) -> Self {
        Self(value.split_whitespace().map(str::to_owned).collect())
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn union(&self, other: &Scope) -> Scope {
        Scope(self.0.union(&other.0).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    /// An OpenID Connect request or grant (Core §3.1.2.1).
    pub fn is_openid(&self) -> bool {
        self.contains(OPENID)
    }

    /// Whether a refresh token may be issued for this scope (Core §11): always for plain
    /// OAuth; with `openid`, only when `offline_access` was granted too.
    pub fn allows_refresh(&self) -> bool {
        !self.is_openid() || self.contains(OFFLINE_ACCESS)
    }

    /// The scope without the identity scopes; `None` when nothing is left.
    pub fn without_identity(&self) -> Option<Scope> {
        let rest: BTreeSet<String> = self
            .0
            .iter()
            .filter(|token| !IDENTITY_SCOPES.contains(&token.as_str()))
            .cloned()
            .collect();
        (!rest.is_empty()).then_some(Scope(rest))
    }

    /// The identity scopes it holds, if any.
    pub fn identity_scopes(&self) -> impl Iterator<Item = &str> {
        self.iter().filter(|token| IDENTITY_SCOPES.contains(token))
    }

    /// The consent page's sentence for each scope.
    pub fn descriptions(&self) -> Vec<(&str, &'static str)> {
        self.iter()
            .map(|token| {
                let sentence = KNOWN_SCOPES
                    .iter()
                    .find(|(known, _)| *known == token)
                    .map_or("", |(_, sentence)| *sentence);
                (token, sentence)
            })
            .collect()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined: Vec<&str> = self.iter().collect();
        f.write_str(&joined.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_scopes_in_any_order() {
        let scope = Scope::parse("tasks:write tasks:read").unwrap();
        assert_eq!(scope.to_string(), "tasks:read tasks:write");
        assert!(Scope::parse("tasks:read").unwrap().is_subset_of(&scope));
        assert!(!scope.is_subset_of(&Scope::parse("tasks:read").unwrap()));
    }

    #[test]
    fn refuses_malformed_and_unknown_scopes() {
        assert_eq!(Scope::parse(""), Err(ScopeError::Empty));
        for malformed in [
            "tasks:read  tasks:write",
            " tasks:read",
            "tasks:read\ttasks:write",
            "a\"b",
            "tâche",
        ] {
            assert_eq!(
                Scope::parse(malformed),
                Err(ScopeError::Malformed),
                "{malformed:?}"
            );
        }
        assert_eq!(
            Scope::parse("admin"),
            Err(ScopeError::Unknown("admin".into()))
        );
    }

    #[test]
    fn openid_requests_refresh_only_with_offline_access() {
        assert!(Scope::parse("tasks:read").unwrap().allows_refresh());
        assert!(
            Scope::parse("tasks:read offline_access")
                .unwrap()
                .allows_refresh()
        );
        assert!(!Scope::parse("openid tasks:read").unwrap().allows_refresh());
        assert!(
            Scope::parse("openid offline_access")
                .unwrap()
                .allows_refresh()
        );
        let scope = Scope::parse("openid email tasks:read").unwrap();
        assert!(scope.is_openid());
        assert_eq!(scope.without_identity().unwrap().to_string(), "tasks:read");
        assert_eq!(
            scope.identity_scopes().collect::<Vec<_>>(),
            ["email", "openid"]
        );
        assert!(
            Scope::parse("openid profile")
                .unwrap()
                .without_identity()
                .is_none()
        );
    }
}
