//! The learned classifier: what a message means, beyond the words the rules know.
//!
//! Trained when content loads, from the operators' examples (`responses/examples/`), so an
//! edit is live after a reload. Two heads share one reading of the message
//! ([`features::extract`]: a static sentence embedding and hashed n-grams):
//! - **crisis**: four yes/no outputs: any crisis, then overdose, self-harm and withdrawal;
//! - **intents**: one of the topics or small-talk intents (softmax).
//!
//! The phrase rules in [`super::crisis`] stay the first, high-precision stage; the engine
//! adds what this model finds on top, with the thresholds from `bot.toml`
//! ([`Thresholds`]). Training is deterministic and memoized: the same examples give the
//! same model on one build (floating-point `exp` may differ in the last bits between
//! platforms), and loading the same content twice trains once.

pub mod embedding;
pub mod features;
pub mod logistic;
pub mod report;

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use super::crisis::{CrisisKind, CrisisSet};
use features::{extract, Features};
use logistic::{Linear, Link, Target, Training};

/// The crisis head's outputs, in order.
const CRISIS_OUTPUTS: [Option<CrisisKind>; 4] =
    [None, Some(CrisisKind::Overdose), Some(CrisisKind::SelfHarm), Some(CrisisKind::Withdrawal)];

/// One training message.
#[derive(Clone, Debug, Hash)]
pub struct Example {
    /// The message, normalized.
    pub text: String,
    /// Its intent (index into [`TrainingSet::intents`]), if it has one.
    pub intent: Option<usize>,
    /// Its crisis kinds (empty: a message that is no crisis), or `None` if it does not
    /// train the crisis head (questions of topics that carry a crisis block).
    pub crisis: Option<CrisisSetKey>,
}

/// A [`CrisisSet`] that can be hashed (for memoizing).
#[derive(Clone, Copy, Debug, Default, Hash, PartialEq, Eq)]
pub struct CrisisSetKey(pub [bool; 3]);

impl From<CrisisSet> for CrisisSetKey {
    fn from(set: CrisisSet) -> CrisisSetKey {
        CrisisSetKey([set.contains(CrisisKind::Overdose), set.contains(CrisisKind::SelfHarm), set.contains(CrisisKind::Withdrawal)])
    }
}

impl CrisisSetKey {
    pub fn set(self) -> CrisisSet {
        [CrisisKind::Overdose, CrisisKind::SelfHarm, CrisisKind::Withdrawal]
            .into_iter()
            .zip(self.0)
            .filter_map(|(k, on)| on.then_some(k))
            .collect()
    }
}

/// Everything the classifier learns from.
#[derive(Clone, Debug, Default, Hash)]
pub struct TrainingSet {
    /// Intent names: topic ids, then `smalltalk/<name>` intents.
    pub intents: Vec<String>,
    pub examples: Vec<Example>,
}

/// Where the engine draws its lines (`[model]` in `bot.toml`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Crisis guidance first at or above this "any crisis" probability.
    pub crisis: f32,
    /// A calm check-in question at or above this (and below `crisis`).
    pub check_in: f32,
    /// A rule that fired only on a word with an everyday sense ("bank withdrawal") counts
    /// at or above this "any crisis" probability.
    pub confirm: f32,
    /// Once a crisis is found, every kind at or above this is shown (the likeliest always).
    pub kind: f32,
    /// Answer the top intent outright at or above this probability.
    pub answer: f32,
    /// Offer "did you mean" for topics at or above this.
    pub suggest: f32,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds { crisis: 0.5, check_in: 0.2, confirm: 0.2, kind: 0.35, answer: 0.5, suggest: 0.12 }
    }
}

/// The model's reading of one message.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    /// Probability that the message mentions or describes a crisis.
    pub crisis: f32,
    /// Per kind, most urgent first.
    pub kinds: [(CrisisKind, f32); 3],
    /// Every intent with its probability, most likely first.
    pub intents: Vec<(usize, f32)>,
}

