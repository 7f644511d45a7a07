//! The accounts sections: browser sessions (SECURITY.md 25) and sign-in lockout (24).

use std::time::Duration;

use super::ConfigError;
use super::declare::Default::Value;
use super::declare::{Setting, Source};
use crate::parse;

#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    pub idle_timeout: Duration,
    pub absolute_lifetime: Duration,
    pub max_per_user: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct LoginSettings {
    pub max_failures: u32,
    pub lockout: Duration,
}

pub const SESSION_IDLE_TIMEOUT: Setting<Duration> = Setting {
    name: "SESSION_IDLE_TIMEOUT",
    default: Value("30m"),
    parse: parse::duration_setting,
    doc: r#"a session ends after this long without a request"#,
};
pub const SESSION_ABSOLUTE_LIFETIME: Setting<Duration> = Setting {
    name: "SESSION_ABSOLUTE_LIFETIME",
    default: Value("24h"),
    parse: parse::duration_setting,
    doc: r#"a session ends this long after sign-in, however active"#,
};
pub const SESSION_MAX_PER_USER: Setting<u32> = Setting {
    name: "SESSION_MAX_PER_USER",
    default: Value("10"),
    parse: |v| parse::number(v, 1..=1000),
    doc: r#"signing in beyond this ends the user's oldest session"#,
};
pub const LOGIN_MAX_FAILURES: Setting<u32> = Setting {
    name: "LOGIN_MAX_FAILURES",
    default: Value("5"),
    parse: |v| parse::number(v, 1..=1000),
    doc: r#"consecutive failed sign-ins that lock a username"#,
};
pub const LOGIN_LOCKOUT: Setting<Duration> = Setting {
    name: "LOGIN_LOCKOUT",
    default: Value("15m"),
    parse: parse::duration_setting,
    doc: r#"how long the lock lasts"#,
};

pub fn read_sessions(source: &mut Source) -> Result<SessionSettings, ConfigError> {
    let sessions = SessionSettings {
        idle_timeout: source.get(&SESSION_IDLE_TIMEOUT)?,
        absolute_lifetime: source.get(&SESSION_ABSOLUTE_LIFETIME)?,
        max_per_user: source.get(&SESSION_MAX_PER_USER)?,
    };
    if sessions.absolute_lifetime < sessions.idle_timeout {
        return Err(ConfigError::Invalid {
            name: SESSION_ABSOLUTE_LIFETIME.name,
            message: "must not be shorter than SESSION_IDLE_TIMEOUT".into(),
        });
    }
    Ok(sessions)
}

pub fn read_login(source: &mut Source) -> Result<LoginSettings, ConfigError> {
    Ok(LoginSettings {
        max_failures: source.get(&LOGIN_MAX_FAILURES)?,
        lockout: source.get(&LOGIN_LOCKOUT)?,
    })
}
