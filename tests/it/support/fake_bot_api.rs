//! A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests: the real bot talks to it via `TELOXIDE_API_URL`, and it validates, records and fault-injects.
//!
//! Start one with [`FakeBotApi::start`], point the bot at [`FakeBotApi::url`] with token
//! [`FakeBotApi::TOKEN`] (see [`FakeBotApi::env`]), push incoming updates with the `push_*`
//! methods and inspect what the bot sent with [`FakeBotApi::sent`] / [`FakeBotApi::messages_to`].
//!
//! Behaviour worth knowing:
//! * Requests are `POST {url}/bot{token}/{Method}`; method names are matched case-insensitively.
//!   JSON, multipart/form-data, urlencoded bodies and query strings are all understood.
//! * Everything Telegram would reject (bad HTML, too-long or empty text, bad inline keyboards,
//!   unknown chat, unknown/duplicate callback answers, bad `setMyCommands`, editing a message
//!   that does not exist or did not change, ...) is answered with a Telegram-style 400 **and**
//!   appended to [`FakeBotApi::violations`]. A test should normally end with
//!   `assert!(api.violations().is_empty(), "{:#?}", api.violations())`.
//! * A chat is "known" once an update for it was pushed; sending to any other chat is a violation.
//! * `getUpdates` honours `offset` (updates below it are forgotten), `limit`, `timeout`
//!   (long poll) and `allowed_updates`. A newer `getUpdates` terminates a still-waiting older one
//!   with 409, like Telegram.
//! * Fault injection ([`FakeBotApi::fail_next_sends_with_429`],
//!   [`FakeBotApi::drop_next_connections`], [`FakeBotApi::reject_next_html_sends`],
//!   [`FakeBotApi::block_chat`]) targets "sending" methods: every method whose name
//!   starts with `send` or `edit`, except `sendChatAction`. Faulted calls are *not* delivered
//!   (they are not in [`FakeBotApi::messages_to`]); they are in [`FakeBotApi::sent`] with a
//!   [`CallOutcome::RetryAfter`] / [`CallOutcome::Dropped`] / [`CallOutcome::Injected`]
//!   outcome and are counted by [`FakeBotApi::method_count`].
//! * Telegram's rate limits are enforced on messages (methods starting with `send`, except
//!   `sendChatAction`): more than 30 in any second overall, more than 4 to one chat in any
//!   second (Telegram tolerates short bursts over one a second; the bot's limiter sends at
//!   most a burst of 3 plus one a second), or more than 20 to one group in any minute gets a
//!   429 with `retry_after` 1, a [`CallOutcome::Limited`] record, **and** a violation. Stricter
//!   than Telegram, which counts more loosely; [`FakeBotApi::ignore_rate_limits`] turns this
//!   off for bots run with `--no-throttle`. Lean mode does not count.
//! * The server runs on the tokio runtime that called [`FakeBotApi::start`] and stops when the
//!   last clone of the handle is dropped. With `#[tokio::test]` (current-thread runtime) never block
//!   the thread (use `tokio::process`, `tokio::time::sleep`), or use `flavor = "multi_thread"`.
//! * For load tests (`benches/load.rs`): every successful `sendMessage` is counted
//!   ([`FakeBotApi::delivered_count`], lock-free) and timestamped ([`FakeBotApi::deliveries`]);
//!   [`FakeBotApi::first_call_at`] tells when a method was first called;
//!   [`FakeBotApi::push_texts`] queues many text messages under one lock. Lean mode
//!   ([`FakeBotApi::set_lean`], off by default) answers `sendMessage` without validating it,
//!   without per-call records and without building a JSON tree, so that under load the fake
//!   costs far less than the bot it measures.
#![allow(dead_code)]

use std::{
    collections::{HashMap, VecDeque},
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard,
    },
    task::{Context, Poll},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    body::Bytes,
    extract::{connect_info::Connected, ConnectInfo, State},
    http::{header, HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    serve::{IncomingStream, Listener},
    Router,
};
use serde_json::{json, Map, Value};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::Notify,
    time::Instant,
};

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// How the fake answered one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// `{"ok":true,...}`.
    Ok,
    /// A Telegram-style error (every one of these is also in `violations()`).
    Rejected { error_code: u16, description: String },
    /// Injected 429 with this `retry_after`.
    RetryAfter(u32),
    /// 429 for breaking Telegram's rate limits (also in `violations()`).
    Limited,
    /// Injected: the request was read and the connection closed without a response.
    Dropped,
    /// Injected Telegram error (not a violation): see [`FakeBotApi::reject_next_html_sends`]
    /// and [`FakeBotApi::block_chat`].
    Injected { error_code: u16, description: String },
}

/// One call the bot made (every method except `getUpdates`), in arrival order.
#[derive(Clone, Debug)]
pub struct SentCall {
    /// Lower-case method name, e.g. `"sendmessage"`.
    pub method: String,
    pub chat_id: Option<i64>,
    /// `text`, or `caption` for media.
    pub text: Option<String>,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<Value>,
    /// Assigned id for sends; the targeted id for edits/deletes.
    pub message_id: Option<i32>,
    /// All parameters as received (multipart/form fields as strings).
    pub params: Value,
    pub outcome: CallOutcome,
}

/// A text message as the user sees it: a successful `sendMessage` or `editMessageText`.
#[derive(Clone, Debug, PartialEq)]
pub struct SentMessage {
    pub chat_id: i64,
    pub message_id: i32,
    /// Raw `text` parameter as sent.
    pub text: String,
    /// What the user sees: HTML tags removed, entities decoded (== `text` without parse_mode).
    pub plain: String,
    pub parse_mode: Option<String>,
    /// Inline keyboard rows of `(label, callback_data)`; `callback_data` is `""` for URL buttons.
    pub buttons: Vec<Vec<(String, String)>>,
    /// `(label, url)` of every URL button, row by row.
    pub url_buttons: Vec<(String, String)>,
    pub reply_markup: Option<Value>,
    /// `true` for `editMessageText`.
    pub edited: bool,
    pub params: Value,
}

impl SentMessage {
    /// All callback_data values of the inline keyboard, row by row.
    pub fn callback_data(&self) -> Vec<String> {
        self.buttons.iter().flatten().map(|(_, d)| d.clone()).filter(|d| !d.is_empty()).collect()
    }

    /// The callback_data of the first button whose label contains `label_part`.
    pub fn button_data(&self, label_part: &str) -> Option<String> {
        self.buttons.iter().flatten().find(|(l, _)| l.contains(label_part)).map(|(_, d)| d.clone())
    }
}

/// One `answerCallbackQuery` call that was accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackAnswer {
    pub callback_query_id: String,
    pub text: Option<String>,
    pub show_alert: bool,
}

/// One successful `sendMessage`, as recorded for load tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub chat_id: i64,
    /// When the fake received the request (before parsing it).
    pub at: std::time::Instant,
}

/// The fake server handle. Cheap to clone; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct FakeBotApi {
    inner: Arc<Inner>,
    _server: Arc<ServerTask>,
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

struct ServerTask(tokio::task::JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Inner {
    addr: SocketAddr,
    state: Mutex<ApiState>,
    /// Woken when an update is queued or a long poll is superseded.
    updates_changed: Notify,
    /// Woken after every request was handled.
    calls_changed: Notify,
    /// Successful `sendMessage` calls so far (== `deliveries().len()`), readable without the lock.
    delivered: AtomicUsize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChatKind {
    Private,
    Group,
    Supergroup,
}

struct StoredMessage {
    from_bot: bool,
    json: Value,
    text: String,
    parse_mode: Option<String>,
    reply_markup: Option<Value>,
    deleted: bool,
}

struct ChatInfo {
    kind: ChatKind,
    last_user: i64,
    next_message_id: i32,
    messages: HashMap<i32, StoredMessage>,
}

struct QueuedUpdate {
    id: i64,
    kind: String,
    /// Serialized once when queued: a getUpdates answer only concatenates these.
    json: String,
}

struct ApiState {
    next_update_id: i64,
    queue: VecDeque<QueuedUpdate>,
    acknowledged_offset: i64,
    allowed_updates: Option<Vec<String>>,
    poll_generation: u64,
    chats: HashMap<i64, ChatInfo>,
    calls: Vec<SentCall>,
    messages: Vec<SentMessage>,
    method_counts: HashMap<String, usize>,
    violations: Vec<String>,
    callbacks: HashMap<String, bool>,
    callback_order: Vec<String>,
    callback_answers: Vec<CallbackAnswer>,
    next_callback_id: u64,
    next_file_id: u64,
    fail_429: usize,
    retry_after: u32,
    /// Telegram's rate limits: see the module docs.
    rate_limits: bool,
    sends: VecDeque<std::time::Instant>,
    sends_by_chat: HashMap<i64, VecDeque<std::time::Instant>>,
    drop_next: usize,
    reject_html: usize,
    /// See [`FakeBotApi::refuse_next_sends`].
    refuse_sends: usize,
    blocked_chats: std::collections::HashSet<i64>,
    webhook_url: Option<String>,
    commands: Option<Value>,
    /// `setMyCommands` with a `language_code`, by that code (Telegram keeps one list per
    /// language beside the default one).
    localized_commands: HashMap<String, Value>,
    /// setMyDescription / setMyShortDescription texts, by field name.
    descriptions: HashMap<String, String>,
    /// Load-test mode: see [`FakeBotApi::set_lean`].
    lean: bool,
    deliveries: Vec<Delivery>,
    first_call_at: HashMap<String, std::time::Instant>,
}

impl ApiState {
    fn new() -> Self {
        ApiState {
            next_update_id: 1000,
            queue: VecDeque::new(),
            acknowledged_offset: 0,
            allowed_updates: None,
            poll_generation: 0,
            chats: HashMap::new(),
            calls: Vec::new(),
            messages: Vec::new(),
            method_counts: HashMap::new(),
            violations: Vec::new(),
            callbacks: HashMap::new(),
            callback_order: Vec::new(),
            callback_answers: Vec::new(),
            next_callback_id: 1,
            next_file_id: 1,
            fail_429: 0,
            retry_after: 1,
            rate_limits: true,
            sends: VecDeque::new(),
            sends_by_chat: HashMap::new(),
            drop_next: 0,
            reject_html: 0,
            refuse_sends: 0,
            blocked_chats: std::collections::HashSet::new(),
            webhook_url: None,
            commands: None,
            descriptions: HashMap::new(),
            localized_commands: HashMap::new(),
            lean: false,
            deliveries: Vec::new(),
            first_call_at: HashMap::new(),
        }
    }

    fn chat(&mut self, chat_id: i64, kind: ChatKind) -> &mut ChatInfo {
        self.chats.entry(chat_id).or_insert_with(|| ChatInfo {
            kind,
            last_user: if chat_id > 0 { chat_id } else { 1 },
            next_message_id: 1,
            messages: HashMap::new(),
        })
    }

    fn next_message_id(&mut self, chat_id: i64) -> i32 {
        let kind = default_kind(chat_id);
        let chat = self.chat(chat_id, kind);
        let id = chat.next_message_id;
        chat.next_message_id = chat.next_message_id.saturating_add(1);
        id
    }

    fn enqueue(&mut self, kind: &str, payload: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        let mut obj = Map::new();
        obj.insert("update_id".into(), json!(id));
        obj.insert(kind.to_string(), payload);
        self.queue.push_back(QueuedUpdate { id, kind: kind.to_string(), json: Value::Object(obj).to_string() });
        id
    }

    fn file_id(&mut self, prefix: &str) -> (String, String) {
        let n = self.next_file_id;
        self.next_file_id += 1;
        (format!("{prefix}-file-{n}"), format!("{prefix}-uniq-{n}"))
    }
}

fn lock(inner: &Inner) -> MutexGuard<'_, ApiState> {
    inner.state.lock().unwrap_or_else(|e| e.into_inner())
}

fn default_kind(chat_id: i64) -> ChatKind {
    if chat_id > 0 {
        ChatKind::Private
    } else if chat_id <= -1_000_000_000_000 {
        ChatKind::Supergroup
    } else {
        ChatKind::Group
    }
}

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(1_700_000_000)
}

fn chat_json(chat_id: i64, kind: ChatKind) -> Value {
    match kind {
        ChatKind::Private => json!({
            "id": chat_id, "type": "private",
            "first_name": "Tester", "username": format!("tester{}", chat_id.unsigned_abs()),
        }),
        ChatKind::Group => json!({"id": chat_id, "type": "group", "title": format!("Test group {chat_id}")}),
        ChatKind::Supergroup => {
            json!({"id": chat_id, "type": "supergroup", "title": format!("Test supergroup {chat_id}")})
        }
    }
}

