//! `GET /register` and `POST /register`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::authorize::with_flow_csp;
use super::{see_other, with_cookie};
use crate::accounts::register::{self, NewAccount, RegisterError};
use crate::accounts::{AccountError, email_verification, sessions};
use crate::domain::{EmailAddress, NewPassword, Username};
use crate::error::{self, AppError};
use crate::state::AppState;
use crate::templates::{RegisterPage, render};
use crate::web::csrf;
use crate::web::return_to;
use crate::web::session::{CurrentUser, client_info};

#[derive(Debug, Deserialize)]
pub struct RegisterQuery {
    return_to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterForm {
    csrf_token: String,
    username: String,
    email: String,
    password: String,
    #[serde(default)]
    return_to: String,
}

/// Field values and messages to show again after a refused submission.
#[derive(Default)]
struct Filled<'a> {
    username: &'a str,
    email: &'a str,
    username_error: Option<String>,
    email_error: Option<String>,
    password_error: Option<String>,
    form_error: Option<&'a str>,
}

const MAX_ECHO: usize = 256;

fn page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    return_to: &str,
    filled: &Filled<'_>,
) -> HttpResponse {
    let (csrf_token, new_cookie) = csrf::anonymous_token(req, &state.cookies);
    let echo = |value: &str| value.chars().take(MAX_ECHO).collect::<String>();
    let response = render(
        status,
        &RegisterPage {
            csrf_token: &csrf_token,
            return_to: &return_to::local_path(return_to).unwrap_or_default(),
            username: &echo(filled.username),
            email: &echo(filled.email),
            username_error: filled.username_error.as_deref(),
            email_error: filled.email_error.as_deref(),
            password_error: filled.password_error.as_deref(),
            form_error: filled.form_error,
        },
    );
    with_cookie(response, new_cookie)
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<RegisterQuery>,
    current: CurrentUser,
) -> HttpResponse {
    if current.0.is_some() {
        return see_other(return_to::DEFAULT);
    }
    let return_to = query.return_to.as_deref().unwrap_or_default();
    let response = page(&req, &state, StatusCode::OK, return_to, &Filled::default());
    with_flow_csp(&state, return_to, response).await
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<RegisterForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let RegisterForm {
        csrf_token,
        username,
        email,
        password,
        return_to,
    } = form.into_inner();
    csrf::verify_anonymous(&req, &state.cookies, &csrf_token)?;

    // SECURITY.md 23: validate every field and report each problem next to its field.
    let parsed_username = Username::parse(&username);
    let parsed_email = EmailAddress::parse(&email);
    let parsed_password = NewPassword::parse(&password, username.trim(), email.trim());
    let account = match (parsed_username, parsed_email, parsed_password) {
        (Ok(username), Ok(email), Ok(password)) => NewAccount {
            username,
            email,
            password,
        },
        (username_result, email_result, password_result) => {
            let filled = Filled {
                username: &username,
                email: &email,
                username_error: username_result.err(),
                email_error: email_result.err(),
                password_error: password_result.err(),
                form_error: Some("Please correct the highlighted fields."),
            };
            let response = page(&req, &state, StatusCode::BAD_REQUEST, &return_to, &filled);
            return Ok(with_flow_csp(&state, &return_to, response).await);
        }
    };

    match register::create_account(&state.db, &state.password_hashing, account).await {
        Ok(user) => {
            // The account exists whether or not the link can be stored now: the account
            // page sends it again.
            if let Err(error) = email_verification::send(
                &state.db,
                &state.mailer,
                &state.settings.urls.issuer,
                &user,
            )
            .await
            {
                tracing::warn!(error = %error, "verification link not sent at sign-up");
            }
            let replacing = current.0.map(|signed_in| signed_in.session.id);
            let client = client_info(&req, &state);
            let token = sessions::start(
                &state.db,
                state.sessions,
                user.id,
                client,
                replacing,
                sessions::SignInMethod::Password,
            )
            .await?;
            let response = see_other(&return_to::or_default(Some(&return_to)));
            Ok(with_cookie(
                response,
                Some(state.cookies.session(token.expose())),
            ))
        }
        Err(RegisterError::Taken) => {
            // One message for a taken username and a taken email: which one is not said.
            let filled = Filled {
                username: &username,
                email: &email,
                form_error: Some(
                    "This username or email address cannot be used. If you already have an \
                     account, sign in instead.",
                ),
                ..Filled::default()
            };
            let response = page(&req, &state, StatusCode::CONFLICT, &return_to, &filled);
            Ok(with_flow_csp(&state, &return_to, response).await)
        }
        Err(RegisterError::Failed(AccountError::PasswordHashingBusy)) => {
            // Nothing was stored: the form again, filled in, to send once more.
            let filled = Filled {
                username: &username,
                email: &email,
                form_error: Some(error::BUSY_MESSAGE),
                ..Filled::default()
            };
            let response = page(
                &req,
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                &return_to,
                &filled,
            );
            Ok(with_flow_csp(&state, &return_to, error::retry_soon(response)).await)
        }
        Err(RegisterError::Failed(error)) => Err(error.into()),
    }
}
