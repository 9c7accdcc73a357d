//! Messages teloxide cannot parse, answered from their words alone.
//!
//! When Telegram adds or changes a field that teloxide does not know, teloxide turns the whole
//! update into `UpdateKind::Error` and its dispatcher drops it: a message about an overdose
//! would go unanswered until teloxide is upgraded. [`Salvage`] wraps the update listener and
//! rebuilds such a message from the few fields the bot reads (ids, chat, sender, date, text or
//! caption); the rebuilt update is then handled like any other. An update with no words in it,
//! or that is not a message, is still dropped, with its content kept out of the log.

use futures::StreamExt;
use serde_json::{json, Value};
use teloxide::stop::StopToken;
use teloxide::types::{AllowedUpdate, Message, Update, UpdateId, UpdateKind};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};

/// The message in an update teloxide could not parse, rebuilt from the fields the bot reads;
/// `None` if it is not a message (or an edit of one) with text or a caption. A caption comes
/// back as text: the words still go through the crisis rule and get an answer.
pub fn salvage(raw: &Value) -> Option<Update> {
    let update_id = raw.get("update_id")?.as_u64()?;
    let (kind, message) = ["message", "edited_message"].into_iter().find_map(|k| raw.get(k).map(|m| (k, m)))?;
    let text = message.get("text").or_else(|| message.get("caption"))?.as_str()?;
    let chat = message.get("chat")?;
    let mut rebuilt_chat = json!({ "id": chat.get("id")?.as_i64()?, "type": chat.get("type")?.as_str()? });
    if let Some(title) = chat.get("title").and_then(Value::as_str) {
        rebuilt_chat["title"] = json!(title);
    }
    let mut rebuilt = json!({
        "message_id": message.get("message_id")?.as_i64()?,
        "date": message.get("date").and_then(Value::as_i64).unwrap_or(0),
        "chat": rebuilt_chat,
        "text": text,
    });
    if let Some(from) = message.get("from") {
        let id = from.get("id").and_then(Value::as_u64)?;
        let is_bot = from.get("is_bot").and_then(Value::as_bool).unwrap_or(false);
        rebuilt["from"] = json!({ "id": id, "is_bot": is_bot, "first_name": "" });
    }
    if kind == "edited_message" {
        rebuilt["edit_date"] = message.get("edit_date").cloned().unwrap_or(json!(0));
    }
    let message: Message = serde_json::from_value(rebuilt).ok()?;
    let kind = if kind == "edited_message" { UpdateKind::EditedMessage(message) } else { UpdateKind::Message(message) };
    Some(Update { id: UpdateId(u32::try_from(update_id).ok()?), kind })
}

/// An update listener whose unparseable messages are salvaged (see the module docs).
pub struct Salvage<L>(pub L);

type Repair<E> = fn(Result<Update, E>) -> Result<Update, E>;

impl<'a, L> AsUpdateStream<'a> for Salvage<L>
where
    L: AsUpdateStream<'a>,
    L::StreamErr: 'a,
{
    type StreamErr = L::StreamErr;
    type Stream = futures::stream::Map<L::Stream, Repair<L::StreamErr>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        self.0.as_stream().map(repair::<L::StreamErr> as Repair<L::StreamErr>)
    }
}

impl<L> UpdateListener for Salvage<L>
where
    L: UpdateListener,
    L::Err: 'static,
{
    type Err = L::Err;

    fn stop_token(&mut self) -> StopToken {
        self.0.stop_token()
    }

    fn hint_allowed_updates(&mut self, hint: &mut dyn Iterator<Item = AllowedUpdate>) {
        self.0.hint_allowed_updates(hint);
    }
}

fn repair<E>(item: Result<Update, E>) -> Result<Update, E> {
    let Ok(Update { id, kind: UpdateKind::Error(raw) }) = item else { return item };
    match salvage(&raw) {
        Some(update) => {
            log::warn!("update {}: teloxide could not parse it; answering from its text alone", id.0);
            Ok(update)
        }
        None => {
            log::warn!("update {}: teloxide could not parse it and it holds no text to answer; dropped", id.0);
            // Emptied so that teloxide's own "cannot parse" log line carries nobody's data.
            Ok(Update { id, kind: UpdateKind::Error(Value::Null) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message teloxide 0.17 cannot parse: `via_bot` is not a user.
    fn broken(kind: &str, chat: Value, body: Value) -> Value {
        let mut message = json!({
            "message_id": 12,
            "from": {"id": 77, "is_bot": false, "first_name": "A", "username": "someone"},
            "chat": chat,
            "date": 1_700_000_000,
            "via_bot": "not a user",
        });
        if let (Some(m), Some(extra)) = (message.as_object_mut(), body.as_object()) {
            m.extend(extra.clone());
        }
        json!({ "update_id": 5, kind: message })
    }

    #[test]
    fn messages_with_words_come_back_as_text() {
        let private = json!({"id": 77, "type": "private", "first_name": "A"});
        let group = json!({"id": -1_001_234, "type": "supergroup", "title": "G"});
        // (update, the text the bot should read, whether it is an edit)
        let cases = [
            (broken("message", private.clone(), json!({"text": "took too many pins"})), Some("took too many pins"), false),
            (broken("message", private.clone(), json!({"caption": "withdrawl help", "new_media": {}})), Some("withdrawl help"), false),
            (broken("edited_message", private.clone(), json!({"text": "overdose", "edit_date": 1_700_000_100})), Some("overdose"), true),
            (broken("message", group, json!({"text": "@bot is it addictive"})), Some("@bot is it addictive"), false),
            (broken("message", private.clone(), json!({"text": "od", "date": "yesterday"})), Some("od"), false),
            (broken("message", private.clone(), json!({"new_media": {}})), None, false),
            (json!({"update_id": 6, "some_new_kind": {"text": "hi"}}), None, false),
            (json!({"update_id": 7, "message": {"text": "no chat"}}), None, false),
        ];
        for (i, (raw, text, edited)) in cases.iter().enumerate() {
            // As teloxide reads a getUpdates answer (from text: its reader needs borrowed keys).
            let parsed: Vec<Update> = serde_json::from_str(&json!([raw]).to_string()).expect("teloxide reads the batch");
            assert!(matches!(parsed[0].kind, UpdateKind::Error(_)), "case {i}: teloxide must fail on it for the test to mean anything");
            let salvaged = salvage(raw);
            let got = salvaged.as_ref().and_then(|u| match &u.kind {
                UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => m.text(),
                _ => None,
            });
            assert_eq!(got, *text, "case {i}");
            if let Some(update) = salvaged {
                assert_eq!(update.id.0, 5);
                assert_eq!(matches!(update.kind, UpdateKind::EditedMessage(_)), *edited, "case {i}");
                let chat = update.chat().map(|c| c.id.0);
                assert_eq!(
                    chat,
                    raw.get(if *edited { "edited_message" } else { "message" }).and_then(|m| m["chat"]["id"].as_i64()),
                    "case {i}"
                );
            }
        }
    }
}
