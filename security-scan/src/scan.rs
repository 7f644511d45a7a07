//! The target of a scan and what the scanner learns of it before any check runs: the
//! authorization server's metadata (RFC 8414) and the task API's OpenAPI document, the
//! credentials the operator gave, and HTTP clients — a plain one, and fresh "browsers"
//! with a cookie jar — that never follow redirects, so every hop can be judged.

use std::sync::Arc;

use reqwest::cookie::Jar;
use reqwest::{Client, Method};
use serde_json::Value;
use url::Url;

use tokio::sync::OnceCell;

use crate::openapi::{Api, Operation};
use crate::probe::{self, Answer, Redactor, Unreachable};

/// A confidential client of the authorization-code grant, as the operator registered it.
#[derive(Debug, Clone)]
pub struct ConfidentialClient {
    pub id: String,
    pub secret: String,
    pub redirect_uri: String,
}

/// A person's account on the target.
#[derive(Debug, Clone)]
pub struct Account {
    pub username: String,
    pub password: String,
}

/// A confidential client of the client-credentials grant (RFC 6749 §4.4).
#[derive(Debug, Clone)]
pub struct ServiceClient {
    pub id: String,
    pub secret: String,
}

/// What the operator told the scanner.
#[derive(Debug, Clone)]
pub struct Options {
    pub issuer: Url,
    pub api: Url,
    pub client: Option<ConfidentialClient>,
    /// A public client whose redirect URI is `https` (a browser or claimed-link app).
    pub public_client_id: Option<String>,
    /// A public native client registered with a loopback redirect URI (RFC 8252 §7.3).
    pub loopback_client_id: Option<String>,
    pub account: Option<Account>,
    /// PEM certificates of CAs to trust besides the system's (a deployment with a private
    /// CA, or a test server's own).
    pub ca_certificates_pem: Option<String>,
    /// Another person's account, for the authorization checks; without it the scanner
    /// signs one up through the sign-up page, if the server has one.
    pub second_account: Option<Account>,
    /// A client allowed the client-credentials grant, if the confidential client is not.
    pub service_client: Option<ServiceClient>,
    /// The check groups to run (see `checks::GROUPS`); none named means every one.
    pub groups: Vec<&'static str>,
}

impl Options {
    /// A scan of `issuer` and `api` with no credentials, running every group.
    pub fn new(issuer: Url, api: Url) -> Self {
        Self {
            issuer,
            api,
            client: None,
            public_client_id: None,
            loopback_client_id: None,
            account: None,
            second_account: None,
            service_client: None,
            ca_certificates_pem: None,
            groups: Vec::new(),
        }
    }
}

/// A scan in progress: the target, what discovery found, and the redactor every piece of
/// evidence goes through.
#[derive(Debug)]
pub struct Scan {
    pub options: Options,
    pub redactor: Redactor,
    /// No cookies, no redirects.
    pub plain: Client,
    /// The authorization server's metadata document.
    pub metadata: Value,
    /// The task API's OpenAPI document, if it publishes one.
    pub openapi: Option<Value>,
    /// The second person, made once when a check first needs them (see
    /// `accounts::second_person`).
    pub second_account: OnceCell<Result<Account, String>>,
}

/// A client as the scanner uses it: redirects are never followed; the operator's CAs are
/// trusted besides the system's.
fn client_builder(options: &Options) -> Result<reqwest::ClientBuilder, String> {
    let roots = match &options.ca_certificates_pem {
        Some(pem) => reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| format!("the CA certificates cannot be read: {e}"))?,
        None => Vec::new(),
    };
    Ok(Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .user_agent(concat!("security-scan/", env!("CARGO_PKG_VERSION")))
        .tls_certs_merge(roots))
}

impl Scan {
    /// Reads the metadata and the OpenAPI document. The metadata is required: without it
    /// the scanner does not know the endpoints.
    pub async fn discover(options: Options) -> Result<Self, String> {
        let _already = rustls::crypto::ring::default_provider().install_default();
        let plain = client_builder(&options)?
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let redactor = Redactor::default();
        if let Some(client) = &options.client {
            redactor.add(&client.secret);
        }
        for account in [&options.account, &options.second_account]
            .into_iter()
            .flatten()
        {
            redactor.add(&account.password);
        }
        if let Some(service) = &options.service_client {
            redactor.add(&service.secret);
        }
        let mut scan = Self {
            options,
            redactor,
            plain,
            metadata: Value::Null,
            openapi: None,
            second_account: OnceCell::new(),
        };
        let metadata_url = scan.issuer_url("/.well-known/oauth-authorization-server");
        let answer = scan
            .get(&scan.plain, &metadata_url, "discovery")
            .await
            .map_err(|e| e.to_string())?;
        scan.metadata = answer
            .json()
            .filter(|m| m.get("issuer").is_some())
            .ok_or_else(|| {
                format!(
                    "{metadata_url} did not answer RFC 8414 metadata ({})",
                    answer.status
                )
            })?;
        for path in ["/api/openapi.json", "/openapi.json"] {
            let url = scan.api_url(path);
            if let Ok(answer) = scan.get(&scan.plain, &url, "discovery").await
                && let Some(document) = answer.json().filter(|d| d.get("paths").is_some())
            {
                scan.openapi = Some(document);
                break;
            }
        }
        Ok(scan)
    }

