//! Stored XSS: markup in what a person can store — the API's resources (a task's title),
//! the text fields of the account pages' forms (an API key's name), the browser's
//! User-Agent (the list of sessions), a username — then every page the person reaches.

use reqwest::{Client, Method};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::{judge, marker, payloads};
use crate::accounts::{self, links};
use crate::api::{self, Workbench};
use crate::checks::Check;
use crate::flows::{self, authorize_url};
use crate::openapi;
use crate::probe::Answer;
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const STORED: Check = Check {
    id: "injection.stored_xss",
    title: "Markup a person stores (a resource, a form field, a User-Agent, a username) is never rendered",
    severity: Severity::High,
    remediation: "Escape stored values when they are written into a page, whatever their source (API resources, names, user agents); serve API answers as application/json, never text/html.",
};
/// The pages a signed-in person reaches: the account page and what it links to.
async fn pages_of(scan: &Scan, browser: &Client) -> Vec<(Url, Answer)> {
    let Ok(start) = Url::parse(&scan.issuer_url("/account")) else {
        return Vec::new();
    };
    let Ok(first) = scan.get(browser, start.as_str(), "account page").await else {
        return Vec::new();
    };
    let mut answers = Vec::new();
    for link in links(&first.body, &start).into_iter().take(15) {
        let path = link.path().to_ascii_lowercase();
        if path.contains("logout") || path.contains("sign-out") || path.contains("signout") {
            continue;
        }
        if let Ok(answer) = scan
            .get(browser, link.as_str(), "a page of the account")
            .await
        {
            answers.push((link, answer));
        }
    }
    answers.push((start, first));
    answers
}

/// Whether a form field is free text a person types.
fn is_text_field(field: &ElementRef<'_>) -> bool {
    let element = field.value();
    element.name() == "textarea"
        || (element.name() == "input"
            && matches!(
                element
                    .attr("type")
                    .unwrap_or("text")
                    .to_ascii_lowercase()
                    .as_str(),
                "text" | "search" | "url" | "tel"
            ))
}

