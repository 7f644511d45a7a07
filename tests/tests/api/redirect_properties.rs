//! Property (SECURITY.md 1): whatever string is sent as `redirect_uri` — a registered
//! loopback or https URI with arbitrary characters inserted, replaced or removed — when
//! the server redirects, a WHATWG parser reads the `Location` as the registered host (and,
//! for https, the registered port), with no user-info, and it is exactly the URI sent.
//! Cases come from proptest; a failing one is shrunk over HTTP before it is reported.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use url::{Host, Url};

use crate::properties::smallest_failure;
use crate::support::browser::{TestUser, location};
use crate::support::oauth_client::{ClientOptions, authorize_path, pkce};
use crate::support::servers::spawn_app;

const CASES: usize = 400;
const LOOPBACK: &str = "http://127.0.0.1/callback";
const HTTPS: &str = "https://app.example.com/callback";

/// Pieces that have fooled URI matchers: authority delimiters, encodings, other hosts.
const PIECES: &[&str] = &[
    "@",
    ":",
    ":@",
    "/",
    "//",
    "\\",
    "?",
    "#",
    "%",
    "%40",
    "%2F",
    "%2e",
    "%00",
    "[",
    "]",
    "[::1]",
    ".",
    "..",
    "/..",
    ";",
    ",",
    "*",
    "+",
    " ",
    "\t",
    "\n",
    "&",
    "=",
    "é",
    "\u{3002}",
    "0",
    "1",
    "80",
    "443",
    "65535",
    "99999",
    ":8000",
    ":1@",
    ":@evil.example",
    "@evil.example",
    "evil.example",
    ".evil.example",
    "127.0.0.1",
    "localhost",
    "xn--",
    "APP",
    "https:",
    "http:",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, String),
    Replace(Index, String),
    Remove(Index),
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(PIECES).prop_map(str::to_owned),
        1 => "[ -~]{1,3}",
        1 => "\\PC{1,2}",
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), piece()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<Index>(), piece()).prop_map(|(at, s)| Edit::Replace(at, s)),
        any::<Index>().prop_map(Edit::Remove),
    ]
}

fn apply(base: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for edit in edits {
        match edit {
            Edit::Insert(at, s) => {
                let at = at.index(chars.len() + 1);
                chars.splice(at..at, s.chars());
            }
            Edit::Replace(at, s) if !chars.is_empty() => {
                let at = at.index(chars.len());
                chars.splice(at..=at, s.chars());
            }
            Edit::Remove(at) if !chars.is_empty() => {
                chars.remove(at.index(chars.len()));
            }
            Edit::Replace(..) | Edit::Remove(_) => {}
        }
    }
    chars.into_iter().collect()
}

/// A registered URI (the loopback one sometimes with a port), then up to four edits.
fn candidate() -> impl Strategy<Value = String> {
    let base = prop_oneof![
        Just(LOOPBACK.to_owned()),
        Just(HTTPS.to_owned()),
        (1u32..70_000).prop_map(|port| format!("http://127.0.0.1:{port}/callback")),
    ];
    (base, prop::collection::vec(edit(), 0..4)).prop_map(|(base, edits)| apply(&base, &edits))
}

/// What the server did with `requested`: `Ok(true)` for a redirect that keeps the
/// property, `Ok(false)` for no redirect, `Err` with what went wrong otherwise.
async fn check(
    user: &TestUser,
    client_id: &str,
    challenge: &str,
    requested: &str,
) -> Result<bool, String> {
    let response = user
        .get(&authorize_path(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", requested),
            ("scope", "tasks:read"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]))
        .await;
    let status = response.status().as_u16();
    if status >= 500 {
        return Err(format!("status {status}"));
    }
    if !response.status().is_redirection() {
        return Ok(false);
    }
    let to = location(&response);
    let parsed = Url::parse(&to).map_err(|e| format!("Location {to:?} does not parse: {e}"))?;
    let host_ok = match parsed.scheme() {
        "http" => parsed.host() == Some(Host::Ipv4(std::net::Ipv4Addr::LOCALHOST)),
        "https" => {
            parsed.host() == Some(Host::Domain("app.example.com")) && parsed.port().is_none()
        }
        _ => false,
    };
    if !host_ok || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("redirected to {to:?}"));
    }
    if !to.starts_with(&format!("{requested}?")) || parsed.fragment().is_some() {
        return Err(format!("redirected to {to:?}, not to the URI sent"));
    }
    Ok(true)
}

#[actix_web::test]
async fn whenever_the_server_redirects_a_browser_reads_the_registered_host() {
    let app = spawn_app().await;
    // First-party and confidential: a redirect comes straight away, with no page.
    let client = app
        .register_client(ClientOptions {
            redirect_uris: vec![LOOPBACK.into(), HTTPS.into()],
            first_party: true,
            ..ClientOptions::default()
        })
        .await;
    let alice = app.signed_in_user("alice").await;
    let p = pkce();
    let mut runner = TestRunner::deterministic();
    let candidates = candidate();
    let mut redirected = 0;
    for _ in 0..CASES {
        let tree = candidates.new_tree(&mut runner).unwrap();
        match check(&alice, &client.client_id, &p.challenge, &tree.current()).await {
            Ok(true) => redirected += 1,
            Ok(false) => {}
            Err(_) => {
                let verdict = |uri: String| {
                    let (user, id, challenge) = (&alice, &client.client_id, &p.challenge);
                    async move { check(user, id, challenge, &uri).await.map(|_| ()) }
                };
                if let Some((uri, failure)) = smallest_failure(tree, verdict).await {
                    panic!("redirect_uri={uri:?}: {failure}");
                }
            }
        }
    }
    // The cases must include accepted ones, or the property says nothing.
    assert!(
        redirected >= CASES / 10,
        "only {redirected} of {CASES} redirected"
    );
}
