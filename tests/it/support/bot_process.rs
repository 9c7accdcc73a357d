//! The real `klonopin-bot serve` as a child process for end-to-end tests: started against a
//! fake Bot API, its log captured line by line, signalled, and killed on drop.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::fake_bot_api::FakeBotApi;

pub struct BotProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl BotProcess {
    /// Starts `klonopin-bot serve ARGS` against `fake` and waits until it polls.
    pub async fn start(fake: &FakeBotApi, args: &[&str]) -> BotProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_klonopin-bot"));
        cmd.arg("serve").args(args).env("RUST_LOG", "klonopin_bot=debug,teloxide=info").env_remove("KLONOPIN_BOT_RESPONSES");
        for (key, value) in fake.env() {
            cmd.env(key, value);
        }
        cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn klonopin-bot");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&log);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().expect("log").push(line);
            }
        });
        let bot = BotProcess { child, log };
        assert!(fake.wait_for_method("getUpdates", 1, Duration::from_secs(20)).await >= 1, "the bot never polled; log:\n{}", bot.log_text());
        bot
    }

    pub fn log_text(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// Waits until a log line contains `needle`; false on timeout.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log.lock().expect("log").iter().any(|l| l.contains(needle)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }

    /// How many log lines contain `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log.lock().expect("log").iter().filter(|l| l.contains(needle)).count()
    }

    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill").args([&format!("-{name}"), &pid]).status().expect("kill");
        assert!(status.success());
    }

    /// SIGTERM, then the exit code (None if it did not exit within `timeout`).
    pub async fn terminate(self, timeout: Duration) -> Option<i32> {
        self.signal("TERM");
        self.wait(timeout).await
    }

    /// The exit code once it exits by itself (None if it did not within `timeout`).
    pub async fn wait(mut self, timeout: Duration) -> Option<i32> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(Ok(status)) => status.code(),
            _ => None,
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}
