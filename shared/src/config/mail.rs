//! The mail section: where verification and password-reset messages go (an SMTP relay,
//! or in development the log or a folder of `.eml` files), who they come from, and
//! whether an unverified address may sign in to third-party apps.

use std::path::PathBuf;

use url::Url;

use super::ConfigError;
use super::declare::Default::{Described, Unset, Value};
use super::declare::{Setting, Source, text};
use super::secret::SecretString;
use crate::parse;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: plain connection upgraded with STARTTLS, which must succeed.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
    /// `smtp://…?tls=none`: no TLS at all, accepted for a relay on loopback only.
    None,
}

/// A parsed `SMTP_URL`. `Debug` leaves the password out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpRelay {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
}

/// Where messages are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    Smtp(SmtpRelay),
    /// Development: each message, link included, is written to the log.
    Log,
    /// Development and tests: each message is written to `DIR` as an `.eml` file.
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// The `From:` header, `Name <address>` or a bare address (checked where mail is built).
    pub from: String,
    /// Whether an account with an unproven email address may authorize third-party apps.
    pub require_verified_email: bool,
}

pub const SMTP_URL: Setting<SmtpRelay> = Setting {
    name: "SMTP_URL",
    default: Unset,
    parse: smtp_url,
    doc: r#"the mail relay: `smtp://user:pass@host:587` (STARTTLS, required) or `smtps://user:pass@host:465` (TLS); `?tls=none` only for a relay on loopback. Unset: `MAIL_TRANSPORT` decides"#,
};
pub const MAIL_TRANSPORT: Setting<MailTransport> = Setting {
    name: "MAIL_TRANSPORT",
    default: Described("`smtp` when `SMTP_URL` is set, else `log`"),
    parse: transport_without_relay,
    doc: r#"`log` writes each message, link included, to the log (development only); `file:DIR` writes `.eml` files to DIR; `smtp` sends through `SMTP_URL`"#,
};
pub const MAIL_FROM: Setting<String> = Setting {
    name: "MAIL_FROM",
    default: Value("Tasks Account <no-reply@localhost>"),
    parse: text,
    doc: r#"the sender of verification and password-reset messages"#,
};
pub const REQUIRE_VERIFIED_EMAIL: Setting<bool> = Setting {
    name: "REQUIRE_VERIFIED_EMAIL",
    default: Value("off"),
    parse: parse::boolean,
    doc: r#"`on`: an account whose email address is not verified cannot authorize third-party apps (first-party apps and the account pages still work)"#,
};

/// `MAIL_TRANSPORT` alone: `smtp` is resolved against `SMTP_URL` in [`read`].
fn transport_without_relay(value: &str) -> Result<MailTransport, String> {
    match value {
        "log" => Ok(MailTransport::Log),
        "smtp" => Err("`smtp` needs SMTP_URL".into()),
        other => match other.strip_prefix("file:") {
            Some(dir) if !dir.is_empty() => Ok(MailTransport::File(PathBuf::from(dir))),
            _ => Err(format!("`{other}` is none of `log`, `file:DIR`, `smtp`")),
        },
    }
}

/// Reads `smtp://` and `smtps://` URLs with the WHATWG parser; user and password are
/// percent-decoded (`%40` is `@`; `+` stays `+`).
fn smtp_url(value: &str) -> Result<SmtpRelay, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    let mut security = match url.scheme() {
        "smtp" => SmtpSecurity::StartTls,
        "smtps" => SmtpSecurity::ImplicitTls,
        other => return Err(format!("the scheme is `{other}`, not smtp or smtps")),
    };
    let host = match url.host() {
        Some(url::Host::Domain(name)) => name.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err("the URL names no host".into()),
    };
    for (key, tls) in url.query_pairs() {
        match (key.as_ref(), tls.as_ref(), security) {
            ("tls", "required", _) => {}
            ("tls", "none", SmtpSecurity::StartTls) => security = SmtpSecurity::None,
            ("tls", other, _) => return Err(format!("`tls={other}` is not required or none")),
            (other, _, _) => return Err(format!("unknown parameter `{other}`")),
        }
    }
    if security == SmtpSecurity::None && !is_loopback(&url) {
        return Err(
            "`tls=none` sends the password and every reset link in the clear; it is \
                    accepted for a relay on loopback only"
                .into(),
        );
    }
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .map(|decoded| decoded.into_owned())
            .map_err(|_| "the user or password is not valid UTF-8".to_owned())
    };
    let username = (!url.username().is_empty())
        .then(|| decode(url.username()))
        .transpose()?;
    let password = url
        .password()
        .map(decode)
        .transpose()?
        .map(SecretString::new);
    let port = url.port().unwrap_or(match security {
        SmtpSecurity::ImplicitTls => 465,
        SmtpSecurity::StartTls | SmtpSecurity::None => 587,
    });
    Ok(SmtpRelay {
        host,
        port,
        security,
        username,
        password,
    })
}

