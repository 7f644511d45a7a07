//! The accounts sections: browser sessions (SECURITY.md 25), sign-in lockout (24), and
//! the password hashing that sign-in and sign-up share (its threads and its queue).

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
    /// Every authorization needs a sign-in with the second factor.
    pub require_mfa: bool,
}

/// Argon2id runs on threads of its own, never on the pool the database and the token
/// endpoint use, so a storm of sign-ins costs at most `threads` hashes' memory and CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashSettings {
    /// Hashing threads; each holds one 19 MiB argon2 buffer.
    pub threads: usize,
    /// Hashes that may wait for a thread; one more is refused at once (503).
    pub queue: usize,
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

pub const REQUIRE_MFA: Setting<bool> = Setting {
    name: "REQUIRE_MFA",
    default: Value("off"),
    parse: parse::boolean,
    doc: r#"`on`: authorizing any app needs the second factor (TOTP); people without one set it up first (for one app only: `clients create --require-mfa`)"#,
};

pub const PASSWORD_HASH_THREADS: Setting<usize> = Setting {
    name: "PASSWORD_HASH_THREADS",
    default: Value("1"),
    parse: |v| parse::number(v, 1..=64),
    doc: r#"threads that hash passwords at sign-in and sign-up (argon2id, 19 MiB each), at the lowest CPU priority"#,
};
pub const PASSWORD_HASH_QUEUE: Setting<usize> = Setting {
    name: "PASSWORD_HASH_QUEUE",
    default: Value("32"),
    parse: |v| parse::number(v, 1..=4096),
    doc: r#"sign-ins and sign-ups that may wait for a hashing thread (each hash takes tens of milliseconds); one more gets a 503 page with `Retry-After` at once"#,
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
        require_mfa: source.get(&REQUIRE_MFA)?,
    })
}

pub fn read_password_hashing(source: &mut Source) -> Result<PasswordHashSettings, ConfigError> {
    Ok(PasswordHashSettings {
        threads: source.get(&PASSWORD_HASH_THREADS)?,
        queue: source.get(&PASSWORD_HASH_QUEUE)?,
    })
}
