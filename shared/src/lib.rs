//! What auth-server and resource-api both need: configuration, the database layer and its
//! models, secret-token types, and the HTTP pieces both mount (security headers, probes).

pub mod audit;
pub mod claims;
pub mod config;
pub mod db;
pub mod http;
pub mod models;
pub mod parse;
pub mod ratelimit;
pub mod schema;
pub mod startup;
pub mod telemetry;
pub mod token;
