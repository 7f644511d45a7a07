//! What auth-server and resource-api both need. The modules depend on each other one way
//! (checked by `tests/tests/architecture.rs`): `parse` on nothing; `config` (settings by
//! section) on `parse`; `db` and `models` on `config`; `audit` (the audit log, its own
//! value) on `db`; `ratelimit` on `config` and `audit`; `http` (CORS, security headers,
//! probes, the request log) and `startup` (what starting a server takes) on the rest.

pub mod audit;
pub mod claims;
pub mod config;
pub mod db;
pub mod http;
pub mod metrics;
pub mod models;
pub mod parse;
pub mod ratelimit;
pub mod schema;
pub mod startup;
pub mod telemetry;
pub mod tls;
pub mod token;
