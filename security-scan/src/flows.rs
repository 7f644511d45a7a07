//! Playing the legitimate parties, to get what the attacks start from: a person signing in
//! on the sign-in page (with its CSRF token), an app running the authorization-code flow
//! with PKCE (RFC 6749 §4.1, RFC 7636) through the consent page, and the token responses.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use reqwest::Client;
use scraper::{Html, Selector};
use sha2::{Digest, Sha256};
use url::Url;

use crate::probe::Answer;
use crate::scan::{Account, ConfidentialClient, Scan};

/// A PKCE pair (RFC 7636 §4.1, §4.2).
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

/// Random text for `state` values and markers.
pub fn random_marker(prefix: &str) -> String {
    let mut bytes = [0u8; 9];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The claims of a JWT, decoded without verification (to learn a token's `sub`).
pub fn token_claims(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// The `value` of the first `<input name=NAME>` of a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let document = Html::parse_document(html);
    let selector = Selector::parse(&format!("input[name=\"{name}\"]")).ok()?;
    document
        .select(&selector)
        .next()
        .and_then(|input| input.value().attr("value"))
        .map(str::to_owned)
}

/// Every `<form>` of a page: its method and action.
pub fn forms(html: &str) -> Vec<(String, String)> {
    let document = Html::parse_document(html);
    let Ok(selector) = Selector::parse("form") else {
        return Vec::new();
    };
    document
        .select(&selector)
        .map(|form| {
            let attr = |name| form.value().attr(name).unwrap_or_default().to_owned();
            (attr("method").to_ascii_lowercase(), attr("action"))
        })
        .collect()
}

/// The value of query parameter `name` of an absolute or relative URL.
pub fn query_param(location: &str, name: &str) -> Option<String> {
    let base = Url::parse("http://placeholder.invalid/").ok()?;
    let url = base.join(location).ok()?;
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The sign-in page and the sign-in as `username` on `browser`: both answers, whatever
/// the sign-in's outcome.
pub async fn sign_in_answers(
    scan: &Scan,
    browser: &Client,
    username: &str,
    password: &str,
) -> Result<(Answer, Answer), String> {
    sign_in_to(scan, browser, username, password, "/account").await
}

/// [`sign_in_answers`] with the sign-in form's `return_to` set to `return_to`.
pub async fn sign_in_to(
    scan: &Scan,
    browser: &Client,
    username: &str,
    password: &str,
    return_to: &str,
) -> Result<(Answer, Answer), String> {
    let login = scan.issuer_url("/login");
    let page = scan
        .get(browser, &login, "sign-in page")
        .await
        .map_err(|e| e.to_string())?;
    let csrf = hidden_field(&page.body, "csrf_token")
        .ok_or_else(|| format!("{login} has no csrf_token field"))?;
    let answer = scan
        .post_form(
            browser,
            &login,
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("password", password),
                ("return_to", return_to),
            ],
            "sign in",
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok((page, answer))
}

/// Signs `username` in on `browser` through the sign-in page.
pub async fn sign_in(
    scan: &Scan,
    browser: &Client,
    username: &str,
    password: &str,
) -> Result<(), String> {
    let (_, answer) = sign_in_answers(scan, browser, username, password).await?;
    match answer.location() {
        Some(to) if answer.status.is_redirection() && !to.starts_with("/login") => Ok(()),
        _ => Err(format!(
            "sign-in as {username} was refused ({})",
            answer.status
        )),
    }
}

/// A fresh browser with `account` signed in, if an account is given and the sign-in works.
pub async fn signed_in_browser(scan: &Scan, account: Option<&Account>) -> Option<Client> {
    let account = account?;
    let browser = scan.browser();
    sign_in(scan, &browser, &account.username, &account.password)
        .await
        .ok()
        .map(|()| browser)
}

/// `/authorize?…` for `client_id`, with `redirect_uri` (as given, unencoded) and PKCE.
pub fn authorize_url(
    scan: &Scan,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    challenge: Option<&str>,
    state: &str,
) -> String {
    let mut url = Url::parse(&scan.endpoint("authorization_endpoint", "/authorize"))
        .unwrap_or_else(|_| {
            scan.options
                .issuer
                .join("/authorize")
                .unwrap_or(scan.options.issuer.clone())
        });
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", scope)
            .append_pair("state", state);
        if let Some(challenge) = challenge {
            query
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
    }
    url.into()
}

/// Follows `/authorize` for a signed-in `browser`, clicking "allow" on the consent (or
/// one-click continue) page if one is shown: the final answer, a redirect to the client.
pub async fn authorize(scan: &Scan, browser: &Client, url: &str) -> Result<Answer, String> {
    let answer = scan
        .get(browser, url, "authorization request")
        .await
        .map_err(|e| e.to_string())?;
    if answer.status != 200 {
        return Ok(answer);
    }
    let csrf = hidden_field(&answer.body, "csrf_token");
    let request = hidden_field(&answer.body, "request");
    let (Some(csrf), Some(request)) = (csrf, request) else {
        return Ok(answer);
    };
    scan.post_form(
        browser,
        &scan.endpoint("authorization_endpoint", "/authorize"),
        &[
            ("csrf_token", &csrf),
            ("request", &request),
            ("decision", "allow"),
        ],
        "consent: allow",
    )
    .await
    .map_err(|e| e.to_string())
}

/// Tokens of one authorization: the JSON token response's two tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

/// The whole flow for the operator's account and confidential client: a fresh browser
/// signs in, authorizes `scope`, and the code is exchanged. Returns the browser too.
pub async fn user_tokens(scan: &Scan, scope: &str) -> Result<(Client, Tokens), String> {
    let (Some(client), Some(account)) = (&scan.options.client, &scan.options.account) else {
        return Err(
            "needs --client-id, --client-secret, --redirect-uri, --username and --password".into(),
        );
    };
    tokens_for(scan, client, account, scope).await
}

/// The whole flow for `account`: a fresh browser signs in, authorizes `client` for
/// `scope`, and the code is exchanged. Returns the browser too.
pub async fn tokens_for(
    scan: &Scan,
    client: &ConfidentialClient,
    account: &Account,
    scope: &str,
) -> Result<(Client, Tokens), String> {
    let browser = scan.browser();
    sign_in(scan, &browser, &account.username, &account.password).await?;
    let tokens = code_flow(scan, &browser, client, scope).await?;
    Ok((browser, tokens))
}

/// Authorizes `client` for `scope` in a signed-in `browser` and exchanges the code.
pub async fn code_flow(
    scan: &Scan,
    browser: &Client,
    client: &ConfidentialClient,
    scope: &str,
) -> Result<Tokens, String> {
    let code = obtain_code(scan, browser, client, scope).await?;
    let answer = exchange_code(scan, client, &code.0, &code.1.verifier).await?;
    tokens_of(scan, &answer)
}

/// A fresh code (and its PKCE pair) for `client` in a signed-in `browser`.
pub async fn obtain_code(
    scan: &Scan,
    browser: &Client,
    client: &ConfidentialClient,
    scope: &str,
) -> Result<(String, Pkce), String> {
    let p = pkce();
    let url = authorize_url(
        scan,
        &client.id,
        &client.redirect_uri,
        scope,
        Some(&p.challenge),
        "scan",
    );
    let answer = authorize(scan, browser, &url).await?;
    let code = answer
        .location()
        .and_then(|to| query_param(to, "code"))
        .ok_or_else(|| format!("no code came back from /authorize ({})", answer.status))?;
    scan.redactor.add(&code);
    Ok((code, p))
}

pub async fn exchange_code(
    scan: &Scan,
    client: &ConfidentialClient,
    code: &str,
    verifier: &str,
) -> Result<Answer, String> {
    scan.post_as_client(
        client,
        &scan.endpoint("token_endpoint", "/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", verifier),
        ],
        "code exchange",
    )
    .await
    .map_err(|e| e.to_string())
}

pub async fn refresh(
    scan: &Scan,
    client: &ConfidentialClient,
    refresh_token: &str,
) -> Result<Answer, String> {
    scan.post_as_client(
        client,
        &scan.endpoint("token_endpoint", "/token"),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        "refresh",
    )
    .await
    .map_err(|e| e.to_string())
}

/// Whether `token` is active, asked as the confidential client (RFC 7662).
pub async fn is_active(
    scan: &Scan,
    client: &ConfidentialClient,
    token: &str,
) -> Result<bool, String> {
    let answer = scan
        .post_as_client(
            client,
            &scan.endpoint("introspection_endpoint", "/introspect"),
            &[("token", token)],
            "introspection",
        )
        .await
        .map_err(|e| e.to_string())?;
    answer
        .json()
        .and_then(|v| v.get("active").and_then(serde_json::Value::as_bool))
        .ok_or_else(|| format!("introspection did not answer ({})", answer.status))
}

/// The tokens of a successful token response; the secrets are redacted from now on.
pub fn tokens_of(scan: &Scan, answer: &Answer) -> Result<Tokens, String> {
    let body = answer
        .json()
        .filter(|_| answer.status == 200)
        .ok_or_else(|| {
            format!(
                "the token endpoint answered {}: {}",
                answer.status, answer.evidence.response
            )
        })?;
    let access_token = body["access_token"]
        .as_str()
        .ok_or("the token response has no access_token")?
        .to_owned();
    let refresh_token = body["refresh_token"].as_str().map(str::to_owned);
    scan.redactor.add(&access_token);
    if let Some(refresh_token) = &refresh_token {
        scan.redactor.add(refresh_token);
    }
    Ok(Tokens {
        access_token,
        refresh_token,
    })
}
