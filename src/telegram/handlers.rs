//! Updates in, replies out: what the adapter does with each update.
//!
//! Every update goes to `engine::step` with the chat's stored state; the replies are sent
//! and the new state stored. Nothing here decides what to say. What fails is returned to the
//! dispatcher's one error handler ([`super::failure`]) as kinds of errors with the update id:
//! no message text, name or username is ever logged.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use teloxide::dispatching::dialogue::{Dialogue, Storage};
use teloxide::dispatching::UpdateHandler;
use teloxide::error_handlers::ErrorHandler;
use teloxide::prelude::*;
use teloxide::types::{MessageId, MessageKind, ReplyParameters};
use teloxide::{ApiError, RequestError};

use super::direct::Outgoing;
use super::failure::{Failure, Problem};
use super::render::{parts, Part};
use super::storage::{StorageError, Write};
use super::{App, Sender};
use crate::engine::{step_in, Event, Input, Next, State, Turn};
use crate::stats::ErrorKind;
use crate::text::normalize::normalize;

type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The dptree handler tree: messages, edited messages and button presses.
pub fn schema<B>() -> UpdateHandler<Box<dyn std::error::Error + Send + Sync>>
where
    B: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_edited_message().endpoint(on_edited))
        .branch(Update::filter_callback_query().endpoint(on_callback::<B>))
}

/// Errors of the update listener (getUpdates): logged by kind only. teloxide's own
/// `LoggingErrorHandler` prints the whole error, and an `InvalidJson` error carries the raw
/// response, which for getUpdates is people's messages.
pub struct ListenerErrors;

impl ErrorHandler<RequestError> for ListenerErrors {
    fn handle_error(self: Arc<Self>, error: RequestError) -> BoxFuture<'static, ()> {
        let kind = error_kind(&error);
        Box::pin(async move { log::warn!("getting updates failed: {kind}") })
    }
}

impl ErrorHandler<std::convert::Infallible> for ListenerErrors {
    fn handle_error(self: Arc<Self>, error: std::convert::Infallible) -> BoxFuture<'static, ()> {
        match error {}
    }
}

/// A short, content-free name for a request error, safe to log.
pub fn error_kind(e: &RequestError) -> String {
    match e {
        RequestError::Api(api) => format!("api: {}", api_error_name(api)),
        RequestError::MigrateToChatId(_) => "migrated to another chat".to_owned(),
        RequestError::RetryAfter(s) => format!("rate limited for {}s", s.seconds()),
        RequestError::Network(e) if e.is_timeout() => "network timeout".to_owned(),
        RequestError::Network(_) => "network error".to_owned(),
        RequestError::InvalidJson { .. } => "invalid JSON from the Bot API".to_owned(),
        RequestError::Io(_) => "I/O error".to_owned(),
    }
}

fn api_error_name(e: &ApiError) -> String {
    match e {
        // Telegram's own descriptions name the problem, never the user's text; CantParseEntities
        // quotes an offset, not content.
        ApiError::Unknown(_) => "unknown".to_owned(),
        other => format!("{other:?}").split('(').next().unwrap_or("api").to_owned(),
    }
}

/// Chats where the bot answers only commands, mentions and replies to itself.
fn is_group(msg: &Message) -> bool {
    !msg.chat.is_private()
}

