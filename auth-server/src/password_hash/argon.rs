//! Argon2id with the OWASP parameters (19 MiB, 2 passes, 1 lane), into and from standard
//! PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`). Each function takes the
//! argon2 block memory from a [`HashMemory`] its caller keeps: the hashing threads keep
//! one each, so a hash writes into pages already mapped instead of faulting in 19 MiB
//! anew. The memory is wiped after every use, so no password-derived state lingers.
//! Every function is CPU-bound for tens of milliseconds: the pool (`super::pool`) runs them.

use std::sync::OnceLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordVerifier as _, Version};
use subtle::ConstantTimeEq as _;

/// OWASP Password Storage Cheat Sheet, argon2id option 2: m=19456 KiB, t=2, p=1.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
/// The tag length of every hash we make (argon2's default).
const OUTPUT_LEN: usize = 32;

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN)).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Argon2's working memory, allocated on first use and kept for the next hash: at most
/// what our own parameters need (19 MiB). A stored hash that asks for more (none of ours
/// does) is verified the argon2 crate's way, on memory allocated for it alone.
#[derive(Default)]
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl std::fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashMemory")
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl HashMemory {
    /// The most blocks kept between hashes: what our own parameters need.
    fn max_kept_blocks() -> usize {
        hasher().params().block_count()
    }

    /// Runs `use_blocks` on `count` (at most [`Self::max_kept_blocks`]) kept blocks, then
    /// wipes them.
    fn with_blocks<T>(&mut self, count: usize, use_blocks: impl FnOnce(&mut [Block]) -> T) -> T {
        if self.blocks.len() < count {
            self.blocks = vec![Block::new(); count];
        }
        let blocks = &mut self.blocks[..count];
        let result = use_blocks(blocks);
        // The next hash reads these blocks again, so this wipe is never optimised away.
        blocks.fill(Block::new());
        result
    }
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), with a
/// fresh 16-byte salt from the operating system.
pub fn hash_with(memory: &mut HashMemory, password: &str) -> Result<String, HashError> {
    let failed = |e: &dyn std::fmt::Display| HashError(e.to_string());
    let salt_bytes = argon2::password_hash::try_generate_salt().map_err(|e| failed(&e))?;
    let argon2 = hasher();
    let mut tag = [0u8; OUTPUT_LEN];
    memory
        .with_blocks(argon2.params().block_count(), |blocks| {
            argon2.hash_password_into_with_memory(
                password.as_bytes(),
                &salt_bytes,
                &mut tag,
                blocks,
            )
        })
        .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt_bytes).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&tag).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC string, computed with the algorithm, version
/// and parameters the string names and compared in constant time. A malformed stored hash
/// is a mismatch.
pub fn verify_with(memory: &mut HashMemory, password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let block_count = argon2.params().block_count();
    if block_count > HashMemory::max_kept_blocks() {
        return argon2.verify_password(password.as_bytes(), &parsed).is_ok();
    }
    let mut tag = [0u8; Output::MAX_LENGTH];
    let Some(tag) = tag.get_mut(..expected.len()) else {
        return false;
    };
    let computed = memory.with_blocks(block_count, |blocks| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt, tag, blocks)
    });
    computed.is_ok() && bool::from(tag.ct_eq(expected.as_bytes()))
}

/// Spends the same work as [`verify_with`] against a hash no password matches, so an
/// unknown username takes as long to refuse as a wrong password (SECURITY.md 24).
pub fn verify_dummy_with(memory: &mut HashMemory, password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| {
        hash_with(memory, "dummy password that guards timing").unwrap_or_else(|_| String::new())
    });
    let _always_false = verify_with(memory, password, stored);
}

/// [`hash_with`] on memory of its own (the CLI, tests).
pub fn hash(password: &str) -> Result<String, HashError> {
    hash_with(&mut HashMemory::default(), password)
}

/// [`verify_with`] on memory of its own.
pub fn verify(password: &str, stored: &str) -> bool {
    verify_with(&mut HashMemory::default(), password, stored)
}

/// The argon2 crate's own verification (it allocates its memory): the yardstick the tests
/// hold ours to.
#[cfg(test)]
fn verify_as_the_crate_does(password: &str, stored: &str) -> bool {
    hasher()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use argon2::PasswordHasher as _;

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

    #[test]
    fn reused_memory_gives_the_crates_own_phc_strings() {
        let mut memory = HashMemory::default();
        let ours = hash_with(&mut memory, "violet-anchor-tundra-42").unwrap();
        // Used memory (and wiped) on the second round: the results must not change.
        let again = hash_with(&mut memory, "violet-anchor-tundra-42").unwrap();
        for stored in [&ours, &again] {
            assert!(verify_as_the_crate_does("violet-anchor-tundra-42", stored));
            assert!(!verify_as_the_crate_does("violet-anchor-tundra-4", stored));
        }
        // The crate's own string for our salt is ours, byte for byte.
        let parsed = PasswordHash::new(&ours).unwrap();
        let salt = parsed.salt.unwrap();
        let theirs = hasher()
            .hash_password_with_salt(b"violet-anchor-tundra-42", &salt)
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        assert!(
            memory
                .blocks
                .iter()
                .all(|block| block.as_ref().iter().all(|word| *word == 0)),
            "wiped after use"
        );
    }

    #[test]
    fn hashes_with_other_parameters_still_verify() {
        let mut memory = HashMemory::default();
        let salt = b"example-salt-16b";
        for (algorithm, m_cost, t_cost, output_len) in [
            (Algorithm::Argon2id, 8, 1, 16),
            (Algorithm::Argon2i, 64, 3, 32),
            (Algorithm::Argon2d, 1024, 1, 64),
            // More memory than ours: verified on memory of its own.
            (Algorithm::Argon2id, 40_000, 1, 32),
        ] {
            let params = Params::new(m_cost, t_cost, 1, Some(output_len)).unwrap();
            let stored = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password_with_salt(b"correct horse", salt)
                .unwrap()
                .to_string();
            assert!(
                verify_with(&mut memory, "correct horse", &stored),
                "{stored}"
            );
            assert!(
                !verify_with(&mut memory, "correct horsf", &stored),
                "{stored}"
            );
        }
        // The largest that fit in our own 19 MiB was kept; the 40 000 KiB one was not.
        assert_eq!(memory.blocks.len(), 1024);
    }

    #[test]
    fn the_dummy_verification_runs_on_the_kept_memory() {
        let mut memory = HashMemory::default();
        verify_dummy_with(&mut memory, "dummy password that guards timing");
        assert_eq!(memory.blocks.len(), HashMemory::max_kept_blocks());
    }
}
