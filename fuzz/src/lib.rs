//! What the fuzz targets share: the shipped content (loaded once per process) and the checks
//! every reply must pass, the same ones Telegram and the fake Bot API apply.

use std::sync::LazyLock;

use klonopin_bot::content::{load_embedded, ResponseSet};
use klonopin_bot::engine::{Action, Turn};
use klonopin_bot::telegram::render::parts;

// The fake Bot API's validator of Telegram's HTML, one copy for tests and fuzzing.
#[path = "../../tests/it/support/telegram_html.rs"]
mod telegram_html;
pub use telegram_html::parse_telegram_html;

/// The shipped responses, trained once.
pub static CONTENT: LazyLock<ResponseSet> =
    LazyLock::new(|| load_embedded().unwrap_or_else(|d| panic!("shipped responses invalid: {d:?}")).set);

/// Telegram's limit for one message, in UTF-16 units.
pub const MAX_TEXT: usize = 4096;
/// Telegram's limit for callback data, in bytes.
pub const MAX_CALLBACK: usize = 64;

/// Panics unless every message of `turn` renders to parts Telegram accepts: valid HTML of at
/// most 4,096 units, callback data of at most 64 bytes that decodes to the same action.
pub fn assert_sendable(turn: &Turn) {
    for message in &turn.messages {
        for row in &message.buttons {
            for button in row {
                let data = button.action.encode();
                assert!(data.len() <= MAX_CALLBACK, "callback data of {} bytes: {data}", data.len());
                assert_eq!(Action::decode(&data).as_ref(), Some(&button.action), "callback data does not round-trip: {data}");
            }
        }
        for part in parts(message) {
            if let Err(e) = parse_telegram_html(&part.html) {
                panic!("Telegram would reject this HTML ({e}):\n{}", part.html);
            }
            let units = part.plain.encode_utf16().count();
            assert!(units <= MAX_TEXT, "a part of {units} units");
        }
    }
}

/// Panics unless the first message of `turn` is crisis guidance: an emergency number of
/// some region in it (the chat's, or the country the message says it is written from: "i'm
/// in britain" gets 999).
pub fn assert_guidance_first(turn: &Turn, what: &str) {
    assert!(!turn.crisis.is_empty(), "no crisis guidance for {what:?}");
    let first = turn.messages.first().map(|m| m.text.plain.as_str()).unwrap_or("");
    let emergency = CONTENT.regions.iter().any(|r| first.contains(r.region.emergency.as_str()));
    assert!(emergency, "guidance not first for {what:?}: {first}");
}
