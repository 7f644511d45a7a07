//! Reflected XSS: the scan's markup in every query parameter of the pages (their forms'
//! hidden fields, `return_to`), every field of the sign-in and sign-up forms (echoed when
//! refused), every parameter of `/authorize` — signed out, the sign-in page it leads to,
//! and signed in on the consent page — the consent decision, and the error pages.

use reqwest::Client;
use scraper::{Html, Selector};
use url::Url;

use super::{judge, marker, payloads};
use crate::accounts::{self, random_name};
use crate::checks::Check;
use crate::flows::{self, authorize_url, hidden_field};
use crate::openapi;
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const REFLECTED: Check = Check {
    id: "injection.reflected_xss",
    title: "No page or error page renders markup taken from the request",
    severity: Severity::High,
    remediation: "Escape every value written into HTML for its context (a template engine that escapes by default, such as askama, and no `|safe` on input); accept only local paths for return_to; serve pages with a Content-Security-Policy without 'unsafe-inline'.",
};
/// `url` with `name=value` added, or replacing a parameter of that name.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return url.to_owned();
    };
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(name, value);
    parsed.into()
}

/// Sends a GET and judges it, and the same-origin page it redirects to.
async fn try_get(
    scan: &Scan,
    browser: &Client,
    url: &str,
    marker: &str,
    what: &str,
    failures: &mut Vec<(String, Evidence)>,
) {
    let Ok(answer) = scan.get(browser, url, what).await else {
        return;
    };
    if let Some(failure) = judge(scan, &answer, marker, what) {
        failures.push(failure);
        return;
    }
    if answer.status.is_redirection()
        && let Some(next) = answer
            .location()
            .and_then(|l| scan.options.issuer.join(l).ok())
            .filter(|u| u.origin() == scan.options.issuer.origin())
        && let Ok(page) = scan.get(browser, next.as_str(), what).await
        && let Some(failure) = judge(
            scan,
            &page,
            marker,
            &format!("{what}, then {}", next.path()),
        )
    {
        failures.push(failure);
    }
}

/// The names of a page's hidden fields, other than its CSRF token.
fn hidden_names(html: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let Ok(hidden) = Selector::parse("input[type=hidden][name]") else {
        return Vec::new();
    };
    let mut names: Vec<String> = document
        .select(&hidden)
        .filter_map(|i| i.value().attr("name"))
        .filter(|n| !n.to_ascii_lowercase().contains("csrf"))
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, and those
/// OpenID Connect adds) that a page might show.
const AUTHORIZE_PARAMETERS: [&str; 12] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "login_hint",
    "response_mode",
    "ui_locales",
];

pub async fn run(scan: &Scan) -> CheckResult {
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    let login = scan.issuer_url("/login");
    let mut pages = vec![login.clone()];
    if let Ok((page, _)) = accounts::sign_up_page(scan, &scan.browser()).await {
        pages.push(page.to_string());
    }
    // The pages' query parameters.
    for page in &pages {
        let Ok(shown) = scan.get(&scan.browser(), page, "the page").await else {
            continue;
        };
        let mut names = hidden_names(&shown.body);
        if !names.iter().any(|n| n == "return_to") {
            names.push("return_to".into());
        }
        for name in names {
            let m = marker();
            for payload in payloads(&m) {
                let url = with_param(page, &name, &payload);
                try_get(
                    scan,
                    &scan.browser(),
                    &url,
                    &m,
                    &format!("{page} ?{name}="),
                    &mut failures,
                )
                .await;
            }
        }
    }
    // The sign-in form's fields, echoed when the sign-in is refused.
    for field in ["username", "return_to"] {
        let m = marker();
        for payload in payloads(&m) {
            let browser = scan.browser();
            let Ok(page) = scan.get(&browser, &login, "sign-in page").await else {
                continue;
            };
            let csrf = hidden_field(&page.body, "csrf_token").unwrap_or_default();
            let username = random_name("scan-nobody-");
            let mut fields = vec![
                ("csrf_token", csrf.as_str()),
                ("username", username.as_str()),
                ("password", "not the password of anyone 42"),
                ("return_to", "/account"),
            ];
            for pair in &mut fields {
                if pair.0 == field {
                    pair.1 = &payload;
                }
            }
            if let Ok(answer) = scan
                .post_form(&browser, &login, &fields, "refused sign-in")
                .await
                && let Some(failure) = judge(scan, &answer, &m, &format!("sign-in field {field}"))
            {
                failures.push(failure);
            }
        }
    }
    // The sign-up form's fields, echoed when refused.
    let m = marker();
    for payload in payloads(&m) {
        if let Ok(answer) = accounts::submit_sign_up(scan, &scan.browser(), &payload, "short").await
            && let Some(failure) = judge(scan, &answer, &m, "sign-up fields")
        {
            failures.push(failure);
        }
    }
    authorize_parameters(scan, &mut failures).await;
    error_pages(scan, &mut failures).await;
    REFLECTED.judge(failures)
}

