//! Accounts a person can recover, through mail a real SMTP client (lettre, in the
//! auth-server) delivers to a test SMTP server: email verification at sign-up, the link
//! used once, expiring, dead for a changed address; "forgot password" answering the same
//! for every account, its link working once, expiring, dying with a password change, and
//! ending every session and refresh token; changing the password on the account page.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use shared::schema::{account_tokens, users};

use crate::audit::{detail, events};
use crate::support::browser::{PASSWORD, TestUser, hidden_field, location, texts};
use crate::support::mail::{MailServer, ReceivedMail};
use crate::support::oauth_client::{ClientOptions, field};
use crate::support::servers::{TestApp, spawn_app_with};

const NEW_PASSWORD: &str = "marble-heron-lantern-97";

/// An auth-server that sends its mail to a fresh test SMTP server.
async fn app_with_mail(extra: &[(&str, &str)]) -> (TestApp, MailServer) {
    let mail = MailServer::start().await;
    let smtp_url = mail.smtp_url();
    let mut settings = vec![
        ("SMTP_URL", smtp_url.as_str()),
        ("MAIL_FROM", "Tasks Account <accounts@tasks.example>"),
    ];
    settings.extend_from_slice(extra);
    (spawn_app_with(&settings).await, mail)
}

/// Signs `username` up through the page (which mails a verification link).
async fn sign_up(app: &TestApp, username: &str) -> TestUser {
    let browser = app.visitor();
    let email = format!("{username}@example.com");
    let response = browser.register(username, &email, PASSWORD).await;
    assert_eq!(response.status(), 303, "signed up");
    browser
}

/// Opens a link from a message and submits the one form on the page it shows.
async fn follow_and_submit(
    browser: &TestUser,
    link: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = browser.get(link).await;
    assert_eq!(page.status(), 200, "the link opens its page");
    let html = page.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf_token").expect("CSRF field");
    let token = hidden_field(&html, "token").expect("token field");
    let path = link.split('?').next().unwrap();
    let mut form = vec![("csrf_token", csrf.as_str()), ("token", token.as_str())];
    form.extend_from_slice(fields);
    browser.post_form(path, &form).await
}

async fn email_verified_at(app: &TestApp, username: &'static str) -> Option<chrono::NaiveDateTime> {
    app.query(move |c| {
        users::table
            .filter(users::username.eq(username))
            .select(users::email_verified_at)
            .get_result(c)
    })
    .await
}

async fn ask_for_reset(browser: &TestUser, login: &str) -> (reqwest::StatusCode, String) {
    let csrf = browser.csrf_from("/forgot-password").await;
    let response = browser
        .post_form(
            "/forgot-password",
            &[("csrf_token", &csrf), ("login", login)],
        )
        .await;
    (response.status(), response.text().await.unwrap())
}

/// Moves every mailed link's expiry into the past.
async fn expire_every_link(app: &TestApp) {
    let past = shared::models::now() - chrono::Duration::seconds(1);
    app.query(move |c| {
        diesel::update(account_tokens::table)
            .set(account_tokens::expires_at.eq(past))
            .execute(c)
    })
    .await;
}

async fn reset_mail(app: &TestApp, mail: &MailServer, username: &str) -> ReceivedMail {
    let (status, _) = ask_for_reset(&app.visitor(), username).await;
    assert_eq!(status, 200);
    mail.next_to(&format!("{username}@example.com")).await
}

