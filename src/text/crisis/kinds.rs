//! The kinds of crisis guidance, sets of them, and what the rules report (hits and grades).

use serde::{Deserialize, Serialize};

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
    /// The kinds of `self` that are not in `other`.
    pub fn without(self, other: CrisisSet) -> CrisisSet {
        CrisisSet(self.0 & !other.0)
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
/// (`OTHER_SENSE` (in `lexicon.rs`): "ATM", "semester", "troops", "marathon"): there the rule says nothing
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
pub(super) enum Grade {
    Sure,
    Everyday,
    Elsewhere,
}
