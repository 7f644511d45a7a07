//! The operator CLI: `serve`, `migrate`, `users create`. Every command reads the same
//! settings as the server (environment, or a TOML file named by `--config`).

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::config::Settings;
use shared::db::{Db, build_pool};

use crate::accounts::register::{self, NewAccount, RegisterError};
use crate::domain::{EmailAddress, NewPassword, Username};
use crate::oauth::clients::{self, NewClient};
use crate::oauth::keys::{self, KeyEncryptionKey};
use crate::oauth::token::GrantType;
use crate::startup::Application;
use shared::models::client::Client;

#[derive(Debug, Parser)]
#[command(
    name = "auth-server",
    version,
    about = "OAuth 2.0 authorization server"
)]
pub struct Cli {
    /// A TOML file of settings (environment variables override it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the authorization server (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage OAuth clients (the apps that ask users for access).
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Manage the keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage users' personal API keys.
    ApiKeys {
        #[command(subcommand)]
        command: ApiKeysCommand,
    },
    /// Read the security events kept in the audit table.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the newest events first, as JSON.
    List {
        /// Only events of this kind (e.g. login_failure, code_replay, rate_limit_block).
        #[arg(long)]
        kind: Option<String>,
        /// Only events of this user (a username).
        #[arg(long)]
        user: Option<String>,
        /// Only events of this client (a client_id).
        #[arg(long)]
        client: Option<String>,
        /// Only events from this long ago or later, e.g. 30m, 24h, 7d.
        #[arg(long)]
        since: Option<String>,
        /// At most this many events (1 to 10000).
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create an API key for a user; prints it (shown this once).
    Create {
        /// The username.
        #[arg(long)]
        user: String,
        /// Space-separated scopes.
        #[arg(long)]
        scope: String,
        /// Lifetime: 1d to 365d.
        #[arg(long, default_value = "30d")]
        expires_in: String,
        #[arg(long, default_value = "CLI key")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key that signs from now on; the previous keys stay published
    /// until every token they signed has expired.
    Rotate {
        /// For a compromised key: the previous keys leave the JWKS at once, so every token
        /// they signed is refused once instances reload their keys (SIGNING_KEYS_RELOAD).
        #[arg(long)]
        retire_previous_now: bool,
    },
    /// List the keys: which one signs, which are still published, which are retired.
    List,
}

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

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("auth-server: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    shared::telemetry::init(settings.log_format);
    let result = match cli.command {
        Command::Serve => serve(settings).await,
        Command::Migrate => migrate(&settings),
        Command::Users {
            command: UsersCommand::Create { username, email },
        } => create_user(&settings, &username, &email).await,
        Command::Clients { command } => clients_command(&settings, command).await,
        Command::Keys { command } => keys_command(&settings, command),
        Command::ApiKeys { command } => api_keys_command(&settings, command).await,
        Command::Audit { command } => audit_command(&settings, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("auth-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

fn migrate(settings: &Settings) -> Result<(), String> {
    let db = Db::new(build_pool(settings));
    let applied = db.migrate().map_err(|e| e.to_string())?;
    if applied.is_empty() {
        println!("database is up to date ({})", settings.database_url);
    } else {
        println!(
            "applied {} migration(s) to {}: {}",
            applied.len(),
            settings.database_url,
            applied.join(", ")
        );
    }
    Ok(())
}

async fn create_user(settings: &Settings, username: &str, email: &str) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    // A trailing newline from `echo` or a terminal is not part of the password.
    let password = password.strip_suffix('\n').unwrap_or(&password);
    let password = password.strip_suffix('\r').unwrap_or(password);

    let account = NewAccount {
        username: Username::parse(username).map_err(|m| format!("--username: {m}"))?,
        email: EmailAddress::parse(email).map_err(|m| format!("--email: {m}"))?,
        password: NewPassword::parse(password, username, email)
            .map_err(|m| format!("password: {m}"))?,
    };
    let db = Db::new(build_pool(settings));
    db.migrate().map_err(|e| e.to_string())?;
    let user = register::create_account(&db, account)
        .await
        .map_err(|e| match e {
            RegisterError::Taken => {
                "that username or email address is already registered".to_owned()
            }
            RegisterError::Failed(error) => error.to_string(),
        })?;
    println!(
        "{}",
        serde_json::json!({ "id": user.id, "username": user.username, "email": user.email })
    );
    Ok(())
}

/// A client as the CLI prints it (never the secret hash).
fn client_json(client: &Client) -> serde_json::Value {
    serde_json::json!({
        "client_id": client.client_id,
        "name": client.name,
        "redirect_uris": client.redirect_uri_list().collect::<Vec<_>>(),
        "scope": client.scopes,
        "grant_types": client.grant_types.split_whitespace().collect::<Vec<_>>(),
        "public": client.is_public,
        "first_party": client.is_first_party,
        "require_pkce": client.require_pkce,
        "resource_server": client.is_resource_server,
        "token_endpoint_auth_method": if client.is_public { "none" } else { "client_secret_basic" },
        "created_at": client.created_at.and_utc().to_rfc3339(),
        "disabled_at": client.disabled_at.map(|at| at.and_utc().to_rfc3339()),
    })
}

async fn clients_command(settings: &Settings, command: ClientsCommand) -> Result<(), String> {
    let db = Db::new(build_pool(settings));
    db.migrate().map_err(|e| e.to_string())?;
    let no_such = |id: &str| format!("no such client: {id}");
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
            };
            let (client, secret) = clients::register(&db, new).await?;
            let mut output = client_json(&client);
            if let Some(secret) = secret {
                output["client_secret"] = serde_json::Value::String(secret.expose().to_owned());
            }
            println!("{output:#}");
        }
        ClientsCommand::List => {
            let all = clients::list(&db).await.map_err(|e| e.to_string())?;
            let list: Vec<_> = all.iter().map(client_json).collect();
            println!("{:#}", serde_json::Value::Array(list));
        }
        ClientsCommand::Show { client_id } => {
            let client = clients::find(&db, client_id.clone())
                .await
                .map_err(|e| e.to_string())?;
            let client = client.ok_or_else(|| no_such(&client_id))?;
            println!("{:#}", client_json(&client));
        }
        ClientsCommand::Disable { client_id } => {
            if !clients::set_enabled(&db, client_id.clone(), false)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(no_such(&client_id));
            }
            println!(
                "{}",
                serde_json::json!({ "client_id": client_id, "disabled": true })
            );
        }
        ClientsCommand::Enable { client_id } => {
            if !clients::set_enabled(&db, client_id.clone(), true)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(no_such(&client_id));
            }
            println!(
                "{}",
                serde_json::json!({ "client_id": client_id, "disabled": false })
            );
        }
        ClientsCommand::RotateSecret { client_id } => {
            let secret = clients::rotate_secret(&db, client_id.clone())
                .await
                .map_err(|e| e.to_string())?;
            let secret =
                secret.ok_or_else(|| format!("no such confidential client: {client_id}"))?;
            println!(
                "{:#}",
                serde_json::json!({ "client_id": client_id, "client_secret": secret.expose() })
            );
        }
    }
    Ok(())
}

