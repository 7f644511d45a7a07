//! Password hashing with argon2id and the OWASP parameters (19 MiB, 2 passes, 1 lane).
//! Both functions are CPU-bound for tens of milliseconds: call them on the blocking pool.

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

/// OWASP Password Storage Cheat Sheet, argon2id option 2: m=19456 KiB, t=2, p=1.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
pub fn hash(password: &str) -> Result<String, HashError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored PHC string. A malformed stored hash is a mismatch.
pub fn verify(password: &str, stored: &str) -> bool {
    hasher()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

/// Spends the same work as [`verify`] against a hash no password matches, so an unknown
/// username takes as long to refuse as a wrong password (SECURITY.md 24).
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| {
        hash("dummy password that guards timing").unwrap_or_else(|_| String::new())
    });
    let _always_false = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_argon2id_owasp_parameters() {
        let stored = hash("violet-anchor-tundra-42").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("violet-anchor-tundra-42", &stored));
        assert!(!verify("violet-anchor-tundra-43", &stored));
        assert!(!verify("violet-anchor-tundra-42", "not a hash"));
        assert_ne!(stored, hash("violet-anchor-tundra-42").unwrap(), "salted");
    }
}
