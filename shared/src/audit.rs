//! Security events (SECURITY.md 30): each is logged as a structured line under the
//! `security` target and kept as a row of `audit_events`. Rows are written by one
//! background thread per process, in batches, so a request never waits for the audit table;
//! while the database is down, events still reach the log and the rows are dropped (with a
//! log line saying how many), never the request.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;

use crate::db::{DbConnection, DbError, DbPool};
use crate::models::audit_event::AuditEventRow;
use crate::models::now;

/// Events waiting to be written; beyond this, new ones are dropped with an error line.
const QUEUE: usize = 10_000;
/// Rows written per transaction.
const BATCH: usize = 200;
/// Events worth keeping that are not warnings.
const ROUTINE: [&str; 3] = ["login_success", "token_revoked", "app_revoked"];
/// One retry after a failed write, then the batch is dropped.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// One security event. Never put a secret, token, code or password in it.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub kind: &'static str,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub detail: Value,
}

impl AuditEvent {
    pub fn new(kind: &'static str) -> Self {
        Self {
            kind,
            user_id: None,
            client_id: None,
            ip: None,
            detail: Value::Object(serde_json::Map::new()),
        }
    }

    pub fn user(mut self, user_id: Option<&str>) -> Self {
        self.user_id = user_id.map(str::to_owned);
        self
    }

    pub fn client(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.chars().take(128).collect());
        self
    }

    pub fn ip(mut self, ip: Option<&str>) -> Self {
        self.ip = ip.map(str::to_owned);
        self
    }

    /// Extra facts, as a JSON object.
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Records events for one database; cheap to clone. The writer thread starts with the
/// first event, so a CLI command that records nothing starts none.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pool: DbPool,
    sender: Arc<OnceLock<SyncSender<AuditEventRow>>>,
}

impl AuditLog {
    pub fn new(pool: DbPool) -> Self {
        Self {
            pool,
            sender: Arc::default(),
        }
    }

    /// Logs the event (a warning, unless it is routine) and queues its row.
    pub fn record(&self, event: AuditEvent) {
        let row = log_and_row(event);
        let sender = self.sender.get_or_init(|| self.start_writer());
        let metrics = crate::metrics::metrics();
        match sender.try_send(row) {
            Ok(()) => {
                metrics.audit_queue.inc();
            }
            Err(TrySendError::Full(_)) => {
                metrics.audit_dropped.inc();
                tracing::error!("the audit queue is full; an audit event was not stored");
            }
            Err(TrySendError::Disconnected(_)) => {
                metrics.audit_dropped.inc();
                tracing::error!("the audit writer has stopped; an audit event was not stored");
            }
        }
    }

    /// Logs the event and inserts its row on `conn`, inside the caller's transaction: for
    /// a change whose record must commit with it (an account deleted, of which nothing
    /// else remains).
    pub fn record_in(conn: &mut DbConnection, event: AuditEvent) -> Result<(), DbError> {
        AuditEventRow::insert_all(conn, &[log_and_row(event)])
    }

    fn start_writer(&self) -> SyncSender<AuditEventRow> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(QUEUE);
        let pool = self.pool.clone();
        let started = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || write_until_closed(&pool, &receiver));
        if let Err(error) = started {
            tracing::error!(error = %error, "could not start the audit writer");
        }
        sender
    }
}

/// Logs `event` (a warning, unless it is routine) and makes its row.
fn log_and_row(event: AuditEvent) -> AuditEventRow {
    crate::metrics::metrics()
        .audit_events
        .get_or_create(&crate::metrics::KindLabels { kind: event.kind })
        .inc();
    macro_rules! log {
        ($level:ident) => {
            tracing::$level!(
                target: "security",
                event = event.kind,
                user_id = event.user_id.as_deref(),
                client_id = event.client_id.as_deref(),
                ip = event.ip.as_deref(),
                detail = %event.detail,
            )
        };
    }
    if ROUTINE.contains(&event.kind) {
        log!(info);
    } else {
        log!(warn);
    }
    AuditEventRow {
        id: uuid::Uuid::now_v7().to_string(),
        at: now(),
        kind: event.kind.to_owned(),
        user_id: event.user_id,
        client_id: event.client_id,
        ip: event.ip,
        detail: event.detail.to_string(),
    }
}

/// Writes rows as they come, a batch at a time, until every sender is gone.
fn write_until_closed(pool: &DbPool, receiver: &Receiver<AuditEventRow>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(row) => batch.push(row),
                Err(_) => break,
            }
        }
        let metrics = crate::metrics::metrics();
        metrics.audit_queue.dec_by(batch.len() as i64);
        if write(pool, &batch).is_err() {
            std::thread::sleep(RETRY_AFTER);
            if let Err(error) = write(pool, &batch) {
                metrics.audit_dropped.inc_by(batch.len() as u64);
                tracing::error!(error = %error, dropped = batch.len(), "audit events could not be stored");
            }
        }
    }
}

fn write(pool: &DbPool, rows: &[AuditEventRow]) -> Result<(), crate::db::DbError> {
    let mut conn = pool.get()?;
    AuditEventRow::insert_all(&mut conn, rows)
}
