//! The middleware benchmark's yardstick: a bare actix-web server answering `GET /healthz`
//! with the same body as the auth-server's, and nothing else — no request log, no security
//! headers, no rate limiter. `bench/compare.sh` reports the auth-server's `/healthz` as a
//! fraction of its rate: what our middleware stack costs.
//!
//! `HELLO_BIND=127.0.0.1:18095 cargo run --release --example hello -p auth-server`

use actix_web::{App, HttpResponse, HttpServer, web};

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("HELLO_BIND").unwrap_or_else(|_| "127.0.0.1:18095".to_owned());
    HttpServer::new(|| App::new().route("/healthz", web::get().to(healthz)))
        .workers(1)
        .bind(bind)?
        .run()
        .await
}
