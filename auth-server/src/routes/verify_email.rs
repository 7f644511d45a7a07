//! `GET /verify-email?token=…` (a page with one button: a mail scanner that fetches the
//! link does not use it up), `POST /verify-email` (use it), and
//! `POST /account/email/verification` (send the link again, from the account page).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{see_other, with_cookie};
use crate::accounts::email_verification::{self, ResendOutcome};
use crate::error::AppError;
use crate::state::AppState;
use crate::templates::{NoticePage, VerifyEmailPage, render};
use crate::web::csrf;
use crate::web::return_to::login_url;
use crate::web::session::CurrentUser;

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyForm {
    csrf_token: String,
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendForm {
    csrf_token: String,
}

fn dead_link() -> HttpResponse {
    render(
        StatusCode::BAD_REQUEST,
        &NoticePage {
            title: "This link does not work",
            message: "This verification link has expired, was used already, or the account's \
                      email address has changed since it was sent. Your account page can send \
                      a new one.",
            link: "/account",
            link_text: "Go to your account",
        },
    )
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.token.as_deref().unwrap_or_default();
    if !email_verification::is_live(&state.db, token).await? {
        return Ok(dead_link());
    }
    let (csrf_token, new_cookie) = csrf::anonymous_token(&req, &state.cookies);
    let page = VerifyEmailPage {
        csrf_token: &csrf_token,
        token,
    };
    Ok(with_cookie(render(StatusCode::OK, &page), new_cookie))
}

pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<VerifyForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify_anonymous(&req, &state.cookies, &form.csrf_token)?;
    if !email_verification::confirm(&state.db, &state.audit, &form.token).await? {
        return Ok(dead_link());
    }
    Ok(render(
        StatusCode::OK,
        &NoticePage {
            title: "Email address verified",
            message: "Thank you: your email address is verified.",
            link: "/account",
            link_text: "Go to your account",
        },
    ))
}

pub async fn resend(
    state: web::Data<AppState>,
    form: web::Form<ResendForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account")));
    };
    csrf::verify_session(&signed_in.session.csrf_token, &form.csrf_token)?;
    let outcome = email_verification::resend(
        &state.db,
        &state.mailer,
        &state.settings.urls.issuer,
        &signed_in.user,
    )
    .await?;
    let notice = match outcome {
        ResendOutcome::Sent => "sent",
        ResendOutcome::AlreadyVerified => "verified",
        ResendOutcome::TooMany => "too_many",
    };
    Ok(see_other(&format!("/account?verification={notice}")))
}
