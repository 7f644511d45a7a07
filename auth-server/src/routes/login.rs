//! `GET /login` and `POST /login`: the password; an account with two-factor sign-in goes
//! on to its code (`two_factor_login`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::authorize::with_flow_csp;
use super::{see_other, two_factor_login, with_cookie};
use crate::accounts::login::{self, LoginOutcome};
use crate::accounts::sessions::SignInMethod;
use crate::accounts::{AccountError, sessions};
use crate::error::{self, AppError};
use crate::state::AppState;
use crate::templates::{LoginPage, render};
use crate::web::csrf;
use crate::web::forms::MAX_PASSWORD_INPUT;
use crate::web::return_to;
use crate::web::session::{CurrentUser, client_info};

const MAX_USERNAME_INPUT: usize = 256;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    signed_out: Option<String>,
    /// Set after a password reset.
    password_reset: Option<String>,
    /// Set after the account was deleted.
    account_deleted: Option<String>,
    /// Set when a sign-in waited too long for its second factor.
    expired: Option<String>,
    /// OpenID Connect `login_hint`, passed on by `/authorize`: prefills the username.
    login_hint: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    csrf_token: String,
    username: String,
    password: String,
    #[serde(default)]
    return_to: String,
}

/// What the page shows besides the form.
#[derive(Default)]
struct Messages<'a> {
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

fn page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    current: &CurrentUser,
    return_to: &str,
    username: &str,
    messages: Messages<'_>,
) -> HttpResponse {
    let (csrf_token, new_cookie) = csrf::anonymous_token(req, &state.cookies);
    let signed_in_as = current.0.as_ref().map(|s| s.user.username.as_str());
    let response = render(
        status,
        &LoginPage {
            csrf_token: &csrf_token,
            return_to: &return_to::local_path(return_to).unwrap_or_default(),
            username,
            error: messages.error,
            notice: messages.notice,
            signed_in_as,
        },
    );
    with_cookie(response, new_cookie)
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
    current: CurrentUser,
) -> HttpResponse {
    let notice = if query.expired.is_some() {
        Some("The sign-in waited too long for its code. Sign in again.")
    } else if query.account_deleted.is_some() {
        Some("Your account has been deleted.")
    } else if query.password_reset.is_some() {
        Some(
            "Your password has been changed and every session signed out. Sign in with the new password.",
        )
    } else {
        query
            .signed_out
            .is_some()
            .then_some("You have been signed out.")
    };
    let return_to = query.return_to.as_deref().unwrap_or_default();
    let messages = Messages {
        error: None,
        notice,
    };
    let username: String = query
        .login_hint
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(MAX_USERNAME_INPUT)
        .collect();
    let response = page(
        &req,
        &state,
        StatusCode::OK,
        &current,
        return_to,
        &username,
        messages,
    );
    with_flow_csp(&state, return_to, response).await
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let LoginForm {
        csrf_token,
        username,
        password,
        return_to,
    } = form.into_inner();
    csrf::verify_anonymous(&req, &state.cookies, &csrf_token)?;

    let show_error = |status: StatusCode, message: &str| {
        let username = username
            .chars()
            .take(MAX_USERNAME_INPUT)
            .collect::<String>();
        page(
            &req,
            &state,
            status,
            &current,
            &return_to,
            &username,
            Messages {
                error: Some(message),
                notice: None,
            },
        )
    };
    if username.trim().is_empty() || password.is_empty() {
        let response = show_error(StatusCode::BAD_REQUEST, "Enter your username and password.");
        return Ok(with_flow_csp(&state, &return_to, response).await);
    }
    if username.len() > MAX_USERNAME_INPUT || password.len() > MAX_PASSWORD_INPUT {
        let response = show_error(
            StatusCode::BAD_REQUEST,
            "The username or password is too long.",
        );
        return Ok(with_flow_csp(&state, &return_to, response).await);
    }

    let client = client_info(&req, &state);
    let ip = client.ip.clone().unwrap_or_default();
    let delay = state.ip_slowdown.delay_for(&ip);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let outcome = match login::authenticate(
        &state.db,
        &state.audit,
        &state.password_hashing,
        state.login,
        &username,
        password,
        client.ip.as_deref(),
    )
    .await
    {
        Err(AccountError::PasswordHashingBusy) => {
            // Nothing was checked: the form again, with the username, to send once more.
            let response = show_error(StatusCode::SERVICE_UNAVAILABLE, error::BUSY_MESSAGE);
            return Ok(with_flow_csp(&state, &return_to, error::retry_soon(response)).await);
        }
        outcome => outcome?,
    };
    match outcome {
        LoginOutcome::SignedIn(user) => {
            state.ip_slowdown.record_success(&ip);
            let replacing = current.0.map(|signed_in| signed_in.session.id);
            let token = sessions::start(
                &state.db,
                state.sessions,
                user.id.clone(),
                client,
                replacing,
                SignInMethod::Password,
            )
            .await?;
            let response = see_other(&return_to::or_default(Some(&return_to)));
            Ok(with_cookie(
                response,
                Some(state.cookies.session(token.expose())),
            ))
        }
        LoginOutcome::SecondFactorNeeded(user) => {
            // Not a success for the per-IP slow-down until the code is right.
            two_factor_login::ask_after_password(&req, &state, &user, &return_to).await
        }
        LoginOutcome::Refused => {
            state.ip_slowdown.record_failure(&ip);
            let response = show_error(
                StatusCode::UNAUTHORIZED,
                "The username or password is incorrect.",
            );
            Ok(with_flow_csp(&state, &return_to, response).await)
        }
        LoginOutcome::LockedOut => {
            state.ip_slowdown.record_failure(&ip);
            let minutes = state.login.lockout_minutes();
            let message = format!(
                "Too many failed sign-in attempts for this username. Wait {minutes} minutes and try again."
            );
            let response = show_error(StatusCode::TOO_MANY_REQUESTS, &message);
            let response = error::retry_after_lockout(response, minutes);
            Ok(with_flow_csp(&state, &return_to, response).await)
        }
    }
}
