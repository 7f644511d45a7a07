//! The HTTP side of the server: cookies, CSRF tokens, the signed-in-user extractor, form
//! limits, the local-path check for `return_to`, rate limits, and OAuth errors as
//! responses.

pub mod cookies;
pub mod csrf;
pub mod forms;
pub mod oauth_error;
pub mod rate_limit;
pub mod return_to;
pub mod session;
