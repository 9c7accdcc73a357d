//! A private `redis-server` on a free loopback port for tests, killed on drop. The tests need
//! a real one. Without `redis-server` on PATH they are skipped, each saying so on stderr, so
//! `cargo test` passes on a fresh machine; `KLONOPIN_REQUIRE_REDIS=1` (set by `.ci/run`,
//! which installs Redis) makes a missing binary fail them instead.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    /// A running server, or `None` (after a loud line on stderr) when `redis-server` is not
    /// installed and `KLONOPIN_REQUIRE_REDIS` is not set.
    pub fn start(test: &str) -> Option<RedisServer> {
        let found =
            std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("redis-server")).find(|p| p.is_file()));
        let Some(binary) = found else {
            if std::env::var_os("KLONOPIN_REQUIRE_REDIS").is_some_and(|v| v != "0") {
                panic!("redis-server is not on PATH: the Redis tests need a real one (apt-get install redis-server)");
            }
            // Straight to the stream, not `eprintln!`, which the test harness captures and
            // hides for a test that passes.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: redis-server is not on PATH (apt-get install redis-server; .ci/run installs it and sets KLONOPIN_REQUIRE_REDIS=1)");
            return None;
        };
        // Another process can take the port between probing and binding, so a server that
        // dies at start-up gets another port.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port");
            let mut child = Command::new(&binary)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(RedisServer { child, port });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server at {} did not come up", binary.display());
    }

    pub fn url(&self, db: u8) -> String {
        format!("redis://127.0.0.1:{}/{db}", self.port)
    }

    /// A direct connection, to look at what the store wrote.
    pub async fn raw(&self, db: u8) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url(db)).expect("redis url").get_multiplexed_async_connection().await.expect("redis connection")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
