//! The authorization server's public keys, fetched from its JWKS and cached. A token with a
//! `kid` not in the cache triggers one refetch, at most once per `MIN_REFETCH` (so a flood
//! of forged `kid`s cannot turn into a flood of requests to the issuer); a key rotated in
//! after startup is therefore accepted without a restart. The keys are also refetched every
//! `SIGNING_KEYS_RELOAD`, so a key the issuer stops publishing (retired, or pulled at once
//! after a compromise) stops being trusted here too.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};

const MIN_REFETCH: Duration = Duration::from_secs(1);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct JwksCache {
    url: String,
    http: reqwest::Client,
    keys: Arc<RwLock<HashMap<String, Arc<DecodingKey>>>>,
    /// Held for each fetch (one at a time); holds when an unknown `kid` last caused one.
    /// Only those count against `MIN_REFETCH`: the periodic refresh must not use up the
    /// allowance of a token signed by a key rotated in a moment ago.
    fetching: Arc<tokio::sync::Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    pub fn new(url: String) -> Result<Self, String> {
        // The TLS backend for https JWKS URLs (ring: builds with a C compiler alone). The
        // process-wide default may be installed already (a second server in one process).
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client for the JWKS: {e}"))?;
        Ok(Self {
            url,
            http,
            keys: Arc::default(),
            fetching: Arc::default(),
        })
    }

    fn cached(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        match self.keys.read() {
            Ok(keys) => keys.get(kid).cloned(),
            Err(poisoned) => poisoned.into_inner().get(kid).cloned(),
        }
    }

    /// Whether `kid` is among the keys the issuer published at the last fetch.
    pub fn publishes(&self, kid: &str) -> bool {
        self.cached(kid).is_some()
    }

    /// Fetches the keys now, then again every `period`, for as long as the process runs.
    /// A failed fetch keeps the keys already known.
    pub fn spawn_refresher(&self, period: Duration) {
        let jwks = self.clone();
        actix_web::rt::spawn(async move {
            let mut first = true;
            loop {
                if let Err(error) = jwks.refresh().await {
                    if first {
                        tracing::warn!(error = %error, "could not fetch the JWKS at startup; will fetch on first use");
                    } else {
                        tracing::warn!(error = %error, url = %jwks.url, "could not refetch the JWKS; keeping the keys known");
                    }
                }
                first = false;
                actix_web::rt::time::sleep(period).await;
            }
        });
    }

    /// The key for `kid`: from the cache, or after one (rate-limited) refetch.
    pub async fn key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        let mut last_on_demand = self.fetching.lock().await;
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        if last_on_demand.is_some_and(|at| at.elapsed() < MIN_REFETCH) {
            return None;
        }
        *last_on_demand = Some(Instant::now());
        if let Err(error) = self.fetch().await {
            tracing::warn!(error = %error, url = %self.url, "could not fetch the JWKS");
        }
        self.cached(kid)
    }

    /// Fetches the JWKS now and replaces the cache. A request that needs a key meanwhile
    /// waits for this fetch instead of being refused.
    pub async fn refresh(&self) -> Result<usize, String> {
        let _one_fetch_at_a_time = self.fetching.lock().await;
        self.fetch().await
    }

    /// The fetch itself, counted by outcome; the caller holds `fetching`.
    async fn fetch(&self) -> Result<usize, String> {
        let fetched = self.fetch_uncounted().await;
        let outcome = if fetched.is_ok() { "ok" } else { "failed" };
        shared::metrics::metrics()
            .jwks_fetches
            .get_or_create(&shared::metrics::OutcomeLabels { outcome })
            .inc();
        fetched
    }

    async fn fetch_uncounted(&self) -> Result<usize, String> {
        let request = self.http.get(&self.url);
        let set: JwkSet = shared::telemetry::traces::send_traced(request, "GET", &self.url)
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let keys: HashMap<String, Arc<DecodingKey>> = set
            .keys
            .iter()
            // Access tokens are EdDSA only: the RSA keys published beside them sign ID
            // tokens, which are no credential here.
            .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::OctetKeyPair(_)))
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk)
                    .ok()
                    .map(|key| (kid, Arc::new(key)))
            })
            .collect();
        let count = keys.len();
        match self.keys.write() {
            Ok(mut guard) => *guard = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
        Ok(count)
    }
}
