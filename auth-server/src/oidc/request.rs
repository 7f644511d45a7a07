//! The OpenID Connect parameters of an authorization request (Core §3.1.2.1). They are read
//! for every request (OAuth clients may send `prompt` too); unknown parameters are ignored,
//! as Core §3.1.2.1 says; `ui_locales` is accepted and our pages stay in English.

use crate::oauth::error::ErrorCode;
use crate::oauth::params::{MAX_VALUE_LEN, Params};

/// The longest `login_hint` used to prefill the sign-in form; a longer one is ignored.
const MAX_LOGIN_HINT_LEN: usize = 256;
const _: () = assert!(MAX_LOGIN_HINT_LEN <= MAX_VALUE_LEN);

/// `prompt` (Core §3.1.2.1): what the person must or must not be shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: no page at all; an error goes back to the client instead.
    pub none: bool,
    /// `login` (or `select_account`): sign in again, even with a session.
    pub login: bool,
    /// `consent`: ask, even when the scopes were allowed before.
    pub consent: bool,
}

/// What the request asks of the sign-in and consent steps, and the ID token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OidcParams {
    pub nonce: Option<String>,
    pub prompt: Prompt,
    /// Seconds: a sign-in older than this must be repeated (Core §3.1.2.1).
    pub max_age: Option<u64>,
    /// Prefills the username on the sign-in page (never trusted otherwise).
    pub login_hint: Option<String>,
}

/// A parameter that is present but not valid: `invalid_request` back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidParam(pub ErrorCode, pub String);

impl OidcParams {
    pub fn parse(params: &Params) -> Result<Self, InvalidParam> {
        let invalid = |message: &str| InvalidParam(ErrorCode::InvalidRequest, message.to_owned());
        if let Some(name) = params.first_too_long(&["nonce", "prompt", "max_age"]) {
            return Err(invalid(&format!("parameter {name} is too long")));
        }
        let prompt = match params.get("prompt") {
            None => Prompt::default(),
            Some(value) => parse_prompt(value).map_err(|message| invalid(&message))?,
        };
        let max_age = match params.get("max_age") {
            None => None,
            Some(value) => Some(
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| invalid("max_age must be a whole number of seconds"))?,
            ),
        };
        let login_hint = params
            .get("login_hint")
            .filter(|hint| hint.len() <= MAX_LOGIN_HINT_LEN)
            .map(str::to_owned);
        Ok(Self {
            nonce: params.get("nonce").map(str::to_owned),
            prompt,
            max_age,
            login_hint,
        })
    }

    /// Whether a sign-in made at `auth_time` must be repeated at `now`: `prompt=login`, or
    /// older than `max_age`.
    pub fn needs_fresh_login(
        &self,
        auth_time: chrono::NaiveDateTime,
        now: chrono::NaiveDateTime,
    ) -> bool {
        // Core §3.1.2.1: re-authenticate when more than `max_age` seconds have passed;
        // `max_age=0` always (the sign-in a second ago is already that old).
        let age = u64::try_from((now - auth_time).num_seconds()).unwrap_or(0);
        let too_old = self
            .max_age
            .is_some_and(|max_age| max_age == 0 || age > max_age);
        self.prompt.login || too_old
    }
}

/// A space-separated list of `none`, `login`, `consent`, `select_account`; `none` alone.
fn parse_prompt(value: &str) -> Result<Prompt, String> {
    let mut prompt = Prompt::default();
    for token in value.split(' ') {
        match token {
            "none" => prompt.none = true,
            "login" | "select_account" => prompt.login = true,
            "consent" => prompt.consent = true,
            "" => return Err("prompt is not a space-separated list".into()),
            other => {
                let shown: String = other.chars().take(32).collect();
                return Err(format!("prompt value \"{shown}\" is not supported"));
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err("prompt=none cannot be combined with other values".into());
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<OidcParams, InvalidParam> {
        OidcParams::parse(&Params::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ))
    }

    #[test]
    fn reads_prompt_values_and_refuses_none_with_others() {
        let params = parse(&[("prompt", "login consent")]).unwrap();
        assert!(params.prompt.login && params.prompt.consent && !params.prompt.none);
        assert!(parse(&[("prompt", "select_account")]).unwrap().prompt.login);
        assert!(parse(&[("prompt", "none")]).unwrap().prompt.none);
        for bad in ["none login", "none consent", "sometimes", "login  consent"] {
            let error = parse(&[("prompt", bad)]).unwrap_err();
            assert_eq!(error.0, ErrorCode::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn max_age_is_a_whole_number_and_forces_a_fresh_sign_in_when_exceeded() {
        for bad in ["-1", "1.5", "+3", "abc", "99999999999999999999999"] {
            assert!(parse(&[("max_age", bad)]).is_err(), "{bad}");
        }
        let now = shared::models::now();
        let params = parse(&[("max_age", "300")]).unwrap();
        assert!(!params.needs_fresh_login(now - Duration::seconds(10), now));
        assert!(params.needs_fresh_login(now - Duration::seconds(301), now));
        let zero = parse(&[("max_age", "0")]).unwrap();
        assert!(
            zero.needs_fresh_login(now, now),
            "max_age=0: always sign in again"
        );
        assert!(
            !parse(&[])
                .unwrap()
                .needs_fresh_login(now - Duration::days(9), now)
        );
    }

    #[test]
    fn keeps_the_nonce_and_a_reasonable_login_hint() {
        let params = parse(&[("nonce", "n-0S6_WzA2Mj"), ("login_hint", "alice")]).unwrap();
        assert_eq!(params.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
        assert_eq!(params.login_hint.as_deref(), Some("alice"));
        let long = "a".repeat(300);
        assert_eq!(parse(&[("login_hint", &long)]).unwrap().login_hint, None);
    }
}
