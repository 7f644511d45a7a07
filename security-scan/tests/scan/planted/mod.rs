//! A deliberately vulnerable authorization server and task API, started in-process on
//! port 0 over https, that imitates what the scanner uses of a real deployment — metadata,
//! sign-in and consent, the code flow, refresh, client credentials, introspection,
//! revocation, the JWKS, the task API and its OpenAPI document — well enough for every
//! flow to work, and carries one weakness for each check: the kind of bug real servers
//! have had. Each is marked in the code with a comment `PLANTED <check id>`, and listed in
//! [`WEAKNESSES`] with what the check's finding must say.
//!
//! By area: [`authorization_server`] (its pages, `/authorize`, `/token`, static files),
//! [`task_api`] (bearer tokens, tasks in SQLite, CORS), [`state`] (what both share: two
//! accounts, the scan's and a neighbour's with tasks of their own), [`keys`] and [`tokens`]
//! (access tokens), [`tls`] (the throwaway CA), [`html`], [`values`]. A new check gets its
//! weakness in the area it attacks, and a line in [`WEAKNESSES`].

pub mod authorization_server;
pub mod html;
pub mod keys;
pub mod state;
pub mod task_api;
pub mod tls;
pub mod tokens;
pub mod values;

use std::net::TcpListener;
use std::sync::Arc;

use security_scan::scan::{Account, ConfidentialClient, Options};
use url::Url;

use state::State;

/// Every check, and what its finding against the planted server must mention: proof that
/// the check failed because of the weakness planted for it, not by accident.
pub const WEAKNESSES: &[(&str, &[&str])] = &[
    (
        "headers.nosniff",
        &["/no-such-path (headers) has no nosniff"],
    ),
    ("headers.hsts", &["/api/tasks (headers) has no HSTS"]),
    (
        "headers.pages",
        &["/login (headers) lacks Cache-Control: no-store"],
    ),
    (
        "headers.error_leaks",
        &["limit=99999999999999999999 (malformed input) answered 500"],
    ),
    (
        "authentication.no_credentials",
        &["without a Bearer challenge"],
    ),
    ("authentication.malformed", &["Bearer a.b.c: answered 500"]),
    (
        "authentication.alg_none",
        &["alg none, no signature: answered 200"],
    ),
    (
        "authentication.hs256_public_key",
        &["HS256 with the public key: answered 200"],
    ),
    (
        "authentication.tampered",
        &["payload changed, signature kept: answered 200"],
    ),
    ("authentication.unknown_kid", &["unknown kid: answered 200"]),
    ("authentication.claims", &["another audience: answered 200"]),
    (
        "authentication.other_scheme",
        &[
            "the token without a scheme: answered 200",
            "scheme Token: answered 200",
        ],
    ),
    (
        "authentication.query_token",
        &["?access_token= was accepted"],
    ),
    (
        "authentication.revoked",
        &["still accepted two seconds after its revocation"],
    ),
    (
        "authorization.idor",
        &["GET /api/tasks/{id} answered 200 OK to another person"],
    ),
    (
        "authorization.missing_scope",
        &[
            "DELETE /api/tasks/{id} (needs tasks:write) answered 204 No Content to a token for `tasks:read`",
        ],
    ),
    (
        "authorization.client_credentials",
        &["GET /api/tasks listed a person's resource"],
    ),
    (
        "authorization.mass_assignment",
        &["PATCH /api/tasks/{id} kept `created_at: 424242`"],
    ),
    (
        "redirect_uri.https",
        &["redirected to the path /callback/extra"],
    ),
    (
        "redirect_uri.loopback",
        &["`http://127.0.0.1:@evil.example/callback`: redirected with user-info to evil.example"],
    ),
    (
        "redirect_uri.unknown_client",
        &["redirected to https://evil.example/cb"],
    ),
    (
        "redirect_uri.return_to",
        &["return_to `//evil.example/` sent the person to https://evil.example/"],
    ),
    (
        "redirect_uri.csp_injection",
        &["the CSP names evil.example"],
    ),
    ("oauth.pkce_required", &["without code_challenge"]),
    ("oauth.pkce_plain", &["code_challenge_method=plain"]),
    ("oauth.pkce_verified", &["exchanged with no verifier"]),
    ("oauth.code_replay", &["the code was exchanged twice"]),
    (
        "oauth.refresh_reuse",
        &["a spent refresh token was accepted again"],
    ),
    (
        "oauth.state_iss",
        &["state did not come back unchanged", "iss is not"],
    ),
    (
        "oauth.legacy_grants",
        &[
            "grant_type=password answered 400",
            "response_type=token returned a token",
        ],
    ),
    ("oauth.token_cache", &["with Cache-Control `no-cache`"]),
    (
        "oauth.introspection_auth",
        &[
            "an unauthenticated caller got 200",
            "a public client may introspect",
        ],
    ),
    (
        "forms.csrf",
        &[
            "the form posting to /logout",
            "signing out worked without a CSRF token",
        ],
    ),
    ("cors.origins", &["lets `https://evil.example` read it"]),
    (
        "cors.credentials",
        &["allows credentials for `https://evil.example`"],
    ),
    (
        "cors.preflight",
        &["approves DELETE from `https://evil.example`"],
    ),
    (
        "injection.sql_errors",
        &["GET /api/tasks query parameter `search`: `'` shows `unrecognized token:`"],
    ),
    (
        "injection.sql_timing",
        &["GET /api/tasks query parameter `search`: `' OR 1=(WITH RECURSIVE"],
    ),
    (
        "injection.reflected_xss",
        &["sign-in field username: a <svg> element with the scan's attribute"],
    ),
    (
        "injection.stored_xss",
        &["markup stored in the User-Agent: a <svg> element with the scan's attribute"],
    ),
    (
        "injection.path_traversal",
        &["/static/%2fetc%2fpasswd served `root:x:0:0:`"],
    ),
    (
        "injection.header_crlf",
        &["return_to at sign-in: the header X-Scan-Injected"],
    ),
    (
        "sessions.cookie_attributes",
        &["planted_session has no HttpOnly"],
    ),
    (
        "sessions.fixation",
        &[
            "the sign-in set no new planted_session: the planted one stays",
            "the planted session id is signed in",
        ],
    ),
    (
        "sessions.sign_out",
        &["after signing out, the old session cookie still opens the account page"],
    ),
    (
        "sessions.lockout",
        &["failed sign-ins the right password still signs in"],
    ),
    (
        "sessions.slow_down",
        &["failed sign-ins for different usernames from one address"],
    ),
    (
        "rate_limits.api",
        &["3000 requests in", "none refused with 429"],
    ),
    (
        "rate_limits.token",
        &["1000 requests in", "none refused with 429"],
    ),
    (
        "rate_limits.sign_in",
        &["100 requests in", "none refused with 429"],
    ),
];

