//! Redirect URIs (RFC 9700 §4.1, §4.11; RFC 8252 §7.3): every manipulation of a registered
//! URI that has fooled servers — another host, prefix, suffix, subdomain, port, fragment,
//! user-info, encoded characters, backslashes, IPv6 — sent to `/authorize`, and each
//! redirect judged by how a WHATWG parser (a browser) reads its `Location`. Also open
//! redirects through `/authorize` and `return_to`, and CSP directives smuggled in through
//! a redirect URI.

use reqwest::Client;
use url::{Host, Url};

use super::Check;
use crate::flows::{self, authorize_url, hidden_field};
use crate::probe::Answer;
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const HTTPS: Check = Check {
    id: "redirect_uri.https",
    title: "An https client's redirect URI cannot be bent to another host, port or path",
    severity: Severity::Critical,
    remediation: "Parse the requested redirect_uri with a WHATWG URL parser, require it to serialise back to the exact string sent, refuse user-info and fragments, and compare scheme, host, port, path and query with a registered URI (RFC 9700 §4.1.3). Never redirect to a URI that failed this.",
};
const LOOPBACK: Check = Check {
    id: "redirect_uri.loopback",
    title: "A loopback client's redirect URI may differ in its port only",
    severity: Severity::Critical,
    remediation: "For a registered http://127.0.0.1 or http://[::1] URI, accept only a port of 1–65535 in plain decimal as the difference, after parsing as a browser does (RFC 8252 §7.3); `http://127.0.0.1:@evil.example/` has the host evil.example.",
};
const UNKNOWN_CLIENT: Check = Check {
    id: "redirect_uri.unknown_client",
    title: "An unknown client_id or unregistered redirect_uri is never redirected to",
    severity: Severity::High,
    remediation: "Show an error page of your own when the client or its redirect URI cannot be verified (RFC 6749 §4.1.2.1, RFC 9700 §4.11): never redirect to it.",
};
const RETURN_TO: Check = Check {
    id: "redirect_uri.return_to",
    title: "The sign-in page's return_to cannot send a person to another site",
    severity: Severity::High,
    remediation: "Accept only a local path for return_to (resolve it against your own origin and require the same origin), refusing `//host`, `/\\host` and absolute URLs.",
};
const CSP_INJECTION: Check = Check {
    id: "redirect_uri.csp_injection",
    title: "No redirect URI can add a directive to a page's Content-Security-Policy",
    severity: Severity::High,
    remediation: "Build CSP sources from the parsed origin only (scheme, host, port), checked against a strict character set; never paste the requested string into a header.",
};

/// The attacker's host in every manipulation.
const EVIL: &str = "evil.example";

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    let mut results = Vec::new();
    let https_client = scan
        .options
        .client
        .as_ref()
        .map(|c| (c.id.clone(), Some(c.redirect_uri.clone())));
    let https_client =
        https_client.or_else(|| scan.options.public_client_id.clone().map(|id| (id, None)));
    results.push(match https_client {
        Some((id, registered)) => bend(scan, HTTPS, &id, registered).await,
        None => HTTPS.skip("needs --client-id and --redirect-uri, or --public-client-id"),
    });
    results.push(match &scan.options.loopback_client_id {
        Some(id) => bend(scan, LOOPBACK, id, None).await,
        None => LOOPBACK.skip("needs --loopback-client-id"),
    });
    results.push(unknown_client(scan).await);
    results.push(return_to(scan).await);
    results.push(csp_injection(scan).await);
    results
}

/// The registered URI of `client_id`: the one given, or the one the server redirects an
/// error to when the request names none (RFC 6749 §3.1.2.3).
async fn registered_uri(
    scan: &Scan,
    client_id: &str,
    given: Option<String>,
) -> Result<Url, String> {
    if let Some(given) = given {
        return Url::parse(&given).map_err(|e| format!("--redirect-uri `{given}`: {e}"));
    }
    let mut url = Url::parse(&scan.endpoint("authorization_endpoint", "/authorize"))
        .map_err(|e| e.to_string())?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("response_type", "token");
    let answer = scan
        .get(&scan.plain, url.as_str(), "registered redirect URI")
        .await
        .map_err(|e| e.to_string())?;
    let location = answer.location().ok_or(
        "the server did not reveal the registered redirect URI (more than one registered?)",
    )?;
    let mut parsed = Url::parse(location).map_err(|e| format!("{location}: {e}"))?;
    parsed.set_query(None);
    Ok(parsed)
}

