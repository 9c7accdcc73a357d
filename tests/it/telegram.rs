//! End to end through Telegram: the real `klonopin-bot serve` process against the fake Bot
//! API, driven like a person would (messages, button presses, photos, stickers, groups), with
//! restarts, Redis, injected faults, a webhook and SIGTERM.
//!
//! What the bot must say is taken from the engine itself (`engine::step` + `render::parts` on
//! the embedded responses), so every turn checks that the adapter delivers exactly the engine's
//! replies, in order, as HTML, with their keyboards; content-level facts ("911" first, the
//! helpline number, "Question 5 of 11") are asserted on top of that.

use std::sync::Arc;
use std::time::{Duration, Instant};

use klonopin_bot::content::{load_embedded, ResponseSet};
use klonopin_bot::engine::{step, Input, Next, State};
use klonopin_bot::telegram::render::parts;
use serde_json::{json, Value};

use crate::support::bot_process::{free_port, BotProcess};
use crate::support::fake_bot_api::{CallOutcome, FakeBotApi, SentMessage};
use crate::support::redis_server::RedisServer;

/// Generous: the machine is shared and debug builds are slow.
const WAIT: Duration = Duration::from_secs(30);
const HELPLINE: &str = "1-800-662-4357";

// ---------------------------------------------------------------------------------------------
// The oracle: what the engine says the bot must send
// ---------------------------------------------------------------------------------------------

fn content() -> Arc<ResponseSet> {
    match load_embedded() {
        Ok(loaded) => Arc::new(loaded.set),
        Err(diags) => panic!("embedded responses do not load: {diags:#?}"),
    }
}

/// One expected Telegram message: HTML text and its keyboard as `(label, callback_data)` rows.
#[derive(Clone, Debug, PartialEq)]
struct Expected {
    html: String,
    /// The same text without markup: what the bot sends if Telegram rejects the HTML.
    plain: String,
    buttons: Vec<Vec<(String, String)>>,
}

