//! Prometheus metrics: served on a listener of their own (never on the public port),
//! parsed as a Prometheus scraper parses them, and moving as requests are made. Metrics
//! are the process's and tests run side by side in one process, so counters are compared
//! as "moved by at least".

use prometheus_parse::{Scrape, Value};

use crate::support::oauth_client::{ClientOptions, service_client};
use crate::support::servers::spawn_stack_with;
use crate::support::tokens::user_token;

/// Fetches and parses one exposition; checks the content type and the `# EOF` ending.
async fn scrape(metrics_address: &str) -> (Scrape, String) {
    let response = reqwest::get(format!("{metrics_address}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text; version=1.0.0"),
        "{:?}",
        response.headers()["content-type"]
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap();
    (scrape, text)
}

/// The value of the sample `metric` whose labels include `labels` (0 when absent).
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == metric)
        .filter(|sample| {
            labels
                .iter()
                .all(|(name, wanted)| sample.labels.get(name) == Some(*wanted))
        })
        .map(|sample| match &sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

#[actix_web::test]
async fn each_server_counts_its_requests_tokens_and_errors_on_its_own_listener() {
    let stack = spawn_stack_with(&[
        ("AUTH_SERVER_METRICS_BIND", "127.0.0.1:0"),
        ("RESOURCE_API_METRICS_BIND", "127.0.0.1:0"),
    ])
    .await;
    let auth_metrics = stack.auth.metrics_address.clone().unwrap();
    let api_metrics = stack.api_metrics_address.clone().unwrap();

    // The public ports do not serve metrics; the metrics port serves nothing else.
    let public = reqwest::get(stack.auth.url("/metrics")).await.unwrap();
    assert_eq!(public.status(), 404);
    let public = reqwest::get(stack.api_url("/metrics")).await.unwrap();
    assert_eq!(public.status(), 404);
    let other = reqwest::get(format!("{auth_metrics}/token")).await.unwrap();
    assert_eq!(other.status(), 404);

    let (before, _) = scrape(&auth_metrics).await;
    let (api_before, _) = scrape(&api_metrics).await;

    let service = stack.auth.register_client(service_client()).await;
    let issued = stack
        .auth
        .token_request(&service, &[("grant_type", "client_credentials".to_owned())])
        .await;
    assert_eq!(issued.status(), 200);
    let token: serde_json::Value = issued.json().await.unwrap();
    let access_token = token["access_token"].as_str().unwrap().to_owned();
    let wrong_secret = reqwest::Client::new()
        .post(stack.auth.url("/token"))
        .basic_auth(&service.client_id, Some("not-the-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), 401);
    let unsupported = stack
        .auth
        .token_request(&service, &[("grant_type", "password".to_owned())])
        .await;
    assert_eq!(unsupported.status(), 400);
    let probe = reqwest::get(stack.auth.url("/no-such-page-4711"))
        .await
        .unwrap();
    assert_eq!(probe.status(), 404);

    let user_access = user_token(&stack, "tasks:read").await;
    let tasks = stack
        .api(reqwest::Method::GET, "/api/tasks", Some(&user_access))
        .send()
        .await
        .unwrap();
    assert_eq!(tasks.status(), 200);
    let refused = stack
        .api(reqwest::Method::GET, "/api/tasks", Some("not-a-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let (after, text) = scrape(&auth_metrics).await;
    let moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    assert!(
        moved(
            "oauth_tokens_issued_total",
            &[("grant_type", "client_credentials")]
        ) >= 1.0
    );
    assert!(
        moved(
            "oauth_tokens_issued_total",
            &[("grant_type", "authorization_code")]
        ) >= 1.0
    );
    assert!(moved("oauth_token_errors_total", &[("error", "invalid_client")]) >= 1.0);
    assert!(
        moved(
            "oauth_token_errors_total",
            &[("error", "unsupported_grant_type")]
        ) >= 1.0
    );
    let token_ok = [
        ("server", "auth-server"),
        ("route", "/token"),
        ("method", "POST"),
        ("status", "200"),
    ];
    assert!(
        moved("http_request_duration_seconds_count", &token_ok) >= 2.0,
        "{text}"
    );
    assert!(
        moved(
            "http_request_duration_seconds_count",
            &[
                ("server", "auth-server"),
                ("route", "unmatched"),
                ("status", "404")
            ]
        ) >= 1.0
    );
    assert!(
        moved(
            "http_request_duration_seconds_count",
            &[("server", "auth-server"), ("route", "/token")]
        ) >= 3.0,
        "{text}"
    );
    assert!(
        moved("audit_events_total", &[("kind", "client_auth_failure")]) >= 1.0,
        "{text}"
    );
    assert_eq!(
        value(
            &after,
            "db_pool_max_connections",
            &[("server", "auth-server")]
        ),
        4.0
    );
    // Labels carry routes, codes and kinds: never a path, a client id or a token.
    for secret in [
        service.client_id.as_str(),
        access_token.as_str(),
        user_access.as_str(),
        "/no-such-page-4711",
    ] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }

    let (api_after, api_text) = scrape(&api_metrics).await;
    let api_moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&api_after, metric, labels) - value(&api_before, metric, labels)
    };
    let listed = [
        ("server", "resource-api"),
        ("route", "/api/tasks"),
        ("method", "GET"),
    ];
    assert!(
        api_moved(
            "http_request_duration_seconds_count",
            &[listed[0], listed[1], listed[2], ("status", "200")]
        ) >= 1.0,
        "{api_text}"
    );
    assert!(
        api_moved(
            "http_request_duration_seconds_count",
            &[listed[0], listed[1], listed[2], ("status", "401")]
        ) >= 1.0
    );
    assert!(
        value(&api_after, "jwks_fetches_total", &[("outcome", "ok")]) >= 1.0,
        "{api_text}"
    );
    let lag = api_after
        .samples
        .iter()
        .find(|sample| sample.metric == "revocation_mirror_lag_seconds")
        .expect("the revocation-mirror lag is exposed");
    assert!(
        matches!(lag.value, Value::Gauge(v) | Value::Untyped(v) if (0.0..5.0).contains(&v)),
        "{:?}",
        lag.value
    );
    assert!(!api_text.contains(&user_access));
}

#[actix_web::test]
async fn rate_limit_refusals_are_counted_by_rule() {
    let stack = spawn_stack_with(&[
        ("AUTH_SERVER_METRICS_BIND", "127.0.0.1:0"),
        ("RATE_LIMIT_TOKEN", "2/1m"),
    ])
    .await;
    let auth_metrics = stack.auth.metrics_address.clone().unwrap();
    let (before, _) = scrape(&auth_metrics).await;
    let client = stack.auth.register_client(ClientOptions::default()).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = stack
            .auth
            .token_request(&client, &[("grant_type", "client_credentials".to_owned())])
            .await;
        statuses.push(response.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let (after, text) = scrape(&auth_metrics).await;
    let refusals = value(&after, "rate_limit_refusals_total", &[("rule", "token")])
        - value(&before, "rate_limit_refusals_total", &[("rule", "token")]);
    assert!(refusals >= 2.0, "{text}");
    assert!(
        value(
            &after,
            "http_request_duration_seconds_count",
            &[
                ("server", "auth-server"),
                ("route", "/token"),
                ("status", "429")
            ]
        ) >= 2.0
    );
}
