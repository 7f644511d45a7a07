//! `clients create|list|show|disable|enable|rotate-secret`: the OAuth clients, as JSON.
//! A secret is printed once, when it is made; the stored hash never.

use clap::Subcommand;
use serde_json::{Value, json};
use shared::config::Settings;
use shared::models::client::Client;

use super::{CliError, open_db, print_json, print_json_line, rfc3339};
use crate::oauth::clients::{self, NewClient};
use crate::oauth::grant_type::GrantType;

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register a client; prints its client_id and, for a confidential client, its secret
    /// (shown this once).
    Create {
        #[arg(long)]
        name: String,
        /// An exact redirect URI; repeat for several (authorization_code clients).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Space-separated scopes the client may ask for.
        #[arg(long, default_value = "tasks:read tasks:write")]
        scope: String,
        /// A public client (a browser or native app that cannot keep a secret).
        #[arg(long)]
        public: bool,
        /// One of our own apps: users are not asked for consent.
        #[arg(long)]
        first_party: bool,
        /// Let a confidential client skip PKCE (not recommended; public clients never can).
        #[arg(long)]
        no_pkce: bool,
        /// Grant types allowed; repeat for several. Default: authorization_code and
        /// refresh_token (none for a resource server).
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// A resource server (such as the task API): may introspect any token.
        #[arg(long)]
        resource_server: bool,
        /// The algorithm of the client's OpenID Connect ID tokens: RS256 (the default, which
        /// every OpenID Connect library supports) or EdDSA.
        #[arg(long = "id-token-alg")]
        id_token_alg: Option<String>,
        /// An exact URI the app may send a person back to after signing them out
        /// (OpenID Connect RP-initiated logout); repeat for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Where the app receives back-channel logout tokens when a person's session ends.
        #[arg(long = "backchannel-logout-uri")]
        backchannel_logout_uri: Option<String>,
        /// Ask for the second factor (TOTP) before authorizing this app, even in a session
        /// signed in with the password alone; people without one set it up first.
        #[arg(long)]
        require_mfa: bool,
    },
    /// List every client.
    List,
    /// Show one client.
    Show { client_id: String },
    /// Disable a client: its users can no longer authorize it or exchange codes.
    Disable { client_id: String },
    /// Enable a disabled client again.
    Enable { client_id: String },
    /// Replace a confidential client's secret; the old one stops working at once.
    RotateSecret { client_id: String },
}

pub(super) async fn run(settings: &Settings, command: ClientsCommand) -> Result<(), CliError> {
    let db = open_db(settings)?;
    let no_such = |id: &str| CliError::NotFound(format!("no such client: {id}"));
    match command {
        ClientsCommand::Create {
            name,
            redirect_uris,
            scope,
            public,
            first_party,
            no_pkce,
            grant_types,
            resource_server,
            id_token_alg,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            require_mfa,
        } => {
            let grant_types = if grant_types.is_empty() && !resource_server {
                vec![
                    GrantType::AuthorizationCode.to_string(),
                    GrantType::RefreshToken.to_string(),
                ]
            } else {
                grant_types
            };
            let new = NewClient {
                name,
                redirect_uris,
                scope,
                grant_types,
                is_public: public,
                is_first_party: first_party,
                require_pkce: !no_pkce,
                is_resource_server: resource_server,
                id_token_signed_response_alg: id_token_alg,
                post_logout_redirect_uris,
                backchannel_logout_uri,
                require_mfa,
            };
            // `register` refuses with a message naming the argument at fault.
            let (client, secret) = clients::register(&db, new).await.map_err(|e| match e {
                clients::RegisterClientError::Invalid(message) => CliError::Invalid(message),
                clients::RegisterClientError::Db(error) => CliError::from(error),
            })?;
            let mut output = client_json(&client);
            if let Some(secret) = secret {
                output["client_secret"] = Value::String(secret.expose().to_owned());
            }
            print_json(&output)
        }
        ClientsCommand::List => {
            let all = clients::list(&db).await?;
            print_json(&Value::Array(all.iter().map(client_json).collect()))
        }
        ClientsCommand::Show { client_id } => {
            let client = clients::find(&db, client_id.clone())
                .await?
                .ok_or_else(|| no_such(&client_id))?;
            print_json(&client_json(&client))
        }
        ClientsCommand::Disable { client_id } => {
            if !clients::set_enabled(&db, client_id.clone(), false).await? {
                return Err(no_such(&client_id));
            }
            print_json_line(&json!({ "client_id": client_id, "disabled": true }))
        }
        ClientsCommand::Enable { client_id } => {
            if !clients::set_enabled(&db, client_id.clone(), true).await? {
                return Err(no_such(&client_id));
            }
            print_json_line(&json!({ "client_id": client_id, "disabled": false }))
        }
        ClientsCommand::RotateSecret { client_id } => {
            let secret = clients::rotate_secret(&db, client_id.clone())
                .await?
                .ok_or_else(|| {
                    CliError::NotFound(format!("no such confidential client: {client_id}"))
                })?;
            print_json(&json!({ "client_id": client_id, "client_secret": secret.expose() }))
        }
    }
}

/// A client as the CLI prints it (never the secret hash).
fn client_json(client: &Client) -> Value {
    json!({
        "client_id": client.client_id,
        "name": client.name,
        "redirect_uris": client.redirect_uri_list().collect::<Vec<_>>(),
        "scope": client.scopes,
        "grant_types": client.grant_types.split_whitespace().collect::<Vec<_>>(),
        "public": client.is_public,
        "first_party": client.is_first_party,
        "require_pkce": client.require_pkce,
        "resource_server": client.is_resource_server,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "post_logout_redirect_uris": client.post_logout_redirect_uri_list().collect::<Vec<_>>(),
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "require_mfa": client.require_mfa,
        "token_endpoint_auth_method": if client.is_public { "none" } else { "client_secret_basic" },
        "created_at": rfc3339(client.created_at),
        "disabled_at": client.disabled_at.map(rfc3339),
    })
}
