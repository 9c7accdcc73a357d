//! How the engine reads one text: the phrase rules first, then the classifier, with the
//! thresholds from `bot.toml`.
//!
//! Crisis: the rules' kinds (those found only by a word with an everyday sense, such as
//! "withdrawal" in "my withdrawal is pending", when the classifier finds a crisis at least
//! `[model] confirm` likely; beside a word of that sense, "ATM withdrawal", not at all),
//! plus the kinds the classifier finds at or above its crisis threshold; a message in the
//! band just below gets a calm check-in question instead.
//! Route: the classifier's intent when it is sure, "did you mean" when it is not; without a
//! classifier (a responses folder with no examples), the term matcher decides as before.

use crate::content::{IntentTarget, ResponseSet};
use crate::text::crisis::{CrisisDetector, CrisisSet, Graded};
use crate::text::model::{Scores, Thresholds};
use crate::text::topics::{MatchOutcome, MAX_SUGGESTIONS};

/// What a text calls for.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// Crisis guidance to show first (rules and model together).
    pub crisis: CrisisSet,
    /// Ask "are you or someone with you in danger right now?" before answering.
    pub check_in: bool,
    pub route: Route,
    /// The classifier's scores, when there is one (for `explain`).
    pub scores: Option<Scores>,
}

/// Where the text leads after any crisis guidance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Answer this topic (index into the topic list).
    Topic(usize),
    /// Offer these topics, best first (after crisis guidance: as buttons under it).
    DidYouMean(Vec<usize>),
    /// A small-talk reply, by name.
    SmallTalk(String),
    NoMatch,
}

/// Reads a normalized text.
pub fn read(normalized: &str, content: &ResponseSet) -> Reading {
    let graded = CrisisDetector::get().detect_graded(normalized);
    let Some(model) = content.classifier.as_deref() else {
        let rules = graded.all();
        let route = match content.matcher.classify(normalized) {
            MatchOutcome::Answer(i) => Route::Topic(i),
            MatchOutcome::DidYouMean(picks) => Route::DidYouMean(picks),
            MatchOutcome::NoMatch => Route::NoMatch,
        };
        return Reading { crisis: rules, check_in: false, route, scores: None };
    };
    let t = &content.bot.thresholds;
    let scores = model.scores(normalized);
    // A bare "no" or "yes" answers a question; the classifier, which learnt "no respira" and
    // "no quiero vivir", reads a crisis into it (measured: "no" at 0.97).
    let bare_answer = super::yes_no(normalized).is_some();
    let model_kinds = if bare_answer { CrisisSet::default() } else { scores.crisis_kinds(t) };
    let crisis = rules_with(graded, &scores, t).union(model_kinds);
    let check_in = crisis.is_empty() && !bare_answer && content.bot.check_in.is_some() && scores.check_in(t);
    let route = if model.knows_a_word(normalized) {
        match route(&scores, normalized, content, !crisis.is_empty()) {
            // "ATM withdrawal limit": the word that led to a topic opening with crisis
            // guidance was read in its other sense, and nothing else found that crisis.
            Route::Topic(i) if content.topics[i].crisis.is_some_and(|k| graded.elsewhere.contains(k) && !crisis.contains(k)) => {
                Route::NoMatch
            }
            other => other,
        }
    } else {
        // No word the examples ever used: the probabilities mean nothing, but the term
        // matcher's typo tolerance may still know a misspelt topic word ("pregnacy").
        match content.matcher.classify(normalized) {
            MatchOutcome::Answer(i) if crisis.is_empty() => Route::Topic(i),
            _ => Route::NoMatch,
        }
    };
    Reading { crisis, check_in, route, scores: Some(scores) }
}

/// Only the crisis kinds (for places that answer nothing else: a group message, a command's
/// payload, the "for whom?" gate).
pub fn crisis_of(normalized: &str, content: &ResponseSet) -> CrisisSet {
    // Every group message comes here: no routing, no term matcher, only the crisis kinds.
    let graded = CrisisDetector::get().detect_graded(normalized);
    match content.classifier.as_deref() {
        Some(model) => {
            let (scores, t) = (model.scores(normalized), &content.bot.thresholds);
            let model_kinds = if super::yes_no(normalized).is_some() { CrisisSet::default() } else { scores.crisis_kinds(t) };
            rules_with(graded, &scores, t).union(model_kinds)
        }
        None => graded.all(),
    }
}

/// The rules' kinds: the sure ones, and those found only by a word with an everyday sense
/// when the classifier also finds a crisis likely enough (`[model] confirm`). Where the
/// message also has a word of that everyday sense ("ATM withdrawal"), the rule adds nothing:
/// the classifier's own crisis threshold decides (`graded.elsewhere` is left out).
fn rules_with(graded: Graded, scores: &Scores, t: &Thresholds) -> CrisisSet {
    if scores.crisis >= t.confirm {
        graded.sure.union(graded.everyday)
    } else {
        graded.sure
    }
}

fn route(scores: &Scores, normalized: &str, content: &ResponseSet, guided: bool) -> Route {
    let t = &content.bot.thresholds;
    let Some(&(top, p)) = scores.intents.first() else { return Route::NoMatch };
    if p >= t.answer {
        return match content.intents.get(top) {
            Some(IntentTarget::Topic(i)) => Route::Topic(*i),
            Some(IntentTarget::SmallTalk(name)) => Route::SmallTalk(name.clone()),
            None => Route::NoMatch,
        };
    }
    // Not sure: the term matcher, precise on questions close to a topic's phrasings, answers
    // if the model finds that topic plausible too (measured on routing.tsv, a development
    // set: 77% right by the model alone, 94% with this fallback).
    // After crisis guidance an unsure answer would only push the guidance up the screen: the
    // likeliest topics become buttons under it instead (the engine puts them there).
    if !guided {
        if let MatchOutcome::Answer(i) = content.matcher.classify(normalized) {
            let plausible = scores.intents.iter().any(|(n, p)| *p >= t.suggest && content.intents.get(*n) == Some(&IntentTarget::Topic(i)));
            if plausible {
                return Route::Topic(i);
            }
        }
    }
    let picks: Vec<usize> = scores
        .intents
        .iter()
        .filter(|(_, p)| *p >= t.suggest)
        .filter_map(|(i, _)| match content.intents.get(*i) {
            Some(IntentTarget::Topic(topic)) => Some(*topic),
            _ => None,
        })
        .take(MAX_SUGGESTIONS)
        .collect();
    if picks.is_empty() {
        Route::NoMatch
    } else {
        Route::DidYouMean(picks)
    }
}
