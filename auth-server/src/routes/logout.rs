//! `POST /logout`: ends the session server-side and drops the cookie.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{see_other, with_cookie};
use crate::accounts::sessions;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::csrf;
use crate::web::session::CurrentUser;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutForm {
    csrf_token: String,
}

pub async fn submit(
    state: web::Data<AppState>,
    form: web::Form<LogoutForm>,
    current: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let Some(signed_in) = current.0 else {
        return Ok(see_other("/login"));
    };
    csrf::verify_session(&signed_in.session.csrf_token, &form.csrf_token)?;
    sessions::end(&state.db, signed_in.session.id).await?;
    let removal = state.cookies.removal(state.cookies.session_name);
    Ok(with_cookie(see_other("/login?signed_out=1"), Some(removal)))
}
