//! The authorization-code flow's guarantees (RFC 6749, RFC 7636, RFC 9207, RFC 9700):
//! PKCE required and `S256` only, no downgrade; a replayed code refused and its tokens
//! revoked; a reused refresh token refused and its family revoked; `state` and `iss`
//! echoed; no implicit or password grant; token responses never cached; introspection
//! only for an authenticated client.

use super::Check;
use crate::flows::{self, authorize, authorize_url, query_param};
use crate::report::{CheckResult, Severity};
use crate::scan::{ConfidentialClient, Scan};

const PKCE_REQUIRED: Check = Check {
    id: "oauth.pkce_required",
    title: "A code is never issued without a PKCE challenge",
    severity: Severity::High,
    remediation: "Require `code_challenge` with `code_challenge_method=S256` for every authorization request (RFC 9700 §2.1.1), or at least for every public client.",
};
const PKCE_PLAIN: Check = Check {
    id: "oauth.pkce_plain",
    title: "The `plain` PKCE method is refused",
    severity: Severity::Medium,
    remediation: "Accept `S256` only (RFC 9700 §2.1.1); `plain` sends the verifier in the front channel.",
};
const PKCE_VERIFIED: Check = Check {
    id: "oauth.pkce_verified",
    title: "A code is exchanged only with its own verifier",
    severity: Severity::Critical,
    remediation: "Compare BASE64URL(SHA256(code_verifier)) with the stored challenge and refuse a missing or wrong verifier with invalid_grant (RFC 7636 §4.6).",
};
const CODE_REPLAY: Check = Check {
    id: "oauth.code_replay",
    title: "A code used twice is refused, and the tokens it gave are revoked",
    severity: Severity::High,
    remediation: "Make codes single use in the database; on a second use answer invalid_grant and revoke what the first exchange issued (RFC 6749 §4.1.2, §10.5).",
};
const REFRESH_REUSE: Check = Check {
    id: "oauth.refresh_reuse",
    title: "A spent refresh token is refused, and its whole family revoked",
    severity: Severity::High,
    remediation: "Rotate refresh tokens on every use, and when a spent one comes back, revoke every token of its authorization (RFC 9700 §4.14.2).",
};
const STATE_ISS: Check = Check {
    id: "oauth.state_iss",
    title: "The redirect back carries `state` unchanged and the issuer's `iss`",
    severity: Severity::Medium,
    remediation: "Echo `state` exactly and add `iss` with the issuer identifier to every authorization response (RFC 6749 §4.1.2, RFC 9207 §2).",
};
const LEGACY_GRANTS: Check = Check {
    id: "oauth.legacy_grants",
    title: "The implicit and password grants are refused",
    severity: Severity::High,
    remediation: "Support neither `response_type=token` nor `grant_type=password` (RFC 9700 §2.1.2, §2.4).",
};
const TOKEN_CACHE: Check = Check {
    id: "oauth.token_cache",
    title: "Token responses are never cached",
    severity: Severity::Medium,
    remediation: "Send `Cache-Control: no-store` and `Pragma: no-cache` with every token endpoint answer (RFC 6749 §5.1).",
};
const INTROSPECTION: Check = Check {
    id: "oauth.introspection_auth",
    title: "Introspection needs an authenticated confidential client",
    severity: Severity::High,
    remediation: "Require client authentication at the introspection endpoint and refuse public clients with invalid_client (RFC 7662 §2.1, §4).",
};

const NEEDS: &str = "needs --client-id, --client-secret, --redirect-uri, --username and --password";

pub async fn run(scan: &Scan) -> Vec<CheckResult> {
    let mut results = vec![legacy_grants(scan).await, introspection(scan).await];
    let (Some(client), Some(account)) = (&scan.options.client, &scan.options.account) else {
        for check in [
            PKCE_REQUIRED,
            PKCE_PLAIN,
            PKCE_VERIFIED,
            CODE_REPLAY,
            REFRESH_REUSE,
            STATE_ISS,
            TOKEN_CACHE,
        ] {
            results.push(check.skip(NEEDS));
        }
        return results;
    };
    let browser = scan.browser();
    if let Err(why) = flows::sign_in(scan, &browser, &account.username, &account.password).await {
        for check in [
            PKCE_REQUIRED,
            PKCE_PLAIN,
            PKCE_VERIFIED,
            CODE_REPLAY,
            REFRESH_REUSE,
            STATE_ISS,
            TOKEN_CACHE,
        ] {
            results.push(check.skip(why.clone()));
        }
        return results;
    }
    results.push(
        pkce_refused(
            scan,
            &browser,
            client,
            PKCE_REQUIRED,
            "",
            "a code was issued for a request without code_challenge",
        )
        .await,
    );
    results.push(
        pkce_refused(
            scan,
            &browser,
            client,
            PKCE_PLAIN,
            "&code_challenge=plain-challenge-0123456789012345678901234567890123&code_challenge_method=plain",
            "a code was issued for code_challenge_method=plain",
        )
        .await,
    );
    results.push(pkce_verified(scan, &browser, client).await);
    results.push(code_replay(scan, &browser, client).await);
    results.push(refresh_reuse(scan, &browser, client).await);
    results.push(state_iss(scan, &browser, client).await);
    results.push(token_cache(scan, &browser, client).await);
    results
}

