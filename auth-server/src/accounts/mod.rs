//! Account logic with no HTTP types: registering, signing in (with lockout and per-IP
//! slow-down), browser sessions, API keys, and recovery: email verification, password
//! reset and change, through single-use links sent by mail; and deleting an account. Handlers in `routes` parse input and call
//! these; failures are `AccountError`, which the web layer turns into pages.

pub mod api_keys;
pub mod deletion;
pub mod email_change;
pub mod email_verification;
pub mod error;
pub mod ip_slowdown;
pub mod login;
pub mod mail_links;
pub mod password_change;
pub mod password_reset;
pub mod reauthentication;
pub mod register;
pub mod sessions;
pub mod two_factor;

pub use error::AccountError;

/// Who is asking: recorded with a session and used for per-IP slow-down.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