#[actix_web::test]
async fn sign_up_mails_a_verification_link_that_works_once() {
    let (app, mail) = app_with_mail(&[]).await;
    let browser = sign_up(&app, "alice").await;
    let account = browser.get("/account").await.text().await.unwrap();
    assert!(account.contains("not verified"), "{account}");

    let message = mail.next_to("alice@example.com").await;
    assert_eq!(message.from, "accounts@tasks.example");
    assert_eq!(message.subject, "Confirm your email address");
    assert!(
        message.html.contains("Confirm email address"),
        "an HTML body too"
    );
    let token = message.token("/verify-email");
    assert!(token.starts_with("ev_"), "{token}");
    let stored: Vec<String> = app
        .query(|c| {
            account_tokens::table
                .select(account_tokens::token_hash)
                .load(c)
        })
        .await;
    assert!(
        !stored.iter().any(|hash| hash.contains(&token[3..])),
        "only a hash is stored"
    );

    // Opening the link changes nothing (a mail scanner may fetch it); the button does.
    let link = message.link("/verify-email");
    assert_eq!(browser.get(&link).await.status(), 200);
    assert!(email_verified_at(&app, "alice").await.is_none());
    let confirmed = follow_and_submit(&browser, &link, &[]).await;
    assert_eq!(confirmed.status(), 200);
    assert!(
        confirmed
            .text()
            .await
            .unwrap()
            .contains("Email address verified")
    );
    assert!(email_verified_at(&app, "alice").await.is_some());
    let account = browser.get("/account").await.text().await.unwrap();
    assert!(
        texts(&account, ".badge").contains(&"verified".to_owned()),
        "{account}"
    );

    let again = browser.get(&link).await;
    assert_eq!(again.status(), 400, "used once");
    assert!(again.text().await.unwrap().contains("does not work"));
    assert_eq!(events(&app, "email_verified", 1).await.len(), 1);
}