fn user_json(user_id: i64) -> Value {
    json!({
        "id": user_id, "is_bot": false, "first_name": "Tester",
        "username": format!("tester{}", user_id.unsigned_abs()), "language_code": "en",
    })
}

fn bot_user_json() -> Value {
    json!({
        "id": FakeBotApi::BOT_ID, "is_bot": true, "first_name": FakeBotApi::BOT_FIRST_NAME,
        "username": FakeBotApi::BOT_USERNAME,
    })
}

fn me_json() -> Value {
    json!({
        "id": FakeBotApi::BOT_ID,
        "is_bot": true,
        "first_name": FakeBotApi::BOT_FIRST_NAME,
        "username": FakeBotApi::BOT_USERNAME,
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "has_main_web_app": false,
        "can_connect_to_business": false,
    })
}

/// `bot_command` entity for a leading `/command`, as Telegram adds it.
fn command_entities(text: &str) -> Option<Value> {
    if !text.starts_with('/') {
        return None;
    }
    let cmd: &str = text.split(char::is_whitespace).next().unwrap_or("");
    if cmd.len() < 2 {
        return None;
    }
    Some(json!([{"type": "bot_command", "offset": 0, "length": utf16_len(cmd)}]))
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

impl FakeBotApi {
    pub const TOKEN: &'static str = "123456:TEST-TOKEN";
    pub const BOT_ID: i64 = 123456;
    pub const BOT_USERNAME: &'static str = "klonopin_test_bot";
    pub const BOT_FIRST_NAME: &'static str = "Klonopin Test Bot";

    /// Binds 127.0.0.1 on an ephemeral port and serves in a background task.
    pub async fn start() -> FakeBotApi {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind fake Bot API on 127.0.0.1");
        let addr = listener.local_addr().expect("local_addr of fake Bot API");
        let inner = Arc::new(Inner {
            addr,
            state: Mutex::new(ApiState::new()),
            updates_changed: Notify::new(),
            calls_changed: Notify::new(),
            delivered: AtomicUsize::new(0),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = KillableListener { inner: listener, next_id: 0 };
        let server = axum::serve(listener, app.into_make_service_with_connect_info::<ConnMeta>());
        let task = tokio::spawn(async move {
            let _ = server.await;
        });
        FakeBotApi { inner, _server: Arc::new(ServerTask(task)) }
    }

    /// `http://127.0.0.1:PORT` — the value for `TELOXIDE_API_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// Environment for the bot process: `TELOXIDE_TOKEN` and `TELOXIDE_API_URL`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("TELOXIDE_TOKEN", Self::TOKEN.to_string()), ("TELOXIDE_API_URL", self.url())]
    }

    /// A teloxide `Bot` talking to this fake (for in-process tests).
    pub fn teloxide_bot(&self) -> teloxide::Bot {
        let url = self.url().parse().expect("fake Bot API url parses");
        teloxide::Bot::new(Self::TOKEN).set_api_url(url)
    }

    /// Text message in the private chat `chat_id` from user `chat_id`. Returns the update_id.
    pub fn push_text(&self, chat_id: i64, text: &str) -> i64 {
        self.push_text_message(chat_id, chat_id, ChatKind::Private, text).0
    }

    /// Text message in group `chat_id` (negative; `<= -10^12` is a supergroup) from `user_id`.
    pub fn push_group_text(&self, chat_id: i64, user_id: i64, text: &str) -> i64 {
        let kind = if chat_id > 0 { ChatKind::Group } else { default_kind(chat_id) };
        self.push_text_message(chat_id, user_id, kind, text).0
    }

    /// Like [`push_group_text`](Self::push_group_text) but also returns the user's message_id.
    pub fn push_group_text_with_id(&self, chat_id: i64, user_id: i64, text: &str) -> (i64, i32) {
        let kind = if chat_id > 0 { ChatKind::Group } else { default_kind(chat_id) };
        self.push_text_message(chat_id, user_id, kind, text)
    }

    /// Like [`push_text`](Self::push_text) but also returns the user's message_id.
    pub fn push_text_with_id(&self, chat_id: i64, text: &str) -> (i64, i32) {
        self.push_text_message(chat_id, chat_id, ChatKind::Private, text)
    }

    fn push_text_message(&self, chat_id: i64, user_id: i64, kind: ChatKind, text: &str) -> (i64, i32) {
        let (id, message_id) = enqueue_user_text(&mut lock(&self.inner), chat_id, user_id, kind, text);
        self.inner.updates_changed.notify_waiters();
        (id, message_id)
    }

    /// A user pressed an inline button with `data` under message `message_id` in `chat_id`.
    /// Use a message_id the bot sent (its current text/keyboard is embedded, as Telegram does).
    pub fn push_callback(&self, chat_id: i64, message_id: i32, data: &str) -> i64 {
        let id = {
            let mut st = lock(&self.inner);
            let n = st.next_callback_id;
            st.next_callback_id += 1;
            let cb_id = format!("cbq-{n}");
            let chat = st.chat(chat_id, default_kind(chat_id));
            let kind = chat.kind;
            let from = chat.last_user;
            let message = match chat.messages.get(&message_id) {
                Some(m) if m.from_bot && !m.deleted => m.json.clone(),
                _ => json!({
                    "message_id": message_id,
                    "from": bot_user_json(),
                    "chat": chat_json(chat_id, kind),
                    "date": now_unix(),
                    "text": "(message unknown to the fake Bot API)",
                }),
            };
            st.callbacks.insert(cb_id.clone(), false);
            st.callback_order.push(cb_id.clone());
            let cq = json!({
                "id": cb_id,
                "from": user_json(from),
                "message": message,
                "chat_instance": format!("ci{}", chat_id.unsigned_abs()),
                "data": data,
            });
            st.enqueue("callback_query", cq)
        };
        self.inner.updates_changed.notify_waiters();
        id
    }

    /// Photo (two sizes) in the private chat `chat_id`, optionally with a caption.
    pub fn push_photo(&self, chat_id: i64, caption: Option<&str>) -> i64 {
        let id = {
            let mut st = lock(&self.inner);
            let kind = st.chat(chat_id, default_kind(chat_id)).kind;
            let from = st.chat(chat_id, kind).last_user;
            let message_id = st.next_message_id(chat_id);
            let (f1, u1) = st.file_id("photo");
            let (f2, u2) = st.file_id("photo");
            let mut msg = json!({
                "message_id": message_id,
                "from": user_json(from),
                "chat": chat_json(chat_id, kind),
                "date": now_unix(),
                "photo": [
                    {"file_id": f1, "file_unique_id": u1, "file_size": 1234, "width": 90, "height": 90},
                    {"file_id": f2, "file_unique_id": u2, "file_size": 45678, "width": 800, "height": 600},
                ],
            });
            if let (Some(c), Some(obj)) = (caption, msg.as_object_mut()) {
                obj.insert("caption".into(), json!(c));
            }
            store_user_message(&mut st, chat_id, message_id, &msg, caption.unwrap_or(""));
            st.enqueue("message", msg)
        };
        self.inner.updates_changed.notify_waiters();
        id
    }

    /// A regular static sticker in the chat `chat_id`.
    pub fn push_sticker(&self, chat_id: i64) -> i64 {
        let id = {
            let mut st = lock(&self.inner);
            let kind = st.chat(chat_id, default_kind(chat_id)).kind;
            let from = st.chat(chat_id, kind).last_user;
            let message_id = st.next_message_id(chat_id);
            let (f, u) = st.file_id("sticker");
            let (tf, tu) = st.file_id("thumb");
            let msg = json!({
                "message_id": message_id,
                "from": user_json(from),
                "chat": chat_json(chat_id, kind),
                "date": now_unix(),
                "sticker": {
                    "file_id": f, "file_unique_id": u, "file_size": 16639,
                    "width": 512, "height": 512, "type": "regular",
                    "is_animated": false, "is_video": false,
                    "emoji": "\u{1F642}", "set_name": "TestStickers",
                    "thumbnail": {"file_id": tf, "file_unique_id": tu, "file_size": 4118, "width": 128, "height": 128},
                },
            });
            store_user_message(&mut st, chat_id, message_id, &msg, "");
            st.enqueue("message", msg)
        };
        self.inner.updates_changed.notify_waiters();
        id
    }

    /// The user edited their earlier message `message_id` to `text`.
    pub fn push_edited_text(&self, chat_id: i64, message_id: i32, text: &str) -> i64 {
        let id = {
            let mut st = lock(&self.inner);
            let kind = st.chat(chat_id, default_kind(chat_id)).kind;
            let from = st.chat(chat_id, kind).last_user;
            let now = now_unix();
            let mut msg = json!({
                "message_id": message_id,
                "from": user_json(from),
                "chat": chat_json(chat_id, kind),
                "date": now - 5,
                "edit_date": now,
                "text": text,
            });
            if let (Some(e), Some(obj)) = (command_entities(text), msg.as_object_mut()) {
                obj.insert("entities".into(), e);
            }
            store_user_message(&mut st, chat_id, message_id, &msg, text);
            st.enqueue("edited_message", msg)
        };
        self.inner.updates_changed.notify_waiters();
        id
    }

    /// Any update object *without* `update_id`, e.g. `{"my_chat_member": {...}}`. Chats found at
    /// `<kind>.chat.id` / `<kind>.message.chat.id` become known; `callback_query.id` becomes
    /// answerable.
    pub fn push_raw_update(&self, update_without_id: Value) -> i64 {
        let id = {
            let mut st = lock(&self.inner);
            let mut obj = match update_without_id {
                Value::Object(o) => o,
                other => {
                    let mut o = Map::new();
                    o.insert("unknown".into(), other);
                    o
                }
            };
            obj.remove("update_id");
            let kind = obj.keys().next().cloned().unwrap_or_else(|| "unknown".into());
            let payload = obj.remove(&kind).unwrap_or(Value::Null);
            for chat in [payload.get("chat"), payload.get("message").and_then(|m| m.get("chat"))].into_iter().flatten() {
                if let Some(cid) = chat.get("id").and_then(Value::as_i64) {
                    let kind = match chat.get("type").and_then(Value::as_str) {
                        Some("private") => ChatKind::Private,
                        Some("supergroup") | Some("channel") => ChatKind::Supergroup,
                        Some("group") => ChatKind::Group,
                        _ => default_kind(cid),
                    };
                    let c = st.chat(cid, kind);
                    if let Some(uid) = payload.get("from").and_then(|f| f.get("id")).and_then(Value::as_i64) {
                        c.last_user = uid;
                    }
                    if let Some(mid) = payload.get("message_id").and_then(Value::as_i64) {
                        c.next_message_id = c.next_message_id.max((mid as i32).saturating_add(1));
                    }
                }
            }
            if kind == "callback_query" {
                if let Some(cb) = payload.get("id").and_then(Value::as_str) {
                    st.callbacks.insert(cb.to_string(), false);
                    st.callback_order.push(cb.to_string());
                }
            }
            st.enqueue(&kind, payload)
        };
        self.inner.updates_changed.notify_waiters();
        id
    }

    /// Every call except `getUpdates`, in arrival order (including rejected and faulted ones).
    pub fn sent(&self) -> Vec<SentCall> {
        lock(&self.inner).calls.clone()
    }

    /// Successful `sendMessage` / `editMessageText` calls to `chat_id`, in order.
    pub fn messages_to(&self, chat_id: i64) -> Vec<SentMessage> {
        lock(&self.inner).messages.iter().filter(|m| m.chat_id == chat_id).cloned().collect()
    }

    /// All successful `sendMessage` / `editMessageText` calls, in order.
    pub fn all_messages(&self) -> Vec<SentMessage> {
        lock(&self.inner).messages.clone()
    }

    /// Waits until `messages_to(chat_id)` has at least `count` entries or `timeout` elapses;
    /// returns whatever is there then (the test asserts on it).
    pub async fn wait_for_messages(&self, chat_id: i64, count: usize, timeout: Duration) -> Vec<SentMessage> {
        let mut out = Vec::new();
        self.wait_until(timeout, || {
            out = self.messages_to(chat_id);
            out.len() >= count
        })
        .await;
        out
    }

    /// Waits until `method` was called at least `count` times; returns the final count.
    pub async fn wait_for_method(&self, method: &str, count: usize, timeout: Duration) -> usize {
        let mut n = 0;
        self.wait_until(timeout, || {
            n = self.method_count(method);
            n >= count
        })
        .await;
        n
    }

    /// Waits until the bot confirmed `update_id` (called getUpdates with an offset above it),
    /// i.e. teloxide handed the update to the dispatcher. Returns whether that happened.
    pub async fn wait_until_acknowledged(&self, update_id: i64, timeout: Duration) -> bool {
        self.wait_until(timeout, || self.acknowledged_offset() > update_id).await
    }

    /// Polls `cond` after every request the fake handles, until it is true or `timeout` passes.
    pub async fn wait_until(&self, timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.inner.calls_changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if cond() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            // Also re-check periodically in case the condition depends on something else.
            let step = (deadline - now).min(Duration::from_millis(250));
            let _ = tokio::time::timeout(step, notified).await;
        }
    }

    /// callback_query ids answered (accepted answers only), in order.
    pub fn callback_answers(&self) -> Vec<String> {
        lock(&self.inner).callback_answers.iter().map(|a| a.callback_query_id.clone()).collect()
    }

    /// Accepted `answerCallbackQuery` calls with their text / show_alert.
    pub fn callback_answer_details(&self) -> Vec<CallbackAnswer> {
        lock(&self.inner).callback_answers.clone()
    }

    /// Pushed callback queries that were never answered (the user's button keeps spinning).
    pub fn unanswered_callbacks(&self) -> Vec<String> {
        let st = lock(&self.inner);
        st.callback_order.iter().filter(|id| st.callbacks.get(*id) == Some(&false)).cloned().collect()
    }

    /// Every protocol/validation violation seen, human readable, in order.
    pub fn violations(&self) -> Vec<String> {
        lock(&self.inner).violations.clone()
    }

    /// Highest offset the bot passed to getUpdates (0 if none yet).
    pub fn acknowledged_offset(&self) -> i64 {
        lock(&self.inner).acknowledged_offset
    }

    /// Updates not yet confirmed by an offset.
    pub fn pending_updates(&self) -> usize {
        lock(&self.inner).queue.len()
    }

    /// Stops enforcing Telegram's rate limits (for a bot run with `--no-throttle`).
    pub fn ignore_rate_limits(&self) {
        lock(&self.inner).rate_limits = false;
    }

    /// The next `n` sending calls get `429 Too Many Requests` with `retry_after_secs`.
    pub fn fail_next_sends_with_429(&self, n: usize, retry_after_secs: u32) {
        let mut st = lock(&self.inner);
        st.fail_429 = n;
        st.retry_after = retry_after_secs;
    }

    /// The next `n` sending calls are read fully and then the connection is closed without a
    /// response (the client sees a network error immediately). The call is not delivered.
    pub fn drop_next_connections(&self, n: usize) {
        lock(&self.inner).drop_next = n;
    }

    /// The next `n` `sendMessage` calls with `parse_mode` HTML get Telegram's 400 "can't parse
    /// entities", whatever their text (the bot's own HTML is always valid, so this is the only
    /// way to exercise its plain-text fallback).
    pub fn reject_next_html_sends(&self, n: usize) {
        lock(&self.inner).reject_html = n;
    }

    /// The next `n` `sendMessage` calls get Telegram's 400 "message is too long", an error no
    /// retry or fallback can mend: the reply is lost, and the bot must say so in its log.
    pub fn refuse_next_sends(&self, n: usize) {
        lock(&self.inner).refuse_sends = n;
    }

    /// While blocked, every sending call to `chat_id` gets 403 "bot was blocked by the user".
    pub fn block_chat(&self, chat_id: i64, blocked: bool) {
        let mut st = lock(&self.inner);
        if blocked {
            st.blocked_chats.insert(chat_id);
        } else {
            st.blocked_chats.remove(&chat_id);
        }
    }

    /// How many requests for `method` (case-insensitive; `"sendMessage"` == `"sendmessage"`)
    /// arrived, including getUpdates, rejected and faulted ones.
    pub fn method_count(&self, method: &str) -> usize {
        lock(&self.inner).method_counts.get(&method.to_ascii_lowercase()).copied().unwrap_or(0)
    }

    /// The command list from the last accepted `setMyCommands`, if any.
    pub fn commands(&self) -> Option<Value> {
        lock(&self.inner).commands.clone()
    }

    /// The command list set for apps in `language` (`setMyCommands` with its `language_code`).
    pub fn commands_in(&self, language: &str) -> Option<Value> {
        lock(&self.inner).localized_commands.get(language).cloned()
    }

    /// The last accepted `setMyDescription` ("description") and `setMyShortDescription`
    /// ("short_description") texts; "description:es" for the one set for Spanish apps.
    pub fn description(&self, field: &str) -> Option<String> {
        lock(&self.inner).descriptions.get(field).cloned()
    }

    /// Load tests: text messages in private chats, `(chat_id, text)` each, queued under one
    /// lock with one wake-up (otherwise exactly like [`push_text`](Self::push_text) in a loop).
    /// Returns the update_ids.
    pub fn push_texts(&self, items: &[(i64, &str)]) -> Vec<i64> {
        let ids = {
            let mut st = lock(&self.inner);
            items.iter().map(|&(chat_id, text)| enqueue_user_text(&mut st, chat_id, chat_id, ChatKind::Private, text).0).collect()
        };
        self.inner.updates_changed.notify_waiters();
        ids
    }

    /// Load tests: with `true`, a JSON `sendMessage` to a known chat with non-empty text is
    /// answered without any validation (no HTML parsing, no keyboard checks; the answer is
    /// the message as Telegram would return it, the text taken as it came) and kept out of
    /// [`sent`](Self::sent), [`all_messages`](Self::all_messages) and the chat history (so it
    /// cannot be edited or embedded in callbacks), which keeps the fake far cheaper than the
    /// bot under load. Method counts, [`deliveries`](Self::deliveries) and
    /// [`delivered_count`](Self::delivered_count) are still recorded; anything else (unknown
    /// chat, empty text, pending faults, other methods) takes the full path. Off by default.
    pub fn set_lean(&self, lean: bool) {
        lock(&self.inner).lean = lean;
    }

    /// Successful `sendMessage` calls so far (lock-free; cheap to poll).
    pub fn delivered_count(&self) -> usize {
        self.inner.delivered.load(Ordering::SeqCst)
    }

    /// Every successful `sendMessage`: chat and arrival time, in order of handling.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.inner).deliveries.clone()
    }

    /// How many delivered messages broke one of Telegram's rate limits (the windows the module
    /// docs give), counted afterwards from [`FakeBotApi::deliveries`]: this also works in lean
    /// mode, which refuses nothing.
    pub fn rate_limit_breaches(&self) -> usize {
        let deliveries = self.deliveries();
        let mut times: Vec<std::time::Instant> = deliveries.iter().map(|d| d.at).collect();
        times.sort();
        let mut by_chat: HashMap<i64, Vec<std::time::Instant>> = HashMap::new();
        for d in &deliveries {
            by_chat.entry(d.chat_id).or_default().push(d.at);
        }
        // The i-th message breaks a limit of `max` per `window` if it is the (max+1)-th within
        // a window that ends with it.
        let breaches = |times: &[std::time::Instant], max: usize, window: Duration| {
            (max..times.len()).filter(|&i| times[i].duration_since(times[i - max]) < window).count()
        };
        let mut n = breaches(&times, 30, Duration::from_secs(1));
        for (chat, mut times) in by_chat {
            times.sort();
            n += breaches(&times, 4, Duration::from_secs(1));
            if chat < 0 {
                n += breaches(&times, 20, Duration::from_secs(60));
            }
        }
        n
    }

    /// When the first request for `method` (case-insensitive, getUpdates included) arrived.
    pub fn first_call_at(&self, method: &str) -> Option<std::time::Instant> {
        lock(&self.inner).first_call_at.get(&method.to_ascii_lowercase()).copied()
    }
}

