//! The real `klonopin-bot serve` as a child process for end-to-end tests: started against a
//! fake Bot API, its log captured line by line, signalled, and killed on drop.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::fake_bot_api::FakeBotApi;

/// Generous: the machine is shared and debug builds are slow.
const START_WAIT: Duration = Duration::from_secs(30);

/// Settings a developer's shell may carry that would change what a test starts.
const CLEARED_ENV: &[&str] = &[
    "KLONOPIN_BOT_RESPONSES",
    "KLONOPIN_BOT_TOKEN_FILE",
    "CREDENTIALS_DIRECTORY",
    "KLONOPIN_BOT_STORAGE",
    "KLONOPIN_BOT_WEBHOOK_URL",
    "KLONOPIN_BOT_WEBHOOK_SECRET",
    "KLONOPIN_BOT_WEBHOOK_SECRET_FILE",
    "KLONOPIN_BOT_RECORD_UNMATCHED",
    "KLONOPIN_BOT_METRICS_LISTEN",
];

pub struct BotProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl BotProcess {
    /// Spawns `klonopin-bot serve ARGS` with the fake's env plus `extra_env`, without
    /// `remove_env`; does not wait.
    pub fn spawn(fake: &FakeBotApi, args: &[&str], extra_env: &[(&str, &str)], remove_env: &[&str]) -> BotProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_klonopin-bot"));
        cmd.arg("serve").args(args);
        for key in CLEARED_ENV {
            cmd.env_remove(key);
        }
        cmd.env("RUST_LOG", "klonopin_bot=debug,teloxide=info");
        for (key, value) in fake.env() {
            cmd.env(key, value);
        }
        for (key, value) in extra_env {
            cmd.env(key, value);
        }
        for key in remove_env {
            cmd.env_remove(key);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn klonopin-bot");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr piped");
        let sink = Arc::clone(&log);
        let reader = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        BotProcess { child, log, reader: Some(reader) }
    }

    /// Spawns in long-polling mode and waits until it polls the fake.
    pub async fn start(fake: &FakeBotApi, args: &[&str]) -> BotProcess {
        BotProcess::start_with_env(fake, args, &[]).await
    }

    pub async fn start_with_env(fake: &FakeBotApi, args: &[&str], env: &[(&str, &str)]) -> BotProcess {
        let polls_before = fake.method_count("getUpdates");
        let mut bot = BotProcess::spawn(fake, args, env, &[]);
        let polled = fake.wait_until(START_WAIT, || fake.method_count("getUpdates") > polls_before).await;
        if !polled {
            let exited = bot.child.try_wait().ok().flatten();
            panic!("the bot never polled (exit: {exited:?}); log:\n{}", bot.log_text());
        }
        bot
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).join("\n")
    }

    /// Waits until a log line contains `needle`; false on timeout.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log_count(needle) > 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }

    /// How many log lines contain `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|l| l.contains(needle)).count()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("the bot is still running").to_string();
        let status = std::process::Command::new("kill").arg(format!("-{name}")).arg(&pid).status().expect("run kill");
        assert!(status.success(), "kill -{name} {pid} failed");
    }

    /// Waits for the process to exit; its exit code, None on timeout or a signal death.
    pub async fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let code = match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(Ok(status)) => status.code(),
            _ => None,
        };
        // Let the reader collect the rest of stderr (the pipe closes with the process).
        if let Some(reader) = self.reader.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
        }
        code
    }

    /// SIGTERM, then the exit code (None if it did not exit within `timeout`).
    pub async fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        self.signal("TERM");
        self.wait(timeout).await
    }

    /// Asserts the log never shows the token nor any of `texts` (what users wrote).
    pub fn assert_private(&self, texts: &[&str]) {
        let log = self.log_text();
        let lower = log.to_lowercase();
        assert!(!log.contains(FakeBotApi::TOKEN) && !log.contains("TEST-TOKEN"), "the token is in the log:\n{log}");
        for text in texts {
            assert!(!lower.contains(&text.to_lowercase()), "the log contains user text {text:?}:\n{log}");
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}
