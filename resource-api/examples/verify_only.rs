//! The benchmark's yardstick: a bare actix-web endpoint that verifies the same access token
//! the same way resource-api does (EdDSA, `typ`, `iss`, `aud`, `exp`) and does nothing
//! else — no revocation check, no database. `bench/task_api.sh` runs it next to the task
//! API; the task API's database-backed reads are reported as a fraction of its rate.
//!
//! `VERIFY_BIND=127.0.0.1:18090 JWK_X=… ISSUER=… AUDIENCE=… cargo run --release --example verify_only -p resource-api`

use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use shared::claims::{ACCESS_TOKEN_TYPE, AccessTokenClaims};

struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

async fn verify(req: HttpRequest, verifier: web::Data<Arc<Verifier>>) -> HttpResponse {
    let Some(token) = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return HttpResponse::Unauthorized().finish();
    };
    let typed = jsonwebtoken::decode_header(token)
        .is_ok_and(|h| h.typ.as_deref() == Some(ACCESS_TOKEN_TYPE));
    match jsonwebtoken::decode::<AccessTokenClaims>(token, &verifier.key, &verifier.validation) {
        Ok(data) if typed => HttpResponse::Ok().json(serde_json::json!({ "sub": data.claims.sub })),
        _ => HttpResponse::Unauthorized().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let key = DecodingKey::from_ed_components(&var("JWK_X")).map_err(std::io::Error::other)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.leeway = 60;
    validation.set_issuer(&[var("ISSUER")]);
    validation.set_audience(&[var("AUDIENCE")]);
    let verifier = web::Data::new(Arc::new(Verifier { key, validation }));
    let workers = var("HTTP_WORKERS").parse().unwrap_or(1);
    HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .route("/verify", web::get().to(verify))
    })
    .workers(workers)
    .bind(var("VERIFY_BIND"))?
    .run()
    .await
}
