//! What the planted authorization server and task API share, in memory: the registered
//! clients, the accounts and their sessions, the codes and refresh tokens issued, the
//! access tokens revoked at the authorization server, every secret handed out (so the
//! test can look for it in the report), and the tasks (a neighbour has some from the
//! start).

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::keys::Signer;
use super::task_api::store::TaskStore;
use super::values::random;

/// A registered OAuth client.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    /// `None` for a public client.
    pub secret: Option<String>,
    pub redirect_uri: String,
    /// May use `response_type=token`.
    pub implicit: bool,
}

impl Client {
    /// Whether the registered redirect URI is a loopback one (RFC 8252 §7.3).
    pub fn is_loopback(&self) -> bool {
        self.redirect_uri.starts_with("http://127.0.0.1")
    }
}

/// A person's account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub password: String,
}

/// An authorization code and what it was issued for.
#[derive(Debug, Clone)]
pub struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub subject: String,
    pub scope: String,
    /// The PKCE challenge and its method, if the request had one.
    pub challenge: Option<(String, String)>,
}

/// What a refresh token stands for.
#[derive(Debug, Clone)]
pub struct Grant {
    pub client_id: String,
    pub subject: String,
    pub scope: String,
}

/// The three clients the scanner is given, and the account.
pub const CONFIDENTIAL: &str = "planted-app";
pub const PUBLIC: &str = "planted-spa";
pub const LOOPBACK: &str = "planted-desktop";
pub const CONFIDENTIAL_REDIRECT: &str = "https://app.example.com/callback";
pub const USERNAME: &str = "alice";
/// Someone else, with tasks of their own from the start.
pub const NEIGHBOUR: &str = "bob";

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    /// The `User-Agent` it signed in with, shown in the account's list of sessions.
    pub user_agent: String,
}

pub struct State {
    pub issuer: String,
    pub api: String,
    pub clients: Vec<Client>,
    pub signer: Signer,
    accounts: Mutex<Vec<Account>>,
    /// Session id → who and from where.
    sessions: Mutex<HashMap<String, Session>>,
    codes: Mutex<HashMap<String, Code>>,
    refresh_tokens: Mutex<HashMap<String, Grant>>,
    /// `jti`s revoked at the authorization server.
    revoked: Mutex<HashSet<String>>,
    /// Every secret the servers handed out or were given.
    secrets: Mutex<Vec<String>>,
    pub tasks: Mutex<TaskStore>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("planted state lock")
}

impl State {
    pub fn new(issuer: String, api: String) -> Self {
        let clients = vec![
            Client {
                id: CONFIDENTIAL.into(),
                secret: Some(random("cs_planted_")),
                redirect_uri: CONFIDENTIAL_REDIRECT.into(),
                // PLANTED oauth.legacy_grants: an old registration still allows the implicit
                // grant (RFC 9700 §2.1.2 says no).
                implicit: true,
            },
            Client {
                id: PUBLIC.into(),
                secret: None,
                redirect_uri: "https://spa.example.com/callback".into(),
                implicit: false,
            },
            Client {
                id: LOOPBACK.into(),
                secret: None,
                redirect_uri: "http://127.0.0.1/callback".into(),
                implicit: false,
            },
        ];
        let accounts: Vec<Account> = [USERNAME, NEIGHBOUR]
            .into_iter()
            .map(|username| Account {
                id: random("user_"),
                username: username.into(),
                password: random("planted-password-"),
            })
            .collect();
        let mut secrets: Vec<String> = accounts.iter().map(|a| a.password.clone()).collect();
        secrets.extend(clients.iter().filter_map(|c| c.secret.clone()));
        let mut tasks = TaskStore::open();
        for title in ["Water the plants", "Call the bank"] {
            tasks
                .create(&accounts[1].id, title, None)
                .expect("a neighbour's task");
        }
        Self {
            issuer,
            api,
            clients,
            signer: Signer::generate(),
            accounts: Mutex::new(accounts),
            sessions: Mutex::default(),
            codes: Mutex::default(),
            refresh_tokens: Mutex::default(),
            revoked: Mutex::default(),
            secrets: Mutex::new(secrets),
            tasks: Mutex::new(tasks),
        }
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub fn confidential(&self) -> &Client {
        self.client(CONFIDENTIAL).expect("the confidential client")
    }

    pub fn account(&self, username: &str) -> Option<Account> {
        lock(&self.accounts)
            .iter()
            .find(|a| a.username == username)
            .cloned()
    }

    /// Creates an account; false when the name is taken.
    pub fn create_account(&self, username: &str, password: &str) -> bool {
        let mut accounts = lock(&self.accounts);
        if accounts.iter().any(|a| a.username == username) {
            return false;
        }
        accounts.push(Account {
            id: random("user_"),
            username: username.to_owned(),
            password: password.to_owned(),
        });
        true
    }

    /// The account named `username` if `password` is its password.
    pub fn check_password(&self, username: &str, password: &str) -> Option<Account> {
        self.account(username).filter(|a| a.password == password)
    }

    /// A session for `username` under `id`, or under a fresh random id.
    pub fn start_session(&self, id: Option<&str>, username: &str, user_agent: &str) -> String {
        let id = id.map_or_else(|| random("sess_"), str::to_owned);
        let session = Session {
            username: username.to_owned(),
            user_agent: user_agent.to_owned(),
        };
        lock(&self.sessions).insert(id.clone(), session);
        self.remember(&id);
        id
    }

    pub fn session_user(&self, session: &str) -> Option<Account> {
        let username = lock(&self.sessions).get(session)?.username.clone();
        self.account(&username)
    }

    /// The sessions of `username`.
    pub fn sessions_of(&self, username: &str) -> Vec<Session> {
        lock(&self.sessions)
            .values()
            .filter(|s| s.username == username)
            .cloned()
            .collect()
    }

    pub fn issue_code(&self, code: Code) -> String {
        let value = random("ac_");
        lock(&self.codes).insert(value.clone(), code);
        self.remember(&value);
        value
    }

    pub fn code(&self, value: &str) -> Option<Code> {
        lock(&self.codes).get(value).cloned()
    }

    pub fn issue_refresh_token(&self, grant: Grant) -> String {
        let value = random("rt_");
        lock(&self.refresh_tokens).insert(value.clone(), grant);
        self.remember(&value);
        value
    }

    pub fn refresh_grant(&self, value: &str) -> Option<Grant> {
        lock(&self.refresh_tokens).get(value).cloned()
    }

    pub fn revoke_refresh_token(&self, value: &str) -> bool {
        lock(&self.refresh_tokens).remove(value).is_some()
    }

    pub fn revoke_jti(&self, jti: &str) {
        lock(&self.revoked).insert(jti.to_owned());
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        lock(&self.revoked).contains(jti)
    }

    /// Keeps `secret` for the redaction test.
    pub fn remember(&self, secret: &str) {
        lock(&self.secrets).push(secret.to_owned());
    }

    /// Every secret handed out so far: passwords, client secrets, session ids, codes,
    /// access and refresh tokens.
    pub fn secrets(&self) -> Vec<String> {
        lock(&self.secrets).clone()
    }
}
