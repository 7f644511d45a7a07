//! What the end-to-end tests share, one concern per module: a fresh database per test and
//! direct queries on it ([`database`]), the servers started on it ([`servers`]), a browser
//! and the pages it reads ([`browser`]), an OAuth client of the auth-server
//! ([`oauth_client`]), an SMTP server that receives the mail ([`mail`]), and the JWTs the servers issue and verify ([`tokens`]).

pub mod browser;
pub mod database;
pub mod http_client;
pub mod mail;
pub mod oauth_client;
pub mod redis;
pub mod servers;
pub mod tokens;
