//! People and their browsers: a [`TestUser`] owns a browser-like client (its own cookie
//! jar, redirects not followed) and so its own CSRF cookie and session — a visitor until it
//! signs in. Form helpers read the CSRF token from the page. Also the accounts to sign in
//! with, and what tests read from pages and answers: hidden fields, texts, cookies,
//! `Location`.

use std::sync::OnceLock;

use auth_server::accounts::register::{self, NewAccount};
use auth_server::domain::{EmailAddress, NewPassword, Username};
use auth_server::password_hash::PasswordHashing;
use reqwest::header::HeaderMap;
use scraper::{Html, Selector};
use shared::config::PasswordHashSettings;

use super::servers::TestApp;

/// A password that satisfies the policy.
pub const PASSWORD: &str = "violet-anchor-tundra-42";

/// One person's browser on `app`. Each has its own cookie jar: two people, or a person and
/// an attacker, are two `TestUser`s.
pub struct TestUser {
    pub(super) app: TestApp,
    client: reqwest::Client,
}

impl TestApp {
    /// A fresh browser on this app: nobody is signed in, no cookie is set yet.
    pub fn visitor(&self) -> TestUser {
        TestUser {
            app: self.clone(),
            client: browser(),
        }
    }

    /// Creates the account `username` (password [`PASSWORD`]) and signs it in, in a fresh
    /// browser.
    pub async fn signed_in_user(&self, username: &str) -> TestUser {
        self.create_user(username).await;
        let user = self.visitor();
        let response = user.login(username, PASSWORD).await;
        assert_eq!(response.status(), 303, "{username} signed in");
        user
    }

    /// Creates the account `username` (password [`PASSWORD`]) the way the operator CLI
    /// does: no session exists afterwards.
    pub async fn create_user(&self, username: &str) {
        let email = format!("{username}@example.com");
        let account = NewAccount {
            username: Username::parse(username).expect("valid username"),
            email: EmailAddress::parse(&email).expect("valid email"),
            password: NewPassword::parse(PASSWORD, username, &email).expect("valid password"),
        };
        register::create_account(&self.db, operator_hashing(), account)
            .await
            .expect("account created");
    }
}

/// The hashing threads of the accounts tests create as the operator CLI does, outside the
/// server (which keeps its own threads for its pages): one set for the whole test run,
/// with room in the queue for every test at once.
fn operator_hashing() -> &'static PasswordHashing {
    static HASHING: OnceLock<PasswordHashing> = OnceLock::new();
    HASHING.get_or_init(|| {
        PasswordHashing::start(&PasswordHashSettings {
            threads: 2,
            queue: 1024,
        })
        .expect("password-hashing threads")
    })
}

/// A browser's client: cookie jar on, redirects off so each hop can be checked, and a
/// desktop browser's `User-Agent` (the account page names the device by it).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
        .build()
        .expect("client")
}

impl TestUser {
    /// A request of this browser (its cookies, no redirects followed) to `path`.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.app.url(path))
    }

    /// `GET path`, as when the person opens it.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("GET")
    }

    /// Submits a form of `fields` to `path` (the CSRF token is one of them, if any).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// Loads `page` and returns its form's CSRF token (setting the CSRF cookie on the way).
    pub async fn csrf_from(&self, page: &str) -> String {
        let html = self.get(page).await.text().await.expect("body");
        hidden_field(&html, "csrf_token").expect("page has a CSRF field")
    }

    /// The CSRF token of the signed-in account page.
    pub async fn account_csrf(&self) -> String {
        self.csrf_from("/account").await
    }

    /// Fills in and sends the sign-up form.
    pub async fn register(&self, username: &str, email: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf_from("/register").await;
        self.post_form(
            "/register",
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Fills in and sends the sign-in form.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.login_to(username, password, "").await
    }

    /// Fills in and sends the sign-in form, asking to go on to `return_to`.
    pub async fn login_to(
        &self,
        username: &str,
        password: &str,
        return_to: &str,
    ) -> reqwest::Response {
        let csrf = self.csrf_from("/login").await;
        self.post_form(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("password", password),
                ("return_to", return_to),
            ],
        )
        .await
    }
}

/// The `value` of `<input name=NAME>` in a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(&format!("input[name=\"{name}\"]")).expect("selector");
    document
        .select(&selector)
        .next()
        .and_then(|input| input.value().attr("value"))
        .map(str::to_owned)
}

/// The visible text of every element matching `css`.
/// What a form refused because password hashing is busy looks like: 503 with
/// `Retry-After: 5`, the busy message, the `name` typed kept, and the form to send again.
pub fn assert_busy_form(html: &str, retry_after: Option<&str>, name: &str) {
    assert_eq!(retry_after, Some("5"));
    assert_eq!(texts(html, ".alert"), [auth_server::error::BUSY_MESSAGE]);
    assert!(
        html.contains(&format!("value=\"{name}\"")),
        "what was typed is kept"
    );
    assert!(
        html.contains("name=\"csrf_token\""),
        "the form to send again"
    );
}

pub fn texts(html: &str, css: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(css).expect("selector");
    document
        .select(&selector)
        .map(|element| element.text().collect::<String>().trim().to_owned())
        .collect()
}

/// Every `Set-Cookie` header, as sent.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// The value of cookie `name` set by a response, if any.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    set_cookies(headers).into_iter().find_map(|cookie| {
        let first = cookie.split(';').next()?.trim().to_owned();
        let (key, value) = first.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

/// The `Location` of an answer (empty when there is none).
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
