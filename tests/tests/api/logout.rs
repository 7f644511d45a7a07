//! OpenID Connect logout: RP-initiated (RP-Initiated Logout 1.0) with and without a hint
//! that proves the session, a `post_logout_redirect_uri` registered or not; and
//! back-channel logout tokens (Back-Channel Logout 1.0) received by a test receiver and
//! validated, while a receiver that never answers does not slow sign-out.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};

use crate::support::browser::{TestUser, hidden_field, location};
use crate::support::oauth_client::{ClientOptions, TestClient, pkce, query_param};
use crate::support::servers::{TestApp, spawn_app};
use crate::support::tokens::unverified_claims;

const AFTER_LOGOUT: &str = "https://app.example.com/signed-out";

fn logout_client(backchannel_logout_uri: Option<String>) -> ClientOptions {
    ClientOptions {
        scope: "openid tasks:read".into(),
        post_logout_redirect_uris: vec![AFTER_LOGOUT.into()],
        backchannel_logout_uri,
        ..ClientOptions::default()
    }
}

/// Signs `user` in to `client` with `openid`: the ID token.
async fn id_token(app: &TestApp, user: &TestUser, client: &TestClient) -> String {
    let p = pkce();
    let path = crate::support::oauth_client::authorize_path(&[
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", &client.redirect_uri),
        ("scope", "openid"),
        ("code_challenge", &p.challenge),
        ("code_challenge_method", "S256"),
    ]);
    let code = query_param(&location(&user.authorize(&path, "allow").await), "code").unwrap();
    let body: serde_json::Value = app
        .exchange_code(client, &code, Some(&p.verifier))
        .await
        .json()
        .await
        .unwrap();
    body["id_token"].as_str().unwrap().to_owned()
}

fn logout_path(params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("/logout?{query}")
}

/// Whether `user` still has a session: `/account` shows the page rather than redirect.
async fn is_signed_in(user: &TestUser) -> bool {
    user.get("/account").await.status() == 200
}

#[actix_web::test]
async fn a_hint_from_this_session_signs_out_at_once_and_returns_to_the_app() {
    let app = spawn_app().await;
    let client = app.register_client(logout_client(None)).await;
    let alice = app.signed_in_user("alice").await;
    let hint = id_token(&app, &alice, &client).await;
    let response = alice
        .get(&logout_path(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "af0ifjsldkj"),
        ]))
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        format!("{AFTER_LOGOUT}?state=af0ifjsldkj")
    );
    assert!(!is_signed_in(&alice).await, "the session has ended");
}

#[actix_web::test]
async fn without_a_hint_the_person_confirms_first() {
    let app = spawn_app().await;
    let client = app.register_client(logout_client(None)).await;
    let alice = app.signed_in_user("alice").await;
    let page = alice
        .get(&logout_path(&[
            ("client_id", &client.client_id),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "s1"),
        ]))
        .await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("https://app.example.com"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign out"), "{html}");
    assert!(html.contains("Example App"));
    assert!(
        is_signed_in(&alice).await,
        "nothing ends before the person confirms"
    );
    let csrf = hidden_field(&html, "csrf_token").unwrap();
    let request = hidden_field(&html, "request").unwrap();
    let confirmed = alice
        .post_form("/logout", &[("csrf_token", &csrf), ("request", &request)])
        .await;
    assert_eq!(confirmed.status(), 303);
    assert_eq!(location(&confirmed), format!("{AFTER_LOGOUT}?state=s1"));
    assert!(!is_signed_in(&alice).await);

    // A hint from another session (bob's) proves nothing about alice's: she is asked.
    let alice = app.visitor();
    assert_eq!(
        alice
            .login("alice", crate::support::browser::PASSWORD)
            .await
            .status(),
        303
    );
    let bob = app.signed_in_user("bob").await;
    let bobs_hint = id_token(&app, &bob, &client).await;
    let asked = alice
        .get(&logout_path(&[("id_token_hint", &bobs_hint)]))
        .await;
    assert_eq!(asked.status(), 200);
    assert!(is_signed_in(&alice).await);
}