/// RFC 9700 §2.1.1: a code is issued only with an S256 challenge — neither without one
/// (`extra` empty) nor with `plain`.
async fn pkce_refused(
    scan: &Scan,
    browser: &reqwest::Client,
    client: &ConfidentialClient,
    check: Check,
    extra: &str,
    finding: &str,
) -> CheckResult {
    let url = authorize_url(
        scan,
        &client.id,
        &client.redirect_uri,
        "tasks:read",
        None,
        "st",
    ) + extra;
    match authorize(scan, browser, &url).await {
        Ok(answer)
            if answer
                .location()
                .and_then(|l| query_param(l, "code"))
                .is_some() =>
        {
            check.fail(finding, vec![answer.evidence])
        }
        Ok(_) => check.pass(),
        Err(why) => check.skip(why),
    }
}

async fn pkce_verified(
    scan: &Scan,
    browser: &reqwest::Client,
    client: &ConfidentialClient,
) -> CheckResult {
    let token_url = scan.endpoint("token_endpoint", "/token");
    let mut failures = Vec::new();
    for (what, verifier) in [
        ("no verifier", None),
        ("a wrong verifier", Some(flows::pkce().verifier)),
    ] {
        let (code, _) = match flows::obtain_code(scan, browser, client, "tasks:read").await {
            Ok(code) => code,
            Err(why) => return PKCE_VERIFIED.skip(why),
        };
        let mut fields = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", client.redirect_uri.clone()),
        ];
        if let Some(verifier) = verifier {
            fields.push(("code_verifier", verifier));
        }
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Ok(answer) = scan
            .post_as_client(client, &token_url, &borrowed, what)
            .await
            && answer.status.is_success()
        {
            failures.push((
                format!("the code was exchanged with {what}"),
                answer.evidence,
            ));
        }
    }
    PKCE_VERIFIED.judge(failures)
}

async fn code_replay(
    scan: &Scan,
    browser: &reqwest::Client,
    client: &ConfidentialClient,
) -> CheckResult {
    let (code, p) = match flows::obtain_code(scan, browser, client, "tasks:read").await {
        Ok(code) => code,
        Err(why) => return CODE_REPLAY.skip(why),
    };
    let first = match flows::exchange_code(scan, client, &code, &p.verifier)
        .await
        .and_then(|a| flows::tokens_of(scan, &a))
    {
        Ok(tokens) => tokens,
        Err(why) => return CODE_REPLAY.skip(why),
    };
    let Ok(second) = flows::exchange_code(scan, client, &code, &p.verifier).await else {
        return CODE_REPLAY.skip("the token endpoint did not answer");
    };
    if second.status.is_success() {
        return CODE_REPLAY.fail("the code was exchanged twice", vec![second.evidence]);
    }
    match flows::is_active(scan, client, &first.access_token).await {
        Ok(true) => CODE_REPLAY.fail(
            "after the replay, the first exchange's access token is still active",
            vec![second.evidence],
        ),
        Ok(false) => CODE_REPLAY.pass(),
        Err(why) => CODE_REPLAY.skip(why),
    }
}

async fn refresh_reuse(
    scan: &Scan,
    browser: &reqwest::Client,
    client: &ConfidentialClient,
) -> CheckResult {
    let tokens = match flows::code_flow(scan, browser, client, "tasks:read").await {
        Ok(tokens) => tokens,
        Err(why) => return REFRESH_REUSE.skip(why),
    };
    let Some(first) = tokens.refresh_token else {
        return REFRESH_REUSE.skip("the client gets no refresh token");
    };
    let second = match flows::refresh(scan, client, &first)
        .await
        .and_then(|a| flows::tokens_of(scan, &a))
    {
        Ok(tokens) => tokens,
        Err(why) => return REFRESH_REUSE.skip(why),
    };
    let Ok(replay) = flows::refresh(scan, client, &first).await else {
        return REFRESH_REUSE.skip("the token endpoint did not answer");
    };
    if replay.status.is_success() {
        return REFRESH_REUSE.fail(
            "a spent refresh token was accepted again",
            vec![replay.evidence],
        );
    }
    let Some(rotated) = second.refresh_token else {
        return REFRESH_REUSE.fail("the refresh token was not rotated", vec![replay.evidence]);
    };
    match flows::refresh(scan, client, &rotated).await {
        Ok(answer) if answer.status.is_success() => REFRESH_REUSE.fail(
            "after the reuse, the rotated refresh token still works",
            vec![answer.evidence],
        ),
        Ok(_) => REFRESH_REUSE.pass(),
        Err(why) => REFRESH_REUSE.skip(why),
    }
}

