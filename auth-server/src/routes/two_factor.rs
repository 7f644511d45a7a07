//! `GET|POST /account/two-factor`: turn two-factor sign-in on (a QR code and the secret in
//! text, then a first code from the app, then the recovery codes, once);
//! `POST /account/two-factor/recovery-codes` and `POST /account/two-factor/disable`: new
//! recovery codes, or turn it off, each for a current code or a recovery code.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::models::recovery_code::RecoveryCode;

use super::see_other;
use crate::accounts::sessions::{self, SignedIn};
use crate::accounts::two_factor::enrolment::{self, Confirmation};
use crate::accounts::two_factor::recovery_codes::PlainRecoveryCode;
use crate::accounts::two_factor::second_step::{Occasion, StepOutcome};
use crate::accounts::two_factor::{self, Proof};
use crate::error::{self, AppError};
use crate::mail::messages::TwoFactorChange;
use crate::state::AppState;
use crate::templates::{RecoveryCodesPage, TwoFactorPage, render};
use crate::web::csrf;
use crate::web::return_to::{self, login_url};
use crate::web::session::{CurrentUser, client_info};

const PAGE_PATH: &str = "/account/two-factor";
/// Longer input is no code of ours.
pub const MAX_CODE_INPUT: usize = 64;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    /// Where to go once it is on (the authorization that asked for it).
    return_to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeForm {
    csrf_token: String,
    code: String,
    #[serde(default)]
    return_to: String,
}

/// The page: enrolment while off, the settings while on.
async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    return_to: &str,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let user = &signed_in.user;
    let enrolment = state.enroller().start(&user.id, &user.username).await?;
    let recovery_codes_left = if enrolment.is_none() {
        let id = user.id.clone();
        state
            .db
            .run(move |conn| RecoveryCode::count_unused(conn, &id))
            .await?
    } else {
        0
    };
    let return_to = return_to::local_path(return_to).unwrap_or_default();
    let notice = (!return_to.is_empty() && enrolment.is_some()).then_some(
        "The app you are signing in to requires two-factor sign-in. Turn it on to continue.",
    );
    Ok(render(
        status,
        &TwoFactorPage {
            csrf_token: &signed_in.session.csrf_token,
            return_to: &return_to,
            enrolment: enrolment.as_ref(),
            recovery_codes_left,
            notice,
            error,
        },
    ))
}

fn codes_page(codes: &[PlainRecoveryCode], continue_to: &str, notice: &str) -> HttpResponse {
    render(
        StatusCode::OK,
        &RecoveryCodesPage {
            codes: codes.iter().map(PlainRecoveryCode::expose).collect(),
            continue_to,
            notice: Some(notice),
        },
    )
}

fn login_first(return_to: Option<&str>) -> HttpResponse {
    let page = match return_to.and_then(return_to::local_path) {
        Some(next) => format!("{PAGE_PATH}?return_to={}", return_to::percent_encode(&next)),
        None => PAGE_PATH.to_owned(),
    };
    see_other(&login_url(&page))
}

pub async fn show(
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(login_first(query.return_to.as_deref()));
    };
    let return_to = query.return_to.as_deref().unwrap_or_default();
    page(&state, &signed_in, StatusCode::OK, return_to, None).await
}

/// The first code from the app: two-factor sign-in is on, and this session has proven it.
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(login_first(Some(&form.return_to)));
    };
    let CodeForm {
        csrf_token,
        code,
        return_to,
    } = form.into_inner();
    csrf::verify_session(&signed_in.session.csrf_token, &csrf_token)?;
    let refused = |message: &'static str| {
        let (state, signed_in, return_to) = (&state, &signed_in, &return_to);
        async move {
            page(
                state,
                signed_in,
                StatusCode::BAD_REQUEST,
                return_to,
                Some(message),
            )
            .await
        }
    };
    if code.trim().is_empty() || code.len() > MAX_CODE_INPUT {
        return refused("Enter the 6-digit code your app shows.").await;
    }
    let ip = client_info(&req, &state).ip;
    let user = &signed_in.user;
    match state
        .enroller()
        .confirm(&user.id, &code, ip.as_deref())
        .await?
    {
        Confirmation::Enabled(codes) => {
            sessions::mark_second_factor(&state.db, signed_in.session.id.clone()).await?;
            state.tell_two_factor_change(user, TwoFactorChange::TurnedOn);
            let continue_to =
                return_to::local_path(&return_to).unwrap_or_else(|| "/account".into());
            Ok(codes_page(
                &codes,
                &continue_to,
                "Two-factor sign-in is on.",
            ))
        }
        Confirmation::WrongCode => {
            refused(
                "That is not the code the app shows now. Check that the phone's clock is right, \
                 then enter the current code.",
            )
            .await
        }
        Confirmation::NotStarted => {
            refused("Scan the code below, then enter a code from the app.").await
        }
        Confirmation::AlreadyOn => Ok(see_other(PAGE_PATH)),
    }
}

/// What a code-protected change does once the code is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    RenewRecoveryCodes,
    TurnOff,
}

async fn code_protected(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
    current: CurrentUser,
    change: Change,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(login_first(None));
    };
    let CodeForm {
        csrf_token, code, ..
    } = form.into_inner();
    csrf::verify_session(&signed_in.session.csrf_token, &csrf_token)?;
    let user = &signed_in.user;
    if !two_factor::is_enabled(&state.db, &user.id).await? {
        return Ok(see_other(PAGE_PATH));
    }
    if code.trim().is_empty() || code.len() > MAX_CODE_INPUT {
        let message = "Enter a code from your app, or a recovery code.";
        return page(
            &state,
            &signed_in,
            StatusCode::BAD_REQUEST,
            "",
            Some(message),
        )
        .await;
    }
    let ip = client_info(&req, &state).ip;
    let occasion = match change {
        Change::RenewRecoveryCodes => Occasion::RenewRecoveryCodes,
        Change::TurnOff => Occasion::TurnOff,
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
            match change {
                Change::RenewRecoveryCodes => {
                    let codes = enrolment::renew_recovery_codes(
                        &state.db,
                        &state.audit,
                        &user.id,
                        ip.as_deref(),
                    )
                    .await?;
                    Ok(codes_page(
                        &codes,
                        PAGE_PATH,
                        "Your old recovery codes no longer work.",
                    ))
                }
                Change::TurnOff => {
                    if enrolment::turn_off(&state.db, &user.id, "owner", ip.as_deref()).await? {
                        state.tell_two_factor_change(user, TwoFactorChange::TurnedOff);
                    }
                    Ok(see_other("/account?two_factor=off"))
                }
            }
        }
        StepOutcome::Refused => {
            let message = "That code is incorrect or was used already.";
            page(
                &state,
                &signed_in,
                StatusCode::UNAUTHORIZED,
                "",
                Some(message),
            )
            .await
        }
        StepOutcome::LockedOut => {
            let minutes = state.login.lockout_minutes();
            let message = error::wrong_codes_message(minutes);
            let response = page(
                &state,
                &signed_in,
                StatusCode::TOO_MANY_REQUESTS,
                "",
                Some(&message),
            )
            .await?;
            Ok(error::retry_after_lockout(response, minutes))
        }
    }
}

pub async fn renew_recovery_codes(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    code_protected(req, state, form, current, Change::RenewRecoveryCodes).await
}

pub async fn turn_off(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    code_protected(req, state, form, current, Change::TurnOff).await
}
