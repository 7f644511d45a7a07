//! The browser side of the pages: cookies, CSRF tokens, the signed-in-user extractor,
//! form limits, and the local-path check for `return_to`.

pub mod cookies;
pub mod csrf;
pub mod forms;
pub mod rate_limit;
pub mod return_to;
pub mod session;
