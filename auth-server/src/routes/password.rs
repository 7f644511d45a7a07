//! `GET|POST /account/password`: change the password, the current one required. The
//! other sessions end (and their apps are told); this one stays signed in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::see_other;
use crate::accounts::mail_links::{self, FORGOT_PASSWORD_PATH};
use crate::accounts::password_change::{self, ChangeOutcome, PasswordChange};
use crate::accounts::sessions::SignedIn;
use crate::domain::NewPassword;
use crate::error::{self, AppError};
use crate::mail::Mail;
use crate::state::AppState;
use crate::templates::{ChangePasswordPage, render};
use crate::web::csrf;
use crate::web::forms::MAX_PASSWORD_INPUT;
use crate::web::return_to::login_url;
use crate::web::session::{CurrentUser, client_info};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeForm {
    csrf_token: String,
    current_password: String,
    new_password: String,
}

/// What the form says after a refused change.
#[derive(Default)]
struct Errors<'a> {
    form: Option<&'a str>,
    current: Option<&'a str>,
    new: Option<&'a str>,
}

fn page(signed_in: &SignedIn, status: StatusCode, errors: Errors<'_>) -> HttpResponse {
    render(
        status,
        &ChangePasswordPage {
            csrf_token: &signed_in.session.csrf_token,
            username: &signed_in.user.username,
            error: errors.form,
            current_error: errors.current,
            new_error: errors.new,
        },
    )
}

pub async fn show(current: CurrentUser) -> HttpResponse {
    match current.0 {
        Some(signed_in) => page(&signed_in, StatusCode::OK, Errors::default()),
        None => see_other(&login_url("/account/password")),
    }
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ChangeForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account/password")));
    };
    let ChangeForm {
        csrf_token,
        current_password,
        new_password,
    } = form.into_inner();
    csrf::verify_session(&signed_in.session.csrf_token, &csrf_token)?;
    let refused = |errors: Errors<'_>| Ok(page(&signed_in, StatusCode::BAD_REQUEST, errors));
    if current_password.is_empty() || current_password.len() > MAX_PASSWORD_INPUT {
        return refused(Errors {
            current: Some("Enter your current password."),
            ..Errors::default()
        });
    }
    let user = &signed_in.user;
    let new = match NewPassword::parse(&new_password, &user.username, &user.email) {
        Ok(new) => new,
        Err(message) => {
            return refused(Errors {
                new: Some(&message),
                ..Errors::default()
            });
        }
    };
    if new_password == current_password {
        return refused(Errors {
            new: Some("The new password is the current one. Choose another."),
            ..Errors::default()
        });
    }
    let client = client_info(&req, &state);
    let change = PasswordChange {
        user,
        session_id: &signed_in.session.id,
        current: current_password,
        new,
    };
    let outcome =
        match password_change::change(state.password_checker(), change, client.ip.as_deref()).await
        {
            Err(crate::accounts::AccountError::PasswordHashingBusy) => {
                let response = page(
                    &signed_in,
                    StatusCode::SERVICE_UNAVAILABLE,
                    Errors {
                        form: Some(error::BUSY_MESSAGE),
                        ..Errors::default()
                    },
                );
                return Ok(error::retry_soon(response));
            }
            outcome => outcome?,
        };
    match outcome {
        ChangeOutcome::Changed { ended_sessions } => {
            state
                .back_channel
                .tell(state.keys.current(), ended_sessions);
            state.mailer.send(
                &user.email,
                &Mail::PasswordChanged {
                    username: user.username.clone(),
                    reset: false,
                    forgot_link: mail_links::page_url(
                        &state.settings.urls.issuer,
                        FORGOT_PASSWORD_PATH,
                    ),
                },
            );
            Ok(see_other("/account?password=changed"))
        }
        ChangeOutcome::WrongPassword => refused(Errors {
            current: Some("The current password is incorrect."),
            ..Errors::default()
        }),
        ChangeOutcome::LockedOut => {
            let minutes = state.login.lockout_minutes();
            let message = error::wrong_passwords_message(minutes);
            let errors = Errors {
                form: Some(&message),
                ..Errors::default()
            };
            let response = page(&signed_in, StatusCode::TOO_MANY_REQUESTS, errors);
            Ok(error::retry_after_lockout(response, minutes))
        }
    }
}
