//! A session's life: the id changes at sign-in — whether the browser held one before,
//! an attacker planted one, or the person was already signed in (session fixation) —
//! and signing out ends it on the server, so the old cookie, replayed, opens nothing.
//! "Signed in" is judged by the account page showing the username.

use rand::Rng as _;
use scraper::{Html, Selector};
use url::Url;

use super::{NEEDS, cookies_set, sign_in_answers};
use crate::checks::Check;
use crate::probe::{self, Answer};
use crate::report::{CheckResult, Evidence, Severity};
use crate::scan::{Account, Scan};

const FIXATION: Check = Check {
    id: "sessions.fixation",
    title: "Signing in issues a new session id; one held or planted before never becomes the signed-in session",
    severity: Severity::High,
    remediation: "Start a new session with a fresh random id at every sign-in, ignore any session id the browser sends with it, and never accept an id the server did not issue.",
};
const SIGN_OUT: Check = Check {
    id: "sessions.sign_out",
    title: "Signing out ends the session on the server: the old cookie opens nothing",
    severity: Severity::High,
    remediation: "Delete the session on the server at sign-out (not only the cookie in the browser), so a copied or stolen cookie stops working at once.",
};

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    let Some(account) = &scan.options.account else {
        return vec![FIXATION.skip(NEEDS), SIGN_OUT.skip(NEEDS)];
    };
    vec![fixation(scan, account).await, sign_out(scan, account).await]
}

/// Whether `answer` is the account page of `username`.
pub fn shows_account(answer: &Answer, username: &str) -> bool {
    answer.status == 200 && answer.body.contains(username)
}

/// The account page, requested with exactly `cookies` and nothing else.
async fn replay(scan: &Scan, cookies: &[(String, String)], note: &str) -> Option<Answer> {
    let url = scan.issuer_url("/account");
    let header = cookies
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    let request = scan.plain.get(&url).header("cookie", header);
    probe::send(&scan.redactor, &reqwest::Method::GET, &url, note, request)
        .await
        .ok()
}

/// A value shaped like a real session id (43 base64url characters), chosen by the scan.
fn planted_id() -> String {
    let mut rng = rand::rng();
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..43)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn value_of<'c>(cookies: &'c [(String, String)], name: &str) -> Option<&'c str> {
    cookies
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

async fn fixation(scan: &Scan, account: &Account) -> CheckResult {
    let issuer = &scan.options.issuer;
    let browser = scan.browser();
    let (page, answer) =
        match sign_in_answers(scan, &browser, &account.username, &account.password).await {
            Ok(answers) if answers.1.status.is_redirection() => answers,
            Ok((_, refused)) => {
                return FIXATION.skip(format!("the sign-in was refused ({})", refused.status));
            }
            Err(why) => return FIXATION.skip(why),
        };
    let session = cookies_set(&answer);
    for (_, value) in &session {
        scan.redactor.add(value);
    }
    if session.is_empty() {
        return FIXATION.skip("the sign-in set no cookie");
    }
    if !replay(scan, &session, "the new session")
        .await
        .is_some_and(|a| shows_account(&a, &account.username))
    {
        return FIXATION.skip("the account page does not show who is signed in");
    }
    let mut failures: Vec<(String, Evidence)> = Vec::new();
    let held = cookies_set(&page);
    for (name, value) in &session {
        if value_of(&held, name) == Some(value.as_str()) {
            failures.push((
                format!("the sign-in kept the {name} cookie the browser held before"),
                answer.evidence.clone(),
            ));
        }
    }

    // An id the attacker chose, planted in the browser before the sign-in.
    let planted = planted_id();
    let (victim, jar) = scan.browser_with_jar();
    let secure = if issuer.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    for (name, _) in &session {
        jar.add_cookie_str(&format!("{name}={planted}; Path=/{secure}"), issuer);
    }
    if let Ok((_, signed_in)) =
        sign_in_answers(scan, &victim, &account.username, &account.password).await
    {
        let issued = cookies_set(&signed_in);
        for (name, _) in &session {
            match value_of(&issued, name) {
                Some(value) if value != planted => scan.redactor.add(value),
                Some(_) => failures.push((
                    format!("the sign-in set {name} to the planted value"),
                    signed_in.evidence.clone(),
                )),
                None => failures.push((
                    format!("the sign-in set no new {name}: the planted one stays"),
                    signed_in.evidence.clone(),
                )),
            }
        }
    }
    let planted_cookies: Vec<(String, String)> = session
        .iter()
        .map(|(name, _)| (name.clone(), planted.clone()))
        .collect();
    if let Some(answer) = replay(scan, &planted_cookies, "the planted session id").await
        && shows_account(&answer, &account.username)
    {
        failures.push((
            "the planted session id is signed in".into(),
            answer.evidence,
        ));
    }

    // Signing in again, already signed in: a new id as well.
    if let Ok((_, again)) =
        sign_in_answers(scan, &browser, &account.username, &account.password).await
    {
        let issued = cookies_set(&again);
        for (name, value) in &session {
            match value_of(&issued, name) {
                Some(new) if new != value => scan.redactor.add(new),
                _ => failures.push((
                    format!("signing in again kept the {name} of the session before"),
                    again.evidence.clone(),
                )),
            }
        }
    }
    FIXATION.judge(failures)
}

