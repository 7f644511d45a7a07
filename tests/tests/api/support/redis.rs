//! A Redis server of a test's own (`redis-server`, installed by `.ci/ensure-redis.sh`), on
//! a free port, nothing kept on disk: for the tests that stop Redis halfway.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct PrivateRedis {
    pub url: String,
    process: Child,
}

impl PrivateRedis {
    /// Starts it and waits until it accepts connections.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (installed by .ci/ensure-redis.sh)");
        let address = format!("127.0.0.1:{port}");
        for _ in 0..50 {
            if std::net::TcpStream::connect(&address).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            url: format!("redis://{address}"),
            process,
        }
    }

    /// Stops it at once (SIGKILL), as a crash would.
    pub fn stop(&mut self) {
        let _already_gone = self.process.kill();
        let _reaped = self.process.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
