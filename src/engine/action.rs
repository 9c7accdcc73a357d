//! Button actions and their compact, versioned callback data (at most 64 bytes).
//!
//! The data outlives the process that sent it (a person may tap an old button after a
//! restart or an upgrade), so it is versioned ("v1:") and decoding never fails loudly:
//! anything unknown is simply `None`, which the engine answers with the menu.

use crate::text::audience::Audience;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Topic(String),
    Menu,
    Crisis,
    Audience(Audience, String),
    SelfCheckStart,
    SelfCheckAnswer {
        question: u8,
        yes: bool,
    },
    SelfCheckResume,
    /// "Which country are you in?" with a button per country.
    Regions,
    /// A country chosen for the numbers (a `regions/` code).
    Region(String),
    /// "Another country": one not in the list.
    OtherRegion,
    /// "Which language?" with a button per language.
    Languages,
    /// A language chosen for the chat (a translation's code, or the folder's own).
    Language(String),
}

const PREFIX: &str = "v1:";

impl Action {
    pub fn encode(&self) -> String {
        match self {
            Action::Topic(id) => format!("{PREFIX}t:{id}"),
            Action::Menu => format!("{PREFIX}m"),
            Action::Crisis => format!("{PREFIX}c"),
            Action::Audience(Audience::Myself, id) => format!("{PREFIX}a:s:{id}"),
            Action::Audience(Audience::LovedOne, id) => format!("{PREFIX}a:l:{id}"),
            Action::SelfCheckStart => format!("{PREFIX}s"),
            Action::SelfCheckAnswer { question, yes } => format!("{PREFIX}q:{question}:{}", if *yes { 'y' } else { 'n' }),
            Action::SelfCheckResume => format!("{PREFIX}r"),
            Action::Regions => format!("{PREFIX}g"),
            Action::Region(code) => format!("{PREFIX}g:{code}"),
            Action::OtherRegion => format!("{PREFIX}g:*"),
            Action::Languages => format!("{PREFIX}l"),
            Action::Language(code) => format!("{PREFIX}l:{code}"),
        }
    }

    pub fn decode(data: &str) -> Option<Action> {
        let rest = data.strip_prefix(PREFIX)?;
        let (kind, arg) = rest.split_once(':').unwrap_or((rest, ""));
        match (kind, arg) {
            ("t", id) if !id.is_empty() => Some(Action::Topic(id.to_owned())),
            ("m", "") => Some(Action::Menu),
            ("c", "") => Some(Action::Crisis),
            ("s", "") => Some(Action::SelfCheckStart),
            ("r", "") => Some(Action::SelfCheckResume),
            ("g", "") => Some(Action::Regions),
            ("g", "*") => Some(Action::OtherRegion),
            ("g", code) => Some(Action::Region(code.to_owned())),
            ("l", "") => Some(Action::Languages),
            ("l", code) => Some(Action::Language(code.to_owned())),
            ("a", arg) => {
                let (who, id) = arg.split_once(':')?;
                let audience = match who {
                    "s" => Audience::Myself,
                    "l" => Audience::LovedOne,
                    _ => return None,
                };
                (!id.is_empty()).then(|| Action::Audience(audience, id.to_owned()))
            }
            ("q", arg) => {
                let (n, answer) = arg.split_once(':')?;
                let yes = match answer {
                    "y" => true,
                    "n" => false,
                    _ => return None,
                };
                Some(Action::SelfCheckAnswer { question: n.parse().ok()?, yes })
            }
            _ => None,
        }
    }

    /// The longest callback data any button about topic `id` produces.
    pub fn longest_callback_for(id: &str) -> usize {
        [Action::Topic(id.to_owned()), Action::Audience(Audience::LovedOne, id.to_owned())]
            .iter()
            .map(|a| a.encode().len())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        let actions = [
            Action::Topic("withdrawal-symptoms".into()),
            Action::Menu,
            Action::Crisis,
            Action::Audience(Audience::Myself, "x".into()),
            Action::Audience(Audience::LovedOne, "x".into()),
            Action::SelfCheckStart,
            Action::SelfCheckAnswer { question: 10, yes: true },
            Action::SelfCheckAnswer { question: 0, yes: false },
            Action::SelfCheckResume,
            Action::Regions,
            Action::Region("gb".into()),
            Action::OtherRegion,
            Action::Languages,
            Action::Language("es".into()),
        ];
        for a in actions {
            assert_eq!(Action::decode(&a.encode()), Some(a.clone()), "{}", a.encode());
        }
        for bad in ["", "v1:", "v0:m", "v1:t:", "v1:q:x:y", "v1:q:1:maybe", "v1:a:z:x", "v1:m:extra", "junk"] {
            assert_eq!(Action::decode(bad), None, "{bad:?}");
        }
    }
}
