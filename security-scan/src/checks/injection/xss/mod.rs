//! Cross-site scripting, judged by parsing each HTML answer as a browser does (HTML
//! §13.2): an element that carries the scan's attribute, or a `javascript:` URL with its
//! marker, was rendered; escaped text never is. [`reflected`]: markup in what a request
//! carries; [`stored`]: markup in what a person stores.

pub mod reflected;
pub mod stored;

use scraper::{Html, Selector};

use crate::accounts::random_name;
use crate::probe::Answer;
use crate::report::Evidence;
use crate::scan::Scan;

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
pub fn judge(scan: &Scan, answer: &Answer, marker: &str, what: &str) -> Option<(String, Evidence)> {
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
pub fn marker() -> String {
    random_name("sx")
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
}
