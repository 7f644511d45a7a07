//! The two kinds of token a client can hand back, by their `token_type_hint` names
//! (RFC 7009 §2.1, RFC 7662 §2.1). Our tokens tell themselves apart — refresh tokens start
//! with `rt_`, anything else is taken for an access token (a JWT) — so the hint never
//! decides where a token is looked up. An unknown hint is ignored, not refused (RFC 7009
//! §2.1), and so is one that does not match the token (the server "MUST extend its search
//! across all of its supported token types").

use std::fmt;
use std::str::FromStr;

use super::minting::REFRESH_TOKEN_PREFIX;
use super::params::UnsupportedValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    AccessToken,
    RefreshToken,
}

impl TokenType {
    pub const ALL: [TokenType; 2] = [Self::AccessToken, Self::RefreshToken];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
        }
    }

    /// What `token` is, whatever the client says.
    pub fn of(token: &str) -> Self {
        if token.starts_with(REFRESH_TOKEN_PREFIX) {
            Self::RefreshToken
        } else {
            Self::AccessToken
        }
    }

    /// The `token_type_hint` parameter: `None` when absent or unknown (ignored, RFC 7009
    /// §2.1).
    pub fn from_hint(hint: Option<&str>) -> Option<Self> {
        hint.and_then(|hint| hint.parse().ok())
    }

    /// What `token` is; a `hint` that says otherwise is noted and ignored.
    pub fn resolve(token: &str, hint: Option<Self>) -> Self {
        let kind = Self::of(token);
        if let Some(hint) = hint.filter(|hint| *hint != kind) {
            tracing::debug!(hint = %hint, token_type = %kind, "token_type_hint does not match the token; ignored");
        }
        kind
    }
}

impl FromStr for TokenType {
    type Err = UnsupportedValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| UnsupportedValue::new("token_type_hint", value))
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_decides_and_unknown_hints_are_ignored() {
        assert_eq!(TokenType::of("rt_abc"), TokenType::RefreshToken);
        assert_eq!(TokenType::of("eyJhbGciOi.x.y"), TokenType::AccessToken);
        assert_eq!(
            TokenType::from_hint(Some("refresh_token")),
            Some(TokenType::RefreshToken)
        );
        assert_eq!(TokenType::from_hint(Some("id_token")), None);
        assert_eq!(TokenType::from_hint(None), None);
        assert_eq!(
            TokenType::resolve("rt_abc", Some(TokenType::AccessToken)),
            TokenType::RefreshToken
        );
        for kind in TokenType::ALL {
            assert_eq!(kind.to_string().parse::<TokenType>(), Ok(kind));
        }
    }
}
