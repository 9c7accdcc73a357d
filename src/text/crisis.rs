//! Crisis detection: which kinds of crisis guidance a normalized message calls for, and why.
//!
//! Recall is the safety property here. The detector reads the output of
//! [`normalize`](super::normalize::normalize) and looks for: crisis words and their
//! inflections (by stem), their misspellings (bounded edit distance), abbreviations (od, wd),
//! Spanish, and phrases that describe a crisis without naming it ("stopped taking it",
//! "won't wake up", "want to die"). It knows nothing of topics or dialogue state, so it runs
//! first on every text, in every state.

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};

use super::fuzzy::{allowed_typos, distance_within};

/// A kind of crisis guidance, in the order replies show them (most urgent first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrisisKind {
    /// Overdose or another medical emergency: 911 first.
    Overdose,
    /// Thoughts of suicide or self-harm: 988.
    SelfHarm,
    /// Withdrawal, stopping, tapering: seizure risk, never stop abruptly.
    Withdrawal,
}

impl CrisisKind {
    pub const ALL: [CrisisKind; 3] = [CrisisKind::Overdose, CrisisKind::SelfHarm, CrisisKind::Withdrawal];

    /// The name used in response files, JSON output and metrics.
    pub fn name(self) -> &'static str {
        match self {
            CrisisKind::Overdose => "overdose",
            CrisisKind::SelfHarm => "self-harm",
            CrisisKind::Withdrawal => "withdrawal",
        }
    }

    pub fn from_name(name: &str) -> Option<CrisisKind> {
        CrisisKind::ALL.into_iter().find(|k| k.name() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of crisis kinds, iterated most urgent first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrisisSet(u8);

/// Stored (in the dialogue state) as a list of kind names; a name this version does not
/// know is skipped, so a state written by a newer version still reads.
impl serde::Serialize for CrisisSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(CrisisKind::name))
    }
}

impl<'de> serde::Deserialize<'de> for CrisisSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names: Vec<String> = serde::Deserialize::deserialize(deserializer)?;
        Ok(names.iter().filter_map(|n| CrisisKind::from_name(n)).collect())
    }
}

impl CrisisSet {
    pub fn insert(&mut self, kind: CrisisKind) {
        self.0 |= kind.bit();
    }
    pub fn contains(self, kind: CrisisKind) -> bool {
        self.0 & kind.bit() != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn union(self, other: CrisisSet) -> CrisisSet {
        CrisisSet(self.0 | other.0)
    }
    pub fn iter(self) -> impl Iterator<Item = CrisisKind> {
        CrisisKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

impl FromIterator<CrisisKind> for CrisisSet {
    fn from_iter<I: IntoIterator<Item = CrisisKind>>(iter: I) -> Self {
        let mut set = CrisisSet::default();
        for kind in iter {
            set.insert(kind);
        }
        set
    }
}

/// Why a kind was detected: shown by `explain` so editors can see which rule fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrisisHit {
    pub kind: CrisisKind,
    pub rule: String,
    /// Only a word with an everyday sense fired, in a message that never names the drug
    /// (see [`Graded`]).
    pub everyday: bool,
    /// ... and the message has a word of that everyday sense too ("bank", "semester").
    pub elsewhere: bool,
}

/// What the rules found, split by how sure a hit is.
///
/// `everyday` holds kinds found only by a word that also has an everyday sense ("bank
/// withdrawal", "tapered jeans", "OD green", "an overdose of cuteness") in a message of more
/// than two words that names no drug, pill or dose. On a tuning set written by people who
/// never saw the rules, such hits were 36 of the rules' 47 false alarms and 7 of their 195
/// crisis messages; a second reader (the classifier) decides them. Everything else is `sure`.
///
/// `elsewhere` holds those of them in a message that also has a word of the everyday sense
/// ([`OTHER_SENSE`]: "ATM", "semester", "troops", "marathon"): there the rule says nothing
/// the classifier's own crisis threshold does not, and leads to no topic that opens with
/// crisis guidance (tuning set D: 30 -> 21 benign messages alarmed, its crisis messages
/// unchanged).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Graded {
    pub sure: CrisisSet,
    pub everyday: CrisisSet,
    pub elsewhere: CrisisSet,
}

impl Graded {
    /// Every kind found, sure or not (where nothing else reads the message).
    pub fn all(self) -> CrisisSet {
        self.sure.union(self.everyday).union(self.elsewhere)
    }
}

/// How sure one rule's hit is (see [`Graded`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grade {
    Sure,
    Everyday,
    Elsewhere,
}

use CrisisKind::{Overdose as O, SelfHarm as S, Withdrawal as W};

/// Whole words that are crisis mentions as they stand.
const WORDS: &[(&str, CrisisKind)] = &[
    ("withdraw", W),
    ("withdraws", W),
    ("withdrawal", W),
    ("withdrawals", W),
    ("withdrawing", W),
    ("withdrew", W),
    ("withdrawn", W),
    ("wd", W),
    ("wds", W),
    ("detox", W),
    ("detoxing", W),
    ("detoxed", W),
    ("detoxification", W),
    ("abstinencia", W),
    ("abstinence", W),
    ("taper", W),
    ("tapering", W),
    ("tapered", W),
    ("wean", W),
    ("weaning", W),
    ("weaned", W),
    ("dopesick", W),
    ("overdose", O),
    ("overdosed", O),
    ("overdoses", O),
    ("overdosing", O),
    ("od", O),
    ("ods", O),
    ("oded", O),
    ("oding", O),
    ("odeing", O),
    ("sobredosis", O),
    ("overdosis", O),
    ("seizure", O),
    ("seizures", O),
    ("seizing", O),
    ("seizer", O),
    ("seizers", O),
    ("convulsion", O),
    ("convulsions", O),
    ("convulsing", O),
    ("convulsiones", O),
    ("unresponsive", O),
    ("inconsciente", O),
    ("suicide", S),
    ("suicidal", S),
    ("suicidio", S),
    ("suicidarme", S),
    ("unalive", S),
    ("unaliving", S),
    ("kms", S),
    ("selfharm", S),
    ("selfharming", S),
    ("sewerslide", S),
    ("microtaper", W),
    ("microtapering", W),
    ("doubled", O),
    ("foaming", O),
    ("gurgling", O),
    ("gurgle", O),
    ("lethal", O),
    ("morirme", S),
    ("matarme", S),
    ("desmayada", O),
    ("desmayado", O),
    // Other languages people write in (German, French, Italian, Portuguese).
    ("sevrage", W),
    ("astinenza", W),
    ("surdose", O),
    ("surdosage", O),
    ("sovradosaggio", O),
    ("suicider", S),
    ("uccidermi", S),
    ("suicidarmi", S),
];

