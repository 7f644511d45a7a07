//! The in-process store: limits for one instance (no `REDIS_URL`), and the fallback while
//! Redis cannot be reached. One mutex over small maps; expired entries are swept as calls
//! go by, and the maps are capped, so memory follows the number of recently active callers
//! and cannot grow without bound.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::rules::{self, Decision, Rule, RuleKind};
use super::{Penalty, Verdict};

/// Sweep expired entries once per this many calls.
const SWEEP_EVERY: u64 = 4096;
/// Most keys kept; past this (after a sweep) the store starts afresh rather than grow.
const MAX_KEYS: usize = 200_000;

#[derive(Debug, Default)]
pub struct LocalStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Token buckets: the next theoretical arrival time (µs).
    buckets: HashMap<String, u64>,
    /// Sliding windows: accepted requests' times (µs) and the window's period (µs).
    windows: HashMap<String, (VecDeque<u64>, u64)>,
    blocks: HashMap<String, Block>,
    calls: u64,
}

#[derive(Debug, Clone, Copy)]
struct Block {
    until_us: u64,
    /// Blocks so far; each one doubles the next.
    strikes: u32,
    strikes_expire_us: u64,
}

impl LocalStore {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Refuses a blocked caller (when `block_key` is given); otherwise applies every rule,
    /// and counts the request against all of them only if all allow it. A refusal reports
    /// the longest wait among the rules that refuse, so a retry after it can succeed.
    pub fn check(
        &self,
        block_key: Option<&str>,
        checks: &[(String, Rule)],
        now_us: u64,
    ) -> Verdict {
        let mut state = self.state();
        state.calls += 1;
        if state.calls.is_multiple_of(SWEEP_EVERY) {
            state.sweep(now_us);
        }
        if let Some(block) = block_key.and_then(|key| state.blocks.get(key))
            && block.until_us > now_us
        {
            return Verdict::Blocked {
                wait_us: block.until_us - now_us,
            };
        }
        let mut tightest: Option<Decision> = None;
        let mut refused: Option<Decision> = None;
        let mut new_tats: Vec<Option<u64>> = Vec::with_capacity(checks.len());
        for (key, rule) in checks {
            let (decision, new_tat) = match rule.kind {
                RuleKind::Bucket => rules::bucket(rule, state.buckets.get(key).copied(), now_us),
                // Windows serve sign-up only, a rare request: no need to spare the copy.
                RuleKind::Window => {
                    let (times, period) = state.windows.entry(key.clone()).or_default();
                    *period = rule.period_us();
                    (rules::window(rule, times, now_us), None)
                }
            };
            new_tats.push(new_tat);
            if !decision.allowed {
                if refused.is_none_or(|r| decision.wait_us > r.wait_us) {
                    refused = Some(decision);
                }
            } else if tightest.is_none_or(|t| decision.remaining < t.remaining) {
                tightest = Some(decision);
            }
        }
        if let Some(decision) = refused {
            return Verdict::Refused(decision);
        }
        for ((key, rule), new_tat) in checks.iter().zip(new_tats) {
            match (rule.kind, new_tat) {
                // The key is copied only the first time it is seen.
                (RuleKind::Bucket, Some(tat)) => match state.buckets.get_mut(key) {
                    Some(stored) => *stored = tat,
                    None => {
                        state.buckets.insert(key.clone(), tat);
                    }
                },
                (RuleKind::Window, _) => {
                    if let Some((times, _)) = state.windows.get_mut(key) {
                        times.push_back(now_us);
                    }
                }
                (RuleKind::Bucket, None) => {}
            }
        }
        state.cap(now_us);
        Verdict::Allowed(tightest)
    }

    /// Counts one refusal against the caller; too many start a block, which doubles with
    /// each block in a day. Returns the new block's length (µs).
    pub fn strike(
        &self,
        violations_key: &str,
        block_key: &str,
        penalty: &Penalty,
        now_us: u64,
    ) -> Option<u64> {
        let mut state = self.state();
        let (decision, new_tat) = rules::bucket(
            &penalty.violations,
            state.buckets.get(violations_key).copied(),
            now_us,
        );
        if decision.allowed {
            if let Some(tat) = new_tat {
                state.buckets.insert(violations_key.to_owned(), tat);
            }
            return None;
        }
        state.buckets.remove(violations_key);
        let strikes = match state.blocks.get(block_key) {
            Some(block) if block.strikes_expire_us > now_us => block.strikes.saturating_add(1),
            _ => 1,
        };
        let block_us = penalty.block_us(strikes);
        state.blocks.insert(
            block_key.to_owned(),
            Block {
                until_us: now_us.saturating_add(block_us),
                strikes,
                strikes_expire_us: now_us.saturating_add(penalty.memory_us),
            },
        );
        Some(block_us)
    }
}

