//! `GET /account` (who is signed in, and where) and
//! `POST /account/sessions/{id}/end` (end one of those sessions).

use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::{see_other, with_cookie};
use crate::accounts::{sessions, two_factor};
use crate::error::AppError;
use crate::state::AppState;
use crate::templates::{AccountPage, SessionRow, render};
use crate::web::csrf;
use crate::web::return_to::login_url;
use crate::web::session::CurrentUser;

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    ended: Option<String>,
    /// What "send the link again" did: `sent`, `verified`, `too_many`.
    verification: Option<String>,
    /// `changed` after a password change.
    password: Option<String>,
    /// `changed` after an email change.
    email: Option<String>,
    /// `off` after two-factor sign-in was turned off.
    two_factor: Option<String>,
}

impl AccountQuery {
    fn notice(&self) -> Option<&'static str> {
        if self.ended.is_some() {
            return Some("The session has ended.");
        }
        if self.password.as_deref() == Some("changed") {
            return Some("Your password has been changed, and your other sessions signed out.");
        }
        if self.two_factor.as_deref() == Some("off") {
            return Some("Two-factor sign-in is off: your password alone signs you in.");
        }
        if self.email.as_deref() == Some("changed") {
            return Some(
                "Your email address has been changed. Open the link we sent to it to verify it.",
            );
        }
        match self.verification.as_deref()? {
            "sent" => Some("We have sent a new verification link to your email address."),
            "verified" => Some("Your email address is verified already."),
            "too_many" => Some(
                "Several links were sent in the last hour: check your inbox and spam folder, \
                 or try again later.",
            ),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndSessionForm {
    csrf_token: String,
}

fn when(at: NaiveDateTime) -> String {
    format!("{} UTC", at.format("%Y-%m-%d %H:%M"))
}

/// A short device description from a user agent string.
fn device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|ua| !ua.is_empty()) else {
        return "Unknown device".into();
    };
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| *name);
    let system = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) => ua.chars().take(60).collect(),
    }
}

pub async fn show(
    state: web::Data<AppState>,
    query: web::Query<AccountQuery>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account")));
    };
    let rows = sessions::list(&state.db, signed_in.user.id.clone())
        .await?
        .into_iter()
        .map(|session| SessionRow {
            is_current: session.id == signed_in.session.id,
            device: device(session.user_agent.as_deref()),
            ip: session.ip.clone().unwrap_or_else(|| "unknown".into()),
            signed_in: when(session.created_at),
            last_active: when(session.last_seen_at),
            id: session.id,
        })
        .collect();
    let page = AccountPage {
        csrf_token: &signed_in.session.csrf_token,
        username: &signed_in.user.username,
        email: &signed_in.user.email,
        member_since: signed_in.user.created_at.format("%B %Y").to_string(),
        email_verified: signed_in.user.email_verified_at.is_some(),
        require_verified_email: state.settings.mail.require_verified_email,
        sessions: rows,
        notice: query.notice(),
        two_factor_on: two_factor::is_enabled(&state.db, &signed_in.user.id).await?,
    };
    Ok(render(actix_web::http::StatusCode::OK, &page))
}

pub async fn end_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<EndSessionForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url("/account")));
    };
    csrf::verify_session(&signed_in.session.csrf_token, &form.csrf_token)?;
    let session_id = path.into_inner();
    let is_current = session_id == signed_in.session.id;
    if !sessions::end_for_user(&state.db, signed_in.user.id, session_id.clone()).await? {
        return Err(AppError::NotFound);
    }
    // The apps that follow that session are told (OpenID Connect back-channel logout).
    state
        .back_channel
        .session_ended(&state.db, state.keys.current(), session_id)
        .await?;
    if is_current {
        let removal = state.cookies.removal(state.cookies.session_name);
        return Ok(with_cookie(see_other("/login?signed_out=1"), Some(removal)));
    }
    Ok(see_other("/account?ended=1"))
}
