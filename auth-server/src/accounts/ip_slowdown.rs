//! Per-IP slow-down of sign-in attempts (SECURITY.md 24: "the IP is slowed"). Each IP
//! gets a number of free failures per window; every failure beyond that delays that IP's
//! next attempts by one more second, up to a ceiling. Kept in memory per instance: a
//! password-spraying client is slowed on whichever instance it reaches. Addresses count
//! as the rate limits count them: an IPv6 client by its /64, so it cannot dodge the
//! slow-down with a fresh address per attempt.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shared::ratelimit::ip_key;

/// Failures an IP may make per window before it is slowed.
const FREE_FAILURES: u32 = 10;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const STEP: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(10);
/// Beyond this many tracked IPs, stale entries are dropped before adding a new one, and if
/// none is stale the map starts afresh (a flood of addresses costs its slow-down, never
/// the memory or a full scan per attempt).
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Default)]
pub struct IpSlowdown {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl IpSlowdown {
    /// How long to hold this IP's next attempt before answering it.
    pub fn delay_for(&self, ip: &str) -> Duration {
        let Ok(map) = self.failures.lock() else {
            return Duration::ZERO;
        };
        match map.get(&ip_key(ip)) {
            Some((count, since)) if since.elapsed() < WINDOW && *count > FREE_FAILURES => {
                (STEP * (count - FREE_FAILURES)).min(MAX_DELAY)
            }
            _ => Duration::ZERO,
        }
    }

    pub fn record_failure(&self, ip: &str) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        let key = ip_key(ip);
        if map.len() >= MAX_TRACKED && !map.contains_key(&key) {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        let entry = map.entry(key).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
    }

    pub fn record_success(&self, ip: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&ip_key(ip));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slows_an_ip_after_its_free_failures_and_forgets_on_success() {
        let slowdown = IpSlowdown::default();
        for _ in 0..FREE_FAILURES {
            slowdown.record_failure("192.0.2.1");
        }
        assert_eq!(slowdown.delay_for("192.0.2.1"), Duration::ZERO);
        slowdown.record_failure("192.0.2.1");
        assert_eq!(slowdown.delay_for("192.0.2.1"), STEP);
        for _ in 0..50 {
            slowdown.record_failure("192.0.2.1");
        }
        assert_eq!(slowdown.delay_for("192.0.2.1"), MAX_DELAY);
        assert_eq!(slowdown.delay_for("192.0.2.2"), Duration::ZERO);
        slowdown.record_success("192.0.2.1");
        assert_eq!(slowdown.delay_for("192.0.2.1"), Duration::ZERO);
    }

    #[test]
    fn an_ipv6_client_is_slowed_across_its_slash_64() {
        let slowdown = IpSlowdown::default();
        for i in 0..=FREE_FAILURES {
            slowdown.record_failure(&format!("2001:db8:1:2::{i:x}"));
        }
        assert_eq!(slowdown.delay_for("2001:db8:1:2::ffff"), STEP);
        assert_eq!(slowdown.delay_for("2001:db8:1:3::1"), Duration::ZERO);
    }
}