/// Manipulations of `registered`, as strings a client could send.
fn variants(registered: &Url) -> Vec<String> {
    let scheme = registered.scheme();
    let host = registered.host_str().unwrap_or_default().to_owned();
    let authority = match registered.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    let path = registered.path();
    let full = registered.as_str().to_owned();
    let mut out = vec![
        format!("{scheme}://{EVIL}{path}"),
        format!("{full}.{EVIL}"),
        format!("{full}/../../{EVIL}"),
        format!("{full}/extra"),
        format!("{full}x"),
        format!("{scheme}://{host}.{EVIL}{path}"),
        format!("{scheme}://{EVIL}.{host}{path}"),
        format!("{full}#fragment"),
        format!("{scheme}://{EVIL}@{authority}{path}"),
        format!("{scheme}://{authority}@{EVIL}{path}"),
        format!("{scheme}://{host}:@{EVIL}{path}"),
        format!("{scheme}://{host}:1@{EVIL}{path}"),
        format!("{scheme}://{authority}%40{EVIL}{path}"),
        format!("{scheme}://{authority}%2F@{EVIL}{path}"),
        format!("{scheme}://{authority}\\@{EVIL}{path}"),
        format!("{scheme}://{EVIL}\\@{authority}{path}"),
        format!("{scheme}://{authority}:@{EVIL}{path}"),
        format!("{scheme}://{host}:99999{path}"),
        format!("{scheme}://{host}:+80{path}"),
        format!("{scheme}://{host}:0{path}"),
        format!("{scheme}://{host}:1;frame-ancestors {EVIL}{path}"),
        format!("{scheme}://[::1]:@{EVIL}{path}"),
        format!("{scheme}://{}{path}", host.to_ascii_uppercase()),
        format!(
            "{}{}",
            full,
            if registered.query().is_some() {
                "&x=1"
            } else {
                "?x=1"
            }
        ),
    ];
    out.sort();
    out.dedup();
    // Only manipulations: the registered URI itself (an upper-cased IP, say) is no attack.
    out.retain(|variant| variant != registered.as_str());
    if scheme == "https" {
        out.push(format!("http://{authority}{path}"));
        out.push(format!("https://{host}:8443{path}"));
    } else {
        out.push(format!("http://localhost:8000{path}"));
        out.push(format!("http://127.0.0.1.{EVIL}{path}"));
        out.push(format!("http://[::ffff:7f00:1]:8000{path}"));
        out.push(format!("https://{host}:8000{path}"));
    }
    out
}

/// Where a browser goes for this answer: the parsed absolute `Location`, if it leaves
/// the authorization server.
fn redirect_target(scan: &Scan, answer: &Answer) -> Option<Url> {
    if !answer.status.is_redirection() {
        return None;
    }
    let location = answer.location()?;
    let url = scan.options.issuer.join(location).ok()?;
    (url.origin() != scan.options.issuer.origin()).then_some(url)
}

fn is_loopback(url: &Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        }
}

/// Why a redirect to `target` betrays `registered`, if it does.
fn betrays(registered: &Url, target: &Url) -> Option<String> {
    if !target.username().is_empty() || target.password().is_some() {
        return Some(format!(
            "redirected with user-info to {}",
            target.host_str().unwrap_or("?")
        ));
    }
    if target.host() != registered.host() {
        return Some(format!(
            "redirected to the host {}",
            target.host_str().unwrap_or("?")
        ));
    }
    if target.scheme() != registered.scheme() {
        return Some(format!("redirected over {}", target.scheme()));
    }
    if target.port() != registered.port() && !is_loopback(registered) {
        return Some(format!("redirected to port {:?}", target.port()));
    }
    if target.path() != registered.path() {
        return Some(format!("redirected to the path {}", target.path()));
    }
    if target.fragment().is_some() {
        return Some("redirected with a fragment (the code lands in it)".into());
    }
    None
}

