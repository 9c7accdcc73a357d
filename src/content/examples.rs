//! `responses/examples/`: the messages the classifier learns from, one per line.
//!
//! Plain text so that operators can add a phrasing the way they would write it down:
//! - `examples/topics/<topic-id>.txt`: questions that topic answers;
//! - `examples/crisis/<kind>.txt` (`overdose`, `withdrawal`, `self-harm`): messages that
//!   mention or describe that crisis (a message in two files has both kinds);
//! - `examples/not-crisis.txt`: messages that sound like a crisis and are not ("to die
//!   for", "bank withdrawal", "taper fade");
//! - `examples/smalltalk/<intent>.txt`: greetings, thanks, ...; each intent's reply is in
//!   `bot.toml`'s `[smalltalk]` table.
//!
//! Blank lines and lines starting with `#` are skipped. Topic phrasings and keywords train
//! the router too. Problems are diagnostics at their `file:line:col`.

use std::collections::HashMap;

use super::diagnostic::{Diagnostic, Severity};
use super::SourceFile;
use crate::text::crisis::{CrisisDetector, CrisisKind, CrisisSet};
use crate::text::model::{CrisisSetKey, Example, TrainingSet};
use crate::text::normalize::normalize;

/// Fewer examples than this for a class is a warning: the model cannot learn it well.
pub const MIN_EXAMPLES: usize = 20;

/// What an intent leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentTarget {
    /// Index into the topic list.
    Topic(usize),
    /// A `[smalltalk]` reply, by name.
    SmallTalk(String),
}

/// One topic as the examples need it.
pub struct TopicInfo<'a> {
    pub id: &'a str,
    pub crisis: Option<CrisisKind>,
    pub phrasings: &'a [String],
    pub keywords: &'a [String],
}

/// Whether a path belongs to the examples.
pub fn is_example_file(relative: &str) -> bool {
    relative.starts_with("examples/") && relative.ends_with(".txt")
}

