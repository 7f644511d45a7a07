//! Cross-site request forgery on every form (RFC 6749 §10.12 for consent): every POST form
//! of the pages carries a token, and a POST without a valid one changes nothing — no
//! sign-in, no sign-up, no sign-out, no code.

use scraper::{Html, Selector};

use super::Check;
use crate::flows::{self, authorize_url, hidden_field, query_param};
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const CSRF: Check = Check {
    id: "forms.csrf",
    title: "Every form carries a CSRF token, and a POST without a valid one changes nothing",
    severity: Severity::High,
    remediation: "Bind a random token to the browser session, put it in every form, and refuse (403) any state-changing POST whose token does not match — sign-in, sign-up, sign-out and the consent decision included.",
};

/// POST forms of `html` without a hidden field whose name mentions csrf.
fn forms_without_token(html: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let (Ok(forms), Ok(inputs)) = (
        Selector::parse("form"),
        Selector::parse("input[type=hidden]"),
    ) else {
        return Vec::new();
    };
    document
        .select(&forms)
        .filter(|form| {
            form.value()
                .attr("method")
                .is_some_and(|m| m.eq_ignore_ascii_case("post"))
        })
        .filter(|form| {
            !form.select(&inputs).any(|input| {
                input
                    .value()
                    .attr("name")
                    .is_some_and(|n| n.to_ascii_lowercase().contains("csrf"))
            })
        })
        .map(|form| {
            form.value()
                .attr("action")
                .unwrap_or("(this page)")
                .to_owned()
        })
        .collect()
}

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    let signed_in = flows::signed_in_browser(scan, scan.options.account.as_ref()).await;
    let mut pages = vec![scan.issuer_url("/login"), scan.issuer_url("/register")];
    if signed_in.is_some() {
        pages.push(scan.issuer_url("/account"));
    }
    for page in pages {
        let browser = signed_in.clone().unwrap_or_else(|| scan.browser());
        if let Ok(answer) = scan.get(&browser, &page, "forms").await {
            for action in forms_without_token(&answer.body) {
                failures.push((
                    format!("the form posting to {action} on {page} has no CSRF token"),
                    answer.evidence.clone(),
                ));
            }
        }
    }

    // Sign-in without a token.
    if let Some(account) = &scan.options.account {
        let browser = scan.browser();
        let _ = scan
            .get(&browser, &scan.issuer_url("/login"), "sign-in page")
            .await;
        if let Ok(answer) = scan
            .post_form(
                &browser,
                &scan.issuer_url("/login"),
                &[
                    ("username", &account.username),
                    ("password", &account.password),
                    ("return_to", "/account"),
                ],
                "sign in without CSRF token",
            )
            .await
            && answer.status.is_redirection()
            && !answer.location().unwrap_or_default().starts_with("/login")
        {
            failures.push((
                "signing in worked without a CSRF token".into(),
                answer.evidence,
            ));
        }
    }

    // Sign-up without a token.
    let name = flows::random_marker("scan")
        .replace(['-', '_'], "x")
        .to_ascii_lowercase();
    if let Ok(answer) = scan
        .post_form(
            &scan.browser(),
            &scan.issuer_url("/register"),
            &[
                ("username", &name),
                ("email", &format!("{name}@example.com")),
                ("password", "a long passphrase of the scanner 42"),
            ],
            "sign up without CSRF token",
        )
        .await
        && answer.status.is_redirection()
    {
        failures.push((
            "signing up worked without a CSRF token".into(),
            answer.evidence,
        ));
    }

    if let Some(browser) = &signed_in {
        // The consent decision with a forged token.
        if let Some(client) = &scan.options.client {
            let p = flows::pkce();
            let url = authorize_url(
                scan,
                &client.id,
                &client.redirect_uri,
                "tasks:read",
                Some(&p.challenge),
                "st",
            );
            let request = url
                .split_once('?')
                .map(|(_, q)| q.to_owned())
                .unwrap_or_default();
            if let Ok(answer) = scan
                .post_form(
                    browser,
                    &scan.endpoint("authorization_endpoint", "/authorize"),
                    &[
                        ("csrf_token", "forged"),
                        ("request", &request),
                        ("decision", "allow"),
                    ],
                    "consent with a forged CSRF token",
                )
                .await
                && answer
                    .location()
                    .and_then(|l| query_param(l, "code"))
                    .is_some()
            {
                failures.push((
                    "the consent decision was taken with a forged CSRF token".into(),
                    answer.evidence,
                ));
            }
        }
        // Sign-out without a token: the session must live on.
        let account = scan.issuer_url("/account");
        let _ = scan
            .post_form(
                browser,
                &scan.issuer_url("/logout"),
                &[],
                "sign out without CSRF token",
            )
            .await;
        if let Ok(answer) = scan
            .get(browser, &account, "account after the forged sign-out")
            .await
            && answer.status != 200
            && hidden_field(&answer.body, "csrf_token").is_none()
        {
            failures.push((
                "signing out worked without a CSRF token".into(),
                answer.evidence,
            ));
        }
    }
    vec![CSRF.judge(failures)]
}
