//! What every page carries (SECURITY.md 6, 8, 28, 29): security headers, escaping of what
//! people type, and clean 4xx answers to malformed requests.

use diesel::prelude::*;
use shared::schema::users;

use crate::support::browser::PASSWORD;
use crate::support::servers::{spawn_app, spawn_app_with};

fn assert_page_headers(response: &reqwest::Response) {
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

#[actix_web::test]
async fn every_page_and_error_carries_the_security_headers() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    for path in [
        "/login",
        "/register",
        "/account",
        "/account/password",
        "/account/email",
        "/account/delete",
        "/account/two-factor",
        "/login/two-factor",
        "/forgot-password",
        "/reset-password?token=pr_unknown",
        "/verify-email?token=ev_unknown",
        "/no-such-page",
        "/healthz",
        "/readyz",
    ] {
        let response = visitor.get(path).await;
        assert_page_headers(&response);
        assert!(
            response
                .headers()
                .get("strict-transport-security")
                .is_none(),
            "no HSTS over http"
        );
    }
    let refused = visitor.post_form("/login", &[("csrf_token", "x")]).await;
    assert_page_headers(&refused);
}

#[actix_web::test]
async fn hsts_is_sent_when_the_issuer_is_https() {
    let app = spawn_app_with(&[("ISSUER", "https://auth.example.test")]).await;
    let response = app.visitor().get("/login").await;
    let hsts = response.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.contains("max-age=63072000"), "{hsts}");
}

#[actix_web::test]
async fn the_stylesheet_is_served_by_the_server_itself() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let response = visitor.get("/static/style.css").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    assert!(response.text().await.unwrap().contains(".card"));
    let html = visitor.get("/login").await.text().await.unwrap();
    assert!(html.contains("href=\"/static/style.css\""));
    assert!(
        !html.contains("<script"),
        "no scripts, no third-party assets"
    );
}

#[actix_web::test]
async fn unknown_pages_get_a_404_page() {
    let app = spawn_app().await;
    let response = app.visitor().get("/nope").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[actix_web::test]
async fn what_people_type_is_shown_as_text() {
    let app = spawn_app().await;
    let script = "<script>alert(1)</script>";
    let visitor = app.visitor();
    let response = visitor.register(script, "x@example.com", PASSWORD).await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(!html.contains(script), "the username is escaped");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&#60;script&#62;"),
        "{html}"
    );

    let response = app
        .visitor()
        .login("\"><img src=x onerror=alert(1)>", "wrong-password-guess")
        .await;
    let html = response.text().await.unwrap();
    assert!(!html.contains("<img src=x"), "{html}");

    let response = visitor
        .get("/login?return_to=%2F%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert!(!response.text().await.unwrap().contains("<script>alert(1)"));
}

#[actix_web::test]
async fn malformed_forms_get_a_clear_4xx_and_change_nothing() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let csrf = visitor.csrf_from("/register").await;
    let post_raw = |body: Vec<u8>, content_type: &'static str| {
        visitor
            .request(reqwest::Method::POST, "/register")
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    let valid = format!(
        "csrf_token={csrf}&username=zoe&email=zoe%40example.com&password=violet-anchor-tundra-42"
    );

    let unknown_field = post_raw(
        format!("{valid}&is_admin=true").into_bytes(),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_eq!(unknown_field.status(), 400);
    assert!(unknown_field.text().await.unwrap().contains("is_admin"));

    let duplicate = post_raw(
        format!("{valid}&username=zed").into_bytes(),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_eq!(duplicate.status(), 400);

    let bad_utf8 = post_raw(
        format!("{valid}&x=%FF%FE")
            .replace("username=zoe", "username=%FF%FE")
            .into_bytes(),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_eq!(bad_utf8.status(), 400);

    let too_large = post_raw(
        format!("{valid}&pad={}", "a".repeat(20_000)).into_bytes(),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_eq!(too_large.status(), 413);

    let json = post_raw(br#"{"username":"zoe"}"#.to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(json.status(), 415);
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_media_type");

    let duplicate_query = app
        .visitor()
        .get("/login?return_to=%2Fa&return_to=%2Fb")
        .await;
    assert_eq!(duplicate_query.status(), 400);

    let count: i64 = app
        .query(|conn| users::table.count().get_result(conn))
        .await;
    assert_eq!(count, 0, "nothing was written");

    // The well-formed request still works afterwards.
    let ok = post_raw(valid.into_bytes(), "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
}