/// Each authorization request parameter: signed out (and the sign-in page it leads to),
/// then signed in (the consent or error page).
async fn authorize_parameters(scan: &Scan, failures: &mut Vec<(String, Evidence)>) {
    let (client_id, redirect_uri) = match (&scan.options.client, &scan.options.public_client_id) {
        (Some(client), _) => (client.id.clone(), client.redirect_uri.clone()),
        (None, Some(public)) => (public.clone(), String::new()),
        (None, None) => (
            random_name("scan-client-"),
            "https://app.invalid/cb".to_owned(),
        ),
    };
    let p = flows::pkce();
    let base = authorize_url(
        scan,
        &client_id,
        &redirect_uri,
        "tasks:read",
        Some(&p.challenge),
        "st",
    );
    // Signed in as someone who has not yet allowed the client, so the consent page shows.
    let person = match accounts::sign_up(scan, "scan-x-").await {
        Ok(newcomer) => Some(newcomer),
        Err(_) => scan.options.account.clone(),
    };
    let signed_in = flows::signed_in_browser(scan, person.as_ref()).await;
    for name in AUTHORIZE_PARAMETERS {
        let m = marker();
        for payload in payloads(&m) {
            let url = with_param(&base, name, &payload);
            let what = format!("/authorize ?{name}=");
            try_get(scan, &scan.browser(), &url, &m, &what, failures).await;
            if let Some(browser) = &signed_in {
                try_get(
                    scan,
                    browser,
                    &url,
                    &m,
                    &format!("{what} (signed in)"),
                    failures,
                )
                .await;
            }
        }
    }
    // The consent decision with a request of the scan's.
    if let Some(browser) = &signed_in
        && let Ok(page) = scan.get(browser, &base, "consent page").await
        && let Some(csrf) = hidden_field(&page.body, "csrf_token")
    {
        let m = marker();
        for payload in payloads(&m) {
            if let Ok(answer) = scan
                .post_form(
                    browser,
                    &scan.endpoint("authorization_endpoint", "/authorize"),
                    &[
                        ("csrf_token", &csrf),
                        ("request", &payload),
                        ("decision", "allow"),
                    ],
                    "consent decision",
                )
                .await
                && let Some(failure) = judge(scan, &answer, &m, "the consent decision's request")
            {
                failures.push(failure);
            }
        }
    }
}

/// Error pages: an unknown path, an unknown static file, an unknown API resource.
async fn error_pages(scan: &Scan, failures: &mut Vec<(String, Evidence)>) {
    let m = marker();
    for payload in payloads(&m) {
        let segment = openapi::encode_segment(&payload);
        for url in [
            scan.issuer_url(&format!("/{segment}")),
            scan.issuer_url(&format!("/static/{segment}")),
            scan.api_url(&format!("/api/{segment}")),
        ] {
            try_get(scan, &scan.plain, &url, &m, "an error page", failures).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_replaced_not_repeated() {
        assert_eq!(
            with_param("http://as/authorize?a=1&state=x", "state", "<"),
            "http://as/authorize?a=1&state=%3C"
        );
    }
}
