//! `sendMessage` straight to the Bot API: every reply goes out here.
//!
//! teloxide's `send_message` parses every answer into a full `Message` (buffered first into a
//! generic tree, because its response envelope is an untagged enum) and builds the method's
//! URL anew for each request. The bot never reads that message: it only needs to know
//! whether the send worked and, if not, why. Under load that parsing is a large share of the
//! bot's CPU, so replies go out here: the same request body, the same client and connection
//! pool, a URL built once, and an answer read only for `ok`, `description` and `parameters`.
//! Errors come back as the same `RequestError`s teloxide gives, so retries, the plain-text
//! fallback and "blocked" handling work as with teloxide. Telegram's rate limits are kept
//! before each request, by [`super::limiter`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use teloxide::types::{ChatId, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters, ResponseParameters};
use teloxide::{ApiError, Bot, RequestError};

/// Sends messages with the bot's HTTP client to a URL computed once.
#[derive(Clone)]
pub struct DirectSender {
    client: reqwest::Client,
    url: reqwest::Url,
}

/// One message as the bot sends it, whichever way it goes out.
#[derive(Clone, Copy)]
pub struct Outgoing<'a> {
    pub chat_id: ChatId,
    pub text: &'a str,
    /// `parse_mode=HTML`; else plain text.
    pub html: bool,
    pub reply: Option<&'a ReplyParameters>,
    pub keyboard: Option<&'a InlineKeyboardMarkup>,
}

/// Replies never unfurl links: a preview would push the words off a small screen.
pub fn no_link_preview() -> LinkPreviewOptions {
    LinkPreviewOptions { is_disabled: true, url: None, prefer_small_media: false, prefer_large_media: false, show_above_text: false }
}

/// The body of a `sendMessage`, as teloxide would serialize it for the fields the bot uses.
#[derive(Serialize)]
struct SendMessageBody<'a> {
    chat_id: i64,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_mode: Option<&'static str>,
    link_preview_options: LinkPreviewOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_parameters: Option<&'a ReplyParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<&'a InlineKeyboardMarkup>,
}

impl<'a> SendMessageBody<'a> {
    fn of(out: &Outgoing<'a>) -> SendMessageBody<'a> {
        SendMessageBody {
            chat_id: out.chat_id.0,
            text: out.text,
            parse_mode: out.html.then_some("HTML"),
            link_preview_options: no_link_preview(),
            reply_parameters: out.reply,
            reply_markup: out.keyboard,
        }
    }
}

/// The parts of a Bot API answer the bot acts on; `result` is skipped unread.
#[derive(Deserialize)]
struct Answer {
    ok: bool,
    description: Option<ApiError>,
    parameters: Option<ResponseParameters>,
}

impl DirectSender {
    /// Uses `bot`'s client, token and API URL (so `TELOXIDE_API_URL` applies).
    pub fn new(bot: &Bot) -> Result<DirectSender, String> {
        let mut url = bot.api_url();
        url.path_segments_mut()
            .map_err(|()| "the Bot API URL cannot take a path".to_owned())?
            .push(&format!("bot{}", bot.token()))
            .push("SendMessage");
        Ok(DirectSender { client: bot.client().clone(), url })
    }

