//! Crisis detection: which kinds of crisis guidance a normalized message calls for, and why.
//!
//! Recall is the safety property here. The detector reads the output of
//! [`normalize`](super::normalize::normalize) and looks for: crisis words and their
//! inflections (by stem), their misspellings (bounded edit distance), abbreviations (od, wd),
//! Spanish, and phrases that describe a crisis without naming it ("stopped taking it",
//! "won't wake up", "want to die"). It knows nothing of topics or dialogue state, so it runs
//! first on every text, in every state.
//!
//! The module's parts: `kinds.rs` (the kinds, sets of them, hits and grades), `lexicon.rs`
//! (the word lists and phrases), `near.rs` (proximity rules), and here the detector that
//! compiles them and reads a message.

mod kinds;
mod lexicon;
mod near;

pub use kinds::*;

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

use super::fuzzy::{allowed_typos, distance_within};
use lexicon::*;
use near::*;
use CrisisKind::{Overdose as O, SelfHarm as S};

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
        graded.everyday = graded.everyday.without(graded.sure);
        graded.elsewhere = graded.elsewhere.without(graded.sure).without(graded.everyday);
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
