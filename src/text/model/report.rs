//! What `klonopin-bot check` says of the classifier: cross-validated figures per class, the
//! worst confusions, and the thresholds the training data supports.
//!
//! Every figure here comes from out-of-fold predictions on the training examples only: a
//! hold-out must never choose a threshold.

use serde::Serialize;

use super::{cross_validate, Thresholds, TrainingSet};
use crate::text::crisis::CrisisKind;

/// Folds for cross-validation.
pub const FOLDS: usize = 5;
/// The crisis threshold suggested is the lowest that keeps out-of-fold false alarms at or
/// under this share of the messages that are no crisis.
pub const CRISIS_FALSE_ALARMS: f32 = 0.04;
/// Likewise for the check-in band (guidance or a check-in question).
pub const CHECK_IN_FALSE_ALARMS: f32 = 0.12;
/// The answer threshold suggested is the lowest at which the out-of-fold top intent is right
/// at least this often among the examples it would answer: a wrong answer costs more than a
/// "did you mean".
pub const ANSWER_PRECISION: f32 = 0.9;

#[derive(Clone, Debug, Serialize)]
pub struct ModelReport {
    pub examples: usize,
    pub crisis_examples: usize,
    pub no_crisis_examples: usize,
    /// At the thresholds in `bot.toml`.
    pub crisis_recall: f32,
    /// Self-harm messages whose reply shows the self-harm block (988).
    pub self_harm_recall: f32,
    pub crisis_false_alarms: f32,
    pub crisis_or_check_in_recall: f32,
    pub crisis_or_check_in_false_alarms: f32,
    pub suggested_crisis: f32,
    pub suggested_check_in: f32,
    /// With the share of intent examples it answers and how many of those are right.
    pub suggested_answer: f32,
    pub answered_at_suggested: f32,
    pub answered_right_at_suggested: f32,
    pub intent_accuracy: f32,
    /// Per intent: name, examples, out-of-fold top-1 accuracy.
    pub per_intent: Vec<(String, usize, f32)>,
    /// (wanted, predicted, count), most frequent first.
    pub confusions: Vec<(String, String, usize)>,
}

