//! Playing an OAuth client of the auth-server and its user: register a client, PKCE, run
//! `/authorize` through sign-in and consent, exchange the code, refresh, introspect, revoke.

use auth_server::oauth::clients::{self, NewClient};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use super::browser::{TestUser, hidden_field, location};
use super::servers::TestApp;

pub const REDIRECT_URI: &str = "https://app.example.com/callback";

/// A registered client as an app holds it.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub client_id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
}

/// Registration options; `Default` is a confidential third-party client with PKCE.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub scope: String,
    pub public: bool,
    pub first_party: bool,
    pub require_pkce: bool,
    pub grant_types: Vec<String>,
    pub resource_server: bool,
    /// `--id-token-alg`: `None` registers the default (RS256).
    pub id_token_alg: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// `--require-mfa`: authorizations need the second factor.
    pub require_mfa: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            name: "Example App".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            scope: "tasks:read tasks:write".into(),
            public: false,
            first_party: false,
            require_pkce: true,
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            resource_server: false,
            id_token_alg: None,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            require_mfa: false,
        }
    }
}

/// A PKCE pair (RFC 7636).
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

/// The value of query parameter `name` in a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let pairs: Vec<(String, String)> =
        actix_web::web::Query::<Vec<(String, String)>>::from_query(query)
            .ok()?
            .into_inner();
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A string field of a JSON answer (empty when absent).
pub fn field(body: &serde_json::Value, name: &str) -> String {
    body[name].as_str().unwrap_or_default().to_owned()
}

/// `/authorize?…` with the given parameters, encoded.
pub fn authorize_path(params: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", auth_server::web::return_to::percent_encode(v)))
        .collect();
    format!("/authorize?{}", encoded.join("&"))
}

impl TestUser {
    /// Follows `/authorize` (signed in already) through the consent page, clicking
    /// `decision` if asked; returns the final redirect to the client.
    pub async fn authorize(&self, path: &str, decision: &str) -> reqwest::Response {
        let response = self.get(path).await;
        if response.status() != 200 {
            return response;
        }
        let html = response.text().await.expect("consent page");
        let csrf = hidden_field(&html, "csrf_token").expect("consent CSRF");
        let request = hidden_field(&html, "request").expect("consent request");
        self.post_form(
            "/authorize",
            &[
                ("csrf_token", &csrf),
                ("request", &request),
                ("decision", decision),
            ],
        )
        .await
    }

    /// The whole front channel (signed in already): returns the code.
    pub async fn obtain_code(&self, client: &TestClient, pkce: &Pkce) -> String {
        let response = self
            .authorize(&self.app.authorize_request(client, pkce, "xyz"), "allow")
            .await;
        let to = location(&response);
        assert!(
            to.starts_with(&client.redirect_uri),
            "redirected to the client: {to}"
        );
        query_param(&to, "code").expect("code in the redirect")
    }

    /// Authorizes `client` (signed in already) and exchanges the code: the token response.
    pub async fn tokens_for(&self, client: &TestClient) -> serde_json::Value {
        let p = pkce();
        let code = self.obtain_code(client, &p).await;
        let response = self
            .app
            .exchange_code(client, &code, Some(&p.verifier))
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("token response")
    }
}

impl TestApp {
    pub async fn register_client(&self, options: ClientOptions) -> TestClient {
        let redirect_uri = options.redirect_uris.first().cloned().unwrap_or_default();
        let (client, secret) = clients::register(
            &self.db,
            NewClient {
                name: options.name,
                redirect_uris: options.redirect_uris,
                scope: options.scope,
                grant_types: options.grant_types,
                is_public: options.public,
                is_first_party: options.first_party,
                require_pkce: options.require_pkce,
                is_resource_server: options.resource_server,
                id_token_signed_response_alg: options.id_token_alg,
                post_logout_redirect_uris: options.post_logout_redirect_uris,
                backchannel_logout_uri: options.backchannel_logout_uri,
                require_mfa: options.require_mfa,
            },
        )
        .await
        .expect("client registered");
        TestClient {
            client_id: client.client_id,
            secret: secret.map(|s| s.expose().to_owned()),
            redirect_uri,
        }
    }

    /// The standard parameters of an authorization request for `client`.
    pub fn authorize_request(&self, client: &TestClient, pkce: &Pkce, state: &str) -> String {
        authorize_path(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "tasks:read tasks:write"),
            ("state", state),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ])
    }

    /// `POST /token` for the code: Basic authentication for a confidential client,
    /// `client_id` in the body for a public one.
    pub async fn exchange_code(
        &self,
        client: &TestClient,
        code: &str,
        verifier: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", client.redirect_uri.clone()),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier.to_owned()));
        }
        self.token_request(client, &form).await
    }

    pub async fn token_request(
        &self,
        client: &TestClient,
        form: &[(&str, String)],
    ) -> reqwest::Response {
        self.client_post(client, "/token", form).await
    }

    pub async fn refresh(
        &self,
        client: &TestClient,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.to_owned()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope.to_owned()));
        }
        self.token_request(client, &form).await
    }

    /// `POST /introspect` as `caller`: the JSON answer (asserting a 200).
    pub async fn introspect(&self, caller: &TestClient, token: &str) -> serde_json::Value {
        let response = self
            .client_post(caller, "/introspect", &[("token", token.to_owned())])
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        response.json().await.expect("introspection JSON")
    }

    pub async fn revoke(&self, caller: &TestClient, token: &str) -> reqwest::Response {
        self.client_post(caller, "/revoke", &[("token", token.to_owned())])
            .await
    }

    /// A client-authenticated form POST (Basic for confidential clients).
    pub async fn client_post(
        &self,
        caller: &TestClient,
        path: &str,
        form: &[(&str, String)],
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new().post(self.url(path));
        let mut form = form.to_vec();
        match &caller.secret {
            Some(secret) => {
                let basic = STANDARD.encode(format!("{}:{}", caller.client_id, secret));
                request = request.header("Authorization", format!("Basic {basic}"));
            }
            None => form.push(("client_id", caller.client_id.clone())),
        }
        request.form(&form).send().await.expect("client request")
    }
}

/// Options for a confidential client of the client-credentials grant only.
pub fn service_client() -> ClientOptions {
    ClientOptions {
        name: "Nightly job".into(),
        redirect_uris: vec![],
        grant_types: vec!["client_credentials".into()],
        ..ClientOptions::default()
    }
}

/// Options for a resource server (may introspect any token).
pub fn resource_server() -> ClientOptions {
    ClientOptions {
        name: "Task API".into(),
        redirect_uris: vec![],
        grant_types: vec![],
        resource_server: true,
        ..ClientOptions::default()
    }
}
