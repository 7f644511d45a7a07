//! Header injection (response splitting, RFC 9110 §5.5: a field value never holds CR or
//! LF): CR/LF — raw, percent-encoded once more, bare LF, and the U+560D U+560A pair that a
//! server narrowing to Latin-1 turns into CR LF — followed by a header of the scan's, in
//! every value that reaches a header: `return_to` into the `Location` after sign-in,
//! `state` into the redirect back to the client (error and success), the redirect URI
//! and client id (`Location`, `Content-Security-Policy`), and the id a create might take
//! from its body into the API's `Location`.

use reqwest::Client;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::api::{self, Workbench};
use crate::checks::Check;
use crate::flows::{self, authorize_url};
use crate::probe::Answer;
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const CRLF: Check = Check {
    id: "injection.header_crlf",
    title: "No value that reaches a response header can add a header",
    severity: Severity::High,
    remediation: "Build header values from parsed, re-serialised values (a URL library percent-encodes CR and LF in a Location), refuse control characters in return_to, state and redirect URIs, and never decode a value twice.",
};

/// The header the payloads try to add, and the cookie they try to set.
const HEADER: &str = "x-scan-injected";
const COOKIE: &str = "scaninjected";

/// CR/LF payloads that end in a header (or a cookie) carrying `marker`.
pub fn payloads(marker: &str) -> Vec<String> {
    vec![
        format!("\r\nX-Scan-Injected: {marker}"),
        format!("%0d%0aX-Scan-Injected:%20{marker}"),
        format!("\nX-Scan-Injected: {marker}"),
        format!("\u{560d}\u{560a}X-Scan-Injected: {marker}"),
        format!("\r\nSet-Cookie: {COOKIE}={marker}"),
    ]
}

/// What a payload added to `headers`, if anything.
pub fn injected(headers: &HeaderMap, marker: &str) -> Option<String> {
    if let Some(value) = headers.get(HEADER) {
        return Some(format!(
            "the header X-Scan-Injected: {} was added",
            value.to_str().unwrap_or("?")
        ));
    }
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|cookie| cookie.trim_start().starts_with(COOKIE) || cookie.contains(marker))
        .map(|cookie| format!("a cookie was set: {cookie}"))
}

fn judge(answer: &Answer, marker: &str, what: &str) -> Option<(String, Evidence)> {
    injected(&answer.headers, marker)
        .map(|found| (format!("{what}: {found}"), answer.evidence.clone()))
}

/// Signs in on a fresh browser with `return_to`; the answer to the sign-in.
async fn sign_in_returning(scan: &Scan, browser: &Client, return_to: &str) -> Option<Answer> {
    let account = scan.options.account.as_ref()?;
    flows::sign_in_to(
        scan,
        browser,
        &account.username,
        &account.password,
        return_to,
    )
    .await
    .ok()
    .map(|(_, answer)| answer)
}

