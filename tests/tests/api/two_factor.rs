//! TOTP two-factor sign-in (RFC 6238), with codes computed here from the secret the
//! enrolment page shows, as an authenticator app would: enrolment confirmed by a first
//! code, then sign-in asking for a code after the password — a valid one works, a reused,
//! an old or a wrong one does not; recovery codes work once; second-factor failures count
//! towards the sign-in lockout; turning it off needs a code; an app registered with
//! `--require-mfa` (or `REQUIRE_MFA=on`) gets the second step even for a session signed in
//! without it, and its ID token says `amr: ["pwd", "otp"]`.

use diesel::prelude::*;
use sha2::Digest as _;
use shared::schema::{account_tokens, recovery_codes, sessions, totp_factors, users};
use totp_rs::{Builder, Secret};

use crate::audit::{detail, events};
use crate::support::browser::{PASSWORD, TestUser, hidden_field, location, texts};
use crate::support::oauth_client::{ClientOptions, TestClient, authorize_path, pkce, query_param};
use crate::support::servers::{TestApp, spawn_app, spawn_app_with};
use crate::support::tokens::unverified_claims;

/// What enrolment gave the person: the secret (base32, as typed into an app) and the
/// recovery codes shown once.
pub(crate) struct Enrolled {
    secret: String,
    recovery_codes: Vec<String>,
    /// The code that confirmed the enrolment (its time step is used).
    first_code: String,
}

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap()
}

/// The code an authenticator app with `secret` shows at `unix_time`.
fn code_at(secret: &str, unix_time: u64) -> String {
    Builder::new()
        .with_secret(Secret::try_from_base32(secret).expect("base32 secret"))
        .build()
        .expect("an RFC 6238 TOTP")
        .generate(unix_time)
        .to_string()
}

/// A code that is valid for none of the steps around now.
fn wrong_code(secret: &str) -> String {
    let now = unix_now();
    let valid: Vec<String> = (0..=4)
        .map(|i| code_at(secret, now + i * 30 - 60))
        .collect();
    (0..10u32)
        .map(|digit| digit.to_string().repeat(6))
        .find(|candidate| !valid.contains(candidate))
        .unwrap()
}

/// A valid code of a step after every one used so far (the next one; one step of drift).
fn next_code(secret: &str) -> String {
    code_at(secret, unix_now() + 30)
}