/// Word beginnings that cover every inflection and most misspellings of a crisis word.
const STEMS: &[(&str, CrisisKind)] = &[
    ("withdr", W),
    ("widthdr", W),
    ("abstinenc", W),
    ("desintox", W),
    ("taper", W),
    ("microtaper", W),
    ("discontinu", W),
    ("overdos", O),
    ("overdoz", O),
    ("sobredos", O),
    // "se empastilló": took a lot of pills (Spanish).
    ("empastill", O),
    ("convuls", O),
    ("seizur", O),
    ("suicid", S),
    ("entzug", W),
    ("uberdos", O),
    ("ueberdos", O),
    ("selbstmord", S),
    ("suizid", S),
];

/// Canonical words matched with typo tolerance ([`allowed_typos`] by length).
const FUZZY: &[(&str, CrisisKind)] = &[
    ("withdrawal", W),
    ("withdrawals", W),
    ("withdraw", W),
    ("withdrawing", W),
    ("abstinencia", W),
    ("overdose", O),
    ("overdosed", O),
    ("overdosing", O),
    ("sobredosis", O),
    ("seizure", O),
    ("suicide", S),
    ("suicidal", S),
];

/// Beginnings of crisis words that also have an everyday sense: money and courses are
/// withdrawn, jeans tapered, babies weaned, juices detox, rents doubled, apps unresponsive,
/// "OD" is the right eye and an outside diameter, and people overdose on television.
const EVERYDAY_SENSE: &[&str] = &[
    "withdr",
    "widthdr",
    "taper",
    "wean",
    "detox",
    "abstinence",
    "overdos",
    "overdoz",
    "sobredos",
    "doubled",
    "lethal",
    "discontinu",
    "foaming",
    "gurgl",
    "unresponsive",
];
/// Words of those everyday senses: money, courses, politics and war, sport, clothes, birth
/// control, screens. Not animals, food or drinks: a pet or a child can swallow pills, and
/// caffeine tablets are overdosed on for real.
const OTHER_SENSE: &[&str] = &[
    "bank",
    "atm",
    "atms",
    "cash",
    "fee",
    "fees",
    "account",
    "savings",
    "401k",
    "ira",
    "cd",
    "penalty",
    "deposit",
    "paypal",
    "venmo",
    "debit",
    "euros",
    "dollars",
    "pension",
    "retirement",
    "funds",
    "stocks",
    "class",
    "classes",
    "course",
    "courses",
    "semester",
    "college",
    "university",
    "transcript",
    "enrollment",
    "troops",
    "army",
    "military",
    "election",
    "candidate",
    "senator",
    "brexit",
    "treaty",
    "marathon",
    "mileage",
    "runners",
    "jeans",
    "pants",
    "haircut",
    "condom",
    "condoms",
    "contraception",
    "netflix",
    "cuteness",
    "memes",
];
/// Phrases of [`PHRASES`] with an everyday sense, graded like the words above: someone cut
/// you off in traffic, jumped off the high dive, gave away baby clothes, read of a shortage.
const EVERYDAY_PHRASES: &[&str] = &["cut me off", "jumping off", "giving away my", "shortage", "cold turkey"];
/// Short words of that kind, matched whole.
const EVERYDAY_WORDS: &[&str] = &["od", "ods", "oded", "oding", "odeing"];

/// Real words within typo distance of a crisis word: never read as typos.
const NOT_TYPOS: &[&str] = &[
    "overdone",
    "overdue",
    "overuse",
    "overused",
    "overrode",
    "overdraw",
    "overdrawn",
    "overdraft",
    "overdrive",
    "leisure",
    "subside",
    "subsided",
    "seize",
    "seized",
    "withhold",
    "abstinent",
    "overdoes", // handled below as a deliberate misspelling, not via fuzzy
];

