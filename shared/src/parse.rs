//! Parsers for the plain values settings and rules are written in: durations, numbers in a
//! range, booleans, listen addresses and host names. They depend on nothing else in the
//! crate and answer a message for the person who wrote the value.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

/// The longest duration anything takes: beyond it, adding a duration to a timestamp could
/// overflow (and panic) where it is used.
pub const MAX_DURATION_SECONDS: u64 = 10 * 365 * 86_400;

/// `"90"`, `"90s"`, `"30m"`, `"24h"`, `"7d"` → a positive duration of at most ten years.
pub fn duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let amount: u64 = digits.parse().ok()?;
    let seconds_per_unit = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    let seconds = amount.checked_mul(seconds_per_unit)?;
    (1..=MAX_DURATION_SECONDS)
        .contains(&seconds)
        .then(|| Duration::from_secs(seconds))
}

/// [`duration`], with the message a setting shows when the value is not one.
pub fn duration_setting(value: &str) -> Result<Duration, String> {
    duration(value).ok_or_else(|| {
        format!(
            "`{value}` is not a duration like 90s, 30m, 24h or 7d (plain numbers are seconds; at most 3650d)"
        )
    })
}

/// A whole number within `range`.
pub fn number<T>(value: &str, range: RangeInclusive<T>) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    match value.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "`{value}` is not a whole number from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

/// `true`/`false`, and the usual spellings of each (`1`, `yes`, `on`; `0`, `no`, `off`).
pub fn boolean(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(format!("`{other}` is not true or false")),
    }
}

/// A listen address such as `127.0.0.1:8080` or `[::1]:0`.
pub fn socket_address(value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| format!("`{value}` is not an address like 127.0.0.1:8080"))
}

/// Dot-separated labels of letters, digits and `-`: a DNS name (after IDNA, so `xn--`
/// labels pass) or an IPv4 address, and what CSP's host-source grammar can carry.
pub fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_up_to_ten_years() {
        assert_eq!(duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(duration("24h"), Some(Duration::from_secs(86_400)));
        assert_eq!(duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(duration("3650d"), Some(Duration::from_secs(3650 * 86_400)));
        for bad in ["", "0", "-5", "5x", "m", "99999999999999999999d", "3651d"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_booleans_and_addresses() {
        assert_eq!(number("10", 1..=1000u32), Ok(10));
        assert!(number("0", 1..=1000u32).is_err());
        assert!(number("x", 1..=1000u32).is_err());
        assert_eq!(boolean("ON"), Ok(true));
        assert_eq!(boolean("0"), Ok(false));
        assert!(boolean("maybe").is_err());
        assert!(socket_address("127.0.0.1:0").is_ok());
        assert!(socket_address("nonsense").is_err());
    }

    #[test]
    fn plain_hosts_are_letters_digits_dashes_and_dots() {
        for ok in [
            "app.example.com",
            "xn--bcher-kva.example",
            "127.0.0.1",
            "a-b",
        ] {
            assert!(is_plain_host(ok), "{ok}");
        }
        for bad in [
            "",
            "a..b",
            ".a",
            "a;b",
            "a b",
            "*.example.com",
            "[::1]",
            "a_b",
        ] {
            assert!(!is_plain_host(bad), "{bad}");
        }
    }
}