/// Turns two-factor sign-in on through the account page of a signed-in browser.
pub(crate) async fn enrol(user: &TestUser) -> Enrolled {
    let page = user.get("/account/two-factor").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let secret = texts(&html, "#totp-secret")[0].replace(' ', "");
    let csrf = hidden_field(&html, "csrf_token").unwrap();
    let first_code = code_at(&secret, unix_now());
    let response = user
        .post_form(
            "/account/two-factor",
            &[
                ("csrf_token", &csrf),
                ("code", &first_code),
                ("return_to", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 200, "the first code confirms");
    let html = response.text().await.unwrap();
    let recovery_codes = texts(&html, "ul.recovery-codes code");
    Enrolled {
        secret,
        recovery_codes,
        first_code,
    }
}

/// Signs in with the password in a fresh browser: the browser and the code page.
async fn password_step(app: &TestApp, username: &str, return_to: &str) -> (TestUser, String) {
    let browser = app.visitor();
    let response = browser.login_to(username, PASSWORD, return_to).await;
    assert_eq!(
        response.status(),
        200,
        "the password leads to the code page"
    );
    let html = response.text().await.unwrap();
    (browser, html)
}

/// Sends `code` on the code page `html`.
async fn send_code(browser: &TestUser, html: &str, code: &str) -> reqwest::Response {
    let csrf = hidden_field(html, "csrf_token").unwrap();
    let held = hidden_field(html, "held").unwrap();
    let return_to = hidden_field(html, "return_to").unwrap();
    browser
        .post_form(
            "/login/two-factor",
            &[
                ("csrf_token", &csrf),
                ("held", &held),
                ("code", code),
                ("return_to", &return_to),
            ],
        )
        .await
}

async fn is_signed_in(user: &TestUser) -> bool {
    user.get("/account").await.status() == 200
}

async fn user_id(app: &TestApp, username: &'static str) -> String {
    app.query(move |c| {
        users::table
            .filter(users::username.eq(username))
            .select(users::id)
            .get_result(c)
    })
    .await
}

#[actix_web::test]
async fn enrolment_shows_a_qr_code_and_needs_a_right_first_code() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let id = user_id(&app, "alice").await;

    let html = alice.get("/account/two-factor").await.text().await.unwrap();
    assert!(html.contains("<svg"), "an inline SVG QR code");
    assert!(
        !html.contains("<img") && !html.contains("src=\"http"),
        "no external request"
    );
    let secret = texts(&html, "#totp-secret")[0].replace(' ', "");
    assert_eq!(secret.len(), 32, "160 bits in base32");
    // Reloading shows the same secret (the one the app scanned).
    let again = alice.get("/account/two-factor").await.text().await.unwrap();
    assert_eq!(texts(&again, "#totp-secret")[0].replace(' ', ""), secret);

    let csrf = hidden_field(&html, "csrf_token").unwrap();
    let refused = alice
        .post_form(
            "/account/two-factor",
            &[
                ("csrf_token", &csrf),
                ("code", &wrong_code(&secret)),
                ("return_to", ""),
            ],
        )
        .await;
    assert_eq!(refused.status(), 400);
    let confirmed: Option<chrono::NaiveDateTime> = {
        let id = id.clone();
        app.query(move |c| {
            totp_factors::table
                .find(id)
                .select(totp_factors::confirmed_at)
                .get_result(c)
        })
        .await
    };
    assert!(confirmed.is_none(), "a wrong first code turns nothing on");
    let plain_sign_in = app.visitor().login("alice", PASSWORD).await;
    assert_eq!(
        plain_sign_in.status(),
        303,
        "an unconfirmed enrolment guards nothing"
    );

    let enrolled = enrol(&alice).await;
    assert_eq!(enrolled.secret, secret);
    assert_eq!(enrolled.recovery_codes.len(), 10);
    let stored: Vec<String> = {
        let id = id.clone();
        app.query(move |c| {
            recovery_codes::table
                .filter(recovery_codes::user_id.eq(id))
                .select(recovery_codes::code_hash)
                .load(c)
        })
        .await
    };
    assert_eq!(stored.len(), 10);
    // Stored as the SHA-256 of the user's id and the code (never the code).
    let mut expected: Vec<String> = enrolled
        .recovery_codes
        .iter()
        .map(|code| {
            let digest = sha2::Sha256::digest(format!("{id}:{}", code.replace('-', "")));
            digest.iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect();
    let mut stored = stored;
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected);
    let account = alice.get("/account").await.text().await.unwrap();
    assert!(account.contains("Two-factor sign-in</a> — <span class=\"badge\">on</span>"));
    // The codes are shown once: the page now shows the settings, not the codes.
    let settings = alice.get("/account/two-factor").await.text().await.unwrap();
    assert!(texts(&settings, "ul.recovery-codes code").is_empty());
    assert!(!settings.contains(&enrolled.recovery_codes[0]));
    assert_eq!(events(&app, "mfa_enabled", 1).await.len(), 1);
}

#[actix_web::test]
async fn sign_in_takes_a_valid_code_once_and_refuses_reused_old_and_wrong_ones() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let enrolled = enrol(&alice).await;
    let enrolment_code = enrolled.first_code.clone();

    let (browser, html) = password_step(&app, "alice", "").await;
    assert!(hidden_field(&html, "held").unwrap().starts_with("mfa_"));
    assert!(
        !is_signed_in(&browser).await,
        "the password alone starts no session"
    );

    for (what, code) in [
        ("reused", enrolment_code.clone()),
        ("old", code_at(&enrolled.secret, unix_now() - 120)),
        ("wrong", wrong_code(&enrolled.secret)),
    ] {
        let response = send_code(&browser, &html, &code).await;
        assert_eq!(response.status(), 401, "a {what} code is refused");
        let page = response.text().await.unwrap();
        assert!(page.contains("incorrect or was used already"), "{what}");
        assert!(!is_signed_in(&browser).await);
    }

    let valid = next_code(&enrolled.secret);
    let response = send_code(&browser, &html, &valid).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/account");
    assert!(is_signed_in(&browser).await);
    let second_factor_at: Vec<Option<chrono::NaiveDateTime>> = app
        .query(|c| sessions::table.select(sessions::second_factor_at).load(c))
        .await;
    assert!(
        second_factor_at.iter().any(Option::is_some),
        "the session knows"
    );

    // The same code again, in another browser within its window: refused.
    let (other, other_html) = password_step(&app, "alice", "").await;
    assert_eq!(send_code(&other, &other_html, &valid).await.status(), 401);
    // The waiting sign-in is single-use: the spent one cannot sign in again.
    let spent = send_code(&browser, &html, &valid).await;
    assert!(
        location(&spent).ends_with("&expired=1"),
        "{}",
        location(&spent)
    );
    let rows = events(&app, "second_factor_failure", 4).await;
    assert_eq!(rows.len(), 4);
    assert_eq!(detail(&rows[0])["reused"], true);
    assert_eq!(detail(&rows[2])["reused"], false);
    let success = events(&app, "login_success", 2).await;
    assert!(
        success
            .iter()
            .any(|row| detail(row)["amr"] == serde_json::json!(["pwd", "otp"]))
    );
}

#[actix_web::test]
async fn a_waiting_sign_in_ends_after_five_minutes() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let enrolled = enrol(&alice).await;
    let (browser, html) = password_step(&app, "alice", "/account/apps").await;
    app.query(|c| {
        diesel::update(account_tokens::table.filter(account_tokens::purpose.eq("second_factor")))
            .set(
                account_tokens::expires_at.eq(shared::models::now() - chrono::Duration::seconds(1)),
            )
            .execute(c)
    })
    .await;
    let response = send_code(&browser, &html, &next_code(&enrolled.secret)).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/login?return_to=%2Faccount%2Fapps&expired=1"
    );
    let page = browser
        .get(&location(&response))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("waited too long"));
    assert!(!is_signed_in(&browser).await);
}

