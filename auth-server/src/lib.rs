//! The OAuth 2.0 authorization server: accounts (sign-up, sign-in, sessions) and their
//! pages, plus the operator CLI. `startup::build` is what `main` and the tests run.

pub mod accounts;
pub mod cli;
pub mod domain;
pub mod error;
pub mod oauth;
pub mod password_hash;
pub mod routes;
pub mod startup;
pub mod state;
pub mod templates;
pub mod web;