/// Phrases that describe a crisis without naming it (normalized when the detector is built).
const PHRASES: &[(&str, CrisisKind)] = &[
    // Stopping abruptly, running out.
    ("cold turkey", W),
    ("ran out of", W),
    ("run out of", W),
    ("running out of", W),
    ("out of my pills", W),
    ("out of pills", W),
    ("out of my meds", W),
    ("out of my klonopin", W),
    ("rebound anxiety", W),
    ("interdose", W),
    ("without my pills", W),
    ("without my meds", W),
    ("dejar de tomar", W),
    ("deje de tomar", W),
    ("no he tomado", W),
    ("no tomo", W),
    ("sin tomar", W),
    ("already out", W),
    ("discontinuation", W),
    // Cut off from supply: a doctor who stops prescribing, a pharmacy without stock.
    ("out of stock", W),
    ("refused to continue", W),
    ("refused to refill", W),
    ("refuses to refill", W),
    ("wont refill", W),
    ("wouldnt refill", W),
    ("stopped prescribing", W),
    ("cut me off", W),
    ("havent had any for", W),
    ("have not had any for", W),
    ("hadnt had any for", W),
    ("havent had any since", W),
    ("have not had any since", W),
    ("shortage", W),
    ("cant fill", W),
    ("wont fill", W),
    ("cant get my refill", W),
    ("cant get a refill", W),
    ("cant refill", W),
    ("cant get my prescription", W),
    ("insurance lapsed", W),
    ("lost my insurance", W),
    ("insurance wont cover", W),
    ("none left", W),
    ("no pills left", W),
    ("have nothing left", W),
    ("discharged me without", W),
    ("doesnt prescribe", W),
    ("wont prescribe", W),
    ("stop prescribing", W),
    ("wants me off", W),
    ("taking me off", W),
    ("took me off", W),
    ("get me off", W),
    ("cut me from", W),
    ("dropped me from", W),
    ("reduced me from", W),
    ("my plug", W),
    ("come down safely", W),
    // Symptoms that name withdrawal without the word.
    ("brain zaps", W),
    ("brain zap", W),
    ("electric zaps", W),
    ("zaps in my head", W),
    // Too much, emergencies.
    ("overdoes", O),
    ("took too many", O),
    ("take too many", O),
    ("taken too many", O),
    ("too many pills", O),
    ("too many pins", O),
    ("too many tablets", O),
    ("took too much", O),
    ("taken too much", O),
    ("whole bottle", O),
    ("entire bottle", O),
    ("whole pack", O),
    ("whole prescription", O),
    ("a handful of", O),
    ("wont wake", O),
    ("won t wake", O),
    ("cant wake", O),
    ("can not wake", O),
    ("cannot wake", O),
    ("wouldnt wake", O),
    ("not waking up", O),
    ("wont respond", O),
    ("not responding", O),
    ("not breathing", O),
    ("stopped breathing", O),
    ("cant breathe", O),
    ("cant breath", O),
    ("barely breathing", O),
    ("trouble breathing", O),
    ("hard to breathe", O),
    ("struggling to breathe", O),
    ("shallow breathing", O),
    ("slow breathing", O),
    ("breathing slowly", O),
    ("blue lips", O),
    ("lips are blue", O),
    ("lips turning blue", O),
    ("turning blue", O),
    ("passed out", O),
    ("collapsed", O),
    ("poison control", O),
    ("poison help", O),
    ("no respira", O),
    ("no despierta", O),
    ("no reacciona", O),
    ("demasiadas pastillas", O),
    ("muchas pastillas", O),
    ("tomo demasiado", O),
    ("tomo demasiadas", O),
    ("tome demasiadas", O),
    ("tome demasiado", O),
    // Italian, French and Portuguese: someone who will not wake or breathe, too many pills.
    ("non si sveglia", O),
    ("non respira", O),
    ("troppe compresse", O),
    ("troppe pillole", O),
    ("sovradosaggio", O),
    ("ne se reveille pas", O),
    ("ne respire plus", O),
    ("trop de comprimes", O),
    ("trop de pilules", O),
    ("nao acorda", O),
    ("nao respira", O),
    ("comprimidos demais", O),
    ("remedios demais", O),
    ("superdosagem", O),
    ("double dose", O),
    ("double dosed", O),
    ("doubled my dose", O),
    ("triple dose", O),
    ("way too many", O),
    ("foaming at the mouth", O),
    ("nodding out", O),
    ("wont stay awake", O),
    ("cant stay awake", O),
    ("cant keep him awake", O),
    ("cant keep her awake", O),
    // Signs of too much (#11): speech and walking as if drunk, an emptied container, a dose
    // repeated.
    ("slurring", O),
    ("slurred", O),
    ("acting drunk", O),
    ("cant walk straight", O),
    ("pill organizer is empty", O),
    ("no puede hablar bien", O),
    ("sin poder hablar bien", O),
    ("no habla claro", O),
    ("arrastrando las palabras", O),
    ("habla arrastrando", O),
    ("pastillero vacio", O),
    ("pastillero esta vacio", O),
    ("repitio la dosis", O),
    ("tomo el doble", O),
    ("call 911", O),
    ("called 911", O),
    ("calling 911", O),
    // Self-harm.
    ("carving into my", S),
    ("carving words into", S),
    ("carved into my", S),
    ("kill myself", S),
    ("killing myself", S),
    ("kill my self", S),
    ("end my life", S),
    ("ending my life", S),
    ("end it all", S),
    ("take my own life", S),
    ("take my life", S),
    ("want to die", S),
    ("wanna die", S),
    ("want to be dead", S),
    ("wish i was dead", S),
    ("wish i were dead", S),
    ("better off dead", S),
    ("dont want to live", S),
    ("dont want to be alive", S),
    ("dont want to be here anymore", S),
    ("no reason to live", S),
    ("not worth living", S),
    ("hurt myself", S),
    ("hurting myself", S),
    ("harm myself", S),
    ("harming myself", S),
    ("self harm", S),
    ("cut myself", S),
    ("cutting myself", S),
    ("me quiero morir", S),
    ("quiero morir", S),
    ("quiero matarme", S),
    ("me quiero matar", S),
    ("no quiero vivir", S),
    ("quitarme la vida", S),
    ("hacerme dano", S),
    ("better off without me", S),
    ("ending things", S),
    ("end things", S),
    ("to be over", S),
    ("never wake up", S),
    ("not wake up", S),
    ("jump off a", S),
    ("jump off the", S),
    ("point in living", S),
    ("point of living", S),
    ("reason to live", S),
    ("cut again", S),
    ("cutting again", S),
    ("me corto", S),
    ("cortarme", S),
    ("sewerslide", S),
    ("dont want to wake up", S),
    ("no longer be here", S),
    ("not be here anymore", S),
    ("wish i wouldnt wake up", S),
    ("wish i didnt wake up", S),
    ("wish i would not wake up", S),
    ("hope i dont wake up", S),
    ("hope i wont wake up", S),
    ("para no despertar", S),
    // A seizure, in other words.
    ("had a fit", O),
    ("having a fit", O),
    ("shaking on the floor", O),
    // Emergencies in lay words; a child into the pills (one tablet can be too many for them).
    ("making snoring sounds", O),
    ("eyes rolled back", O),
    ("cant rouse", O),
    ("wont rouse", O),
    ("got into my pills", O),
    ("got into my klonopin", O),
    ("got into my meds", O),
    ("got into the pills", O),
    ("got into my bottle", O),
    ("found my klonopin bottle", O),
    ("found my pills", O),
    ("few are missing", O),
    ("some are missing", O),
    ("pills are missing", O),
    ("swallowed some", O),
    ("ate some of my", O),
    ("swallowed one of my", O),
    ("ate one of my", O),
    // Asking how much would kill, planning, goodbyes.
    ("lethal dose", S),
    ("fatal dose", S),
    ("how many would it take", S),
    ("how many would kill", S),
    ("how many to die", S),
    ("how much would kill", S),
    ("enough to kill", S),
    ("enough to die", S),
    ("ways to die", S),
    ("way to die", S),
    ("painless way", S),
    ("least painful way", S),
    ("how to kill", S),
    ("saving up my", S),
    ("stockpiling", S),
    ("hoarding my", S),
    ("tonights the night", S),
    ("i have a plan", S),
    ("made a plan to", S),
    ("suicide note", S),
    ("goodbye letter", S),
    ("goodbye letters", S),
    ("wrote letters to everyone", S),
    ("left a note", S),
    ("texted me goodbye", S),
    ("texted goodbye", S),
    ("said goodbye to everyone", S),
    ("saying goodbye to everyone", S),
    ("giving away my", S),
    ("gave away his", S),
    ("gave away her", S),
    ("gave away my", S),
    // Passive wishes and hopelessness, as people put them.
    ("a burden to", S),
    ("im a burden", S),
    ("i am a burden", S),
    ("being a burden", S),
    ("if i was gone", S),
    ("if i were gone", S),
    ("when im gone", S),
    ("after im gone", S),
    ("wont be around much longer", S),
    ("not be around much longer", S),
    ("wont be here much longer", S),
    ("cant do this anymore", S),
    ("cant go on", S),
    ("cant take it anymore", S),
    ("cant take this anymore", S),
    ("want out permanently", S),
    ("want it all to end", S),
    ("want it to end", S),
    ("want it all to stop", S),
    ("want it to stop", S),
    ("wanted it to stop", S),
    ("wanted it all to stop", S),
    ("everything just stops", S),
    ("make it all stop", S),
    ("nothing left to live for", S),
    ("disappear forever", S),
    ("want to disappear", S),
    ("hate myself", S),
    ("dont care if i live", S),
    ("dont care if i die", S),
    ("doesnt care if she lives", S),
    ("doesnt care if he lives", S),
    ("doesnt care if they live", S),
    ("no quiero seguir", S),
    ("hacer dano", S),
    // Methods and self-injury.
    ("hang myself", S),
    ("hanging myself", S),
    ("shoot myself", S),
    ("drown myself", S),
    ("jumping off", S),
    ("jump in front of", S),
    ("step in front of", S),
    ("into a wall", S),
    ("crash my car", S),
    ("gun to my head", S),
    ("use it on myself", S),
    ("using it on myself", S),
    ("hitting myself", S),
    ("hit myself", S),
    ("punching myself", S),
    ("banging my head", S),
    ("scratching myself", S),
    ("burned myself", S),
    ("burnt myself", S),
    // Found missing on tuning set D (2026-12-01).
    ("strangle myself", S),
    ("strangled myself", S),
    ("strangling myself", S),
    ("choke myself", S),
    ("choking myself", S),
    ("suffocate myself", S),
    ("stab myself", S),
    ("stabbing myself", S),
    ("poison myself", S),
    ("poisoning myself", S),
    ("off myself", S),
    ("offing myself", S),
    ("end myself", S),
    ("slit my wrists", S),
    ("cut my wrists", S),
    ("bleed out", S),
    ("bleeding out", S),
    ("me tuer", S),
    ("me matar", S),
    ("mich umbringen", S),
    ("mich toten", S),
    ("cuts all over", S),
    // Spanish, from the Spanish tuning set (tests/data/crisis/tune-es-*.tsv).
    ("nadie me va a extranar", S),
    ("nadie me extranaria", S),
    ("nadie me va a echar de menos", S),
    ("nadie me echaria de menos", S),
    ("tengo la navaja", S),
    ("tengo una navaja", S),
    ("tengo la cuchilla", S),
    ("tengo una cuchilla", S),
    ("me diga que no lo haga", S),
    ("dime que no lo haga", S),
    ("decime que no lo haga", S),
    ("convenceme de no", S),
    ("tomar para que no duela", S),
    ("dosis letal", O),
    ("se desmayo", O),
    ("se desmaya", O),
    ("le di sin querer", O),
    ("le dio sin querer", O),
    ("le di por error", O),
    ("le dio por error", O),
    ("se tomo sin querer", O),
    ("se tomo por error", O),
];

