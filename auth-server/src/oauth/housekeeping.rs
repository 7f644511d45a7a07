//! Deleting what can no longer be used: expired codes (kept a day past expiry, so a late
//! replay still revokes what the code issued), access-token records and revocations of
//! tokens no verifier accepts anymore (kept past `exp` for the verifiers' leeway: until
//! then a revoked token must stay refused), expired refresh tokens, mailed account links a day
//! past expiry (their rows count towards the per-hour mail limits), and audit events older
//! than `AUDIT_RETENTION`.

use shared::claims::accepted_expiry_floor;
use shared::db::{Db, DbError};
use shared::models::access_token::AccessTokenRecord;
use shared::models::account_token::AccountToken;
use shared::models::audit_event::AuditEventRow;
use shared::models::authorization_code::AuthorizationCode;
use shared::models::now;
use shared::models::refresh_token::RefreshToken;
use shared::models::token_revocation::TokenRevocation;

/// How long a code row outlives its expiry, for replay detection.
const CODE_RETENTION: chrono::Duration = chrono::Duration::days(1);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub codes: usize,
    pub access_tokens: usize,
    pub token_revocations: usize,
    pub refresh_tokens: usize,
    pub account_links: usize,
    pub audit_events: usize,
}

pub async fn prune(db: &Db, audit_retention: std::time::Duration) -> Result<Pruned, DbError> {
    let audit_retention =
        chrono::Duration::from_std(audit_retention).unwrap_or(chrono::Duration::MAX);
    db.run(move |conn| {
        let at = now();
        Ok(Pruned {
            codes: AuthorizationCode::delete_expired(conn, at - CODE_RETENTION)?,
            access_tokens: AccessTokenRecord::delete_expired(conn, accepted_expiry_floor(at))?,
            token_revocations: TokenRevocation::delete_expired(conn, accepted_expiry_floor(at))?,
            refresh_tokens: RefreshToken::delete_expired(conn, at)?,
            account_links: AccountToken::delete_expired(conn, at - CODE_RETENTION)?,
            audit_events: match at.checked_sub_signed(audit_retention) {
                Some(before) => AuditEventRow::delete_older_than(conn, before)?,
                None => 0,
            },
        })
    })
    .await
}
