//! Sending one request and keeping what a report needs of it: the status, headers and body
//! for the check to judge, and an excerpt of both sides as evidence, with every secret the
//! scan knows (client secrets, passwords, tokens, codes) replaced by `***`.

use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};

use crate::report::Evidence;

/// The longest body excerpt kept as evidence.
const EXCERPT: usize = 300;

/// Secrets to keep out of the report. Cheap to clone; shared by every check.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<Mutex<Vec<String>>>,
}

impl Redactor {
    /// From now on, `secret` is shown as `***` (values shorter than 6 characters are
    /// ignored: they would mask ordinary words).
    pub fn add(&self, secret: &str) {
        if secret.len() < 6 {
            return;
        }
        if let Ok(mut secrets) = self.secrets.lock()
            && !secrets.iter().any(|s| s == secret)
        {
            secrets.push(secret.to_owned());
            // Longest first, so a secret that contains another is masked whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if let Ok(secrets) = self.secrets.lock() {
            for secret in secrets.iter() {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub evidence: Evidence,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// Why a request could not be made at all.
#[derive(Debug, thiserror::Error)]
#[error("{request}: {message}")]
pub struct Unreachable {
    pub request: String,
    pub message: String,
}

/// Sends `request` (described as `method url` plus `note` for the evidence) and reads the
/// answer.
pub async fn send(
    redactor: &Redactor,
    method: &Method,
    url: &str,
    note: &str,
    request: RequestBuilder,
) -> Result<Answer, Unreachable> {
    let described = if note.is_empty() {
        format!("{method} {url}")
    } else {
        format!("{method} {url} ({note})")
    };
    let response = request.send().await.map_err(|e| Unreachable {
        request: redactor.redact(&described),
        message: e.to_string(),
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    let mut shown: String = body.chars().take(EXCERPT).collect();
    if body.chars().count() > EXCERPT {
        shown.push('…');
    }
    let mut head = format!("{} ", status.as_u16());
    for name in ["location", "content-type", "www-authenticate"] {
        if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
            head.push_str(&format!("{name}: {value}; "));
        }
    }
    let evidence = Evidence {
        request: redactor.redact(&described),
        response: redactor.redact(&format!("{head}{}", shown.replace('\n', " "))),
    };
    Ok(Answer {
        status,
        headers,
        body,
        evidence,
    })
}

#[cfg(test)]
mod tests {
    use super::Redactor;

    #[test]
    fn known_secrets_are_masked_whole_and_short_words_are_not() {
        let redactor = Redactor::default();
        redactor.add("cs_secret");
        redactor.add("cs_secret_longer");
        redactor.add("abc");
        assert_eq!(
            redactor.redact("a=cs_secret_longer b=cs_secret c=abc"),
            "a=*** b=*** c=abc"
        );
    }
}
