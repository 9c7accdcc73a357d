//! The dialogue state: the only thing stored per chat. Small, and never any message text.

use serde::{Deserialize, Serialize};

use crate::text::audience::Audience;
use crate::text::crisis::CrisisSet;

/// Where a chat is. Serialized by the Telegram adapter's storage; unknown or old shapes fail
/// to deserialize and the adapter resets the chat to the default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    #[serde(default)]
    pub flow: Flow,
    /// Whether this person asks for themselves or for someone they care about, once known;
    /// kept so the question is asked once, not on every topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// The topic the last reply answered (its id), so that a typed question leading to the
    /// same answer gets something new instead of the same text again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_topic: Option<String>,
    /// The crisis kinds whose guidance the last reply showed, so that the next one can show
    /// the shorter version of the same block instead of the whole text again.
    #[serde(default, skip_serializing_if = "no_kinds")]
    pub last_crisis: CrisisSet,
    /// The country chosen for phone numbers (a `regions/` code), if not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The language the chat reads (a translation's code such as `es`), when it is not the
    /// one the app suggests: chosen with /language or a button, or the language the person
    /// last wrote in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The last reply asked "are you, or is someone with you, in danger right now?": a typed
    /// "yes" or "no" answers it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub asked_check_in: bool,
}

fn no_kinds(set: &CrisisSet) -> bool {
    set.is_empty()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flow {
    /// No flow in progress: free questions and menus.
    #[default]
    Idle,
    /// Waiting for "for yourself or for someone you care about?" before showing a topic.
    /// No longer entered (answers come first, the other version a button away); kept so
    /// that a state stored by an older version still reads and resolves.
    Audience { topic: String },
    /// In the self-check: `next` is the 0-based question to answer, `yes` one bit per
    /// question answered "yes".
    SelfCheck { next: u8, yes: u16 },
}