/// The sign-out form of a page: a POST form whose action or button says so; its action
/// and hidden fields.
pub fn sign_out_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let document = Html::parse_document(html);
    let forms = Selector::parse("form").ok()?;
    let hidden = Selector::parse("input[type=hidden][name]").ok()?;
    let buttons = Selector::parse("button, input[type=submit]").ok()?;
    let says_sign_out = |text: &str| {
        let text = text.to_ascii_lowercase().replace(['-', '_', ' '], "");
        text.contains("logout") || text.contains("signout") || text.contains("logoff")
    };
    let form = document.select(&forms).find(|form| {
        let post = form
            .value()
            .attr("method")
            .is_some_and(|m| m.eq_ignore_ascii_case("post"));
        let action = form.value().attr("action").unwrap_or_default();
        post && (says_sign_out(action)
            || form.select(&buttons).any(|b| {
                says_sign_out(&b.text().collect::<String>())
                    || b.value().attr("value").is_some_and(says_sign_out)
            }))
    })?;
    let fields = form
        .select(&hidden)
        .filter_map(|i| {
            Some((
                i.value().attr("name")?.to_owned(),
                i.value().attr("value").unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    Some((
        form.value().attr("action").unwrap_or_default().to_owned(),
        fields,
    ))
}

async fn sign_out(scan: &Scan, account: &Account) -> CheckResult {
    let browser = scan.browser();
    let session = match sign_in_answers(scan, &browser, &account.username, &account.password).await
    {
        Ok((_, answer)) => cookies_set(&answer),
        Err(why) => return SIGN_OUT.skip(why),
    };
    for (_, value) in &session {
        scan.redactor.add(value);
    }
    if !replay(scan, &session, "the session, before signing out")
        .await
        .is_some_and(|a| shows_account(&a, &account.username))
    {
        return SIGN_OUT.skip("the sign-in's cookies do not open the account page");
    }
    let account_url = scan.issuer_url("/account");
    let Ok(page) = scan.get(&browser, &account_url, "account page").await else {
        return SIGN_OUT.skip("the account page did not answer");
    };
    let Some((action, fields)) = sign_out_form(&page.body) else {
        return SIGN_OUT.skip("the account page has no sign-out form");
    };
    let Ok(target) = Url::parse(&account_url).and_then(|base| base.join(&action)) else {
        return SIGN_OUT.skip(format!("the sign-out form's action `{action}`"));
    };
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let Ok(out) = scan
        .post_form(&browser, target.as_str(), &borrowed, "sign out")
        .await
    else {
        return SIGN_OUT.skip("the sign-out did not answer");
    };
    if !(out.status.is_success() || out.status.is_redirection()) {
        return SIGN_OUT.skip(format!("the sign-out was refused ({})", out.status));
    }
    match replay(scan, &session, "the old cookie, after signing out").await {
        Some(answer) if shows_account(&answer, &account.username) => SIGN_OUT.fail(
            "after signing out, the old session cookie still opens the account page",
            vec![out.evidence, answer.evidence],
        ),
        Some(_) => SIGN_OUT.pass(),
        None => SIGN_OUT.skip("the account page did not answer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_out_form_is_found_by_its_action_or_its_button() {
        let html = r#"<form method="post" action="/account/sessions/1/end"><input type="hidden" name="csrf_token" value="c"><button>End session</button></form>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="c"><button type="submit">Sign out</button></form>"#;
        let (action, fields) = sign_out_form(html).unwrap();
        assert_eq!(action, "/logout");
        assert_eq!(fields, [("csrf_token".to_owned(), "c".to_owned())]);
        let by_button = r#"<form method="post" action="/bye"><button>Log out</button></form>"#;
        assert_eq!(sign_out_form(by_button).unwrap().0, "/bye");
        assert!(sign_out_form(r#"<form method="get" action="/logout"></form>"#).is_none());
        assert_eq!(planted_id().len(), 43);
    }
}
