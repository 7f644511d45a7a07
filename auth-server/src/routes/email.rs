//! `GET|POST /account/email`: change the email address, password required. The new one
//! gets a verification link, the old one a notice.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::see_other;
use crate::accounts::email_change::{self, ChangeOutcome, Notify};
use crate::accounts::sessions::SignedIn;
use crate::domain::EmailAddress;
use crate::error::{self, AppError};
use crate::state::AppState;
use crate::templates::{ChangeEmailPage, render};
use crate::web::csrf;
use crate::web::forms::MAX_PASSWORD_INPUT;
use crate::web::return_to::login_url;
use crate::web::session::{CurrentUser, client_info};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailForm {
    csrf_token: String,
    email: String,
    password: String,
}

/// The form again, with what was typed and why it was refused.
struct Refusal<'a> {
    new_email: &'a str,
    error: Option<&'a str>,
    email_error: Option<&'a str>,
}

fn page(signed_in: &SignedIn, status: StatusCode, refusal: Option<Refusal<'_>>) -> HttpResponse {
    let refusal = refusal.unwrap_or(Refusal {
        new_email: "",
        error: None,
        email_error: None,
    });
    let new_email: String = refusal.new_email.chars().take(254).collect();
    render(
        status,
        &ChangeEmailPage {
            csrf_token: &signed_in.session.csrf_token,
            username: &signed_in.user.username,
            email: &signed_in.user.email,
            new_email: &new_email,
            error: refusal.error,
            email_error: refusal.email_error,
        },
    )
}

pub async fn show(current: CurrentUser) -> HttpResponse {
    match current.0 {
        Some(signed_in) => page(&signed_in, StatusCode::OK, None),
        None => see_other(&login_url("/account/email")),
    }
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<EmailForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account/email")));
    };
    let EmailForm {
        csrf_token,
        email,
        password,
    } = form.into_inner();
    csrf::verify_session(&signed_in.session.csrf_token, &csrf_token)?;
    let refuse = |status: StatusCode, error: Option<&str>, email_error: Option<&str>| {
        let refusal = Refusal {
            new_email: &email,
            error,
            email_error,
        };
        Ok(page(&signed_in, status, Some(refusal)))
    };
    let new_email = match EmailAddress::parse(&email) {
        Ok(new_email) => new_email,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, None, Some(&message)),
    };
    if password.is_empty() || password.len() > MAX_PASSWORD_INPUT {
        return refuse(StatusCode::BAD_REQUEST, Some("Enter your password."), None);
    }
    let client = client_info(&req, &state);
    let notify = Notify {
        mailer: &state.mailer,
        issuer: &state.settings.urls.issuer,
    };
    let outcome = email_change::change(
        state.password_checker(),
        notify,
        &signed_in.user,
        new_email,
        password,
        client.ip.as_deref(),
    )
    .await;
    match outcome {
        Ok(ChangeOutcome::Changed) => Ok(see_other("/account?email=changed")),
        Ok(ChangeOutcome::Unavailable) => refuse(
            StatusCode::CONFLICT,
            None,
            Some("This email address cannot be used. Choose another."),
        ),
        Ok(ChangeOutcome::WrongPassword) => refuse(
            StatusCode::BAD_REQUEST,
            Some("The password is incorrect. Nothing was changed."),
            None,
        ),
        Ok(ChangeOutcome::LockedOut) => {
            let minutes = state.login.lockout_minutes();
            let message = error::wrong_passwords_message(minutes);
            let response = refuse(StatusCode::TOO_MANY_REQUESTS, Some(&message), None);
            response.map(|page| error::retry_after_lockout(page, minutes))
        }
        Err(crate::accounts::AccountError::PasswordHashingBusy) => {
            let response = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(error::BUSY_MESSAGE),
                None,
            );
            response.map(error::retry_soon)
        }
        Err(other) => Err(other.into()),
    }
}
