//! Mail: the messages accounts send (email verification, password reset, notices), built
//! from askama templates with a plain-text and an HTML body, and delivered in the
//! background so no request waits on the mail server.
//!
//! - [`messages`]: what each message says.
//! - [`transport`]: SMTP (STARTTLS or TLS), the log, or `.eml` files, with retries.

pub mod messages;
mod transport;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use shared::config::MailSettings;
use tokio::sync::mpsc;

pub use self::messages::Mail;
use self::transport::{Outgoing, Transport};

/// Messages waiting for the transport; one more is dropped (and logged) rather than
/// holding up the request that sends it.
const QUEUE: usize = 1024;

/// A handle to the background sender. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    queue: mpsc::Sender<Outgoing>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Starts the background sender on the current runtime.
    pub fn start(settings: &MailSettings) -> Result<Self, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("MAIL_FROM `{}` is not a mail address: {e}", settings.from))?;
        let transport = Transport::new(&settings.transport)?;
        let (queue, waiting) = mpsc::channel(QUEUE);
        actix_web::rt::spawn(transport::deliver_all(transport, waiting));
        Ok(Self { from, queue })
    }

    /// Queues `mail` for `to`. Never waits: a full queue or a message that cannot be
    /// built is logged and dropped, and the caller answers as if it was sent (a person
    /// can ask again; an answer must not depend on the mail server).
    pub fn send(&self, to: &str, mail: &Mail) {
        let outgoing = match self.build(to, mail) {
            Ok(outgoing) => outgoing,
            Err(error) => {
                tracing::error!(error = %error, kind = mail.kind(), "mail not built");
                return;
            }
        };
        if self.queue.try_send(outgoing).is_err() {
            tracing::error!(
                kind = mail.kind(),
                "mail queue full or closed: message dropped"
            );
        }
    }

    fn build(&self, to: &str, mail: &Mail) -> Result<Outgoing, String> {
        let recipient: Mailbox = to.parse().map_err(|e| format!("bad recipient: {e}"))?;
        let (text, html) = mail.bodies().map_err(|e| format!("template: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(recipient)
            .subject(mail.subject())
            .multipart(MultiPart::alternative_plain_html(text.clone(), html))
            .map_err(|e| e.to_string())?;
        Ok(Outgoing {
            message,
            kind: mail.kind(),
            to: to.to_owned(),
            text,
        })
    }
}
