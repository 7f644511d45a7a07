//! Validated account input: a value of these types cannot be invalid, so code past the
//! HTTP boundary never re-checks it. Each `parse` returns a message fit to show a person.

mod email;
mod password;
pub mod username;

pub use email::EmailAddress;
pub use password::NewPassword;
pub use username::Username;