/// Sends every variant, first as a request that fails after the redirect URI is checked
/// (so an accepted URI is redirected to at once, with no code), then — when an account is
/// given — as a real request from a signed-in browser, denying any consent page.
async fn bend(scan: &Scan, check: Check, client_id: &str, given: Option<String>) -> CheckResult {
    let registered = match registered_uri(scan, client_id, given).await {
        Ok(uri) => uri,
        Err(reason) => return check.skip(reason),
    };
    let browser = flows::signed_in_browser(scan, scan.options.account.as_ref()).await;
    let mut failures = Vec::new();
    for variant in variants(&registered) {
        // Refused after the redirect URI is checked: an accepted URI is redirected to at
        // once, and no code is issued.
        let url = authorize_url(scan, client_id, &variant, "tasks:read", None, "st").replacen(
            "response_type=code",
            "response_type=token",
            1,
        );
        if let Ok(answer) = scan
            .get(&scan.plain, &url, "manipulated redirect_uri")
            .await
            && let Some(target) = redirect_target(scan, &answer)
            && let Some(why) = betrays(&registered, &target)
        {
            failures.push((format!("`{variant}`: {why}"), answer.evidence.clone()));
            continue;
        }
        if let Some(browser) = &browser
            && let Some(failure) =
                signed_in_attempt(scan, browser, client_id, &variant, &registered).await
        {
            failures.push(failure);
        }
    }
    check.judge(failures)
}

async fn signed_in_attempt(
    scan: &Scan,
    browser: &Client,
    client_id: &str,
    variant: &str,
    registered: &Url,
) -> Option<(String, Evidence)> {
    let p = flows::pkce();
    let url = authorize_url(
        scan,
        client_id,
        variant,
        "tasks:read",
        Some(&p.challenge),
        "st",
    );
    let mut answer = scan
        .get(browser, &url, "manipulated redirect_uri, signed in")
        .await
        .ok()?;
    if answer.status == 200
        && let (Some(csrf), Some(request)) = (
            hidden_field(&answer.body, "csrf_token"),
            hidden_field(&answer.body, "request"),
        )
    {
        answer = scan
            .post_form(
                browser,
                &scan.endpoint("authorization_endpoint", "/authorize"),
                &[
                    ("csrf_token", &csrf),
                    ("request", &request),
                    ("decision", "deny"),
                ],
                "consent: deny",
            )
            .await
            .ok()?;
    }
    let target = redirect_target(scan, &answer)?;
    betrays(registered, &target)
        .map(|why| (format!("`{variant}` (signed in): {why}"), answer.evidence))
}

async fn unknown_client(scan: &Scan) -> CheckResult {
    let mut failures = Vec::new();
    let client_id = flows::random_marker("no-such-client-");
    for variant in [
        format!("https://{EVIL}/cb"),
        format!("http://127.0.0.1:@{EVIL}/cb"),
    ] {
        let url = authorize_url(scan, &client_id, &variant, "tasks:read", None, "st");
        if let Ok(answer) = scan.get(&scan.plain, &url, "unknown client").await
            && let Some(target) = redirect_target(scan, &answer)
        {
            failures.push((format!("redirected to {target}"), answer.evidence));
        }
    }
    if let Some(client) = &scan.options.client {
        let url = authorize_url(
            scan,
            &client.id,
            &format!("https://{EVIL}/cb"),
            "tasks:read",
            None,
            "st",
        );
        if let Ok(answer) = scan
            .get(&scan.plain, &url, "unregistered redirect_uri")
            .await
            && let Some(target) = redirect_target(scan, &answer)
        {
            failures.push((
                format!("redirected to {target} for a registered client"),
                answer.evidence,
            ));
        }
    }
    UNKNOWN_CLIENT.judge(failures)
}

