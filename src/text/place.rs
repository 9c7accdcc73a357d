//! Where someone says they are: "i'm in the uk", "numbers for australia", or just "canada".
//!
//! Only a country named after words that place the writer ("i live in", "here in", "numbers
//! for") counts, or a message that is nothing but the name: "the pills were made in india"
//! must not swap someone's emergency numbers. Works on normalized text.

/// Words before a country's name that say the writer is there, or wants its numbers.
/// ("i'm from" is not one: people live far from where they are from.)
const CUES: [&str; 29] = [
    "im in",
    "i m in",
    "i am in",
    "i live in",
    "we live in",
    "we are in",
    "were in",
    "we re in",
    "im living in",
    "i m living in",
    "i am living in",
    "were living in",
    "im based in",
    "i m based in",
    "i am based in",
    "here in",
    "im currently in",
    "calling from",
    "writing from",
    "number in",
    "numbers in",
    "number for",
    "numbers for",
    "call in",
    "helpline in",
    "hotline in",
    "lines in",
    "emergency in",
    "help in",
];

/// The place a message names, and whether the message is only that (a choice, not a
/// question). `places` gives each place's key and its normalized names. Two different
/// places named ("i'm in the uk, my mum is in australia") is no answer: `None`.
pub fn mentioned_place<'a>(normalized: &str, places: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Option<(&'a str, bool)> {
    let text = normalized.trim();
    let bare = text.strip_prefix("the ").unwrap_or(text);
    let mut found: Option<(&str, bool, usize)> = None;
    for (key, names) in places {
        for name in names {
            if bare == name {
                return Some((key, true));
            }
            for cue in CUES {
                for article in ["", "the "] {
                    let phrase = format!("{cue} {article}{name}");
                    if let Some(at) = find_words(text, &phrase) {
                        let whole = at == 0 && phrase.len() == text.len();
                        match found {
                            Some((other, _, _)) if other != key => return None,
                            _ => found = Some((key, whole, name.len())),
                        }
                    }
                }
            }
        }
    }
    found.map(|(key, whole, _)| (key, whole))
}

/// Where `phrase` occurs in `text` as whole words.
fn find_words(text: &str, phrase: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(phrase) {
        let at = from + i;
        let end = at + phrase.len();
        let starts = at == 0 || text.as_bytes()[at - 1] == b' ';
        let ends = end == text.len() || text.as_bytes()[end] == b' ';
        if starts && ends {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize::normalize;

    #[test]
    fn places_named_by_the_writer_count_and_others_do_not() {
        let gb: Vec<String> = ["uk", "united kingdom", "northern ireland"].map(String::from).to_vec();
        let ie: Vec<String> = ["ireland"].map(String::from).to_vec();
        let au: Vec<String> = ["australia"].map(String::from).to_vec();
        let places = || [("gb", gb.as_slice()), ("ie", ie.as_slice()), ("au", au.as_slice())];
        let cases: &[(&str, Option<(&str, bool)>)] = &[
            ("I'm in the UK who do I call if I took too many", Some(("gb", false))),
            ("uk", Some(("gb", true))),
            ("The UK", Some(("gb", true))),
            ("Australia", Some(("au", true))),
            ("i live in australia", Some(("au", true))),
            ("what are the numbers for australia?", Some(("au", false))),
            ("we live in northern ireland and my son took pills", Some(("gb", false))),
            ("im in the uk and my mum is in australia", Some(("gb", false))),
            ("i live in australia but im in the uk this week", None),
            ("i'm from australia but living in the uk", None),
            ("my daughter living in australia overdosed", None),
            ("i am in ireland", Some(("ie", true))),
            ("the pills were made in australia", None),
            ("my cousin in the uk takes klonopin", None),
            ("ukulele lessons", None),
            ("what is klonopin", None),
        ];
        for (message, expected) in cases {
            assert_eq!(mentioned_place(&normalize(message), places()), *expected, "{message}");
        }
    }
}
