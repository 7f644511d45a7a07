//! The optional TLS listener (`TLS_CERT_FILE`, `TLS_KEY_FILE`): rustls with the ring
//! provider, TLS 1.2 and 1.3, HTTP/1.1 over ALPN. The certificate is chosen per handshake
//! by a [`CertificateReloader`], which a background task points at the files' new content
//! when they change (a renewal by certbot or cert-manager): new connections get the new
//! certificate, connections already open keep theirs and are never dropped. A change that
//! does not load (a key that does not match the chain, a half-written file) is logged and
//! the certificate in use stays until the files are right.

use std::fs;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::TlsFiles;

/// How often the watcher looks at the files' modification times and sizes.
pub const RELOAD_CHECK_PERIOD: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {setting} `{path}`: {source}")]
    Read {
        setting: &'static str,
        path: String,
        source: io::Error,
    },
    #[error("TLS_CERT_FILE `{0}` holds no PEM certificate")]
    NoCertificate(String),
    #[error("TLS_KEY_FILE `{path}` holds no usable PEM private key: {reason}")]
    Key { path: String, reason: String },
    #[error(
        "the key in TLS_KEY_FILE `{key}` does not belong to the certificate in \
         TLS_CERT_FILE `{certificate}` ({reason})"
    )]
    Mismatch {
        certificate: String,
        key: String,
        reason: String,
    },
    #[error("rustls refused the TLS configuration: {0}")]
    Config(String),
}

/// What tells a changed file from an unchanged one: its modification time and size.
type Stamp = Option<(SystemTime, u64)>;

/// The certificate every new handshake gets, replaced when the files change.
pub struct CertificateReloader {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    /// The stamps of the certificate and the key when they were last read.
    seen: Mutex<(Stamp, Stamp)>,
}

impl std::fmt::Debug for CertificateReloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateReloader")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for CertificateReloader {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

/// Whether [`CertificateReloader::reload_if_changed`] found something new.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    Unchanged,
    Reloaded,
    /// The files changed but do not load; the previous certificate stays.
    Refused(String),
}

impl CertificateReloader {
    /// Reads the files once; an error here stops startup.
    pub fn load(files: &TlsFiles) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let seen = stamps(files);
        let certified = read_certified_key(files, &provider)?;
        Ok(Arc::new(Self {
            files: files.clone(),
            provider,
            current: RwLock::new(Arc::new(certified)),
            seen: Mutex::new(seen),
        }))
    }

    /// The server configuration whose certificates come from this reloader.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, TlsError> {
        let resolver: Arc<dyn ResolvesServerCert> = self.clone();
        Ok(
            rustls::ServerConfig::builder_with_provider(self.provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError::Config(e.to_string()))?
                .with_no_client_auth()
                .with_cert_resolver(resolver),
        )
    }

    /// Reads the files again if either changed since they were last read.
    pub fn reload_if_changed(&self) -> Reload {
        let now = stamps(&self.files);
        {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if *seen == now {
                return Reload::Unchanged;
            }
            *seen = now;
        }
        match read_certified_key(&self.files, &self.provider) {
            Ok(certified) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(certified);
                Reload::Reloaded
            }
            Err(error) => Reload::Refused(error.to_string()),
        }
    }

    /// Checks the files every [`RELOAD_CHECK_PERIOD`] on the current runtime, until the
    /// last server configuration holding this reloader is gone.
    pub fn watch(self: &Arc<Self>) {
        let reloader: Weak<Self> = Arc::downgrade(self);
        actix_web::rt::spawn(async move {
            let mut ticks = actix_web::rt::time::interval(RELOAD_CHECK_PERIOD);
            loop {
                ticks.tick().await;
                let Some(reloader) = reloader.upgrade() else {
                    break;
                };
                let files = &reloader.files;
                match reloader.reload_if_changed() {
                    Reload::Unchanged => {}
                    Reload::Reloaded => tracing::info!(
                        certificate = %files.certificate.display(),
                        key = %files.key.display(),
                        "TLS certificate reloaded; new connections get it"
                    ),
                    Reload::Refused(error) => tracing::error!(
                        error = %error,
                        "TLS files changed but do not load; still serving the previous certificate"
                    ),
                }
            }
        });
    }
}

fn stamp(path: &Path) -> Stamp {
    let metadata = fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

fn stamps(files: &TlsFiles) -> (Stamp, Stamp) {
    (stamp(&files.certificate), stamp(&files.key))
}

/// The chain and key in `files`, checked to belong together.
fn read_certified_key(
    files: &TlsFiles,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let shown = |path: &Path| path.display().to_string();
    let read = |setting: &'static str, path: &Path| {
        fs::read(path).map_err(|source| TlsError::Read {
            setting,
            path: shown(path),
            source,
        })
    };
    let chain_pem = read("TLS_CERT_FILE", &files.certificate)?;
    let key_pem = read("TLS_KEY_FILE", &files.key)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::NoCertificate(shown(&files.certificate)))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(shown(&files.certificate)));
    }
    // The PEM parser's own messages may quote a line of the file: never shown.
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|error| TlsError::Key {
        path: shown(&files.key),
        reason: match error {
            rustls::pki_types::pem::Error::NoItemsFound => "no PRIVATE KEY section".into(),
            _ => "not valid PEM".into(),
        },
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|error| match error {
        rustls::Error::InconsistentKeys(_) => TlsError::Mismatch {
            certificate: shown(&files.certificate),
            key: shown(&files.key),
            reason: error.to_string(),
        },
        other => TlsError::Key {
            path: shown(&files.key),
            reason: other.to_string(),
        },
    })
}
