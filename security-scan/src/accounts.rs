//! Accounts the scan makes for itself: a second person for the authorization checks and
//! throwaway accounts for the lockout check, signed up through the sign-up page that the
//! sign-in page links to (found by its form: a POST form with a new-password or email
//! field), with every field filled as a person would. Each account is proved by signing
//! in with it; its password is redacted from the report.

use rand::Rng as _;
use reqwest::Client;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::flows;
use crate::scan::{Account, Scan};

/// A form found on a page: where it posts, and its fields filled in.
#[derive(Debug, Clone)]
pub struct FilledForm {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

/// Lower-case letters and digits: valid in every username rule we know of.
pub fn random_name(prefix: &str) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..10)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)]))
        .collect();
    format!("{prefix}{tail}")
}

/// A long random passphrase with upper, lower case and digits.
fn random_password() -> String {
    format!(
        "{}-Scan-Passphrase-7",
        flows::random_marker("").replace(['-', '_'], "q")
    )
}

/// Whether a form is a sign-up form: it posts, and asks for a new password or an email.
fn is_sign_up(form: &ElementRef<'_>) -> bool {
    let Ok(inputs) = Selector::parse("input") else {
        return false;
    };
    form.value()
        .attr("method")
        .is_some_and(|m| m.eq_ignore_ascii_case("post"))
        && form
            .select(&inputs)
            .any(|i| i.value().attr("type") == Some("password"))
        && form.select(&inputs).any(|i| {
            i.value().attr("autocomplete") == Some("new-password")
                || i.value().attr("type") == Some("email")
        })
}

/// The fields of the first sign-up form of `html`, filled for `username`.
pub fn fill_sign_up(html: &str, username: &str, password: &str) -> Option<FilledForm> {
    let document = Html::parse_document(html);
    let forms = Selector::parse("form").ok()?;
    let fields = Selector::parse("input, select, textarea").ok()?;
    let form = document.select(&forms).find(is_sign_up)?;
    let mut filled = Vec::new();
    for field in form.select(&fields) {
        let element = field.value();
        let Some(name) = element.attr("name") else {
            continue;
        };
        let kind = element.attr("type").unwrap_or("text").to_ascii_lowercase();
        let value = match kind.as_str() {
            "hidden" => element.attr("value").unwrap_or_default().to_owned(),
            "password" => password.to_owned(),
            "email" => format!("{username}@example.com"),
            "checkbox" | "radio" => {
                if element.attr("checked").is_none() && element.attr("required").is_none() {
                    continue;
                }
                element.attr("value").unwrap_or("on").to_owned()
            }
            "submit" | "button" => continue,
            _ if name.to_ascii_lowercase().contains("email") => format!("{username}@example.com"),
            _ => username.to_owned(),
        };
        filled.push((name.to_owned(), value));
    }
    Some(FilledForm {
        action: form.value().attr("action").unwrap_or_default().to_owned(),
        fields: filled,
    })
}

/// Same-origin links of a page, resolved against `base`.
pub fn links(html: &str, base: &Url) -> Vec<Url> {
    let document = Html::parse_document(html);
    let Ok(anchors) = Selector::parse("a[href]") else {
        return Vec::new();
    };
    let mut out: Vec<Url> = document
        .select(&anchors)
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|href| base.join(href).ok())
        .filter(|url| url.origin() == base.origin())
        .map(|mut url| {
            url.set_fragment(None);
            url
        })
        .collect();
    out.dedup();
    out
}

/// The sign-up page: the first page linked from the sign-in page that has a sign-up form.
pub async fn sign_up_page(scan: &Scan, browser: &Client) -> Result<(Url, String), String> {
    let login = scan.issuer_url("/login");
    let page = scan
        .get(browser, &login, "sign-in page")
        .await
        .map_err(|e| e.to_string())?;
    let base = Url::parse(&login).map_err(|e| e.to_string())?;
    for link in links(&page.body, &base).into_iter().take(12) {
        if let Ok(answer) = scan
            .get(browser, link.as_str(), "looking for sign-up")
            .await
            && answer.status == 200
            && fill_sign_up(&answer.body, "x", "x").is_some()
        {
            return Ok((link, answer.body));
        }
    }
    Err(format!(
        "{login} links to no sign-up page (give --second-username and --second-password)"
    ))
}

/// Fills the sign-up form for `username` and sends it from `browser`; the answer.
pub async fn submit_sign_up(
    scan: &Scan,
    browser: &Client,
    username: &str,
    password: &str,
) -> Result<crate::probe::Answer, String> {
    let (page, html) = sign_up_page(scan, browser).await?;
    let form = fill_sign_up(&html, username, password)
        .ok_or_else(|| format!("{page} has no sign-up form"))?;
    let action = page
        .join(&form.action)
        .map_err(|e| format!("the sign-up form's action: {e}"))?;
    let fields: Vec<(&str, &str)> = form
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    scan.post_form(browser, action.as_str(), &fields, "sign up")
        .await
        .map_err(|e| e.to_string())
}

/// The second person's account: the one the operator gave, or one signed up once for
/// this scan.
pub async fn second_person(scan: &Scan) -> Result<Account, String> {
    scan.second_account
        .get_or_init(|| async {
            match &scan.options.second_account {
                Some(account) => Ok(account.clone()),
                None => sign_up(scan, "scan-b-").await,
            }
        })
        .await
        .clone()
}

/// Signs up a new account named `prefix` + random, and proves it by signing in.
pub async fn sign_up(scan: &Scan, prefix: &str) -> Result<Account, String> {
    let username = random_name(prefix);
    let password = random_password();
    scan.redactor.add(&password);
    let answer = submit_sign_up(scan, &scan.browser(), &username, &password).await?;
    if !answer.status.is_redirection() {
        return Err(format!(
            "signing up {username} was refused ({}): {}",
            answer.status, answer.evidence.response
        ));
    }
    let account = Account { username, password };
    flows::sign_in(scan, &scan.browser(), &account.username, &account.password).await?;
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<form method="post" action="/login"><input type="hidden" name="csrf_token" value="c1"><input name="username"><input type="password" name="password"></form>
<form method="post" action="/register"><input type="hidden" name="csrf_token" value="c2"><input type="hidden" name="return_to" value="">
<input name="username" type="text"><input name="email" type="email"><input name="password" type="password" autocomplete="new-password">
<input type="checkbox" name="terms" value="yes" required><input type="checkbox" name="news" value="1"><button type="submit">Go</button></form>"#;

    #[test]
    fn the_sign_up_form_is_told_from_the_sign_in_form_and_filled() {
        let form = fill_sign_up(PAGE, "scan-b-x", "pw").unwrap();
        assert_eq!(form.action, "/register");
        assert_eq!(
            form.fields,
            [
                ("csrf_token", "c2"),
                ("return_to", ""),
                ("username", "scan-b-x"),
                ("email", "scan-b-x@example.com"),
                ("password", "pw"),
                ("terms", "yes"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert!(fill_sign_up(&PAGE[..PAGE.find("\n").unwrap()], "a", "b").is_none());
    }

    #[test]
    fn links_stay_on_the_origin() {
        let base = Url::parse("http://as.test/login").unwrap();
        let html = r#"<a href="/register?x=1#top">a</a><a href="https://elsewhere.test/">b</a><a href="account">c</a>"#;
        let found: Vec<String> = links(html, &base).iter().map(Url::to_string).collect();
        assert_eq!(
            found,
            ["http://as.test/register?x=1", "http://as.test/account"]
        );
        let name = random_name("scan-");
        assert!(name.starts_with("scan-") && name.len() == 15);
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }
}