impl Scores {
    /// The crisis kinds these scores call for (empty below the crisis threshold).
    pub fn crisis_kinds(&self, t: &Thresholds) -> CrisisSet {
        if self.crisis < t.crisis {
            return CrisisSet::default();
        }
        let mut set: CrisisSet = self.kinds.iter().filter(|(_, p)| *p >= t.kind).map(|(k, _)| *k).collect();
        if set.is_empty() {
            if let Some((kind, _)) = self.kinds.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
                set.insert(*kind);
            }
        }
        set
    }

    /// Whether to ask "are you or someone with you in danger right now?".
    pub fn check_in(&self, t: &Thresholds) -> bool {
        self.crisis >= t.check_in && self.crisis < t.crisis
    }
}

/// A trained classifier.
pub struct Classifier {
    crisis: Linear,
    intents: Linear,
    /// The training messages, for `explain`'s nearest examples.
    examples: TrainingSet,
    /// Every word of the training messages.
    vocabulary: std::collections::HashSet<String>,
}

impl Classifier {
    /// Trains on `set`, or returns the model already trained on an identical set.
    pub fn train(set: &TrainingSet) -> Arc<Classifier> {
        static TRAINED: Mutex<Vec<(u64, Arc<Classifier>)>> = Mutex::new(Vec::new());
        let mut hasher = Fnv64::default();
        set.hash(&mut hasher);
        let key = hasher.finish();
        // A hit must be the same set, not only the same hash.
        let cached = |cache: &[(u64, Arc<Classifier>)]| {
            cache
                .iter()
                .find(|(k, m)| {
                    *k == key
                        && m.examples.intents == set.intents
                        && m.examples.examples.len() == set.examples.len()
                        && m.examples
                            .examples
                            .iter()
                            .zip(&set.examples)
                            .all(|(a, b)| a.text == b.text && a.intent == b.intent && a.crisis == b.crisis)
                })
                .map(|(_, m)| Arc::clone(m))
        };
        if let Some(model) = TRAINED.lock().ok().and_then(|c| cached(&c)) {
            return model;
        }
        let features = features_of(set);
        let model = Arc::new(Classifier::train_on(set, &features, None));
        if let Ok(mut cache) = TRAINED.lock() {
            // Another thread may have trained the same set meanwhile: keep one.
            if let Some(existing) = cached(&cache) {
                return existing;
            }
            // Two entries: the content a bot serves and the one a reload is checking.
            if cache.len() >= 2 {
                cache.remove(0);
            }
            cache.push((key, Arc::clone(&model)));
        }
        model
    }

    /// Trains on `set` with the given settings, without memoizing: for comparing designs.
    pub fn train_with(set: &TrainingSet, crisis: &Training, intents: &Training) -> Classifier {
        let features = features_of(set);
        Classifier::train_on_with(set, &features, None, crisis, intents)
    }

    /// Trains on the examples whose index `keep` accepts (all if `None`).
    fn train_on(set: &TrainingSet, features: &[Features], keep: Option<&dyn Fn(usize) -> bool>) -> Classifier {
        Classifier::train_on_with(set, features, keep, &Training::crisis(), &Training::intents())
    }

