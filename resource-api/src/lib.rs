//! The task API (resource server): validates the authorization server's access tokens
//! locally (JWKS + an in-memory revocation list) and serves each user's tasks.

pub mod auth;
pub mod openapi;
pub mod problem;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod state;