async fn state_iss(
    scan: &Scan,
    browser: &reqwest::Client,
    client: &ConfidentialClient,
) -> CheckResult {
    let p = flows::pkce();
    let state = format!("{} &=#?", flows::random_marker("st-"));
    let url = authorize_url(
        scan,
        &client.id,
        &client.redirect_uri,
        "tasks:read",
        Some(&p.challenge),
        &state,
    );
    let answer = match authorize(scan, browser, &url).await {
        Ok(answer) => answer,
        Err(why) => return STATE_ISS.skip(why),
    };
    let Some(location) = answer.location() else {
        return STATE_ISS.skip(format!("no redirect came back ({})", answer.status));
    };
    if let Some(code) = query_param(location, "code") {
        scan.redactor.add(&code);
    }
    let issuer = scan.metadata["issuer"].as_str().unwrap_or_default();
    let mut failures = Vec::new();
    if query_param(location, "state").as_deref() != Some(state.as_str()) {
        failures.push((
            "state did not come back unchanged".to_owned(),
            answer.evidence.clone(),
        ));
    }
    if query_param(location, "iss").as_deref() != Some(issuer) {
        failures.push((format!("iss is not {issuer}"), answer.evidence.clone()));
    }
    STATE_ISS.judge(failures)
}

async fn token_cache(
    scan: &Scan,
    browser: &reqwest::Client,
    client: &ConfidentialClient,
) -> CheckResult {
    let (code, p) = match flows::obtain_code(scan, browser, client, "tasks:read").await {
        Ok(code) => code,
        Err(why) => return TOKEN_CACHE.skip(why),
    };
    let mut failures = Vec::new();
    let success = flows::exchange_code(scan, client, &code, &p.verifier).await;
    let refused = flows::exchange_code(scan, client, "ac_not-a-code", &p.verifier).await;
    for answer in [success, refused].into_iter().flatten() {
        let cache = answer
            .header("cache-control")
            .unwrap_or_default()
            .to_owned();
        if !cache.contains("no-store") || answer.header("pragma") != Some("no-cache") {
            failures.push((
                format!("answered {} with Cache-Control `{cache}`", answer.status),
                answer.evidence,
            ));
        } else if answer.status.is_success() {
            let _ = flows::tokens_of(scan, &answer);
        }
    }
    TOKEN_CACHE.judge(failures)
}

async fn legacy_grants(scan: &Scan) -> CheckResult {
    let mut failures = Vec::new();
    let token_url = scan.endpoint("token_endpoint", "/token");
    let mut password = vec![
        ("grant_type", "password"),
        ("username", "x"),
        ("password", "x"),
        ("scope", "tasks:read"),
    ];
    let id;
    if let Some(client) = &scan.options.client {
        id = client.id.clone();
        password.push(("client_id", &id));
    }
    if let Ok(answer) = scan
        .post_form(&scan.plain, &token_url, &password, "password grant")
        .await
        && (answer.status.is_success()
            || !answer.body.contains("unsupported_grant_type")
                && !answer.body.contains("invalid_client")
                && !answer.body.contains("unauthorized_client"))
    {
        failures.push((
            format!("grant_type=password answered {}", answer.status),
            answer.evidence,
        ));
    }
    if let Some(client) = &scan.options.client {
        let url = authorize_url(
            scan,
            &client.id,
            &client.redirect_uri,
            "tasks:read",
            None,
            "st",
        )
        .replace("response_type=code", "response_type=token");
        // A server with the implicit grant issues a token only to a signed-in person: ask
        // as one (through any consent page) when an account is given.
        let browser = flows::signed_in_browser(scan, scan.options.account.as_ref()).await;
        let answer = match &browser {
            Some(browser) => authorize(scan, browser, &url).await.ok(),
            None => scan.get(&scan.plain, &url, "implicit grant").await.ok(),
        };
        if let Some(answer) = answer
            && answer
                .location()
                .is_some_and(|l| l.contains("access_token="))
        {
            failures.push((
                "response_type=token returned a token".into(),
                answer.evidence,
            ));
        }
    }
    LEGACY_GRANTS.judge(failures)
}

async fn introspection(scan: &Scan) -> CheckResult {
    let url = scan.endpoint("introspection_endpoint", "/introspect");
    let mut failures = Vec::new();
    match scan
        .post_form(
            &scan.plain,
            &url,
            &[("token", "anything")],
            "introspection, no credentials",
        )
        .await
    {
        Ok(answer) if answer.status != 401 => {
            failures.push((
                format!("an unauthenticated caller got {}", answer.status),
                answer.evidence,
            ));
        }
        _ => {}
    }
    if let Some(public) = &scan.options.public_client_id {
        match scan
            .post_form(
                &scan.plain,
                &url,
                &[("token", "anything"), ("client_id", public)],
                "introspection as a public client",
            )
            .await
        {
            Ok(answer) if answer.status.is_success() => {
                failures.push(("a public client may introspect".into(), answer.evidence));
            }
            _ => {}
        }
    }
    INTROSPECTION.judge(failures)
}