/// Amounts that, in an overdose, suggest it was meant.
const ALL_OF_IT: &[&str] = &[
    " whole bottle ",
    " entire bottle ",
    " whole pack ",
    " whole box ",
    " all my pills ",
    " all of my pills ",
    " all his pills ",
    " all her pills ",
    " all of his pills ",
    " all of her pills ",
    " all of them ",
];

/// Everyday phrases that contain a crisis word in another sense. Only these exact phrases
/// are set aside, so a crisis said anywhere else in the message is still found ("in
/// withdrawal and can't withdraw money" is still withdrawal).
const NOT_CRISIS: &[&str] = &[
    "withdraw money",
    "withdraw cash",
    "withdraw some money",
    "cold turkey sandwich",
    "turkey sandwich",
    "suicide squad",
    "suicide door",
    "suicide doors",
    "suicide squeeze",
    "run suicides",
    "running suicides",
    "ran suicides",
    "police seizure",
    "seizure disorder",
    "seizure disorders",
    "od of a",
    "mg od",
    // Spanish idioms: dying of shame, laughter, hunger, sleep... ("me quiero morir de la
    // verguenza jaja"); and not wanting to go on with a job or a medicine.
    "morir de la verguenza",
    "morir de verguenza",
    "morirme de la verguenza",
    "morirme de verguenza",
    "morir de risa",
    "morirme de risa",
    "morir de hambre",
    "morirme de hambre",
    "morir de sueno",
    "morirme de sueno",
    "morir de calor",
    "morirme de calor",
    "morir de frio",
    "morirme de frio",
    "morir de aburrimiento",
    "morirme de aburrimiento",
    "morir de ganas",
    "morirme de ganas",
    "morir de envidia",
    "morirme de envidia",
    "no quiero seguir tomando",
    "no quiero seguir usando",
    "no quiero seguir trabajando",
    "no quiero seguir estudiando",
    "no quiero seguir pagando",
    "no quiero seguir con este trabajo",
    "no quiero seguir en este trabajo",
];