    /// Sends one message.
    pub async fn send_message(&self, out: &Outgoing<'_>) -> Result<(), RequestError> {
        let body = serde_json::to_vec(&SendMessageBody::of(out)).map_err(|e| RequestError::Io(Arc::new(std::io::Error::other(e))))?;
        let response = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(network)?;
        read_answer(status.as_u16(), &bytes)
    }
}

/// Like teloxide, never keep the URL (it holds the token) in an error.
fn network(e: reqwest::Error) -> RequestError {
    RequestError::Network(Arc::new(e.without_url()))
}

/// Turns an answer into the error teloxide would return for it.
fn read_answer(status: u16, bytes: &[u8]) -> Result<(), RequestError> {
    match serde_json::from_slice::<Answer>(bytes) {
        Ok(Answer { ok: true, .. }) => Ok(()),
        Ok(Answer { parameters: Some(ResponseParameters::RetryAfter(wait)), .. }) => Err(RequestError::RetryAfter(wait)),
        Ok(Answer { parameters: Some(ResponseParameters::MigrateToChatId(to)), .. }) => Err(RequestError::MigrateToChatId(to)),
        Ok(Answer { description: Some(error), .. }) => Err(RequestError::Api(error)),
        Ok(Answer { description: None, .. }) => Err(RequestError::Api(ApiError::Unknown(format!("HTTP {status} without a description")))),
        // A proxy's error page, a cut-off body: nothing was delivered that we know of. Kept
        // out of the error: the body could echo the request.
        Err(e) if status >= 500 => Err(RequestError::Io(Arc::new(std::io::Error::other(format!("HTTP {status}: {e}"))))),
        Err(e) => Err(RequestError::InvalidJson { source: Arc::new(e), raw: String::new().into_boxed_str() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_the_errors_teloxide_gives() {
        let ok = read_answer(200, br#"{"ok":true,"result":{"message_id":7,"chat":{"id":1,"type":"private"},"date":0,"text":"hi"}}"#);
        assert!(ok.is_ok());
        let cases: [(u16, &[u8], &str); 6] = [
            (429, br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#, "RetryAfter(3s)"),
            (400, br#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-100123}}"#, "MigrateToChatId(-100123)"),
            (403, br#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#, "Api(BotBlocked)"),
            (400, br#"{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"}"#, "Api(CantParseEntities("),
            (502, b"<html>Bad Gateway</html>", "Io("),
            (200, b"{\"ok\":tr", "InvalidJson"),
        ];
        for (status, body, expected) in cases {
            let got = match read_answer(status, body) {
                Err(RequestError::RetryAfter(s)) => format!("RetryAfter({}s)", s.seconds()),
                Err(RequestError::MigrateToChatId(id)) => format!("MigrateToChatId({})", id.0),
                Err(RequestError::Api(e)) => format!("Api({e:?})"),
                Err(RequestError::Io(e)) => format!("Io({e})"),
                Err(RequestError::InvalidJson { .. }) => "InvalidJson".to_owned(),
                other => format!("{other:?}"),
            };
            assert!(got.starts_with(expected), "HTTP {status}: got {got}, expected {expected}...");
        }
    }

    #[test]
    fn the_body_is_what_teloxide_sends_for_the_same_message() {
        use teloxide::payloads::SendMessageSetters;
        use teloxide::prelude::Requester;
        use teloxide::requests::HasPayload;
        use teloxide::types::{InlineKeyboardButton, MessageId, ParseMode};

        let bot = Bot::new("1:T");
        let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Menu", "v1:m")]]);
        let reply = ReplyParameters::new(MessageId(7)).allow_sending_without_reply();
        let text = "<b>a</b> & b";
        let base = Outgoing { chat_id: ChatId(42), text, html: false, reply: None, keyboard: None };
        let cases = [
            (
                Outgoing { html: true, keyboard: Some(&keyboard), ..base },
                bot.send_message(ChatId(42), text)
                    .link_preview_options(no_link_preview())
                    .parse_mode(ParseMode::Html)
                    .reply_markup(keyboard.clone()),
            ),
            (base, bot.send_message(ChatId(42), text).link_preview_options(no_link_preview())),
            (
                Outgoing { html: true, reply: Some(&reply), ..base },
                bot.send_message(ChatId(42), text)
                    .link_preview_options(no_link_preview())
                    .parse_mode(ParseMode::Html)
                    .reply_parameters(reply.clone()),
            ),
        ];
        for (i, (ours, theirs)) in cases.iter().enumerate() {
            let theirs = serde_json::to_value(theirs.payload_ref()).expect("serialize");
            assert_eq!(serde_json::to_value(SendMessageBody::of(ours)).expect("serialize"), theirs, "case {i}");
        }
    }

    #[test]
    fn the_url_is_teloxides_method_url() {
        let bot = Bot::new("1:T").set_api_url("http://127.0.0.1:9/base".parse().expect("url"));
        let sender = DirectSender::new(&bot).expect("sender");
        assert_eq!(sender.url.as_str(), "http://127.0.0.1:9/base/bot1:T/SendMessage");
    }
}