    fn train_on_with(
        set: &TrainingSet,
        features: &[Features],
        keep: Option<&dyn Fn(usize) -> bool>,
        crisis_training: &Training,
        intent_training: &Training,
    ) -> Classifier {
        let kept = |i: usize| keep.is_none_or(|k| k(i));
        let crisis_wanted: Vec<(usize, [f32; 4])> = set
            .examples
            .iter()
            .enumerate()
            .filter(|(i, _)| kept(*i))
            .filter_map(|(i, e)| {
                let kinds = e.crisis?.set();
                let mut w = [0.0; 4];
                for (slot, output) in w.iter_mut().zip(CRISIS_OUTPUTS) {
                    let on = match output {
                        None => !kinds.is_empty(),
                        Some(kind) => kinds.contains(kind),
                    };
                    *slot = if on { 1.0 } else { 0.0 };
                }
                Some((i, w))
            })
            .collect();
        let crisis_targets: Vec<Target> = crisis_wanted.iter().map(|(i, w)| Target { features: &features[*i], wanted: w }).collect();
        let crisis = Linear::train(CRISIS_OUTPUTS.len(), Link::Sigmoid, &crisis_targets, crisis_training);

        let k = set.intents.len();
        let intent_wanted: Vec<(usize, Vec<f32>)> = set
            .examples
            .iter()
            .enumerate()
            .filter(|(i, _)| kept(*i))
            .filter_map(|(i, e)| {
                let intent = e.intent.filter(|n| *n < k)?;
                let mut w = vec![0.0; k];
                w[intent] = 1.0;
                Some((i, w))
            })
            .collect();
        let intent_targets: Vec<Target> = intent_wanted.iter().map(|(i, w)| Target { features: &features[*i], wanted: w }).collect();
        let intents = Linear::train(k.max(1), Link::Softmax, &intent_targets, intent_training);
        let vocabulary = set.examples.iter().flat_map(|e| e.text.split(' ')).filter(|w| !w.is_empty()).map(str::to_owned).collect();
        Classifier { crisis, intents, examples: set.clone(), vocabulary }
    }

    /// What the classifier was trained on.
    pub fn training_set(&self) -> &TrainingSet {
        &self.examples
    }

    /// The intent names, by index.
    pub fn intents(&self) -> &[String] {
        &self.examples.intents
    }

    /// Whether any word of `normalized` occurs in the training messages: a message made only
    /// of words never seen ("zqxj wibble") gets probabilities that mean nothing.
    pub fn knows_a_word(&self, normalized: &str) -> bool {
        normalized.split(' ').any(|w| self.vocabulary.contains(w))
    }

    /// Reads a normalized message.
    pub fn scores(&self, normalized: &str) -> Scores {
        self.scores_of(&extract(normalized))
    }

    fn scores_of(&self, features: &Features) -> Scores {
        let c = self.crisis.probabilities(features);
        let mut intents: Vec<(usize, f32)> = if self.examples.intents.is_empty() {
            Vec::new()
        } else {
            self.intents.probabilities(features).into_iter().enumerate().collect()
        };
        intents.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Scores {
            crisis: c[0],
            kinds: [(CrisisKind::Overdose, c[1]), (CrisisKind::SelfHarm, c[2]), (CrisisKind::Withdrawal, c[3])],
            intents,
        }
    }

    /// The training messages closest in meaning to `normalized` (cosine of embeddings),
    /// best first, for `explain`.
    pub fn nearest(&self, normalized: &str, n: usize) -> Vec<(f32, &Example)> {
        let probe = embedding::embed(normalized);
        let mut all: Vec<(f32, &Example)> = self
            .examples
            .examples
            .iter()
            .map(|e| {
                let v = embedding::embed(&e.text);
                (probe.iter().zip(&v).map(|(a, b)| a * b).sum::<f32>(), e)
            })
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0));
        all.truncate(n);
        all
    }
}

/// Every example's features, in the set's order.
fn features_of(set: &TrainingSet) -> Vec<Features> {
    set.examples.iter().map(|e| extract(&e.text)).collect()
}

