//! `GET|POST /account/delete`: the owner deletes the account, password required. The
//! browser's cookie goes with it and the apps of every session are told.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{see_other, with_cookie};
use crate::accounts::deletion::{self, DeletedBy};
use crate::accounts::reauthentication::{Action, Verdict};
use crate::accounts::sessions::SignedIn;
use crate::error::{self, AppError};
use crate::state::AppState;
use crate::templates::{DeleteAccountPage, render};
use crate::web::csrf;
use crate::web::forms::MAX_PASSWORD_INPUT;
use crate::web::return_to::login_url;
use crate::web::session::{CurrentUser, client_info};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteForm {
    csrf_token: String,
    password: String,
}

fn page(signed_in: &SignedIn, status: StatusCode, error: Option<&str>) -> HttpResponse {
    render(
        status,
        &DeleteAccountPage {
            csrf_token: &signed_in.session.csrf_token,
            username: &signed_in.user.username,
            error,
        },
    )
}

pub async fn show(current: CurrentUser) -> HttpResponse {
    match current.0 {
        Some(signed_in) => page(&signed_in, StatusCode::OK, None),
        None => see_other(&login_url("/account/delete")),
    }
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<DeleteForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account/delete")));
    };
    let DeleteForm {
        csrf_token,
        password,
    } = form.into_inner();
    csrf::verify_session(&signed_in.session.csrf_token, &csrf_token)?;
    if password.is_empty() || password.len() > MAX_PASSWORD_INPUT {
        let message = "Enter your password.";
        return Ok(page(&signed_in, StatusCode::BAD_REQUEST, Some(message)));
    }
    let client = client_info(&req, &state);
    let ip = client.ip.as_deref();
    let verdict = match state
        .password_checker()
        .confirm(&signed_in.user, password, Action::DeleteAccount, ip)
        .await
    {
        Err(crate::accounts::AccountError::PasswordHashingBusy) => {
            let response = page(
                &signed_in,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(error::BUSY_MESSAGE),
            );
            return Ok(error::retry_soon(response));
        }
        verdict => verdict?,
    };
    match verdict {
        Verdict::Confirmed => {}
        Verdict::WrongPassword => {
            let message = "The password is incorrect. Nothing was deleted.";
            return Ok(page(&signed_in, StatusCode::BAD_REQUEST, Some(message)));
        }
        Verdict::LockedOut => {
            let minutes = state.login.lockout_minutes();
            let message = error::wrong_passwords_message(minutes);
            let response = page(&signed_in, StatusCode::TOO_MANY_REQUESTS, Some(&message));
            return Ok(error::retry_after_lockout(response, minutes));
        }
    }
    let deleted =
        deletion::delete(&state.db, signed_in.user.id.clone(), DeletedBy::Owner, ip).await?;
    if let Some(deleted) = deleted {
        state
            .back_channel
            .tell(state.keys.current(), deleted.ended_sessions);
    }
    let removal = state.cookies.removal(state.cookies.session_name);
    Ok(with_cookie(
        see_other("/login?account_deleted=1"),
        Some(removal),
    ))
}