async fn return_to(scan: &Scan) -> CheckResult {
    let Some(account) = &scan.options.account else {
        return RETURN_TO.skip("needs --username and --password");
    };
    let login = scan.issuer_url("/login");
    let mut failures = Vec::new();
    for target in [
        format!("https://{EVIL}/"),
        format!("//{EVIL}/"),
        format!("/\\{EVIL}/"),
        format!("\\\\{EVIL}/"),
        format!("https:{EVIL}"),
        format!("/%2F{EVIL}"),
        format!("/\t/{EVIL}"),
    ] {
        let browser = scan.browser();
        let Ok(page) = scan.get(&browser, &login, "sign-in page").await else {
            continue;
        };
        let Some(csrf) = hidden_field(&page.body, "csrf_token") else {
            return RETURN_TO.skip("the sign-in page has no csrf_token field");
        };
        let Ok(answer) = scan
            .post_form(
                &browser,
                &login,
                &[
                    ("csrf_token", &csrf),
                    ("username", &account.username),
                    ("password", &account.password),
                    ("return_to", &target),
                ],
                "sign in with return_to",
            )
            .await
        else {
            continue;
        };
        if let Some(to) = redirect_target(scan, &answer) {
            failures.push((
                format!("return_to `{target}` sent the person to {to}"),
                answer.evidence,
            ));
        }
    }
    RETURN_TO.judge(failures)
}

/// Every `Content-Security-Policy` of `answer` names only known directives, with
/// `frame-ancestors 'none'`, and no source naming the attacker.
fn csp_is_clean(answer: &Answer) -> Result<(), String> {
    for value in answer.headers.get_all("content-security-policy") {
        let policy = value.to_str().unwrap_or_default();
        if policy.contains(EVIL) {
            return Err(format!("the CSP names {EVIL}: {policy}"));
        }
        let frame_ancestors: Vec<&str> = policy
            .split(';')
            .map(str::trim)
            .filter(|d| d.starts_with("frame-ancestors"))
            .collect();
        if frame_ancestors != ["frame-ancestors 'none'"] {
            return Err(format!("frame-ancestors is not only 'none': {policy}"));
        }
    }
    Ok(())
}

async fn csp_injection(scan: &Scan) -> CheckResult {
    let Some(client_id) = scan
        .options
        .loopback_client_id
        .clone()
        .or_else(|| scan.options.client.as_ref().map(|c| c.id.clone()))
    else {
        return CSP_INJECTION.skip("needs --loopback-client-id or --client-id");
    };
    let mut failures = Vec::new();
    let p = flows::pkce();
    for injected in [
        format!("http://127.0.0.1:1;frame-ancestors {EVIL}/callback"),
        format!("https://app.invalid;frame-ancestors {EVIL}/callback"),
        format!("http://127.0.0.1:1 {EVIL}/callback"),
    ] {
        let authorize = authorize_url(
            scan,
            &client_id,
            &injected,
            "tasks:read",
            Some(&p.challenge),
            "st",
        );
        let login = format!(
            "{}?return_to={}",
            scan.issuer_url("/login"),
            url::form_urlencoded::byte_serialize(
                authorize
                    .trim_start_matches(scan.options.issuer.as_str().trim_end_matches('/'))
                    .as_bytes()
            )
            .collect::<String>()
        );
        for url in [authorize, login] {
            if let Ok(answer) = scan.get(&scan.browser(), &url, "CSP injection").await
                && let Err(why) = csp_is_clean(&answer)
            {
                failures.push((why, answer.evidence));
            }
        }
    }
    CSP_INJECTION.judge(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_reading_of_the_location_decides() {
        let registered = Url::parse("http://127.0.0.1/callback").unwrap();
        let ok = Url::parse("http://127.0.0.1:51234/callback?code=x").unwrap();
        assert_eq!(betrays(&registered, &ok), None);
        let evil = Url::parse("http://127.0.0.1:@evil.example/callback?code=x").unwrap();
        assert!(
            betrays(&registered, &evil)
                .unwrap()
                .contains("evil.example")
        );
        let https = Url::parse("https://app.example.com/cb").unwrap();
        let port = Url::parse("https://app.example.com:8443/cb").unwrap();
        assert!(betrays(&https, &port).is_some());
        let path = Url::parse("https://app.example.com/cb/extra").unwrap();
        assert!(betrays(&https, &path).is_some());
    }

    #[test]
    fn the_variants_include_the_attack_that_was_found_once() {
        let registered = Url::parse("http://127.0.0.1/callback").unwrap();
        let all = variants(&registered);
        assert!(all.contains(&"http://127.0.0.1:@evil.example/callback".to_owned()));
        assert!(all.iter().all(|v| v != registered.as_str()));
    }
}