/// A word from `first`, then within `within` words one from `then`: a crisis described
/// rather than named ("stopped taking it", "took a bunch of pins", "wants to die").
struct Near {
    first: &'static [&'static str],
    then: &'static [&'static str],
    within: usize,
    kind: CrisisKind,
    /// Also look before the first word ("breathing is shallow" and "shallow breathing").
    both_ways: bool,
    /// The pair has an everyday sense too ("my son ate dinner"): graded like an everyday
    /// word, so without the drug named it counts only when the classifier agrees.
    everyday: bool,
}

/// The medicine, by name or slang; strong enough to stand after "off", "no", "without".
const DRUG_NAMES: &[&str] = &[
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
const DRUG_REFS: &[&str] = &[
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

const NEAR: &[Near] = &[
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
const NOT_FIRST_BEFORE: &[(&str, &[&str])] = &[("sin", &["querer", "receta", "prescripcion", "problema", "problemas"])];

/// First halves of crisis words people split with a space or hyphen ("over dose").
const SPLIT_HEADS: &[&str] = &["over", "ovr", "with", "wit", "widh", "w", "o", "sobre", "self", "with-", "abs"];

/// Swallowing verbs followed by a large count ("took 12 pins", "took 20mg").
const TAKE_VERBS: &[&str] = &["took", "take", "taken", "ate", "swallowed", "popped", "tomo", "tome"];
const PILL_WORDS: &[&str] = &["pills", "pins", "tabs", "tablets", "bars", "of", "kpins", "klonopin", "pastillas", "k", "clonazepam"];
const NUMBER_WORDS: &[&str] = &[
    "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "dozen",
    "hundred", "cinco", "seis", "diez", "veinte",
];

/// The detector's compiled tables; built once, shared by every caller.
pub struct CrisisDetector {
    words: HashMap<&'static str, CrisisKind>,
    /// For each word that starts a proximity rule, the rules it starts.
    near_by_first: HashMap<&'static str, Vec<&'static Near>>,
    /// None only if the automaton could not be built; phrases are then searched one by one,
    /// slower but with the same answers (a start-up failure must not become a silent hole).
    phrases: Option<AhoCorasick>,
    phrase_kinds: Vec<(String, CrisisKind)>,
}

impl CrisisDetector {
    /// The process-wide detector.
    pub fn get() -> &'static CrisisDetector {
        static DETECTOR: OnceLock<CrisisDetector> = OnceLock::new();
        DETECTOR.get_or_init(CrisisDetector::build)
    }

    fn build() -> CrisisDetector {
        let phrase_kinds: Vec<(String, CrisisKind)> =
            PHRASES.iter().map(|(p, k)| (format!(" {} ", super::normalize::normalize(p)), *k)).collect();
        let phrases = AhoCorasick::builder().match_kind(MatchKind::Standard).build(phrase_kinds.iter().map(|(p, _)| p.as_str())).ok();
        let mut near_by_first: HashMap<&'static str, Vec<&'static Near>> = HashMap::new();
        for rule in NEAR {
            for first in rule.first {
                near_by_first.entry(first).or_default().push(rule);
            }
        }
        CrisisDetector { words: WORDS.iter().copied().collect(), near_by_first, phrases, phrase_kinds }
    }

    /// The crisis kinds a normalized text calls for.
    pub fn detect(&self, normalized: &str) -> CrisisSet {
        self.detect_graded(normalized).all()
    }

    /// The crisis kinds a normalized text calls for, split by how sure the rules are.
    pub fn detect_graded(&self, normalized: &str) -> Graded {
        let mut graded = Graded::default();
        self.scan(normalized, |kind, grade, _| match grade {
            Grade::Sure => graded.sure.insert(kind),
            Grade::Everyday => graded.everyday.insert(kind),
            Grade::Elsewhere => graded.elsewhere.insert(kind),
        });
        // A kind found surely once is sure; found by a plain everyday word once, everyday.
        graded.everyday = CrisisSet(graded.everyday.0 & !graded.sure.0);
        graded.elsewhere = CrisisSet(graded.elsewhere.0 & !graded.sure.0 & !graded.everyday.0);
        graded
    }

    /// Every rule that fired, for `explain`.
    pub fn explain(&self, normalized: &str) -> Vec<CrisisHit> {
        let mut hits = Vec::new();
        self.scan(normalized, |kind, grade, rule| {
            hits.push(CrisisHit { kind, rule: rule(), everyday: grade != Grade::Sure, elsewhere: grade == Grade::Elsewhere })
        });
        hits
    }

    fn scan(&self, normalized: &str, mut found: impl FnMut(CrisisKind, Grade, &dyn Fn() -> String)) {
        let set_aside = set_aside_everyday_senses(normalized);
        let normalized = set_aside.as_deref().unwrap_or(normalized);
        let tokens: Vec<&str> = normalized.split(' ').filter(|t| !t.is_empty()).collect();
        // In a message that names the drug (or is one or two words long), a crisis word
        // means the crisis.
        // Looked for only once a word with an everyday sense fires, and then once.
        let names_drug = std::cell::OnceCell::new();
        let names_drug = || *names_drug.get_or_init(|| tokens.iter().any(|t| names_a_drug(t)));
        let other_sense = std::cell::OnceCell::new();
        let other_sense = || *other_sense.get_or_init(|| tokens.iter().any(|t| OTHER_SENSE.contains(t)));
        // How sure a hit of a word or phrase with an everyday sense is.
        let everyday = || match tokens.len() > 2 && !names_drug() {
            false => Grade::Sure,
            true if other_sense() => Grade::Elsewhere,
            true => Grade::Everyday,
        };
        let word_grade = |word: &str| if has_everyday_sense(word) { everyday() } else { Grade::Sure };
        let mut overdose = false;
        for (i, token) in tokens.iter().enumerate() {
            if let Some((kind, why)) = word_rule(&self.words, token) {
                overdose |= kind == O;
                found(kind, word_grade(token), &|| why.clone());
                continue;
            }
            // Words split by a space or hyphen: "over dose", "with-drawal".
            if let Some(next) = tokens.get(i + 1).filter(|_| SPLIT_HEADS.contains(token)) {
                let joined = format!("{token}{next}");
                if joined.len() >= 6 {
                    if let Some((kind, why)) = word_rule(&self.words, &joined) {
                        overdose |= kind == O;
                        found(kind, word_grade(&joined), &|| format!("\"{token} {next}\" joined: {why}"));
                        continue;
                    }
                }
            }
            for rule in self.near_by_first.get(token).into_iter().flatten() {
                if let Some(reason) = near_rule(rule, &tokens, i) {
                    overdose |= rule.kind == O;
                    // Never "elsewhere": "a pill that fell out of my jeans" is still a child's.
                    let grade = match rule.everyday.then(everyday) {
                        None => Grade::Sure,
                        Some(Grade::Elsewhere) => Grade::Everyday,
                        Some(g) => g,
                    };
                    found(rule.kind, grade, &|| reason.clone());
                }
            }
            if let Some(reason) = pill_count_rule(&tokens, i) {
                overdose = true;
                found(O, Grade::Sure, &|| reason.clone());
            }
        }
        let padded = format!(" {normalized} ");
        let matched: Vec<usize> = match &self.phrases {
            Some(ac) => ac.find_overlapping_iter(&padded).map(|m| m.pattern().as_usize()).collect(),
            None => (0..self.phrase_kinds.len()).filter(|i| padded.contains(&self.phrase_kinds[*i].0)).collect(),
        };
        for index in matched {
            let (phrase, kind) = &self.phrase_kinds[index];
            overdose |= *kind == O;
            let grade = if EVERYDAY_PHRASES.contains(&phrase.trim()) { everyday() } else { Grade::Sure };
            found(*kind, grade, &|| format!("phrase \"{}\"", phrase.trim()));
        }
        if overdose && (padded.contains(" on purpose ") || padded.contains(" intentionally ")) {
            found(S, Grade::Sure, &|| "overdose \"on purpose\"".to_owned());
        }
        // A whole bottle, or every pill, is how intentional overdoses are described: the
        // 988 block belongs beside 911.
        if overdose && names_drug() {
            if let Some(all) = ALL_OF_IT.iter().find(|p| padded.contains(*p)) {
                found(S, Grade::Sure, &|| format!("overdose with \"{}\"", all.trim()));
            }
        }
    }
}

/// Whether a crisis word (or a misspelling of one) also has an everyday sense.
fn has_everyday_sense(token: &str) -> bool {
    EVERYDAY_WORDS.contains(&token)
        || EVERYDAY_SENSE.iter().any(|stem| token.starts_with(stem))
        || fuzzy_crisis_word(token).is_some_and(|(word, _, _)| EVERYDAY_SENSE.iter().any(|stem| word.starts_with(stem)))
}

/// Whether a word names the drug, a pill or a dose ("2mg" too).
fn names_a_drug(token: &str) -> bool {
    in_list(DRUG_NAMES, token)
        || ["benzodiazepine", "benzodiazepines", "tablets", "tabs", "mg", "narcan", "naloxone"].contains(&token)
        || (token.ends_with("mg") && token[..token.len() - 2].bytes().all(|b| b.is_ascii_digit() || b == b'.') && token.len() > 2)
}

/// `normalized` with every [`NOT_CRISIS`] phrase (as whole words) blanked out, if it has any.
fn set_aside_everyday_senses(normalized: &str) -> Option<String> {
    let mut padded: Option<String> = None;
    for phrase in NOT_CRISIS {
        if !normalized.contains(phrase) {
            continue;
        }
        let needle = format!(" {phrase} ");
        let text = padded.get_or_insert_with(|| format!(" {normalized} "));
        while let Some(at) = text.find(&needle) {
            let blank = " ".repeat(needle.len());
            text.replace_range(at..at + needle.len(), &blank);
        }
    }
    padded.filter(|t| t.trim() != normalized).map(|t| t.trim().to_owned())
}

/// A single word that names a crisis: exactly, by its stem, or as a typo.
fn word_rule(words: &HashMap<&'static str, CrisisKind>, token: &str) -> Option<(CrisisKind, String)> {
    if let Some(kind) = words.get(token) {
        return Some((*kind, format!("word \"{token}\"")));
    }
    if let Some((stem, kind)) = STEMS.iter().find(|(stem, _)| token.starts_with(stem)) {
        return Some((*kind, format!("\"{token}\" starts with \"{stem}\"")));
    }
    let (word, kind, d) = fuzzy_crisis_word(token)?;
    Some((kind, format!("\"{token}\" is a typo of \"{word}\" (distance {d})")))
}

fn fuzzy_crisis_word(token: &str) -> Option<(&'static str, CrisisKind, usize)> {
    if token.len() < 5 || !token.is_ascii() || NOT_TYPOS.contains(&token) {
        return None;
    }
    let t = token.as_bytes();
    FUZZY.iter().find_map(|(word, kind)| {
        // One of the first two letters must agree: cheap, and typos rarely hit both.
        let w = word.as_bytes();
        if t[0] != w[0] && t[1] != w[1] {
            return None;
        }
        let max = allowed_typos(token.len().max(word.len()));
        distance_within(token, word, max).map(|d| (*word, *kind, d))
    })
}

/// Whether `token` is one of `list`, or a misspelling of the drug's names when the list
/// holds them ("klonipin" after "stopped").
fn in_list(list: &[&str], token: &str) -> bool {
    list.contains(&token)
        || (token.len() >= 6
            && matches!(token.as_bytes()[0], b'k' | b'c')
            && list.contains(&"klonopin")
            && ["klonopin", "clonazepam"].iter().any(|name| distance_within(token, name, 2).is_some()))
}

fn near_rule(rule: &Near, tokens: &[&str], i: usize) -> Option<String> {
    let first = tokens[i];
    if !rule.first.contains(&first) {
        return None;
    }
    if NOT_FIRST_BEFORE.iter().any(|(word, next)| *word == first && tokens.get(i + 1).is_some_and(|t| next.contains(t))) {
        return None;
    }
    let after = tokens.iter().skip(i + 1).take(rule.within);
    let before = tokens[i.saturating_sub(rule.within)..i].iter();
    let found =
        if rule.both_ways { after.chain(before).find(|t| in_list(rule.then, t)) } else { after.clone().find(|t| in_list(rule.then, t)) };
    found.map(|then| format!("\"{first}\" near \"{then}\""))
}

/// "took 10 pills", "swallowed twenty of my pins", "took 20mg": a swallowing verb, then a
/// count of five or more (or five milligrams or more), then a pill word.
fn pill_count_rule(tokens: &[&str], i: usize) -> Option<String> {
    if !TAKE_VERBS.contains(&tokens[i]) {
        return None;
    }
    let count_at = (i + 1..tokens.len().min(i + 4)).find(|p| is_large_count(tokens[*p]))?;
    let count = tokens[count_at];
    if count.ends_with("mg") {
        return Some(format!("\"{}\" \"{count}\"", tokens[i]));
    }
    let pill = tokens.iter().skip(count_at + 1).take(2).find(|t| PILL_WORDS.contains(t))?;
    Some(format!("\"{}\" \"{count}\" \"{pill}\"", tokens[i]))
}

fn is_large_count(token: &str) -> bool {
    let digits = token.trim_end_matches("mg");
    digits.parse::<u32>().map(|n| n >= 5).unwrap_or(false) || NUMBER_WORDS.contains(&token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize::normalize;

    fn kinds(text: &str) -> Vec<&'static str> {
        CrisisDetector::get().detect(&normalize(text)).iter().map(CrisisKind::name).collect()
    }

    #[test]
    fn detects_and_ignores() {
        let cases: &[(&str, &[&str])] = &[
            ("klonopin withdrawal", &["withdrawal"]),
            ("withdrawl symptoms", &["withdrawal"]),
            ("she took the whole bottle of her klonopin", &["overdose", "self-harm"]),
            ("Entzug von Clonazepam", &["withdrawal"]),
            ("tried to strangle myself last night", &["self-harm"]),
            ("widthdrawal", &["withdrawal"]),
            ("w/d from pins", &["withdrawal"]),
            ("i think he OD'd", &["overdose"]),
            ("she is ODing", &["overdose"]),
            ("O.D.", &["overdose"]),
            ("overdoes", &["overdose"]),
            ("0verdose", &["overdose"]),
            ("I stopped taking it 3 days ago", &["withdrawal"]),
            ("coming off klonopin", &["withdrawal"]),
            ("quit cold turkey", &["withdrawal"]),
            ("he won't wake up", &["overdose"]),
            ("took 20 pills", &["overdose"]),
            ("took 20 pills on purpose", &["overdose", "self-harm"]),
            ("i want to die", &["self-harm"]),
            ("sobredosis de clonazepam", &["overdose"]),
            ("mio padre non si sveglia, ha preso troppe pillole", &["overdose"]),
            ("mon fils ne se réveille pas, il a pris trop de comprimés", &["overdose"]),
            ("minha mãe não acorda, tomou comprimidos demais", &["overdose"]),
            ("síndrome de abstinencia", &["withdrawal"]),
            ("se empastilló mi hermana", &["overdose"]),
            ("se desmayó después de tomarse unas benzos", &["overdose"]),
            ("se tomó mi nena unas gotas de rivotril", &["overdose"]),
            ("le di sin querer mi rivotril a mi hijo", &["overdose"]),
            ("ayuda deje las clonas", &["withdrawal"]),
            ("nadie me va a extrañar", &["self-harm"]),
            ("tengo la navaja en la mano", &["self-harm"]),
            ("me quiero morir", &["self-harm"]),
            ("me quiero morir de la vergüenza jajaja", &[]),
            ("me muero de risa", &[]),
            ("no quiero seguir con este trabajo", &[]),
            ("no quiero seguir", &["self-harm"]),
            ("no quiero seguir viviendo", &["self-harm"]),
            ("mi hija toma clonazepam para la epilepsia", &[]),
            ("se puede comprar rivotril sin receta", &[]),
            ("me quede sin rivotril", &["withdrawal"]),
            ("what is klonopin", &[]),
            ("is it odd to feel sleepy", &[]),
            ("what dose is normal", &[]),
            ("my refill is overdue", &[]),
            ("how to overcome anxiety", &[]),
            ("stop sign", &[]),
            ("come off it, really?", &["withdrawal"]),
            ("I take 2 pills a day", &[]),
            ("my psychiatrist won't refill my klonopin anymore", &["withdrawal"]),
            ("the doctor cut me off last week", &["withdrawal"]),
            ("i keep getting brain zaps since monday", &["withdrawal"]),
            ("I haven't had any for 4 days now", &["withdrawal"]),
            ("every pharmacy in town is out of stock", &["withdrawal"]),
            ("I haven't had any side effects", &[]),
            ("i'm going to overdose tonight", &["overdose", "self-harm"]),
            ("hope i don't wake up tomorrow", &["self-harm"]),
            ("he had a fit after stopping his pins", &["overdose", "withdrawal"]),
            ("everyone would be better if i was gone", &["self-harm"]),
            ("my daughter got into my pills", &["overdose"]),
            ("my son ate 2 of my klonopin", &["overdose"]),
            ("meu filho engoliu uns comprimidos de clonazepam", &["overdose"]),
            ("started carving words into my leg again", &["self-harm"]),
            ("mi mama no habla claro y el pastillero esta vacio", &["overdose"]),
            ("he's slurring and stumbling after his pins", &["overdose"]),
            ("kid at my daycare may have eaten a pill from a parent's bag", &["overdose"]),
            ("my 4 year old ate some of the blue ones", &["overdose"]),
            ("my dog ate my clonazepam", &[]),
            ("i ate before taking my klonopin, is that ok", &[]),
            ("the pharmacy has a shortage and I can't fill it", &["withdrawal"]),
            ("I killed it at work today", &[]),
            ("need to withdraw money at the atm", &[]),
            ("in withdrawal and can't withdraw money", &["withdrawal"]),
            ("watching suicide squad made me want to kill myself", &["self-harm"]),
            ("it's used for seizure disorders, right?", &[]),
            ("we ran the numbers from zero", &[]),
            ("is klonopin still in stock", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(kinds(text), *expected, "text: {text:?}");
        }
    }

    #[test]
    fn a_word_with_an_everyday_sense_is_unsure_only_where_no_drug_is_named() {
        let graded = |t: &str| CrisisDetector::get().detect_graded(&normalize(t));
        let pending = graded("my withdrawal is still pending since monday");
        assert!(pending.sure.is_empty() && pending.everyday.contains(CrisisKind::Withdrawal) && pending.elsewhere.is_empty());
        // With a word of the everyday sense beside it, the rule leaves it to the classifier.
        let bank = graded("my bank charged me a withdrawal fee");
        assert!(bank.sure.is_empty() && bank.everyday.is_empty() && bank.elsewhere.contains(CrisisKind::Withdrawal));
        assert!(graded("tapering my mileage before the marathon").elsewhere.contains(CrisisKind::Withdrawal));
        // Not where the drug is named, and never for a sure rule.
        let drug = graded("klonopin withdrawal is rough today");
        assert!(drug.sure.contains(CrisisKind::Withdrawal) && drug.everyday.is_empty());
        assert!(graded("klonopin withdrawal during my semester abroad").sure.contains(CrisisKind::Withdrawal));
        assert!(graded("i ran out of my pills and the bank is closed").sure.contains(CrisisKind::Withdrawal));
        // Descriptive phrases with an everyday sense are graded the same way.
        assert!(graded("some guy cut me off in traffic").everyday.contains(CrisisKind::Withdrawal));
        assert!(graded("my doctor cut me off my klonopin").sure.contains(CrisisKind::Withdrawal));
        assert!(graded("jumping off the high dive tomorrow").everyday.contains(CrisisKind::SelfHarm));
        // One or two words: a crisis word means the crisis.
        assert!(graded("withdrawal").sure.contains(CrisisKind::Withdrawal));
        // A sure hit of the same kind wins.
        let both = graded("i want to kill myself, my withdrawal from school is pending");
        assert!(both.sure.contains(CrisisKind::SelfHarm) && both.everyday.contains(CrisisKind::Withdrawal));
        assert_eq!(graded("suicide doors on a car").all(), CrisisSet::default());
        // Street names count as naming the drug: "OD" beside them is the overdose.
        for text in ["how many greenies before you od", "is it an od if you take 3 zannies"] {
            assert!(graded(text).sure.contains(CrisisKind::Overdose), "{text}");
        }
    }

    #[test]
    fn every_drug_name_also_counts_after_a_stop_verb() {
        for name in DRUG_NAMES.iter().filter(|n| **n != "pin") {
            assert!(DRUG_REFS.contains(name), "{name} is in DRUG_NAMES but not DRUG_REFS");
        }
        let detect = |t: &str| CrisisDetector::get().detect_graded(&normalize(t)).sure;
        assert!(detect("stopped my greenies 3 days ago and cant sleep").contains(CrisisKind::Withdrawal));
    }

    #[test]
    fn explain_names_the_rule() {
        let hits = CrisisDetector::get().explain(&normalize("withdrawl"));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].kind, CrisisKind::Withdrawal);
        assert!(hits[0].rule.contains("withdr"), "{}", hits[0].rule);
    }
}
