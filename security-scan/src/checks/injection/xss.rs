//! Cross-site scripting. Reflected: the scan's markup in every query parameter of the
//! pages (their forms' hidden fields, `return_to`), every field of the sign-in and sign-up
//! forms (echoed when refused), every parameter of `/authorize` — signed out, the sign-in
//! page it leads to, and signed in — and the error pages. Stored: markup in what a person
//! can store — the API's resources (task titles), the text fields of the account pages'
//! forms (an API key's name), the browser's User-Agent (the session list), a username —
//! then every page the person can reach. Judged by parsing each HTML answer as a browser
//! does (HTML §13.2): an element that carries the scan's attribute, or a `javascript:` URL
//! with its marker, was rendered; escaped text never is.

use reqwest::{Client, Method};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::accounts::{self, links, random_name};
use crate::api::{self, Workbench};
use crate::checks::Check;
use crate::flows::{self, authorize_url, hidden_field};
use crate::openapi;
use crate::probe::Answer;
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const REFLECTED: Check = Check {
    id: "injection.reflected_xss",
    title: "No page or error page renders markup taken from the request",
    severity: Severity::High,
    remediation: "Escape every value written into HTML for its context (a template engine that escapes by default, such as askama, and no `|safe` on input); accept only local paths for return_to; serve pages with a Content-Security-Policy without 'unsafe-inline'.",
};
const STORED: Check = Check {
    id: "injection.stored_xss",
    title: "Markup a person stores (a resource, a form field, a User-Agent, a username) is never rendered",
    severity: Severity::High,
    remediation: "Escape stored values when they are written into a page, whatever their source (API resources, names, user agents); serve API answers as application/json, never text/html.",
};

/// The scan's markup for `marker`: breaks out of text, quoted attributes, `<title>`,
/// `<textarea>` and `<script>`, or is a URL.
pub fn payloads(marker: &str) -> [String; 4] {
    [
        format!("'\"></title></textarea></script><svg data-scan-xss={marker}>"),
        format!("\" data-scan-xss=\"{marker}"),
        format!("' data-scan-xss='{marker}"),
        format!("javascript:alert('{marker}')"),
    ]
}

/// Whether a browser renders `answer` as HTML: an HTML media type, or none at all (it
/// sniffs).
pub fn renders_as_html(answer: &Answer) -> bool {
    match answer.header("content-type") {
        None => !answer.body.is_empty(),
        Some(kind) => {
            let kind = kind.to_ascii_lowercase();
            kind.starts_with("text/html") || kind.starts_with("application/xhtml+xml")
        }
    }
}

/// What of the scan's markup for `marker` a browser renders from `html`, if anything.
pub fn rendered(html: &str, marker: &str) -> Option<String> {
    let document = Html::parse_document(html);
    let carriers = Selector::parse("[data-scan-xss]").ok()?;
    if let Some(element) = document.select(&carriers).find(|e| {
        e.value()
            .attr("data-scan-xss")
            .is_some_and(|v| v.contains(marker))
    }) {
        return Some(format!(
            "a <{}> element with the scan's attribute",
            element.value().name()
        ));
    }
    let urls = Selector::parse("[href], [src], [action], [formaction], [data]").ok()?;
    for element in document.select(&urls) {
        for name in ["href", "src", "action", "formaction", "data"] {
            let Some(value) = element.value().attr(name) else {
                continue;
            };
            // URL parsing strips leading spaces and controls and removes tabs and newlines
            // (WHATWG URL §4.4), so `java\tscript:` is `javascript:`.
            let normalized: String = value
                .trim_start_matches(|c: char| c <= ' ')
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect::<String>()
                .to_ascii_lowercase();
            if normalized.starts_with("javascript:") && value.contains(marker) {
                return Some(format!("a javascript: URL in {name}="));
            }
        }
    }
    None
}

/// The body around the first `marker`, for the evidence.
fn around(body: &str, marker: &str) -> String {
    let Some(at) = body.find(marker) else {
        return String::new();
    };
    let start = body[..at]
        .char_indices()
        .rev()
        .nth(80)
        .map_or(0, |(i, _)| i);
    let end = body[at..]
        .char_indices()
        .nth(40)
        .map_or(body.len(), |(i, _)| at + i);
    body[start..end].replace('\n', " ")
}

/// The finding for `answer`, if it renders the markup of `marker`.
fn judge(scan: &Scan, answer: &Answer, marker: &str, what: &str) -> Option<(String, Evidence)> {
    if !renders_as_html(answer) {
        return None;
    }
    rendered(&answer.body, marker).map(|found| {
        let evidence = Evidence {
            request: answer.evidence.request.clone(),
            response: scan.redactor.redact(&format!(
                "{} …{}…",
                answer.status.as_u16(),
                around(&answer.body, marker)
            )),
        };
        (format!("{what}: {found}"), evidence)
    })
}

/// A fresh marker (letters and digits only, so it survives any attribute syntax).
fn marker() -> String {
    random_name("sx")
}

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

pub async fn reflected(scan: &Scan) -> CheckResult {
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
    let signed_in = match &person {
        Some(account) => {
            let browser = scan.browser();
            flows::sign_in(scan, &browser, &account.username, &account.password)
                .await
                .ok()
                .map(|()| browser)
        }
        None => None,
    };
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

pub async fn stored(scan: &Scan, bench: Option<&Workbench<'_>>) -> CheckResult {
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
    fn only_markup_a_browser_renders_counts() {
        let m = "sxabc123";
        let [markup, attribute, _, url] = payloads(m);
        let raw = format!("<p>Hello {markup}</p>");
        assert!(rendered(&raw, m).unwrap().contains("<svg>"));
        let escaped = "<p>Hello &#39;&#34;&gt;&lt;svg data-scan-xss=sxabc123&gt;</p>";
        assert_eq!(rendered(escaped, m), None);
        let in_value = format!("<input name=\"u\" value=\"{attribute}\">");
        assert!(rendered(&in_value, m).unwrap().contains("<input>"));
        let in_title = format!("<title>{markup}</title>");
        assert!(rendered(&in_title, m).is_some(), "breaks out of <title>");
        let link = format!("<a href=\" {url}\">x</a>");
        assert!(rendered(&link, m).unwrap().contains("javascript: URL"));
        let tabbed = format!("<a href=\"java\tscript:alert('{m}')\">x</a>");
        assert!(rendered(&tabbed, m).is_some());
        assert_eq!(
            rendered("<a href=\"/login?return_to=javascript%3Aalert\">", m),
            None
        );
        assert_eq!(rendered(&raw, "another"), None);
    }

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

    #[test]
    fn the_evidence_shows_where_the_markup_landed() {
        let body = format!(
            "{}<p>{}</p>{}",
            "a".repeat(200),
            "<svg data-scan-xss=m1>",
            "b".repeat(200)
        );
        let shown = around(&body, "m1");
        assert!(
            shown.contains("<svg data-scan-xss=m1>") && shown.len() < 130,
            "{shown}"
        );
        assert_eq!(around("no marker", "m1"), "");
    }

    #[test]
    fn parameters_are_replaced_not_repeated() {
        assert_eq!(
            with_param("http://as/authorize?a=1&state=x", "state", "<"),
            "http://as/authorize?a=1&state=%3C"
        );
    }
}
