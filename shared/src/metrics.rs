//! The Prometheus metrics of both servers, served on a listener of their own
//! (`AUTH_SERVER_METRICS_BIND`, `RESOURCE_API_METRICS_BIND`; see [`crate::startup`]) in
//! the OpenMetrics text format, through `prometheus-client`.
//!
//! The metrics are the process's, as Prometheus scrapes a process: one registry, kept in a
//! static, so that any layer can count what it sees without a handle threaded through it.
//! Series that differ by server carry a `server` label (`auth-server`, `resource-api`).
//! Labels hold only bounded, non-identifying values — a route template, a status, a grant
//! type, an error code, an audit event's kind, a rate-limit rule — never a user, a client
//! id, an address or a token (SECURITY.md 34).

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub server: &'static str,
    /// The route template (`/api/tasks/{id}`), or `unmatched`: never the path itself.
    pub route: String,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrantLabels {
    pub grant_type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub error: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    /// The scope of the rule (`ip`, `login`, `token`, `client`, `user`, ...) or `blocked`.
    pub rule: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServerLabels {
    pub server: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub server: &'static str,
    /// `in_use` or `idle`.
    pub state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `ok` or `failed`.
    pub outcome: &'static str,
}

/// Every metric, registered once.
pub struct Metrics {
    registry: Registry,
    /// Requests by route, method and status, with their latency (its `_count` counts them).
    pub http_duration: Family<RequestLabels, Histogram>,
    pub tokens_issued: Family<GrantLabels, Counter>,
    pub token_errors: Family<ErrorLabels, Counter>,
    pub audit_events: Family<KindLabels, Counter>,
    pub audit_dropped: Counter,
    pub audit_queue: Gauge,
    pub rate_limit_refusals: Family<RuleLabels, Counter>,
    pub pool_connections: Family<PoolLabels, Gauge>,
    pub pool_size: Family<ServerLabels, Gauge>,
    pub pool_timeouts: Counter,
    pub jwks_fetches: Family<OutcomeLabels, Counter>,
    pub revocation_lag: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Request latencies from 0.25 ms to about 8 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let metrics = Self {
            http_duration: Family::new_with_constructor(latency_histogram),
            tokens_issued: Family::default(),
            token_errors: Family::default(),
            audit_events: Family::default(),
            audit_dropped: Counter::default(),
            audit_queue: Gauge::default(),
            rate_limit_refusals: Family::default(),
            pool_connections: Family::default(),
            pool_size: Family::default(),
            pool_timeouts: Counter::default(),
            jwks_fetches: Family::default(),
            revocation_lag: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response, by route template, method and \
             status (`_count`: the requests answered)",
            metrics.http_duration.clone(),
        );
        registry.register(
            "oauth_tokens_issued",
            "Access tokens issued at /token, by grant type",
            metrics.tokens_issued.clone(),
        );
        registry.register(
            "oauth_token_errors",
            "Error responses of /token, by OAuth error code (RFC 6749 §5.2)",
            metrics.token_errors.clone(),
        );
        registry.register(
            "audit_events",
            "Security events recorded, by kind (sign-ins, lockouts, code replays, refresh \
             token reuse, rate-limit blocks, ...)",
            metrics.audit_events.clone(),
        );
        registry.register(
            "audit_events_dropped",
            "Security events whose row was not stored (queue full or database down)",
            metrics.audit_dropped.clone(),
        );
        registry.register(
            "audit_queue_depth",
            "Security events waiting to be written",
            metrics.audit_queue.clone(),
        );
        registry.register(
            "rate_limit_refusals",
            "Requests refused by a rate limit, by rule (`blocked`: the address is blocked)",
            metrics.rate_limit_refusals.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections open, in use or idle",
            metrics.pool_connections.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "The most connections the pool opens (DATABASE_POOL_SIZE)",
            metrics.pool_size.clone(),
        );
        registry.register(
            "db_pool_timeouts",
            "Requests that got no database connection within DATABASE_TIMEOUT (answered 503)",
            metrics.pool_timeouts.clone(),
        );
        registry.register(
            "jwks_fetches",
            "Fetches of the signing keys by the task API, by outcome",
            metrics.jwks_fetches.clone(),
        );
        registry.register(
            "revocation_mirror_lag_seconds",
            "Age of the task API's copy of the revocation list at its last refresh",
            metrics.revocation_lag.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

/// Counts one answered request.
pub fn observe_request(
    server: &'static str,
    route: Option<String>,
    method: &'static str,
    status: u16,
    elapsed: Duration,
) {
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    metrics()
        .http_duration
        .get_or_create(&RequestLabels {
            server,
            route,
            method,
            status,
        })
        .observe(elapsed.as_secs_f64());
}

/// The exposition of every metric, as of now.
pub fn encode() -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _infallible = prometheus_client::encoding::text::encode(&mut text, &metrics().registry);
    text
}

/// Sets the pool gauges of `server`: `open` connections of which `idle` are idle, out of
/// at most `max`.
pub fn observe_pool(server: &'static str, open: u32, idle: u32, max: u32) {
    let metrics = metrics();
    let gauge = |state| {
        metrics
            .pool_connections
            .get_or_create(&PoolLabels { server, state })
    };
    gauge("idle").set(i64::from(idle));
    gauge("in_use").set(i64::from(open.saturating_sub(idle)));
    metrics
        .pool_size
        .get_or_create(&ServerLabels { server })
        .set(i64::from(max));
}

/// Counts a request refused by the rate limit `rule`.
pub fn count_refusal(rule: &'static str) {
    metrics()
        .rate_limit_refusals
        .get_or_create(&RuleLabels { rule })
        .inc();
}