/// What a message asks of the engine, if anything. Groups: only commands addressed to this
/// bot (or to no bot in particular), mentions of it, and replies to it.
fn input_of<'m>(msg: &'m Message, username: &str) -> Option<Input<'m>> {
    let group = is_group(msg);
    if let Some(text) = msg.text() {
        if !group {
            return Some(Input::from_text(text));
        }
        if let Some(rest) = text.trim_start().strip_prefix('/') {
            let head = rest.split_whitespace().next().unwrap_or("");
            let to_us = match head.split_once('@') {
                Some((_, target)) => target.eq_ignore_ascii_case(username),
                None => true,
            };
            return to_us.then(|| Input::from_text(text));
        }
        let mention = format!("@{username}");
        let mentioned = !username.is_empty() && text.to_lowercase().contains(&mention.to_lowercase());
        let replied =
            msg.reply_to_message().and_then(|r| r.from.as_ref()).is_some_and(|u| u.is_bot && u.username.as_deref() == Some(username));
        return (mentioned || replied).then_some(Input::Text(text));
    }
    let has_content = msg.photo().is_some()
        || msg.sticker().is_some()
        || msg.voice().is_some()
        || msg.video().is_some()
        || msg.video_note().is_some()
        || msg.audio().is_some()
        || msg.document().is_some()
        || msg.location().is_some()
        || msg.animation().is_some()
        || msg.contact().is_some();
    // teloxide reads a message it cannot make sense of (a kind of content newer than it, a
    // malformed field) as `Empty`, its words lost: in a private chat it still gets the short
    // reply with the menu, whose crisis button is one tap away.
    let unreadable = matches!(msg.kind, MessageKind::Empty {});
    if unreadable && !group {
        return Some(Input::NonText { caption: None });
    }
    if !has_content {
        return None; // service messages (joins, pins, ...) get no reply
    }
    let caption = msg.caption();
    if group {
        let mentioned =
            caption.is_some_and(|c| !username.is_empty() && c.to_lowercase().contains(&format!("@{}", username.to_lowercase())));
        return mentioned.then_some(Input::NonText { caption });
    }
    Some(Input::NonText { caption })
}

async fn on_message(update: Update, msg: Message, app: Arc<App>) -> HandlerResult {
    match input_of(&msg, &app.username) {
        Some(input) => process(&app, update.id.0, msg.chat.id, &input, language_of(msg.from.as_ref())).await?,
        None => overheard(&app, update.id.0, &msg).await?,
    }
    Ok(())
}

/// A group message not addressed to the bot: crisis guidance as a reply if it mentions a
/// crisis (at most once per kind per group and window, see [`super::groups`]), else nothing.
async fn overheard(app: &App, update_id: u32, msg: &Message) -> Result<(), Failure> {
    if !is_group(msg) {
        return Ok(());
    }
    let Some(text) = msg.text().or(msg.caption()) else { return Ok(()) };
    let content = app.content();
    if crate::engine::overheard(text, &content).is_none() {
        return Ok(());
    }
    // A crisis: the group's chosen country, if it chose one (a failed read: the default).
    let dialogue: Dialogue<State, _> = Dialogue::new(Arc::clone(&app.storage), msg.chat.id);
    let region = dialogue.get().await.ok().flatten().and_then(|s| s.region);
    let Some(turn) = crate::engine::overheard_in(text, &content, region.as_deref()) else { return Ok(()) };
    let permitted =
        app.group_crisis.lock().unwrap_or_else(|p| p.into_inner()).permit(msg.chat.id.0, turn.crisis, std::time::Instant::now());
    if !permitted {
        return Ok(());
    }
    for event in &turn.events {
        app.stats.event(event);
    }
    match send_all(&app.sender, msg.chat.id, Some(msg.id), &turn.messages).await {
        Delivery::Sent => Ok(()),
        Delivery::Blocked => {
            log::info!("update {update_id}: the bot can no longer write to this group");
            Ok(())
        }
        Delivery::Failed(kind) => Failure::check(update_id, vec![Problem::GroupGuidanceNotDelivered(kind)]),
    }
}

/// An edited message is answered again only if the edit mentions a crisis: the person
/// may have corrected "withdrawl" to what they meant, and the crisis rule holds for edits.
async fn on_edited(update: Update, msg: Message, app: Arc<App>) -> HandlerResult {
    let Some(input) = input_of(&msg, &app.username) else {
        overheard(&app, update.id.0, &msg).await?;
        return Ok(());
    };
    let text = match &input {
        Input::Text(t) => *t,
        Input::NonText { caption: Some(c) } => *c,
        _ => return Ok(()),
    };
    // Rules and classifier, as for a new message: an edit that now describes a crisis is
    // answered again.
    if !crate::engine::reading::crisis_of(&normalize(text), &app.content()).is_empty() {
        process(&app, update.id.0, msg.chat.id, &input, language_of(msg.from.as_ref())).await?;
    }
    Ok(())
}

