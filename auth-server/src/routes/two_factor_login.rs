//! `POST /login` hands an account with two-factor sign-in to this step;
//! `GET /login/two-factor` asks a signed-in session for the code when an app requires it
//! (step-up); `POST /login/two-factor` checks the code. After the password the page holds
//! the waiting sign-in's `mfa_` token (anonymous CSRF); in a session, the session's token.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use shared::audit::AuditEvent;
use shared::models::user::User;

use super::authorize::with_flow_csp;
use super::two_factor::MAX_CODE_INPUT;
use super::{see_other, with_cookie};
use crate::accounts::sessions::{self, SignInMethod, SignedIn};
use crate::accounts::two_factor::second_step::{self, Occasion, StepOutcome};
use crate::accounts::two_factor::{self, Proof};
use crate::error::{self, AppError};
use crate::mail::messages::TwoFactorChange;
use crate::state::AppState;
use crate::templates::{TwoFactorCodePage, render};
use crate::web::csrf;
use crate::web::return_to::{self, login_url, percent_encode};
use crate::web::session::{CurrentUser, client_info};

pub const PATH: &str = "/login/two-factor";

#[derive(Debug, Deserialize)]
pub struct StepUpQuery {
    return_to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeForm {
    csrf_token: String,
    /// The waiting sign-in's token; empty for a signed-in session's step-up.
    #[serde(default)]
    held: String,
    code: String,
    #[serde(default)]
    return_to: String,
}

/// Who the page asks: a sign-in waiting after its password, or a signed-in session.
enum Asking<'a> {
    Held { token: &'a str, user: &'a User },
    Session(&'a SignedIn),
}

/// Who sent the code.
enum Answering {
    Held {
        user: User,
        /// The browser's session before this sign-in, if any, which the new one replaces.
        replacing: Option<String>,
    },
    Session(SignedIn),
}

impl Answering {
    fn user(&self) -> &User {
        match self {
            Answering::Held { user, .. } => user,
            Answering::Session(signed_in) => &signed_in.user,
        }
    }

    fn asking<'a>(&'a self, held: &'a str) -> Asking<'a> {
        match self {
            Answering::Held { user, .. } => Asking::Held { token: held, user },
            Answering::Session(signed_in) => Asking::Session(signed_in),
        }
    }
}

struct Messages<'a> {
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    asking: Asking<'_>,
    return_to: &str,
    messages: Messages<'_>,
) -> HttpResponse {
    let return_to = return_to::local_path(return_to).unwrap_or_default();
    let (csrf_token, new_cookie, held, username) = match asking {
        Asking::Held { token, user } => {
            let (csrf_token, new_cookie) = csrf::anonymous_token(req, &state.cookies);
            (csrf_token, new_cookie, token, user.username.as_str())
        }
        Asking::Session(signed_in) => (
            signed_in.session.csrf_token.clone(),
            None,
            "",
            signed_in.user.username.as_str(),
        ),
    };
    let response = render(
        status,
        &TwoFactorCodePage {
            csrf_token: &csrf_token,
            held,
            return_to: &return_to,
            username,
            notice: messages.notice,
            error: messages.error,
        },
    );
    with_flow_csp(state, &return_to, with_cookie(response, new_cookie)).await
}

/// The page after a right password, for an account with two-factor sign-in.
pub async fn ask_after_password(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    return_to: &str,
) -> Result<HttpResponse, AppError> {
    let token = second_step::hold(&state.db, user).await?;
    let asking = Asking::Held {
        token: token.expose(),
        user,
    };
    let messages = Messages {
        notice: None,
        error: None,
    };
    Ok(page(req, state, StatusCode::OK, asking, return_to, messages).await)
}

/// Where an authorization that needs the second factor sends a session without it.
pub fn step_up_url(return_to: &str) -> String {
    format!("{PATH}?return_to={}", percent_encode(return_to))
}

/// `GET /login/two-factor`: the code, for a signed-in session without it; a person with no
/// second factor yet is sent to set one up first.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<StepUpQuery>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let return_to = query.return_to.as_deref().unwrap_or_default();
    let Some(signed_in) = current.0 else {
        return Ok(see_other(&login_url(&return_to::or_default(Some(
            return_to,
        )))));
    };
    if !two_factor::is_enabled(&state.db, &signed_in.user.id).await? {
        return Ok(see_other(&format!(
            "/account/two-factor?return_to={}",
            percent_encode(return_to)
        )));
    }
    let messages = Messages {
        notice: Some("The app you are signing in to asks for your second factor."),
        error: None,
    };
    let asking = Asking::Session(&signed_in);
    Ok(page(&req, &state, StatusCode::OK, asking, return_to, messages).await)
}

