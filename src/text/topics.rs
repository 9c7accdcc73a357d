//! Topic matching: which topics a normalized question is about, how sure we are, and why.
//!
//! Each topic's phrasings and keywords become weighted term sets (rarer words across topics
//! weigh more, so "klonopin" says little and "pregnant" a lot). A question is scored against
//! every phrasing by how much of the phrasing it covers and how much of the question the
//! phrasing explains; typos map to known words through a deletion index in the manner of
//! SymSpell, but with single deletions only (a word and a typo meet if they are equal after
//! dropping at most one letter each: one insertion, deletion or substitution, or a swap), and
//! a bounded edit distance then decides. Lookups stay a few hash probes per word.

use std::collections::HashMap;

use super::fuzzy::{allowed_typos, distance_within};

/// At or above this score the bot answers with the top topic.
pub const ANSWER_THRESHOLD: f32 = 0.45;
/// At or above this score (and below the answer threshold) the bot offers "did you mean".
pub const SUGGEST_THRESHOLD: f32 = 0.25;
/// The best topic must lead the next one by this much to be answered outright.
pub const ANSWER_MARGIN: f32 = 0.02;
/// How many topics "did you mean" offers at most.
pub const MAX_SUGGESTIONS: usize = 3;

/// Words that carry no topic: dropped from questions and phrasings alike.
pub(crate) const STOPWORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "anything", "are", "as", "at", "be", "been", "being", "but", "by", "can", "could", "did", "do",
    "does", "doing", "for", "from", "had", "has", "have", "he", "her", "hers", "him", "his", "how", "i", "if", "im", "in", "into", "is",
    "it", "its", "ive", "just", "know", "me", "my", "of", "on", "or", "our", "please", "really", "she", "should", "so", "some", "tell",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "u", "ur", "us", "was", "we", "were",
    "what", "whats", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your", "hi", "hello", "hey", "thanks",
    "thank", "pls", "plz", "de", "el", "la", "los", "las", "que", "es", "un", "una", "y", "en", "por", "con", "mi", "se", "lo",
];

/// The medicine's own names and slang: in nearly every question, so they say little about
/// which topic is meant. They get a fixed low weight instead of their rarity.
const DRUG_WORDS: &[&str] = &[
    "klonopin",
    "clonazepam",
    "klonnies",
    "klonnie",
    "kpins",
    "kpin",
    "pins",
    "pin",
    "k",
    "klons",
    "klonos",
    "rivotril",
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
    "benzo",
    "benzos",
    "benzodiazepine",
    "medication",
    "medicine",
    "meds",
    "pill",
    "pills",
    "drug",
    "take",
    "taking",
];
const DRUG_WORD_WEIGHT: f32 = 0.3;

/// One topic's phrasings and keywords, as written in its response file.
pub struct TopicPhrases {
    pub phrasings: Vec<String>,
    pub keywords: Vec<String>,
}

/// What to do with a question.
#[derive(Clone, Debug, PartialEq)]
pub enum MatchOutcome {
    /// Confident: answer this topic (index into the topic list).
    Answer(usize),
    /// Close to these topics, best first: ask "did you mean".
    DidYouMean(Vec<usize>),
    /// Not about any topic we know.
    NoMatch,
}

/// A topic's score for one question.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopicScore {
    pub topic: usize,
    pub score: f32,
}

struct Phrase {
    topic: usize,
    terms: Vec<u32>,
    weight: f32,
    keyword: bool,
}

/// The compiled matcher for one response set.
pub struct TopicMatcher {
    vocab: HashMap<String, u32>,
    words: Vec<String>,
    /// Every known word of five letters or more, and each of its one-letter deletions,
    /// to the words it came from.
    deletions: HashMap<String, Vec<u32>>,
    idf: Vec<f32>,
    phrases: Vec<Phrase>,
    postings: Vec<Vec<u32>>,
    topics: usize,
}

