//! The in-process store: limits for one instance (no `REDIS_URL`), and the fallback while
//! Redis cannot be reached. One mutex over small maps; expired entries are swept as calls
//! go by, so memory follows the number of recently active callers.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::rules::{self, Decision, Rule, RuleKind};
use super::{Penalty, Verdict};

/// Sweep expired entries once per this many calls.
const SWEEP_EVERY: u64 = 4096;

#[derive(Debug, Default)]
pub struct LocalStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    buckets: HashMap<String, f64>,
    windows: HashMap<String, VecDeque<u64>>,
    blocks: HashMap<String, Block>,
    calls: u64,
}

#[derive(Debug, Clone, Copy)]
struct Block {
    until_ms: u64,
    /// Blocks so far; each one doubles the next.
    strikes: u32,
    strikes_expire_ms: u64,
}

impl LocalStore {
    /// Refuses a blocked caller; otherwise applies every rule, and counts the request
    /// against all of them only if all allow it.
    pub fn check(&self, block_key: &str, checks: &[(String, Rule)], now_ms: u64) -> Verdict {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        state.calls += 1;
        if state.calls.is_multiple_of(SWEEP_EVERY) {
            state.sweep(now_ms);
        }
        if let Some(block) = state.blocks.get(block_key)
            && block.until_ms > now_ms
        {
            return Verdict::Blocked {
                wait_ms: block.until_ms - now_ms,
            };
        }
        let mut tightest: Option<Decision> = None;
        let mut updates: Vec<(&str, Option<f64>)> = Vec::with_capacity(checks.len());
        for (key, rule) in checks {
            let (decision, new_tat) = match rule.kind {
                RuleKind::Bucket => rules::bucket(rule, state.buckets.get(key).copied(), now_ms),
                RuleKind::Window => {
                    let times = state.windows.entry(key.clone()).or_default();
                    (rules::window(rule, times, now_ms), None)
                }
            };
            if !decision.allowed {
                return Verdict::Refused(decision);
            }
            updates.push((key, new_tat));
            if tightest.is_none_or(|t| decision.remaining < t.remaining) {
                tightest = Some(decision);
            }
        }
        for ((key, new_tat), (_, rule)) in updates.into_iter().zip(checks) {
            match rule.kind {
                RuleKind::Bucket => {
                    if let Some(tat) = new_tat {
                        state.buckets.insert(key.to_owned(), tat);
                    }
                }
                RuleKind::Window => state
                    .windows
                    .entry(key.to_owned())
                    .or_default()
                    .push_back(now_ms),
            }
        }
        Verdict::Allowed(tightest)
    }

    /// Counts one refusal against the caller; too many start a block, which doubles with
    /// each block in a day. Returns the new block's length.
    pub fn strike(
        &self,
        violations_key: &str,
        block_key: &str,
        penalty: &Penalty,
        now_ms: u64,
    ) -> Option<u64> {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (decision, new_tat) = rules::bucket(
            &penalty.violations,
            state.buckets.get(violations_key).copied(),
            now_ms,
        );
        if decision.allowed {
            if let Some(tat) = new_tat {
                state.buckets.insert(violations_key.to_owned(), tat);
            }
            return None;
        }
        state.buckets.remove(violations_key);
        let strikes = match state.blocks.get(block_key) {
            Some(block) if block.strikes_expire_ms > now_ms => block.strikes + 1,
            _ => 1,
        };
        let block_ms = penalty.block_ms(strikes);
        state.blocks.insert(
            block_key.to_owned(),
            Block {
                until_ms: now_ms + block_ms,
                strikes,
                strikes_expire_ms: now_ms + penalty.memory_ms,
            },
        );
        Some(block_ms)
    }
}

impl State {
    fn sweep(&mut self, now_ms: u64) {
        self.buckets.retain(|_, tat| *tat > now_ms as f64);
        self.windows.retain(|_, times| {
            // A window's entries leave once older than the longest period we use (a day).
            times.back().is_some_and(|&t| t + 86_400_000 > now_ms)
        });
        self.blocks
            .retain(|_, block| block.until_ms > now_ms || block.strikes_expire_ms > now_ms);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

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
            matches!(store.check("b", &both, 0), Verdict::Allowed(Some(d)) if d.remaining == 0)
        );
        assert!(matches!(store.check("b", &both, 1), Verdict::Refused(_)));
        // The refusal did not spend the wide bucket: 98 left after this one.
        assert!(
            matches!(store.check("b", &[wide], 2), Verdict::Allowed(Some(d)) if d.remaining == 98)
        );
    }

    #[test]
    fn repeated_refusals_block_and_each_block_is_longer() {
        let store = LocalStore::default();
        let penalty = Penalty {
            violations: rule(2, RuleKind::Bucket),
            base_block_ms: 1_000,
            max_block_ms: 3_000,
            memory_ms: 100_000,
        };
        let strike = |at| store.strike("v", "b", &penalty, at);
        assert_eq!((strike(0), strike(0)), (None, None));
        assert_eq!(strike(0), Some(1_000));
        assert!(matches!(
            store.check("b", &[], 500),
            Verdict::Blocked { wait_ms: 500 }
        ));
        assert!(matches!(
            store.check("b", &[], 1_000),
            Verdict::Allowed(None)
        ));
        assert_eq!((strike(1_000), strike(1_000)), (None, None));
        assert_eq!(
            strike(1_000),
            Some(2_000),
            "the second block is twice as long"
        );
        assert_eq!(
            (strike(5_000), strike(5_000), strike(5_000)),
            (None, None, Some(3_000)),
            "capped"
        );
    }
}
