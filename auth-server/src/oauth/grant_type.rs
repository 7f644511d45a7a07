//! The grant types this server supports (RFC 6749 §4), as a type: what clients send as
//! `grant_type`, what `clients.grant_types` stores, and which of them a client may use.

use std::fmt;
use std::str::FromStr;

use shared::models::client::Client;

use super::error::{ErrorCode, OAuthError};
use super::params::{Params, UnsupportedValue};

/// The grant types this server supports (RFC 6749 §4). Their names are what clients send
/// as `grant_type` and what `clients.grant_types` stores, space-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
}

impl GrantType {
    /// Every supported grant type, in the order metadata and the CLI list them.
    pub const ALL: [GrantType; 3] = [
        Self::AuthorizationCode,
        Self::ClientCredentials,
        Self::RefreshToken,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
        }
    }

    /// Whether `client` is registered for this grant type.
    pub fn is_allowed_for(self, client: &Client) -> bool {
        client.allows_grant_type(self.as_str())
    }

    /// The grant type a token request names, if this `client` may use it: a missing
    /// `grant_type` is `invalid_request`, an unknown one `unsupported_grant_type`, one
    /// the client is not registered for `unauthorized_client` (RFC 6749 §5.2).
    pub fn requested_by(client: &Client, params: &Params) -> Result<Self, OAuthError> {
        let grant_type = params
            .get("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?
            .parse::<Self>()
            .map_err(|_| {
                OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "supported grant types: authorization_code, refresh_token, client_credentials",
                )
            })?;
        if !grant_type.is_allowed_for(client) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "this client may not use this grant type",
            ));
        }
        Ok(grant_type)
    }
}

impl FromStr for GrantType {
    type Err = UnsupportedValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|grant_type| grant_type.as_str() == value)
            .ok_or_else(|| UnsupportedValue::new("grant_type", value))
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types_read_and_print_their_names() {
        for grant_type in GrantType::ALL {
            assert_eq!(grant_type.as_str().parse::<GrantType>(), Ok(grant_type));
            assert_eq!(grant_type.to_string(), grant_type.as_str());
        }
        assert_eq!(
            "password".parse::<GrantType>(),
            Err(UnsupportedValue::new("grant_type", "password"))
        );
        assert!("Authorization_Code".parse::<GrantType>().is_err());
    }
}