impl TopicMatcher {
    pub fn build(topics: &[TopicPhrases]) -> TopicMatcher {
        let mut m = TopicMatcher {
            vocab: HashMap::new(),
            words: Vec::new(),
            deletions: HashMap::new(),
            idf: Vec::new(),
            phrases: Vec::new(),
            postings: Vec::new(),
            topics: topics.len(),
        };
        let mut topic_sets: Vec<Vec<u32>> = Vec::new();
        for (index, topic) in topics.iter().enumerate() {
            let mut seen = Vec::new();
            let sources = topic.phrasings.iter().map(|p| (p, false)).chain(topic.keywords.iter().map(|k| (k, true)));
            for (text, keyword) in sources {
                let normalized = super::normalize::normalize(text);
                let mut terms: Vec<u32> = content_words(&normalized).map(|w| m.intern(w)).collect();
                terms.sort_unstable();
                terms.dedup();
                if terms.is_empty() {
                    continue;
                }
                seen.extend_from_slice(&terms);
                m.phrases.push(Phrase { topic: index, terms, weight: 0.0, keyword });
            }
            seen.sort_unstable();
            seen.dedup();
            topic_sets.push(seen);
        }
        let mut df = vec![0usize; m.words.len()];
        for set in &topic_sets {
            for t in set {
                df[*t as usize] += 1;
            }
        }
        let n = topics.len().max(1) as f32;
        m.idf = df
            .iter()
            .zip(&m.words)
            .map(|(d, word)| if DRUG_WORDS.contains(&word.as_str()) { DRUG_WORD_WEIGHT } else { (1.0 + n / (*d).max(1) as f32).ln() })
            .collect();
        m.postings = vec![Vec::new(); m.words.len()];
        for (pi, phrase) in m.phrases.iter_mut().enumerate() {
            phrase.weight = phrase.terms.iter().map(|t| m.idf[*t as usize]).sum();
            for t in &phrase.terms {
                m.postings[*t as usize].push(pi as u32);
            }
        }
        for (id, word) in m.words.iter().enumerate() {
            if allowed_typos(word.len()) == 0 || !word.is_ascii() {
                continue;
            }
            for variant in std::iter::once(word.clone()).chain(deletions_of(word)) {
                let entry = m.deletions.entry(variant).or_default();
                if !entry.contains(&(id as u32)) {
                    entry.push(id as u32);
                }
            }
        }
        m
    }

    fn intern(&mut self, word: &str) -> u32 {
        if let Some(id) = self.vocab.get(word) {
            return *id;
        }
        let id = self.words.len() as u32;
        self.vocab.insert(word.to_owned(), id);
        self.words.push(word.to_owned());
        id
    }

    /// The known word a question word stands for: itself, or the closest known word within
    /// its typo allowance. Exact matches win, so a known word ("clonidine") is never read as
    /// a typo of another ("clonazepam").
    pub fn resolve(&self, word: &str) -> Option<u32> {
        if let Some(id) = self.vocab.get(word) {
            return Some(*id);
        }
        if allowed_typos(word.len()) == 0 || !word.is_ascii() {
            return None;
        }
        let mut best: Option<(usize, u32)> = None;
        for variant in std::iter::once(word.to_owned()).chain(deletions_of(word)) {
            for id in self.deletions.get(&variant).into_iter().flatten() {
                let known = &self.words[*id as usize];
                let max = allowed_typos(word.len().max(known.len()));
                if let Some(d) = distance_within(word, known, max) {
                    if best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, *id));
                    }
                }
            }
        }
        best.map(|(_, id)| id)
    }

    /// Every topic with a score above zero, best first.
    pub fn scores(&self, normalized: &str) -> Vec<TopicScore> {
        const UNKNOWN_WORD_WEIGHT: f32 = 1.0;
        let mut terms: Vec<u32> = Vec::new();
        let mut query_weight = 0.0;
        for word in content_words(normalized) {
            match self.resolve(word) {
                Some(t) if !terms.contains(&t) => {
                    terms.push(t);
                    query_weight += self.idf[t as usize];
                }
                Some(_) => {}
                None => query_weight += UNKNOWN_WORD_WEIGHT,
            }
        }
        if terms.is_empty() {
            return Vec::new();
        }
        let mut overlap = vec![0.0f32; self.phrases.len()];
        for t in &terms {
            for p in &self.postings[*t as usize] {
                overlap[*p as usize] += self.idf[*t as usize];
            }
        }
        let mut best = vec![0.0f32; self.topics];
        for (pi, phrase) in self.phrases.iter().enumerate() {
            let shared = overlap[pi];
            if shared <= 0.0 {
                continue;
            }
            let phrase_cover = shared / phrase.weight;
            let question_cover = shared / query_weight;
            let score = if phrase.keyword {
                // A keyword counts only whole, and as much as it explains of the question.
                if phrase_cover >= 0.999 {
                    question_cover.powf(0.6)
                } else {
                    0.0
                }
            } else {
                phrase_cover.powf(0.6) * question_cover.powf(0.4)
            };
            let slot = &mut best[phrase.topic];
            *slot = slot.max(score);
        }
        let mut scored: Vec<TopicScore> =
            best.into_iter().enumerate().filter(|(_, s)| *s > 0.0).map(|(topic, score)| TopicScore { topic, score }).collect();
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.topic.cmp(&b.topic)));
        scored
    }

    /// Answer, suggest or give up, by the thresholds above.
    pub fn classify(&self, normalized: &str) -> MatchOutcome {
        outcome(&self.scores(normalized))
    }
}

