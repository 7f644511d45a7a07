//! Scopes (auth-server `oauth::scope`, RFC 6749 §3.3), as `/authorize` and `/token` read
//! them. Asserts that `Scope::parse` gives exactly what an independent reading of the
//! grammar gives — `Empty` for "", `Malformed` at the first token that is empty or has a
//! byte outside %x21 / %x23-5B / %x5D-7E, `Unknown` (its first 64 characters) at the first
//! well-formed token the server does not know, else the set of tokens — and that an
//! accepted scope prints sorted and unique, and reads back (parsed or stored) as itself.
#![no_main]

use std::collections::BTreeSet;

use auth_server::oauth::scope::{KNOWN_SCOPES, Scope, ScopeError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Scope::parse(value);
    match (&parsed, expected(value)) {
        (Ok(scope), Ok(tokens)) => {
            assert_eq!(scope.iter().collect::<BTreeSet<_>>(), tokens);
            let printed = scope.to_string();
            let sorted: Vec<&str> = tokens.iter().copied().collect();
            assert_eq!(printed, sorted.join(" "));
            assert_eq!(Scope::parse(&printed).as_ref(), Ok(scope));
            assert_eq!(&Scope::from_stored(&printed), scope);
            assert!(scope.is_subset_of(scope) && &scope.union(scope) == scope);
            for (token, sentence) in scope.descriptions() {
                assert!(scope.contains(token) && !sentence.is_empty());
            }
        }
        (Err(error), Err(expected)) => assert_eq!(error, &expected, "{value:?}"),
        (got, want) => panic!("{value:?}: parsed {got:?}, the grammar says {want:?}"),
    }
});

/// RFC 6749 §3.3, read byte by byte: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn expected(value: &str) -> Result<BTreeSet<&str>, ScopeError> {
    if value.is_empty() {
        return Err(ScopeError::Empty);
    }
    let mut tokens = BTreeSet::new();
    for token in value.split(' ') {
        let well_formed = !token.is_empty()
            && token
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        if !well_formed {
            return Err(ScopeError::Malformed);
        }
        if !KNOWN_SCOPES.iter().any(|(known, _)| *known == token) {
            return Err(ScopeError::Unknown(token.chars().take(64).collect()));
        }
        tokens.insert(token);
    }
    Ok(tokens)
}
