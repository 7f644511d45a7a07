//! What a scan found: one result per check (passed, failed with a finding, or skipped with
//! the reason), each with its severity, the evidence (request and response excerpts, with
//! secrets redacted) and the remediation; a score; and the report in four formats — text
//! for a person, JSON for programs, Markdown for a ticket, SARIF 2.1.0 for code-scanning
//! dashboards.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

/// How bad a finding is. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Points a failed check of this severity takes off the score of 100.
    fn weight(self) -> u32 {
        match self {
            Self::Low => 2,
            Self::Medium => 5,
            Self::High => 15,
            Self::Critical => 40,
        }
    }

    /// SARIF's level for a result of this severity.
    fn sarif_level(self) -> &'static str {
        match self {
            Self::Low => "note",
            Self::Medium => "warning",
            Self::High | Self::Critical => "error",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            other => Err(format!("`{other}`: use low, medium, high or critical")),
        }
    }
}

/// One request the check sent and what came back, as excerpts.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub request: String,
    pub response: String,
}

/// How a check ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// The weakness is there; `detail` says what was seen.
    Fail {
        detail: String,
    },
    /// Not run: what it needs is missing (a credential, an endpoint).
    Skipped {
        reason: String,
    },
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Stable identifier, `group.name` (SARIF rule id).
    pub id: String,
    pub group: &'static str,
    pub title: String,
    pub severity: Severity,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub evidence: Vec<Evidence>,
    pub remediation: &'static str,
}

impl CheckResult {
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Fail { .. })
    }
}

/// Everything one scan found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub issuer: String,
    pub api: String,
    pub results: Vec<CheckResult>,
}

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "markdown" => Ok(Self::Markdown),
            "sarif" => Ok(Self::Sarif),
            other => Err(format!("`{other}`: use text, json, markdown or sarif")),
        }
    }
}

impl Report {
    /// 100 less the weight of every failed check, at least 0.
    pub fn score(&self) -> u32 {
        let lost: u32 = self
            .results
            .iter()
            .filter(|r| r.failed())
            .map(|r| r.severity.weight())
            .sum();
        100u32.saturating_sub(lost)
    }

    pub fn findings(&self) -> impl Iterator<Item = &CheckResult> {
        self.results.iter().filter(|r| r.failed())
    }

