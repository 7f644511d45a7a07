//! `CurrentUser`: the extractor that resolves the session cookie to a live session and its
//! user. Handlers take it as an argument and never read the cookie themselves.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::accounts::ClientInfo;
use crate::accounts::sessions::{self, SignedIn};
use crate::error::AppError;
use crate::state::AppState;

/// The signed-in person, or `None` for a visitor.
#[derive(Debug)]
pub struct CurrentUser(pub Option<SignedIn>);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let cookie_value = state
            .as_ref()
            .and_then(|state| req.cookie(state.cookies.session_name))
            .map(|cookie| cookie.value().to_owned());
        Box::pin(async move {
            let (Some(state), Some(value)) = (state, cookie_value) else {
                return Ok(CurrentUser(None));
            };
            let signed_in = sessions::resolve(&state.db, state.sessions, &value).await?;
            Ok(CurrentUser(signed_in))
        })
    }
}

/// The requester's IP and user agent, as recorded with a new session.
pub fn client_info(req: &HttpRequest, state: &AppState) -> ClientInfo {
    ClientInfo {
        ip: shared::http::client_ip(req, state.settings.http.trust_proxy_headers),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    }
}
