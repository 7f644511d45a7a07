//! Path traversal: `../` sequences — plain, percent-encoded, double-encoded, backslashed,
//! overlong UTF-8, and the `....//` that survives a naive strip — in every path parameter
//! of the OpenAPI document and under every static route the pages load files from. Plain
//! ones go over a raw connection (an HTTP client removes `..` segments before sending,
//! WHATWG URL §4.4). A finding is a file's content in the answer: `/etc/passwd`, the
//! server's `Cargo.toml`, its environment.

use reqwest::Method;
use scraper::{Html, Selector};
use url::Url;

use crate::api::{self, Workbench};
use crate::checks::Check;
use crate::openapi::{self, Operation};
use crate::probe::{self, Answer};
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::Scan;

const TRAVERSAL: Check = Check {
    id: "injection.path_traversal",
    title: "No path parameter or static route serves a file outside its directory",
    severity: Severity::Critical,
    remediation: "Serve static files from an allowlist of names (or embed them), and treat path parameters as opaque ids looked up in the database; if a path must map to a file, canonicalise it and require it to stay under the root.",
};

/// What the content of a file outside the web root looks like.
const FILE_SIGNATURES: [&str; 6] = [
    "root:x:0:0:",
    "root:*:0:0:",
    "[boot loader]",
    "; for 16-bit app support",
    "[workspace]\nmembers",
    "DATABASE_URL=",
];

/// The file content in `body` that `baseline` does not have.
pub fn leaked_file(body: &str, baseline: &str) -> Option<&'static str> {
    if let Some(signature) = FILE_SIGNATURES
        .iter()
        .copied()
        .find(|s| body.contains(s) && !baseline.contains(s))
    {
        return Some(signature);
    }
    // A Cargo manifest: a [package] table with its name.
    (body.contains("[package]") && body.contains("name = ") && !baseline.contains("[package]"))
        .then_some("[package]")
}

/// Ways to climb `depth` directories and name `file` (`etc/passwd`), as request-target
/// text: `raw` ones must be sent on a raw connection.
pub fn climbs(depth: usize, file: &str) -> Vec<(String, bool)> {
    let encoded_file = file.replace('/', "%2f");
    vec![
        ("../".repeat(depth) + file, true),
        ("..\\".repeat(depth) + &file.replace('/', "\\"), true),
        ("..%2f".repeat(depth) + &encoded_file, false),
        ("%2e%2e%2f".repeat(depth) + &encoded_file, false),
        ("..%252f".repeat(depth) + &file.replace('/', "%252f"), false),
        ("..%5c".repeat(depth) + &file.replace('/', "%5c"), false),
        ("%c0%ae%c0%ae%c0%af".repeat(depth) + &encoded_file, false),
        ("....//".repeat(depth) + file, false),
        ("%2f".to_owned() + &encoded_file, false),
    ]
}

