//! The pages, as askama templates (in `templates/`, compiled into the binary). askama
//! escapes every value, so anything a user or client typed shows as text (SECURITY.md 8).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

/// Renders a page with the given status. A template that fails to render is a bug: 500.
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(error) => {
            tracing::error!(error = %error, "template rendering failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("An unexpected error occurred.")
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub csrf_token: &'a str,
    pub return_to: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// Shown when a person is already signed in and may want to switch account.
    pub signed_in_as: Option<&'a str>,
}

/// The RP-initiated logout confirmation (OpenID Connect RP-Initiated Logout 1.0 §2): shown
/// unless the request's `id_token_hint` proves it comes from an app of this very session.
#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub client_name: Option<&'a str>,
    pub redirect_host: Option<String>,
    /// The logout request's query string, as received, to act on once confirmed.
    pub request: &'a str,
}

/// A page that only says something: "check your email", "email verified", a dead link.
#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub link: &'a str,
    pub link_text: &'a str,
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
pub struct ForgotPasswordPage<'a> {
    pub csrf_token: &'a str,
    pub login: &'a str,
    pub error: Option<&'a str>,
}

/// The new-password form a reset link opens.
#[derive(Template)]
#[template(path = "reset_password.html")]
pub struct ResetPasswordPage<'a> {
    pub csrf_token: &'a str,
    pub token: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

/// What a verification link opens: one button, so a mail scanner that fetches the link
/// does not use it up.
#[derive(Template)]
#[template(path = "verify_email.html")]
pub struct VerifyEmailPage<'a> {
    pub csrf_token: &'a str,
    pub token: &'a str,
}

#[derive(Template)]
#[template(path = "change_password.html")]
pub struct ChangePasswordPage<'a> {
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub current_error: Option<&'a str>,
    pub new_error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "change_email.html")]
pub struct ChangeEmailPage<'a> {
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub new_email: &'a str,
    pub error: Option<&'a str>,
    pub email_error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "delete_account.html")]
pub struct DeleteAccountPage<'a> {
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "register.html")]
pub struct RegisterPage<'a> {
    pub csrf_token: &'a str,
    pub return_to: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub username_error: Option<&'a str>,
    pub email_error: Option<&'a str>,
    pub password_error: Option<&'a str>,
    pub form_error: Option<&'a str>,
}

/// One row of the account page's session list.
#[derive(Debug)]
pub struct SessionRow {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub signed_in: String,
    pub last_active: String,
    pub is_current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage<'a> {
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub member_since: String,
    pub email_verified: bool,
    /// `REQUIRE_VERIFIED_EMAIL`: apps wait for the address to be verified.
    pub require_verified_email: bool,
    pub sessions: Vec<SessionRow>,
    pub notice: Option<&'a str>,
    pub two_factor_on: bool,
}

/// The code asked after the password (`held` is the waiting sign-in's token), or later in a
/// signed-in session (`held` empty) when an app requires the second factor.
#[derive(Template)]
#[template(path = "two_factor_code.html")]
pub struct TwoFactorCodePage<'a> {
    pub csrf_token: &'a str,
    pub held: &'a str,
    pub return_to: &'a str,
    pub username: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// `/account/two-factor`: enrolment while it is off, its settings while it is on.
#[derive(Template)]
#[template(path = "two_factor.html")]
pub struct TwoFactorPage<'a> {
    pub csrf_token: &'a str,
    pub return_to: &'a str,
    pub enrolment: Option<&'a crate::accounts::two_factor::enrolment::Enrolment>,
    pub recovery_codes_left: i64,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// New recovery codes, shown this once.
#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage<'a> {
    pub codes: Vec<&'a str>,
    pub continue_to: &'a str,
    pub notice: Option<&'a str>,
}

/// One requested scope on the consent page.
#[derive(Debug)]
pub struct ScopeLine<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub already_allowed: bool,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub csrf_token: &'a str,
    pub client_name: &'a str,
    pub username: &'a str,
    pub scopes: Vec<ScopeLine<'a>>,
    /// The original authorization request's query string, sent back with the decision.
    pub request: &'a str,
    pub redirect_host: &'a str,
    pub switch_account_url: &'a str,
    /// Everything was allowed before: one click continues (a public client, which anyone
    /// can impersonate, never gets a code without it).
    pub confirm_only: bool,
}

/// One row of the connected-apps page.
#[derive(Debug)]
pub struct AppRow {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<&'static str>,
    pub since: String,
}

#[derive(Template)]
#[template(path = "apps.html")]
pub struct AppsPage<'a> {
    pub csrf_token: &'a str,
    pub apps: Vec<AppRow>,
    pub notice: Option<&'a str>,
}

/// One row of the API keys page.
#[derive(Debug)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub expires: String,
    pub last_used: String,
    pub active: bool,
    /// "revoked" or "expired" when not active.
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
pub struct ApiKeysPage<'a> {
    pub csrf_token: &'a str,
    pub keys: Vec<ApiKeyRow>,
    pub new_key: Option<&'a str>,
    pub new_key_name: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}