#[actix_web::test]
async fn a_verification_link_expires_and_dies_when_the_address_changes() {
    let (app, mail) = app_with_mail(&[]).await;
    let browser = sign_up(&app, "alice").await;
    let first = mail
        .next_to("alice@example.com")
        .await
        .link("/verify-email");
    expire_every_link(&app).await;
    assert_eq!(browser.get(&first).await.status(), 400, "expired");

    // A new link, then the address changes before it is used.
    let csrf = browser.account_csrf().await;
    let resent = browser
        .post_form("/account/email/verification", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(location(&resent), "/account?verification=sent");
    let second = mail.next_to("alice@example.com").await;
    app.query(|c| {
        diesel::update(users::table)
            .set(users::email.eq("alice@elsewhere.example"))
            .execute(c)
    })
    .await;
    let refused = follow_and_submit(&browser, &second.link("/verify-email"), &[]).await;
    assert_eq!(
        refused.status(),
        400,
        "a link for the old address proves nothing"
    );
    assert!(email_verified_at(&app, "alice").await.is_none());
}

#[actix_web::test]
async fn sending_the_link_again_is_limited_per_hour() {
    let (app, mail) = app_with_mail(&[]).await;
    let browser = sign_up(&app, "alice").await;
    let resend = async || {
        let csrf = browser.account_csrf().await;
        let response = browser
            .post_form("/account/email/verification", &[("csrf_token", &csrf)])
            .await;
        location(&response)
    };
    // The sign-up's link and two more; the fourth within the hour is refused.
    assert_eq!(resend().await, "/account?verification=sent");
    assert_eq!(resend().await, "/account?verification=sent");
    assert_eq!(resend().await, "/account?verification=too_many");
    let page = browser
        .get("/account?verification=too_many")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Several links were sent"), "{page}");
    for _ in 0..3 {
        mail.next_to("alice@example.com").await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert!(
        mail.all_to("alice@example.com").is_empty(),
        "no fourth message"
    );
}

#[actix_web::test]
async fn forgot_password_answers_the_same_for_any_account_in_about_the_same_time() {
    let (app, mail) = app_with_mail(&[]).await;
    app.create_user("alice").await;
    let visitor = app.visitor();
    let (known_status, known_page) = ask_for_reset(&visitor, "alice").await;
    let (unknown_status, unknown_page) = ask_for_reset(&visitor, "nobody-here").await;
    let (email_status, email_page) = ask_for_reset(&visitor, "ALICE@example.com").await;
    for status in [known_status, unknown_status, email_status] {
        assert_eq!(status, 200);
    }
    assert_eq!(
        known_page, unknown_page,
        "the same page for a known and an unknown account"
    );
    assert_eq!(known_page, email_page);
    assert!(known_page.contains("Check your email"));
    let (empty_status, empty_page) = ask_for_reset(&visitor, "  ").await;
    assert_eq!(empty_status, 400, "an empty form is sent back");
    assert!(empty_page.contains("Enter your username or email address."));
    // By username and by email address: two messages to the account, none elsewhere.
    mail.next_to("alice@example.com").await;
    mail.next_to("alice@example.com").await;

    // Timing: medians over alternating requests differ by less than a few milliseconds'
    // worth of noise (the link is stored and mailed off the request path).
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let csrf = visitor.csrf_from("/forgot-password").await;
    for round in 0..12 {
        for (login, times) in [("alice", &mut known), ("nobody-here", &mut unknown)] {
            let started = Instant::now();
            let response = visitor
                .post_form(
                    "/forgot-password",
                    &[("csrf_token", &csrf), ("login", login)],
                )
                .await;
            times.push(started.elapsed());
            assert_eq!(response.status(), 200, "round {round}");
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (known, unknown) = (median(&mut known), median(&mut unknown));
    let gap = known.abs_diff(unknown);
    assert!(
        gap < Duration::from_millis(25)
            && gap < known.max(unknown) * 3 / 4 + Duration::from_millis(3),
        "known {known:?} vs unknown {unknown:?}"
    );
}

#[actix_web::test]
async fn a_reset_link_sets_the_password_once_and_signs_out_everywhere() {
    let (app, mail) = app_with_mail(&[]).await;
    let browser = app.signed_in_user("alice").await;
    let elsewhere = app.visitor();
    assert_eq!(elsewhere.login("alice", PASSWORD).await.status(), 303);
    let client = app.register_client(ClientOptions::default()).await;
    let tokens = browser.tokens_for(&client).await;
    let refresh_token = field(&tokens, "refresh_token");

    let message = reset_mail(&app, &mail, "alice").await;
    assert_eq!(message.subject, "Reset your Tasks Account password");
    let link = message.link("/reset-password");
    assert!(message.token("/reset-password").starts_with("pr_"));
    let person = app.visitor();
    let weak = follow_and_submit(&person, &link, &[("password", "password1")]).await;
    assert_eq!(weak.status(), 400, "the password policy holds");
    let reset = follow_and_submit(&person, &link, &[("password", NEW_PASSWORD)]).await;
    assert_eq!(reset.status(), 303);
    assert_eq!(location(&reset), "/login?password_reset=1");

    for session in [&browser, &elsewhere] {
        let account = session.get("/account").await;
        assert_eq!(account.status(), 303, "every session ended");
    }
    let refreshed = app.refresh(&client, &refresh_token, None).await;
    assert_eq!(refreshed.status(), 400, "refresh tokens revoked");
    assert_eq!(
        field(&refreshed.json().await.unwrap(), "error"),
        "invalid_grant"
    );
    assert_eq!(app.visitor().login("alice", PASSWORD).await.status(), 401);
    assert_eq!(
        app.visitor().login("alice", NEW_PASSWORD).await.status(),
        303
    );
    assert_eq!(person.get(&link).await.status(), 400, "the link works once");

    let notice = mail.next_to("alice@example.com").await;
    assert_eq!(notice.subject, "Your Tasks Account password was changed");
    let recorded = events(&app, "password_reset", 1).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(detail(&recorded[0])["sessions_ended"], 2);
    assert_eq!(detail(&recorded[0])["grants_revoked"], 1);
}

#[actix_web::test]
async fn a_reset_link_expires_and_dies_when_the_password_changes() {
    let (app, mail) = app_with_mail(&[]).await;
    app.create_user("alice").await;
    let expired = reset_mail(&app, &mail, "alice")
        .await
        .link("/reset-password");
    expire_every_link(&app).await;
    let page = app.visitor().get(&expired).await;
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("expired"));

    let outdated = reset_mail(&app, &mail, "alice")
        .await
        .link("/reset-password");
    let browser = app.visitor();
    assert_eq!(browser.login("alice", PASSWORD).await.status(), 303);
    let changed = change_password(&browser, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(location(&changed), "/account?password=changed");
    assert_eq!(
        app.visitor().get(&outdated).await.status(),
        400,
        "bound to the old password"
    );
}

async fn change_password(browser: &TestUser, current: &str, new: &str) -> reqwest::Response {
    let csrf = browser.csrf_from("/account/password").await;
    browser
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", current),
                ("new_password", new),
            ],
        )
        .await
}

#[actix_web::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let (app, mail) = app_with_mail(&[]).await;
    let browser = app.signed_in_user("alice").await;
    let elsewhere = app.visitor();
    assert_eq!(elsewhere.login("alice", PASSWORD).await.status(), 303);

    let wrong = change_password(&browser, "not-the-password", NEW_PASSWORD).await;
    assert_eq!(wrong.status(), 400);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("The current password is incorrect.")
    );
    let weak = change_password(&browser, PASSWORD, "alice12345").await;
    assert_eq!(weak.status(), 400, "the policy holds for the new one");

    let changed = change_password(&browser, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 303);
    assert_eq!(
        browser.get("/account").await.status(),
        200,
        "this session stays"
    );
    assert_eq!(
        elsewhere.get("/account").await.status(),
        303,
        "the other one ended"
    );
    assert_eq!(
        app.visitor().login("alice", NEW_PASSWORD).await.status(),
        303
    );
    let notice = mail.next_to("alice@example.com").await;
    assert_eq!(notice.subject, "Your Tasks Account password was changed");
    assert_eq!(events(&app, "password_changed", 1).await.len(), 1);
    assert_eq!(events(&app, "password_change_refused", 1).await.len(), 1);
}

