//! A server binary run as an operator runs it — a subprocess on a fresh SQLite file, port 0 —
//! with its log captured, for the tests that check what reaches the log. Included with
//! `#[path]` by the tests of `auth-server` and `resource-api`, the only packages where cargo
//! builds those binaries for a test (`CARGO_BIN_EXE_*`).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// A running server, its port, and everything it has written so far.
pub struct ServerProcess {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    dir: PathBuf,
}

impl ServerProcess {
    /// Starts `binary serve` with only `PATH`, a fresh SQLite database, `bind_var` set to
    /// port 0, and `env`; returns once it logged the port it listens on.
    pub fn start(binary: &str, bind_var: &str, env: &[(&str, &str)]) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("server-process-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("db.sqlite3").display()),
            )
            .env(bind_var, "127.0.0.1:0")
            .env("HTTP_WORKERS", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Both streams are read: a log line on stdout counts as much as one on stderr.
        let log = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            read_into(child.stdout.take().unwrap(), log.clone()),
            read_into(child.stderr.take().unwrap(), log.clone()),
        ];
        let mut server = Self {
            child,
            port: 0,
            log,
            readers,
            dir,
        };
        server.port = server.wait_for(listening_port);
        server
    }

    /// The `DATABASE_URL` the server runs on.
    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.dir.join("db.sqlite3").display())
    }

    /// Ends the server with SIGKILL, as a crash would: no shutdown code runs.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends one HTTP/1.1 request and returns the response's status.
    pub fn request(&self, method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> u16 {
        self.exchange(method, target, headers, body).0
    }

    /// Sends one HTTP/1.1 request and returns the response's status and body.
    pub fn exchange(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut request = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Content-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response);
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// Waits until the request log holds `requests` closed requests, stops the server and
    /// returns all it wrote.
    pub fn stop_after_logging(mut self, requests: usize) -> String {
        self.wait_for(|log| {
            let closed = log
                .lines()
                .filter(|line| line.contains("HTTP request") && line.contains("close"))
                .count();
            (closed >= requests).then_some(())
        });
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        self.log.lock().unwrap().clone()
    }

    fn wait_for<T>(&mut self, found: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(value) = found(&self.log.lock().unwrap()) {
                return value;
            }
            let exited = self.child.try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "the server {}; its log:\n{}",
                if exited.is_some() {
                    "exited"
                } else {
                    "did not log what was expected in time"
                },
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ignored = self.child.kill();
        let _ignored = self.child.wait();
        let _ignored = std::fs::remove_dir_all(&self.dir);
    }
}

fn read_into(
    stream: impl std::io::Read + Send + 'static,
    log: Arc<Mutex<String>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut log = log.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    })
}

/// The port in the "… listening" line: `port=8080` (pretty) or `"port":8080` (JSON).
fn listening_port(log: &str) -> Option<u16> {
    let line = log.lines().find(|line| line.contains("listening"))?;
    let rest = line
        .split_once("port=")
        .or_else(|| line.split_once("\"port\":"))?
        .1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// How `field=value` reads in a log line of `format` (`pretty` or `json`).
pub fn logged_field(format: &str, name: &str, value: &str) -> String {
    if format == "json" {
        format!("\"{name}\":\"{value}\"")
    } else {
        format!("{name}={value}")
    }
}
