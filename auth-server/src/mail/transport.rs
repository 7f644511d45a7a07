//! Delivery: to an SMTP relay (STARTTLS required for `smtp://`, TLS for `smtps://`), to
//! the log, or to `.eml` files. A message that fails for a passing reason (the relay is
//! unreachable, a 4xx answer) is tried again after 1 s, 5 s and 30 s; a permanent refusal
//! (5xx) is logged and dropped. A few messages are in flight at once, so one slow relay
//! answer does not hold up the rest.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use shared::config::MailTransport;
use shared::config::mail::{SmtpRelay, SmtpSecurity};
use tokio::sync::{Semaphore, mpsc};

/// Waits between attempts; one attempt more than there are delays.
const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
];
/// The longest an SMTP conversation may take before it counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages delivered at the same time.
const IN_FLIGHT: usize = 4;

#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Log,
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Transport {
    pub fn new(setting: &MailTransport) -> Result<Self, String> {
        match setting {
            MailTransport::Smtp(relay) => smtp(relay).map(Transport::Smtp),
            MailTransport::Log => Ok(Transport::Log),
            MailTransport::File(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("MAIL_TRANSPORT: cannot create {}: {e}", dir.display()))?;
                Ok(Transport::File(AsyncFileTransport::new(PathBuf::from(dir))))
            }
        }
    }

    /// One attempt. `Err((true, _))`: worth trying again.
    async fn send(&self, mail: &Outgoing) -> Result<(), (bool, String)> {
        match self {
            Transport::Smtp(smtp) => smtp
                .send(mail.message.clone())
                .await
                .map(drop)
                .map_err(|e| (!e.is_permanent(), e.to_string())),
            Transport::Log => {
                // Development only (production refuses this transport): the message, link
                // included, is what the developer needs to follow.
                tracing::info!(target: "mail", kind = mail.kind, to = %mail.to, "mail (MAIL_TRANSPORT=log):\n{}", mail.text);
                Ok(())
            }
            Transport::File(files) => files
                .send(mail.message.clone())
                .await
                .map(drop)
                .map_err(|e| (true, e.to_string())),
        }
    }
}

fn smtp(relay: &SmtpRelay) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls = || {
        TlsParameters::new(relay.host.clone())
            .map_err(|e| format!("SMTP_URL: TLS for {}: {e}", relay.host))
    };
    let tls = match relay.security {
        SmtpSecurity::StartTls => Tls::Required(tls()?),
        SmtpSecurity::ImplicitTls => Tls::Wrapper(tls()?),
        SmtpSecurity::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
        .port(relay.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(username) = &relay.username {
        let password = relay.password.as_ref().map(|p| p.expose().to_owned());
        builder = builder.credentials(Credentials::new(
            username.clone(),
            password.unwrap_or_default(),
        ));
    }
    Ok(builder.build())
}

/// A message on its way, with what the log transport shows of it.
pub struct Outgoing {
    pub message: Message,
    pub kind: &'static str,
    pub to: String,
    pub text: String,
}

/// Delivers queued messages until the queue closes.
pub async fn deliver_all(transport: Transport, mut queue: mpsc::Receiver<Outgoing>) {
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(mail) = queue.recv().await {
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let transport = transport.clone();
        actix_web::rt::spawn(async move {
            deliver(&transport, &mail).await;
            drop(permit);
        });
    }
}

async fn deliver(transport: &Transport, mail: &Outgoing) {
    let kind = mail.kind;
    for attempt in 0..=RETRY_DELAYS.len() {
        match transport.send(mail).await {
            Ok(()) => {
                tracing::info!(event = "mail_sent", kind, attempt);
                return;
            }
            Err((retry, error)) => {
                tracing::warn!(event = "mail_failed", kind, attempt, error = %error);
                let delay = RETRY_DELAYS.get(attempt).filter(|_| retry);
                match delay {
                    Some(delay) => actix_web::rt::time::sleep(*delay).await,
                    None => break,
                }
            }
        }
    }
    tracing::error!(event = "mail_dropped", kind, "mail not delivered");
}