impl State {
    fn sweep(&mut self, now_us: u64) {
        self.buckets.retain(|_, tat| *tat > now_us);
        self.windows.retain(|_, (times, period)| {
            times
                .back()
                .is_some_and(|&t| t.saturating_add(*period) > now_us)
        });
        self.blocks
            .retain(|_, block| block.until_us > now_us || block.strikes_expire_us > now_us);
    }

    /// Keeps the maps bounded: sweep when one is full, and start afresh if that is not
    /// enough (a flood of distinct callers then costs its limits, never the memory).
    fn cap(&mut self, now_us: u64) {
        let full = |n: usize| n > MAX_KEYS;
        if full(self.buckets.len()) || full(self.windows.len()) || full(self.blocks.len()) {
            self.sweep(now_us);
        }
        if full(self.buckets.len()) || full(self.windows.len()) {
            tracing::warn!("rate-limit store full of distinct callers; starting afresh");
            self.buckets.clear();
            self.windows.clear();
        }
        if full(self.blocks.len()) {
            self.blocks.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SECOND: u64 = 1_000_000;

    fn rule(limit: u32, kind: RuleKind) -> Rule {
        Rule {
            limit,
            period: Duration::from_secs(60),
            kind,
        }
    }

    #[test]
    fn a_request_counts_only_when_every_rule_allows_it() {
        let store = LocalStore::default();
        let wide = ("ip".to_owned(), rule(100, RuleKind::Bucket));
        let narrow = ("login".to_owned(), rule(1, RuleKind::Window));
        let both = [wide.clone(), narrow];
        assert!(
            matches!(store.check(Some("b"), &both, 0), Verdict::Allowed(Some(d)) if d.remaining == 0)
        );
        assert!(matches!(
            store.check(Some("b"), &both, 1),
            Verdict::Refused(_)
        ));
        // The refusal did not spend the wide bucket: 98 left after this one.
        assert!(
            matches!(store.check(Some("b"), &[wide], 2), Verdict::Allowed(Some(d)) if d.remaining == 98)
        );
    }

    #[test]
    fn a_refusal_reports_the_longest_wait_of_the_rules_that_refuse() {
        let store = LocalStore::default();
        let short = ("short".to_owned(), rule(1, RuleKind::Bucket));
        let long = (
            "long".to_owned(),
            Rule {
                limit: 1,
                period: Duration::from_secs(3600),
                kind: RuleKind::Bucket,
            },
        );
        let both = [short, long];
        assert!(store.check(None, &both, 0).is_allowed());
        match store.check(None, &both, 0) {
            Verdict::Refused(decision) => assert_eq!(decision.wait_us, 3600 * SECOND),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn repeated_refusals_block_and_each_block_is_longer() {
        let store = LocalStore::default();
        let penalty = Penalty {
            violations: rule(2, RuleKind::Bucket),
            base_block_us: SECOND,
            max_block_us: 3 * SECOND,
            memory_us: 100 * SECOND,
        };
        let strike = |at| store.strike("v", "b", &penalty, at);
        assert_eq!((strike(0), strike(0)), (None, None));
        assert_eq!(strike(0), Some(SECOND));
        assert!(matches!(
            store.check(Some("b"), &[], SECOND / 2),
            Verdict::Blocked { wait_us } if wait_us == SECOND / 2
        ));
        assert!(matches!(
            store.check(Some("b"), &[], SECOND),
            Verdict::Allowed(None)
        ));
        assert_eq!((strike(SECOND), strike(SECOND)), (None, None));
        assert_eq!(
            strike(SECOND),
            Some(2 * SECOND),
            "the second block is twice as long"
        );
        let at = 5 * SECOND;
        assert_eq!(
            (strike(at), strike(at), strike(at)),
            (None, None, Some(3 * SECOND)),
            "capped"
        );
    }
}