fn keyboard_rows(markup: &Value) -> Vec<Vec<(String, String)>> {
    markup["inline_keyboard"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .map(|buttons| {
                            buttons
                                .iter()
                                .map(|b| {
                                    (b["text"].as_str().unwrap_or("").to_owned(), b["callback_data"].as_str().unwrap_or("").to_owned())
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn short(s: &str) -> String {
    let s: String = s.chars().take(160).collect();
    s.replace('\n', " | ")
}

/// The Telegram messages the engine's `messages` become.
fn expected_parts(messages: &[klonopin_bot::engine::Message]) -> Vec<Expected> {
    messages
        .iter()
        .flat_map(parts)
        .map(|p| Expected {
            html: p.html,
            plain: p.plain,
            buttons: p.keyboard.map(|k| keyboard_rows(&serde_json::to_value(k).unwrap_or(Value::Null))).unwrap_or_default(),
        })
        .collect()
}

/// One chat as the test drives it: pushes updates, predicts the replies with the engine, and
/// checks that exactly those replies arrive.
struct Chat {
    fake: FakeBotApi,
    id: i64,
    state: State,
    content: Arc<ResponseSet>,
    /// Messages to this chat already checked.
    seen: usize,
}

impl Chat {
    fn new(fake: &FakeBotApi, id: i64, content: &Arc<ResponseSet>) -> Chat {
        Chat { fake: fake.clone(), id, state: State::default(), content: Arc::clone(content), seen: 0 }
    }

    fn expect(&mut self, input: &Input<'_>) -> Vec<Expected> {
        let turn = step(&self.state, input, &self.content);
        self.state = match turn.next {
            Next::Keep(state) => state,
            Next::Forget => State::default(),
        };
        expected_parts(&turn.messages)
    }

    /// Pushes an update (`push` returns its update_id), waits for the engine's replies to
    /// `input` and checks them. Returns the new messages.
    async fn turn(&mut self, input: Input<'_>, push: impl FnOnce(&FakeBotApi) -> i64) -> Vec<SentMessage> {
        let expected = self.expect(&input);
        let update = push(&self.fake);
        self.check(expected, format!("update {update} ({input:?})")).await
    }

    /// Waits for the next `expected.len()` messages to this chat and checks them.
    async fn check(&mut self, expected: Vec<Expected>, what: String) -> Vec<SentMessage> {
        let want = self.seen + expected.len();
        let all = self.fake.wait_for_messages(self.id, want, WAIT).await;
        assert!(
            all.len() >= want,
            "{what} in chat {}: {} of {} replies arrived; violations: {:#?}",
            self.id,
            all.len().saturating_sub(self.seen),
            expected.len(),
            self.fake.violations()
        );
        let got = all[self.seen..want].to_vec();
        for (i, (msg, exp)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(msg.parse_mode.as_deref(), Some("HTML"), "{what} reply {i}: not HTML");
            assert!(!msg.edited, "{what} reply {i}: an edit, not a message");
            assert!(msg.text == exp.html, "{what} reply {i}:\n  got:      {}\n  expected: {}", short(&msg.text), short(&exp.html));
            assert_eq!(msg.buttons, exp.buttons, "{what} reply {i}: keyboard");
        }
        self.seen = want;
        got
    }

    /// A text message from the person.
    async fn say(&mut self, text: &str) -> Vec<SentMessage> {
        let id = self.id;
        self.turn(Input::from_text(text), |f| f.push_text(id, text)).await
    }

    /// Presses the button with `data` on the latest bot message that carries it.
    async fn press(&mut self, data: &str) -> Vec<SentMessage> {
        let message_id = self
            .fake
            .messages_to(self.id)
            .iter()
            .rev()
            .find(|m| m.callback_data().iter().any(|d| d == data))
            .map(|m| m.message_id)
            .unwrap_or_else(|| panic!("no message in chat {} has a button {data:?}", self.id));
        let id = self.id;
        self.turn(Input::Button(data), |f| f.push_callback(id, message_id, data)).await
    }

    /// Sends a command and waits for its reply: everything the bot sent before it, for earlier
    /// updates of this chat, has arrived by then (a chat's updates are handled in order).
    async fn sentinel(&mut self) {
        self.say("/about").await;
    }
}

fn first_line(msg: &SentMessage) -> &str {
    msg.plain.lines().next().unwrap_or("")
}

fn assert_clean(fake: &FakeBotApi) {
    assert!(fake.violations().is_empty(), "{:#?}", fake.violations());
    assert!(fake.unanswered_callbacks().is_empty(), "unanswered callbacks: {:?}", fake.unanswered_callbacks());
}

/// `--storage STORAGE`, and `--no-throttle` (with the fake's rate limits off) unless the
/// test runs with the bot's rate limiter, as in production.
fn storage_args<'a>(fake: &FakeBotApi, storage: &'a str, limiter: bool) -> Vec<&'a str> {
    let mut args = vec!["--storage", storage];
    if !limiter {
        args.push("--no-throttle");
        fake.ignore_rate_limits();
    }
    args
}

/// A fake Bot API and the bot on it, with a fresh SQLite file in the returned folder.
async fn bot_on_sqlite(limiter: bool) -> (tempfile::TempDir, FakeBotApi, BotProcess) {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeBotApi::start().await;
    let storage = sqlite_arg(&dir);
    let bot = BotProcess::start(&fake, &storage_args(&fake, &storage, limiter)).await;
    (dir, fake, bot)
}

fn sqlite_arg(dir: &tempfile::TempDir) -> String {
    format!("sqlite:{}", dir.path().join("state.sqlite").display())
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_whole_conversation_with_buttons() {
    let content = content();
    let (_dir, fake, mut bot) = bot_on_sqlite(false).await;
    let mut chat = Chat::new(&fake, 10_001, &content);

    let greeting = chat.say("/start").await;
    assert_eq!(greeting.len(), 1);
    let menu = greeting[0].callback_data();
    assert!(menu.len() >= 5 && menu.iter().any(|d| d == "v1:s") && menu.iter().any(|d| d == "v1:c"), "menu: {menu:?}");

    // A menu button on the greeting: a topic answer with related topics.
    let topic = menu.iter().find(|d| d.starts_with("v1:t:")).expect("a topic in the menu").clone();
    let answer = chat.press(&topic).await;
    let last = answer.last().expect("an answer");
    let related: Vec<String> = last.callback_data().into_iter().filter(|d| d.starts_with("v1:t:") && *d != topic).collect();
    assert!(!related.is_empty(), "no related-topic buttons: {:?}", last.buttons);
    assert!(last.callback_data().contains(&"v1:m".to_owned()));

    // A follow-up: one of the related topics, then back to the menu.
    let follow = chat.press(&related[0]).await;
    assert!(!follow.is_empty());
    let menu_again = chat.press("v1:m").await;
    assert!(menu_again[0].callback_data().contains(&"v1:s".to_owned()));
    // The crisis button shows every helpline.
    let crisis = chat.press("v1:c").await;
    assert!(crisis[0].plain.contains("911") && crisis[0].plain.contains(HELPLINE));

    assert_eq!(fake.callback_answers().len(), 4, "every press is answered once");
    assert!(fake.all_messages().iter().all(|m| m.parse_mode.as_deref() == Some("HTML")));
    let commands = fake.commands().expect("setMyCommands was called");
    assert!(commands.as_array().is_some_and(|c| c.iter().any(|c| c["command"] == json!("start"))), "{commands}");
    // What a person sees before pressing Start comes from content, set at start-up.
    assert_eq!(fake.description("description").as_deref(), content.bot.description.as_deref());
    assert_eq!(fake.description("short_description").as_deref(), content.bot.short_description.as_deref());
    assert!(fake.description("description").is_some_and(|d| d.contains("911")));
    // And in Spanish, for apps set to Spanish.
    let es = content.in_language("es");
    assert_eq!(fake.description("description:es").as_deref(), es.bot.description.as_deref());
    assert_eq!(fake.description("short_description:es").as_deref(), es.bot.short_description.as_deref());
    let spanish = fake.commands_in("es").expect("setMyCommands for Spanish apps");
    let start = es.bot.commands.iter().find(|(n, _)| n == "start").map(|(_, d)| d.clone());
    assert!(
        spanish.as_array().is_some_and(|c| c.iter().any(|c| Some(c["description"].as_str().unwrap_or_default().to_owned()) == start)),
        "{spanish}"
    );
    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
    bot.assert_private(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_free_text_topics_and_crises() {
    let content = content();
    let (_dir, fake, mut bot) = bot_on_sqlite(false).await;

    let mut question = Chat::new(&fake, 20_001, &content);
    let answer = question.say("is klonopin addictive").await;
    assert!(answer[0].plain.to_lowercase().contains("addiction"), "{}", answer[0].plain);

    // A question in Spanish from an app set to English: the answer in Spanish, with a way back.
    let mut spanish = Chat::new(&fake, 20_010, &content);
    let answer = spanish.say("¿qué es el clonazepam y para qué sirve?").await;
    let es = content.in_language("es");
    let last = answer.last().expect("a reply");
    assert!(last.callback_data().contains(&"v1:l:en".to_owned()), "{:?}", last.callback_data());
    assert!(
        answer.iter().any(|m| es.topics.iter().any(|t| m.plain.contains(t.answer.plain.lines().next().unwrap_or("?")))),
        "{}",
        answer[0].plain
    );

    let mut withdrawal = Chat::new(&fake, 20_002, &content);
    let reply = withdrawal.say("I stopped my klonopin 3 days ago and I'm shaking").await;
    assert!(reply[0].plain.contains(HELPLINE), "withdrawal guidance first: {}", reply[0].plain);
    assert!(reply[0].plain.to_lowercase().contains("withdrawal"), "{}", reply[0].plain);

    let mut overdose = Chat::new(&fake, 20_003, &content);
    let reply = overdose.say("my son took a whole bottle of pins and won't wake up").await;
    assert!(first_line(&reply[0]).contains("911"), "911 comes first: {:?}", first_line(&reply[0]));
    assert!(reply[0].plain.contains(HELPLINE));

    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
    bot.assert_private(&["klonopin addictive", "shaking", "3 days ago", "whole bottle", "wake up"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_self_check_to_the_result_and_a_crisis_midway() {
    let content = content();
    let questions = content.selfcheck.questions.len();
    assert_eq!(questions, 11);
    let (_dir, fake, mut bot) = bot_on_sqlite(false).await;

    // Straight through, from the menu's button: yes, no, yes, ...
    let mut chat = Chat::new(&fake, 30_001, &content);
    chat.say("/start").await;
    let started = chat.press("v1:s").await;
    assert!(started.last().expect("question").plain.starts_with("Question 1 of 11"));
    for n in 0..questions {
        let answer = if n % 2 == 0 { "y" } else { "n" };
        let reply = chat.press(&format!("v1:q:{n}:{answer}")).await;
        let text = &reply.last().expect("a reply").plain;
        if n + 1 < questions {
            assert!(text.starts_with(&format!("Question {} of 11", n + 2)), "after question {}: {text}", n + 1);
        } else {
            assert!(!text.starts_with("Question"), "the result, not another question: {text}");
            assert!(reply.iter().all(|m| !m.callback_data().iter().any(|d| d.starts_with("v1:q:"))));
        }
    }

    // A crisis in the middle: guidance first, then a button back to the same question.
    let mut midway = Chat::new(&fake, 30_002, &content);
    midway.say("/selfcheck").await;
    midway.press("v1:q:0:y").await;
    midway.press("v1:q:1:n").await;
    let crisis = midway.say("my friend took a whole bottle and wont wake up").await;
    assert!(first_line(&crisis[0]).contains("911"), "{}", crisis[0].plain);
    let resume = crisis.iter().rev().find_map(|m| m.button_data("Continue the self-check")).expect("a continue button");
    assert_eq!(resume, "v1:r");
    let back = midway.press(&resume).await;
    assert!(back[0].plain.starts_with("Question 3 of 11"), "{}", back[0].plain);
    midway.press("v1:q:2:y").await;

    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
    bot.assert_private(&["whole bottle", "wont wake up"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_deep_links_answer_their_topic() {
    let content = content();
    let fake = FakeBotApi::start().await;
    let mut bot = BotProcess::start(&fake, &["--storage", "memory"]).await;
    let ids: Vec<String> = content.topics.iter().map(|t| t.id.clone()).collect();
    assert!(ids.len() >= 20);
    for (i, id) in ids.iter().enumerate() {
        let mut chat = Chat::new(&fake, 40_000 + i as i64, &content);
        let turn = step(&State::default(), &Input::from_text(&format!("/start {id}")), &content);
        let reply = chat.say(&format!("/start {id}")).await;
        match turn.topic {
            // Answered directly.
            Some(served) => assert_eq!(&served, id),
            // Topics that depend on who asks ask "for whom?" first; the answer follows.
            None => {
                let myself = format!("v1:a:s:{id}");
                assert!(
                    reply.last().expect("a question").callback_data().contains(&myself),
                    "{id}: {:?}",
                    reply.last().map(|m| &m.buttons)
                );
                chat.press(&myself).await;
            }
        }
    }
    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_photo_caption_crisis_and_sticker() {
    let content = content();
    let fake = FakeBotApi::start().await;
    let mut bot = BotProcess::start(&fake, &["--storage", "memory"]).await;

    let mut chat = Chat::new(&fake, 50_001, &content);
    let caption = "took too many klonopin";
    let reply = chat.turn(Input::NonText { caption: Some(caption) }, |f| f.push_photo(50_001, Some(caption))).await;
    assert!(first_line(&reply[0]).contains("911"), "{}", reply[0].plain);
    assert!(reply[0].plain.contains(HELPLINE));

    let mut other = Chat::new(&fake, 50_002, &content);
    let reply = other.turn(Input::NonText { caption: None }, |f| f.push_sticker(50_002)).await;
    assert_eq!(reply.len(), 1);
    assert!(reply[0].plain.chars().count() < 400, "a short reply: {}", reply[0].plain);
    assert!(reply[0].callback_data().contains(&"v1:s".to_owned()), "with the menu: {:?}", reply[0].buttons);
    // A photo without a caption gets the same friendly reply.
    other.turn(Input::NonText { caption: None }, |f| f.push_photo(50_002, None)).await;

    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
    bot.assert_private(&[caption]);
}

/// Starts the self-check, answers three questions, restarts the process on the same storage,
/// and presses question 4's Yes: the answer is question 5.
async fn self_check_survives_a_restart(storage: &str, extra: &[&str]) {
    let content = content();
    let fake = FakeBotApi::start().await;
    let mut args = vec!["--storage", storage];
    args.extend_from_slice(extra);
    let mut chat = Chat::new(&fake, 60_001, &content);

    let mut bot = BotProcess::start(&fake, &args).await;
    chat.say("/selfcheck").await;
    chat.press("v1:q:0:y").await;
    chat.press("v1:q:1:y").await;
    let fourth = chat.press("v1:q:2:n").await;
    assert!(fourth[0].plain.starts_with("Question 4 of 11"), "{}", fourth[0].plain);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "first run:\n{}", bot.log_text());
    let first_log = bot.log_text();

    let mut bot = BotProcess::start(&fake, &args).await;
    let fifth = chat.press("v1:q:3:y").await;
    assert!(fifth[0].plain.starts_with("Question 5 of 11"), "the state did not survive the restart: {}", fifth[0].plain);
    chat.press("v1:q:4:n").await;
    chat.sentinel().await;
    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "second run:\n{}", bot.log_text());
    assert!(!first_log.contains(FakeBotApi::TOKEN));
    bot.assert_private(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_state_survives_a_restart_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    self_check_survives_a_restart(&sqlite_arg(&dir), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_state_survives_a_restart_on_redis() {
    let Some(redis) = RedisServer::start("telegram_state_survives_a_restart_on_redis") else { return };
    let url = redis.url(0);
    self_check_survives_a_restart(&url, &["--redis-namespace", "e2e"]).await;
    drop(redis);
}

async fn faults_are_retried_without_duplicates(limiter: bool) {
    let content = content();
    let (_dir, fake, mut bot) = bot_on_sqlite(limiter).await;
    let base = if limiter { 80_000 } else { 81_000 };
    let mut chat = Chat::new(&fake, base + 1, &content);

    // Each turn is checked against the engine's replies, so a lost or doubled message fails.
    fake.fail_next_sends_with_429(2, 1);
    chat.say("/start").await;
    chat.say("is klonopin addictive").await;
    fake.drop_next_connections(2);
    chat.say("my son took a whole bottle of pins and won't wake up").await;
    chat.press("v1:m").await;
    fake.fail_next_sends_with_429(1, 1);
    fake.drop_next_connections(1);
    chat.say("/help").await;
    // Both kinds at once across two chats.
    let mut second = Chat::new(&fake, base + 2, &content);
    fake.fail_next_sends_with_429(2, 1);
    let expected_a = chat.expect(&Input::from_text("/privacy"));
    let expected_b = second.expect(&Input::from_text("/privacy"));
    let ua = fake.push_text(chat.id, "/privacy");
    let ub = fake.push_text(second.id, "/privacy");
    chat.check(expected_a, format!("update {ua}")).await;
    second.check(expected_b, format!("update {ub}")).await;
    chat.sentinel().await;
    second.sentinel().await;

    // Exactly the replies, none twice.
    for c in [&chat, &second] {
        let texts: Vec<String> = fake.messages_to(c.id).into_iter().map(|m| m.text).collect();
        assert_eq!(texts.len(), c.seen, "chat {}: {} messages, expected {}", c.id, texts.len(), c.seen);
    }
    let faulted = fake.sent().iter().filter(|c| !matches!(c.outcome, CallOutcome::Ok)).count();
    assert!(faulted >= 8, "the faults were injected ({faulted})");
    assert!(bot.is_running(), "the bot died:\n{}", bot.log_text());
    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
    bot.assert_private(&["klonopin addictive", "whole bottle"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_faults_with_the_limiter() {
    faults_are_retried_without_duplicates(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_faults_without_rate_limits() {
    faults_are_retried_without_duplicates(false).await;
}

/// A burst far over Telegram's limits (60 chats asking at once, one chat sending eight
/// messages, a group asking three questions): every reply arrives, in order, none twice, and
/// the fake (which refuses and records any message over the limits) saw no violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_a_burst_is_held_to_telegrams_limits() {
    let content = content();
    let fake = FakeBotApi::start().await;
    let mut bot = BotProcess::start(&fake, &["--storage", "memory"]).await;
    let mut chats: Vec<Chat> = (0..60).map(|i| Chat::new(&fake, 70_000 + i, &content)).collect();
    let mut busy = Chat::new(&fake, 70_100, &content);
    let mut group = Chat::new(&fake, -70_200, &content);
    let mut expected = Vec::new();
    for chat in &mut chats {
        expected.push(chat.expect(&Input::from_text("/privacy")));
        fake.push_text(chat.id, "/privacy");
    }
    let mut busy_expected = Vec::new();
    for text in ["/start", "/help", "is klonopin addictive", "/about", "/privacy", "what is rivotril", "/crisis", "/topics"] {
        busy_expected.extend(busy.expect(&Input::from_text(text)));
        fake.push_text(busy.id, text);
    }
    let mut group_expected = Vec::new();
    for text in ["/help", "/about", "/privacy"] {
        group_expected.extend(group.expect(&Input::from_text(text)));
        fake.push_group_text(group.id, 7, text);
    }
    for (chat, expected) in chats.iter_mut().zip(expected) {
        chat.check(expected, "a burst of /privacy".to_owned()).await;
    }
    busy.check(busy_expected, "eight messages in a row".to_owned()).await;
    group.check(group_expected, "three group commands".to_owned()).await;
    assert!(busy.seen >= 8 && fake.messages_to(busy.id).len() == busy.seen, "chat {}: {} messages", busy.id, busy.seen);
    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
}

/// A reply whose HTML Telegram rejects arrives again as plain text with its keyboard; a chat
/// that blocked the bot loses its stored state; the bot stays up. With the rate limiter and
/// without it.
async fn html_rejections_and_blocked_chats(limiter: bool) {
    let content = content();
    let (_dir, fake, mut bot) = bot_on_sqlite(limiter).await;
    let base = if limiter { 90_000 } else { 91_000 };

    let mut chat = Chat::new(&fake, base + 1, &content);
    chat.say("/start").await;
    let question = "is klonopin addictive";
    let expected = chat.expect(&Input::from_text(question));
    fake.reject_next_html_sends(1);
    fake.push_text(chat.id, question);
    let all = fake.wait_for_messages(chat.id, chat.seen + expected.len(), WAIT).await;
    let got = all.get(chat.seen..).unwrap_or_default();
    assert_eq!(got.len(), expected.len(), "every reply arrived: {:#?}", fake.violations());
    assert_eq!(got[0].parse_mode, None, "the rejected reply went again without parse_mode");
    assert_eq!(got[0].text, expected[0].plain);
    assert_ne!(expected[0].plain, expected[0].html, "the answer has markup, so the fallback is visible");
    assert_eq!(got[0].buttons, expected[0].buttons, "the keyboard survives the fallback");
    for (msg, exp) in got.iter().zip(&expected).skip(1) {
        assert_eq!(msg.parse_mode.as_deref(), Some("HTML"));
        assert_eq!(msg.text, exp.html);
    }
    chat.seen += expected.len();
    let rejected: Vec<_> = fake.sent().into_iter().filter(|c| matches!(c.outcome, CallOutcome::Injected { error_code: 400, .. })).collect();
    assert_eq!(rejected.len(), 1, "exactly one HTML send was rejected");
    assert_eq!(rejected[0].text.as_deref(), Some(expected[0].html.as_str()));

    // A reply Telegram refuses for good (400, no retry or fallback mends it): the error
    // handler logs it with the update id and counts it; the chat goes on.
    let refused_question = "what is klonopin";
    fake.refuse_next_sends(1);
    let refused_update = fake.push_text(chat.id, refused_question);
    assert!(
        fake.wait_until(WAIT, || bot
            .log_text()
            .contains(&format!("update {refused_update}: a reply was not delivered (api: MessageIsTooLong)")))
            .await,
        "the failure reached the error handler:\n{}",
        bot.log_text()
    );
    // Its state was still stored; what was delivered before the refusal is all there will be.
    let lost = chat.expect(&Input::from_text(refused_question));
    assert!(fake.messages_to(chat.id).len() < chat.seen + lost.len(), "the refused part was not delivered");
    chat.seen = fake.messages_to(chat.id).len();
    // Asked again, the answer depends on what was stored: it was.
    let again = Input::from_text(refused_question);
    assert_ne!(
        step(&chat.state, &again, &content).messages,
        step(&State::default(), &again, &content).messages,
        "the repeat tells a stored state"
    );
    chat.say(refused_question).await;

    // Blocked in the middle of the self-check: the 403 clears the stored state.
    let mut blocked = Chat::new(&fake, base + 2, &content);
    blocked.say("/selfcheck").await;
    blocked.press("v1:q:0:y").await;
    let before_block = blocked.state.clone();
    fake.block_chat(blocked.id, true);
    fake.push_text(blocked.id, "hello");
    let refused = fake
        .wait_until(WAIT, || {
            fake.sent().iter().any(|c| c.chat_id == Some(blocked.id) && matches!(c.outcome, CallOutcome::Injected { error_code: 403, .. }))
        })
        .await;
    assert!(refused, "the bot tried to answer the blocked chat");
    fake.block_chat(blocked.id, false);
    blocked.state = State::default();
    let answer = Input::Button("v1:q:1:n");
    let had_it_kept = step(&before_block, &answer, &content).messages;
    assert_ne!(had_it_kept, step(&State::default(), &answer, &content).messages, "the press tells a kept state from a cleared one");
    // Checked against the engine from the start state: the stored self-check is gone.
    blocked.press("v1:q:1:n").await;

    chat.sentinel().await;
    assert!(bot.is_running(), "the bot died:\n{}", bot.log_text());
    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
    bot.assert_private(&[question, "hello", refused_question]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_html_rejections_and_blocked_chats_with_the_limiter() {
    html_rejections_and_blocked_chats(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_html_rejections_and_blocked_chats_without_rate_limits() {
    html_rejections_and_blocked_chats(false).await;
}

fn webhook_update(update_id: i64, chat_id: i64, message_id: i64, text: &str) -> Value {
    let mut message = json!({
        "message_id": message_id,
        "from": {"id": chat_id, "is_bot": false, "first_name": "Tester", "username": "webhooktester", "language_code": "en"},
        "chat": {"id": chat_id, "type": "private", "first_name": "Tester", "username": "webhooktester"},
        "date": 1_700_000_000,
        "text": text,
    });
    if text.starts_with('/') {
        let len = text.split_whitespace().next().unwrap_or("").encode_utf16().count();
        message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
    }
    json!({"update_id": update_id, "message": message})
}

/// POSTs one update to a webhook, retrying the connection while the server comes up (it may
/// still be starting right after setWebhook); the HTTP status.
async fn post_webhook(client: &reqwest::Client, url: &str, body: &Value, secret: Option<&str>) -> u16 {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut request = client.post(url).json(body);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        match request.send().await {
            Ok(response) => return response.status().as_u16(),
            Err(e) if e.is_connect() && Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("POST {url}: {e}"),
        }
    }
}

/// Two `serve` processes on webhooks share one redis-server, as behind a load balancer: six
/// people take the whole self-check at once, each answer going to the other instance than
/// the one before. Every reply is checked against the engine, so a transition lost, or a
/// state read before the other instance stored it, fails the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_two_instances_on_one_redis_share_every_transition() {
    let Some(redis) = RedisServer::start("telegram_two_instances_on_one_redis_share_every_transition") else { return };
    let content = content();
    let fake = FakeBotApi::start().await;
    // Each instance has its own limiter; together they may pass Telegram's per-chat pace,
    // which is not what this test is about.
    fake.ignore_rate_limits();
    let storage = redis.url(0);
    let ports = [free_port(), free_port()];
    let mut bots: Vec<BotProcess> = ports
        .iter()
        .map(|port| {
            let listen = format!("127.0.0.1:{port}");
            let args = [
                "--storage",
                storage.as_str(),
                "--no-throttle",
                "--webhook-url",
                "https://example.invalid/hook",
                "--listen",
                listen.as_str(),
            ];
            BotProcess::spawn(&fake, &args, &[("KLONOPIN_BOT_WEBHOOK_SECRET", "s3cret")], &[])
        })
        .collect();
    assert!(fake.wait_for_method("setWebhook", 2, WAIT).await >= 2, "both instances set the webhook");
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let hooks: Vec<String> = ports.iter().map(|port| format!("http://127.0.0.1:{port}/hook")).collect();

    let mut people: Vec<Chat> = (0..6).map(|i| Chat::new(&fake, 95_001 + i, &content)).collect();
    for person in &people {
        // Makes the chat known to the fake (nothing polls in webhook mode).
        fake.push_raw_update(json!({"message": webhook_update(0, person.id, 1, "hello")["message"].clone()}));
    }
    let questions = content.selfcheck.questions.len();
    assert!(questions >= 5, "the self-check has its questions");
    let mut update_id = 9_000;
    for step in 0..=questions {
        let mut expected = Vec::new();
        for (i, person) in people.iter_mut().enumerate() {
            let text = match step {
                0 => "/selfcheck",
                _ if (step * (i + 2)) % 3 == 0 => "no",
                _ => "yes",
            };
            update_id += 1;
            let hook = &hooks[(step + i) % 2];
            expected.push((person.expect(&Input::from_text(text)), format!("step {step} ({text}) via instance {}", (step + i) % 2)));
            let body = webhook_update(update_id, person.id, step as i64 + 2, text);
            assert_eq!(post_webhook(&client, hook, &body, Some("s3cret")).await, 200);
        }
        for (person, (replies, what)) in people.iter_mut().zip(expected) {
            person.check(replies, what).await;
        }
    }
    for person in &people {
        assert_eq!(person.state.flow, klonopin_bot::engine::Flow::Idle, "chat {}: the self-check ended with its result", person.id);
    }
    assert_clean(&fake);
    for bot in &mut bots {
        assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
    }
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_webhook_checks_the_secret() {
    let content = content();
    let fake = FakeBotApi::start().await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut bot = BotProcess::spawn(
        &fake,
        &["--storage", "memory", "--webhook-url", "https://example.invalid/hook", "--listen", &listen],
        &[("KLONOPIN_BOT_WEBHOOK_SECRET", "s3cret")],
        &[],
    );
    assert!(fake.wait_for_method("setWebhook", 1, WAIT).await >= 1, "no setWebhook; log:\n{}", bot.log_text());
    let set = fake.sent().into_iter().find(|c| c.method == "setwebhook").expect("setWebhook recorded");
    assert_eq!(set.params["url"].as_str(), Some("https://example.invalid/hook"));
    assert_eq!(set.params["secret_token"].as_str(), Some("s3cret"));

    let chat_id = 90_001;
    // Makes the chat known to the fake (nothing polls in webhook mode).
    fake.push_raw_update(json!({"message": webhook_update(0, chat_id, 1, "hello")["message"].clone()}));
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let url = format!("http://127.0.0.1:{port}/hook");
    let post = |body: Value, secret: Option<&'static str>| {
        let (client, url) = (client.clone(), url.clone());
        async move { post_webhook(&client, &url, &body, secret).await }
    };

    let mut chat = Chat::new(&fake, chat_id, &content);
    // Wrong and missing secrets: 401, never processed.
    assert_eq!(post(webhook_update(7001, chat_id, 2, "/privacy"), Some("wrong")).await, 401);
    assert_eq!(post(webhook_update(7002, chat_id, 3, "/privacy"), None).await, 401);
    // The right secret: answered.
    let expected = chat.expect(&Input::from_text("/help"));
    assert_eq!(post(webhook_update(7003, chat_id, 4, "/help"), Some("s3cret")).await, 200);
    let reply = chat.check(expected, "webhook /help".into()).await;
    assert!(!reply.is_empty());
    let expected = chat.expect(&Input::from_text("/about"));
    assert_eq!(post(webhook_update(7004, chat_id, 5, "/about"), Some("s3cret")).await, 200);
    chat.check(expected, "webhook /about".into()).await;
    // Only /help and /about were answered: the two rejected /privacy never were.
    assert_eq!(fake.messages_to(chat_id).len(), chat.seen);

    assert_eq!(fake.method_count("getUpdates"), 0, "no polling in webhook mode");
    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
    bot.assert_private(&["s3cret"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_without_a_token_exits_with_a_hint() {
    let fake = FakeBotApi::start().await;
    let mut bot = BotProcess::spawn(&fake, &["--storage", "memory"], &[], &["TELOXIDE_TOKEN"]);
    let code = bot.wait(WAIT).await;
    assert!(matches!(code, Some(c) if c != 0), "exit code {code:?}");
    let log = bot.log_text();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line:\n{log}");
    assert!(lines[0].contains("TELOXIDE_TOKEN"), "{log}");
    assert_eq!(fake.method_count("getMe"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_sigterm_finishes_acknowledged_updates_without_rate_limits() {
    sigterm_finishes_acknowledged_updates(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_sigterm_finishes_acknowledged_updates_with_the_limiter() {
    sigterm_finishes_acknowledged_updates(true).await;
}

/// SIGTERM while updates from several chats stream in: exit 0 within 10 s, and every update
/// the bot acknowledged (so Telegram will not send it again) got its reply, and no other did.
async fn sigterm_finishes_acknowledged_updates(limiter: bool) {
    let content = content();
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeBotApi::start().await;
    let storage = sqlite_arg(&dir);
    let args = storage_args(&fake, storage.as_str(), limiter);
    // teloxide's own shutdown steps are logged too, to see where a slow shutdown waits.
    let mut bot = BotProcess::start_with_env(&fake, &args, &[("RUST_LOG", "klonopin_bot=debug,teloxide=debug")]).await;

    // Stateless commands, one reply each, so the n-th reply of a chat answers its n-th update.
    let reply_to = |command: &str| {
        let turn = step(&State::default(), &Input::from_text(command), &content);
        let expected: Vec<String> = turn.messages.iter().flat_map(parts).map(|p| p.html).collect();
        assert_eq!(expected.len(), 1, "{command} has one reply");
        expected[0].clone()
    };
    let (help, privacy) = (reply_to("/help"), reply_to("/privacy"));
    let chats: Vec<i64> = (1..=5).map(|i| 100_000 + i).collect();
    let mut pushed: Vec<(i64, i64, &str)> = Vec::new(); // (update_id, chat, command)
    let push = |n: usize, pushed: &mut Vec<(i64, i64, &str)>| {
        for _ in 0..n {
            let i = pushed.len();
            let chat = chats[i % chats.len()];
            let command = if (i / chats.len()).is_multiple_of(2) { "/help" } else { "/privacy" };
            pushed.push((fake.push_text(chat, command), chat, command));
        }
    };
    push(12, &mut pushed);
    assert!(fake.wait_until(WAIT, || fake.all_messages().len() >= 3).await, "no replies:\n{}", bot.log_text());
    push(6, &mut pushed);
    bot.signal("TERM");
    push(12, &mut pushed);
    let started = Instant::now();
    let code = bot.wait(Duration::from_secs(10)).await;
    assert_eq!(code, Some(0), "exit within 10 s with 0 (took {:?}):\n{}", started.elapsed(), bot.log_text());

    let acknowledged = fake.acknowledged_offset();
    for chat in &chats {
        let expected: Vec<&str> = pushed
            .iter()
            .filter(|(update, c, _)| c == chat && *update < acknowledged)
            .map(|(_, _, command)| if *command == "/help" { help.as_str() } else { privacy.as_str() })
            .collect();
        let got: Vec<String> = fake.messages_to(*chat).into_iter().map(|m| m.text).collect();
        assert!(got.len() >= expected.len(), "chat {chat}: {} acknowledged updates, {} replies", expected.len(), got.len());
        assert_eq!(got.len(), expected.len(), "chat {chat}: replies to updates that were never acknowledged (they will come again)");
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!(g == e, "chat {chat} reply {i}: {} instead of {}", short(g), short(e));
        }
    }
    let answered: usize = chats.iter().map(|c| fake.messages_to(*c).len()).sum();
    assert!(answered >= 12, "the updates before SIGTERM were answered ({answered})");
    assert_clean(&fake);
    bot.assert_private(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_logs_never_show_what_people_wrote() {
    let content = content();
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeBotApi::start().await;
    let storage = sqlite_arg(&dir);
    let mut bot = BotProcess::spawn(&fake, &["--storage", &storage], &[("RUST_LOG", "klonopin_bot=trace,teloxide=info,warn")], &[]);
    assert!(fake.wait_for_method("getUpdates", 1, WAIT).await >= 1, "{}", bot.log_text());

    let secrets = [
        "is klonopin addictive for grandmothers",
        "I stopped my klonopin 3 days ago and I'm shaking",
        "my son took a whole bottle of pins and won't wake up",
        "zebra quartz violin marmalade",
        "took too many klonopin at the lighthouse",
        "I took too many pills and cannot breathe properly",
    ];
    let mut chat = Chat::new(&fake, 110_001, &content);
    chat.say(secrets[0]).await;
    chat.say(secrets[1]).await;
    chat.say(secrets[2]).await;
    chat.say(secrets[3]).await; // unmatched: the fallback
    chat.turn(Input::NonText { caption: Some(secrets[4]) }, |f| f.push_photo(110_001, Some(secrets[4]))).await;
    // An edit into a crisis is answered again; an edit without one is not.
    let (_, mid) = fake.push_text_with_id(110_002, "/start");
    let mut edits = Chat::new(&fake, 110_002, &content);
    let expected = edits.expect(&Input::from_text("/start"));
    edits.check(expected, "start".into()).await;
    fake.push_edited_text(110_002, mid, "banana hammock telescope");
    edits.turn(Input::from_text(secrets[5]), |f| f.push_edited_text(110_002, mid, secrets[5])).await;
    edits.sentinel().await;
    // A group message the bot ignores, and one addressed to it.
    fake.push_group_text(-110_003, 7, "ignored secret pineapple sentence");
    let mut group = Chat::new(&fake, -110_003, &content);
    let mention = "@klonopin_test_bot what about the tangerine parliament";
    group.turn(Input::Text(mention), |f| f.push_group_text(-110_003, 7, mention)).await;
    // Messages teloxide cannot parse (`via_bot` is not a user): the words are still answered,
    // a message without words is dropped, and neither reaches the log.
    let unparseable = |message_id: i64, extra: Value| {
        let mut message = json!({
            "message_id": message_id,
            "from": {"id": 110_004, "is_bot": false, "first_name": "Tester", "username": "tester110004"},
            "chat": {"id": 110_004, "type": "private", "first_name": "Tester", "username": "tester110004"},
            "date": 1_700_000_000,
            "via_bot": "not a user",
        });
        if let (Some(m), Some(extra)) = (message.as_object_mut(), extra.as_object()) {
            m.extend(extra.clone());
        }
        json!({ "message": message })
    };
    let words = "withdrawl from my pins is making me see things, magnolia";
    let mut broken = Chat::new(&fake, 110_004, &content);
    let reply = broken.turn(Input::Text(words), |f| f.push_raw_update(unparseable(1, json!({ "text": words })))).await;
    assert!(reply[0].plain.contains(HELPLINE), "crisis guidance for a salvaged message: {}", reply[0].plain);
    fake.push_raw_update(unparseable(2, json!({ "new_media": {"kumquat": true} })));
    // A kind of content teloxide cannot read (here a malformed photo) arrives with its words
    // lost: the short reply for things that are not text, with the menu.
    let mut malformed_photo = unparseable(3, json!({ "photo": "kumquat", "caption": "kumquat" }));
    if let Some(m) = malformed_photo["message"].as_object_mut() {
        m.remove("via_bot");
    }
    broken.turn(Input::NonText { caption: None }, |f| f.push_raw_update(malformed_photo)).await;
    broken.sentinel().await;
    let log = bot.log_text();
    assert!(log.contains("answering from its text alone") && log.contains("holds no text to answer"), "{log}");

    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
    bot.assert_private(&secrets);
    bot.assert_private(&[words, "magnolia", "kumquat", "tester110004"]);
    bot.assert_private(&[
        "grandmothers",
        "shaking",
        "whole bottle",
        "marmalade",
        "lighthouse",
        "banana hammock",
        "pineapple",
        "tangerine",
        "Tester",
        "tester110001",
    ]);
    assert!(bot.log_text().contains("serving content"), "the log was captured:\n{}", bot.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_group_answers_only_what_is_addressed_to_it_and_crises() {
    group_answers_only_what_is_addressed_to_it_and_crises(false).await;
}

/// With the rate limiter: a group gets a burst of 3, then one message every 3.75 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_group_answers_only_what_is_addressed_to_it_and_crises_with_the_limiter() {
    group_answers_only_what_is_addressed_to_it_and_crises(true).await;
}

async fn group_answers_only_what_is_addressed_to_it_and_crises(limiter: bool) {
    let content = content();
    let fake = FakeBotApi::start().await;
    let args = storage_args(&fake, "memory", limiter);
    let mut bot = BotProcess::start(&fake, &args).await;

    for group_id in [-200_001_i64, -1_000_000_200_002] {
        let mut group = Chat::new(&fake, group_id, &content);
        // Not for the bot: no reply (checked by the replies that follow: a chat is answered in order).
        fake.push_group_text(group_id, 7, "is klonopin addictive");
        fake.push_group_text(group_id, 7, "/help@some_other_bot");
        fake.push_sticker(group_id);
        let help = "/help@klonopin_test_bot";
        let reply = group.turn(Input::from_text(help), |f| f.push_group_text(group_id, 7, help)).await;
        assert!(!reply.is_empty());
        let mention = "@klonopin_test_bot is klonopin addictive";
        let reply = group.turn(Input::Text(mention), |f| f.push_group_text(group_id, 8, mention)).await;
        assert!(!reply.is_empty());
        // A bare command is for every bot in the group, this one included.
        group.turn(Input::from_text("/privacy"), |f| f.push_group_text(group_id, 7, "/privacy")).await;
        group.turn(Input::from_text("/about"), |f| f.push_group_text(group_id, 7, "/about")).await;
        assert_eq!(fake.messages_to(group_id).len(), group.seen, "group {group_id}: only the addressed messages were answered");

        // Overheard, but someone may be in danger: the crisis guidance, as a reply to it, once
        // per kind of crisis in a while; an overdose after talk of withdrawal is answered too.
        let withdrawal = "third day off my pins, this withdrawl is killing me";
        let overdose = "my brother took a whole bottle of his klonopin and won't wake up";
        for (text, answered) in [(withdrawal, true), ("still withdrawing from klonopin, anyone else?", false), (overdose, true)] {
            let (update, message_id) = fake.push_group_text_with_id(group_id, 9, text);
            if !answered {
                continue; // checked by the next reply: a chat is answered in order
            }
            let turn = klonopin_bot::engine::overheard(text, &content).expect("a crisis");
            let got = group.check(expected_parts(&turn.messages), format!("overheard update {update}")).await;
            assert_eq!(got.len(), 1, "only the guidance");
            assert!(got[0].plain.contains(HELPLINE), "{}", got[0].plain);
            assert_eq!(got[0].params["reply_parameters"]["message_id"], json!(message_id), "a reply to the message");
        }
        group.turn(Input::from_text("/about"), |f| f.push_group_text(group_id, 7, "/about")).await;
        assert_eq!(fake.messages_to(group_id).len(), group.seen, "group {group_id}: the repeated withdrawal mention got nothing");
    }

    assert_clean(&fake);
    assert_eq!(bot.terminate(WAIT).await, Some(0), "{}", bot.log_text());
}
