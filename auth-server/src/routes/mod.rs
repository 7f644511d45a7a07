//! Thin actix handlers, one file per page or endpoint: parse the request, call `accounts`
//! or `oauth`, render or answer.

mod account;
mod api_keys;
mod apps;
mod assets;
pub mod authorize;
mod client_request;
mod delete_account;
mod discovery;
mod email;
mod introspect;
mod login;
mod logout;
mod password;
mod password_reset;
mod register;
mod revoke;
mod token;
mod two_factor;
mod two_factor_login;
mod userinfo;
mod verify_email;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use shared::http::cors;

/// A 303 redirect: after a POST the browser follows with a GET.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

/// Adds a cookie to a response. Cookies we build always encode to a valid header, so a
/// failure here is a bug worth a log line rather than a failed request.
pub fn with_cookie(
    mut response: HttpResponse,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    if let Some(cookie) = cookie
        && let Err(error) = response.add_cookie(&cookie)
    {
        tracing::error!(error = %error, "cookie could not be set");
    }
    response
}

async fn home() -> HttpResponse {
    see_other(crate::web::return_to::DEFAULT)
}

/// The pages and endpoints. Only the endpoints a browser app calls with `fetch` get CORS,
/// for the origins in `cors_origins`; the pages and `/authorize` never do (SECURITY.md 27).
pub fn configure(cfg: &mut web::ServiceConfig, cors_origins: &[String]) {
    cfg.route("/", web::get().to(home))
        .route("/static/style.css", web::get().to(assets::stylesheet))
        .route("/login", web::get().to(login::show))
        .route("/login", web::post().to(login::submit))
        .route(
            two_factor_login::PATH,
            web::get().to(two_factor_login::show),
        )
        .route(
            two_factor_login::PATH,
            web::post().to(two_factor_login::submit),
        )
        .route("/account/two-factor", web::get().to(two_factor::show))
        .route("/account/two-factor", web::post().to(two_factor::confirm))
        .route(
            "/account/two-factor/recovery-codes",
            web::post().to(two_factor::renew_recovery_codes),
        )
        .route(
            "/account/two-factor/disable",
            web::post().to(two_factor::turn_off),
        )
        .route("/register", web::get().to(register::show))
        .route("/register", web::post().to(register::submit))
        .route(
            "/forgot-password",
            web::get().to(password_reset::show_forgot),
        )
        .route(
            "/forgot-password",
            web::post().to(password_reset::submit_forgot),
        )
        .route("/reset-password", web::get().to(password_reset::show_reset))
        .route(
            "/reset-password",
            web::post().to(password_reset::submit_reset),
        )
        .route("/verify-email", web::get().to(verify_email::show))
        .route("/verify-email", web::post().to(verify_email::confirm))
        .route("/logout", web::get().to(logout::request))
        .route("/logout", web::post().to(logout::submit))
        .route("/account", web::get().to(account::show))
        .route("/account/email", web::get().to(email::show))
        .route("/account/email", web::post().to(email::submit))
        .route("/account/delete", web::get().to(delete_account::show))
        .route("/account/delete", web::post().to(delete_account::submit))
        .route("/account/password", web::get().to(password::show))
        .route("/account/password", web::post().to(password::submit))
        .route(
            "/account/email/verification",
            web::post().to(verify_email::resend),
        )
        .route(
            "/account/sessions/{id}/end",
            web::post().to(account::end_session),
        )
        .route("/account/apps", web::get().to(apps::list))
        .route("/account/api-keys", web::get().to(api_keys::list))
        .route("/account/api-keys", web::post().to(api_keys::create))
        .route(
            "/account/api-keys/{id}/revoke",
            web::post().to(api_keys::revoke),
        )
        .route(
            "/account/apps/{client_id}/revoke",
            web::post().to(apps::revoke),
        )
        .route("/authorize", web::get().to(authorize::start))
        .route("/authorize", web::post().to(authorize::decide))
        .service(
            web::resource("/token")
                .wrap(cors::oauth_endpoint(cors_origins, Method::POST))
                .app_data(client_request::form_config())
                .route(web::post().to(token::exchange)),
        )
        .service(
            web::resource("/revoke")
                .wrap(cors::oauth_endpoint(cors_origins, Method::POST))
                .app_data(client_request::form_config())
                .route(web::post().to(revoke::revoke)),
        )
        .service(
            web::resource("/introspect")
                .app_data(client_request::form_config())
                .route(web::post().to(introspect::introspect)),
        )
        .service(
            web::resource("/jwks.json")
                .wrap(cors::oauth_endpoint(cors_origins, Method::GET))
                .route(web::get().to(discovery::jwks)),
        )
        .service(
            web::resource("/.well-known/oauth-authorization-server")
                .wrap(cors::oauth_endpoint(cors_origins, Method::GET))
                .route(web::get().to(discovery::authorization_server_metadata)),
        )
        .service(
            web::resource("/.well-known/openid-configuration")
                .wrap(cors::oauth_endpoint(cors_origins, Method::GET))
                .route(web::get().to(discovery::authorization_server_metadata)),
        )
        .service(
            web::resource("/userinfo")
                .wrap(cors::oauth_endpoints(
                    cors_origins,
                    &[Method::GET, Method::POST],
                ))
                .route(web::get().to(userinfo::userinfo))
                .route(web::post().to(userinfo::userinfo)),
        );
}
