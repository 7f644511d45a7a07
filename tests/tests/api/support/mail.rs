//! A mail server for the tests: an SMTP listener on port 0 that speaks enough of RFC 5321
//! for a real client (lettre, inside the auth-server) to hand it messages, which the test
//! then reads with a MIME parser — the link in a message is followed like a person would.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::MessageParser;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One message as received: its envelope recipients and the parsed parts tests look at.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub recipients: Vec<String>,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl ReceivedMail {
    /// The first link in the plain-text body whose path is `path` (`/verify-email`),
    /// relative to the server (path and query), ready for `TestUser::get`.
    pub fn link(&self, path: &str) -> String {
        self.text
            .split_whitespace()
            .filter_map(|word| url::Url::parse(word).ok())
            .find(|url| url.path() == path)
            .map(|url| format!("{}?{}", url.path(), url.query().unwrap_or_default()))
            .unwrap_or_else(|| panic!("no {path} link in:\n{}", self.text))
    }

    /// The `token` parameter of that link.
    pub fn token(&self, path: &str) -> String {
        let link = self.link(path);
        url::form_urlencoded::parse(link.split_once('?').map_or("", |(_, q)| q).as_bytes())
            .find(|(key, _)| key == "token")
            .map(|(_, value)| value.into_owned())
            .expect("the link carries a token")
    }
}

#[derive(Default)]
struct Inbox {
    mails: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
}

/// The running listener; messages arrive in [`MailServer::next_to`].
#[derive(Clone)]
pub struct MailServer {
    pub port: u16,
    inbox: Arc<Inbox>,
}

impl MailServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let port = listener.local_addr().expect("address").port();
        let inbox = Arc::new(Inbox::default());
        let accepting = inbox.clone();
        actix_web::rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                actix_web::rt::spawn(converse(stream, accepting.clone()));
            }
        });
        Self { port, inbox }
    }

    /// `SMTP_URL` for the auth-server: plain SMTP, allowed on loopback only.
    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Waits (up to 10 s) for the next message to `recipient` and takes it from the inbox.
    pub async fn next_to(&self, recipient: &str) -> ReceivedMail {
        let found = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let arrived = self.inbox.arrived.notified();
                if let Some(mail) = self.take(recipient) {
                    return mail;
                }
                arrived.await;
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("no mail to {recipient} within 10 s"))
    }

    /// Every message to `recipient` that arrived so far, taken from the inbox.
    pub fn all_to(&self, recipient: &str) -> Vec<ReceivedMail> {
        std::iter::from_fn(|| self.take(recipient)).collect()
    }

    fn take(&self, recipient: &str) -> Option<ReceivedMail> {
        let mut mails = self.inbox.mails.lock().expect("inbox");
        let index = mails
            .iter()
            .position(|mail| mail.recipients.iter().any(|r| r == recipient))?;
        Some(mails.remove(index))
    }
}

/// One SMTP session: greeting, EHLO, MAIL, RCPT, DATA (dot-unstuffed), RSET, NOOP, QUIT.
async fn converse(stream: TcpStream, inbox: Arc<Inbox>) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader);
    if !say(&mut writer, "220 tests.localhost ESMTP\r\n").await {
        return;
    }
    let mut recipients = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply = if command.starts_with("EHLO") || command.starts_with("HELO") {
            "250-tests.localhost\r\n250 8BITMIME\r\n"
        } else if command.starts_with("MAIL FROM:") {
            recipients.clear();
            "250 OK\r\n"
        } else if let Some(to) = line
            .trim_end()
            .get("RCPT TO:".len()..)
            .filter(|_| command.starts_with("RCPT TO:"))
        {
            recipients.push(
                to.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned(),
            );
            "250 OK\r\n"
        } else if command == "DATA" {
            if !say(&mut writer, "354 End data with <CR><LF>.<CR><LF>\r\n").await {
                return;
            }
            let mut raw = Vec::new();
            loop {
                let mut data_line = String::new();
                if lines.read_line(&mut data_line).await.unwrap_or(0) == 0 {
                    return;
                }
                if data_line == ".\r\n" || data_line == ".\n" {
                    break;
                }
                let unstuffed = data_line.strip_prefix('.').unwrap_or(&data_line);
                raw.extend_from_slice(unstuffed.as_bytes());
            }
            store(&inbox, std::mem::take(&mut recipients), &raw);
            "250 OK: queued\r\n"
        } else if command == "RSET" || command == "NOOP" {
            "250 OK\r\n"
        } else if command == "QUIT" {
            let _ = say(&mut writer, "221 Bye\r\n").await;
            return;
        } else {
            "502 Command not implemented\r\n"
        };
        if !say(&mut writer, reply).await {
            return;
        }
    }
}

fn store(inbox: &Inbox, recipients: Vec<String>, raw: &[u8]) {
    let message = MessageParser::default()
        .parse(raw)
        .expect("a message the MIME parser reads");
    let mail = ReceivedMail {
        recipients,
        from: message
            .from()
            .and_then(|from| from.first())
            .and_then(|addr| addr.address())
            .unwrap_or_default()
            .to_owned(),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        html: message
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
    };
    inbox.mails.lock().expect("inbox").push(mail);
    inbox.arrived.notify_waiters();
}

async fn say(writer: &mut tokio::net::tcp::OwnedWriteHalf, reply: &str) -> bool {
    writer.write_all(reply.as_bytes()).await.is_ok()
}
