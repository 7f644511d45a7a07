//! Cookie attributes (SECURITY.md 25): `HttpOnly`, `SameSite=Lax`, `Path=/`, and when the
//! issuer is https also `Secure` with the `__Host-` prefix, which pins the cookie to this
//! exact host so a sibling subdomain cannot plant one.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};
use shared::config::{PublicUrls, SessionSettings};

#[derive(Debug, Clone)]
pub struct CookiePolicy {
    secure: bool,
    pub session_name: &'static str,
    pub csrf_name: &'static str,
    session_max_age: CookieDuration,
}

impl CookiePolicy {
    pub fn new(urls: &PublicUrls, sessions: &SessionSettings) -> Self {
        let secure = urls.is_https();
        let lifetime = i64::try_from(sessions.absolute_lifetime.as_secs()).unwrap_or(i64::MAX);
        Self {
            secure,
            session_name: if secure { "__Host-session" } else { "session" },
            csrf_name: if secure { "__Host-csrf" } else { "csrf" },
            session_max_age: CookieDuration::seconds(lifetime),
        }
    }

    fn build(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish()
    }

    /// The session cookie; it lasts no longer than the session's absolute lifetime.
    pub fn session(&self, value: &str) -> Cookie<'static> {
        let mut cookie = self.build(self.session_name, value.to_owned());
        cookie.set_max_age(self.session_max_age);
        cookie
    }

    /// The CSRF cookie for visitors who are not signed in (sign-in and sign-up forms).
    pub fn csrf(&self, value: &str) -> Cookie<'static> {
        self.build(self.csrf_name, value.to_owned())
    }

    /// A cookie that tells the browser to drop `name` at once.
    pub fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut cookie = self.build(name, String::new());
        cookie.make_removal();
        cookie
    }
}
