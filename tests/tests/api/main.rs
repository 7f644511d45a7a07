//! End-to-end tests: the servers are started in-process on port 0, each test on a fresh
//! database (a temporary SQLite file, or a new PostgreSQL database when
//! `TEST_DATABASE_URL=postgres://…` is set), and driven over real HTTP like a browser.

// Tests fail by panicking: unwrap and expect are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod account_recovery;
mod api_keys;
mod apps;
mod audit;
mod authorize_errors;
mod backup;
mod client_cache;
mod client_credentials;
mod client_library;
mod client_secrets;
mod client_usage;
mod concurrent_use;
mod cors;
mod csrf;
mod discovery;
mod health;
mod introspection;
mod jwks_refetch;
mod key_rotation;
mod login;
mod logout;
mod metrics;
mod native_apps;
mod oauth_flow;
mod openid_connect;
mod pages;
mod properties;
mod rate_limits;
mod redirect_properties;
mod redirect_uris;
mod refresh;
mod registration;
mod revocation;
mod revocation_list;
mod sessions;
mod several_instances;
mod task_api_headers;
mod task_auth;
mod tasks;
mod tls;
mod token_errors;
mod two_factor;