/// The planted servers, running.
pub struct PlantedServer {
    pub state: Arc<State>,
    ca_pem: String,
}

fn listen() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("a free port")
}

fn https_url(listener: &TcpListener) -> String {
    let port = listener.local_addr().expect("bound address").port();
    format!("https://127.0.0.1:{port}")
}

/// Starts the authorization server and the task API, each on its own port.
pub fn start() -> PlantedServer {
    let certificates = tls::Certificates::generate();
    let (authorization, api) = (listen(), listen());
    let state = Arc::new(State::new(https_url(&authorization), https_url(&api)));
    authorization_server::serve(authorization, certificates.server_config(), state.clone());
    task_api::serve(api, certificates.server_config(), state.clone());
    PlantedServer {
        state,
        ca_pem: certificates.ca_pem,
    }
}

impl PlantedServer {
    /// Everything the scanner can be given: the three clients, the account, the CA.
    pub fn options(&self) -> Options {
        let client = self.state.confidential();
        let password = self
            .state
            .account(state::USERNAME)
            .expect("the planted account")
            .password;
        Options {
            client: Some(ConfidentialClient {
                id: client.id.clone(),
                secret: client.secret.clone().expect("a confidential client"),
                redirect_uri: client.redirect_uri.clone(),
            }),
            public_client_id: Some(state::PUBLIC.into()),
            loopback_client_id: Some(state::LOOPBACK.into()),
            account: Some(Account {
                username: state::USERNAME.into(),
                password,
            }),
            ca_certificates_pem: Some(self.ca_pem.clone()),
            ..Options::new(
                Url::parse(&self.state.issuer).expect("issuer URL"),
                Url::parse(&self.state.api).expect("API URL"),
            )
        }
    }
}
