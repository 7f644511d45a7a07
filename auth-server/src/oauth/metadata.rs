//! Authorization server metadata (RFC 8414 §2), served at
//! `/.well-known/oauth-authorization-server`.

use serde_json::{Value, json};

use super::authorize::ResponseType;
use super::grant_type::GrantType;
use super::scope::KNOWN_SCOPES;

pub fn document(issuer: &str) -> Value {
    let scopes: Vec<&str> = KNOWN_SCOPES.iter().map(|(name, _)| *name).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks.json"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "scopes_supported": scopes,
        "response_types_supported": ResponseType::ALL.map(ResponseType::as_str),
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    })
}
