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

/// OAuth's secret-bearing fields. Their values are masked in evidence even before the scan
/// has learnt them: a token response, or a redirect carrying a code or a token, is
/// evidence the moment it arrives.
const SECRET_FIELDS: [&str; 5] = [
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "client_secret",
];

/// `text` with the value of every `name=value` (URLs, forms) and `"name": "value"` (JSON)
/// of a [`SECRET_FIELDS`] name replaced by `***`; a value cut short by the excerpt is
/// masked to its end.
fn mask_secret_fields(text: &str) -> String {
    let mut out = text.to_owned();
    for name in SECRET_FIELDS {
        out = mask_after(&out, &format!("{name}="), |c| {
            matches!(c, '&' | '#' | ';' | '"' | '\'') || c.is_whitespace()
        });
        out = mask_after(&out, &format!("\"{name}\":\""), |c| c == '"');
        out = mask_after(&out, &format!("\"{name}\": \""), |c| c == '"');
    }
    out
}

/// Replaces what follows each `marker`, up to a character `ends` accepts, with `***`.
fn mask_after(text: &str, marker: &str, ends: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let start = at + marker.len();
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(&ends).unwrap_or(rest.len());
        if end > 0 && &rest[..end] != "***" {
            out.push_str("***");
        } else {
            out.push_str(&rest[..end]);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
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
        request: mask_secret_fields(&redactor.redact(&described)),
        response: mask_secret_fields(
            &redactor.redact(&format!("{head}{}", shown.replace('\n', " "))),
        ),
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
    fn oauth_secret_fields_are_masked_before_the_scan_knows_them() {
        assert_eq!(
            super::mask_secret_fields(
                "303 location: https://app/cb?code=ac_123&state=st; {\"access_token\":\"eyJ.a.b\",\"token_type\":\"Bearer\",\"refresh_token\": \"rt_cut-short…"
            ),
            "303 location: https://app/cb?code=***&state=st; {\"access_token\":\"***\",\"token_type\":\"Bearer\",\"refresh_token\": \"***"
        );
        assert_eq!(
            super::mask_secret_fields("https://app/cb#access_token=eyJ.x&token_type=Bearer"),
            "https://app/cb#access_token=***&token_type=Bearer"
        );
        assert_eq!(
            super::mask_secret_fields("response_type=code&code_challenge=abc"),
            "response_type=code&code_challenge=abc"
        );
    }

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
