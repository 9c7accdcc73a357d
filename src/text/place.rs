//! Where someone says they are: "i'm in the uk", "numbers for australia", or just "canada".
//!
//! Only a country named after words that place the writer ("i live in", "here in", "numbers
//! for") counts, or a message that is nothing but the name: "the pills were made in india"
//! must not swap someone's emergency numbers. Works on normalized text.

/// Words before a country's name that say the writer is there, or wants its numbers, in
/// English and Spanish (normalized: no accents). ("i'm from" and "soy de" are not ones:
/// people live far from where they are from.)
const CUES: &[&str] = &[
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
    "estoy en",
    "estamos en",
    "vivo en",
    "vivimos en",
    "aqui en",
    "aca en",
    "numero en",
    "numeros en",
    "numero para",
    "numeros para",
    "telefono en",
    "telefonos en",
    "llamo en",
    "llamar en",
    "emergencias en",
    "ayuda en",
];

/// Articles before a country's name: "the uk", "el reino unido", "los estados unidos".
const ARTICLES: &[&str] = &["the ", "el ", "la ", "los ", "las "];

/// The place a message names, and whether the message is only that (a choice, not a
/// question). `places` gives each place's key and its normalized names. Two different
/// places named ("i'm in the uk, my mum is in australia") is no answer: `None`.
///
/// The cues are found first (most messages have none), then each place's names are tried
/// only where a cue ends: a few comparisons per message instead of a search per cue, name
/// and article (which cost half a millisecond per message with 18 countries).
pub fn mentioned_place<'a>(normalized: &str, places: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Option<(&'a str, bool)> {
    let text = normalized.trim();
    let bare = ARTICLES.iter().find_map(|a| text.strip_prefix(a)).unwrap_or(text);
    // (where the cue starts, where the name would start), with and without "the ".
    let mut slots: Vec<(usize, usize)> = Vec::new();
    for cue in CUES {
        for at in word_matches(text, cue) {
            let rest = at + cue.len() + 1;
            if rest < text.len() && text.as_bytes()[rest - 1] == b' ' {
                slots.push((at, rest));
                if let Some(article) = ARTICLES.iter().find(|a| text[rest..].starts_with(**a)) {
                    slots.push((at, rest + article.len()));
                }
            }
        }
    }
    let mut found: Option<(&str, bool)> = None;
    for (key, names) in places {
        for name in names {
            if bare == name {
                return Some((key, true));
            }
            for &(at, from) in &slots {
                let end = from + name.len();
                let named = text[from..].starts_with(name.as_str()) && (end == text.len() || text.as_bytes()[end] == b' ');
                if named {
                    match found {
                        Some((other, _)) if other != key => return None,
                        _ => found = Some((key, at == 0 && end == text.len())),
                    }
                }
            }
        }
    }
    found
}

/// Every place `word` occurs in `text` starting at a word boundary (its end is checked by
/// the caller).
fn word_matches<'t>(text: &'t str, word: &'t str) -> impl Iterator<Item = usize> + 't {
    text.match_indices(word).map(|(at, _)| at).filter(move |&at| at == 0 || text.as_bytes()[at - 1] == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize::normalize;

    /// `word_matches` finds non-overlapping occurrences, which loses nothing only while no
    /// cue's tail after one of its spaces is also how it starts ("in in" would break it).
    #[test]
    fn no_cue_overlaps_itself() {
        for cue in CUES {
            for (i, _) in cue.match_indices(' ') {
                assert!(!cue.starts_with(&cue[i + 1..]), "{cue:?} overlaps itself");
            }
        }
    }

    #[test]
    fn places_named_by_the_writer_count_and_others_do_not() {
        let gb: Vec<String> = ["uk", "united kingdom", "northern ireland", "reino unido"].map(String::from).to_vec();
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
            ("estoy en australia", Some(("au", true))),
            ("vivo en irlanda", None),
            ("vivimos en australia y mi hijo tomo pastillas", Some(("au", false))),
            ("a quien llamo en australia?", Some(("au", false))),
            ("soy de australia", None),
            ("vivo en el reino unido", Some(("gb", true))),
            ("necesito el telefono de australia", None),
            ("las pastillas vienen de australia", None),
        ];
        for (message, expected) in cases {
            assert_eq!(mentioned_place(&normalize(message), places()), *expected, "{message}");
        }
    }
}
