//! OpenID Connect Core 1.0 on top of the OAuth authorization-code flow: a request whose
//! scope holds `openid` gets an ID token with its code's tokens, and userinfo answers who
//! the access token's person is.
//!
//! - `request`: the authorization request's OpenID Connect parameters (`nonce`, `prompt`,
//!   `max_age`, `login_hint`; Core §3.1.2.1);
//! - `id_token`: the ID token's claims and `at_hash` (Core §2, §3.1.3.6), signed with the
//!   algorithm the client registered;
//! - `userinfo`: the claims the granted scopes release (Core §5.3, §5.4);
//! - `logout`: RP-initiated logout requests and back-channel logout tokens.

pub mod id_token;
pub mod logout;
pub mod request;
pub mod userinfo;