/// The directories the pages load static files from (`/static/`), same-origin only.
pub fn static_directories(html: &str, page: &Url) -> Vec<String> {
    let document = Html::parse_document(html);
    let Ok(selector) = Selector::parse("link[href], script[src], img[src]") else {
        return Vec::new();
    };
    let mut out: Vec<String> = document
        .select(&selector)
        .filter_map(|e| e.value().attr("href").or_else(|| e.value().attr("src")))
        .filter_map(|reference| page.join(reference).ok())
        .filter(|url| url.origin() == page.origin())
        .filter_map(|url| {
            let path = url.path();
            path.rfind('/').map(|slash| path[..=slash].to_owned())
        })
        .filter(|directory| directory != "/")
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The evidence of a leak: the request and the status, with the signature found but none
/// of the file (it may hold the target's secrets: its environment, its configuration).
fn without_the_file(answer: &Answer, signature: &str) -> Evidence {
    Evidence {
        request: answer.evidence.request.clone(),
        response: format!(
            "{} (the body holds `{}`; the file is not copied into the report)",
            answer.status.as_u16(),
            signature.replace('\n', " ")
        ),
    }
}

/// Sends `target` (a path with the payload in it) to `base`, raw or through the client.
async fn fetch(
    scan: &Scan,
    base: &Url,
    target: &str,
    raw: bool,
    bearer: Option<&str>,
) -> Option<Answer> {
    if raw {
        if base.scheme() != "http" {
            return None;
        }
        return probe::send_raw(&scan.redactor, base, target, bearer, "path traversal")
            .await
            .ok();
    }
    let url = format!("{}{target}", base.origin().ascii_serialization());
    probe::send(
        &scan.redactor,
        &Method::GET,
        &url,
        "path traversal",
        scan.plain.get(&url),
    )
    .await
    .ok()
}

pub async fn run(scan: &Scan, bench: Option<&Workbench<'_>>) -> CheckResult {
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    let mut tried = 0;

    // Static routes of the authorization server's pages.
    let login = scan.issuer_url("/login");
    if let (Ok(page), Ok(page_url)) = (
        scan.get(&scan.plain, &login, "sign-in page").await,
        Url::parse(&login),
    ) {
        for directory in static_directories(&page.body, &page_url) {
            let baseline = scan
                .get(
                    &scan.plain,
                    &scan.issuer_url(&format!("{directory}no-such-file")),
                    "baseline",
                )
                .await
                .map(|a| a.body)
                .unwrap_or_default();
            for depth in [1, 2, 8] {
                for file in ["etc/passwd", "Cargo.toml", "proc/self/environ"] {
                    for (climb, raw) in climbs(depth, file) {
                        tried += 1;
                        let target = format!("{directory}{climb}");
                        if let Some(answer) = fetch(scan, &page_url, &target, raw, None).await
                            && let Some(signature) = leaked_file(&answer.body, &baseline)
                        {
                            failures.push((
                                format!("{target} served `{signature}`"),
                                without_the_file(&answer, signature),
                            ));
                        }
                    }
                }
            }
        }
    }

    // Path parameters of the API's reads.
    if let Some(bench) = bench {
        let reads: Vec<&Operation> = bench
            .operations
            .iter()
            .filter(|o| o.method == Method::GET && o.takes_resource_id())
            .collect();
        let base = scan.options.api.clone();
        for operation in reads {
            let baseline = api::call(
                scan,
                &Method::GET,
                &operation.path_with("no-such-id"),
                Some(&bench.owner),
                None,
                "baseline",
            )
            .await
            .map(|a| a.body)
            .unwrap_or_default();
            for file in ["etc/passwd", "Cargo.toml"] {
                for depth in [2, 8] {
                    for (climb, raw) in climbs(depth, file) {
                        tried += 1;
                        // The API's path with the parameter replaced verbatim (`{id}` → climb).
                        let path = openapi::fill_path(&operation.path, &climb);
                        let target = format!("{}{}", base.path().trim_end_matches('/'), path);
                        let answer = if raw {
                            fetch(scan, &base, &target, true, Some(&bench.owner)).await
                        } else {
                            api::call(
                                scan,
                                &Method::GET,
                                &path,
                                Some(&bench.owner),
                                None,
                                "path traversal",
                            )
                            .await
                            .ok()
                        };
                        if let Some(answer) = answer
                            && let Some(signature) = leaked_file(&answer.body, &baseline)
                        {
                            failures.push((
                                format!(
                                    "{} with `{climb}` served `{signature}`",
                                    operation.describe()
                                ),
                                without_the_file(&answer, signature),
                            ));
                        }
                    }
                }
            }
        }
    }
    if tried == 0 {
        return TRAVERSAL
            .skip("no static route on the pages and no path parameter in the OpenAPI document");
    }
    TRAVERSAL.judge(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaked_file_is_content_the_normal_answer_lacks() {
        assert_eq!(
            leaked_file("root:x:0:0:root:/root:/bin/bash\n", "Not Found"),
            Some("root:x:0:0:")
        );
        assert_eq!(
            leaked_file("[package]\nname = \"auth-server\"", ""),
            Some("[package]")
        );
        assert_eq!(leaked_file("{\"title\":\"Not Found\"}", ""), None);
        assert_eq!(leaked_file("DATABASE_URL=x", "DATABASE_URL=x"), None);
    }

    #[test]
    fn climbs_keep_their_dots_when_they_must_go_raw() {
        let all = climbs(2, "etc/passwd");
        assert!(all.contains(&("../../etc/passwd".to_owned(), true)));
        assert!(all.contains(&("..%2f..%2fetc%2fpasswd".to_owned(), false)));
        // What goes through the HTTP client must survive its URL parser unchanged.
        let base = Url::parse("http://as.test/static/").unwrap();
        for (climb, raw) in &all {
            if !raw {
                let sent = base.join(climb).unwrap();
                assert!(sent.path().starts_with("/static/"), "{climb} became {sent}");
            }
        }
    }

    #[test]
    fn static_directories_come_from_the_page() {
        let page = Url::parse("http://as.test/login").unwrap();
        let html = r#"<link rel="stylesheet" href="/static/style.css"><script src="https://cdn.test/x.js"></script><img src="/favicon.ico">"#;
        assert_eq!(static_directories(html, &page), ["/static/"]);
    }
}
