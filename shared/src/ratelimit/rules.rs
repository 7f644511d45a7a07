//! The arithmetic of the limits, shared by the in-process store and mirrored by the Redis
//! scripts: a token bucket (as GCRA: one timestamp per key) and a sliding-window log.

pub use crate::config::rate_limits::{Rule, RuleKind};

/// What one rule says of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// Until the limit is whole again (allowed) or until a retry can succeed (refused), in
    /// microseconds.
    pub wait_us: u64,
}

/// Token bucket as GCRA: `tat` is the theoretical arrival time of the next request (µs).
/// Returns the decision and, when allowed, the new `tat` to store.
pub fn bucket(rule: &Rule, stored_tat: Option<u64>, now_us: u64) -> (Decision, Option<u64>) {
    let interval = rule.interval_us();
    let period = rule.period_us();
    let tat = stored_tat.unwrap_or(now_us).max(now_us);
    let ahead = (tat - now_us).saturating_add(interval);
    if ahead > period {
        let decision = Decision {
            allowed: false,
            limit: rule.limit,
            remaining: 0,
            wait_us: ahead - period,
        };
        return (decision, None);
    }
    let decision = Decision {
        allowed: true,
        limit: rule.limit,
        remaining: u32::try_from((period - ahead) / interval).unwrap_or(u32::MAX),
        wait_us: ahead,
    };
    (decision, Some(now_us.saturating_add(ahead)))
}

/// Sliding-window log: `times` holds the accepted requests' times (µs), oldest first; the
/// caller stores `now_us` when the decision allows.
pub fn window(rule: &Rule, times: &mut std::collections::VecDeque<u64>, now_us: u64) -> Decision {
    let period = rule.period_us();
    while times
        .front()
        .is_some_and(|&t| t.saturating_add(period) <= now_us)
    {
        times.pop_front();
    }
    let count = u32::try_from(times.len()).unwrap_or(u32::MAX);
    let oldest = times.front().copied().unwrap_or(now_us);
    let wait_us = oldest.saturating_add(period).saturating_sub(now_us);
    if count >= rule.limit {
        return Decision {
            allowed: false,
            limit: rule.limit,
            remaining: 0,
            wait_us,
        };
    }
    Decision {
        allowed: true,
        limit: rule.limit,
        remaining: rule.limit - count - 1,
        wait_us,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn per_minute(limit: u32, kind: RuleKind) -> Rule {
        Rule {
            limit,
            period: Duration::from_secs(60),
            kind,
        }
    }

    #[test]
    fn rules_parse_from_settings() {
        let rule = Rule::parse("10/1m", RuleKind::Bucket).unwrap();
        assert_eq!((rule.limit, rule.period), (10, Duration::from_secs(60)));
        assert_eq!(
            Rule::parse(" 5 / 1h", RuleKind::Window).unwrap().period,
            Duration::from_secs(3600)
        );
        for bad in [
            "",
            "10",
            "0/1m",
            "ten/1m",
            "10/forever",
            "10/0s",
            "2000000/1s",
        ] {
            assert!(Rule::parse(bad, RuleKind::Bucket).is_none(), "{bad}");
        }
    }

    const SECOND: u64 = 1_000_000;

    #[test]
    fn a_bucket_allows_its_burst_then_one_request_per_interval() {
        let rule = per_minute(3, RuleKind::Bucket);
        let start = 1_764_000_000 * SECOND;
        let mut tat = None;
        for expected_remaining in [2, 1, 0] {
            let (decision, next) = bucket(&rule, tat, start);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
            tat = next;
        }
        let (refused, next) = bucket(&rule, tat, start);
        assert!(!refused.allowed);
        assert_eq!(next, None, "a refusal does not consume");
        assert_eq!(
            refused.wait_us,
            20 * SECOND,
            "one token comes back every 20 s"
        );
        let (later, _) = bucket(&rule, tat, start + 20 * SECOND);
        assert!(later.allowed);
        assert_eq!(later.remaining, 0);
        let (idle, _) = bucket(&rule, tat, start + 1000 * SECOND);
        assert_eq!(idle.remaining, 2, "an idle bucket is full again");
    }

    #[test]
    fn a_full_burst_fits_even_when_the_period_does_not_divide_evenly() {
        for (limit, period) in [(7, 1), (9, 60), (13, 60), (3, 2)] {
            let rule = Rule {
                limit,
                period: Duration::from_secs(period),
                kind: RuleKind::Bucket,
            };
            let now = 1_764_000_000 * SECOND + 123_457;
            let mut tat = None;
            for _ in 0..limit {
                let (decision, next) = bucket(&rule, tat, now);
                assert!(decision.allowed, "{limit}/{period}s");
                tat = next;
            }
            assert!(
                !bucket(&rule, tat, now).0.allowed,
                "{limit}/{period}s: no more"
            );
        }
    }

    #[test]
    fn a_window_counts_the_requests_of_the_last_period() {
        let rule = per_minute(2, RuleKind::Window);
        let mut times = std::collections::VecDeque::new();
        for at in [0, 10 * SECOND] {
            assert!(window(&rule, &mut times, at).allowed);
            times.push_back(at);
        }
        let refused = window(&rule, &mut times, 60 * SECOND - 1);
        assert!(!refused.allowed);
        assert_eq!(refused.wait_us, 1);
        assert!(
            window(&rule, &mut times, 60 * SECOND).allowed,
            "the first left the window"
        );
    }
}
