//! Proximity rules: a word, then within a few words another ("stopped taking it", "took a
//! bunch of pins", "wants to die"), with the word lists they draw on (the drug's names,
//! swallowing verbs, large counts).

use super::CrisisKind;
use CrisisKind::{Overdose as O, SelfHarm as S, Withdrawal as W};

/// A word from `first`, then within `within` words one from `then`: a crisis described
/// rather than named ("stopped taking it", "took a bunch of pins", "wants to die").
pub(super) struct Near {
    pub(super) first: &'static [&'static str],
    pub(super) then: &'static [&'static str],
    pub(super) within: usize,
    pub(super) kind: CrisisKind,
    /// Also look before the first word ("breathing is shallow" and "shallow breathing").
    pub(super) both_ways: bool,
    /// The pair has an everyday sense too ("my son ate dinner"): graded like an everyday
    /// word, so without the drug named it counts only when the classifier agrees.
    pub(super) everyday: bool,
}

/// The medicine, by name or slang; strong enough to stand after "off", "no", "without".
pub(super) const DRUG_NAMES: &[&str] = &[
    "klonopin",
    "clonazepam",
    "kpin",
    "kpins",
    "pins",
    "pin",
    "klonnies",
    "klonnie",
    "klons",
    "klonos",
    "benzo",
    "benzos",
    "rivotril",
    "rivotriles",
    "rivo",
    "clonas",
    "clonazepan",
    // Clonazepam's brand names elsewhere (and the commonest misspellings of Rivotril), each
    // checked against a regulator's record, a national compendium or the maker's page.
    "rivotrill",
    "ribotril",
    "rivatril",
    "ravotril",
    "iktorivil",
    "paxam",
    "antelepsin",
    "neuryl",
    "clonex",
    "clonotril",
    "lonazep",
    "xanax",
    "valium",
    "ativan",
    "meds",
    "medication",
    "medicine",
    "pills",
    "pastillas",
    "dose",
    "doses",
    "dosage",
    "greenies",
    "greenie",
    "zannies",
    "alprazolam",
    "lorazepam",
    "diazepam",
];
/// The medicine, including words that only point at it after a verb ("stopped taking it"):
/// every name of [`DRUG_NAMES`] but "pin" (a test keeps them in step).
pub(super) const DRUG_REFS: &[&str] = &[
    "klonopin",
    "clonazepam",
    "kpin",
    "kpins",
    "pins",
    "klonnies",
    "klonnie",
    "klons",
    "klonos",
    "benzo",
    "benzos",
    "rivotril",
    "rivotriles",
    "rivo",
    "clonas",
    "clonazepan",
    // Clonazepam's brand names elsewhere (and the commonest misspellings of Rivotril), each
    // checked against a regulator's record, a national compendium or the maker's page.
    "rivotrill",
    "ribotril",
    "rivatril",
    "ravotril",
    "iktorivil",
    "paxam",
    "antelepsin",
    "neuryl",
    "clonex",
    "clonotril",
    "lonazep",
    "xanax",
    "valium",
    "ativan",
    "meds",
    "medication",
    "medicine",
    "pills",
    "tablets",
    "pastillas",
    "dose",
    "doses",
    "dosage",
    "greenies",
    "greenie",
    "zannies",
    "alprazolam",
    "lorazepam",
    "diazepam",
    "taking",
    "take",
    "it",
    "them",
    "k",
    "cold",
];
const STOP_VERBS: &[&str] = &[
    "stop", "stopped", "stopping", "stops", "quit", "quitting", "quits", "quitted", "ditched", "dropped", "kick", "kicking", "kicked",
    "skipped", "skipping", "skip", "missed", "missing", "deje", "dejo", "dejar", "dejado", "dejaron", "acabaron", "acabo", "acabe",
    "suspendi",
];
/// Past-tense swallowing: with a quantity it means too much was taken.
const TOOK: &[&str] = &["took", "taken", "swallowed", "ate", "popped", "tome", "tomo", "overtook"];
const TOO_MUCH: &[&str] = &[
    "all",
    "every",
    "bunch",
    "lot",
    "lots",
    "handful",
    "whole",
    "entire",
    "double",
    "triple",
    "twice",
    "extra",
    "several",
    "many",
    "much",
    "multiple",
    "way",
    "demasiado",
    "demasiadas",
    "todas",
    "todo",
];
const BAD_BREATHING: &[&str] = &[
    "shallow",
    "slow",
    "slowly",
    "slowed",
    "barely",
    "stopped",
    "weird",
    "trouble",
    "hard",
    "cant",
    "struggling",
    "labored",
    "gasping",
    "not",
    "isnt",
    "irregular",
];

