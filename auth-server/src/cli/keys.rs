//! `keys rotate|list`: the token-signing keys, as JSON. The keys' logic (rotation, which key
//! signs) lives in `oauth::keys`; this only shapes what the operator sees.

use clap::Subcommand;
use serde_json::{Value, json};
use shared::config::Settings;
use shared::models::now;

use super::{CliError, open_db, print_json, rfc3339};
use crate::oauth::keys::{self, KeyEncryptionKey};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key of each algorithm (EdDSA, RS256) that signs from now on; the
    /// previous keys stay published until every token they signed has expired.
    Rotate {
        /// For a compromised key: the previous keys leave the JWKS at once, so every token
        /// they signed is refused once instances reload their keys (SIGNING_KEYS_RELOAD).
        #[arg(long)]
        retire_previous_now: bool,
    },
    /// List the keys: which one signs, which are still published, which are retired.
    List,
}

pub(super) async fn run(settings: &Settings, command: KeysCommand) -> Result<(), CliError> {
    let db = open_db(settings)?;
    match command {
        KeysCommand::Rotate {
            retire_previous_now,
        } => {
            let kek = KeyEncryptionKey::from_settings(&settings.keys);
            let retire_after = if retire_previous_now {
                now()
            } else {
                now() + keys::retirement_delay(&settings.keys, &settings.tokens)
            };
            let rows = db
                .run(move |conn| keys::rotate(conn, kek.as_ref(), retire_after))
                .await?;
            // `kid` and `alg` name the key that signs access tokens, as before ID tokens.
            let access = rows
                .iter()
                .find(|row| row.alg == keys::KeyAlgorithm::EdDSA.as_str());
            print_json(&json!({
                "kid": access.map(|row| &row.kid),
                "alg": access.map(|row| &row.alg),
                "keys": rows.iter().map(|row| json!({ "kid": row.kid, "alg": row.alg })).collect::<Vec<_>>(),
                "previous_keys_published_until": rfc3339(retire_after),
            }))
        }
        KeysCommand::List => {
            let at = now();
            let warm_up = keys::warm_up(&settings.keys);
            let listed = db.run(move |conn| keys::list(conn, at, warm_up)).await?;
            let listed = listed
                .iter()
                .map(|key| {
                    json!({
                        "kid": key.kid,
                        "alg": key.alg,
                        "status": key.status.as_str(),
                        "encrypted": key.encrypted,
                        "created_at": rfc3339(key.created_at),
                        "retire_after": key.retire_after.map(rfc3339),
                    })
                })
                .collect();
            print_json(&Value::Array(listed))
        }
    }
}
