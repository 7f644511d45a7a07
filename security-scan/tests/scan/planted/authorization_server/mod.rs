//! The planted authorization server: RFC 8414 metadata and the JWKS, the sign-in,
//! sign-up and account pages ([`pages`]), `/authorize` and its consent page
//! ([`authorize`]), `/token`, `/introspect` and `/revoke` ([`token`]), the stylesheet
//! ([`static_files`]). The cookies
//! ([`session`]) and the headers every answer gets are here and in [`session`].

pub mod authorize;
pub mod pages;
pub mod session;
pub mod static_files;
pub mod token;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use serde_json::json;

use super::html;
use super::state::State;

/// Starts the server on `listener` over TLS; it runs until the test's runtime ends.
pub fn serve(listener: TcpListener, tls: rustls::ServerConfig, state: Arc<State>) {
    let data = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(
                "/.well-known/oauth-authorization-server",
                web::get().to(metadata),
            )
            .route("/jwks.json", web::get().to(jwks))
            .configure(pages::configure)
            .configure(authorize::configure)
            .configure(token::configure)
            .configure(static_files::configure)
            .default_service(web::to(not_found))
            // Every answer: nosniff, a framing ban, no referrer, HSTS. Caching is up to
            // each page (see pages::login for the one that forgot).
            .wrap(
                middleware::DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add(("Strict-Transport-Security", "max-age=63072000")),
            )
    })
    .workers(1)
    .listen_rustls_0_23(listener, tls)
    .expect("the planted authorization server listens")
    .run();
    actix_web::rt::spawn(server);
}

/// RFC 8414 §2.
async fn metadata(state: web::Data<State>) -> HttpResponse {
    let issuer = &state.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks.json"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "response_types_supported": ["code", "token"],
        "grant_types_supported": [
            "authorization_code", "refresh_token", "client_credentials", "password", "implicit"
        ],
        "code_challenge_methods_supported": ["S256", "plain"],
        "scopes_supported": ["tasks:read", "tasks:write"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none"
        ],
    }))
}

async fn jwks(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "keys": [state.signer.jwk()] }))
}

async fn not_found() -> HttpResponse {
    session::page_response(
        actix_web::http::StatusCode::NOT_FOUND,
        html::page("Not found", "<p>There is no such page.</p>"),
    )
}
