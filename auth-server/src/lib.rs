//! The OAuth 2.0 authorization server: the protocol (`oauth`) and accounts (`accounts`),
//! both free of HTTP types; their pages and endpoints (`routes`, `web`, `templates`); and
//! the operator CLI (`cli`). `startup::build` is what `main` and the tests run.

pub mod accounts;
pub mod cli;
pub mod domain;
pub mod error;
pub mod mail;
pub mod oauth;
pub mod oidc;
pub mod password_hash;
pub mod routes;
pub mod startup;
pub mod state;
pub mod templates;
pub mod web;