/// The POST forms of `html` with a text field, filled with `text`: action and fields.
pub fn text_forms(html: &str, text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let document = Html::parse_document(html);
    let (Ok(forms), Ok(fields), Ok(options)) = (
        Selector::parse("form"),
        Selector::parse("input, textarea, select"),
        Selector::parse("option"),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for form in document.select(&forms) {
        let post = form
            .value()
            .attr("method")
            .is_some_and(|m| m.eq_ignore_ascii_case("post"));
        if !post || !form.select(&fields).any(|f| is_text_field(&f)) {
            continue;
        }
        let mut filled = Vec::new();
        for field in form.select(&fields) {
            let element = field.value();
            let Some(name) = element.attr("name") else {
                continue;
            };
            let value = if is_text_field(&field) {
                text.to_owned()
            } else if element.name() == "select" {
                let chosen = field
                    .select(&options)
                    .find(|o| o.value().attr("selected").is_some())
                    .or_else(|| field.select(&options).next());
                chosen
                    .and_then(|o| o.value().attr("value"))
                    .unwrap_or_default()
                    .to_owned()
            } else {
                let kind = element
                    .attr("type")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if matches!(kind.as_str(), "checkbox" | "radio")
                    && element.attr("checked").is_none()
                {
                    continue;
                }
                if matches!(kind.as_str(), "submit" | "button" | "password") {
                    continue;
                }
                element.attr("value").unwrap_or("on").to_owned()
            };
            filled.push((name.to_owned(), value));
        }
        out.push((
            form.value().attr("action").unwrap_or_default().to_owned(),
            filled,
        ));
    }
    out
}

pub async fn run(scan: &Scan, bench: Option<&Workbench<'_>>) -> CheckResult {
    let Some(account) = &scan.options.account else {
        return STORED.skip("needs --username and --password");
    };
    let browser = scan.browser();
    if let Err(why) = flows::sign_in(scan, &browser, &account.username, &account.password).await {
        return STORED.skip(why);
    }
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    let mut markers: Vec<(String, &str)> = Vec::new();

    // The API's resources, with markup in every free-text field.
    if let Some(bench) = bench {
        let m = marker();
        let markup = payloads(&m)[0].clone();
        for create in bench
            .operations
            .iter()
            .filter(|o| o.method == Method::POST && o.body.is_some() && !o.public)
        {
            let Some(item) = bench
                .operations
                .iter()
                .find(|o| o.collection_path() == Some(create.path.as_str()))
            else {
                continue;
            };
            let body = create
                .body
                .as_ref()
                .map(|schema| openapi::example_marked(schema, &markup));
            if let Ok(resource) = bench.make(item, body).await
                && let Ok(answer) = api::call(
                    scan,
                    &Method::GET,
                    &resource.path,
                    Some(&bench.owner),
                    None,
                    "read back",
                )
                .await
                && let Some(failure) = judge(scan, &answer, &m, "an API resource read back")
            {
                failures.push(failure);
            }
        }
        markers.push((m, "a resource's text field"));
    }

    // The text fields of the account pages' forms (an API key's name, …).
    let m = marker();
    let markup = payloads(&m)[0].clone();
    for (base, page) in pages_of(scan, &browser).await {
        for (action, fields) in text_forms(&page.body, &markup) {
            let Ok(target) = base.join(&action) else {
                continue;
            };
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            if let Ok(answer) = scan
                .post_form(&browser, target.as_str(), &borrowed, "a form with markup")
                .await
                && let Some(failure) = judge(
                    scan,
                    &answer,
                    &m,
                    &format!("the form posting to {}", target.path()),
                )
            {
                failures.push(failure);
            }
        }
    }
    markers.push((m, "a form's text field"));

    // The browser's User-Agent, shown in the list of sessions.
    let m = marker();
    let agent = scan.browser_as(&payloads(&m)[0]);
    let mut browsers = vec![browser];
    if flows::sign_in(scan, &agent, &account.username, &account.password)
        .await
        .is_ok()
    {
        browsers.push(agent);
    }
    markers.push((m, "the User-Agent"));

    // A username with markup, if the sign-up page takes one.
    let m = marker();
    let newcomer = scan.browser();
    if let Ok(answer) = accounts::submit_sign_up(
        scan,
        &newcomer,
        &payloads(&m)[0],
        "a long passphrase of the scan 42",
    )
    .await
        && answer.status.is_redirection()
    {
        browsers.push(newcomer);
    }
    markers.push((m, "a username"));

    for browser in &browsers {
        let mut answers: Vec<Answer> = pages_of(scan, browser)
            .await
            .into_iter()
            .map(|(_, answer)| answer)
            .collect();
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
            if let Ok(consent) = scan.get(browser, &url, "consent page").await {
                answers.push(consent);
            }
        }
        for answer in &answers {
            for (m, source) in &markers {
                if let Some(failure) = judge(scan, answer, m, &format!("markup stored in {source}"))
                {
                    failures.push(failure);
                }
            }
        }
    }
    STORED.judge(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_are_filled_and_others_left_alone() {
        let html = r#"<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="c"></form>
<form method="post" action="/keys"><input type="hidden" name="csrf_token" value="c"><input name="name" type="text">
<input type="checkbox" name="read" value="1" checked><input type="checkbox" name="write" value="1">
<select name="days"><option value="7">7</option><option value="30" selected>30</option></select></form>"#;
        let forms = text_forms(html, "T");
        assert_eq!(forms.len(), 1);
        assert_eq!(forms[0].0, "/keys");
        let fields: Vec<(&str, &str)> = forms[0]
            .1
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("csrf_token", "c"),
                ("name", "T"),
                ("read", "1"),
                ("days", "30")
            ]
        );
    }
}
