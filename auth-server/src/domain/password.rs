//! The password policy for new passwords (SECURITY.md 23): at least 12 characters, or 8
//! with lower case, upper case and a digit; at most 128; and not guessable — checked with
//! zxcvbn, whose dictionaries hold the most common passwords, names and words, and which is
//! told the username and email so a password built from them is refused too.

use std::fmt;

pub const MIN_LEN: usize = 8;
pub const LONG_ENOUGH: usize = 12;
pub const MAX_LEN: usize = 128;

/// zxcvbn score 3: more than 10^8 guesses. Common passwords and their variants score lower.
const MIN_STRENGTH: u8 = 3;

/// A password that passed the policy. `Debug` never shows it.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(input: &str, username: &str, email: &str) -> Result<Self, String> {
        let length = input.chars().count();
        if length == 0 {
            return Err("Enter a password.".into());
        }
        if length > MAX_LEN {
            return Err(format!("A password is at most {MAX_LEN} characters long."));
        }
        let mixed = input.chars().any(|c| c.is_lowercase())
            && input.chars().any(|c| c.is_uppercase())
            && input.chars().any(|c| c.is_ascii_digit());
        if length < LONG_ENOUGH && !(length >= MIN_LEN && mixed) {
            return Err(format!(
                "Use at least {LONG_ENOUGH} characters, or at least {MIN_LEN} with upper- and \
                 lower-case letters and a digit."
            ));
        }
        let estimate = zxcvbn::zxcvbn(input, &[username, email]);
        if u8::from(estimate.score()) < MIN_STRENGTH {
            let hint = estimate
                .feedback()
                .and_then(|feedback| feedback.warning())
                .map(|warning| format!(" ({warning})"))
                .unwrap_or_default();
            return Err(format!(
                "This password is too easy to guess{hint}. Try a longer phrase of unrelated words."
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_long_or_mixed_unguessable_passwords() {
        assert!(NewPassword::parse("violet-anchor-tundra-42", "alice", "a@x.io").is_ok());
        assert!(NewPassword::parse("Qz7vLm2Rx", "alice", "a@x.io").is_ok());
    }

    #[test]
    fn refuses_short_common_and_personal_passwords() {
        for bad in [
            "",
            "short1A",
            "alllowercase",
            "password1234",
            "Password123",
            "qwertyuiop123",
        ] {
            assert!(
                NewPassword::parse(bad, "alice", "a@x.io").is_err(),
                "{bad:?}"
            );
        }
        assert!(NewPassword::parse("alicewonderland2", "alicewonderland", "a@x.io").is_err());
        assert!(NewPassword::parse(&"Ab1".repeat(50), "alice", "a@x.io").is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let password = NewPassword::parse("violet-anchor-tundra-42", "alice", "a@x.io").unwrap();
        assert!(!format!("{password:?}").contains("violet"));
    }
}
