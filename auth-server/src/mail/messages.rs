//! What each message says: a subject and two bodies, plain text and HTML, from the
//! templates in `templates/mail/` (askama escapes the HTML body's values).

use askama::Template;

/// A message to one person. Links carry a secret: they are built into the bodies only.
pub enum Mail {
    /// Sign-up, a changed address, or "resend" on the account page.
    VerifyEmail {
        username: String,
        email: String,
        link: String,
        valid_hours: i64,
    },
    /// "Forgot password?" named this account.
    ResetPassword {
        username: String,
        link: String,
        valid_minutes: i64,
    },
    /// To the old address, when the account's address changed.
    EmailChanged { username: String, new_email: String },
    /// The password changed, through the account page or a reset link.
    PasswordChanged {
        username: String,
        reset: bool,
        forgot_link: String,
    },
    /// Two-factor sign-in was turned on or off, or a recovery code was spent.
    TwoFactorChanged {
        username: String,
        change: TwoFactorChange,
        forgot_link: String,
    },
}

/// What happened to an account's two-factor sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoFactorChange {
    TurnedOn,
    TurnedOff,
    RecoveryCodeUsed { remaining: i64 },
}

impl TwoFactorChange {
    fn sentence(self) -> String {
        match self {
            TwoFactorChange::TurnedOn => {
                "Two-factor sign-in was turned on for your Tasks Account: signing in now asks \
                 for a code from your authenticator app."
                    .into()
            }
            TwoFactorChange::TurnedOff => {
                "Two-factor sign-in was turned off for your Tasks Account: the password alone \
                 signs in now."
                    .into()
            }
            TwoFactorChange::RecoveryCodeUsed { remaining } => format!(
                "A recovery code was used to sign in to your Tasks Account. {remaining} unused \
                 recovery code(s) are left; the account page can make new ones."
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "mail/verify_email.txt")]
struct VerifyEmailText<'a> {
    username: &'a str,
    email: &'a str,
    link: &'a str,
    valid_hours: i64,
}

#[derive(Template)]
#[template(path = "mail/verify_email.html")]
struct VerifyEmailHtml<'a> {
    username: &'a str,
    email: &'a str,
    link: &'a str,
    valid_hours: i64,
}

#[derive(Template)]
#[template(path = "mail/reset_password.txt")]
struct ResetPasswordText<'a> {
    username: &'a str,
    link: &'a str,
    valid_minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/reset_password.html")]
struct ResetPasswordHtml<'a> {
    username: &'a str,
    link: &'a str,
    valid_minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/email_changed.txt")]
struct EmailChangedText<'a> {
    username: &'a str,
    new_email: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_changed.html")]
struct EmailChangedHtml<'a> {
    username: &'a str,
    new_email: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.txt")]
struct PasswordChangedText<'a> {
    username: &'a str,
    reset: bool,
    forgot_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.html")]
struct PasswordChangedHtml<'a> {
    username: &'a str,
    reset: bool,
    forgot_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/two_factor_changed.txt")]
struct TwoFactorChangedText<'a> {
    username: &'a str,
    sentence: &'a str,
    forgot_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/two_factor_changed.html")]
struct TwoFactorChangedHtml<'a> {
    username: &'a str,
    sentence: &'a str,
    forgot_link: &'a str,
}

impl Mail {
    /// A name for log lines (never the content).
    pub fn kind(&self) -> &'static str {
        match self {
            Mail::VerifyEmail { .. } => "verify_email",
            Mail::ResetPassword { .. } => "reset_password",
            Mail::EmailChanged { .. } => "email_changed",
            Mail::PasswordChanged { .. } => "password_changed",
            Mail::TwoFactorChanged { .. } => "two_factor_changed",
        }
    }

    pub fn subject(&self) -> &'static str {
        match self {
            Mail::VerifyEmail { .. } => "Confirm your email address",
            Mail::ResetPassword { .. } => "Reset your Tasks Account password",
            Mail::EmailChanged { .. } => "Your Tasks Account email address was changed",
            Mail::PasswordChanged { .. } => "Your Tasks Account password was changed",
            Mail::TwoFactorChanged { .. } => "Two-factor sign-in on your Tasks Account",
        }
    }

    /// The plain-text and the HTML body.
    pub fn bodies(&self) -> askama::Result<(String, String)> {
        match self {
            Mail::VerifyEmail {
                username,
                email,
                link,
                valid_hours,
            } => Ok((
                VerifyEmailText {
                    username,
                    email,
                    link,
                    valid_hours: *valid_hours,
                }
                .render()?,
                VerifyEmailHtml {
                    username,
                    email,
                    link,
                    valid_hours: *valid_hours,
                }
                .render()?,
            )),
            Mail::ResetPassword {
                username,
                link,
                valid_minutes,
            } => Ok((
                ResetPasswordText {
                    username,
                    link,
                    valid_minutes: *valid_minutes,
                }
                .render()?,
                ResetPasswordHtml {
                    username,
                    link,
                    valid_minutes: *valid_minutes,
                }
                .render()?,
            )),
            Mail::EmailChanged {
                username,
                new_email,
            } => Ok((
                EmailChangedText {
                    username,
                    new_email,
                }
                .render()?,
                EmailChangedHtml {
                    username,
                    new_email,
                }
                .render()?,
            )),
            Mail::PasswordChanged {
                username,
                reset,
                forgot_link,
            } => Ok((
                PasswordChangedText {
                    username,
                    reset: *reset,
                    forgot_link,
                }
                .render()?,
                PasswordChangedHtml {
                    username,
                    reset: *reset,
                    forgot_link,
                }
                .render()?,
            )),
            Mail::TwoFactorChanged {
                username,
                change,
                forgot_link,
            } => {
                let sentence = change.sentence();
                Ok((
                    TwoFactorChangedText {
                        username,
                        sentence: &sentence,
                        forgot_link,
                    }
                    .render()?,
                    TwoFactorChangedHtml {
                        username,
                        sentence: &sentence,
                        forgot_link,
                    }
                    .render()?,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_escape_what_a_person_typed() {
        let mail = Mail::VerifyEmail {
            username: "<b>eve</b>".into(),
            email: "eve@example.com".into(),
            link: "https://auth.example.com/verify-email?token=ev_x".into(),
            valid_hours: 24,
        };
        let (text, html) = mail.bodies().unwrap();
        assert!(text.contains("https://auth.example.com/verify-email?token=ev_x"));
        assert!(
            text.contains("<b>eve</b>"),
            "plain text is not escaped: {text}"
        );
        assert!(!html.contains("<b>eve</b>"), "{html}");
        assert!(html.contains("&#60;b&#62;eve&#60;/b&#62;"), "{html}");
    }
}
