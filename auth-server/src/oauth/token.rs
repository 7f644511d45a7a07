//! The token endpoint (RFC 6749 §3.2) as types: the grant types, a token request parsed
//! into the grant it asks for with that grant's parameters, and `exchange`, which runs
//! the grant — `authorization_code` (§4.1.3, in `codes`), `refresh_token` (§6, in
//! `refresh`) or `client_credentials` (§4.4, in `client_credentials`).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::NaiveDateTime;
use shared::db::Db;
use shared::models::client::Client;
use shared::token::PlainToken;

use super::client_credentials;
use super::codes::{self, CodeExchange};
use super::error::{ErrorCode, OAuthError};
use super::keys::KeyRing;
use super::minting::{TokenPolicy, TokenResponse};
use super::params::{Params, UnsupportedValue};
use super::refresh::{self, RefreshRequest};

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

/// A token request: the grant it asks for and that grant's parameters.
#[derive(Debug)]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3, with the PKCE verifier (RFC 7636 §4.5).
    AuthorizationCode {
        code: PlainToken,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    /// RFC 6749 §6: `scope` may narrow the family's scope.
    RefreshToken {
        refresh_token: PlainToken,
        scope: Option<String>,
    },
    /// RFC 6749 §4.4.
    ClientCredentials { scope: Option<String> },
}

impl TokenRequest {
    /// Reads the parameters `grant_type` needs; a missing required one is
    /// `invalid_request` (RFC 6749 §5.2).
    pub fn parse(grant_type: GrantType, params: &Params) -> Result<Self, OAuthError> {
        let required = |name: &str| {
            params
                .get(name)
                .map(PlainToken::from_client)
                .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")))
        };
        let optional = |name: &str| params.get(name).map(str::to_owned);
        Ok(match grant_type {
            GrantType::AuthorizationCode => Self::AuthorizationCode {
                code: required("code")?,
                redirect_uri: optional("redirect_uri"),
                code_verifier: optional("code_verifier"),
            },
            GrantType::RefreshToken => Self::RefreshToken {
                refresh_token: required("refresh_token")?,
                scope: optional("scope"),
            },
            GrantType::ClientCredentials => Self::ClientCredentials {
                scope: optional("scope"),
            },
        })
    }
}

/// Runs the grant `request` asks for, for the authenticated `client`. `arrived_at` is when
/// the token endpoint received the request, taken before anything that may wait: a code
/// or refresh token spent after it was spent by a request racing this one (see `refresh`).
pub async fn exchange(
    db: &Db,
    ring: Arc<KeyRing>,
    policy: TokenPolicy,
    client: Client,
    request: TokenRequest,
    arrived_at: NaiveDateTime,
) -> Result<TokenResponse, OAuthError> {
    match request {
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            let exchange = CodeExchange {
                code,
                redirect_uri,
                code_verifier,
                arrived_at,
            };
            codes::exchange(db, ring, policy, client, exchange).await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => {
            let request = RefreshRequest {
                refresh_token,
                scope,
                arrived_at,
            };
            refresh::refresh(db, ring, policy, client, request).await
        }
        TokenRequest::ClientCredentials { scope } => {
            client_credentials::issue(db, ring, policy, client, scope.as_deref()).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

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

    #[test]
    fn each_grant_reads_its_own_parameters() {
        let request = TokenRequest::parse(
            GrantType::AuthorizationCode,
            &params(&[("code", "ac_x"), ("code_verifier", "v"), ("scope", "s")]),
        )
        .unwrap();
        let TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } = request
        else {
            panic!("an authorization code request");
        };
        assert_eq!(code.expose(), "ac_x");
        assert_eq!(redirect_uri, None);
        assert_eq!(code_verifier.as_deref(), Some("v"));

        let error =
            TokenRequest::parse(GrantType::RefreshToken, &params(&[("code", "x")])).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRequest);
        assert_eq!(error.description, "refresh_token is missing");
        let request =
            TokenRequest::parse(GrantType::ClientCredentials, &params(&[("scope", "a b")]));
        assert!(matches!(
            request,
            Ok(TokenRequest::ClientCredentials { scope: Some(s) }) if s == "a b"
        ));
    }
}