fn keys_command(settings: &Settings, command: KeysCommand) -> Result<(), String> {
    let db = Db::new(build_pool(settings));
    db.migrate().map_err(|e| e.to_string())?;
    let mut conn = db.pool().get().map_err(|e| e.to_string())?;
    let kek = settings
        .key_encryption_key
        .as_ref()
        .map(KeyEncryptionKey::from_secret);
    match command {
        KeysCommand::Rotate {
            retire_previous_now,
        } => {
            let retire_after = if retire_previous_now {
                shared::models::now()
            } else {
                shared::models::now() + keys::retirement_delay(settings)
            };
            let row =
                keys::rotate(&mut conn, kek.as_ref(), retire_after).map_err(|e| e.to_string())?;
            println!(
                "{:#}",
                serde_json::json!({
                    "kid": row.kid,
                    "alg": row.alg,
                    "previous_keys_published_until": retire_after.and_utc().to_rfc3339(),
                })
            );
        }
        KeysCommand::List => {
            let at = shared::models::now();
            let rows = shared::models::signing_key::SigningKeyRow::all(&mut conn)
                .map_err(|e| e.to_string())?;
            let newest_live = rows
                .iter()
                .find(|row| row.retire_after.is_none_or(|until| until > at))
                .map(|row| row.kid.clone());
            let listed: Vec<serde_json::Value> = rows
                .iter()
                .map(|row| {
                    let status = if Some(&row.kid) == newest_live.as_ref() {
                        "signing"
                    } else if row.retire_after.is_some_and(|until| until > at) {
                        "published"
                    } else {
                        "retired"
                    };
                    serde_json::json!({
                        "kid": row.kid,
                        "alg": row.alg,
                        "status": status,
                        "encrypted": row.private_key.starts_with("v1:"),
                        "created_at": row.created_at.and_utc().to_rfc3339(),
                        "retire_after": row.retire_after.map(|t| t.and_utc().to_rfc3339()),
                    })
                })
                .collect();
            println!("{:#}", serde_json::Value::Array(listed));
        }
    }
    Ok(())
}

