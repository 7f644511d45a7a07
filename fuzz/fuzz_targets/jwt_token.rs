//! Arbitrary bytes as an access token, through the task API's verification
//! (`resource_api::auth::jwt`) with a fixed key. No one but the holder of that key can
//! make a token verify, so the assertion is absolute: the only input that may verify is
//! the genuine token the target signs itself (`corpus/jwt_token/genuine`); every mutation
//! of it — a flipped bit in the signature, a re-encoded header, padding, an extra segment —
//! must fail.
#![no_main]

use std::sync::LazyLock;

use jsonwebtoken::{DecodingKey, Validation};
use libfuzzer_sys::fuzz_target;
use oauth_fuzz::jwt;
use resource_api::auth::jwt::{check, read_header};

static KEY: LazyLock<DecodingKey> = LazyLock::new(jwt::decoding_key);
static VALIDATION: LazyLock<Validation> = LazyLock::new(jwt::validation);
/// Verified once before anything else: were it refused, the assertion below would hold
/// for nothing.
static GENUINE: LazyLock<String> = LazyLock::new(|| {
    let genuine = jwt::genuine();
    let kid = read_header(&genuine).expect("the genuine header");
    check(&genuine, kid, &KEY, &VALIDATION).expect("the genuine token verifies");
    genuine
});

fuzz_target!(|data: &[u8]| {
    LazyLock::force(&GENUINE);
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(kid) = read_header(token) else { return };
    if kid != jwt::KID {
        return;
    }
    if let Ok(checked) = check(token, kid, &KEY, &VALIDATION) {
        assert_eq!(
            token,
            GENUINE.as_str(),
            "a token the key never signed verified"
        );
        assert_eq!(checked.caller.subject, "user-1");
        assert_eq!(checked.caller.scopes, ["tasks:read", "tasks:write"]);
        assert_eq!(
            (checked.jti.as_str(), checked.exp),
            ("jti-1", 4_102_444_800)
        );
    }
});