    /// Whether a finding at `threshold` or worse exists.
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.findings().any(|r| r.severity >= threshold)
    }

    fn counts(&self) -> (usize, usize, usize) {
        let passed = self
            .results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Pass))
            .count();
        let skipped = self
            .results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skipped { .. }))
            .count();
        (passed, self.findings().count(), skipped)
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.text(),
            Format::Json => {
                let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
                value["score"] = json!(self.score());
                serde_json::to_string_pretty(&value).unwrap_or_default()
            }
            Format::Markdown => self.markdown(),
            Format::Sarif => serde_json::to_string_pretty(&self.sarif()).unwrap_or_default(),
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let (passed, failed, skipped) = self.counts();
        let _ = writeln!(out, "security-scan of {} and {}", self.issuer, self.api);
        for result in &self.results {
            let mark = match &result.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail { .. } => "FAIL",
                Outcome::Skipped { .. } => "skip",
            };
            let _ = writeln!(
                out,
                "{mark} [{:<8}] {} — {}",
                result.severity.as_str(),
                result.id,
                result.title
            );
            match &result.outcome {
                Outcome::Fail { detail } => {
                    let _ = writeln!(out, "     found: {detail}");
                    for evidence in &result.evidence {
                        let _ = writeln!(out, "     > {}", evidence.request);
                        let _ = writeln!(out, "     < {}", evidence.response);
                    }
                    let _ = writeln!(out, "     fix: {}", result.remediation);
                }
                Outcome::Skipped { reason } => {
                    let _ = writeln!(out, "     skipped: {reason}");
                }
                Outcome::Pass => {}
            }
        }
        let _ = writeln!(
            out,
            "\n{passed} passed, {failed} failed, {skipped} skipped; score {}/100",
            self.score()
        );
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let (passed, failed, skipped) = self.counts();
        let _ = writeln!(out, "# security-scan report\n");
        let _ = writeln!(
            out,
            "Target: `{}` and `{}`. **Score {}/100** — {passed} passed, {failed} failed, {skipped} skipped.\n",
            self.issuer,
            self.api,
            self.score()
        );
        let _ = writeln!(out, "| result | severity | check |\n| --- | --- | --- |");
        for result in &self.results {
            let mark = match result.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail { .. } => "**FAIL**",
                Outcome::Skipped { .. } => "skipped",
            };
            let _ = writeln!(
                out,
                "| {mark} | {} | `{}` {} |",
                result.severity.as_str(),
                result.id,
                result.title.replace('|', "\\|")
            );
        }
        for result in self.findings() {
            let Outcome::Fail { detail } = &result.outcome else {
                continue;
            };
            let _ = writeln!(out, "\n## `{}` ({})\n", result.id, result.severity.as_str());
            let _ = writeln!(out, "{detail}\n");
            for evidence in &result.evidence {
                let _ = writeln!(
                    out,
                    "```\n> {}\n< {}\n```",
                    evidence.request, evidence.response
                );
            }
            let _ = writeln!(out, "\n**Fix:** {}", result.remediation);
        }
        out
    }

    fn sarif(&self) -> Value {
        let rules: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "name": r.id.replace('.', "_"),
                    "shortDescription": { "text": r.title },
                    "help": { "text": r.remediation },
                    "defaultConfiguration": { "level": r.severity.sarif_level() },
                    "properties": { "severity": r.severity.as_str(), "group": r.group },
                })
            })
            .collect();
        let results: Vec<Value> = self
            .findings()
            .map(|r| {
                let detail = match &r.outcome {
                    Outcome::Fail { detail } => detail.clone(),
                    _ => String::new(),
                };
                json!({
                    "ruleId": r.id,
                    "level": r.severity.sarif_level(),
                    "message": { "text": detail },
                    "locations": [{
                        "physicalLocation": { "artifactLocation": { "uri": self.issuer } }
                    }],
                    "properties": { "evidence": r.evidence },
                })
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "security-scan",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "results": results,
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(severity: Severity, outcome: Outcome) -> CheckResult {
        CheckResult {
            id: format!("test.{}", severity.as_str()),
            group: "test",
            title: "A | check".into(),
            severity,
            outcome,
            evidence: vec![Evidence {
                request: "GET /x".into(),
                response: "200".into(),
            }],
            remediation: "fix it",
        }
    }

    #[test]
    fn the_score_and_the_threshold_follow_the_failed_checks() {
        let report = Report {
            issuer: "http://as".into(),
            api: "http://api".into(),
            results: vec![
                result(
                    Severity::High,
                    Outcome::Fail {
                        detail: "seen".into(),
                    },
                ),
                result(Severity::Critical, Outcome::Pass),
                result(
                    Severity::Low,
                    Outcome::Skipped {
                        reason: "no client".into(),
                    },
                ),
            ],
        };
        assert_eq!(report.score(), 85);
        assert!(report.fails_at(Severity::Low));
        assert!(report.fails_at(Severity::High));
        assert!(!report.fails_at(Severity::Critical));
        let text = report.render(Format::Text);
        assert!(text.contains("FAIL [high    ] test.high"), "{text}");
        assert!(
            text.contains("1 passed, 1 failed, 1 skipped; score 85/100"),
            "{text}"
        );
        let json: Value = serde_json::from_str(&report.render(Format::Json)).unwrap();
        assert_eq!(json["score"], 85);
        assert_eq!(json["results"][0]["status"], "fail");
        let sarif: Value = serde_json::from_str(&report.render(Format::Sarif)).unwrap();
        assert_eq!(sarif["version"], "2.1.0");
        assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);
        assert_eq!(sarif["runs"][0]["results"][0]["level"], "error");
        assert!(report.render(Format::Markdown).contains("A \\| check"));
    }
}
