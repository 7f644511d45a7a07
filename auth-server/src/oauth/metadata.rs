//! Authorization server metadata (RFC 8414 §2), served at
//! `/.well-known/oauth-authorization-server`, and the OpenID Provider metadata (OpenID
//! Connect Discovery 1.0 §3) at `/.well-known/openid-configuration`: one document, so the
//! two never disagree (RFC 8414 §2 registers the OpenID fields for both).

use serde_json::{Value, json};

use super::authorize::ResponseType;
use super::grant_type::GrantType;
use super::keys::KeyAlgorithm;
use super::scope::KNOWN_SCOPES;
use crate::oidc::userinfo::CLAIMS_SUPPORTED;

pub fn document(issuer: &str) -> Value {
    let scopes: Vec<&str> = KNOWN_SCOPES.iter().map(|(name, _)| *name).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks.json"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        // RP-Initiated Logout 1.0 §2.1, Back-Channel Logout 1.0 §2.1.
        "end_session_endpoint": format!("{issuer}/logout"),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
        "scopes_supported": scopes,
        "response_types_supported": ResponseType::ALL.map(ResponseType::as_str),
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "subject_types_supported": ["public"],
        // RS256 first: Discovery §3 requires it, and it is the default.
        "id_token_signing_alg_values_supported": [KeyAlgorithm::RS256.as_str(), KeyAlgorithm::EdDSA.as_str()],
        "claims_supported": CLAIMS_SUPPORTED,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        // Discovery §3: true unless said otherwise.
        "request_uri_parameter_supported": false,
        "ui_locales_supported": ["en"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    })
}