/// `POST /login/two-factor`.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let CodeForm {
        csrf_token,
        held,
        code,
        return_to,
    } = form.into_inner();
    let client = client_info(&req, &state);
    let ip = client.ip.clone();
    let next = return_to::or_default(Some(&return_to));

    // Who is answering: the waiting sign-in the form holds, or this session.
    let answering = if held.is_empty() {
        let Some(signed_in) = current.0 else {
            return Ok(see_other(&login_url(&next)));
        };
        csrf::verify_session(&signed_in.session.csrf_token, &csrf_token)?;
        Answering::Session(signed_in)
    } else {
        csrf::verify_anonymous(&req, &state.cookies, &csrf_token)?;
        let Some(user) = second_step::held_user(&state.db, &held).await? else {
            return Ok(see_other(&format!("{}&expired=1", login_url(&next))));
        };
        Answering::Held {
            user,
            replacing: current.0.map(|signed_in| signed_in.session.id),
        }
    };
    let user = answering.user();
    let refuse = |status: StatusCode, message: String| {
        let asking = answering.asking(&held);
        let (req, state, return_to) = (&req, &state, &return_to);
        async move {
            let messages = Messages {
                notice: None,
                error: Some(&message),
            };
            page(req, state, status, asking, return_to, messages).await
        }
    };
    // The per-IP slow-down applies to codes as to passwords.
    let delay = state
        .ip_slowdown
        .delay_for(ip.as_deref().unwrap_or_default());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if code.trim().is_empty() || code.len() > MAX_CODE_INPUT {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "Enter the 6-digit code your app shows.".into(),
        )
        .await);
    }
    let occasion = match answering {
        Answering::Held { .. } => Occasion::SignIn,
        Answering::Session(_) => Occasion::StepUp,
    };
    let outcome = state
        .second_factor_guard()
        .verify(user, &code, occasion, ip.as_deref())
        .await?;
    match outcome {
        StepOutcome::Passed(proof) => {
            if let Proof::RecoveryCode { remaining } = proof {
                state.tell_two_factor_change(user, TwoFactorChange::RecoveryCodeUsed { remaining });
            }
            match &answering {
                Answering::Session(signed_in) => {
                    sessions::mark_second_factor(&state.db, signed_in.session.id.clone()).await?;
                    Ok(see_other(&next))
                }
                Answering::Held { replacing, .. } => {
                    if !second_step::release(&state.db, &held).await? {
                        // A racing request with the same held sign-in finished it first.
                        return Ok(see_other(&login_url(&next)));
                    }
                    state
                        .ip_slowdown
                        .record_success(ip.as_deref().unwrap_or_default());
                    state.audit.record(
                        AuditEvent::new("login_success")
                            .user(Some(&user.id))
                            .ip(ip.as_deref())
                            .detail(json!({ "amr": ["pwd", "otp"] })),
                    );
                    let token = sessions::start(
                        &state.db,
                        state.sessions,
                        user.id.clone(),
                        client,
                        replacing.clone(),
                        SignInMethod::PasswordAndSecondFactor,
                    )
                    .await?;
                    Ok(with_cookie(
                        see_other(&next),
                        Some(state.cookies.session(token.expose())),
                    ))
                }
            }
        }
        StepOutcome::Refused => {
            state
                .ip_slowdown
                .record_failure(ip.as_deref().unwrap_or_default());
            Ok(refuse(
                StatusCode::UNAUTHORIZED,
                "That code is incorrect or was used already. Enter the code your app shows now."
                    .into(),
            )
            .await)
        }
        StepOutcome::LockedOut => {
            state
                .ip_slowdown
                .record_failure(ip.as_deref().unwrap_or_default());
            let minutes = state.login.lockout_minutes();
            let message = error::wrong_codes_message(minutes);
            let response = refuse(StatusCode::TOO_MANY_REQUESTS, message).await;
            Ok(error::retry_after_lockout(response, minutes))
        }
    }
}