/// FNV-1a, 64 bits: a fixed hash (the standard library's may change between Rust
/// versions), so folds and cache keys do not move with the toolchain.
struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Fnv64 {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Out-of-fold predictions: every example scored by a model that did not see it.
pub struct CrossValidation {
    /// Per example (same order as the set): its out-of-fold scores.
    pub scores: Vec<Scores>,
}

/// `folds`-fold cross-validation (examples dealt round-robin after a fixed shuffle).
pub fn cross_validate(set: &TrainingSet, folds: usize) -> CrossValidation {
    let features = features_of(set);
    let folds = folds.max(2);
    let fold_of: Vec<usize> = {
        let mut order: Vec<usize> = (0..set.examples.len()).collect();
        // Deal by a hash of the text, so near-duplicates in one file do not all share a fold
        // by position, and the split is the same on every run and toolchain.
        order.sort_by_key(|&i| {
            let mut h = Fnv64::default();
            set.examples[i].text.hash(&mut h);
            (h.finish(), i)
        });
        let mut fold_of = vec![0; order.len()];
        for (rank, i) in order.into_iter().enumerate() {
            fold_of[i] = rank % folds;
        }
        fold_of
    };
    let mut scores: Vec<Option<Scores>> = vec![None; set.examples.len()];
    for fold in 0..folds {
        let keep = |i: usize| fold_of[i] != fold;
        let model = Classifier::train_on(set, &features, Some(&keep));
        for (i, f) in features.iter().enumerate() {
            if fold_of[i] == fold {
                scores[i] = Some(model.scores_of(f));
            }
        }
    }
    CrossValidation { scores: scores.into_iter().map(|s| s.expect("every example is in one fold")).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize::normalize;

    fn toy() -> TrainingSet {
        let mut examples = Vec::new();
        let mut add = |text: &str, intent: Option<usize>, crisis: Option<&[CrisisKind]>| {
            examples.push(Example {
                text: normalize(text),
                intent,
                crisis: crisis.map(|k| CrisisSetKey::from(k.iter().copied().collect::<CrisisSet>())),
            })
        };
        for t in ["how should i store my pills", "where do i keep my meds safe", "lock box for pills", "keep them away from kids"] {
            add(t, Some(0), Some(&[]));
        }
        for t in ["is it safe while pregnant", "can i take it when pregnant", "breastfeeding on klonopin", "pregnancy and benzos"] {
            add(t, Some(1), Some(&[]));
        }
        for t in ["i want to die", "i am going to end it tonight", "nobody would miss me if i was gone", "i wrote my goodbye letters"] {
            add(t, None, Some(&[CrisisKind::SelfHarm]));
        }
        for t in [
            "he took the whole bottle and wont wake up",
            "she swallowed all her pills",
            "my son ate a handful of pills",
            "he is not breathing right after pills",
        ] {
            add(t, None, Some(&[CrisisKind::Overdose]));
        }
        TrainingSet { intents: vec!["storage".into(), "pregnancy".into()], examples }
    }

    #[test]
    fn a_trained_model_routes_and_flags_unseen_messages() {
        let model = Classifier::train(&toy());
        let t = Thresholds::default();
        let store = model.scores(&normalize("best way to store pills away from kids"));
        assert_eq!(store.intents[0].0, 0);
        let sad = model.scores(&normalize("i just want to die tonight"));
        assert!(sad.crisis_kinds(&t).contains(CrisisKind::SelfHarm), "{sad:?}");
        assert!(store.crisis < sad.crisis);
    }

    #[test]
    fn the_same_set_trains_once_and_a_changed_set_trains_anew() {
        let set = toy();
        let a = Classifier::train(&set);
        let b = Classifier::train(&set);
        assert!(Arc::ptr_eq(&a, &b));
        let mut changed = set.clone();
        changed.examples.pop();
        assert!(!Arc::ptr_eq(&a, &Classifier::train(&changed)));
    }

    #[test]
    fn cross_validation_scores_every_example_once() {
        let set = toy();
        let cv = cross_validate(&set, 4);
        assert_eq!(cv.scores.len(), set.examples.len());
    }

    #[test]
    fn below_the_crisis_threshold_no_kind_and_in_the_band_a_check_in() {
        let t = Thresholds::default();
        let s = Scores {
            crisis: 0.3,
            kinds: [(CrisisKind::Overdose, 0.9), (CrisisKind::SelfHarm, 0.1), (CrisisKind::Withdrawal, 0.1)],
            intents: vec![],
        };
        assert!(s.crisis_kinds(&t).is_empty());
        assert!(s.check_in(&t));
        let s = Scores {
            crisis: 0.8,
            kinds: [(CrisisKind::Overdose, 0.1), (CrisisKind::SelfHarm, 0.2), (CrisisKind::Withdrawal, 0.1)],
            intents: vec![],
        };
        assert_eq!(s.crisis_kinds(&t), [CrisisKind::SelfHarm].into_iter().collect());
        assert!(!s.check_in(&t));
    }
}