#[actix_web::test]
async fn recovery_codes_sign_in_once_each() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let enrolled = enrol(&alice).await;
    let code = enrolled.recovery_codes[3].clone();

    let (browser, html) = password_step(&app, "alice", "").await;
    // Typed in capitals and without its dash, as people do.
    let typed = code.replace('-', "").to_uppercase();
    assert_eq!(send_code(&browser, &html, &typed).await.status(), 303);
    assert!(is_signed_in(&browser).await);
    let settings = browser
        .get("/account/two-factor")
        .await
        .text()
        .await
        .unwrap();
    assert!(settings.contains("<strong>9</strong> unused recovery codes"));

    let (again, again_html) = password_step(&app, "alice", "").await;
    assert_eq!(send_code(&again, &again_html, &code).await.status(), 401);
    assert!(!is_signed_in(&again).await);
    let used = events(&app, "recovery_code_used", 1).await;
    assert_eq!(detail(&used[0])["remaining"], 9);

    // New codes replace every old one.
    let csrf = browser.account_csrf().await;
    let renewed = browser
        .post_form(
            "/account/two-factor/recovery-codes",
            &[
                ("csrf_token", &csrf),
                ("code", &next_code(&enrolled.secret)),
            ],
        )
        .await;
    assert_eq!(renewed.status(), 200);
    let new_codes = texts(&renewed.text().await.unwrap(), "ul.recovery-codes code");
    assert_eq!(new_codes.len(), 10);
    let (old, old_html) = password_step(&app, "alice", "").await;
    assert_eq!(
        send_code(&old, &old_html, &enrolled.recovery_codes[0])
            .await
            .status(),
        401,
        "an old code died with the renewal"
    );
    assert_eq!(
        send_code(&old, &old_html, &new_codes[0]).await.status(),
        303
    );
}

