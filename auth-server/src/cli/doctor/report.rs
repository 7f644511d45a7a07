//! What `doctor` prints: findings graded high, medium or low, each with its remedy, as
//! text for a person or (`--format json`) one JSON document for a program.

use serde_json::{Value, json};

/// How much a finding matters. Any `High` finding makes `doctor` exit non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Exploitable or data-losing as deployed: fix before serving traffic.
    High,
    /// Weaker than it should be, or a risk that grows with time.
    Medium,
    /// Looser than the defaults, or worth knowing.
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

/// One thing found, about one setting, key or client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// A stable name for the check (`issuer-not-https`), for scripts that allow some.
    pub check: &'static str,
    /// What it is about: a setting's name, a key's `kid`, a client's id.
    pub subject: String,
    /// What is wrong, in a sentence.
    pub finding: String,
    /// What to do about it.
    pub remedy: String,
}

impl Finding {
    pub fn new(
        severity: Severity,
        check: &'static str,
        subject: impl Into<String>,
        finding: impl Into<String>,
        remedy: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            check,
            subject: subject.into(),
            finding: finding.into(),
            remedy: remedy.into(),
        }
    }
}

/// Every finding, the most severe first.
#[derive(Debug, Default)]
pub struct Report {
    findings: Vec<Finding>,
}

impl Report {
    pub fn new(mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| {
            (a.severity, a.check, &a.subject).cmp(&(b.severity, b.check, &b.subject))
        });
        Self { findings }
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    fn summary(&self) -> String {
        format!(
            "{} high, {} medium, {} low",
            self.count(Severity::High),
            self.count(Severity::Medium),
            self.count(Severity::Low)
        )
    }

    /// The report for a terminal.
    pub fn to_text(&self) -> String {
        let mut text = format!("auth-server doctor: {}\n", self.summary());
        if self.findings.is_empty() {
            text.push_str("\nNothing found: the configuration and the database look sound.\n");
        }
        for finding in &self.findings {
            text.push_str(&format!(
                "\n{:<6}  {} ({})\n        {}\n        remedy: {}\n",
                finding.severity.as_str().to_uppercase(),
                finding.check,
                finding.subject,
                finding.finding,
                finding.remedy,
            ));
        }
        text
    }

    /// The report for a program.
    pub fn to_json(&self) -> Value {
        json!({
            "summary": {
                "high": self.count(Severity::High),
                "medium": self.count(Severity::Medium),
                "low": self.count(Severity::Low),
            },
            "findings": self.findings.iter().map(|f| json!({
                "severity": f.severity.as_str(),
                "check": f.check,
                "subject": f.subject,
                "finding": f.finding,
                "remedy": f.remedy,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_severe_come_first_and_are_counted() {
        let report = Report::new(vec![
            Finding::new(Severity::Low, "b", "x", "low one", "do b"),
            Finding::new(Severity::High, "a", "y", "high one", "do a"),
        ]);
        assert_eq!(report.findings[0].check, "a");
        assert_eq!(report.count(Severity::High), 1);
        let json = report.to_json();
        assert_eq!(json["summary"]["high"], 1);
        assert_eq!(json["findings"][1]["remedy"], "do b");
        let text = report.to_text();
        assert!(text.starts_with("auth-server doctor: 1 high, 0 medium, 1 low"));
        assert!(text.find("HIGH").unwrap() < text.find("LOW").unwrap());
    }
}