/// The decision for a list of scores (best first).
pub fn outcome(scores: &[TopicScore]) -> MatchOutcome {
    let Some(top) = scores.first() else { return MatchOutcome::NoMatch };
    let runner_up = scores.get(1).map_or(0.0, |s| s.score);
    if top.score >= ANSWER_THRESHOLD && top.score - runner_up >= ANSWER_MARGIN {
        return MatchOutcome::Answer(top.topic);
    }
    if top.score >= SUGGEST_THRESHOLD {
        let floor = (top.score * 0.6).max(SUGGEST_THRESHOLD);
        let picks = scores.iter().take(MAX_SUGGESTIONS).filter(|s| s.score >= floor).map(|s| s.topic).collect();
        return MatchOutcome::DidYouMean(picks);
    }
    MatchOutcome::NoMatch
}

fn content_words(normalized: &str) -> impl Iterator<Item = &str> {
    normalized.split(' ').filter(|w| !w.is_empty() && !STOPWORDS.contains(w))
}

fn deletions_of(word: &str) -> impl Iterator<Item = String> + '_ {
    (0..word.len()).map(move |i| {
        let mut s = String::with_capacity(word.len() - 1);
        s.push_str(&word[..i]);
        s.push_str(&word[i + 1..]);
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize::normalize;

    fn matcher() -> TopicMatcher {
        let t = |p: &[&str], k: &[&str]| TopicPhrases {
            phrasings: p.iter().map(|s| s.to_string()).collect(),
            keywords: k.iter().map(|s| s.to_string()).collect(),
        };
        TopicMatcher::build(&[
            t(&["what is klonopin", "what is clonazepam used for"], &["benzodiazepine"]),
            t(&["what are the side effects of klonopin"], &["side effects", "drowsiness"]),
            t(&["can i take klonopin while pregnant"], &["pregnant", "pregnancy", "breastfeeding"]),
            t(&["is clonidine the same as clonazepam"], &["clonidine", "catapres"]),
        ])
    }

    #[test]
    fn routes_questions() {
        let m = matcher();
        let cases: &[(&str, MatchOutcome)] = &[
            ("side effects", MatchOutcome::Answer(1)),
            ("klonopin sied effects?", MatchOutcome::Answer(1)),
            ("my wife is pregnent", MatchOutcome::Answer(2)),
            ("what is clonidine", MatchOutcome::Answer(3)),
            ("what is klonipin", MatchOutcome::Answer(0)),
            ("weather in paris tomorrow", MatchOutcome::NoMatch),
        ];
        for (q, expected) in cases {
            assert_eq!(&m.classify(&normalize(q)), expected, "question: {q}");
        }
    }

    #[test]
    fn resolves_typos_but_not_other_known_words() {
        let m = matcher();
        let word = |w: &str| m.resolve(w).map(|id| m.words[id as usize].clone());
        assert_eq!(word("klonipin").as_deref(), Some("klonopin"));
        assert_eq!(word("clonidine").as_deref(), Some("clonidine"));
        assert_eq!(word("xyzzy"), None);
    }
}
