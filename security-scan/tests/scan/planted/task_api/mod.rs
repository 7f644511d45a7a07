//! The planted task API: `/api/health`, its OpenAPI document ([`openapi`]), and the tasks
//! ([`tasks`], kept in [`store`]) behind bearer tokens ([`bearer`]); CORS and the headers
//! every answer gets are here.

pub mod bearer;
pub mod openapi;
pub mod store;
pub mod tasks;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

use super::state::State;

/// Starts the API on `listener` over TLS; it runs until the test's runtime ends.
pub fn serve(listener: TcpListener, tls: rustls::ServerConfig, state: Arc<State>) {
    let data = web::Data::from(state);
    let verifier = web::Data::new(bearer::Verifier::default());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(verifier.clone())
            .app_data(tasks::query_config())
            .route("/api/health", web::get().to(health))
            .route("/api/openapi.json", web::get().to(openapi::document))
            .configure(tasks::configure)
            .default_service(web::to(not_found))
            // PLANTED rate_limits.api: no limiter, per user or per address.
            .wrap(from_fn(cors))
            .wrap(from_fn(headers))
    })
    .workers(1)
    .listen_rustls_0_23(listener, tls)
    .expect("the planted task API listens")
    .run();
    actix_web::rt::spawn(server);
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": "not_found" }))
}

/// The headers of every answer.
async fn headers(
    request: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    // PLANTED headers.nosniff: set by the JSON success path only; errors and the 404
    // go without it.
    if response.status().is_success() {
        response.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    // PLANTED headers.hsts: the API was "behind the load balancer that adds HSTS" — which
    // it is not: no Strict-Transport-Security here.
    Ok(response)
}

/// CORS for the browser apps.
async fn cors(
    request: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // PLANTED cors.origins, cors.credentials, cors.preflight: "allow our apps" was done by
    // echoing whatever Origin came, with credentials, and approving every preflight.
    let origin = request.headers().get(header::ORIGIN).cloned();
    let preflight = request.method() == actix_web::http::Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if let (true, Some(origin)) = (preflight, &origin) {
        let mut answer = HttpResponse::NoContent();
        answer.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()));
        answer.insert_header((header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true"));
        for (asked, allowed) in [
            (
                header::ACCESS_CONTROL_REQUEST_METHOD,
                header::ACCESS_CONTROL_ALLOW_METHODS,
            ),
            (
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                header::ACCESS_CONTROL_ALLOW_HEADERS,
            ),
        ] {
            if let Some(value) = request.headers().get(asked).cloned() {
                answer.insert_header((allowed, value));
            }
        }
        let answer = answer.finish();
        return Ok(request.into_response(answer));
    }
    let mut response = next.call(request).await?;
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(response)
}