#[actix_web::test]
async fn second_factor_failures_count_towards_the_lockout() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let alice = app.signed_in_user("alice").await;
    let enrolled = enrol(&alice).await;
    let wrong = wrong_code(&enrolled.secret);

    let (browser, html) = password_step(&app, "alice", "").await;
    for _ in 0..2 {
        assert_eq!(send_code(&browser, &html, &wrong).await.status(), 401);
    }
    // The right password again does not clear the count while a code is owed.
    let (browser, html) = password_step(&app, "alice", "").await;
    let locked = send_code(&browser, &html, &wrong).await;
    assert_eq!(locked.status(), 429, "the third failure locks");
    assert_eq!(
        locked
            .headers()
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap(),
        "900"
    );
    assert!(
        locked
            .text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
    );
    let right = send_code(&browser, &html, &next_code(&enrolled.secret)).await;
    assert_eq!(right.status(), 429, "locked: even the right code waits");
    assert!(!is_signed_in(&browser).await);
    let password = app.visitor().login("alice", PASSWORD).await;
    assert_eq!(password.status(), 429, "and so does the password");
    assert_eq!(events(&app, "lockout", 1).await.len(), 1);
}

#[actix_web::test]
async fn turning_it_off_needs_a_code() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let enrolled = enrol(&alice).await;
    let id = user_id(&app, "alice").await;
    let csrf = alice.account_csrf().await;

    let refused = alice
        .post_form(
            "/account/two-factor/disable",
            &[
                ("csrf_token", &csrf),
                ("code", &wrong_code(&enrolled.secret)),
            ],
        )
        .await;
    assert_eq!(refused.status(), 401);
    let (still_on, _) = password_step(&app, "alice", "").await;
    drop(still_on);

    let off = alice
        .post_form(
            "/account/two-factor/disable",
            &[("csrf_token", &csrf), ("code", &enrolled.recovery_codes[0])],
        )
        .await;
    assert_eq!(off.status(), 303);
    assert_eq!(location(&off), "/account?two_factor=off");
    let (factors, codes): (i64, i64) = app
        .query(move |c| {
            let factors = totp_factors::table
                .filter(totp_factors::user_id.eq(&id))
                .count()
                .get_result(c)?;
            let codes = recovery_codes::table
                .filter(recovery_codes::user_id.eq(&id))
                .count()
                .get_result(c)?;
            Ok((factors, codes))
        })
        .await;
    assert_eq!((factors, codes), (0, 0));
    assert_eq!(app.visitor().login("alice", PASSWORD).await.status(), 303);
    let disabled = events(&app, "mfa_disabled", 1).await;
    assert_eq!(detail(&disabled[0])["by"], "owner");
}

#[actix_web::test]
async fn the_secret_is_sealed_with_the_key_encryption_key() {
    let app = spawn_app_with(&[(
        "KEY_ENCRYPTION_KEY",
        "a test key-encryption secret of 32+ characters",
    )])
    .await;
    let alice = app.signed_in_user("alice").await;
    let enrolled = enrol(&alice).await;
    let stored: String = app
        .query(|c| {
            totp_factors::table
                .select(totp_factors::secret)
                .get_result(c)
        })
        .await;
    assert!(stored.starts_with("v1:"), "sealed: {stored}");
    assert!(!stored.contains(&enrolled.secret));
    let (browser, html) = password_step(&app, "alice", "").await;
    assert_eq!(
        send_code(&browser, &html, &next_code(&enrolled.secret))
            .await
            .status(),
        303
    );
}

fn openid_client(require_mfa: bool) -> ClientOptions {
    ClientOptions {
        scope: "openid tasks:read".into(),
        require_mfa,
        ..ClientOptions::default()
    }
}

fn openid_request(client: &TestClient, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    authorize_path(&params)
}

