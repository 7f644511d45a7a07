//! Durations in settings (`shared::parse::duration`: `90`, `90s`, `30m`, `24h`, `7d`) and
//! the rate-limit rules built on them (`shared::config::rate_limits::Rule`: `10/1m`).
//! Asserts that a duration is what exact arithmetic on the trimmed text gives (digits, then
//! at most one unit; 1 s to 3650 d; anything else refused, overflow included) and reads
//! back from its seconds; and that a rule's limit is 1–1,000,000, its period that same
//! duration, and its token-bucket interval fits the whole burst in the period.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use shared::config::rate_limits::{Rule, RuleKind};
use shared::parse::{MAX_DURATION_SECONDS, duration, duration_setting};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = duration(text);
    assert_eq!(parsed, expected(text), "{text:?}");
    assert_eq!(duration_setting(text).ok(), parsed);
    if let Some(d) = parsed {
        assert_eq!(duration(&format!("{}s", d.as_secs())), Some(d));
    }

    for kind in [RuleKind::Bucket, RuleKind::Window] {
        let Some(rule) = Rule::parse(text, kind) else {
            continue;
        };
        let (limit, period) = text.split_once('/').expect("a rule has a slash");
        assert_eq!(Some(rule.limit), limit.trim().parse().ok());
        assert!((1..=1_000_000).contains(&rule.limit));
        assert_eq!(Some(rule.period), duration(period.trim()));
        assert!(rule.interval_us() >= 1);
        assert!(rule.interval_us() * u64::from(rule.limit) <= rule.period_us());
    }
});

/// The same grammar in 128-bit arithmetic, so no overflow can hide a difference.
fn expected(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last() {
        Some((at, c)) if !c.is_ascii_digit() => (&text[..at], &text[at..]),
        _ => (text, ""),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 30 {
        return None;
    }
    let amount: u128 = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    let per_unit: u128 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    let seconds = amount * per_unit;
    if !(1..=u128::from(MAX_DURATION_SECONDS)).contains(&seconds) {
        return None;
    }
    Some(Duration::from_secs(u64::try_from(seconds).ok()?))
}
