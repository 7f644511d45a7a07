//! Recovery codes: ten single-use codes, shown once when two-factor sign-in is turned on
//! (or the codes are renewed), that stand in for a lost authenticator. Each is 80 random
//! bits in sixteen characters of an unambiguous alphabet, written `xxxx-xxxx-xxxx-xxxx`;
//! only the SHA-256 of the user's id and the code is stored (so one guess tests one
//! account's codes, never every account's).

use rand::Rng as _;
use shared::models::recovery_code::RecoveryCode;
use shared::token::HashedToken;

pub const COUNT: usize = 10;
const LENGTH: usize = 16;
const GROUP: usize = 4;
/// Lower-case letters and digits without 0/o and 1/l (32 symbols: 5 bits each).
const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyz";

/// A code as shown to the person, once. `Debug` shows nothing.
pub struct PlainRecoveryCode(String);

impl std::fmt::Debug for PlainRecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainRecoveryCode(***)")
    }
}

impl PlainRecoveryCode {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A fresh set of codes for `user_id`: what to show, and the rows to store.
pub fn generate(
    user_id: &str,
    at: chrono::NaiveDateTime,
) -> (Vec<PlainRecoveryCode>, Vec<RecoveryCode>) {
    let mut rng = rand::rng();
    (0..COUNT)
        .map(|_| {
            let chars: String = (0..LENGTH)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            let groups: Vec<&str> = (0..LENGTH / GROUP)
                .map(|i| &chars[i * GROUP..(i + 1) * GROUP])
                .collect();
            let shown = groups.join("-");
            let row = RecoveryCode {
                code_hash: hash(user_id, &chars).as_str().to_owned(),
                user_id: user_id.to_owned(),
                created_at: at,
                used_at: None,
            };
            (PlainRecoveryCode(shown), row)
        })
        .unzip()
}

/// The stored hash of a code as typed (any case, with or without its dash and spaces);
/// `None` when the input cannot be a recovery code.
pub fn hash_of_input(user_id: &str, input: &str) -> Option<HashedToken> {
    let chars: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (chars.len() == LENGTH && chars.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| hash(user_id, &chars))
}

fn hash(user_id: &str, normalized: &str) -> HashedToken {
    HashedToken::of(&format!("{user_id}:{normalized}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_codes_whose_salted_hashes_are_stored() {
        let (shown, rows) = generate("u1", shared::models::now());
        assert_eq!(shown.len(), COUNT);
        let mut hashes: Vec<_> = rows.iter().map(|r| r.code_hash.clone()).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), COUNT);
        for (code, row) in shown.iter().zip(&rows) {
            assert_eq!(code.expose().len(), 19, "{}", code.expose());
            let typed = code.expose().to_uppercase().replace('-', " ");
            for input in [code.expose(), typed.as_str()] {
                assert_eq!(hash_of_input("u1", input).unwrap().as_str(), row.code_hash);
            }
            let unsalted = HashedToken::of(&code.expose().replace('-', ""));
            assert_ne!(unsalted.as_str(), row.code_hash, "salted with the user id");
            let elsewhere = hash_of_input("u2", code.expose()).unwrap();
            assert_ne!(elsewhere.as_str(), row.code_hash, "another user's hash");
        }
    }

    #[test]
    fn other_input_is_no_code() {
        for input in [
            "123456",
            "abcd-efgh-ijkm-npq",
            "abcd-efgh-ijkm-npqr2",
            "abcd-efgh-ijkm-npq1",
        ] {
            assert!(hash_of_input("u1", input).is_none(), "{input}");
        }
    }
}
