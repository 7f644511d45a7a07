//! What every handler can reach: the database, the settings, and the policies derived
//! from them once at startup.

use std::sync::Arc;

use shared::audit::AuditLog;
use shared::config::Settings;
use shared::db::Db;
use shared::ratelimit::Limiter;

use crate::accounts::ip_slowdown::IpSlowdown;
use crate::accounts::login::LoginPolicy;
use crate::accounts::password_reset::Outbox;
use crate::accounts::reauthentication::Checker;
use crate::accounts::sessions::SessionPolicy;
use crate::mail::Mailer;
use crate::oauth::client_cache::ClientCache;
use crate::oauth::keys::Keys;
use crate::oauth::minting::TokenPolicy;
use crate::oidc::logout::BackChannel;
use crate::password_hash::PasswordHashing;
use crate::web::cookies::CookiePolicy;

#[derive(Debug)]
pub struct AppState {
    pub db: Db,
    /// Where security events are recorded (SECURITY.md 30).
    pub audit: AuditLog,
    pub settings: Arc<Settings>,
    pub cookies: CookiePolicy,
    pub sessions: SessionPolicy,
    pub login: LoginPolicy,
    /// The threads that hash and verify passwords, behind their bounded queue.
    pub password_hashing: PasswordHashing,
    pub ip_slowdown: IpSlowdown,
    pub keys: Keys,
    pub limiter: Limiter,
    pub tokens: TokenPolicy,
    /// Clients that authenticated, to authenticate them again without a read.
    pub clients: ClientCache,
    /// Tells apps when a person's session ends (OpenID Connect back-channel logout).
    pub back_channel: BackChannel,
    /// Sends verification and password-reset messages in the background.
    pub mailer: Mailer,
}

impl AppState {
    pub fn new(
        db: Db,
        audit: AuditLog,
        settings: Arc<Settings>,
        limiter: Limiter,
        password_hashing: PasswordHashing,
        back_channel: BackChannel,
        mailer: Mailer,
    ) -> Self {
        Self {
            back_channel,
            mailer,
            password_hashing,
            cookies: CookiePolicy::new(&settings.urls, &settings.sessions),
            sessions: SessionPolicy::from_settings(&settings.sessions),
            login: LoginPolicy::from_settings(&settings.login),
            ip_slowdown: IpSlowdown::default(),
            keys: Keys::new(&settings.keys, &settings.tokens),
            limiter,
            tokens: TokenPolicy::from_settings(&settings.urls, &settings.tokens),
            clients: ClientCache::default(),
            db,
            audit,
            settings,
        }
    }

    /// Checks a signed-in person's password again (changing it, deleting the account).
    pub fn password_checker(&self) -> Checker<'_> {
        Checker {
            db: &self.db,
            hashing: &self.password_hashing,
            audit: &self.audit,
            policy: self.login,
        }
    }

    /// What a password-reset request needs off the request path.
    pub fn outbox(&self) -> Outbox {
        Outbox {
            db: self.db.clone(),
            mailer: self.mailer.clone(),
            audit: self.audit.clone(),
            issuer: self.settings.urls.issuer.clone(),
        }
    }
}