/// Queues a text message from `user_id` in `chat_id` (created as `kind` if new), with
/// bot_command entities like Telegram's; returns its update_id and message_id.
fn enqueue_user_text(st: &mut ApiState, chat_id: i64, user_id: i64, kind: ChatKind, text: &str) -> (i64, i32) {
    let chat = st.chat(chat_id, kind);
    chat.last_user = user_id;
    let kind = chat.kind;
    let message_id = st.next_message_id(chat_id);
    let mut msg = json!({
        "message_id": message_id,
        "from": user_json(user_id),
        "chat": chat_json(chat_id, kind),
        "date": now_unix(),
        "text": text,
    });
    if let (Some(e), Some(obj)) = (command_entities(text), msg.as_object_mut()) {
        obj.insert("entities".into(), e);
    }
    store_user_message(st, chat_id, message_id, &msg, text);
    (st.enqueue("message", msg), message_id)
}

fn store_user_message(st: &mut ApiState, chat_id: i64, message_id: i32, json: &Value, text: &str) {
    let chat = st.chat(chat_id, default_kind(chat_id));
    chat.next_message_id = chat.next_message_id.max(message_id.saturating_add(1));
    chat.messages.insert(
        message_id,
        StoredMessage { from_bot: false, json: json.clone(), text: text.to_string(), parse_mode: None, reply_markup: None, deleted: false },
    );
}

// ---------------------------------------------------------------------------------------------
// Connection handling: a listener whose connections can be closed without a response
// ---------------------------------------------------------------------------------------------

struct KillableListener {
    inner: TcpListener,
    next_id: u64,
}

#[derive(Clone, Debug)]
struct ConnMeta {
    id: u64,
    peer: SocketAddr,
    kill: Arc<AtomicBool>,
}

struct KillableStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = ConnMeta;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    self.next_id += 1;
                    let kill = Arc::new(AtomicBool::new(false));
                    let meta = ConnMeta { id: self.next_id, peer, kill: kill.clone() };
                    return (KillableStream { inner: stream, kill }, meta);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnMeta { id: 0, peer: self.inner.local_addr()?, kill: Arc::new(AtomicBool::new(false)) })
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for ConnMeta {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

fn killed_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "fake Bot API: connection dropped on purpose")
}

impl AsyncRead for KillableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------------------------
// Request handling
// ---------------------------------------------------------------------------------------------

/// A Telegram error answer. `description` is exactly what Telegram says (so teloxide maps it to
/// the right `ApiError` variant); `detail` only goes into the violation text.
pub struct ApiError {
    pub code: u16,
    pub description: String,
    pub detail: Option<String>,
    pub retry_after: Option<u32>,
}

impl ApiError {
    fn violation_text(&self) -> String {
        match &self.detail {
            Some(d) => format!("{} [{d}]", self.description),
            None => self.description.clone(),
        }
    }
}

fn bad(description: impl Into<String>) -> ApiError {
    ApiError { code: 400, description: description.into(), detail: None, retry_after: None }
}

fn bad_d(description: impl Into<String>, detail: impl Into<String>) -> ApiError {
    ApiError { code: 400, description: description.into(), detail: Some(detail.into()), retry_after: None }
}

fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn error_response(e: &ApiError) -> Response {
    let mut body = json!({"ok": false, "error_code": e.code, "description": e.description});
    if let (Some(s), Some(obj)) = (e.retry_after, body.as_object_mut()) {
        obj.insert("parameters".into(), json!({"retry_after": s}));
    }
    json_response(e.code, body)
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 400 {
        let cut: String = s.chars().take(400).collect();
        format!("{cut}...")
    } else {
        s
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(conn): ConnectInfo<ConnMeta>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = handle_inner(&inner, &conn, &uri, &headers, &body).await;
    inner.calls_changed.notify_waiters();
    response
}

async fn handle_inner(inner: &Arc<Inner>, conn: &ConnMeta, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
    let received_at = std::time::Instant::now();
    let path = percent_decode(uri.path());
    let (token, method) = match path.strip_prefix("/bot").and_then(|r| r.split_once('/')) {
        Some((t, m)) if !m.is_empty() && !m.contains('/') => (t.to_string(), m.to_string()),
        _ => {
            lock(inner).violations.push(format!("request to unknown path {path:?}"));
            return json_response(404, json!({"ok": false, "error_code": 404, "description": "Not Found"}));
        }
    };
    let method_lc = method.to_ascii_lowercase();
    {
        let mut st = lock(inner);
        *st.method_counts.entry(method_lc.clone()).or_insert(0) += 1;
        st.first_call_at.entry(method_lc.clone()).or_insert(received_at);
    }

    if method_lc == "sendmessage" && token == FakeBotApi::TOKEN {
        if let Some(response) = lean_send_message(inner, headers, body, received_at) {
            return response;
        }
    }

    let params = match parse_params(uri, headers, body) {
        Ok(p) => p,
        Err(desc) => {
            let e = bad(desc);
            record_failure(inner, &method_lc, &Value::Null, &e);
            return error_response(&e);
        }
    };

    if token != FakeBotApi::TOKEN {
        let e = ApiError { code: 401, description: "Unauthorized".into(), detail: None, retry_after: None };
        record_failure(inner, &method_lc, &params, &e);
        return error_response(&e);
    }

    if method_lc == "getupdates" {
        return get_updates(inner, &params).await;
    }

    // Fault injection.
    let fault_target = (method_lc.starts_with("send") && method_lc != "sendchataction") || method_lc.starts_with("edit");
    if fault_target {
        let mut st = lock(inner);
        if st.drop_next > 0 {
            st.drop_next -= 1;
            conn.kill.store(true, Ordering::SeqCst);
            push_call(&mut st, &method_lc, &params, None, CallOutcome::Dropped);
            drop(st);
            // This response is never written: the connection fails on the first write.
            return json_response(200, json!({"ok": true, "result": true}));
        }
        if st.fail_429 > 0 {
            st.fail_429 -= 1;
            let secs = st.retry_after;
            push_call(&mut st, &method_lc, &params, None, CallOutcome::RetryAfter(secs));
            let e = ApiError {
                code: 429,
                description: format!("Too Many Requests: retry after {secs}"),
                detail: None,
                retry_after: Some(secs),
            };
            return error_response(&e);
        }
        let chat_id = field_i64(&params, "chat_id");
        let injected = if chat_id.is_some_and(|c| st.blocked_chats.contains(&c)) {
            Some((403, "Forbidden: bot was blocked by the user"))
        } else if method_lc == "sendmessage" && st.refuse_sends > 0 {
            st.refuse_sends -= 1;
            Some((400, "Bad Request: message is too long"))
        } else if method_lc == "sendmessage"
            && st.reject_html > 0
            && field_str(&params, "parse_mode").is_some_and(|m| m.eq_ignore_ascii_case("html"))
        {
            st.reject_html -= 1;
            Some((400, "Bad Request: can't parse entities: Unsupported start tag \"injected\" at byte offset 0"))
        } else {
            None
        };
        if let Some((code, description)) = injected {
            push_call(&mut st, &method_lc, &params, None, CallOutcome::Injected { error_code: code, description: description.to_owned() });
            let e = ApiError { code, description: description.to_owned(), detail: None, retry_after: None };
            return error_response(&e);
        }
        let message = method_lc.starts_with("send") && method_lc != "sendchataction";
        if let (true, true, Some(chat_id)) = (message, st.rate_limits, chat_id) {
            if let Some(broken) = over_rate_limit(&mut st, chat_id, received_at) {
                st.violations.push(format!("{method_lc}: rate limit: {broken} (chat {chat_id})"));
                push_call(&mut st, &method_lc, &params, None, CallOutcome::Limited);
                let e = ApiError { code: 429, description: "Too Many Requests: retry after 1".into(), detail: None, retry_after: Some(1) };
                return error_response(&e);
            }
        }
    }

    let mut st = lock(inner);
    match process(&mut st, &method_lc, &params) {
        Ok((result, message_id)) => {
            if method_lc == "sendmessage" {
                if let Some(chat_id) = field_i64(&params, "chat_id") {
                    st.deliveries.push(Delivery { chat_id, at: received_at });
                }
                inner.delivered.fetch_add(1, Ordering::SeqCst);
            }
            if !(st.lean && method_lc == "sendmessage") {
                push_call(&mut st, &method_lc, &params, message_id, CallOutcome::Ok);
            }
            json_response(200, json!({"ok": true, "result": result}))
        }
        Err(e) => {
            st.violations.push(format!("{method}: {} (params: {})", e.violation_text(), short(&params)));
            let outcome = CallOutcome::Rejected { error_code: e.code, description: e.description.clone() };
            let mid = field_i64(&params, "message_id").map(|m| m as i32);
            push_call(&mut st, &method_lc, &params, mid, outcome);
            error_response(&e)
        }
    }
}

/// Which of Telegram's limits a message to `chat_id` at `now` would break, if any; else the
/// message is counted (a refused one is not: Telegram did not deliver it).
fn over_rate_limit(st: &mut ApiState, chat_id: i64, now: std::time::Instant) -> Option<&'static str> {
    const SECOND: Duration = Duration::from_secs(1);
    const MINUTE: Duration = Duration::from_secs(60);
    let within = |queue: &VecDeque<std::time::Instant>, window: Duration| {
        queue.iter().rev().take_while(|&&t| now.duration_since(t) < window).count()
    };
    while st.sends.front().is_some_and(|&t| now.duration_since(t) >= SECOND) {
        st.sends.pop_front();
    }
    let chat = st.sends_by_chat.entry(chat_id).or_default();
    while chat.front().is_some_and(|&t| now.duration_since(t) >= MINUTE) {
        chat.pop_front();
    }
    let broken = if within(chat, SECOND) >= 4 {
        Some("more than 4 messages to one chat in a second")
    } else if chat_id < 0 && chat.len() >= 20 {
        Some("more than 20 messages to one group in a minute")
    } else if st.sends.len() >= 30 {
        Some("more than 30 messages in a second")
    } else {
        None
    };
    if broken.is_none() {
        chat.push_back(now);
        st.sends.push_back(now);
    }
    broken
}

/// The sendMessage fields the lean path reads; anything else in the body is ignored.
#[derive(serde::Deserialize)]
struct LeanSendMessage<'a> {
    chat_id: i64,
    #[serde(borrow)]
    text: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    reply_markup: Option<&'a serde_json::value::RawValue>,
}

