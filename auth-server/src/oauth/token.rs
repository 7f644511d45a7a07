//! The token endpoint (RFC 6749 §3.2) as types: a token request parsed
//! into the grant it asks for with that grant's parameters, and `exchange`, which runs
//! the grant — `authorization_code` (§4.1.3, in `codes`), `refresh_token` (§6, in
//! `refresh`) or `client_credentials` (§4.4, in `client_credentials`).

use std::sync::Arc;

use chrono::NaiveDateTime;
use shared::audit::AuditLog;
use shared::db::Db;
use shared::models::client::Client;
use shared::token::PlainToken;

use super::client_credentials;
use super::codes::{self, CodeExchange};
use super::error::OAuthError;
use super::grant_type::GrantType;
use super::keys::KeyRing;
use super::minting::{ExchangeError, TokenPolicy, TokenResponse};
use super::params::Params;
use super::refresh::{self, RefreshRequest};

/// A token request: the grant it asks for and that grant's parameters. Its `Debug` shows no
/// secret: the code and refresh token print as `PlainToken(***)`, the verifier as `***`.
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

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => f
                .debug_struct("AuthorizationCode")
                .field("code", code)
                .field("redirect_uri", redirect_uri)
                .field("code_verifier", &code_verifier.as_ref().map(|_| "***"))
                .finish(),
            Self::RefreshToken {
                refresh_token,
                scope,
            } => f
                .debug_struct("RefreshToken")
                .field("refresh_token", refresh_token)
                .field("scope", scope)
                .finish(),
            Self::ClientCredentials { scope } => f
                .debug_struct("ClientCredentials")
                .field("scope", scope)
                .finish(),
        }
    }
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
    audit: &AuditLog,
    ring: Arc<KeyRing>,
    policy: TokenPolicy,
    client: Client,
    request: TokenRequest,
    arrived_at: NaiveDateTime,
) -> Result<TokenResponse, ExchangeError> {
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
            codes::exchange(db, audit, ring, policy, client, exchange).await
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
            refresh::refresh(db, audit, ring, policy, client, request).await
        }
        TokenRequest::ClientCredentials { scope } => {
            client_credentials::issue(db, ring, policy, client, scope.as_deref()).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
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

    #[test]
    fn debug_shows_no_code_token_or_verifier() {
        let request = TokenRequest::parse(
            GrantType::AuthorizationCode,
            &params(&[
                ("code", "ac_secretcode"),
                ("code_verifier", "verifier-secret"),
            ]),
        )
        .unwrap();
        let printed = format!("{request:?}");
        assert!(!printed.contains("secretcode") && !printed.contains("verifier-secret"));
        assert!(
            printed.contains("code_verifier: Some(\"***\")"),
            "{printed}"
        );
        let request = TokenRequest::parse(
            GrantType::RefreshToken,
            &params(&[("refresh_token", "rt_secretrefresh")]),
        )
        .unwrap();
        assert!(!format!("{request:?}").contains("secretrefresh"));
    }
}
