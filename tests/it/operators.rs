//! Operators' features on a running bot: live reloads that never break it, statistics
//! without personal data, and the opt-in, redacted log of unmatched questions.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::bot_process::{free_port, BotProcess};
use crate::support::fake_bot_api::FakeBotApi;

const WAIT: Duration = Duration::from_secs(15);

fn copy_responses(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("responses");
    let mut pending = vec![from.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read responses") {
            let path = entry.expect("entry").path();
            let target = to.join(path.strip_prefix(&from).expect("inside"));
            if path.is_dir() {
                std::fs::create_dir_all(&target).expect("mkdir");
                pending.push(path);
            } else {
                std::fs::copy(&path, &target).expect("copy");
            }
        }
    }
}

/// Sends `text` from `chat` and returns the text of the first reply message.
async fn ask(fake: &FakeBotApi, chat: i64, text: &str) -> String {
    let before = fake.messages_to(chat).len();
    fake.push_text(chat, text);
    let all = fake.wait_for_messages(chat, before + 1, WAIT).await;
    all.get(before).map(|m| m.plain.clone()).unwrap_or_else(|| panic!("no reply to {text:?}"))
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_reload_live_and_a_broken_edit_keeps_the_old_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_responses(dir.path());
    let fake = FakeBotApi::start().await;
    let responses = dir.path().to_str().expect("utf-8 path");
    let mut bot = BotProcess::start(&fake, &["--responses", responses, "--storage", "memory"]).await;
    let chat = 700_001;
    let topic = dir.path().join("topics/tolerance.toml");
    let original = ask(&fake, chat, "/start tolerance").await;
    assert!(!original.contains("EDITED"));

    // An edit is served within 2 seconds of the write.
    let written = Instant::now();
    edit(&topic, "body = \"\"\"\n", "body = \"\"\"\n**EDITED first line.**\n\n");
    assert!(
        bot.wait_for_log("responses changed: reloaded content", Duration::from_secs(2)).await,
        "no reload within 2 s:\n{}",
        bot.log_text()
    );
    assert!(written.elapsed() <= Duration::from_secs(2));
    assert!(ask(&fake, chat, "/start tolerance").await.starts_with("EDITED first line."));

    // A typo: the old answer keeps serving and the diagnostic is logged with its place.
    edit(&topic, "title = \"", "title = \"Broken");
    std::fs::write(&topic, std::fs::read_to_string(&topic).expect("read").replacen("id = \"tolerance\"", "id = \"tolerance", 1))
        .expect("write");
    assert!(bot.wait_for_log("still serving content", WAIT).await, "{}", bot.log_text());
    assert!(bot.log_text().contains("topics/tolerance.toml:1:"), "the diagnostic names file and line:\n{}", bot.log_text());
    assert!(ask(&fake, chat, "/start tolerance").await.starts_with("EDITED first line."));

    // Fixing it reloads again.
    std::fs::write(
        &topic,
        std::fs::read_to_string(&topic).expect("read").replacen("id = \"tolerance", "id = \"tolerance\"", 1).replacen("EDITED", "FIXED", 1),
    )
    .expect("write");
    let deadline = Instant::now() + WAIT;
    while bot.log_count("responses changed: reloaded content") < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ask(&fake, chat, "/start tolerance").await.starts_with("FIXED first line."));
    assert!(fake.violations().is_empty(), "{:#?}", fake.violations());
    assert_eq!(bot.terminate(Duration::from_secs(10)).await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_a_removed_topic_degrades_to_the_menu() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_responses(dir.path());
    let fake = FakeBotApi::start().await;
    let responses = dir.path().to_str().expect("utf-8 path");
    let mut bot = BotProcess::start(&fake, &["--responses", responses, "--storage", "memory", "--no-watch"]).await;
    let chat = 700_002;

    // The chat is inside the "for whom?" question of a topic ...
    let question = ask(&fake, chat, "what are the signs of klonopin addiction").await;
    let asked = fake.messages_to(chat).last().map(|m| m.callback_data()).unwrap_or_default();
    assert!(asked.iter().any(|d| d == "v1:a:l:signs-of-addiction"), "{question}");

    // ... when an operator removes that topic (and every reference to it) and reloads.
    let id = "signs-of-addiction";
    // In every language.
    std::fs::remove_file(dir.path().join(format!("es/topics/{id}.toml"))).expect("remove the translation");
    for entry in walk(dir.path()) {
        let text = std::fs::read_to_string(&entry).expect("read");
        let cleaned = text
            .replace(&format!("\"{id}\",\n"), "")
            .replace(&format!("\"{id}\", "), "")
            .replace(&format!(", \"{id}\""), "")
            .replace(&format!("\"{id}\""), "");
        if cleaned != text {
            std::fs::write(&entry, cleaned).expect("write");
        }
    }
    std::fs::remove_file(dir.path().join(format!("topics/{id}.toml"))).expect("remove");
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_klonopin-bot")).arg("check").arg(dir.path()).output().expect("check");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    assert_eq!(bot.log_count("reloaded content"), 0, "--no-watch: nothing reloads before SIGHUP");
    bot.signal("HUP");
    assert!(bot.wait_for_log("SIGHUP: reloaded content", WAIT).await, "{}", bot.log_text());

    // The old button still works: it leads to the menu, not an error.
    let last = fake.messages_to(chat).last().map(|m| m.message_id).expect("a message");
    let before = fake.messages_to(chat).len();
    fake.push_callback(chat, last, "v1:a:l:signs-of-addiction");
    let replies = fake.wait_for_messages(chat, before + 1, WAIT).await;
    let reply = &replies[before];
    assert!(reply.callback_data().iter().any(|d| d.starts_with("v1:t:")), "menu expected: {}", reply.plain);
    assert!(fake.violations().is_empty(), "{:#?}", fake.violations());
    assert_eq!(bot.terminate(Duration::from_secs(10)).await, Some(0));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_without_personal_data() {
    let fake = FakeBotApi::start().await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut bot = BotProcess::start(&fake, &["--storage", "memory", "--metrics-listen", &listen]).await;
    let chat = 700_003;
    ask(&fake, chat, "is klonopin addictive").await;
    ask(&fake, chat, "zqxj wibble flarn").await;
    ask(&fake, chat, "I stopped my klonopin and feel awful").await;
    ask(&fake, chat, "/selfcheck").await;

    let client = reqwest::Client::new();
    let wanted = [
        "klonopin_bot_topics_served_total{topic=\"is-it-addictive\"} 1",
        "klonopin_bot_fallback_total 1",
        "klonopin_bot_crisis_guidance_total{kind=\"withdrawal\"} 1",
        "klonopin_bot_self_checks_started_total 1",
        "klonopin_bot_updates_total 4",
    ];
    // A reply of several messages can satisfy `ask` before its update is counted: read the
    // metrics until every count is there (or the wait is over).
    let deadline = Instant::now() + WAIT;
    let body = loop {
        let body = client.get(format!("http://{listen}/metrics")).send().await.expect("metrics").text().await.expect("body");
        if wanted.iter().all(|w| body.lines().any(|l| l == *w)) || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for line in wanted {
        assert!(body.lines().any(|l| l == line), "missing {line:?} in:\n{body}");
    }
    // The whole body: only metric families of ours, no chat id, no words people sent.
    for l in body.lines() {
        assert!(
            l.starts_with("# HELP klonopin_bot_") || l.starts_with("# TYPE klonopin_bot_") || l.starts_with("klonopin_bot_"),
            "unexpected line {l:?}"
        );
    }
    for secret in ["700003", "wibble", "flarn", "stopped", "awful", "feel"] {
        assert!(!body.contains(secret), "metrics contain {secret:?}:\n{body}");
    }
    let health = client.get(format!("http://{listen}/healthz")).send().await.expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(bot.terminate(Duration::from_secs(10)).await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmatched_questions_are_recorded_only_when_asked_and_redacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let record = dir.path().join("unmatched.txt");
    let state = dir.path().join("state.sqlite");
    let storage = format!("sqlite:{}", state.display());
    let fake = FakeBotApi::start().await;
    let unmatched = "zqxj wibble 555-0100 or jo@example.com @jo_doe https://example.com/x";

    // Off by default: the words go nowhere (not the state file, not the log).
    let mut bot = BotProcess::start(&fake, &["--storage", &storage]).await;
    ask(&fake, 700_004, unmatched).await;
    assert!(!bot.log_text().contains("zqxj"), "the question reached the log");
    assert_eq!(bot.terminate(Duration::from_secs(10)).await, Some(0));
    for entry in std::fs::read_dir(dir.path()).expect("read") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read file");
        assert!(!String::from_utf8_lossy(&bytes).contains("zqxj"), "the question was written somewhere");
    }
    assert!(!record.exists());

    let record_arg = record.to_str().expect("utf-8");
    let mut bot = BotProcess::start(&fake, &["--storage", &storage, "--record-unmatched", record_arg]).await;
    ask(&fake, 700_005, unmatched).await;
    ask(&fake, 700_005, "is klonopin addictive").await; // matched: not recorded
    assert!(!bot.log_text().contains("zqxj"), "the question reached the log");
    assert_eq!(bot.terminate(Duration::from_secs(10)).await, Some(0));
    let recorded = std::fs::read_to_string(&record).expect("recorded");
    assert_eq!(recorded, "zqxj wibble ###-#### or [email] [handle] [link]\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_teloxide_cannot_parse_is_not_logged() {
    let fake = FakeBotApi::start().await;
    let mut bot = BotProcess::start(&fake, &["--storage", "memory"]).await;
    // A message missing required fields: teloxide logs such updates whole at error level.
    let id = fake.push_raw_update(serde_json::json!({"message": {"text": "my secret withdrawal question zqxjv", "chat": {"id": 1}}}));
    assert!(fake.wait_until_acknowledged(id, WAIT).await);
    assert!(bot.wait_for_log("could not parse", WAIT).await, "{}", bot.log_text());
    // The bot is still answering.
    ask(&fake, 700_006, "/help").await;
    let log = bot.log_text();
    assert!(!log.contains("zqxjv"), "message text reached the log:\n{log}");
    assert!(!log.contains(FakeBotApi::TOKEN), "the token reached the log");
    assert_eq!(bot.terminate(Duration::from_secs(10)).await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_as_cleanly_as_sigterm() {
    let fake = FakeBotApi::start().await;
    let mut bot = BotProcess::start(&fake, &["--storage", "memory"]).await;
    ask(&fake, 700_007, "/help").await;
    bot.signal("INT");
    assert!(bot.wait_for_log("SIGINT: finishing in-flight replies", WAIT).await, "{}", bot.log_text());
    assert_eq!(bot.wait(Duration::from_secs(10)).await, Some(0));
}
