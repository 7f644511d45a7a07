//! Sending one request and keeping what a report needs of it: the status, headers and body
//! for the check to judge, and an excerpt of both sides as evidence, with every secret the
//! scan knows (client secrets, passwords, tokens, codes) replaced by `***`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use url::Url;

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

/// The evidence of an answer: the request described, the status, a few headers and the
/// start of the body, redacted.
fn evidence_of(
    redactor: &Redactor,
    described: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
) -> Evidence {
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
    Evidence {
        request: mask_secret_fields(&redactor.redact(described)),
        response: mask_secret_fields(
            &redactor.redact(&format!("{head}{}", shown.replace('\n', " "))),
        ),
    }
}

fn describe(method: &Method, url: &str, note: &str) -> String {
    if note.is_empty() {
        format!("{method} {url}")
    } else {
        format!("{method} {url} ({note})")
    }
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
    let described = describe(method, url, note);
    let response = request.send().await.map_err(|e| Unreachable {
        request: mask_secret_fields(&redactor.redact(&described)),
        message: e.to_string(),
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    let evidence = evidence_of(redactor, &described, status, &headers, &body);
    Ok(Answer {
        status,
        headers,
        body,
        evidence,
    })
}

/// Sends `GET target` over a raw HTTP/1.1 connection to `base`'s host, `target` exactly as
/// given: an HTTP client would normalise `/static/../x` first (WHATWG URL §4.4, path
/// state), and the server must be tried with what an attacker's raw socket sends. Plain
/// http only; `bearer`, if given, goes in `Authorization`.
pub async fn send_raw(
    redactor: &Redactor,
    base: &Url,
    target: &str,
    bearer: Option<&str>,
    note: &str,
) -> Result<Answer, Unreachable> {
    let origin = base.origin().ascii_serialization();
    let described = describe(&Method::GET, &format!("{origin}{target}"), note);
    let unreachable = |message: String| Unreachable {
        request: mask_secret_fields(&redactor.redact(&described)),
        message,
    };
    let (Some(host), Some(port)) = (base.host_str(), base.port_or_known_default()) else {
        return Err(unreachable("the URL has no host".into()));
    };
    if base.scheme() != "http" {
        return Err(unreachable("raw requests go over plain http only".into()));
    }
    let authority = match base.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let exchange = async {
        let mut stream = TcpStream::connect((host, port)).await?;
        let authorization = bearer
            .filter(|t| !t.contains(['\r', '\n']))
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: security-scan/{}\r\nAccept: */*\r\n{authorization}Connection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .map_err(|_| unreachable("timed out".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
    let (status, headers, body) =
        parse_response(&raw).ok_or_else(|| unreachable("the answer is not HTTP/1.1".into()))?;
    let evidence = evidence_of(redactor, &described, status, &headers, &body);
    Ok(Answer {
        status,
        headers,
        body,
        evidence,
    })
}

/// An HTTP/1.1 response read whole (RFC 9112 §2): status, headers, and the body, with a
/// chunked transfer coding removed (§7.1).
fn parse_response(raw: &[u8]) -> Option<(StatusCode, HeaderMap, String)> {
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut slots);
    let httparse::Status::Complete(offset) = response.parse(raw).ok()? else {
        return None;
    };
    let status = StatusCode::from_u16(response.code?).ok()?;
    let mut headers = HeaderMap::new();
    for header in response.headers.iter() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(header.name.as_bytes()),
            HeaderValue::from_bytes(header.value),
        ) {
            headers.append(name, value);
        }
    }
    let rest = raw.get(offset..).unwrap_or_default();
    let chunked = headers
        .get("transfer-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Some((status, headers, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|line| line.split(';').next())
            .and_then(|size| usize::from_str_radix(size.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else {
            break;
        };
        let start = line_end + 2;
        let end = start.saturating_add(size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = data.get(end + 2..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Redactor, parse_response};

    #[test]
    fn raw_answers_are_read_with_their_chunks_joined() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nroot:\r\n6\r\nx:0:0:\r\n0\r\n\r\n";
        let (status, headers, body) = parse_response(raw).unwrap();
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "text/plain");
        assert_eq!(body, "root:x:0:0:");
        let plain = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop";
        assert_eq!(parse_response(plain).unwrap().2, "nop");
        assert!(parse_response(b"garbage").is_none());
    }

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