    /// The task API's operations, from its OpenAPI document (none without one).
    pub fn operations(&self) -> Vec<Operation> {
        self.openapi
            .clone()
            .map(|document| Api::new(document).operations())
            .unwrap_or_default()
    }

    /// Every scope the task API's operations name, or the issuer's `scopes_supported`.
    pub fn all_scopes(&self) -> String {
        let mut scopes: Vec<String> = self
            .operations()
            .into_iter()
            .flat_map(|operation| operation.scopes)
            .collect();
        if scopes.is_empty() {
            scopes = self.metadata["scopes_supported"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
        }
        scopes.sort();
        scopes.dedup();
        scopes.join(" ")
    }

    /// A fresh browser: its own cookie jar, no redirects.
    pub fn browser(&self) -> Client {
        client_builder(&self.options)
            .and_then(|builder| {
                builder
                    .cookie_store(true)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .unwrap_or_else(|_| self.plain.clone())
    }

    /// A fresh browser whose cookie jar the caller can read and plant cookies in.
    pub fn browser_with_jar(&self) -> (Client, Arc<Jar>) {
        let jar = Arc::new(Jar::default());
        let client = client_builder(&self.options)
            .and_then(|builder| {
                builder
                    .cookie_provider(Arc::clone(&jar))
                    .build()
                    .map_err(|e| e.to_string())
            })
            .unwrap_or_else(|_| self.plain.clone());
        (client, jar)
    }

    /// A fresh browser that calls itself `user_agent`.
    pub fn browser_as(&self, user_agent: &str) -> Client {
        client_builder(&self.options)
            .and_then(|builder| {
                builder
                    .cookie_store(true)
                    .user_agent(user_agent)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .unwrap_or_else(|_| self.browser())
    }

    /// `path` on the authorization server.
    pub fn issuer_url(&self, path: &str) -> String {
        join(&self.options.issuer, path)
    }

    /// `path` on the task API.
    pub fn api_url(&self, path: &str) -> String {
        join(&self.options.api, path)
    }

    /// An endpoint the metadata names (`token_endpoint`, …), or the usual path under the
    /// issuer.
    pub fn endpoint(&self, name: &str, default_path: &str) -> String {
        self.metadata
            .get(name)
            .and_then(Value::as_str)
            .map_or_else(|| self.issuer_url(default_path), str::to_owned)
    }

    pub async fn get(&self, client: &Client, url: &str, note: &str) -> Result<Answer, Unreachable> {
        probe::send(&self.redactor, &Method::GET, url, note, client.get(url)).await
    }

    pub async fn post_form(
        &self,
        client: &Client,
        url: &str,
        fields: &[(&str, &str)],
        note: &str,
    ) -> Result<Answer, Unreachable> {
        probe::send(
            &self.redactor,
            &Method::POST,
            url,
            note,
            client.post(url).form(fields),
        )
        .await
    }

    /// A form POST authenticated as the confidential client (HTTP Basic, RFC 6749 §2.3.1).
    pub async fn post_as_client(
        &self,
        client: &ConfidentialClient,
        url: &str,
        fields: &[(&str, &str)],
        note: &str,
    ) -> Result<Answer, Unreachable> {
        self.post_with_basic(&client.id, &client.secret, url, fields, note)
            .await
    }

    /// A form POST with the client credentials `id` and `secret` in HTTP Basic.
    pub async fn post_with_basic(
        &self,
        id: &str,
        secret: &str,
        url: &str,
        fields: &[(&str, &str)],
        note: &str,
    ) -> Result<Answer, Unreachable> {
        let request = self
            .plain
            .post(url)
            .basic_auth(form_encode(id), Some(form_encode(secret)))
            .form(fields);
        probe::send(&self.redactor, &Method::POST, url, note, request).await
    }
}

/// `base` with `path` appended to its path (a base URL may have a path of its own).
fn join(base: &Url, path: &str) -> String {
    format!("{}{}", base.as_str().trim_end_matches('/'), path)
}

/// RFC 6749 §2.3.1: client credentials in Basic are form-encoded first.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