async fn on_callback<B>(bot: B, update: Update, query: CallbackQuery, app: Arc<App>) -> HandlerResult
where
    B: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    // Always answer, or the person's client shows a spinner on the button.
    let answered = with_retry(|| bot.answer_callback_query(query.id.clone()).send()).await;
    let mut problems: Vec<Problem> = answered.err().map(|e| Problem::CallbackNotAnswered(error_kind(&e))).into_iter().collect();
    if let (Some(data), Some(message)) = (query.data.as_deref(), query.message.as_ref()) {
        let processed = process(&app, update.id.0, message.chat().id, &Input::Button(data), language_of(Some(&query.from))).await;
        problems.extend(processed.err().into_iter().flat_map(|f| f.problems));
    }
    Ok(Failure::check(update.id.0, problems)?)
}

/// The language tag of the person's app (never stored or logged).
fn language_of(user: Option<&teloxide::types::User>) -> Option<&str> {
    user?.language_code.as_deref()
}

/// Loads the chat's state, runs the engine, stores the new state, sends the replies.
/// Goes as far as it can whatever fails (an unreadable state starts the chat over instead of
/// dropping the message; a reply that cannot be delivered still has its state stored) and
/// returns what failed, for the error handler.
///
/// The state is stored before the replies go out, through [`StateStore::transition`]: with
/// Redis, two instances handling one chat at once both see their transition applied (one
/// after the other), never one lost. If storing fails (or Redis loses 16 races in a row),
/// the replies still go out: an answer whose state was not kept is better than silence.
///
/// [`StateStore::transition`]: super::storage::StateStore::transition
async fn process(app: &App, update_id: u32, chat_id: ChatId, input: &Input<'_>, language: Option<&str>) -> Result<(), Failure> {
    let content = app.content();
    let decide = |read: Result<Option<State>, StorageError>| {
        let mut problems = Vec::new();
        let stored = match read {
            Ok(stored) => stored,
            Err(e) => {
                problems.push(if e.is_deserialize() { Problem::StateUnreadable(e.kind()) } else { Problem::ReadFailed(e.kind()) });
                // Undecodable: forces a write of the fresh state below (an unreachable store
                // is not written at all, see `transition`).
                Some(State::default())
            }
        };
        // The app's language ("es-MX", "en-GB") only suggests: see `engine::step_in`.
        let turn: Turn = step_in(&stored.clone().unwrap_or_default(), input, &content, language);
        let write = match &turn.next {
            Next::Forget => Write::Remove,
            Next::Keep(next) if *next == State::default() => match stored {
                Some(_) => Write::Remove,
                None => Write::Nothing, // nothing stored, nothing to store: the common case costs no write
            },
            Next::Keep(next) => Write::Put(next.clone()),
        };
        (write, (turn, problems))
    };
    let ((turn, mut problems), stored) = app.storage.transition(chat_id, decide).await;
    // A store that could not even be read was not written either: one problem, not two.
    if let (Err(e), false) = (stored, problems.iter().any(|p| matches!(p, Problem::ReadFailed(_)))) {
        problems.push(Problem::StoreFailed(e.kind()));
    }
    app.stats.update();
    for event in &turn.events {
        app.stats.event(event);
    }
    if let (Some(log), true) = (&app.unmatched, turn.events.contains(&Event::Fallback)) {
        match input {
            Input::Text(text) | Input::NonText { caption: Some(text) } => log.record(text),
            _ => {}
        }
    }

    match send_all(&app.sender, chat_id, None, &turn.messages).await {
        Delivery::Sent => {}
        Delivery::Blocked => {
            // Not a failure: the person left. Their state goes with them.
            log::info!("update {update_id}: the bot is blocked or the chat is gone; clearing its state");
            app.stats.error(ErrorKind::Blocked);
            if let Err(e) = Storage::<State>::remove_dialogue(Arc::clone(&app.storage), chat_id).await {
                problems.push(Problem::ClearFailed(e.kind()));
            }
        }
        Delivery::Failed(kind) => problems.push(Problem::NotDelivered(kind)),
    }
    Failure::check(update_id, problems)
}