pub(super) const NEAR: &[Near] = &[
    Near { first: STOP_VERBS, then: DRUG_REFS, within: 4, kind: W, both_ways: false, everyday: false },
    Near {
        first: &["off", "without", "sin", "havent", "hadnt", "since", "last"],
        then: DRUG_NAMES,
        within: 3,
        kind: W,
        both_ways: false,
        everyday: false,
    },
    Near { first: &["without", "off"], then: &["it", "them"], within: 1, kind: W, both_ways: false, everyday: false },
    Near { first: &["no"], then: DRUG_NAMES, within: 1, kind: W, both_ways: false, everyday: false },
    Near { first: &["out"], then: DRUG_NAMES, within: 3, kind: W, both_ways: false, everyday: false },
    Near {
        first: &["cut", "cutting", "cuts"],
        then: &["down", "back", "dose", "doses"],
        within: 2,
        kind: W,
        both_ways: false,
        everyday: false,
    },
    Near { first: &["ran", "run", "running", "runs"], then: &["out"], within: 1, kind: W, both_ways: false, everyday: false },
    Near { first: TOOK, then: TOO_MUCH, within: 3, kind: O, both_ways: false, everyday: false },
    Near {
        first: &["into"],
        then: &["bottle", "pills", "klonopin", "clonazepam", "pins", "meds", "medicine", "medication"],
        within: 3,
        kind: O,
        both_ways: false,
        everyday: false,
    },
    Near {
        first: &["breathing", "breath", "breathe", "breathes"],
        then: BAD_BREATHING,
        within: 3,
        kind: O,
        both_ways: true,
        everyday: false,
    },
    Near {
        first: &["want", "wants", "wanna", "wanting", "wanted", "wish", "wishing", "ready"],
        then: &["die", "dead", "dying", "morir"],
        within: 3,
        kind: S,
        both_ways: false,
        everyday: false,
    },
    // Overdosing as a plan or a wish ("want to OD to make it stop") is self-harm too.
    Near {
        first: &["want", "wants", "wanna", "gonna", "going", "plan", "planning", "ready", "quiero", "voy"],
        then: &["overdose", "od", "sobredosis", "overdosing"],
        within: 3,
        kind: S,
        both_ways: false,
        everyday: false,
    },
    Near {
        first: &["kill", "killing", "hurt", "hurting", "harm", "harming", "cut", "cutting", "burn", "burning", "burned", "burnt", "kil"],
        then: &["myself", "herself", "himself", "themselves", "themself", "myslef", "yourself"],
        within: 2,
        kind: S,
        both_ways: false,
        everyday: false,
    },
    Near {
        first: &["thinking", "thoughts", "thought", "think"],
        then: &["dying", "suicide", "death", "killing", "ending", "jumping", "hanging", "overdosing", "oding"],
        within: 2,
        kind: S,
        both_ways: false,
        everyday: false,
    },
    // A child who ate or swallowed the drug ("my 4 year old ate some of the blue ones
    // (klonopin 1mg)", "my son ate 2 of my klonopin"): Poison Help first. Without the drug
    // named ("my son ate dinner") only with the classifier. (A pet is the pets topic's.)
    Near {
        first: &[
            "kid",
            "kids",
            "child",
            "childs",
            "toddler",
            "baby",
            "babys",
            "infant",
            "son",
            "daughter",
            "grandson",
            "granddaughter",
            "grandkid",
            "nephew",
            "niece",
            "year",
            "yr",
        ],
        then: &["ate", "eaten", "swallowed", "swallow", "chewed", "licked"],
        within: 6,
        kind: O,
        both_ways: false,
        everyday: true,
    },
    // A small child who swallowed or found pills ("se tomó mi nena de 2 años 40 gotas").
    Near {
        // (And Portuguese: "meu filho engoliu uns comprimidos".)
        first: &[
            "nena", "nene", "bebe", "bebito", "bebita", "nino", "nina", "chiquito", "chiquita", "nieto", "nieta", "filho", "filha",
            "crianca",
        ],
        then: &["tomo", "trago", "comio", "encontro", "agarro", "engoliu", "comeu", "tomou"],
        within: 3,
        kind: O,
        both_ways: true,
        everyday: false,
    },
    // "klonopin stopped 6 days ago", "went from 2mg to nothing".
    Near { first: DRUG_NAMES, then: &["stopped", "ended", "quit"], within: 1, kind: W, both_ways: false, everyday: false },
    Near { first: &["from"], then: &["nothing"], within: 3, kind: W, both_ways: false, everyday: false },
];

/// A proximity rule's first word in an idiom that says something else: "sin querer"
/// (accidentally), "sin receta" (without a prescription) are not "without (the drug)".
pub(super) const NOT_FIRST_BEFORE: &[(&str, &[&str])] = &[("sin", &["querer", "receta", "prescripcion", "problema", "problemas"])];

/// First halves of crisis words people split with a space or hyphen ("over dose").
pub(super) const SPLIT_HEADS: &[&str] = &["over", "ovr", "with", "wit", "widh", "w", "o", "sobre", "self", "with-", "abs"];

/// Swallowing verbs followed by a large count ("took 12 pins", "took 20mg").
pub(super) const TAKE_VERBS: &[&str] = &["took", "take", "taken", "ate", "swallowed", "popped", "tomo", "tome"];
pub(super) const PILL_WORDS: &[&str] =
    &["pills", "pins", "tabs", "tablets", "bars", "of", "kpins", "klonopin", "pastillas", "k", "clonazepam"];
pub(super) const NUMBER_WORDS: &[&str] = &[
    "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "dozen",
    "hundred", "cinco", "seis", "diez", "veinte",
];