#[actix_web::test]
async fn wrong_current_passwords_count_towards_the_lockout() {
    let (app, _mail) = app_with_mail(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let browser = app.signed_in_user("alice").await;
    for _ in 0..2 {
        assert_eq!(
            change_password(&browser, "wrong-one", NEW_PASSWORD)
                .await
                .status(),
            400
        );
    }
    let locked = change_password(&browser, "wrong-one", NEW_PASSWORD).await;
    assert_eq!(locked.status(), 429);
    assert_eq!(locked.headers()["retry-after"], "900", "the 15-minute lock");
    let still_locked = change_password(&browser, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(still_locked.status(), 429, "even the right password waits");
    assert_eq!(app.visitor().login("alice", PASSWORD).await.status(), 429);
}

#[actix_web::test]
async fn with_require_verified_email_third_party_apps_wait_for_the_link() {
    let (app, mail) = app_with_mail(&[("REQUIRE_VERIFIED_EMAIL", "on")]).await;
    let browser = sign_up(&app, "alice").await;
    let client = app.register_client(ClientOptions::default()).await;
    let p = crate::support::oauth_client::pkce();
    let request = app.authorize_request(&client, &p, "s");
    let refused = browser.get(&request).await;
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Verify your email address first")
    );

    let link = mail
        .next_to("alice@example.com")
        .await
        .link("/verify-email");
    assert_eq!(follow_and_submit(&browser, &link, &[]).await.status(), 200);
    let consent = browser.get(&request).await;
    assert_eq!(consent.status(), 200, "the consent page, once verified");
}

/// How many rows of each table that names a user name `user_id`.
async fn rows_of(app: &TestApp, user_id: String) -> Vec<(&'static str, i64)> {
    use shared::schema::{
        api_keys, consents, grants, recovery_codes, sessions, tasks, totp_factors,
    };
    macro_rules! counts {
        ($conn:expr, $($table:ident . $column:ident),+) => {
            vec![$((
                stringify!($table),
                $table::table.filter($table::$column.eq(&user_id)).count().get_result($conn)?,
            )),+]
        };
    }
    app.query(move |c| {
        Ok(counts!(
            c,
            users.id,
            sessions.user_id,
            grants.user_id,
            consents.user_id,
            tasks.user_id,
            api_keys.user_id,
            account_tokens.user_id,
            totp_factors.user_id,
            recovery_codes.user_id
        ))
    })
    .await
}

#[actix_web::test]
async fn deleting_the_account_needs_the_password_and_leaves_only_the_audit_row() {
    let (app, mail) = app_with_mail(&[]).await;
    let browser = sign_up(&app, "alice").await;
    mail.next_to("alice@example.com").await;
    let elsewhere = app.visitor();
    assert_eq!(elsewhere.login("alice", PASSWORD).await.status(), 303);
    crate::two_factor::enrol(&browser).await;
    let client = app.register_client(ClientOptions::default()).await;
    let tokens = browser.tokens_for(&client).await;
    let access_token = field(&tokens, "access_token");
    let user_id: String = app
        .query(|c| {
            users::table
                .filter(users::username.eq("alice"))
                .select(users::id)
                .get_result(c)
        })
        .await;
    assert!(
        rows_of(&app, user_id.clone())
            .await
            .iter()
            .all(|(table, n)| *n > 0 || ["tasks", "api_keys"].contains(table))
    );

    let csrf = browser.csrf_from("/account/delete").await;
    let wrong = browser
        .post_form(
            "/account/delete",
            &[("csrf_token", &csrf), ("password", "not-it")],
        )
        .await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("Nothing was deleted"));
    assert_eq!(rows_of(&app, user_id.clone()).await[0], ("users", 1));

    let deleted = browser
        .post_form(
            "/account/delete",
            &[("csrf_token", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(location(&deleted), "/login?account_deleted=1");
    for (table, count) in rows_of(&app, user_id.clone()).await {
        assert_eq!(count, 0, "{table} keeps no row of the user");
    }
    assert_eq!(
        elsewhere.get("/account").await.status(),
        303,
        "signed out everywhere"
    );
    let introspected = app
        .introspect(
            &app.register_client(crate::support::oauth_client::resource_server())
                .await,
            &access_token,
        )
        .await;
    assert_eq!(introspected["active"], false, "the access token is dead");
    assert_eq!(app.visitor().login("alice", PASSWORD).await.status(), 401);
    let recorded = events(&app, "account_deleted", 1).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].user_id.as_deref(), Some(user_id.as_str()));
    assert_eq!(detail(&recorded[0])["by"], "owner");
}

async fn change_email(browser: &TestUser, email: &str, password: &str) -> reqwest::Response {
    let csrf = browser.csrf_from("/account/email").await;
    browser
        .post_form(
            "/account/email",
            &[
                ("csrf_token", &csrf),
                ("email", email),
                ("password", password),
            ],
        )
        .await
}

#[actix_web::test]
async fn a_new_email_address_is_verified_anew_and_the_old_one_is_told() {
    let (app, mail) = app_with_mail(&[]).await;
    let browser = sign_up(&app, "alice").await;
    let old_link = mail
        .next_to("alice@example.com")
        .await
        .link("/verify-email");
    app.create_user("bob").await;

    let wrong = change_email(&browser, "alice@new.example", "not-it").await;
    assert_eq!(wrong.status(), 400, "the password is required");
    let taken = change_email(&browser, "bob@example.com", PASSWORD).await;
    assert_eq!(taken.status(), 409);
    assert!(taken.text().await.unwrap().contains("cannot be used"));

    let changed = change_email(&browser, "Alice@New.example", PASSWORD).await;
    assert_eq!(location(&changed), "/account?email=changed");
    let notice = mail.next_to("alice@example.com").await;
    assert_eq!(
        notice.subject,
        "Your Tasks Account email address was changed"
    );
    assert!(notice.text.contains("alice@new.example"), "{}", notice.text);
    let verification = mail.next_to("alice@new.example").await;
    assert_eq!(
        browser.get(&old_link).await.status(),
        400,
        "the old address's link is dead"
    );
    assert_eq!(
        follow_and_submit(&browser, &verification.link("/verify-email"), &[])
            .await
            .status(),
        200
    );
    assert!(email_verified_at(&app, "alice").await.is_some());
    let email: String = app
        .query(|c| {
            users::table
                .filter(users::username.eq("alice"))
                .select(users::email)
                .get_result(c)
        })
        .await;
    assert_eq!(email, "alice@new.example");
    assert_eq!(events(&app, "email_changed", 1).await.len(), 1);
}
