//! The OAuth 2.0 protocol, with no actix types: the client registry, authorization
//! requests, consent, codes, the token endpoint's grants, token minting, signing keys and
//! metadata. Handlers in
//! `routes` parse HTTP and call these; the roles follow oxide-auth's split (registrar,
//! authorizer, issuer), written over our own store. `tests/layers.rs` fails if a file
//! here uses actix or the crate's HTTP modules (`web`, `routes`, `error`, ...).

pub mod authorize;
pub mod client_cache;
pub mod client_credentials;
pub mod client_usage;
pub mod clients;
pub mod codes;
pub mod consent;
pub mod error;
pub mod grant_type;
pub mod housekeeping;
pub mod introspection;
pub mod keys;
pub mod metadata;
pub mod minting;
pub mod params;
pub mod pkce;
pub mod redirect_uri;
pub mod refresh;
pub mod revocation;
pub mod scope;
pub mod token;
pub mod token_type;