#[actix_web::test]
async fn an_unregistered_or_unprovable_destination_is_refused_on_our_page() {
    let app = spawn_app().await;
    let client = app.register_client(logout_client(None)).await;
    let alice = app.signed_in_user("alice").await;
    for params in [
        vec![
            ("client_id", client.client_id.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![
            ("client_id", client.client_id.as_str()),
            (
                "post_logout_redirect_uri",
                "https://app.example.com/signed-out/x",
            ),
        ],
        // No client named: nobody registered the destination.
        vec![("post_logout_redirect_uri", AFTER_LOGOUT)],
        vec![("id_token_hint", "not.a.token")],
        vec![("client_id", "client_unknown")],
    ] {
        let response = alice.get(&logout_path(&params)).await;
        assert_eq!(response.status(), 400, "{params:?}");
        assert!(response.headers().get("location").is_none());
    }
    // A hint and a client_id that disagree.
    let other = app.register_client(logout_client(None)).await;
    let hint = id_token(&app, &alice, &client).await;
    let response = alice
        .get(&logout_path(&[
            ("id_token_hint", &hint),
            ("client_id", &other.client_id),
        ]))
        .await;
    assert_eq!(response.status(), 400);
    assert!(is_signed_in(&alice).await, "a refused request ends nothing");
}

/// A test app's back-channel logout endpoint: what it received.
struct Receiver {
    uri: String,
    received: Arc<Mutex<Vec<String>>>,
}

async fn receiver() -> Receiver {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let store = received.clone();
    let server = HttpServer::new(move || {
        let store = store.clone();
        App::new().route(
            "/backchannel",
            web::post().to(move |form: web::Form<Vec<(String, String)>>| {
                let store = store.clone();
                async move {
                    for (name, value) in form.into_inner() {
                        if name == "logout_token" {
                            store.lock().unwrap().push(value);
                        }
                    }
                    HttpResponse::Ok().finish()
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    Receiver {
        uri: format!("http://127.0.0.1:{port}/backchannel"),
        received,
    }
}

#[actix_web::test]
async fn signing_out_sends_a_logout_token_that_validates() {
    let app = spawn_app().await;
    let receiver = receiver().await;
    let client = app
        .register_client(logout_client(Some(receiver.uri.clone())))
        .await;
    let alice = app.signed_in_user("alice").await;
    let id_token = id_token(&app, &alice, &client).await;
    let id_claims = unverified_claims(&id_token);
    let csrf = alice.account_csrf().await;
    assert_eq!(
        alice
            .post_form("/logout", &[("csrf_token", &csrf)])
            .await
            .status(),
        303
    );

    let mut token = None;
    for _ in 0..50 {
        if let Some(first) = receiver.received.lock().unwrap().first() {
            token = Some(first.clone());
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let token = token.expect("a logout token reached the app");
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let jwks: JwkSet = app.visitor().get("/jwks.json").await.json().await.unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("a published key");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&client.client_id]);
    validation.set_issuer(&["http://127.0.0.1:8080"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .expect("signature, aud, iss and exp validate")
    .claims;
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert!(claims["jti"].is_string());
    assert!(claims.get("nonce").is_none());
    assert_eq!(
        claims["events"],
        serde_json::json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
}

#[actix_web::test]
async fn a_receiver_that_never_answers_does_not_slow_sign_out() {
    let app = spawn_app().await;
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    actix_web::rt::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = app
        .register_client(logout_client(Some(format!("http://127.0.0.1:{port}/hang"))))
        .await;
    let alice = app.signed_in_user("alice").await;
    let _ = id_token(&app, &alice, &client).await;
    let csrf = alice.account_csrf().await;
    let started = Instant::now();
    let response = alice.post_form("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(response.status(), 303);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "sign-out took {:?}",
        started.elapsed()
    );
    assert!(!is_signed_in(&alice).await);
}

async fn live_grants(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use shared::schema::grants;
    app.query(|c| {
        grants::table
            .filter(grants::revoked_at.is_null())
            .count()
            .get_result(c)
    })
    .await
}

#[actix_web::test]
async fn logout_ends_the_sessions_grants_without_offline_access() {
    let app = spawn_app().await;
    let client = app.register_client(logout_client(None)).await;
    let alice = app.signed_in_user("alice").await;
    let _ = id_token(&app, &alice, &client).await;
    let live = live_grants(&app).await;
    assert_eq!(live, 1);
    let csrf = alice.account_csrf().await;
    alice.post_form("/logout", &[("csrf_token", &csrf)]).await;
    let live = live_grants(&app).await;
    assert_eq!(
        live, 0,
        "Back-Channel Logout §2.7: an openid grant without offline_access ends with its session"
    );
}

/// alice signed in on a laptop and on a phone, and from the phone to an app with a
/// back-channel logout URI: the receiver, both browsers and the phone's session id.
struct TwoDevices {
    receiver: Receiver,
    laptop: TestUser,
    phone: TestUser,
    phone_session: String,
}

async fn two_devices(app: &TestApp) -> TwoDevices {
    let receiver = receiver().await;
    let client = app
        .register_client(logout_client(Some(receiver.uri.clone())))
        .await;
    let laptop = app.signed_in_user("alice").await;
    let phone = app.visitor();
    let password = crate::support::browser::PASSWORD;
    assert_eq!(phone.login("alice", password).await.status(), 303);
    let phone_session = unverified_claims(&id_token(app, &phone, &client).await)["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    TwoDevices {
        receiver,
        laptop,
        phone,
        phone_session,
    }
}

#[actix_web::test]
async fn ending_a_session_from_the_account_page_tells_its_apps() {
    let app = spawn_app().await;
    let TwoDevices {
        receiver,
        laptop,
        phone,
        phone_session,
    } = two_devices(&app).await;
    let csrf = laptop.account_csrf().await;
    let ended = laptop
        .post_form(
            &format!("/account/sessions/{phone_session}/end"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(ended.status(), 303);
    let sids = sids_received(&receiver).await;
    assert_eq!(sids, [phone_session], "the phone's session, and only it");
    assert!(is_signed_in(&laptop).await);
    assert!(!is_signed_in(&phone).await);
}

/// The `sid`s of the logout tokens `receiver` got, once there is one (or after 5 s).
async fn sids_received(receiver: &Receiver) -> Vec<String> {
    let mut sids = Vec::new();
    for _ in 0..50 {
        sids = receiver
            .received
            .lock()
            .unwrap()
            .iter()
            .map(|token| unverified_claims(token)["sid"].as_str().unwrap().to_owned())
            .collect();
        if !sids.is_empty() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    sids
}

#[actix_web::test]
async fn a_password_change_tells_the_apps_of_the_sessions_it_ends() {
    let app = spawn_app().await;
    let TwoDevices {
        receiver,
        laptop,
        phone,
        phone_session,
    } = two_devices(&app).await;
    let csrf = laptop.csrf_from("/account/password").await;
    let changed = laptop
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", crate::support::browser::PASSWORD),
                ("new_password", "marble-heron-lantern-97"),
            ],
        )
        .await;
    assert_eq!(changed.status(), 303);
    assert_eq!(sids_received(&receiver).await, [phone_session]);
    assert!(is_signed_in(&laptop).await);
    assert!(!is_signed_in(&phone).await);
}