/// Lean mode's sendMessage: the same answer as the full path (the message with its text and
/// inline keyboard, so the bot parses what Telegram would send) built without a JSON tree,
/// so that the load benchmark measures the bot rather than this fake. No HTML or keyboard
/// validation (the integration tests and the bench's validating run do that) and no record
/// beyond the delivery. None: not lean, not plain JSON, or an unknown chat or a body
/// that does not parse: the full path answers (and rejects) those.
fn lean_send_message(inner: &Inner, headers: &HeaderMap, body: &Bytes, received_at: std::time::Instant) -> Option<Response> {
    let json_body = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("application/json"));
    if !json_body {
        return None;
    }
    let mut st = lock(inner);
    if !st.lean || st.drop_next > 0 || st.fail_429 > 0 || st.reject_html > 0 || st.refuse_sends > 0 || !st.blocked_chats.is_empty() {
        return None;
    }
    let request: LeanSendMessage = serde_json::from_slice(body).ok()?;
    if request.text.trim().is_empty() {
        return None;
    }
    let kind = st.chats.get(&request.chat_id)?.kind;
    let message_id = st.next_message_id(request.chat_id);
    st.deliveries.push(Delivery { chat_id: request.chat_id, at: received_at });
    drop(st);
    inner.delivered.fetch_add(1, Ordering::SeqCst);
    let markup = match request.reply_markup {
        Some(raw) if raw.get().contains("\"inline_keyboard\"") => format!(r#","reply_markup":{}"#, raw.get()),
        _ => String::new(),
    };
    let body = format!(
        r#"{{"ok":true,"result":{{"message_id":{message_id},"from":{},"chat":{},"date":{},"text":{}{markup}}}}}"#,
        bot_user_json(),
        chat_json(request.chat_id, kind),
        now_unix(),
        Value::String(request.text.into_owned()),
    );
    Some((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn record_failure(inner: &Inner, method_lc: &str, params: &Value, e: &ApiError) {
    let mut st = lock(inner);
    st.violations.push(format!("{method_lc}: {} (params: {})", e.violation_text(), short(params)));
    if method_lc != "getupdates" {
        let outcome = CallOutcome::Rejected { error_code: e.code, description: e.description.clone() };
        push_call(&mut st, method_lc, params, None, outcome);
    }
}

fn push_call(st: &mut ApiState, method_lc: &str, params: &Value, message_id: Option<i32>, outcome: CallOutcome) {
    let text = field_str(params, "text").or_else(|| field_str(params, "caption"));
    st.calls.push(SentCall {
        method: method_lc.to_string(),
        chat_id: field_i64(params, "chat_id"),
        text,
        parse_mode: field_str(params, "parse_mode"),
        reply_markup: field_json(params, "reply_markup"),
        message_id,
        params: params.clone(),
        outcome,
    });
}

async fn get_updates(inner: &Arc<Inner>, params: &Value) -> Response {
    let timeout_secs = field_i64(params, "timeout").unwrap_or(0).clamp(0, 60) as u64;
    let limit = field_i64(params, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let offset = field_i64(params, "offset");
    let allowed = field_json(params, "allowed_updates");
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);

    let my_generation = {
        let mut st = lock(inner);
        if let Some(url) = st.webhook_url.clone() {
            let desc = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
            st.violations.push(format!("getUpdates while a webhook ({url}) is set"));
            return error_response(&ApiError { code: 409, description: desc.into(), detail: None, retry_after: None });
        }
        st.poll_generation += 1;
        if let Some(off) = offset {
            if off > 0 {
                while st.queue.front().is_some_and(|u| u.id < off) {
                    st.queue.pop_front();
                }
                st.acknowledged_offset = st.acknowledged_offset.max(off);
            } else if off < 0 {
                let keep = off.unsigned_abs() as usize;
                while st.queue.len() > keep {
                    st.queue.pop_front();
                }
                let first = st.queue.front().map(|u| u.id).unwrap_or(st.next_update_id);
                st.acknowledged_offset = st.acknowledged_offset.max(first);
            }
        }
        if let Some(Value::Array(list)) = &allowed {
            let list: Vec<String> = list.iter().filter_map(|v| v.as_str().map(String::from)).collect();
            st.allowed_updates = if list.is_empty() { None } else { Some(list) };
        }
        st.poll_generation
    };
    // Wake an older long poll so it ends with 409, like Telegram.
    inner.updates_changed.notify_waiters();

    loop {
        let notified = inner.updates_changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut st = lock(inner);
            if st.poll_generation != my_generation {
                let desc = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
                return error_response(&ApiError { code: 409, description: desc.into(), detail: None, retry_after: None });
            }
            if let Some(allowed) = st.allowed_updates.clone() {
                st.queue.retain(|u| allowed.iter().any(|a| a == &u.kind));
            }
            if !st.queue.is_empty() || Instant::now() >= deadline {
                let result: Vec<&str> = st.queue.iter().take(limit).map(|u| u.json.as_str()).collect();
                let body = format!(r#"{{"ok":true,"result":[{}]}}"#, result.join(","));
                return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response();
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

/// The message an edit* call names, if it exists and the bot sent it (Telegram's errors
/// otherwise).
fn bot_message_to_edit<'s>(st: &'s mut ApiState, chat_id: i64, p: &Value) -> Result<(i32, &'s mut StoredMessage), ApiError> {
    let message_id = field_i64(p, "message_id").map(|m| m as i32).ok_or_else(|| bad("Bad Request: message identifier is not specified"))?;
    let chat = st.chat(chat_id, default_kind(chat_id));
    let stored = match chat.messages.get_mut(&message_id) {
        Some(m) if !m.deleted => m,
        _ => return Err(bad("Bad Request: message to edit not found")),
    };
    if !stored.from_bot {
        return Err(bad("Bad Request: message can't be edited"));
    }
    Ok((message_id, stored))
}

/// Handles every method except getUpdates. Returns the result and the message_id to record.
fn process(st: &mut ApiState, method: &str, p: &Value) -> Result<(Value, Option<i32>), ApiError> {
    // Chat existence check for anything addressed to a chat.
    let chat_id = match p.get("chat_id") {
        None | Some(Value::Null) => None,
        Some(_) => match field_i64(p, "chat_id") {
            Some(id) if st.chats.contains_key(&id) => Some(id),
            _ => return Err(bad("Bad Request: chat not found")),
        },
    };
    let need_chat = || chat_id.ok_or_else(|| bad("Bad Request: chat_id is empty"));

    match method {
        "getme" => Ok((me_json(), None)),
        "sendmessage" => {
            let chat_id = need_chat()?;
            let text = field_str(p, "text").unwrap_or_default();
            let parse_mode = field_str(p, "parse_mode");
            let plain = if st.lean {
                render_text(&text, None, false, usize::MAX, "message")?
            } else {
                render_text(&text, parse_mode.as_deref(), p.get("entities").is_some(), 4096, "message")?
            };
            let markup = field_json(p, "reply_markup");
            if let Some(m) = &markup {
                validate_reply_markup(m)?;
            }
            check_reply_to(st, chat_id, p)?;
            let message_id = st.next_message_id(chat_id);
            let kind = st.chat(chat_id, default_kind(chat_id)).kind;
            let mut msg = json!({
                "message_id": message_id,
                "from": bot_user_json(),
                "chat": chat_json(chat_id, kind),
                "date": now_unix(),
                "text": plain,
            });
            let inline = inline_markup(markup.as_ref());
            if let (Some(m), Some(obj)) = (&inline, msg.as_object_mut()) {
                obj.insert("reply_markup".into(), m.clone());
            }
            if st.lean {
                return Ok((msg, Some(message_id)));
            }
            st.chat(chat_id, kind).messages.insert(
                message_id,
                StoredMessage {
                    from_bot: true,
                    json: msg.clone(),
                    text: text.clone(),
                    parse_mode: parse_mode.clone(),
                    reply_markup: inline,
                    deleted: false,
                },
            );
            st.messages.push(sent_message(chat_id, message_id, text, plain, parse_mode, markup, false, p));
            Ok((msg, Some(message_id)))
        }
        "editmessagetext" => {
            let text = field_str(p, "text").unwrap_or_default();
            let parse_mode = field_str(p, "parse_mode");
            let plain = render_text(&text, parse_mode.as_deref(), p.get("entities").is_some(), 4096, "message")?;
            let markup = field_json(p, "reply_markup");
            if let Some(m) = &markup {
                validate_reply_markup(m)?;
            }
            if p.get("inline_message_id").is_some() && chat_id.is_none() {
                return Ok((json!(true), None));
            }
            let chat_id = need_chat()?;
            let (message_id, stored) = bot_message_to_edit(st, chat_id, p)?;
            let inline = inline_markup(markup.as_ref());
            if stored.text == text && stored.parse_mode == parse_mode && stored.reply_markup == inline {
                return Err(bad(NOT_MODIFIED));
            }
            stored.text = text.clone();
            stored.parse_mode = parse_mode.clone();
            stored.reply_markup = inline.clone();
            if let Some(obj) = stored.json.as_object_mut() {
                obj.insert("text".into(), json!(plain));
                obj.insert("edit_date".into(), json!(now_unix()));
                match &inline {
                    Some(m) => obj.insert("reply_markup".into(), m.clone()),
                    None => obj.remove("reply_markup"),
                };
            }
            let msg = stored.json.clone();
            st.messages.push(sent_message(chat_id, message_id, text, plain, parse_mode, markup, true, p));
            Ok((msg, Some(message_id)))
        }
        "editmessagereplymarkup" | "editmessagecaption" | "editmessagemedia" => {
            let markup = field_json(p, "reply_markup");
            if let Some(m) = &markup {
                validate_reply_markup(m)?;
            }
            if method == "editmessagecaption" {
                let caption = field_str(p, "caption").unwrap_or_default();
                if !caption.is_empty() {
                    render_text(&caption, field_str(p, "parse_mode").as_deref(), false, 1024, "caption")?;
                }
            }
            if p.get("inline_message_id").is_some() && chat_id.is_none() {
                return Ok((json!(true), None));
            }
            let chat_id = need_chat()?;
            let (message_id, stored) = bot_message_to_edit(st, chat_id, p)?;
            let inline = inline_markup(markup.as_ref());
            if method == "editmessagereplymarkup" {
                if stored.reply_markup == inline {
                    return Err(bad(NOT_MODIFIED));
                }
                stored.reply_markup = inline.clone();
                if let Some(obj) = stored.json.as_object_mut() {
                    obj.insert("edit_date".into(), json!(now_unix()));
                    match &inline {
                        Some(m) => obj.insert("reply_markup".into(), m.clone()),
                        None => obj.remove("reply_markup"),
                    };
                }
            }
            Ok((stored.json.clone(), Some(message_id)))
        }
        "answercallbackquery" => {
            let id = field_str(p, "callback_query_id").unwrap_or_default();
            match st.callbacks.get(&id) {
                None => return Err(bad_d(INVALID_QUERY, format!("unknown callback_query_id {id:?}"))),
                Some(true) => return Err(bad_d(INVALID_QUERY, format!("callback_query_id {id:?} was already answered"))),
                Some(false) => {}
            }
            let text = field_str(p, "text");
            if let Some(t) = &text {
                if t.chars().count() > 200 {
                    return Err(bad("Bad Request: MESSAGE_TOO_LONG"));
                }
            }
            st.callbacks.insert(id.clone(), true);
            let show_alert = p.get("show_alert").map(|v| v == &json!(true) || v == &json!("true")).unwrap_or(false);
            st.callback_answers.push(CallbackAnswer { callback_query_id: id, text, show_alert });
            Ok((json!(true), None))
        }
        "sendchataction" => {
            need_chat()?;
            const ACTIONS: &[&str] = &[
                "typing",
                "upload_photo",
                "record_video",
                "upload_video",
                "record_voice",
                "upload_voice",
                "upload_document",
                "choose_sticker",
                "find_location",
                "record_video_note",
                "upload_video_note",
            ];
            let action = field_str(p, "action").unwrap_or_default();
            if !ACTIONS.contains(&action.as_str()) {
                return Err(bad("Bad Request: wrong type of action"));
            }
            Ok((json!(true), None))
        }
        "setmycommands" => {
            validate_commands(p)?;
            match field_str(p, "language_code").filter(|l| !l.is_empty()) {
                Some(language) => {
                    st.localized_commands.insert(language, field_json(p, "commands").unwrap_or_else(|| json!([])));
                }
                None => st.commands = field_json(p, "commands"),
            }
            Ok((json!(true), None))
        }
        "getmycommands" => Ok((st.commands.clone().unwrap_or_else(|| json!([])), None)),
        // Telegram: description 0-512 characters, short description 0-120.
        "setmydescription" | "setmyshortdescription" => {
            let (field, max) = if method == "setmydescription" { ("description", 512) } else { ("short_description", 120) };
            let text = field_str(p, field).unwrap_or_default();
            if text.chars().count() > max {
                return Err(bad(format!("Bad Request: {field} is too long")));
            }
            // One text per language, like the command lists: "description" or "description:es".
            let key = match field_str(p, "language_code").filter(|l| !l.is_empty()) {
                Some(language) => format!("{field}:{language}"),
                None => field.to_owned(),
            };
            st.descriptions.insert(key, text);
            Ok((json!(true), None))
        }
        "deletemycommands" => {
            st.commands = None;
            Ok((json!(true), None))
        }
        "deletewebhook" => {
            st.webhook_url = None;
            if p.get("drop_pending_updates").is_some_and(|v| v == &json!(true) || v == &json!("true")) {
                st.queue.clear();
            }
            Ok((json!(true), None))
        }
        "setwebhook" => {
            let url = field_str(p, "url").unwrap_or_default();
            st.webhook_url = if url.is_empty() { None } else { Some(url) };
            Ok((json!(true), None))
        }
        "getwebhookinfo" => Ok((
            json!({
                "url": st.webhook_url.clone().unwrap_or_default(),
                "has_custom_certificate": false,
                "pending_update_count": st.queue.len(),
            }),
            None,
        )),
        "close" | "logout" => Ok((json!(true), None)),
        "deletemessage" => {
            let chat_id = need_chat()?;
            let message_id = field_i64(p, "message_id").map(|m| m as i32).unwrap_or(0);
            let chat = st.chat(chat_id, default_kind(chat_id));
            match chat.messages.get_mut(&message_id) {
                Some(m) if !m.deleted => {
                    m.deleted = true;
                    Ok((json!(true), Some(message_id)))
                }
                _ => Err(bad("Bad Request: message to delete not found")),
            }
        }
        "copymessage" => {
            let chat_id = need_chat()?;
            let message_id = st.next_message_id(chat_id);
            Ok((json!({"message_id": message_id}), Some(message_id)))
        }
        "sendmediagroup" => {
            let chat_id = need_chat()?;
            let n = match field_json(p, "media") {
                Some(Value::Array(a)) if (2..=10).contains(&a.len()) => a.len(),
                _ => return Err(bad("Bad Request: media must contain 2-10 items")),
            };
            let mut out = Vec::new();
            let mut first = None;
            for _ in 0..n {
                let (msg, mid) = generic_sent_message(st, chat_id, "sendphoto", p);
                first = first.or(Some(mid));
                out.push(msg);
            }
            Ok((Value::Array(out), first))
        }
        m if m.starts_with("send") || m == "forwardmessage" => {
            let chat_id = need_chat()?;
            if let Some(caption) = field_str(p, "caption") {
                render_text(&caption, field_str(p, "parse_mode").as_deref(), false, 1024, "caption")?;
            }
            if let Some(markup) = field_json(p, "reply_markup") {
                validate_reply_markup(&markup)?;
            }
            check_reply_to(st, chat_id, p)?;
            let (msg, mid) = generic_sent_message(st, chat_id, m, p);
            Ok((msg, Some(mid)))
        }
        _ => Ok((json!(true), None)),
    }
}

/// A Message for send* methods other than sendMessage.
fn generic_sent_message(st: &mut ApiState, chat_id: i64, method: &str, p: &Value) -> (Value, i32) {
    let message_id = st.next_message_id(chat_id);
    let kind = st.chat(chat_id, default_kind(chat_id)).kind;
    let mut msg = json!({
        "message_id": message_id,
        "from": bot_user_json(),
        "chat": chat_json(chat_id, kind),
        "date": now_unix(),
    });
    let caption = field_str(p, "caption");
    let plain_caption = caption
        .as_deref()
        .map(|c| render_text(c, field_str(p, "parse_mode").as_deref(), false, usize::MAX, "caption").unwrap_or_else(|_| c.to_string()));
    if let Some(obj) = msg.as_object_mut() {
        if method == "sendphoto" {
            let (f, u) = st.file_id("sent-photo");
            obj.insert("photo".into(), json!([{"file_id": f, "file_unique_id": u, "file_size": 1000, "width": 320, "height": 240}]));
            if let Some(c) = &plain_caption {
                obj.insert("caption".into(), json!(c));
            }
        } else {
            let text = plain_caption.unwrap_or_else(|| format!("[{method}]"));
            obj.insert("text".into(), json!(text));
        }
        if let Some(m) = inline_markup(field_json(p, "reply_markup").as_ref()) {
            obj.insert("reply_markup".into(), m);
        }
    }
    let text = field_str(p, "caption").unwrap_or_default();
    st.chat(chat_id, kind).messages.insert(
        message_id,
        StoredMessage {
            from_bot: true,
            json: msg.clone(),
            text,
            parse_mode: field_str(p, "parse_mode"),
            reply_markup: inline_markup(field_json(p, "reply_markup").as_ref()),
            deleted: false,
        },
    );
    (msg, message_id)
}

/// `reply_parameters.message_id` / `reply_to_message_id` must exist unless sending without reply is allowed.
fn check_reply_to(st: &mut ApiState, chat_id: i64, p: &Value) -> Result<(), ApiError> {
    let rp = field_json(p, "reply_parameters");
    let (reply_to, allow) = match &rp {
        Some(rp) => {
            (rp.get("message_id").and_then(Value::as_i64), rp.get("allow_sending_without_reply").is_some_and(|v| v == &json!(true)))
        }
        None => (field_i64(p, "reply_to_message_id"), false),
    };
    let Some(reply_to) = reply_to else { return Ok(()) };
    let exists = st.chats.get(&chat_id).and_then(|c| c.messages.get(&(reply_to as i32))).is_some_and(|m| !m.deleted);
    if !exists && !allow {
        return Err(bad("Bad Request: message to be replied not found"));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn sent_message(
    chat_id: i64,
    message_id: i32,
    text: String,
    plain: String,
    parse_mode: Option<String>,
    markup: Option<Value>,
    edited: bool,
    params: &Value,
) -> SentMessage {
    let mut buttons = Vec::new();
    let mut url_buttons = Vec::new();
    if let Some(rows) = markup.as_ref().and_then(|m| m.get("inline_keyboard")).and_then(Value::as_array) {
        for row in rows {
            let mut out = Vec::new();
            for b in row.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let label = b.get("text").and_then(Value::as_str).unwrap_or("").to_string();
                let data = b.get("callback_data").and_then(Value::as_str).unwrap_or("").to_string();
                if let Some(url) = b.get("url").and_then(Value::as_str) {
                    url_buttons.push((label.clone(), url.to_string()));
                }
                out.push((label, data));
            }
            buttons.push(out);
        }
    }
    SentMessage { chat_id, message_id, text, plain, parse_mode, buttons, url_buttons, reply_markup: markup, edited, params: params.clone() }
}

/// The inline keyboard part of a reply_markup (what Telegram attaches to the message), if non-empty.
fn inline_markup(markup: Option<&Value>) -> Option<Value> {
    let m = markup?;
    let rows = m.get("inline_keyboard")?.as_array()?;
    if rows.iter().all(|r| r.as_array().is_none_or(Vec::is_empty)) {
        return None;
    }
    Some(json!({"inline_keyboard": rows}))
}

/// Validates text/caption per parse_mode and returns what the user sees.
fn render_text(text: &str, parse_mode: Option<&str>, has_entities: bool, max_len: usize, what: &str) -> Result<String, ApiError> {
    let plain = match parse_mode {
        Some(pm) if !has_entities && pm.eq_ignore_ascii_case("html") => {
            parse_telegram_html(text).map_err(|e| bad(format!("Bad Request: can't parse entities: {e}")))?
        }
        None | Some("") => text.to_string(),
        Some(pm) if pm.eq_ignore_ascii_case("markdownv2") || pm.eq_ignore_ascii_case("markdown") => text.to_string(),
        Some(_) if has_entities => text.to_string(),
        Some(pm) => return Err(bad(format!("Bad Request: unsupported parse_mode {pm:?}"))),
    };
    if what == "message" && plain.trim().is_empty() {
        return Err(bad("Bad Request: message text is empty"));
    }
    if utf16_len(&plain) > max_len {
        return Err(bad(if what == "message" {
            "Bad Request: message is too long".to_string()
        } else {
            "Bad Request: message caption is too long".to_string()
        }));
    }
    Ok(plain)
}

/// Validates a reply_markup the way Telegram does (inline keyboards in detail).
pub fn validate_reply_markup(markup: &Value) -> Result<(), ApiError> {
    let obj = markup.as_object().ok_or_else(|| bad("Bad Request: can't parse reply keyboard markup JSON object"))?;
    if let Some(kb) = obj.get("inline_keyboard") {
        let rows =
            kb.as_array().ok_or_else(|| bad("Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array"))?;
        let mut total = 0usize;
        for row in rows {
            let row = row.as_array().ok_or_else(|| bad("Bad Request: can't parse inline keyboard button: row must be an Array"))?;
            for b in row {
                total += 1;
                validate_inline_button(b)?;
            }
        }
        if total > 100 {
            return Err(bad_d("Bad Request: BUTTONS_TOO_MUCH", format!("{total} inline buttons, max 100")));
        }
        return Ok(());
    }
    if let Some(kb) = obj.get("keyboard") {
        let rows = kb.as_array().ok_or_else(|| bad("Bad Request: can't parse reply keyboard markup JSON object"))?;
        for row in rows {
            for b in row.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let text = b.as_str().or_else(|| b.get("text").and_then(Value::as_str)).unwrap_or("");
                if text.trim().is_empty() {
                    return Err(bad("Bad Request: keyboard button text is empty"));
                }
            }
        }
        return Ok(());
    }
    if obj.contains_key("remove_keyboard") || obj.contains_key("force_reply") {
        return Ok(());
    }
    Err(bad("Bad Request: can't parse reply keyboard markup JSON object"))
}

const TEXT_BUTTONS: &str = "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
const INVALID_QUERY: &str = "Bad Request: query is too old and response timeout expired or query id is invalid";

fn validate_inline_button(b: &Value) -> Result<(), ApiError> {
    const ACTIONS: &[&str] = &[
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
        "web_app",
    ];
    let obj =
        b.as_object().ok_or_else(|| bad("Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object"))?;
    let text = obj.get("text").and_then(Value::as_str).unwrap_or("");
    if text.trim().is_empty() {
        return Err(bad_d(TEXT_BUTTONS, "inline button text is empty"));
    }
    let actions: Vec<&str> = ACTIONS.iter().copied().filter(|a| obj.contains_key(*a)).collect();
    match actions.len() {
        0 => return Err(bad_d(TEXT_BUTTONS, format!("button {text:?} has no action field"))),
        1 => {}
        _ => {
            return Err(bad_d(
                "Bad Request: can't parse inline keyboard button: exactly one of the optional fields must be used",
                format!("button {text:?} has {actions:?}"),
            ))
        }
    }
    if let Some(data) = obj.get("callback_data") {
        let data = data.as_str().unwrap_or("");
        if data.is_empty() || data.len() > 64 {
            return Err(bad_d(
                "Bad Request: BUTTON_DATA_INVALID",
                format!("button {text:?}: callback_data is {} bytes, must be 1-64", data.len()),
            ));
        }
    }
    if let Some(url) = obj.get("url") {
        let url = url.as_str().unwrap_or("");
        let scheme_ok = ["http://", "https://", "tg://"].iter().any(|s| url.len() > s.len() && url.to_ascii_lowercase().starts_with(s));
        if !scheme_ok || url.chars().any(char::is_whitespace) {
            return Err(bad_d("Bad Request: BUTTON_URL_INVALID", format!("button {text:?}: {url:?}")));
        }
    }
    Ok(())
}

fn validate_commands(p: &Value) -> Result<(), ApiError> {
    let cmds = match field_json(p, "commands") {
        Some(Value::Array(a)) => a,
        _ => return Err(bad("Bad Request: field \"commands\" must be an Array")),
    };
    if cmds.len() > 100 {
        return Err(bad("Bad Request: BOT_COMMANDS_TOO_MUCH"));
    }
    for c in &cmds {
        let command = c.get("command").and_then(Value::as_str).unwrap_or("");
        let description = c.get("description").and_then(Value::as_str).unwrap_or("");
        let ok = (1..=32).contains(&command.chars().count())
            && command.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !ok {
            return Err(bad_d("Bad Request: BOT_COMMAND_INVALID", format!("command {command:?}")));
        }
        if !(1..=256).contains(&description.chars().count()) || description.trim().is_empty() {
            return Err(bad_d("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID", format!("command {command:?}")));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parameter parsing
// ---------------------------------------------------------------------------------------------

fn parse_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Value, String> {
    let mut map = Map::new();
    if let Some(q) = uri.query() {
        for (k, v) in parse_urlencoded(q) {
            map.insert(k, Value::String(v));
        }
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let is_blank = body.iter().all(u8::is_ascii_whitespace);
    if ct.starts_with("multipart/form-data") {
        let raw_ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let boundary = raw_ct
            .split(';')
            .filter_map(|s| s.trim().strip_prefix("boundary="))
            .next()
            .map(|b| b.trim_matches('"').to_string())
            .ok_or_else(|| "Bad Request: multipart body without boundary".to_string())?;
        for (k, v) in parse_multipart(body, &boundary) {
            map.insert(k, Value::String(v));
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        let s = String::from_utf8_lossy(body);
        for (k, v) in parse_urlencoded(&s) {
            map.insert(k, Value::String(v));
        }
    } else if !is_blank {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(o)) => map.extend(o),
            Ok(_) => return Err("Bad Request: request body must be a JSON object".into()),
            Err(e) => return Err(format!("Bad Request: can't parse JSON body: {e}")),
        }
    }
    Ok(Value::Object(map))
}

fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(&k.replace('+', " ")), percent_decode(&v.replace('+', " ")))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find_bytes(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Text fields of a multipart/form-data body; file parts become `"<file:NAME>"`.
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut out = Vec::new();
    let Some(mut pos) = find_bytes(body, delim, 0) else { return out };
    loop {
        let start = pos + delim.len();
        if body.get(start..start + 2) == Some(b"--") {
            break;
        }
        let Some(next) = find_bytes(body, delim, start) else { break };
        let part = &body[start..next];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        if let Some(hdr_end) = find_bytes(part, b"\r\n\r\n", 0) {
            let headers = String::from_utf8_lossy(&part[..hdr_end]);
            let content = &part[hdr_end + 4..];
            let attr = |name: &str| -> Option<String> {
                let key = format!("{name}=\"");
                let i = headers.find(&key)? + key.len();
                let j = headers[i..].find('"')? + i;
                Some(headers[i..j].to_string())
            };
            if let Some(name) = attr("name") {
                let value = match attr("filename") {
                    Some(f) => format!("<file:{f}>"),
                    None => String::from_utf8_lossy(content).into_owned(),
                };
                out.push((name, value));
            }
        }
        pos = next;
    }
    out
}

fn field_str(p: &Value, key: &str) -> Option<String> {
    match p.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn field_i64(p: &Value, key: &str) -> Option<i64> {
    match p.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON-valued field; form/multipart fields arrive as JSON text and are parsed.
fn field_json(p: &Value, key: &str) -> Option<Value> {
    match p.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))),
        other => Some(other.clone()),
    }
}

// ---------------------------------------------------------------------------------------------
// Telegram HTML
// ---------------------------------------------------------------------------------------------

/// Length as Telegram counts it (UTF-16 code units).
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

#[path = "telegram_html.rs"]
mod telegram_html;
pub use telegram_html::parse_telegram_html;

// ---------------------------------------------------------------------------------------------
// Tests of the fake itself
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::{
        prelude::*,
        types::{CallbackQueryId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode, UpdateKind},
        ApiError as TgApiError, RequestError,
    };

    const SECS: Duration = Duration::from_secs(5);

    #[test]
    fn fake_bot_api_html_validator_table() {
        let good: &[(&str, &str)] = &[
            ("plain text", "plain text"),
            ("", ""),
            ("<b>bold</b> and <strong>strong</strong>", "bold and strong"),
            ("<i>i</i><em>em</em><u>u</u><ins>ins</ins><s>s</s><strike>st</strike><del>d</del>", "iemuinssstd"),
            ("<B>upper</B>", "upper"),
            ("<a href=\"https://example.org/?a=1&amp;b=2\">link</a>", "link"),
            ("<a href='tg://user?id=1'>user</a>", "user"),
            ("<a href=\"https://x.org/?a=1&b=2\">raw amp in attribute</a>", "raw amp in attribute"),
            ("<code>x &lt; y</code>", "x < y"),
            ("<pre>block</pre>", "block"),
            ("<pre><code class=\"language-rust\">fn main() {}</code></pre>", "fn main() {}"),
            ("<blockquote>quote</blockquote>", "quote"),
            ("<blockquote expandable>long quote</blockquote>", "long quote"),
            ("<span class=\"tg-spoiler\">secret</span><tg-spoiler>s2</tg-spoiler>", "secrets2"),
            ("<tg-emoji emoji-id=\"5368324170671202286\">\u{1F44D}</tg-emoji>", "\u{1F44D}"),
            ("&lt;&gt;&amp;&quot;", "<>&\""),
            ("&#65;&#x42;&#X43;", "ABC"),
            ("<b>bold <i>italic <u>under</u></i></b>", "bold italic under"),
            ("<b >spaced</b >", "spaced"),
            ("line1\nline2 \"quotes\" 'single'", "line1\nline2 \"quotes\" 'single'"),
            ("Ünïcödé ✓ 😀", "Ünïcödé ✓ 😀"),
            ("<blockquote><b>bold in quote</b></blockquote>", "bold in quote"),
        ];
        for (input, want) in good {
            match parse_telegram_html(input) {
                Ok(plain) => assert_eq!(&plain, want, "input {input:?}"),
                Err(e) => panic!("valid HTML {input:?} rejected: {e}"),
            }
        }
        let bad_inputs: &[(&str, &str)] = &[
            ("<div>x</div>", "Unsupported start tag \"div\""),
            ("<br/>", "Unsupported start tag \"br\""),
            ("<p>para</p>", "Unsupported start tag"),
            ("<b>unclosed", "Can't find end tag"),
            ("<b><i>x</b></i>", "Unmatched end tag"),
            ("x</b>", "Unexpected end tag"),
            ("1 < 2", "Unescaped \"<\""),
            ("2 > 1", "Unescaped \">\""),
            ("Tom & Jerry", "Unescaped \"&\""),
            ("&nbsp;", "Unsupported HTML entity"),
            ("&copy;", "Unsupported HTML entity"),
            ("&#xZZ;", "Invalid numeric"),
            ("&#0;", "Invalid numeric"),
            ("<a href=https://x.org>x</a>", "must be quoted"),
            ("<a>x</a>", "href"),
            ("<a href=\"\">x</a>", "href"),
            ("<a href=\"https://x\" target=\"_blank\">x</a>", "Unsupported attribute \"target\""),
            ("<b class=\"x\">x</b>", "Unsupported attribute"),
            ("<span>x</span>", "tg-spoiler"),
            ("<span class=\"other\">x</span>", "Unsupported attribute"),
            ("<tg-emoji>x</tg-emoji>", "emoji-id"),
            ("<code class=\"language-rust\">x</code>", "Unsupported attribute"),
            ("<code><b>x</b></code>", "nested inside \"code\""),
            ("<pre><b>x</b></pre>", "nested inside \"pre\""),
            ("<blockquote><blockquote>x</blockquote></blockquote>", "can't be nested"),
            ("<b", "Unclosed start tag"),
            ("<a href=\"x>y</a>", "Unclosed start tag"),
            ("<b/>", "Self-closing"),
            ("<!-- comment -->", "Unescaped \"<\""),
            ("</ b>", "end tag"),
        ];
        for (input, want) in bad_inputs {
            match parse_telegram_html(input) {
                Ok(plain) => panic!("invalid HTML {input:?} accepted as {plain:?}"),
                Err(e) => assert!(e.contains(want), "input {input:?}: error {e:?} should contain {want:?}"),
            }
        }
        assert_eq!(utf16_len("😀a"), 3);
    }

    /// Lean mode's shortcut must answer what the full path answers, or the load benchmark
    /// would measure the bot parsing something Telegram never sends.
    #[tokio::test]
    async fn fake_bot_api_lean_send_message_answers_like_the_full_path() {
        let api = FakeBotApi::start().await;
        let bot = api.teloxide_bot();
        api.push_text(42, "hi");
        let keyboard = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("More", "v1:t:dosage")]]);
        let send = |text: &str| bot.send_message(ChatId(42), text.to_owned()).parse_mode(ParseMode::Html).reply_markup(keyboard.clone());

        let full = send("<b>Dosage</b> &amp; \"forms\" ünïcode 😀").await.expect("full path answers");
        api.set_lean(true);
        let lean = send("<b>Dosage</b> &amp; \"forms\" ünïcode 😀").await.expect("lean path answers");
        assert_eq!(lean.chat.id, full.chat.id);
        assert_eq!(lean.from.as_ref().map(|u| u.id), full.from.as_ref().map(|u| u.id));
        assert_eq!(lean.id.0, full.id.0 + 1, "message ids keep counting");
        assert_eq!(lean.reply_markup(), full.reply_markup());
        // Lean takes the text as it came (no HTML rendering): exactly what the bot sent.
        assert_eq!(lean.text(), Some("<b>Dosage</b> &amp; \"forms\" ünïcode 😀"));
        assert_eq!(full.text(), Some("Dosage & \"forms\" ünïcode 😀"));
        assert_eq!(api.delivered_count(), 2);
        assert_eq!(api.deliveries().iter().filter(|d| d.chat_id == 42).count(), 2);

        // The shortcut validates nothing (the full path would refuse 65-byte button data):
        // proof that it, and not the full path, answered.
        let oversized = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("x", "d".repeat(65))]]);
        let unchecked = bot.send_message(ChatId(42), "hi").reply_markup(oversized.clone()).await;
        assert!(unchecked.is_ok(), "{unchecked:?}");
        api.set_lean(false);
        let checked = bot.send_message(ChatId(42), "hi").reply_markup(oversized).await;
        assert!(checked.is_err(), "the full path validates button data: {checked:?}");
        api.set_lean(true);
        assert_eq!(api.delivered_count(), 3);

        // What the shortcut does not handle still gets Telegram's errors from the full path.
        let unknown = bot.send_message(ChatId(9_999), "hello").await;
        assert!(matches!(unknown, Err(RequestError::Api(TgApiError::ChatNotFound))), "{unknown:?}");
        let empty = bot.send_message(ChatId(42), "  ").await;
        assert!(matches!(empty, Err(RequestError::Api(TgApiError::MessageTextIsEmpty))), "{empty:?}");
        assert_eq!(api.delivered_count(), 3);
    }

    #[tokio::test]
    async fn fake_bot_api_teloxide_roundtrip() {
        let api = FakeBotApi::start().await;
        assert!(api.url().starts_with("http://127.0.0.1:"));
        let bot = api.teloxide_bot();

        let me = bot.get_me().await.expect("getMe parses");
        assert_eq!(me.username(), FakeBotApi::BOT_USERNAME);
        assert!(me.is_bot);

        // Every push_* kind must deserialize into a proper teloxide Update.
        let (u1, user_msg) = api.push_text_with_id(42, "/start hello");
        api.push_group_text(-100, 7, "hi group");
        api.push_group_text(-1_001_234_567_890, 8, "hi supergroup");
        api.push_photo(42, Some("a caption"));
        api.push_sticker(42);
        api.push_edited_text(42, user_msg, "edited");
        api.push_raw_update(json!({"my_chat_member": {
            "chat": {"id": 77, "type": "private", "first_name": "R"},
            "from": {"id": 77, "is_bot": false, "first_name": "R"},
            "date": 1_700_000_000,
            "old_chat_member": {"user": bot_user_json(), "status": "member"},
            "new_chat_member": {"user": bot_user_json(), "status": "kicked", "until_date": 0},
        }}));
        assert_eq!(api.pending_updates(), 7);
        let updates = bot.get_updates().await.expect("getUpdates parses");
        assert_eq!(updates.len(), 7);
        assert_eq!(updates[0].id.0 as i64, u1);
        for u in &updates {
            assert!(!matches!(u.kind, UpdateKind::Error(_)), "update failed to parse: {u:?}");
        }
        match &updates[0].kind {
            UpdateKind::Message(m) => {
                assert_eq!(m.text(), Some("/start hello"));
                assert_eq!(m.chat.id, ChatId(42));
                assert!(m.chat.is_private());
                assert_eq!(m.from.as_ref().map(|u| u.id.0), Some(42));
            }
            other => panic!("{other:?}"),
        }
        match &updates[1].kind {
            UpdateKind::Message(m) => {
                assert!(m.chat.is_group());
                assert_eq!(m.from.as_ref().map(|u| u.id.0), Some(7));
            }
            other => panic!("{other:?}"),
        }
        match &updates[2].kind {
            UpdateKind::Message(m) => assert!(m.chat.is_supergroup()),
            other => panic!("{other:?}"),
        }
        match &updates[3].kind {
            UpdateKind::Message(m) => {
                assert!(m.photo().is_some());
                assert_eq!(m.caption(), Some("a caption"));
            }
            other => panic!("{other:?}"),
        }
        match &updates[4].kind {
            UpdateKind::Message(m) => assert!(m.sticker().is_some()),
            other => panic!("{other:?}"),
        }
        match &updates[5].kind {
            UpdateKind::EditedMessage(m) => assert_eq!(m.text(), Some("edited")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(updates[6].kind, UpdateKind::MyChatMember(_)), "{:?}", updates[6].kind);

        // Confirm them.
        let next_offset = updates[6].id.as_offset(); // = id + 1
        let rest = bot.get_updates().offset(next_offset).await.expect("getUpdates");
        assert!(rest.is_empty());
        assert_eq!(api.pending_updates(), 0);
        assert_eq!(api.acknowledged_offset(), next_offset as i64);

        // sendMessage with an inline keyboard, HTML.
        let kb = InlineKeyboardMarkup::new(vec![
            vec![InlineKeyboardButton::callback("Yes", "ans:yes"), InlineKeyboardButton::callback("No", "ans:no")],
            vec![InlineKeyboardButton::url("Help", "https://example.org/help".parse().expect("url"))],
        ]);
        let sent = bot
            .send_message(ChatId(42), "<b>Hello</b> &amp; welcome")
            .parse_mode(ParseMode::Html)
            .reply_markup(kb)
            .await
            .expect("sendMessage parses");
        assert_eq!(sent.text(), Some("Hello & welcome"));
        assert_eq!(sent.chat.id, ChatId(42));
        assert!(sent.reply_markup().is_some());
        let msgs = api.messages_to(42);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].message_id, sent.id.0);
        assert_eq!(msgs[0].plain, "Hello & welcome");
        assert_eq!(msgs[0].text, "<b>Hello</b> &amp; welcome");
        assert_eq!(msgs[0].parse_mode.as_deref(), Some("HTML"));
        assert_eq!(msgs[0].buttons[0], vec![("Yes".to_string(), "ans:yes".to_string()), ("No".to_string(), "ans:no".to_string())]);
        assert_eq!(msgs[0].url_buttons, vec![("Help".to_string(), "https://example.org/help".to_string())]);
        assert_eq!(msgs[0].button_data("Ye").as_deref(), Some("ans:yes"));

        // Callback on the bot's message, delivered with the message embedded.
        let cb_update = api.push_callback(42, sent.id.0, "ans:yes");
        let updates = bot.get_updates().offset(next_offset).await.expect("getUpdates");
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].id.0 as i64, cb_update);
        let q = match &updates[0].kind {
            UpdateKind::CallbackQuery(q) => q.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(q.data.as_deref(), Some("ans:yes"));
        let qmsg = q.regular_message().expect("accessible message");
        assert_eq!(qmsg.id, sent.id);
        assert_eq!(qmsg.text(), Some("Hello & welcome"));
        assert_eq!(api.unanswered_callbacks(), vec![q.id.0.clone()]);
        bot.answer_callback_query(q.id.clone()).text("ok").await.expect("answerCallbackQuery");
        assert_eq!(api.callback_answers(), vec![q.id.0.clone()]);
        assert!(api.unanswered_callbacks().is_empty());

        // editMessageText keeps returning a proper Message.
        let edited = bot
            .edit_message_text(ChatId(42), sent.id, "You said <i>yes</i>")
            .parse_mode(ParseMode::Html)
            .await
            .expect("editMessageText parses");
        assert_eq!(edited.text(), Some("You said yes"));
        assert!(edited.reply_markup().is_none(), "edit without reply_markup removes the keyboard");
        bot.send_chat_action(ChatId(42), teloxide::types::ChatAction::Typing).await.expect("sendChatAction");
        bot.set_my_commands(vec![teloxide::types::BotCommand::new("start", "Start the bot")]).await.expect("setMyCommands");
        bot.delete_webhook().await.expect("deleteWebhook");
        let info = bot.get_webhook_info().await.expect("getWebhookInfo parses");
        assert!(info.url.is_none());
        bot.delete_message(ChatId(42), sent.id).await.expect("deleteMessage");

        let msgs = api.wait_for_messages(42, 2, SECS).await;
        assert_eq!(msgs.len(), 2);
        assert!(msgs[1].edited);
        assert_eq!(msgs[1].plain, "You said yes");
        assert_eq!(api.method_count("sendMessage"), 1);
        assert_eq!(api.method_count("GETUPDATES"), 3);
        assert!(api.sent().iter().all(|c| c.outcome == CallOutcome::Ok));
        assert_eq!(api.violations(), Vec::<String>::new());
        assert!(api.wait_until_acknowledged(u1, SECS).await);
        let _ = api.commands().expect("commands stored");
        let _ = MessageId(1);
    }

    #[tokio::test]
    async fn fake_bot_api_holds_bots_to_telegrams_rate_limits() {
        let api = FakeBotApi::start().await;
        let bot = api.teloxide_bot();
        api.push_text(5, "hi");
        api.push_group_text(-7, 5, "hi");
        // Four messages to a chat in a moment are tolerated; the fifth is refused.
        for i in 0..4 {
            bot.send_message(ChatId(5), format!("part {i}")).await.expect("under the limit");
        }
        match bot.send_message(ChatId(5), "one too many").await {
            Err(RequestError::RetryAfter(s)) => assert_eq!(s.seconds(), 1),
            other => panic!("expected a 429, got {other:?}"),
        }
        assert_eq!(api.messages_to(5).len(), 4, "the refused message is not delivered");
        assert_eq!(api.sent().iter().filter(|c| c.outcome == CallOutcome::Limited).count(), 1);
        let violations = api.violations();
        assert!(violations.len() == 1 && violations[0].contains("more than 4 messages to one chat in a second"), "{violations:?}");
        // Another chat is not affected; a chat action is not a message.
        bot.send_message(ChatId(-7), "group").await.expect("another chat");
        bot.send_chat_action(ChatId(5), teloxide::types::ChatAction::Typing).await.expect("not a message");
        // Off for bots that run with --no-throttle.
        api.ignore_rate_limits();
        bot.send_message(ChatId(5), "no limits now").await.expect("limits off");
        assert_eq!(api.violations().len(), 1);
        // Counted afterwards from the delivery times: the fifth delivered message to chat 5
        // within a second.
        assert_eq!(api.rate_limit_breaches(), 1);
    }

    #[tokio::test]
    async fn fake_bot_api_refuses_a_31st_message_in_a_second() {
        let api = FakeBotApi::start().await;
        let bot = api.teloxide_bot();
        for chat in 1..=31 {
            api.push_text(chat, "hi");
        }
        let mut refused = Vec::new();
        for chat in 1..=31 {
            if bot.send_message(ChatId(chat), "hello").await.is_err() {
                refused.push(chat);
            }
        }
        // The 31 sends take far less than a second on loopback.
        assert_eq!(refused, vec![31]);
        assert!(api.violations()[0].contains("more than 30 messages in a second"), "{:?}", api.violations());
    }

    #[tokio::test]
    async fn fake_bot_api_rejects_what_telegram_rejects() {
        let api = FakeBotApi::start().await;
        // Many sends to one chat in a moment: the rate limits are checked in their own test.
        api.ignore_rate_limits();
        let bot = api.teloxide_bot();
        api.push_text(5, "hi");

        let expect_api_err = |r: Result<Message, RequestError>, want: &str| match r {
            Err(RequestError::Api(e)) => {
                let s = match &e {
                    TgApiError::Unknown(s) => s.clone(),
                    other => other.to_string(),
                };
                assert!(s.to_lowercase().contains(&want.to_lowercase()), "{s:?} should contain {want:?}");
            }
            other => panic!("expected an API error containing {want:?}, got {other:?}"),
        };

        expect_api_err(bot.send_message(ChatId(5), "<b>x").parse_mode(ParseMode::Html).await, "can't parse entities");
        expect_api_err(bot.send_message(ChatId(5), "a < b").parse_mode(ParseMode::Html).await, "can't parse entities");
        expect_api_err(bot.send_message(ChatId(5), "x".repeat(4097)).await, "message is too long");
        // 4096 UTF-16 units is fine, 2049 emoji (4098 units) is not.
        bot.send_message(ChatId(5), "x".repeat(4096)).await.expect("4096 is the limit");
        expect_api_err(bot.send_message(ChatId(5), "😀".repeat(2049)).await, "message is too long");
        expect_api_err(bot.send_message(ChatId(5), "  \n ").await, "message text is empty");
        expect_api_err(bot.send_message(ChatId(5), "<b> </b>").parse_mode(ParseMode::Html).await, "message text is empty");
        let long_data = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("x", "d".repeat(65))]]);
        expect_api_err(bot.send_message(ChatId(5), "t").reply_markup(long_data).await, "BUTTON_DATA_INVALID");
        // callback_data counts bytes: 32 × "é" = 64 bytes is ok, 33 × "é" = 66 bytes is not.
        let ok_data = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("x", "é".repeat(32))]]);
        bot.send_message(ChatId(5), "t").reply_markup(ok_data).await.expect("64 bytes ok");
        let bad_utf8 = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("x", "é".repeat(33))]]);
        expect_api_err(bot.send_message(ChatId(5), "t").reply_markup(bad_utf8).await, "BUTTON_DATA_INVALID");
        let too_many = InlineKeyboardMarkup::new((0..101).map(|i| vec![InlineKeyboardButton::callback("b", format!("{i}"))]));
        expect_api_err(bot.send_message(ChatId(5), "t").reply_markup(too_many).await, "BUTTONS_TOO_MUCH");
        expect_api_err(bot.send_message(ChatId(999), "wrong chat").await, "chat not found");
        expect_api_err(bot.edit_message_text(ChatId(5), MessageId(9999), "x").await, "message to edit not found");
        let first = bot.send_message(ChatId(5), "same").await.expect("send");
        expect_api_err(bot.edit_message_text(ChatId(5), first.id, "same").await, "message is not modified");

        match bot.answer_callback_query(CallbackQueryId("nope".into())).await {
            Err(RequestError::Api(_)) => {}
            other => panic!("{other:?}"),
        }
        match bot.set_my_commands(vec![teloxide::types::BotCommand::new("Start", "x")]).await {
            Err(RequestError::Api(_)) => {}
            other => panic!("{other:?}"),
        }

        // Raw JSON checks for what teloxide's types can't express.
        let client = reqwest::Client::new();
        let url = format!("{}/bot{}/sendMessage", api.url(), FakeBotApi::TOKEN);
        let post = |body: Value| {
            let client = client.clone();
            let url = url.clone();
            async move {
                let r = client.post(&url).json(&body).send().await.expect("post");
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.expect("json"))
            }
        };
        let (s, b) = post(json!({"chat_id": 5, "text": "t", "reply_markup": {"inline_keyboard": [[{"text": "x"}]]}})).await;
        assert_eq!(s, 400, "{b}");
        let (s, b) = post(json!({"chat_id": 5, "text": "t", "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "a", "url": "https://x.org"}]]}})).await;
        assert_eq!(s, 400, "{b}");
        let (s, b) =
            post(json!({"chat_id": 5, "text": "t", "reply_markup": {"inline_keyboard": [[{"text": "", "callback_data": "a"}]]}})).await;
        assert_eq!(s, 400, "{b}");
        let (s, b) =
            post(json!({"chat_id": 5, "text": "t", "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": ""}]]}})).await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["ok"], json!(false));
        assert_eq!(b["error_code"], json!(400));
        assert!(b["description"].as_str().unwrap_or("").starts_with("Bad Request: BUTTON_DATA_INVALID"), "{b}");
        let (s, b) = post(json!({"chat_id": "5", "text": "string chat id is fine"})).await;
        assert_eq!(s, 200, "{b}");
        let (s, _) = post(json!({"chat_id": 5, "text": "x", "parse_mode": "HTML", "reply_parameters": {"message_id": 4242}})).await;
        assert_eq!(s, 400);
        let r = client.post(format!("{}/botWRONG:TOKEN/getMe", api.url())).send().await.expect("post");
        assert_eq!(r.status().as_u16(), 401);
        let r = client.post(format!("{}/nonsense", api.url())).send().await.expect("post");
        assert_eq!(r.status().as_u16(), 404);
        let r = client
            .post(format!("{}/bot{}/sendMessage", api.url(), FakeBotApi::TOKEN))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 400);

        // Multipart is understood and validated too.
        let boundary = "XyZ";
        let mp = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n5\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n<b>cap</b>\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"parse_mode\"\r\n\r\nHTML\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n\x01\x02\r\n--{boundary}--\r\n"
        );
        let r = client
            .post(format!("{}/bot{}/SendPhoto", api.url(), FakeBotApi::TOKEN))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(mp)
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        let b: Value = r.json().await.expect("json");
        assert_eq!(status, 200, "{b}");
        assert_eq!(b["result"]["caption"], json!("cap"));
        let photo_call = api.sent().into_iter().find(|c| c.method == "sendphoto").expect("recorded");
        assert_eq!(photo_call.chat_id, Some(5));
        assert_eq!(photo_call.text.as_deref(), Some("<b>cap</b>"));

        let v = api.violations();
        // 12 send/edit + callback + commands rejections, 4 raw buttons, reply, 401, 404, bad JSON.
        assert_eq!(v.len(), 22, "{v:#?}");
        assert!(v.iter().any(|s| s.contains("chat not found")));
        assert!(v.iter().any(|s| s.contains("query id is invalid")));
        assert!(v.iter().any(|s| s.contains("BOT_COMMAND_INVALID")));
        assert!(api.messages_to(999).is_empty());
    }

    #[tokio::test]
    async fn fake_bot_api_fault_injection() {
        let api = FakeBotApi::start().await;
        let bot = api.teloxide_bot();
        api.push_text(9, "hi");

        api.fail_next_sends_with_429(1, 3);
        match bot.send_message(ChatId(9), "one").await {
            Err(RequestError::RetryAfter(s)) => assert_eq!(s.seconds(), 3),
            other => panic!("expected RetryAfter, got {other:?}"),
        }
        bot.send_message(ChatId(9), "one").await.expect("second try succeeds");

        api.drop_next_connections(1);
        let started = std::time::Instant::now();
        match bot.send_message(ChatId(9), "two").await {
            Err(RequestError::Network(_)) => {}
            other => panic!("expected a network error, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(3), "drop must be immediate");
        // The connection pool recovers; getMe / sendChatAction are never faulted.
        api.drop_next_connections(1);
        bot.get_me().await.expect("getMe is not a send");
        bot.send_chat_action(ChatId(9), teloxide::types::ChatAction::Typing).await.expect("chat actions are not faulted");
        assert!(matches!(bot.send_message(ChatId(9), "two").await, Err(RequestError::Network(_))));
        bot.send_message(ChatId(9), "two").await.expect("retry succeeds");

        let msgs = api.messages_to(9);
        assert_eq!(msgs.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), vec!["one", "two"]);
        assert_eq!(api.method_count("sendmessage"), 5);
        let outcomes: Vec<CallOutcome> = api.sent().into_iter().filter(|c| c.method == "sendmessage").map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            vec![CallOutcome::RetryAfter(3), CallOutcome::Ok, CallOutcome::Dropped, CallOutcome::Dropped, CallOutcome::Ok]
        );
        assert!(api.violations().is_empty(), "{:?}", api.violations());
    }

    #[tokio::test]
    async fn fake_bot_api_long_poll_and_offsets() {
        let api = FakeBotApi::start().await;
        let client = reqwest::Client::new();
        let url = format!("{}/bot{}/getUpdates", api.url(), FakeBotApi::TOKEN);

        // Empty long poll waits for the timeout.
        let t = std::time::Instant::now();
        let r: Value = client.post(&url).json(&json!({"timeout": 1})).send().await.expect("post").json().await.expect("json");
        assert_eq!(r, json!({"ok": true, "result": []}));
        assert!(t.elapsed() >= Duration::from_millis(900), "{:?}", t.elapsed());

        // An update arriving mid-poll ends it early.
        let api2 = api.clone();
        let pusher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            api2.push_text(1, "a")
        });
        let t = std::time::Instant::now();
        let r: Value = client.post(&url).json(&json!({"timeout": 10})).send().await.expect("post").json().await.expect("json");
        let first = pusher.await.expect("join");
        assert!(t.elapsed() < Duration::from_secs(5));
        assert_eq!(r["result"][0]["update_id"], json!(first));

        let second = api.push_text(1, "b");
        let third = api.push_text(1, "c");
        assert_eq!((second, third), (first + 1, first + 2));
        // limit
        let r: Value =
            client.post(&url).json(&json!({"offset": first + 1, "limit": 1})).send().await.expect("post").json().await.expect("json");
        assert_eq!(r["result"].as_array().map(Vec::len), Some(1));
        assert_eq!(r["result"][0]["update_id"], json!(second));
        assert_eq!(api.acknowledged_offset(), first + 1);
        assert_eq!(api.pending_updates(), 2);
        // query-string parameters work too
        let r: Value = client.get(format!("{url}?offset={}", third + 1)).send().await.expect("get").json().await.expect("json");
        assert_eq!(r["result"], json!([]));
        assert_eq!(api.pending_updates(), 0);

        // allowed_updates filters out other kinds.
        api.push_callback(1, 1, "x");
        api.push_text(1, "kept");
        let r: Value = client
            .post(&url)
            .json(&json!({"offset": third + 1, "allowed_updates": ["message"]}))
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        assert_eq!(r["result"].as_array().map(Vec::len), Some(1), "{r}");
        assert_eq!(r["result"][0]["message"]["text"], json!("kept"));

        // A newer poll terminates an older waiting one with 409.
        let c2 = client.clone();
        let url2 = url.clone();
        let old = tokio::spawn(async move {
            let r = c2.post(&url2).json(&json!({"timeout": 10, "offset": third + 10})).send().await.expect("post");
            r.status().as_u16()
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = client.post(&url).json(&json!({"timeout": 0, "offset": third + 10})).send().await.expect("post");
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(old.await.expect("join"), 409);
        assert!(api.violations().is_empty(), "{:?}", api.violations());
    }
}
