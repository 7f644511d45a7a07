//! Browser sessions of the authorization server (RFC 6265; OWASP Session Management):
//! the attributes of every cookie the sign-in sets, a new session id at sign-in
//! ([`lifecycle`]: fixation), a sign-out that ends the session on the server, and the
//! lockout and slow-down that follow failed sign-ins ([`lockout`]).

mod lifecycle;
mod lockout;

use cookie::{Cookie, SameSite};
use url::Url;

use super::Check;
pub use crate::flows::sign_in_answers;
use crate::probe::Answer;
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const COOKIES: Check = Check {
    id: "sessions.cookie_attributes",
    title: "Session and sign-in cookies are HttpOnly, SameSite, host-only, Secure on https, and no wider than the issuer's path",
    severity: Severity::Medium,
    remediation: "Set session and CSRF cookies with `HttpOnly; SameSite=Lax` (or Strict), `Secure` when served over https (better: the `__Host-` prefix), no `Domain` attribute, and `Path` set to the issuer's path (RFC 6265 §4.1.2, §8.5; RFC 6265bis §4.1.3).",
};

const NEEDS: &str = "needs --username and --password";

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    let mut results = vec![cookie_attributes(scan).await];
    results.extend(lifecycle::run(scan).await);
    results.extend(lockout::run(scan).await);
    results
}

/// RFC 6265 §5.1.4: the default path of a cookie set in answer to `request_path`.
pub fn default_path(request_path: &str) -> &str {
    match request_path.rfind('/') {
        Some(0) | None => "/",
        Some(last) => &request_path[..last],
    }
}

/// The issuer's path as a cookie path: `/` for `https://as.example/`, `/auth` for
/// `https://example.com/auth/`.
fn issuer_path(issuer: &Url) -> &str {
    let path = issuer.path().trim_end_matches('/');
    if path.is_empty() { "/" } else { path }
}

/// What is wrong with the cookie of one `Set-Cookie` value, sent in answer to a request
/// for `request_path` on `issuer`. A removal (empty value) is not judged.
pub fn cookie_problems(set_cookie: &str, issuer: &Url, request_path: &str) -> Vec<String> {
    let Ok(cookie) = Cookie::parse(set_cookie) else {
        return vec![format!("`{set_cookie}` is not a cookie")];
    };
    if cookie.value().is_empty() {
        return Vec::new();
    }
    let name = cookie.name();
    let mut problems = Vec::new();
    if cookie.http_only() != Some(true) {
        problems.push(format!("{name} has no HttpOnly: scripts can read it"));
    }
    if issuer.scheme() == "https" && cookie.secure() != Some(true) {
        problems.push(format!("{name} has no Secure, though the issuer is https"));
    }
    match cookie.same_site() {
        Some(SameSite::Lax | SameSite::Strict) => {}
        Some(SameSite::None) => problems.push(format!(
            "{name} is SameSite=None: sent on cross-site requests"
        )),
        None => problems.push(format!("{name} has no SameSite")),
    }
    if let Some(domain) = cookie.domain() {
        problems.push(format!(
            "{name} has Domain={domain}: every subdomain receives it"
        ));
    }
    let path = cookie.path().unwrap_or_else(|| default_path(request_path));
    let base = issuer_path(issuer);
    let (path_dir, base_dir) = (path.trim_end_matches('/'), base.trim_end_matches('/'));
    // Wider: an ancestor of the issuer's path, not the path itself. The `__Host-` prefix
    // demands `Path=/` (RFC 6265bis §4.1.3.2) and pins the cookie to the host, so it is
    // not held against such a cookie.
    let host_prefixed = name.starts_with("__Host-") && path == "/";
    let wider = !host_prefixed
        && path_dir != base_dir
        && (path_dir.is_empty() || base_dir.starts_with(&format!("{path_dir}/")));
    if wider {
        problems.push(format!(
            "{name} has Path={path}: wider than the issuer's {base}, other applications on the host receive it"
        ));
    }
    problems
}

/// The `Set-Cookie` values of an answer.
pub fn set_cookies(answer: &Answer) -> Vec<String> {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// The cookies (name, value) of an answer's `Set-Cookie` headers, removals left out.
pub fn cookies_set(answer: &Answer) -> Vec<(String, String)> {
    set_cookies(answer)
        .iter()
        .filter_map(|v| Cookie::parse(v.as_str()).ok())
        .filter(|c| !c.value().is_empty())
        .map(|c| (c.name().to_owned(), c.value().to_owned()))
        .collect()
}

async fn cookie_attributes(scan: &Scan) -> CheckResult {
    let Some(account) = &scan.options.account else {
        return COOKIES.skip(NEEDS);
    };
    let (page, answer) =
        match sign_in_answers(scan, &scan.browser(), &account.username, &account.password).await {
            Ok(answers) => answers,
            Err(why) => return COOKIES.skip(why),
        };
    if cookies_set(&answer).is_empty() {
        return COOKIES.skip("the sign-in set no cookie");
    }
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    for (shown, request_path) in [(&page, "/login"), (&answer, "/login")] {
        for value in set_cookies(shown) {
            for problem in cookie_problems(&value, &scan.options.issuer, request_path) {
                failures.push((problem, shown.evidence.clone()));
            }
        }
    }
    COOKIES.judge(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(value: &str, issuer: &str) -> Vec<String> {
        cookie_problems(value, &Url::parse(issuer).unwrap(), "/login")
    }

    #[test]
    fn a_well_made_cookie_has_no_problem() {
        assert!(
            problems(
                "session=abc; HttpOnly; SameSite=Lax; Path=/",
                "http://as.test/"
            )
            .is_empty()
        );
        assert!(
            problems(
                "__Host-session=abc; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=86400",
                "https://as.test/"
            )
            .is_empty()
        );
        assert!(
            problems("session=; HttpOnly; Max-Age=0", "https://as.test/").is_empty(),
            "removals are not judged"
        );
    }

    #[test]
    fn each_missing_or_wide_attribute_is_named() {
        let all = problems(
            "session=abc; Domain=as.test; Path=/; SameSite=None",
            "https://as.test/",
        );
        assert_eq!(all.len(), 4, "{all:?}");
        assert!(all.iter().any(|p| p.contains("HttpOnly")));
        assert!(all.iter().any(|p| p.contains("Secure")));
        assert!(all.iter().any(|p| p.contains("SameSite=None")));
        assert!(all.iter().any(|p| p.contains("Domain=as.test")));
        assert!(problems("s=a; HttpOnly; Path=/", "http://as.test/")[0].contains("no SameSite"));
        // Secure cannot be asked of a plain-http issuer.
        assert!(problems("s=a; HttpOnly; SameSite=Lax", "http://as.test/").is_empty());
    }

    #[test]
    fn the_path_must_not_be_wider_than_the_issuer() {
        let issuer = "https://example.test/auth/";
        let ok = "s=a; HttpOnly; Secure; SameSite=Lax; Path=/auth";
        assert!(problems(ok, issuer).is_empty());
        let wide = problems("s=a; HttpOnly; Secure; SameSite=Lax; Path=/", issuer);
        assert!(wide[0].contains("wider"), "{wide:?}");
        let host = "__Host-s=a; HttpOnly; Secure; SameSite=Lax; Path=/";
        assert!(
            problems(host, issuer).is_empty(),
            "the prefix requires Path=/"
        );
        assert_eq!(default_path("/auth/login"), "/auth");
        assert_eq!(default_path("/login"), "/");
    }
}
