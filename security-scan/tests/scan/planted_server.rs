//! Every check fails against the planted server, each with the finding its weakness
//! causes; the report renders in every format and gives away none of the secrets.

use security_scan::checks::GROUPS;
use security_scan::report::{Format, Outcome};
use serde_json::Value;

use crate::described;
use crate::planted::{self, WEAKNESSES};

#[actix_web::test]
async fn planted_server_fails_every_check() {
    let planted = planted::start();
    let report = security_scan::run(planted.options())
        .await
        .expect("the planted server can be scanned");
    let text = report.render(Format::Text);
    println!("{text}");

    for group in GROUPS {
        assert!(
            report.results.iter().any(|r| r.group == group),
            "no result for the group {group}"
        );
    }
    let not_failed: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.failed())
        .map(described)
        .collect();
    assert!(
        not_failed.is_empty(),
        "checks that did not fail against the planted server:\n{}",
        not_failed.join("\n")
    );

    // Each failed for its own weakness, and no check is without one.
    let mut wrong = Vec::new();
    for result in &report.results {
        let Some((_, fragments)) = WEAKNESSES.iter().find(|(id, _)| *id == result.id) else {
            wrong.push(format!("{}: no weakness is planted for it", result.id));
            continue;
        };
        let Outcome::Fail { detail } = &result.outcome else {
            continue;
        };
        for fragment in *fragments {
            if !detail.contains(fragment) {
                wrong.push(format!("{}: `{fragment}` not in: {detail}", result.id));
            }
        }
    }
    for (id, _) in WEAKNESSES {
        if !report.results.iter().any(|r| r.id == *id) {
            wrong.push(format!("{id}: planted, but the scan has no such check"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Every format renders, the JSON ones parse, and no secret the servers handed out or
    // were given (passwords, the client secret, session ids, codes, tokens) is in any.
    let secrets = planted.state.secrets();
    assert!(secrets.len() > 10, "the scan obtained codes and tokens");
    for format in [Format::Text, Format::Json, Format::Markdown, Format::Sarif] {
        let rendered = report.render(format);
        assert!(
            rendered.contains("authentication.alg_none"),
            "{format:?} names the checks"
        );
        if matches!(format, Format::Json | Format::Sarif) {
            let parsed: Value = serde_json::from_str(&rendered).expect("valid JSON");
            assert!(parsed.is_object());
        }
        let leaked = leaked_secrets(&rendered, &secrets);
        assert!(
            leaked.is_empty(),
            "the {format:?} report shows secrets, whole or in part: {leaked:?}\n{rendered}"
        );
    }
    let json: Value = serde_json::from_str(&report.render(Format::Json)).unwrap();
    assert_eq!(
        json["results"].as_array().unwrap().len(),
        report.results.len()
    );
    let sarif: Value = serde_json::from_str(&report.render(Format::Sarif)).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        report.results.len(),
        "one SARIF result per finding"
    );
    assert_eq!(report.score(), 0);
}

/// The pieces of `secrets` a report shows: every run of 20 or more characters of the
/// kinds secrets are made of that is part of a secret (a token's header excepted: it is
/// the same for every token and public). Catches excerpts cut short, too.
fn leaked_secrets(report: &str, secrets: &[String]) -> Vec<String> {
    let secret_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let private_parts: Vec<&str> = secrets
        .iter()
        .map(|s| match s.split_once('.') {
            Some((_jwt_header, rest)) if s.starts_with("eyJ") => rest,
            _ => s.as_str(),
        })
        .collect();
    report
        .split(|c: char| !secret_char(c))
        .flat_map(|run| run.split('.'))
        .filter(|piece| piece.len() >= 20)
        .filter(|piece| private_parts.iter().any(|secret| secret.contains(piece)))
        .map(|piece| format!("{}…", piece.get(..12).unwrap_or(piece)))
        .collect()
}
