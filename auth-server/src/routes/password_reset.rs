//! `GET|POST /forgot-password` (ask for a link) and `GET|POST /reset-password` (the form
//! the link opens, and setting the new password). Which accounts exist is never told: the
//! request form answers the same page for every input that is not empty.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{see_other, with_cookie};
use crate::accounts::mail_links::{self, FORGOT_PASSWORD_PATH, RESET_PASSWORD_VALIDITY};
use crate::accounts::password_reset;
use crate::domain::NewPassword;
use crate::error::AppError;
use crate::mail::Mail;
use crate::state::AppState;
use crate::templates::{ForgotPasswordPage, NoticePage, ResetPasswordPage, render};
use crate::web::csrf;
use crate::web::forms::MAX_PASSWORD_INPUT;
use crate::web::session::client_info;

const MAX_LOGIN_INPUT: usize = 256;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgotForm {
    csrf_token: String,
    login: String,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetForm {
    csrf_token: String,
    token: String,
    password: String,
}

fn forgot_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    login: &str,
    error: Option<&str>,
) -> HttpResponse {
    let (csrf_token, new_cookie) = csrf::anonymous_token(req, &state.cookies);
    let login: String = login.chars().take(MAX_LOGIN_INPUT).collect();
    let response = render(
        status,
        &ForgotPasswordPage {
            csrf_token: &csrf_token,
            login: &login,
            error,
        },
    );
    with_cookie(response, new_cookie)
}

pub async fn show_forgot(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    forgot_page(&req, &state, StatusCode::OK, "", None)
}

pub async fn submit_forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let ForgotForm { csrf_token, login } = form.into_inner();
    csrf::verify_anonymous(&req, &state.cookies, &csrf_token)?;
    if login.trim().is_empty() || login.len() > MAX_LOGIN_INPUT {
        let message = "Enter your username or email address.";
        return Ok(forgot_page(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            &login,
            Some(message),
        ));
    }
    let client = client_info(&req, &state);
    password_reset::request(&state.outbox(), &login, client.ip.as_deref()).await?;
    let message = format!(
        "If an account has this username or email address, we have sent a link to its email \
         address. It works for {} minutes. Nothing arrived? Check your spam folder, or ask \
         again in a few minutes.",
        RESET_PASSWORD_VALIDITY.num_minutes()
    );
    Ok(render(
        StatusCode::OK,
        &NoticePage {
            title: "Check your email",
            message: &message,
            link: "/login",
            link_text: "Back to sign in",
        },
    ))
}

/// The answer to a link that does not work (any more).
fn dead_link() -> HttpResponse {
    render(
        StatusCode::BAD_REQUEST,
        &NoticePage {
            title: "This link does not work",
            message: "This password-reset link has expired, was used already, or your password \
                      has changed since it was sent. Ask for a new one.",
            link: "/forgot-password",
            link_text: "Ask for a new link",
        },
    )
}

fn reset_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    token: &str,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let (csrf_token, new_cookie) = csrf::anonymous_token(req, &state.cookies);
    let response = render(
        status,
        &ResetPasswordPage {
            csrf_token: &csrf_token,
            token,
            username,
            error,
        },
    );
    with_cookie(response, new_cookie)
}

pub async fn show_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.token.as_deref().unwrap_or_default();
    match password_reset::account_for(&state.db, token).await? {
        Some(user) => Ok(reset_page(
            &req,
            &state,
            StatusCode::OK,
            token,
            &user.username,
            None,
        )),
        None => Ok(dead_link()),
    }
}

pub async fn submit_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let ResetForm {
        csrf_token,
        token,
        password,
    } = form.into_inner();
    csrf::verify_anonymous(&req, &state.cookies, &csrf_token)?;
    let Some(user) = password_reset::account_for(&state.db, &token).await? else {
        return Ok(dead_link());
    };
    let refuse = |message: &str| {
        let page = reset_page(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            &token,
            &user.username,
            Some(message),
        );
        Ok(page)
    };
    if password.len() > MAX_PASSWORD_INPUT {
        return refuse("A password is at most 128 characters long.");
    }
    let password = match NewPassword::parse(&password, &user.username, &user.email) {
        Ok(password) => password,
        Err(message) => return refuse(&message),
    };
    let client = client_info(&req, &state);
    let reset = password_reset::reset(
        &state.db,
        &state.password_hashing,
        &state.audit,
        &token,
        password,
        client.ip.as_deref(),
    )
    .await?;
    let Some(reset) = reset else {
        return Ok(dead_link());
    };
    state
        .back_channel
        .tell(state.keys.current(), reset.ended_sessions);
    state.mailer.send(
        &reset.user.email,
        &Mail::PasswordChanged {
            username: reset.user.username.clone(),
            reset: true,
            forgot_link: mail_links::page_url(&state.settings.urls.issuer, FORGOT_PASSWORD_PATH),
        },
    );
    // The browser's own session (if any) ended with the others.
    let removal = state.cookies.removal(state.cookies.session_name);
    Ok(with_cookie(
        see_other("/login?password_reset=1"),
        Some(removal),
    ))
}