pub fn report(set: &TrainingSet, t: &Thresholds) -> ModelReport {
    let cv = cross_validate(set, FOLDS);
    let mut pos = Vec::new();
    let mut self_harm = Vec::new();
    let mut neg = Vec::new();
    for (e, s) in set.examples.iter().zip(&cv.scores) {
        let Some(kinds) = e.crisis.map(|k| k.set()) else { continue };
        if kinds.is_empty() {
            neg.push(s.crisis);
        } else {
            pos.push(s.crisis);
            if kinds.contains(CrisisKind::SelfHarm) {
                // The self-harm block (988) shown, not only some guidance.
                self_harm.push(if s.crisis_kinds(t).contains(CrisisKind::SelfHarm) { 1.0 } else { 0.0 });
            }
        }
    }
    let share = |xs: &[f32], at: f32| if xs.is_empty() { 0.0 } else { xs.iter().filter(|x| **x >= at).count() as f32 / xs.len() as f32 };
    let lowest = |limit: f32| (1..100).map(|i| i as f32 / 100.0).find(|&at| share(&neg, at) <= limit).unwrap_or(0.99);

    let k = set.intents.len();
    // (top probability, right) per intent example, for the answer threshold.
    let tops: Vec<(f32, bool)> =
        set.examples.iter().zip(&cv.scores).filter_map(|(e, s)| Some((s.intents.first()?.1, s.intents.first()?.0 == e.intent?))).collect();
    let answered = |at: f32| {
        let above: Vec<&(f32, bool)> = tops.iter().filter(|(p, _)| *p >= at).collect();
        let right = above.iter().filter(|(_, r)| *r).count();
        let share = if tops.is_empty() { 0.0 } else { above.len() as f32 / tops.len() as f32 };
        (share, if above.is_empty() { 1.0 } else { right as f32 / above.len() as f32 })
    };
    let suggested_answer = (1..100).map(|i| i as f32 / 100.0).find(|&at| answered(at).1 >= ANSWER_PRECISION).unwrap_or(0.99);
    let (answered_share, answered_right) = answered(suggested_answer);
    let mut per = vec![(0usize, 0usize); k];
    let mut confusions = std::collections::BTreeMap::new();
    for (e, s) in set.examples.iter().zip(&cv.scores) {
        let (Some(want), Some(&(got, _))) = (e.intent, s.intents.first()) else { continue };
        per[want].1 += 1;
        if got == want {
            per[want].0 += 1;
        } else {
            *confusions.entry((want, got)).or_insert(0usize) += 1;
        }
    }
    let mut confusions: Vec<(String, String, usize)> =
        confusions.into_iter().map(|((w, g), n)| (set.intents[w].clone(), set.intents[g].clone(), n)).collect();
    confusions.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    confusions.truncate(8);
    let right: usize = per.iter().map(|p| p.0).sum();
    let all: usize = per.iter().map(|p| p.1).sum();
    ModelReport {
        examples: set.examples.len(),
        crisis_examples: pos.len(),
        no_crisis_examples: neg.len(),
        crisis_recall: share(&pos, t.crisis),
        self_harm_recall: share(&self_harm, 0.5),
        crisis_false_alarms: share(&neg, t.crisis),
        crisis_or_check_in_recall: share(&pos, t.check_in),
        crisis_or_check_in_false_alarms: share(&neg, t.check_in),
        suggested_crisis: lowest(CRISIS_FALSE_ALARMS),
        suggested_check_in: lowest(CHECK_IN_FALSE_ALARMS),
        suggested_answer,
        answered_at_suggested: answered_share,
        answered_right_at_suggested: answered_right,
        intent_accuracy: if all == 0 { 0.0 } else { right as f32 / all as f32 },
        per_intent: set
            .intents
            .iter()
            .zip(&per)
            .map(|(n, p)| (n.clone(), p.1, if p.1 == 0 { 0.0 } else { p.0 as f32 / p.1 as f32 }))
            .collect(),
        confusions,
    }
}

impl std::fmt::Display for ModelReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = |x: f32| format!("{:.1}%", 100.0 * x);
        writeln!(f, "model: {} examples; {FOLDS}-fold cross-validation on them (training data only)", self.examples)?;
        writeln!(
            f,
            "  crisis ({} crisis, {} not): guidance {} (self-harm {}), false alarms {}; guidance or check-in {}, false alarms {}",
            self.crisis_examples,
            self.no_crisis_examples,
            p(self.crisis_recall),
            p(self.self_harm_recall),
            p(self.crisis_false_alarms),
            p(self.crisis_or_check_in_recall),
            p(self.crisis_or_check_in_false_alarms)
        )?;
        writeln!(
            f,
            "  thresholds these examples support: crisis = {:.2} (false alarms <= {}), check_in = {:.2} (<= {})",
            self.suggested_crisis,
            p(CRISIS_FALSE_ALARMS),
            self.suggested_check_in,
            p(CHECK_IN_FALSE_ALARMS)
        )?;
        writeln!(f, "  intents: top-1 accuracy {}; answer = {:.2} is the lowest threshold whose answers are right >= {} (it answers {} of the examples, {} of those right)",
            p(self.intent_accuracy), self.suggested_answer, p(ANSWER_PRECISION), p(self.answered_at_suggested), p(self.answered_right_at_suggested))?;
        let mut worst: Vec<&(String, usize, f32)> = self.per_intent.iter().collect();
        worst.sort_by(|a, b| a.2.total_cmp(&b.2));
        for (name, n, acc) in worst.iter().take(5) {
            writeln!(f, "    weakest: {name} {} of {n}", p(*acc))?;
        }
        for (want, got, n) in &self.confusions {
            writeln!(f, "    confused: {want} -> {got} ({n})")?;
        }
        Ok(())
    }
}
