//! Who a question is about: the person asking, or someone they care about ("my son ...").

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    /// Asking for themselves.
    #[serde(rename = "self")]
    Myself,
    /// Asking about a person they care about.
    LovedOne,
}

const RELATIONS: &[&str] = &[
    "son",
    "sons",
    "daughter",
    "daughters",
    "kid",
    "kids",
    "child",
    "children",
    "teen",
    "teenager",
    "wife",
    "husband",
    "partner",
    "spouse",
    "boyfriend",
    "girlfriend",
    "bf",
    "gf",
    "fiance",
    "fiancee",
    "mom",
    "mother",
    "mum",
    "mama",
    "dad",
    "father",
    "papa",
    "parent",
    "parents",
    "brother",
    "sister",
    "sibling",
    "friend",
    "bestie",
    "roommate",
    "grandma",
    "grandmother",
    "grandpa",
    "grandfather",
    "aunt",
    "uncle",
    "cousin",
    "niece",
    "nephew",
    "family",
    "coworker",
    "hijo",
    "hija",
    "esposo",
    "esposa",
    "madre",
    "padre",
    "hermano",
    "hermana",
    "amigo",
    "amiga",
];

const OTHER_PEOPLE: &[&str] = &["he", "she", "hes", "shes", "him", "loved", "someone", "somebody"];
const SELF_WORDS: &[&str] = &["i", "im", "ive", "me", "myself", "yo"];

/// The audience a normalized question makes clear, if any.
pub fn audience_cue(normalized: &str) -> Option<Audience> {
    let words: Vec<&str> = normalized.split(' ').collect();
    let relation = words.windows(2).any(|w| matches!(w[0], "my" | "our" | "mi") && RELATIONS.contains(&w[1]));
    if relation || words.iter().any(|w| OTHER_PEOPLE.contains(w)) {
        return Some(Audience::LovedOne);
    }
    if words.iter().any(|w| SELF_WORDS.contains(w)) {
        return Some(Audience::Myself);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues() {
        let cases = [
            ("i think my son is addicted", Some(Audience::LovedOne)),
            ("is she addicted", Some(Audience::LovedOne)),
            ("am i addicted", Some(Audience::Myself)),
            ("my prescription ran out", None),
            ("is klonopin addictive", None),
        ];
        for (text, expected) in cases {
            assert_eq!(audience_cue(text), expected, "{text}");
        }
    }
}
