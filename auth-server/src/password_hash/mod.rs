//! Password hashing for sign-up and sign-in: argon2id with the OWASP parameters
//! ([`argon`]), run on threads of its own ([`pool`]) at the lowest CPU priority
//! ([`priority`]) — never on tokio's blocking pool, where the database work runs.
//!
//! Each hash holds 19 MiB for tens of milliseconds. On the shared blocking pool a storm of
//! failing sign-ins from many addresses ran dozens at once: memory soared and the token
//! endpoint and every query waited behind them. Here at most `PASSWORD_HASH_THREADS`
//! hashes run, each thread reusing one buffer; at most `PASSWORD_HASH_QUEUE` more wait, and
//! the next is refused at once ([`HashingError::Busy`]) for the page to say "try again".
//! The queue holds only the jobs (a password and a reply channel), never argon2 memory.

pub mod argon;
pub mod pool;
pub mod priority;

use shared::config::PasswordHashSettings;

pub use self::argon::{HashError, HashMemory, hash, verify};
use self::pool::{HashingPool, PoolError};
use crate::domain::NewPassword;

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every hashing thread is busy and the queue is full; nothing was hashed.
    #[error("too many passwords are being hashed right now")]
    Busy,
    #[error("{0}")]
    Failed(String),
}

impl From<PoolError> for HashingError {
    fn from(error: PoolError) -> Self {
        match error {
            PoolError::Busy => {
                tracing::warn!(
                    "password hashing refused: every thread is busy and the queue is full \
                     (PASSWORD_HASH_THREADS, PASSWORD_HASH_QUEUE)"
                );
                Self::Busy
            }
            PoolError::Failed => Self::Failed(error.to_string()),
        }
    }
}

/// The server's password hashing: cheap to clone, every clone on the same threads.
#[derive(Debug, Clone)]
pub struct PasswordHashing {
    pool: HashingPool,
}

impl PasswordHashing {
    /// Starts the hashing threads (`PASSWORD_HASH_THREADS`) behind their queue
    /// (`PASSWORD_HASH_QUEUE`).
    pub fn start(settings: &PasswordHashSettings) -> std::io::Result<Self> {
        Ok(Self {
            pool: HashingPool::start(settings.threads, settings.queue)?,
        })
    }

    /// The PHC string of a new password (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: NewPassword) -> Result<String, HashingError> {
        let answer = self
            .pool
            .submit(move |memory| argon::hash_with(memory, password.expose()))?;
        answer
            .await?
            .map_err(|e| HashingError::Failed(e.to_string()))
    }

    /// Whether `password` matches `stored`. Without a stored hash (no such account, or a
    /// locked one) the same work is done against a dummy hash and the answer is `false`,
    /// so timing tells the cases apart no more than the answer does (SECURITY.md 24).
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashingError> {
        let answer = self.pool.submit(move |memory| match stored {
            Some(stored) => argon::verify_with(memory, &password, &stored),
            None => {
                argon::verify_dummy_with(memory, &password);
                false
            }
        })?;
        Ok(answer.await?)
    }
}
