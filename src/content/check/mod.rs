//! Checking and building: every file parsed, every rule an operator's edit must keep, every
//! problem recorded as a diagnostic with its position (never stopping at the first).
//!
//! The parts: here the checker itself, the whole set and each language's (`build`,
//! `build_one`), translations and the classifier; `topics.rs`, `bot.rs` (bot.toml),
//! `regions.rs` (countries and the texts filled with their numbers) and `crisis.rs` (crisis
//! blocks, their numbers, the self-check).

mod bot;
mod crisis;
mod regions;
mod topics;

use std::collections::HashMap;

use super::compose::sources_block;
use super::diagnostic::Positions;
use super::files::{self, BotFile, CrisisFile, RegionFile, RegionWordsFile, SelfCheckFile, Text, TopicFile};
use super::region::{fill, is_template, placeholders, Region, Service, ServiceParts, PLACEHOLDERS};
use super::source::{file_problem, version_of};
use super::*;
use crate::engine::Action;
use crate::text::crisis::{CrisisKind, CrisisSet};
use crate::text::model::{Classifier, Thresholds};
use crate::text::topics::{MatchOutcome, TopicMatcher, TopicPhrases};
use crisis::Needs;
use regions::gives_number;
use topics::longest_answer;

/// One file being checked: its name for messages and a position finder.
pub(super) struct At<'a> {
    display: &'a str,
    pos: Positions<'a>,
}

#[derive(Default)]
pub(super) struct Checker {
    pub(super) diags: Vec<Diagnostic>,
}

impl Checker {
    fn push(&mut self, at: &At, offset: usize, severity: Severity, message: impl Into<String>) {
        let (line, col) = at.pos.of(offset);
        self.diags.push(Diagnostic { file: at.display.to_owned(), line, col, severity, message: message.into() });
    }

    fn errors(&self) -> usize {
        self.diags.iter().filter(|d| d.severity == Severity::Error).count()
    }

    fn error(&mut self, at: &At, offset: usize, message: impl Into<String>) {
        self.push(at, offset, Severity::Error, message);
    }