async fn api_keys_command(settings: &Settings, command: ApiKeysCommand) -> Result<(), String> {
    let ApiKeysCommand::Create {
        user,
        scope,
        expires_in,
        name,
    } = command;
    let days = shared::config::parse_duration(&expires_in)
        .map(|d| i64::try_from(d.as_secs() / 86_400).unwrap_or(i64::MAX))
        .ok_or_else(|| format!("--expires-in: `{expires_in}` is not a duration like 30d"))?;
    let db = Db::new(build_pool(settings));
    db.migrate().map_err(|e| e.to_string())?;
    let username = crate::domain::username::normalize(&user);
    let found = db
        .run(move |conn| shared::models::user::User::find_by_username(conn, &username))
        .await
        .map_err(|e: shared::db::DbError| e.to_string())?
        .ok_or_else(|| format!("--user: no such user: {user}"))?;
    let new = crate::accounts::api_keys::NewApiKey {
        name,
        scope,
        expires_in_days: days,
    };
    let (row, key) = crate::accounts::api_keys::create(&db, found.id, new)
        .await
        .map_err(|e| e.to_string())??;
    println!(
        "{:#}",
        serde_json::json!({
            "id": row.id,
            "key": key.expose(),
            "name": row.name,
            "scope": row.scopes,
            "expires_at": row.expires_at.and_utc().to_rfc3339(),
        })
    );
    Ok(())
}

fn audit_command(settings: &Settings, command: AuditCommand) -> Result<(), String> {
    let AuditCommand::List {
        kind,
        user,
        client,
        since,
        limit,
    } = command;
    if !(1..=10_000).contains(&limit) {
        return Err("--limit must be from 1 to 10000".into());
    }
    let since = match since.as_deref() {
        None => None,
        Some(text) => {
            let ago = shared::config::parse_duration(text)
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .ok_or_else(|| {
                    format!("--since: `{text}` is not a duration like 30m, 24h or 7d")
                })?;
            Some(shared::models::now() - ago)
        }
    };
    let db = Db::new(build_pool(settings));
    db.migrate().map_err(|e| e.to_string())?;
    let mut conn = db.pool().get().map_err(|e| e.to_string())?;
    let user_id = match user {
        None => None,
        Some(username) => Some(
            shared::models::user::User::find_by_username(
                &mut conn,
                &crate::domain::username::normalize(&username),
            )
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no such user: {username}"))?
            .id,
        ),
    };
    let filter = shared::models::audit_event::AuditFilter {
        kind,
        user_id,
        client_id: client,
        since,
        limit,
    };
    let rows = shared::models::audit_event::AuditEventRow::list(&mut conn, &filter)
        .map_err(|e| e.to_string())?;
    let events: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|row| {
            serde_json::json!({
                "at": row.at.and_utc().to_rfc3339(),
                "kind": row.kind,
                "user_id": row.user_id,
                "client_id": row.client_id,
                "ip": row.ip,
                "detail": serde_json::from_str::<serde_json::Value>(&row.detail)
                    .unwrap_or(serde_json::Value::String(row.detail)),
            })
        })
        .collect();
    println!("{:#}", serde_json::Value::Array(events));
    Ok(())
}