/// `smtp:` is not a special scheme to the URL Standard, so an IPv4 address arrives as an
/// opaque host name and is read as an address here.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub fn read(source: &mut Source) -> Result<MailSettings, ConfigError> {
    let relay = source.optional(&SMTP_URL)?;
    let transport_given = source.raw(&MAIL_TRANSPORT)?;
    let transport = match (transport_given.as_deref(), relay) {
        (Some("smtp") | None, Some(relay)) => MailTransport::Smtp(relay),
        (Some("smtp"), None) => {
            return Err(ConfigError::Invalid {
                name: MAIL_TRANSPORT.name,
                message: "is `smtp` but SMTP_URL is not set".into(),
            });
        }
        (Some(value), relay) => {
            let transport =
                transport_without_relay(value).map_err(|message| ConfigError::Invalid {
                    name: MAIL_TRANSPORT.name,
                    message,
                })?;
            if relay.is_some() {
                return Err(ConfigError::Invalid {
                    name: MAIL_TRANSPORT.name,
                    message: format!("is `{value}` while SMTP_URL is set: set one of them"),
                });
            }
            transport
        }
        (None, None) => MailTransport::Log,
    };
    Ok(MailSettings {
        transport,
        from: source.get(&MAIL_FROM)?,
        require_verified_email: source.get(&REQUIRE_VERIFIED_EMAIL)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_means_starttls_and_smtps_means_tls() {
        let relay = smtp_url("smtp://mailer:p%40ss+1@mail.example.com:2525").unwrap();
        assert_eq!(relay.security, SmtpSecurity::StartTls);
        assert_eq!(
            (relay.host.as_str(), relay.port),
            ("mail.example.com", 2525)
        );
        assert_eq!(relay.username.as_deref(), Some("mailer"));
        assert_eq!(
            relay.password.as_ref().map(SecretString::expose),
            Some("p@ss+1")
        );
        assert!(
            smtp_url("smtp://mailer:%FF@mail.example.com").is_err(),
            "not UTF-8"
        );
        let relay = smtp_url("smtps://mail.example.com").unwrap();
        assert_eq!(
            (relay.security, relay.port),
            (SmtpSecurity::ImplicitTls, 465)
        );
        assert_eq!(relay.username, None);
    }

    #[test]
    fn plain_smtp_only_on_loopback() {
        let relay = smtp_url("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!(relay.security, SmtpSecurity::None);
        assert!(smtp_url("smtp://[::1]:25?tls=none").is_ok());
        let refused = smtp_url("smtp://mail.example.com?tls=none").unwrap_err();
        assert!(refused.contains("loopback"), "{refused}");
        assert!(smtp_url("smtps://127.0.0.1?tls=none").is_err());
        assert!(smtp_url("http://mail.example.com").is_err());
        assert!(smtp_url("smtp://mail.example.com?tsl=none").is_err());
    }

    #[test]
    fn the_password_stays_out_of_debug() {
        let relay = smtp_url("smtp://mailer:hunter2secret@mail.example.com").unwrap();
        assert!(!format!("{relay:?}").contains("hunter2secret"));
    }
}
