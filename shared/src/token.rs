//! Random secrets handed to a client once (session ids, and later refresh tokens, codes,
//! client secrets, API keys) and the SHA-256 hashes that are all the database ever keeps.
//!
//! A [`PlainToken`] exists only between generation and the response that carries it; its
//! `Debug` prints the prefix alone, so it cannot leak into a log line by accident.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// A freshly generated secret: `prefix` + 256 random bits in base64url.
#[derive(Clone)]
pub struct PlainToken {
    value: String,
    prefix_len: usize,
}

impl PlainToken {
    /// 256 bits from the operating system's CSPRNG, after a recognisable prefix
    /// (so a leaked token can be found by secret scanners and told apart by kind).
    pub fn generate(prefix: &'static str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let value = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
        Self {
            value,
            prefix_len: prefix.len(),
        }
    }

    /// Wraps a token received from a client, to hash it.
    pub fn from_client(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            prefix_len: 0,
        }
    }

    /// The secret itself: only for the one response (or cookie) that hands it over.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn hash(&self) -> HashedToken {
        HashedToken::of(&self.value)
    }
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlainToken({}***)", &self.value[..self.prefix_len])
    }
}

/// The hex SHA-256 of a token: what is stored and looked up. A fast hash is right for
/// high-entropy random secrets (SECURITY.md 13); passwords use argon2id instead.
#[derive(Clone, PartialEq, Eq)]
pub struct HashedToken(String);

impl HashedToken {
    pub fn of(value: &str) -> Self {
        let digest = Sha256::digest(value.as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            hex.push_str(&format!("{byte:02x}"));
        }
        Self(hex)
    }

    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short, non-secret reference for log lines.
    pub fn log_ref(&self) -> &str {
        &self.0[..8.min(self.0.len())]
    }
}

impl fmt::Debug for HashedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashedToken({}…)", self.log_ref())
    }
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_prefixed_random_and_256_bit() {
        let a = PlainToken::generate("sess_");
        let b = PlainToken::generate("sess_");
        assert!(a.expose().starts_with("sess_"));
        assert_ne!(a.expose(), b.expose());
        let body = &a.expose()["sess_".len()..];
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let token = PlainToken::generate("sess_");
        let shown = format!("{token:?} {:?}", token.hash());
        assert!(!shown.contains(&token.expose()["sess_".len()..]), "{shown}");
        assert!(!shown.contains(token.hash().as_str()), "{shown}");
    }

    #[test]
    fn hash_is_hex_sha256_and_stable() {
        assert_eq!(
            HashedToken::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let token = PlainToken::generate("x_");
        assert_eq!(token.hash(), PlainToken::from_client(token.expose()).hash());
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
