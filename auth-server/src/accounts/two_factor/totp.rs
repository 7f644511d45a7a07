//! TOTP codes as RFC 6238 defines them and every authenticator app computes them: HMAC-SHA-1,
//! six digits, 30-second steps, one step of drift either way (§5.2), over a 160-bit random
//! secret (RFC 4226 §4 recommends 160 bits).

use rand::RngCore as _;
use totp_rs::{Algorithm, Builder, Secret, Totp};

const SECRET_BYTES: usize = 20;
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
/// Steps accepted before and after the current one (a slow typist, a clock a little off).
const SKEW_STEPS: u16 = 1;

/// A TOTP shared key. `Debug` shows nothing.
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as a person types it into an app: base32 (RFC 4648) in groups of four.
    pub fn for_typing(&self) -> String {
        let base32 = Secret::from(self.0.as_slice()).to_base32();
        let chars: Vec<char> = base32.chars().collect();
        chars
            .chunks(4)
            .map(|group| group.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn totp(&self, account: &str, issuer: Option<&str>) -> Option<Totp> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_step_duration(STEP_SECONDS)
            .with_skew(SKEW_STEPS)
            .with_secret(self.0.as_slice())
            .with_account_name(account)
            .with_issuer(issuer)
            .build()
            .ok()
    }

    /// The time step whose code `code` is, at `unix_time`, within the drift allowed; `None`
    /// for a wrong code. (Whether that step was used already is the caller's to check.)
    pub fn matching_step(&self, code: &Code, unix_time: u64) -> Option<u64> {
        self.totp("", None)?.check(&code.0, unix_time)
    }

    /// The key URI authenticator apps read from the QR code
    /// (`otpauth://totp/Issuer:account?secret=…&issuer=Issuer`). Neither part may hold a
    /// colon, which separates them; one is dropped from the issuer label.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Option<String> {
        let issuer = issuer.replace(':', "");
        let account = account.replace(':', "");
        self.totp(&account, Some(&issuer))?.to_url().ok()
    }
}

/// Six digits as typed, spaces and dashes allowed between them.
#[derive(Clone)]
pub struct Code(String);

impl Code {
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        (digits.len() == usize::from(DIGITS) && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(Self(digits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 key, "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn codes_match_rfc_6238s_test_vectors() {
        // Appendix B lists eight digits; six-digit codes are their last six.
        for (time, eight_digits) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            let code = Code::parse(&eight_digits[2..]).unwrap();
            assert_eq!(
                rfc_secret().matching_step(&code, time),
                Some(time / 30),
                "{time}"
            );
        }
    }

    #[test]
    fn one_step_of_drift_is_allowed_and_no_more() {
        let code = Code::parse("287082").unwrap(); // step 1 (t = 30..59)
        assert_eq!(rfc_secret().matching_step(&code, 59 + 30), Some(1));
        assert_eq!(rfc_secret().matching_step(&code, 59 + 60), None);
    }

    #[test]
    fn only_six_digits_are_a_code() {
        assert!(Code::parse("123 456").is_some());
        assert!(Code::parse("123-456").is_some());
        for wrong in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert!(Code::parse(wrong).is_none(), "{wrong}");
        }
    }

    #[test]
    fn the_key_uri_names_issuer_and_account() {
        let uri = rfc_secret()
            .otpauth_uri("auth.example.com", "alice")
            .unwrap();
        assert_eq!(
            uri,
            "otpauth://totp/auth.example.com:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=auth.example.com"
        );
        assert_eq!(
            rfc_secret().for_typing(),
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
        );
    }
}
