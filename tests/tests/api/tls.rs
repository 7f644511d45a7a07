//! The TLS listener (`TLS_CERT_FILE`, `TLS_KEY_FILE`): a certificate made here by a CA made
//! here, checked by a client that trusts that CA alone; a renewal written over the files is
//! served to new connections within seconds while a connection opened before it keeps
//! working; files that do not load leave the certificate in use alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};

use crate::support::servers::{spawn_app, spawn_app_with, test_settings};

/// A CA and a `localhost` certificate it signed, as PEM.
struct Pki {
    ca_pem: String,
    leaf_pem: String,
    leaf_der: Vec<u8>,
    key_pem: String,
}

fn make_pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        leaf_pem: leaf.pem(),
        leaf_der: leaf.der().to_vec(),
        key_pem: leaf_key.serialize_pem(),
    }
}

/// A directory of its own for the certificate files, removed at the end.
struct CertificateDir(PathBuf);

impl CertificateDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tls-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn certificate(&self) -> PathBuf {
        self.0.join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.0.join("key.pem")
    }

    /// Writes the pair the way a renewal tool does: each file replaced whole.
    fn install(&self, leaf_pem: &str, key_pem: &str) {
        replace(&self.key(), key_pem);
        replace(&self.certificate(), leaf_pem);
    }

    fn settings(&self) -> [(&'static str, String); 2] {
        [
            ("TLS_CERT_FILE", self.certificate().display().to_string()),
            ("TLS_KEY_FILE", self.key().display().to_string()),
        ]
    }
}

impl Drop for CertificateDir {
    fn drop(&mut self) {
        let _ignored = std::fs::remove_dir_all(&self.0);
    }
}

fn replace(path: &Path, content: &str) {
    let written = path.with_extension("new");
    std::fs::write(&written, content).unwrap();
    std::fs::rename(&written, path).unwrap();
}

/// A client that trusts `ca_pem` alone, reaches `localhost` at `port` and reports the
/// certificate the server showed.
fn client_trusting(ca_pem: &str, port: u16) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .tls_info(true)
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap()
}

/// `GET /healthz` over https; the certificate the server presented on that connection.
async fn served_certificate(client: &reqwest::Client, port: u16) -> Result<Vec<u8>, String> {
    let response = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(response.status(), 200);
    let certificate = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .map(<[u8]>::to_vec)
        .expect("the TLS session's peer certificate");
    Ok(certificate)
}

fn port_of(address: &str) -> u16 {
    address.rsplit(':').next().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn the_listener_serves_the_files_certificate_and_a_renewal_without_dropping_connections() {
    let dir = CertificateDir::new();
    let first = make_pki();
    dir.install(&first.leaf_pem, &first.key_pem);
    let settings = dir.settings();
    let overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&overrides).await;
    let port = port_of(&app.address);

    // A verifying client trusting the CA gets the certificate of the files.
    let before_renewal = client_trusting(&first.ca_pem, port);
    assert_eq!(
        served_certificate(&before_renewal, port).await.unwrap(),
        first.leaf_der
    );
    // One trusting another CA refuses the server; plain http gets no answer.
    let stranger = make_pki();
    let refused = served_certificate(&client_trusting(&stranger.ca_pem, port), port).await;
    assert!(refused.is_err(), "{refused:?}");
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(plain.is_err(), "plain http answered: {plain:?}");

    // The renewal: a certificate from another CA, written over the files.
    let renewed = make_pki();
    dir.install(&renewed.leaf_pem, &renewed.key_pem);
    let after_renewal = client_trusting(&renewed.ca_pem, port);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The connection opened before the renewal keeps serving (the client trusts the
        // first CA only, so a new connection would now fail).
        assert_eq!(
            served_certificate(&before_renewal, port).await.unwrap(),
            first.leaf_der,
            "the connection opened before the renewal was dropped"
        );
        if let Ok(certificate) = served_certificate(&after_renewal, port).await {
            assert_eq!(certificate, renewed.leaf_der);
            break;
        }
        assert!(Instant::now() < deadline, "the renewal was not picked up");
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    }

    // A key that does not match the chain: refused, the renewed certificate stays in use.
    replace(&dir.key(), &make_pki().key_pem);
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    let fresh = client_trusting(&renewed.ca_pem, port);
    assert_eq!(
        served_certificate(&fresh, port).await.unwrap(),
        renewed.leaf_der
    );
}

#[actix_web::test]
async fn the_task_api_serves_tls_too_and_files_that_do_not_load_stop_startup() {
    let auth = spawn_app().await;
    let dir = CertificateDir::new();
    let pki = make_pki();
    dir.install(&pki.leaf_pem, &pki.key_pem);
    let jwks_url = auth.url("/jwks.json");
    let [certificate, key] = dir.settings();
    let mut overrides = vec![
        (certificate.0, certificate.1.as_str()),
        (key.0, key.1.as_str()),
    ];
    overrides.push(("JWKS_URL", &jwks_url));
    let api = resource_api::startup::build(test_settings(auth.database_url(), &overrides))
        .await
        .expect("resource-api starts with TLS");
    let port = api.port();
    actix_web::rt::spawn(api.run_until_stopped());
    assert_eq!(
        served_certificate(&client_trusting(&pki.ca_pem, port), port)
            .await
            .unwrap(),
        pki.leaf_der
    );

    // A key of another certificate: startup stops, naming both files, quoting neither.
    let other = make_pki();
    replace(&dir.key(), &other.key_pem);
    let error = resource_api::startup::build(test_settings(auth.database_url(), &overrides))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("does not belong"), "{error}");
    assert!(
        error.contains("cert.pem") && error.contains("key.pem"),
        "{error}"
    );
    assert!(!error.contains("PRIVATE KEY"), "{error}");
}