/// The `amr` of the ID token for a code.
async fn amr_for(
    app: &TestApp,
    client: &TestClient,
    code: &str,
    verifier: &str,
) -> serde_json::Value {
    let body: serde_json::Value = app
        .exchange_code(client, code, Some(verifier))
        .await
        .json()
        .await
        .unwrap();
    unverified_claims(body["id_token"].as_str().unwrap())["amr"].clone()
}

#[actix_web::test]
async fn a_client_that_requires_mfa_steps_up_a_session_signed_in_with_the_password_alone() {
    let app = spawn_app().await;
    let plain = app.register_client(openid_client(false)).await;
    let strict = app.register_client(openid_client(true)).await;
    // Signed in with the password alone, before two-factor sign-in was turned on elsewhere.
    let laptop = app.signed_in_user("alice").await;
    let phone = app.visitor();
    assert_eq!(phone.login("alice", PASSWORD).await.status(), 303);
    let enrolled = enrol(&phone).await;

    let p = pkce();
    let code = query_param(
        &location(
            &laptop
                .authorize(&openid_request(&plain, &p.challenge, &[]), "allow")
                .await,
        ),
        "code",
    )
    .unwrap();
    assert_eq!(
        amr_for(&app, &plain, &code, &p.verifier).await,
        serde_json::json!(["pwd"])
    );

    // prompt=none cannot show the code page.
    let silent = laptop
        .get(&openid_request(
            &strict,
            &p.challenge,
            &[("prompt", "none"), ("state", "s")],
        ))
        .await;
    let to = location(&silent);
    assert!(to.starts_with(&strict.redirect_uri), "{to}");
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("interaction_required")
    );

    let p = pkce();
    let request = openid_request(&strict, &p.challenge, &[]);
    let step_up = laptop.get(&request).await;
    assert_eq!(step_up.status(), 303);
    let to = location(&step_up);
    assert!(to.starts_with("/login/two-factor?return_to="), "{to}");
    let page = laptop.get(&to).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert_eq!(
        hidden_field(&html, "held").as_deref(),
        Some(""),
        "a session, no held sign-in"
    );
    let csrf = hidden_field(&html, "csrf_token").unwrap();
    let return_to = hidden_field(&html, "return_to").unwrap();
    assert_eq!(return_to, request);
    let wrong = laptop
        .post_form(
            "/login/two-factor",
            &[
                ("csrf_token", &csrf),
                ("held", ""),
                ("code", &wrong_code(&enrolled.secret)),
                ("return_to", &return_to),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let passed = laptop
        .post_form(
            "/login/two-factor",
            &[
                ("csrf_token", &csrf),
                ("held", ""),
                ("code", &next_code(&enrolled.secret)),
                ("return_to", &return_to),
            ],
        )
        .await;
    assert_eq!(passed.status(), 303);
    assert_eq!(location(&passed), request);
    let code = query_param(
        &location(&laptop.authorize(&request, "allow").await),
        "code",
    )
    .expect("a code once the second factor was proven");
    assert_eq!(
        amr_for(&app, &strict, &code, &p.verifier).await,
        serde_json::json!(["pwd", "otp"])
    );
}

#[actix_web::test]
async fn require_mfa_sends_a_person_without_a_second_factor_to_set_one_up_first() {
    let app = spawn_app_with(&[("REQUIRE_MFA", "on")]).await;
    let client = app.register_client(openid_client(false)).await;
    let alice = app.signed_in_user("alice").await;
    let p = pkce();
    let request = openid_request(&client, &p.challenge, &[]);

    let step_up = location(&alice.get(&request).await);
    let to_enrol = alice.get(&step_up).await;
    assert_eq!(to_enrol.status(), 303);
    let enrol_page = location(&to_enrol);
    assert!(
        enrol_page.starts_with("/account/two-factor?return_to="),
        "{enrol_page}"
    );
    let html = alice.get(&enrol_page).await.text().await.unwrap();
    assert!(html.contains("requires two-factor sign-in"));
    let secret = texts(&html, "#totp-secret")[0].replace(' ', "");
    let csrf = hidden_field(&html, "csrf_token").unwrap();
    let return_to = hidden_field(&html, "return_to").unwrap();
    assert_eq!(return_to, request);
    let confirmed = alice
        .post_form(
            "/account/two-factor",
            &[
                ("csrf_token", &csrf),
                ("code", &code_at(&secret, unix_now())),
                ("return_to", &return_to),
            ],
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    let codes_page = confirmed.text().await.unwrap();
    let continue_to: Vec<String> = scraper::Html::parse_document(&codes_page)
        .select(&scraper::Selector::parse("a.button").unwrap())
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .collect();
    assert_eq!(
        continue_to,
        vec![request.clone()],
        "back to the authorization"
    );
    // Enrolling proved the factor in this session: the authorization goes on.
    let code = query_param(&location(&alice.authorize(&request, "allow").await), "code")
        .expect("a code after enrolment");
    assert_eq!(
        amr_for(&app, &client, &code, &p.verifier).await,
        serde_json::json!(["pwd", "otp"])
    );
}

#[actix_web::test]
async fn every_two_factor_form_needs_its_csrf_token() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let enrolled = enrol(&alice).await;
    let foreign = app.visitor().csrf_from("/login").await;
    for path in [
        "/account/two-factor",
        "/account/two-factor/recovery-codes",
        "/account/two-factor/disable",
    ] {
        let response = alice
            .post_form(
                path,
                &[
                    ("csrf_token", &foreign),
                    ("code", &enrolled.recovery_codes[0]),
                ],
            )
            .await;
        assert_eq!(response.status(), 403, "{path}");
    }
    let step_up = alice
        .post_form(
            "/login/two-factor",
            &[
                ("csrf_token", &foreign),
                ("held", ""),
                ("code", &enrolled.recovery_codes[0]),
            ],
        )
        .await;
    assert_eq!(
        step_up.status(),
        403,
        "step-up with another browser's token"
    );
    // A waiting sign-in's form, sent from another browser (its CSRF cookie differs).
    let (_, html) = password_step(&app, "alice", "").await;
    let attacker = app.visitor();
    assert_eq!(
        send_code(&attacker, &html, &enrolled.recovery_codes[0])
            .await
            .status(),
        403
    );
    let unused: i64 = app
        .query(|c| {
            recovery_codes::table
                .filter(recovery_codes::used_at.is_null())
                .count()
                .get_result(c)
        })
        .await;
    assert_eq!(unused, 10, "no refused form spent a code");
}

#[actix_web::test]
async fn parallel_attempts_neither_outrun_the_lockout_nor_spend_a_code_twice() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let alice = app.signed_in_user("alice").await;
    let enrolled = enrol(&alice).await;

    // One valid code sent by five browsers at once: one sign-in.
    let mut pages = Vec::new();
    for _ in 0..5 {
        pages.push(password_step(&app, "alice", "").await);
    }
    let valid = next_code(&enrolled.secret);
    let statuses = futures_util::future::join_all(
        pages
            .iter()
            .map(|(browser, html)| send_code(browser, html, &valid)),
    )
    .await
    .into_iter()
    .map(|response| response.status().as_u16())
    .collect::<Vec<_>>();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [303, 401, 429].contains(s)),
        "the others are refused as reused, or locked out: {statuses:?}"
    );

    // Twelve wrong codes at once on one held sign-in: never more than three checked.
    let (browser, html) = password_step_or_locked(&app).await;
    let wrong = wrong_code(&enrolled.secret);
    let statuses =
        futures_util::future::join_all((0..12).map(|_| send_code(&browser, &html, &wrong)))
            .await
            .into_iter()
            .map(|response| response.status().as_u16())
            .collect::<Vec<_>>();
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert!(refused <= 2 && refused + locked == 12, "{statuses:?}");
    assert!(locked >= 10, "{statuses:?}");
}

/// The password step, after clearing alice's failure count (so the race below starts from zero).
async fn password_step_or_locked(app: &TestApp) -> (TestUser, String) {
    app.query(|c| diesel::delete(shared::schema::login_throttles::table).execute(c))
        .await;
    password_step(app, "alice", "").await
}