pub async fn run(scan: &Scan, bench: Option<&Workbench<'_>>) -> CheckResult {
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    let marker = crate::accounts::random_name("crlf");
    let all = payloads(&marker);

    for payload in &all {
        // return_to, into the Location after sign-in and into the sign-in page.
        let return_to = format!("/account{payload}");
        if let Some(answer) = sign_in_returning(scan, &scan.browser(), &return_to).await {
            failures.extend(judge(&answer, &marker, "return_to at sign-in"));
        }
        let page = format!(
            "{}?return_to={}",
            scan.issuer_url("/login"),
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        );
        if let Ok(answer) = scan
            .get(&scan.plain, &page, "return_to on the sign-in page")
            .await
        {
            failures.extend(judge(&answer, &marker, "return_to on the sign-in page"));
        }

        if let Some(client) = &scan.options.client {
            let p = flows::pkce();
            let state = format!("st{payload}");
            // An error redirect (unknown scope), which carries state back at once.
            let url = authorize_url(
                scan,
                &client.id,
                &client.redirect_uri,
                "scan-no-such-scope",
                Some(&p.challenge),
                &state,
            );
            if let Ok(answer) = scan
                .get(&scan.plain, &url, "state in an error redirect")
                .await
            {
                failures.extend(judge(&answer, &marker, "state in an error redirect"));
            }
            // Signed out: the redirect to the sign-in page carries the request.
            let url = authorize_url(
                scan,
                &client.id,
                &client.redirect_uri,
                "tasks:read",
                Some(&p.challenge),
                &state,
            );
            if let Ok(answer) = scan.get(&scan.plain, &url, "state, signed out").await {
                failures.extend(judge(&answer, &marker, "state in the redirect to sign-in"));
            }
            // A redirect URI and a client id with the payload.
            let bent = format!("{}{payload}", client.redirect_uri);
            let url = authorize_url(
                scan,
                &client.id,
                &bent,
                "tasks:read",
                Some(&p.challenge),
                "st",
            );
            if let Ok(answer) = scan.get(&scan.plain, &url, "redirect_uri with CR/LF").await {
                failures.extend(judge(&answer, &marker, "redirect_uri"));
            }
            let url = authorize_url(
                scan,
                &format!("{}{payload}", client.id),
                &client.redirect_uri,
                "tasks:read",
                Some(&p.challenge),
                "st",
            );
            if let Ok(answer) = scan.get(&scan.plain, &url, "client_id with CR/LF").await {
                failures.extend(judge(&answer, &marker, "client_id"));
            }
            // Signed in: the code comes back with state.
            if let Some(browser) =
                flows::signed_in_browser(scan, scan.options.account.as_ref()).await
            {
                let url = authorize_url(
                    scan,
                    &client.id,
                    &client.redirect_uri,
                    "tasks:read",
                    Some(&p.challenge),
                    &state,
                );
                if let Ok(answer) = flows::authorize(scan, &browser, &url).await {
                    if let Some(code) = answer
                        .location()
                        .and_then(|l| flows::query_param(l, "code"))
                    {
                        scan.redactor.add(&code);
                    }
                    failures.extend(judge(&answer, &marker, "state in the redirect with a code"));
                }
            }
        }

        // The API's Location after a create, were the id taken from the body.
        if let Some(bench) = bench {
            for create in bench
                .operations
                .iter()
                .filter(|o| o.method == reqwest::Method::POST && o.body.is_some())
            {
                let Some(Value::Object(mut body)) = Workbench::body(create) else {
                    continue;
                };
                body.insert("id".into(), Value::String(format!("scan{payload}")));
                if let Ok(answer) = api::call(
                    scan,
                    &create.method,
                    &create.path,
                    Some(&bench.owner),
                    Some(&Value::Object(body)),
                    "an id with CR/LF",
                )
                .await
                {
                    if answer.status.is_success()
                        && let (Some(id), Some(item)) = (
                            api::created_id(&answer),
                            bench
                                .operations
                                .iter()
                                .find(|o| o.collection_path() == Some(create.path.as_str())),
                        )
                    {
                        bench.adopt(api::Resource {
                            path: item.path_with(&id),
                            id,
                        });
                    }
                    failures.extend(judge(
                        &answer,
                        &marker,
                        &format!("{} id", create.describe()),
                    ));
                }
            }
        }
    }
    CRLF.judge(failures)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn an_added_header_or_cookie_is_a_finding_and_an_encoded_location_is_not() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "location",
            HeaderValue::from_static(
                "https://app.example.com/cb?state=st%0D%0AX-Scan-Injected%3A%20crlf1",
            ),
        );
        assert_eq!(injected(&headers, "crlf1"), None);
        headers.insert(HEADER, HeaderValue::from_static("crlf1"));
        assert!(
            injected(&headers, "crlf1")
                .unwrap()
                .contains("X-Scan-Injected")
        );
        let mut cookies = HeaderMap::new();
        cookies.append(
            "set-cookie",
            HeaderValue::from_static("session=abc; HttpOnly"),
        );
        assert_eq!(injected(&cookies, "crlf1"), None);
        cookies.append("set-cookie", HeaderValue::from_static("scaninjected=crlf1"));
        assert!(injected(&cookies, "crlf1").unwrap().contains("cookie"));
    }
}