/// The training set, what each intent leads to, and the problems found.
pub fn collect(files: &[SourceFile], topics: &[TopicInfo], smalltalk: &[String]) -> (TrainingSet, Vec<IntentTarget>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut intents: Vec<String> = topics.iter().map(|t| t.id.to_owned()).collect();
    let mut targets: Vec<IntentTarget> = (0..topics.len()).map(IntentTarget::Topic).collect();
    for name in smalltalk {
        intents.push(format!("smalltalk/{name}"));
        targets.push(IntentTarget::SmallTalk(name.clone()));
    }
    let topic_index: HashMap<&str, usize> = topics.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let smalltalk_index: HashMap<&str, usize> = smalltalk.iter().enumerate().map(|(i, n)| (n.as_str(), topics.len() + i)).collect();

    // normalized text -> (intent, crisis kinds or None, where first seen)
    let mut merged: Vec<Example> = Vec::new();
    let mut by_text: HashMap<String, usize> = HashMap::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut add =
        |text: &str, intent: Option<usize>, crisis: Option<CrisisSet>, at: Option<(&SourceFile, usize)>, diags: &mut Vec<Diagnostic>| {
            let normalized = normalize(text);
            if normalized.is_empty() {
                return;
            }
            match by_text.get(&normalized) {
                None => {
                    by_text.insert(normalized.clone(), merged.len());
                    merged.push(Example { text: normalized, intent, crisis: crisis.map(CrisisSetKey::from) });
                }
                Some(&i) => {
                    let e = &mut merged[i];
                    if let (Some(new), Some(old)) = (intent, e.intent) {
                        if new != old {
                            if let Some((file, line)) = at {
                                diags.push(warning(
                                    file,
                                    line,
                                    format!(
                                        "this example is also an example of \"{}\": it trains only the first",
                                        intents_name(old, topics, smalltalk)
                                    ),
                                ));
                            }
                        }
                    }
                    e.intent = e.intent.or(intent);
                    e.crisis = match (e.crisis, crisis) {
                        // One file says crisis, another says not: a crisis wins (recall first).
                        (Some(a), Some(b)) => Some(CrisisSetKey::from(a.set().union(b))),
                        (None, b) => b.map(CrisisSetKey::from),
                        (a, None) => a,
                    };
                }
            }
        };

    // A question of a topic without a crisis block is "no crisis" for the crisis head, unless
    // the rules find one in it ("will my baby go through withdrawal"): such a message gets
    // guidance anyway, and training it as "no crisis" would teach the opposite.
    let topic_crisis = |t: &TopicInfo, text: &str| -> Option<CrisisSet> {
        if t.crisis.is_some() || !CrisisDetector::get().detect(&normalize(text)).is_empty() {
            None
        } else {
            Some(CrisisSet::default())
        }
    };
    for (i, t) in topics.iter().enumerate() {
        for p in t.phrasings.iter().chain(t.keywords) {
            add(p, Some(i), topic_crisis(t, p), None, &mut diags);
            *counts.entry(t.id.to_owned()).or_default() += 1;
        }
    }
    for file in files.iter().filter(|f| is_example_file(&f.relative)) {
        let rel = &file.relative["examples/".len()..];
        let stem = rel.trim_end_matches(".txt");
        let (intent, crisis, class): (Option<usize>, Option<CrisisSet>, String) = if let Some(id) = stem.strip_prefix("topics/") {
            match topic_index.get(id) {
                Some(&i) => {
                    let crisis = if topics[i].crisis.is_some() { None } else { Some(CrisisSet::default()) };
                    (Some(i), crisis, id.to_owned())
                }
                None => {
                    diags.push(warning(file, 1, format!("examples for topic \"{id}\", which does not exist (no topics/{id}.toml): ignored; rename the file or remove it")));
                    continue;
                }
            }
        } else if let Some(kind) = stem.strip_prefix("crisis/") {
            match CrisisKind::from_name(kind) {
                Some(k) => (None, Some(std::iter::once(k).collect()), format!("crisis/{kind}")),
                None => {
                    diags.push(error(
                        file,
                        1,
                        format!("unknown crisis kind \"{kind}\": name the file overdose.txt, withdrawal.txt or self-harm.txt"),
                    ));
                    continue;
                }
            }
        } else if stem == "not-crisis" {
            (None, Some(CrisisSet::default()), "not-crisis".to_owned())
        } else if let Some(name) = stem.strip_prefix("smalltalk/") {
            match smalltalk_index.get(name) {
                Some(&i) => (Some(i), Some(CrisisSet::default()), format!("smalltalk/{name}")),
                None => {
                    diags.push(error(
                        file,
                        1,
                        format!("small-talk examples \"{name}\" have no reply: add `{name} = \"...\"` under [smalltalk] in bot.toml"),
                    ));
                    continue;
                }
            }
        } else {
            diags.push(warning(file, 1, "not an examples file, ignored (expected examples/topics/<id>.txt, examples/crisis/<kind>.txt, examples/not-crisis.txt or examples/smalltalk/<name>.txt)".to_owned()));
            continue;
        };
        counts.entry(class.clone()).or_default();
        for (n, line) in file.text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let crisis = match (stem.strip_prefix("topics/"), intent) {
                (Some(_), Some(i)) if i < topics.len() => topic_crisis(&topics[i], line),
                _ => crisis,
            };
            add(line, intent, crisis, Some((file, n + 1)), &mut diags);
            *counts.entry(class.clone()).or_default() += 1;
        }
    }
    for file in files.iter().filter(|f| is_example_file(&f.relative)) {
        let stem = file.relative["examples/".len()..].trim_end_matches(".txt");
        let class = stem.strip_prefix("topics/").unwrap_or(stem);
        if let Some(&n) = counts.get(class) {
            if n < MIN_EXAMPLES {
                diags.push(warning(
                    file,
                    1,
                    format!("only {n} examples for \"{class}\": the model learns a class well from {MIN_EXAMPLES} or more"),
                ));
            }
        }
    }
    (TrainingSet { intents, examples: merged }, targets, diags)
}

fn intents_name(i: usize, topics: &[TopicInfo], smalltalk: &[String]) -> String {
    topics.get(i).map(|t| t.id.to_owned()).unwrap_or_else(|| format!("smalltalk/{}", smalltalk.get(i - topics.len()).map_or("?", |s| s)))
}

fn error(file: &SourceFile, line: usize, message: String) -> Diagnostic {
    Diagnostic { file: file.display.clone(), line, col: 1, severity: Severity::Error, message }
}

fn warning(file: &SourceFile, line: usize, message: String) -> Diagnostic {
    Diagnostic { file: file.display.clone(), line, col: 1, severity: Severity::Warning, message }
}
