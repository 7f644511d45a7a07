//! The token sections: lifetimes of codes and tokens (SECURITY.md 10–12), and the signing
//! keys — the secret that encrypts them at rest and how often instances reload them.

use std::time::Duration;

use super::ConfigError;
use super::declare::Default::{Unset, Value};
use super::declare::{Setting, Source};
use super::secret::SecretString;
use crate::parse;

#[derive(Debug, Clone, Copy)]
pub struct TokenSettings {
    pub access_token_ttl: Duration,
    /// At most 10 minutes (RFC 6749 §4.1.2); 60 s by default.
    pub authorization_code_ttl: Duration,
    /// A refresh token unused for this long expires.
    pub refresh_token_idle_ttl: Duration,
    /// A refresh token family ends this long after the authorization, however used.
    pub refresh_token_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct KeySettings {
    /// Encrypts the signing keys in the database; required in production.
    pub encryption_key: Option<SecretString>,
    /// How often each instance reloads the signing keys (a rotation elsewhere shows up).
    pub reload: Duration,
}

pub const ACCESS_TOKEN_TTL: Setting<Duration> = Setting {
    name: "ACCESS_TOKEN_TTL",
    default: Value("15m"),
    parse: parse::duration_setting,
    doc: r#"lifetime of access tokens"#,
};
pub const AUTHORIZATION_CODE_TTL: Setting<Duration> = Setting {
    name: "AUTHORIZATION_CODE_TTL",
    default: Value("60s"),
    parse: parse::duration_setting,
    doc: r#"lifetime of authorization codes (at most `10m`)"#,
};
pub const REFRESH_TOKEN_IDLE_TTL: Setting<Duration> = Setting {
    name: "REFRESH_TOKEN_IDLE_TTL",
    default: Value("30d"),
    parse: parse::duration_setting,
    doc: r#"a refresh token unused this long expires"#,
};
pub const REFRESH_TOKEN_TTL: Setting<Duration> = Setting {
    name: "REFRESH_TOKEN_TTL",
    default: Value("90d"),
    parse: parse::duration_setting,
    doc: r#"a refresh token family ends this long after the authorization"#,
};
pub const KEY_ENCRYPTION_KEY: Setting<SecretString> = Setting {
    name: "KEY_ENCRYPTION_KEY",
    default: Unset,
    parse: key_encryption_key,
    doc: r#"32+ characters; encrypts token-signing keys (required in production)"#,
};
pub const SIGNING_KEYS_RELOAD: Setting<Duration> = Setting {
    name: "SIGNING_KEYS_RELOAD",
    default: Value("60s"),
    parse: parse::duration_setting,
    doc: r#"how often each auth-server reloads the signing keys (a rotation elsewhere shows up) and resource-api refetches the JWKS"#,
};

fn key_encryption_key(value: &str) -> Result<SecretString, String> {
    if value.len() < 32 {
        return Err(
            "must be at least 32 characters of random data (e.g. `openssl rand -base64 32`)".into(),
        );
    }
    Ok(SecretString::new(value))
}

fn invalid(name: &'static str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        message: message.to_owned(),
    }
}

pub fn read_tokens(source: &mut Source) -> Result<TokenSettings, ConfigError> {
    let tokens = TokenSettings {
        access_token_ttl: source.get(&ACCESS_TOKEN_TTL)?,
        authorization_code_ttl: source.get(&AUTHORIZATION_CODE_TTL)?,
        refresh_token_idle_ttl: source.get(&REFRESH_TOKEN_IDLE_TTL)?,
        refresh_token_ttl: source.get(&REFRESH_TOKEN_TTL)?,
    };
    if tokens.authorization_code_ttl > Duration::from_secs(600) {
        return Err(invalid(
            AUTHORIZATION_CODE_TTL.name,
            "must be at most 10m (RFC 6749 §4.1.2)",
        ));
    }
    if tokens.refresh_token_ttl < tokens.refresh_token_idle_ttl {
        return Err(invalid(
            REFRESH_TOKEN_TTL.name,
            "must not be shorter than REFRESH_TOKEN_IDLE_TTL",
        ));
    }
    Ok(tokens)
}

pub fn read_keys(source: &mut Source) -> Result<KeySettings, ConfigError> {
    Ok(KeySettings {
        encryption_key: source.optional(&KEY_ENCRYPTION_KEY)?,
        reload: source.get(&SIGNING_KEYS_RELOAD)?,
    })
}