enum Delivery {
    Sent,
    /// 403: blocked by the user, user deactivated, kicked from the group.
    Blocked,
    Failed(String),
}

/// Sends `messages` in order; the first part replies to `reply_to` if given.
async fn send_all(sender: &Sender, chat_id: ChatId, mut reply_to: Option<MessageId>, messages: &[crate::engine::Message]) -> Delivery {
    for message in messages {
        for part in parts(message) {
            let result = send_part(sender, chat_id, reply_to.take(), &part).await;
            if let Err(e) = result {
                if is_blocked(&e) {
                    return Delivery::Blocked;
                }
                return Delivery::Failed(error_kind(&e));
            }
        }
    }
    Delivery::Sent
}

fn is_blocked(e: &RequestError) -> bool {
    matches!(
        e,
        RequestError::Api(
            ApiError::BotBlocked
                | ApiError::UserDeactivated
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
                | ApiError::CantInitiateConversation
                | ApiError::ChatNotFound
        )
    )
}

/// Sends one part as HTML; if Telegram cannot parse the HTML, the same part as plain text.
async fn send_part(sender: &Sender, chat_id: ChatId, reply_to: Option<MessageId>, part: &Part) -> Result<(), RequestError> {
    let reply = reply_to.map(|id| ReplyParameters::new(id).allow_sending_without_reply());
    let outgoing = Outgoing { chat_id, text: &part.html, html: true, reply: reply.as_ref(), keyboard: part.keyboard.as_ref() };
    match send_text(sender, &outgoing).await {
        Err(RequestError::Api(ApiError::CantParseEntities(_))) => {
            log::warn!("Telegram rejected a reply's HTML; sending it as plain text");
            send_text(sender, &Outgoing { text: &part.plain, html: false, ..outgoing }).await
        }
        other => other,
    }
}

/// One `sendMessage`, retried, each attempt when the rate limiter gives this chat its turn
/// (see [`super::limiter`]); a 429 pauses the chat (or the bot) for what Telegram asked.
async fn send_text(sender: &Sender, out: &Outgoing<'_>) -> Result<(), RequestError> {
    with_retry(|| async {
        if let Some(limiter) = &sender.limiter {
            limiter.acquire(out.chat_id.0).await;
        }
        let result = sender.direct.send_message(out).await;
        if let (Err(RequestError::RetryAfter(wait)), Some(limiter)) = (&result, &sender.limiter) {
            limiter.hold(out.chat_id.0, wait.duration(), std::time::Instant::now());
        }
        result
    })
    .await
}

/// Retries rate limits (after the time Telegram asks) and network errors (with backoff).
/// The Bot API has no idempotency key, so a request that reached Telegram but lost its
/// answer may arrive twice; that is rarer and kinder than a reply that never arrives.
async fn with_retry<T, F, Fut>(mut send: F) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RequestError>>,
{
    const ATTEMPTS: u32 = 6;
    let mut backoff = Duration::from_millis(200);
    for attempt in 1..=ATTEMPTS {
        match send().await {
            Err(RequestError::RetryAfter(wait)) if attempt < ATTEMPTS => tokio::time::sleep(wait.duration()).await,
            Err(RequestError::Network(_) | RequestError::Io(_)) if attempt < ATTEMPTS => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
    unreachable_attempts()
}

/// The loop above returns on its last attempt; this only satisfies the type checker.
fn unreachable_attempts<T>() -> Result<T, RequestError> {
    Err(RequestError::Io(std::io::Error::other("retry loop ended without an attempt").into()))
}