    fn warn(&mut self, at: &At, offset: usize, message: impl Into<String>) {
        self.push(at, offset, Severity::Warning, message);
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, at: &At, text: &str) -> Option<T> {
        match toml::from_str::<T>(text) {
            Ok(value) => Some(value),
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                let message = e.message().trim().replace('\n', " ");
                self.error(at, offset, message);
                None
            }
        }
    }

    /// Renders a markup field, reporting markup errors at their place in the file.
    fn rich(&mut self, at: &At, field: &Text, name: &str) -> Rich {
        if field.get_ref().trim().is_empty() {
            self.error(at, field.span().start, format!("\"{name}\" is empty: write the text between the quotes"));
            return Rich::default();
        }
        match render::render(field.get_ref()) {
            Ok(rich) => {
                self.check_fits(at, field, name, &rich);
                rich
            }
            Err(errors) => {
                let (line0, col0) = at.pos.string_content_start(field.span());
                for e in errors {
                    let col = if e.line == 0 { col0 + e.col - 1 } else { e.col };
                    self.diags.push(Diagnostic {
                        file: at.display.to_owned(),
                        line: line0 + e.line,
                        col,
                        severity: Severity::Error,
                        message: format!("in \"{name}\": {}", e.message),
                    });
                }
                Rich::default()
            }
        }
    }

    fn check_fits(&mut self, at: &At, field: &Text, name: &str, rich: &Rich) {
        let len = rich.telegram_len();
        if len > TELEGRAM_MAX_TEXT {
            self.error(
                at,
                field.span().start,
                format!("\"{name}\" is {len} characters; one Telegram message holds at most {TELEGRAM_MAX_TEXT}: shorten it"),
            );
        }
    }

    /// A plain text that may span lines (Telegram shows it as typed: no markup).
    fn plain_text(&mut self, at: &At, field: &Text, name: &str, max: usize) -> String {
        let text = field.get_ref().trim();
        if text.is_empty() {
            self.error(at, field.span().start, format!("\"{name}\" is empty"));
        } else if text.chars().count() > max {
            self.error(at, field.span().start, format!("\"{name}\" is longer than {max} characters"));
        }
        text.to_owned()
    }

    /// A one-line plain text (button labels, command descriptions).
    fn label(&mut self, at: &At, field: &Text, name: &str, max: usize) -> String {
        let text = field.get_ref().trim();
        if text.contains('\n') {
            self.error(at, field.span().start, format!("\"{name}\" must be a single line"));
            return text.to_owned();
        }
        self.plain_text(at, field, name, max)
    }

    /// The folder's set, with its translations (`es/...`: the same files in another
    /// language), which share its classifier and thresholds. A translation's phrasings train
    /// no classifier: added to its examples they made it less ready to read a crisis
    /// (measured on the hold-outs: self-harm recall down 2 to 3.5 points), so Spanish
    /// examples for the classifier are a step of their own.
    pub(super) fn build(&mut self, files: &[SourceFile]) -> Option<ResponseSet> {
        let mut root = Vec::new();
        let mut translated: Vec<(&str, Vec<SourceFile>)> = LANGUAGES.iter().map(|l| (*l, Vec::new())).collect();
        for file in files {
            match translated.iter_mut().find(|(code, _)| file.relative.strip_prefix(code).is_some_and(|r| r.starts_with('/'))) {
                Some((code, list)) => {
                    list.push(SourceFile { relative: file.relative[code.len() + 1..].to_owned(), ..file.clone() });
                }
                None => root.push(file.clone()),
            }
        }
        let mut translations = Vec::new();
        for (code, list) in translated.into_iter().filter(|(_, list)| !list.is_empty()) {
            // The countries are the folder's own: a translation gives its texts their numbers,
            // and its own regions/ files say those services in its words.
            let (words, mut list): (Vec<SourceFile>, Vec<SourceFile>) = list.into_iter().partition(|f| f.relative.starts_with("regions/"));
            list.extend(root.iter().filter(|f| f.relative.starts_with("regions/")).cloned());
            list.sort_by(|a, b| a.relative.cmp(&b.relative));
            translations.push((code, self.build_one(&list, &format!("{code}/"), Some(&words)), list));
        }
        let mut set = self.build_one(&root, "", None)?;
        set.version = version_of(files);
        for (code, translation, list) in translations {
            let Some(mut translation) = translation else { continue };
            self.check_translation(&set, &translation, &list, code);
            translation.language = code.to_owned();
            translation.version.clone_from(&set.version);
            // Its phrasings beside the folder's: a Spanish chat also understands "que es el
            // klonopin" and English. The folder's own matcher is left as it was, so English
            // routing does not change with Spanish words (measured: it did, a little).
            let phrases: Vec<TopicPhrases> = set
                .topics
                .iter()
                .map(|t| {
                    let own = translation.topic(&t.id);
                    TopicPhrases {
                        phrasings: t.phrasings.iter().chain(own.iter().flat_map(|o| &o.phrasings)).cloned().collect(),
                        keywords: t.keywords.iter().chain(own.iter().flat_map(|o| &o.keywords)).cloned().collect(),
                    }
                })
                .collect();
            // A country is chosen by its name in any language ("reino unido" in an English
            // chat, "united kingdom" in a Spanish one).
            for theirs in &mut translation.regions {
                if let Some(ours) = set.regions.iter_mut().find(|r| r.region.code == theirs.region.code) {
                    for name in &theirs.region.names {
                        if !ours.region.names.contains(name) {
                            ours.region.names.push(name.clone());
                        }
                    }
                    theirs.region.names.clone_from(&ours.region.names);
                }
            }
            translation.matcher = std::sync::Arc::new(TopicMatcher::build(&phrases));
            translation.classifier = set.classifier.clone();
            translation.intents = set.intents.clone();
            translation.bot.thresholds = set.bot.thresholds;
            set.translations.push(std::sync::Arc::new(translation));
        }
        // `[region] elsewhere` against every language's names of the countries with a file
        // ("alemania" is Germany's): both would match, and a message naming two places
        // chooses nothing.
        if let Some(choice) = &set.region_choice {
            let bot = root.iter().find(|f| f.relative == "bot.toml").map_or_else(|| "bot.toml".to_owned(), |f| f.display.clone());
            for name in &choice.elsewhere {
                if let Some(r) = set.regions.iter().find(|r| r.region.names.contains(name)) {
                    self.diags.push(file_problem(
                        &bot,
                        format!(
                            "[region] elsewhere names \"{name}\", a name of regions/{}.toml in a translation: a country with a file is not elsewhere",
                            r.region.code
                        ),
                    ));
                }
            }
        }
        if !set.translations.is_empty() {
            for s in set.languages() {
                if s.bot.language.is_none() {
                    let file = if s.language == set.language { "bot.toml".to_owned() } else { format!("{}/bot.toml", s.language) };
                    self.diags.push(file_problem(
                        &file,
                        "no [language] table (name, prompt): every language needs one once the folder has a translation".to_owned(),
                    ));
                }
            }
        }
        Some(set)
    }

    /// A translation has the same topics, crisis kinds, menus and self-check as the set.
    fn check_translation(&mut self, set: &ResponseSet, translation: &ResponseSet, files: &[SourceFile], code: &str) {
        let display = |relative: &str| {
            files.iter().find(|f| f.relative == relative).map_or_else(|| format!("{code}/{relative}"), |f| f.display.clone())
        };
        for topic in &set.topics {
            match translation.topic(&topic.id) {
                None => self.diags.push(file_problem(
                    &format!("{code}/topics/{}.toml", topic.id),
                    format!("topic \"{}\" has no translation: add {code}/topics/{}.toml (same id, crisis and related)", topic.id, topic.id),
                )),
                Some(t) => {
                    let file = display(&format!("topics/{}.toml", t.id));
                    if t.crisis != topic.crisis {
                        self.diags.push(file_problem(
                            &file,
                            format!("\"crisis\" differs from topics/{}.toml: a translation carries the same crisis block", t.id),
                        ));
                    }
                    if t.related != topic.related {
                        self.diags.push(file_problem(
                            &file,
                            format!(
                                "\"related\" differs from topics/{}.toml: a translation lists the same topics, in the same order",
                                t.id
                            ),
                        ));
                    }
                }
            }
        }
        for t in &translation.topics {
            if set.topic(&t.id).is_none() {
                let file = display(&format!("topics/{}.toml", t.id));
                self.diags
                    .push(file_problem(&file, format!("topic \"{}\" does not exist in the folder itself (no topics/{}.toml)", t.id, t.id)));
            }
        }
        let bot = display("bot.toml");
        if translation.bot.menu != set.bot.menu {
            self.diags.push(file_problem(&bot, "\"menu\" differs from bot.toml's: a translation lists the same topics".to_owned()));
        }
        let names = |s: &ResponseSet| s.bot.smalltalk.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        if names(translation) != names(set) {
            self.diags
                .push(file_problem(&bot, "[smalltalk] names differ from bot.toml's: a translation replies to the same intents".to_owned()));
        }
        // The same countries and the same default; the order is by name, in each language.
        let codes = |s: &ResponseSet| {
            let mut codes: Vec<String> = s.regions.iter().skip(1).map(|r| r.region.code.clone()).collect();
            codes.sort();
            (s.regions.first().map(|r| r.region.code.clone()), codes)
        };
        if codes(translation) != codes(set) || translation.region_choice.is_some() != set.region_choice.is_some() {
            self.diags.push(file_problem(&bot, "[region] differs from bot.toml's: a translation has the same default country".to_owned()));
        }
        if translation.bot.commands.iter().map(|(n, _)| n).ne(set.bot.commands.iter().map(|(n, _)| n)) {
            self.diags.push(file_problem(&bot, "[commands] differ from bot.toml's: a translation describes the same commands".to_owned()));
        }
        for kind in CrisisKind::ALL {
            if translation.crisis.block(kind).topics != set.crisis.block(kind).topics {
                self.diags.push(file_problem(
                    &display("crisis.toml"),
                    format!("[{}] topics differ from crisis.toml's: a translation offers the same topics", kind.name()),
                ));
            }
        }
        let bands = |s: &ResponseSet| s.selfcheck.bands.iter().map(|b| (b.min, b.max, b.topics.clone())).collect::<Vec<_>>();
        if bands(translation) != bands(set) {
            self.diags.push(file_problem(
                &display("selfcheck.toml"),
                "the bands differ from selfcheck.toml's: a translation has the same bands (min, max, topics)".to_owned(),
            ));
        }
    }

    /// One language's set (`prefix`: where its files are, for messages: "" or "es/"; `words`:
    /// a translation's `regions/` files).
    fn build_one(&mut self, files: &[SourceFile], prefix: &str, words: Option<&[SourceFile]>) -> Option<ResponseSet> {
        let mut bot = None;
        let mut crisis = None;
        let mut selfcheck = None;
        let mut topic_files = Vec::new();
        let mut region_files = Vec::new();
        for file in files {
            let at = At { display: &file.display, pos: Positions::new(&file.text) };
            match file.relative.as_str() {
                "bot.toml" => bot = Some((file, self.parse::<BotFile>(&at, &file.text))),
                "crisis.toml" => crisis = Some((file, self.parse::<CrisisFile>(&at, &file.text))),
                "selfcheck.toml" => selfcheck = Some((file, self.parse::<SelfCheckFile>(&at, &file.text))),
                "README.md" => {}
                rel if rel.starts_with("regions/") && rel.ends_with(".toml") && !rel["regions/".len()..].contains('/') => {
                    region_files.push((file, self.parse::<RegionFile>(&at, &file.text)));
                }
                rel if examples::is_example_file(rel) => {}
                rel if rel.starts_with("topics/") && rel.ends_with(".toml") && !rel["topics/".len()..].contains('/') => {
                    topic_files.push((file, self.parse::<TopicFile>(&at, &file.text)));
                }
                _ => self.warn(
                    &at,
                    0,
                    "not a response file, ignored (expected bot.toml, crisis.toml, selfcheck.toml, topics/<id>.toml or regions/<code>.toml)",
                ),
            }
        }
        for (name, found) in [("bot.toml", bot.is_some()), ("crisis.toml", crisis.is_some()), ("selfcheck.toml", selfcheck.is_some())] {
            if !found {
                self.diags.push(file_problem(
                    &format!("{prefix}{name}"),
                    format!("missing file {prefix}{name}: every responses folder needs one"),
                ));
            }
        }
        if topic_files.is_empty() {
            self.diags.push(file_problem(&format!("{prefix}topics/"), format!("no topics: add at least one {prefix}topics/<id>.toml")));
        }

        let topics = self.topics(&topic_files);
        let by_id: HashMap<String, usize> = topics.iter().enumerate().map(|(i, (t, _))| (t.id.clone(), i)).collect();
        // A topic file that failed to parse still exists: references to it are not errors
        // too (one typo, one message).
        let mut known = by_id.clone();
        for (file, parsed) in &topic_files {
            if parsed.is_none() {
                let stem = file.relative.trim_start_matches("topics/").trim_end_matches(".toml");
                known.entry(stem.to_owned()).or_insert(usize::MAX);
            }
        }
        let bot = bot.and_then(|(f, parsed)| Some((f, parsed?)));
        if let (false, Some((file, b))) = (prefix.is_empty(), &bot) {
            if let Some(model) = &b.model {
                let at = At { display: &file.display, pos: Positions::new(&file.text) };
                self.warn(&at, model.crisis.span().start, "[model] is read from the folder's own bot.toml only: delete it here");
            }
        }
        let regions = self.regions(&region_files, bot.as_ref().map(|(f, b)| (*f, b)), words.map(|w| (prefix, w)));
        let (bot, bot_regional, region_choice) = match bot.map(|(f, b)| self.bot(f, &b, &known, &regions)) {
            Some((texts, regional, choice)) => (Some(texts), regional, choice),
            None => (None, Vec::new(), None),
        };
        let mut topics = topics;
        // A topic that gives numbers ("call {crisis_reach}") is written out once per country,
        // like the crisis blocks, so that a chat in India is not told to call 988.
        for (topic, (file, _)) in &mut topics {
            let Some(t) = topic_files.iter().find(|(f, _)| f.relative == file.relative).and_then(|(_, parsed)| parsed.as_ref()) else {
                continue;
            };
            let templated = is_template(t.body.get_ref()) || t.loved_one.as_ref().is_some_and(|lo| is_template(lo.get_ref()));
            if !templated {
                continue;
            }
            let at = At { display: &file.display, pos: Positions::new(&file.text) };
            let bodies = self.localized(&at, &t.body, "body", &regions);
            let loved: Option<Vec<Rich>> = t.loved_one.as_ref().map(|lo| self.localized(&at, lo, "loved_one", &regions));
            topic.regional =
                bodies.into_iter().enumerate().map(|(i, body)| (body, loved.as_ref().and_then(|l| l.get(i).cloned()))).collect();
            if let Some((body, loved_one)) = topic.regional.first() {
                topic.answer = body.clone();
                topic.answer_loved_one.clone_from(loved_one);
            }
        }
        if let Some(bot) = &bot {
            for (topic, _) in &mut topics {
                let list = sources_block(&bot.sources_heading, &topic.sources);
                topic.answer = Rich::join([&topic.answer, &list]);
                topic.answer_loved_one = topic.answer_loved_one.take().map(|lo| Rich::join([&lo, &list]));
                for (body, loved_one) in &mut topic.regional {
                    *body = Rich::join([&*body, &list]);
                    *loved_one = loved_one.take().map(|lo| Rich::join([&lo, &list]));
                }
            }
        }
        let crisis = crisis.and_then(|(f, parsed)| Some((f, parsed?))).map(|(f, c)| self.crisis(f, &c, &known, &regions));
        let selfcheck = selfcheck.and_then(|(f, parsed)| Some((f, parsed?))).map(|(f, s)| self.selfcheck(f, &s, &known, &regions));
        let (bot, crisis, (selfcheck, regional_bands)) = (bot?, crisis?, selfcheck?);
        let mut crisis = crisis.into_iter();
        let default_crisis = crisis.next()?;
        let regions: Vec<RegionTexts> = regions
            .into_iter()
            .zip(bot_regional)
            .zip(std::iter::once(None).chain(crisis.map(Some)))
            .zip(regional_bands)
            .map(|(((region, [help_now, greeting, help, about, us_numbers]), crisis), bands)| RegionTexts {
                region,
                // The default region's texts are the set's own (`crisis`, `bot`, `selfcheck`).
                crisis: crisis.unwrap_or_else(CrisisTexts::empty),
                help_now,
                greeting,
                help,
                about,
                us_numbers,
                bands,
            })
            .collect();
        let crisis = default_crisis;

        for (topic, (file, related)) in &topics {
            let at = At { display: &file.display, pos: Positions::new(&file.text) };
            for r in related {
                if !known.contains_key(r.get_ref()) {
                    self.error(
                        &at,
                        r.span().start,
                        format!("related topic \"{}\" does not exist (no topics/{}.toml)", r.get_ref(), r.get_ref()),
                    );
                }
            }
            if let Some(kind) = topic.crisis {
                // The longest block of any region.
                let block = std::iter::once(&crisis)
                    .chain(regions.iter().skip(1).map(|r| &r.crisis))
                    .map(|c| Rich::join([&c.block(kind).body, &c.outside_us]))
                    .max_by_key(Rich::telegram_len)
                    .unwrap_or_default();
                let full = Rich::join([longest_answer(topic, false), &block]);
                self.check_answer_length(&at, &full, "body");
                if let Some(lo) = topic.answer_loved_one.as_ref().map(|_| longest_answer(topic, true)) {
                    let full = Rich::join([lo, &block]);
                    self.check_answer_length(&at, &full, "loved_one");
                }
            } else {
                self.check_answer_length(&at, longest_answer(topic, false), "body");
                if let Some(lo) = topic.answer_loved_one.as_ref().map(|_| longest_answer(topic, true)) {
                    self.check_answer_length(&at, lo, "loved_one");
                }
            }
        }

        let topics: Vec<Topic> = topics.into_iter().map(|(t, _)| t).collect();
        let phrases: Vec<TopicPhrases> =
            topics.iter().map(|t| TopicPhrases { phrasings: t.phrasings.clone(), keywords: t.keywords.clone() }).collect();
        let matcher = std::sync::Arc::new(TopicMatcher::build(&phrases));
        self.check_reachable(files, &topics, &matcher);
        let (classifier, intents) = self.classifier(files, &topics, &bot);
        Some(ResponseSet {
            version: version_of(files),
            bot,
            crisis,
            selfcheck,
            topics,
            matcher,
            classifier,
            intents,
            regions,
            region_choice,
            by_id,
            language: LANGUAGES_ROOT.to_owned(),
            translations: Vec::new(),
        })
    }

    /// Collects `examples/` and trains the classifier on them (none without examples).
    fn classifier(
        &mut self,
        files: &[SourceFile],
        topics: &[Topic],
        bot: &BotTexts,
    ) -> (Option<std::sync::Arc<Classifier>>, Vec<IntentTarget>) {
        if !files.iter().any(|f| examples::is_example_file(&f.relative)) {
            return (None, Vec::new());
        }
        let infos: Vec<examples::TopicInfo> = topics
            .iter()
            .map(|t| examples::TopicInfo { id: &t.id, crisis: t.crisis, phrasings: &t.phrasings, keywords: &t.keywords })
            .collect();
        let smalltalk: Vec<String> = bot.smalltalk.iter().map(|(name, _)| name.clone()).collect();
        let (set, targets, diags) = examples::collect(files, &infos, &smalltalk);
        self.diags.extend(diags);
        (Some(Classifier::train(&set)), targets)
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}
