//! What every handler can reach: the database, the settings, and the policies derived
//! from them once at startup.

use std::sync::Arc;

use shared::audit::AuditLog;
use shared::config::Settings;
use shared::db::Db;
use shared::ratelimit::Limiter;

use crate::accounts::ip_slowdown::IpSlowdown;
use crate::accounts::login::LoginPolicy;
use crate::accounts::mail_links::{self, FORGOT_PASSWORD_PATH};
use crate::accounts::password_reset::Outbox;
use crate::accounts::reauthentication::Checker;
use crate::accounts::sessions::SessionPolicy;
use crate::accounts::two_factor::enrolment::Enroller;
use crate::accounts::two_factor::second_step::Guard;
use crate::mail::messages::TwoFactorChange;
use crate::mail::{Mail, Mailer};
use crate::oauth::client_cache::ClientCache;
use crate::oauth::client_usage::UsageRecorder;
use crate::oauth::keys::{KeyEncryptionKey, Keys};
use crate::oauth::minting::TokenPolicy;
use crate::oidc::logout::BackChannel;
use crate::password_hash::PasswordHashing;
use crate::web::cookies::CookiePolicy;
use shared::models::user::User;

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
    /// When each client last authenticated, written at most hourly (`auth-server doctor`).
    pub client_usage: UsageRecorder,
    /// Tells apps when a person's session ends (OpenID Connect back-channel logout).
    pub back_channel: BackChannel,
    /// Sends verification and password-reset messages in the background.
    pub mailer: Mailer,
    /// `KEY_ENCRYPTION_KEY`, which also seals TOTP secrets (`None` in development without it).
    pub key_encryption_key: Option<KeyEncryptionKey>,
    /// What authenticator apps show beside the account name: the issuer's host.
    pub authenticator_label: String,
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
            client_usage: UsageRecorder::default(),
            key_encryption_key: KeyEncryptionKey::from_settings(&settings.keys),
            authenticator_label: url::Url::parse(&settings.urls.issuer)
                .ok()
                .and_then(|issuer| issuer.host_str().map(str::to_owned))
                .unwrap_or_else(|| "Tasks".into()),
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

    /// Checks second-factor codes, with the sign-in lockout.
    pub fn second_factor_guard(&self) -> Guard<'_> {
        Guard {
            db: &self.db,
            audit: &self.audit,
            kek: self.key_encryption_key.as_ref(),
            policy: self.login,
        }
    }

    /// Enrols authenticator apps.
    pub fn enroller(&self) -> Enroller<'_> {
        Enroller {
            db: &self.db,
            kek: self.key_encryption_key.as_ref(),
            issuer_label: &self.authenticator_label,
        }
    }

    /// Mails the account's owner that its two-factor sign-in changed.
    pub fn tell_two_factor_change(&self, user: &User, change: TwoFactorChange) {
        self.mailer.send(
            &user.email,
            &Mail::TwoFactorChanged {
                username: user.username.clone(),
                change,
                forgot_link: mail_links::page_url(&self.settings.urls.issuer, FORGOT_PASSWORD_PATH),
            },
        );
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
