//! `responses/` -> a validated, immutable [`ResponseSet`], with every problem as a [`Diagnostic`].
//!
//! [`load`] is pure: it takes the files' texts and returns the set or every diagnostic found
//! (it never stops at the first). [`read_dir`] is the only I/O; [`embedded_files`] is the copy
//! of `responses/` compiled into the binary, so the bot runs with no files beside it.

pub mod diagnostic;
pub mod examples;
mod files;
pub mod model;
pub mod region;
pub mod render;

use std::collections::HashMap;
use std::path::Path;

pub use diagnostic::{Diagnostic, Severity};
pub use model::*;
pub use render::Rich;

use crate::engine::Action;
use crate::text::crisis::{CrisisKind, CrisisSet};
use crate::text::model::{Classifier, Thresholds};
use crate::text::topics::{MatchOutcome, TopicMatcher, TopicPhrases};
use diagnostic::Positions;
use files::{BotFile, CrisisFile, RegionFile, RegionWordsFile, SelfCheckFile, Text, TopicFile};
use region::{fill, is_template, placeholders, Region, Service, ServiceParts, PLACEHOLDERS};
use render::escape_html;

/// Telegram's limit for one message, in UTF-16 code units.
pub const TELEGRAM_MAX_TEXT: usize = 4096;
/// Telegram's limits for the bot's description and short description (setMyDescription).
pub const TELEGRAM_MAX_DESCRIPTION: usize = 512;
pub const TELEGRAM_MAX_SHORT_DESCRIPTION: usize = 120;
/// Telegram's limit for a button's callback data, in bytes.
pub const TELEGRAM_MAX_CALLBACK: usize = 64;
/// Longest topic id: it travels in callback data and deep links.
pub const MAX_ID_LEN: usize = 40;
/// Number of DSM-5 criteria the self-check asks about.
pub const SELF_CHECK_QUESTIONS: usize = 11;

/// The language of the folder itself.
pub const LANGUAGES_ROOT: &str = "en";
/// The translations a folder may hold, each in a subfolder of that name (`es/bot.toml`...).
pub const LANGUAGES: &[&str] = &["es"];

/// The SAMHSA National Helpline: every crisis block must carry it.
pub const SAMHSA: &str = "1-800-662-4357";
/// Poison Help: the overdose block must carry it.
pub const POISON_HELP: &str = "1-800-222-1222";

/// One response file: where it is (for messages) and what it says.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the responses folder, with `/`: `bot.toml`, `topics/x.toml`.
    pub relative: String,
    /// How diagnostics name the file (the path as the operator would type it).
    pub display: String,
    pub text: String,
}

/// A valid response set and the warnings that did not stop it.
pub struct Loaded {
    pub set: ResponseSet,
    pub warnings: Vec<Diagnostic>,
}

/// The copy of `responses/` built into the binary.
static EMBEDDED: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/responses");

/// The built-in responses, as files.
pub fn embedded_files() -> Vec<SourceFile> {
    let mut files = Vec::new();
    collect_embedded(&EMBEDDED, &mut files);
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    files
}

fn collect_embedded(dir: &include_dir::Dir<'static>, out: &mut Vec<SourceFile>) {
    for file in dir.files() {
        let relative = file.path().to_string_lossy().replace('\\', "/");
        out.push(SourceFile {
            display: format!("responses/{relative}"),
            relative,
            text: String::from_utf8_lossy(file.contents()).into_owned(),
        });
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

/// Reads every file under `dir` (I/O only; no validation). A file that cannot be read is a
/// diagnostic, not a stop.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, Vec<Diagnostic>> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(file_problem(&current.display().to_string(), format!("cannot read folder: {e}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.ends_with('~') {
                continue; // editors' swap and backup files
            }
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => files.push(SourceFile { relative, display: path.display().to_string(), text }),
                    Err(e) => problems.push(file_problem(
                        &path.display().to_string(),
                        format!("not valid UTF-8 (byte {}): save the file as UTF-8", e.utf8_error().valid_up_to()),
                    )),
                },
                Err(e) => problems.push(file_problem(&path.display().to_string(), format!("cannot read file: {e}"))),
            }
        }
    }
    if problems.is_empty() {
        files.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(files)
    } else {
        Err(problems)
    }
}

/// Reads and validates a responses folder.
pub fn load_dir(dir: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    load(&read_dir(dir)?)
}

/// The built-in responses, validated.
pub fn load_embedded() -> Result<Loaded, Vec<Diagnostic>> {
    load(&embedded_files())
}

fn file_problem(file: &str, message: String) -> Diagnostic {
    Diagnostic { file: file.to_owned(), line: 1, col: 1, severity: Severity::Error, message }
}

/// Validates a whole set of files. On success the set and its warnings; otherwise every
/// diagnostic (errors and warnings), sorted by file and position.
pub fn load(files: &[SourceFile]) -> Result<Loaded, Vec<Diagnostic>> {
    let mut checker = Checker::default();
    let set = checker.build(files);
    let mut diags = checker.diags;
    diags.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    diags.dedup();
    match set {
        Some(set) if !diags.iter().any(|d| d.severity == Severity::Error) => Ok(Loaded { set, warnings: diags }),
        _ => Err(diags),
    }
}

/// One file being checked: its name for messages and a position finder.
struct At<'a> {
    display: &'a str,
    pos: Positions<'a>,
}

#[derive(Default)]
struct Checker {
    diags: Vec<Diagnostic>,
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
    fn build(&mut self, files: &[SourceFile]) -> Option<ResponseSet> {
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

    fn check_answer_length(&mut self, at: &At, answer: &Rich, field: &str) {
        let len = answer.telegram_len();
        if len > TELEGRAM_MAX_TEXT {
            self.warn(at, 0, format!(
                "the \"{field}\" answer with its sources and crisis block is {len} characters, more than one Telegram message ({TELEGRAM_MAX_TEXT}); it will be sent in parts: consider shortening it"
            ));
        }
        if answer.plain.split("\n\n").any(|p| p.encode_utf16().count() > TELEGRAM_MAX_TEXT) {
            self.error(
                at,
                0,
                format!("a paragraph of \"{field}\" is longer than one Telegram message ({TELEGRAM_MAX_TEXT}): split it with a blank line"),
            );
        }
    }

    /// A topic that none of its own phrasings reaches can only be found by buttons.
    fn check_reachable(&mut self, files: &[SourceFile], topics: &[Topic], matcher: &TopicMatcher) {
        for (index, topic) in topics.iter().enumerate() {
            let reached = topic
                .phrasings
                .iter()
                .chain(&topic.keywords)
                .any(|p| matches!(matcher.classify(&crate::text::normalize::normalize(p)), MatchOutcome::Answer(i) if i == index));
            if !reached {
                if let Some(file) = files.iter().find(|f| f.relative == format!("topics/{}.toml", topic.id)) {
                    let at = At { display: &file.display, pos: Positions::new(&file.text) };
                    self.warn(
                        &at,
                        0,
                        format!(
                        "no phrasing or keyword of \"{}\" leads to it (run `klonopin-bot explain` on one): add phrasings people would type",
                        topic.id
                    ),
                    );
                }
            }
        }
    }

    fn topics<'f>(&mut self, parsed: &[(&'f SourceFile, Option<TopicFile>)]) -> Vec<(Topic, (&'f SourceFile, Vec<Text>))> {
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut out = Vec::new();
        for (file, topic) in parsed {
            let Some(t) = topic else { continue };
            let at = At { display: &file.display, pos: Positions::new(&file.text) };
            let id = t.id.get_ref().clone();
            let id_at = t.id.span().start;
            if !valid_id(&id) {
                self.error(
                    &at,
                    id_at,
                    format!("id \"{id}\" must be 1 to {MAX_ID_LEN} lower-case letters, digits or hyphens, starting with a letter or digit"),
                );
            }
            let longest = Action::longest_callback_for(&id);
            if longest > TELEGRAM_MAX_CALLBACK {
                self.error(
                    &at,
                    id_at,
                    format!("id \"{id}\" makes a button's callback data {longest} bytes; Telegram allows {TELEGRAM_MAX_CALLBACK}"),
                );
            }
            let expected = format!("topics/{id}.toml");
            if file.relative != expected {
                self.error(&at, id_at, format!("id \"{id}\" does not match the file name: rename the file to {expected}"));
            }
            if let Some(other) = seen.insert(id.clone(), file.display.clone()) {
                self.error(&at, id_at, format!("duplicate id \"{id}\": also used by {other}"));
            }
            let title = self.label(&at, &t.title, "title", 60);
            let crisis = t.crisis.as_ref().and_then(|c| {
                let kind = CrisisKind::from_name(c.get_ref());
                if kind.is_none() {
                    self.error(
                        &at,
                        c.span().start,
                        format!("unknown crisis kind \"{}\": use \"overdose\", \"withdrawal\" or \"self-harm\"", c.get_ref()),
                    );
                }
                kind
            });
            if t.sources.is_empty() {
                self.warn(&at, id_at, format!("topic \"{id}\" lists no sources: add where its facts come from"));
            }
            if t.phrasings.is_empty() && t.keywords.is_empty() {
                self.warn(&at, id_at, format!("topic \"{id}\" has no phrasings or keywords: only buttons lead to it"));
            }
            for (list, name) in [(&t.phrasings, "phrasings"), (&t.keywords, "keywords"), (&t.sources, "sources")] {
                for item in list {
                    if item.get_ref().trim().is_empty() {
                        self.error(&at, item.span().start, format!("an entry of \"{name}\" is empty"));
                    }
                }
            }
            let sources: Vec<String> = t.sources.iter().map(|s| s.get_ref().trim().to_owned()).collect();
            let body = self.rich(&at, &t.body, "body");
            let loved_one = t.loved_one.as_ref().map(|lo| self.rich(&at, lo, "loved_one"));
            out.push((
                Topic {
                    id,
                    title,
                    crisis,
                    phrasings: t.phrasings.iter().map(|p| p.get_ref().clone()).collect(),
                    keywords: t.keywords.iter().map(|k| k.get_ref().clone()).collect(),
                    related: t.related.iter().map(|r| r.get_ref().clone()).collect(),
                    sources,
                    // Sources are added once bot.toml's heading is known.
                    answer: body,
                    answer_loved_one: loved_one,
                    regional: Vec::new(),
                },
                (*file, t.related.clone()),
            ));
        }
        out
    }

    fn topic_refs(&mut self, at: &At, refs: &[Text], by_id: &HashMap<String, usize>, what: &str) -> Vec<String> {
        for r in refs {
            if !by_id.contains_key(r.get_ref()) {
                self.error(at, r.span().start, format!("{what} names topic \"{}\", which does not exist", r.get_ref()));
            }
        }
        refs.iter().map(|r| r.get_ref().clone()).collect()
    }

    /// `bot.toml`: its texts (those that give numbers in the default region's), the same
    /// texts for every region (`[help_now, greeting, help, about, us_numbers]`), and the
    /// region choice.
    fn bot(
        &mut self,
        file: &SourceFile,
        b: &BotFile,
        by_id: &HashMap<String, usize>,
        regions: &[Region],
    ) -> (BotTexts, Vec<[Rich; 5]>, Option<RegionChoice>) {
        let at = At { display: &file.display, pos: Positions::new(&file.text) };
        let help_now = self.help_now(&at, &b.help_now, regions);
        let greeting = self.localized(&at, &b.greeting, "greeting", regions);
        let help = self.localized(&at, &b.help, "help", regions);
        let about = self.localized(&at, &b.about, "about", regions);
        let us_numbers = match b.region.as_ref().and_then(|r| r.us_numbers.as_ref()) {
            Some(text) => self.localized(&at, text, "region.us_numbers", regions),
            None => vec![Rich::default(); regions.len()],
        };
        let regional: Vec<[Rich; 5]> = (0..regions.len())
            .map(|i| [help_now[i].clone(), greeting[i].clone(), help[i].clone(), about[i].clone(), us_numbers[i].clone()])
            .collect();
        let region_choice = self.region_choice(&at, b, regions);
        if b.menu.is_empty() {
            self.error(&at, 0, "\"menu\" is empty: list the topic ids of the main menu");
        }
        if let Some(q) = &b.audience_question {
            self.warn(
                &at,
                q.span().start,
                "\"audience_question\" is no longer used: the bot answers first and offers the other version as a button; delete this line",
            );
        }
        let mut commands = Vec::new();
        for (name, text) in b.commands.entries() {
            let description = self.label(&at, text, &format!("commands.{name}"), 256);
            commands.push((name.to_owned(), description));
        }
        let texts = BotTexts {
            greeting: greeting[0].clone(),
            help: help[0].clone(),
            menu_prompt: self.rich(&at, &b.menu_prompt, "menu_prompt"),
            menu: self.topic_refs(&at, &b.menu, by_id, "\"menu\""),
            fallback: self.rich(&at, &b.fallback, "fallback"),
            did_you_mean: self.rich(&at, &b.did_you_mean, "did_you_mean"),
            privacy: self.rich(&at, &b.privacy, "privacy"),
            about: about[0].clone(),
            audience_self: self.label(&at, &b.audience_self, "audience_self", 60),
            audience_loved_one: self.label(&at, &b.audience_loved_one, "audience_loved_one", 60),
            cancelled: self.rich(&at, &b.cancelled, "cancelled"),
            forgotten: self.rich(&at, &b.forgotten, "forgotten"),
            non_text: self.rich(&at, &b.non_text, "non_text"),
            help_now: help_now[0].clone(),
            button_menu: self.label(&at, &b.button_menu, "button_menu", 60),
            button_crisis: self.label(&at, &b.button_crisis, "button_crisis", 60),
            button_selfcheck: self.label(&at, &b.button_selfcheck, "button_selfcheck", 60),
            sources_heading: self.label(&at, &b.sources_heading, "sources_heading", 60),
            commands,
            check_in: self.check_in(&at, b),
            repeat: b.repeat.as_ref().map(|t| self.rich(&at, t, "repeat")),
            description: b.description.as_ref().map(|t| self.plain_text(&at, t, "description", TELEGRAM_MAX_DESCRIPTION)),
            short_description: b
                .short_description
                .as_ref()
                .map(|t| self.label(&at, t, "short_description", TELEGRAM_MAX_SHORT_DESCRIPTION)),
            smalltalk: b.smalltalk.iter().map(|(name, text)| (name.clone(), self.rich(&at, text, &format!("smalltalk.{name}")))).collect(),
            thresholds: self.thresholds(&at, b.model.as_ref()),
            language: b.language.as_ref().map(|l| LanguageTexts {
                name: self.label(&at, &l.name, "language.name", 40),
                prompt: self.rich(&at, &l.prompt, "language.prompt"),
            }),
        };
        (texts, regional, region_choice)
    }

    /// `[region]` in `bot.toml`: needed (and only used) when there is more than one region.
    fn region_choice(&mut self, at: &At, b: &BotFile, regions: &[Region]) -> Option<RegionChoice> {
        match &b.region {
            None if regions.len() > 1 => {
                self.error(
                    at,
                    0,
                    "responses/regions/ has more than one country: add a [region] table (default, button, prompt, other_button, other)",
                );
                None
            }
            None => None,
            Some(r) => Some(RegionChoice {
                button: self.label(at, &r.button, "region.button", 60),
                prompt: self.rich(at, &r.prompt, "region.prompt"),
                other_button: self.label(at, &r.other_button, "region.other_button", 60),
                other: self.rich(at, &r.other, "region.other"),
                elsewhere: self.elsewhere(at, &r.elsewhere, regions),
            }),
        }
    }

    /// `[region] elsewhere`, normalized: no everyday word, none that is also a country's
    /// with a file (which would make the reply depend on the order of the lists).
    fn elsewhere(&mut self, at: &At, names: &[Text], regions: &[Region]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            let normalized = crate::text::normalize::normalize(n.get_ref());
            if crate::text::topics::STOPWORDS.contains(&normalized.as_str()) {
                self.error(at, n.span().start, format!("the name \"{normalized}\" is an everyday word: people would name it by accident"));
            } else if let Some(r) = regions.iter().find(|r| r.names.contains(&normalized)) {
                self.error(
                    at,
                    n.span().start,
                    format!("\"{normalized}\" is one of regions/{}.toml's names: a country with a file is not elsewhere", r.code),
                );
            } else if !normalized.is_empty() && !out.contains(&normalized) {
                out.push(normalized);
            }
        }
        out
    }

    /// `regions/<code>.toml`, checked, the default region (`[region] default`, else `us`) first
    /// and the others by name.
    /// A translation's (`words`: its prefix and its `regions/` files) gives each country's name
    /// and services in its language.
    fn regions(
        &mut self,
        files: &[(&SourceFile, Option<RegionFile>)],
        bot: Option<(&SourceFile, &BotFile)>,
        words: Option<(&str, &[SourceFile])>,
    ) -> Vec<Region> {
        let mut regions = Vec::new();
        let mut names: HashMap<String, String> = HashMap::new();
        let mut said: HashMap<String, (&SourceFile, Option<RegionWordsFile>)> = HashMap::new();
        for file in words.map(|(_, w)| w).unwrap_or_default() {
            let at = At { display: &file.display, pos: Positions::new(&file.text) };
            let Some(code) = file.relative.strip_prefix("regions/").and_then(|r| r.strip_suffix(".toml")).filter(|c| !c.contains('/'))
            else {
                self.warn(&at, 0, "not a response file, ignored (expected regions/<code>.toml, a country's services in this language)");
                continue;
            };
            said.insert(code.to_owned(), (file, self.parse::<RegionWordsFile>(&at, &file.text)));
        }
        for (file, parsed) in files {
            let Some(r) = parsed else { continue };
            let errors_before = self.errors();
            let at = At { display: &file.display, pos: Positions::new(&file.text) };
            let code = file.relative.trim_start_matches("regions/").trim_end_matches(".toml").to_owned();
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
                self.error(
                    &at,
                    0,
                    format!("\"{code}\" is not a country code: name the file after the country's two-letter code, like regions/gb.toml"),
                );
            }
            let name = self.label(&at, &r.name, "name", 60);
            let checked = r.checked.get_ref();
            let date = checked.len() == 10
                && checked.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
            if !date {
                self.error(
                    &at,
                    r.checked.span().start,
                    format!("checked \"{checked}\" must be the date the numbers were checked, as YYYY-MM-DD"),
                );
            }
            let number = |this: &mut Self, field: &Text, what: &str, may_be_empty: bool| {
                let n = field.get_ref().trim();
                let listed_elsewhere = n.is_empty() && may_be_empty;
                if !listed_elsewhere && !n.bytes().any(|b| b.is_ascii_digit()) {
                    this.error(&at, field.span().start, format!("{what} \"{n}\" is not a phone number"));
                }
                n.to_owned()
            };
            let source = |this: &mut Self, field: &Text, what: &str| {
                let s = field.get_ref().trim();
                if !(s.starts_with("https://") || s.starts_with("http://")) || s.contains(char::is_whitespace) {
                    this.error(&at, field.span().start, format!("{what}.source must be the web address the number was checked against"));
                }
            };
            let emergency = number(self, &r.emergency.number, "emergency.number", false);
            source(self, &r.emergency.source, "emergency");
            if let Some(also) = &r.emergency.also {
                number(self, also, "emergency.also", false);
            }
            let service = |this: &mut Self, s: &Option<files::ServiceFile>, what: &str| {
                let s = s.as_ref()?;
                let number = number(this, &s.number, &format!("{what}.number"), what != "crisis");
                source(this, &s.source, what);
                fn get(t: &Option<Text>) -> Option<&str> {
                    t.as_ref().map(|t| t.get_ref().trim())
                }
                for (field, name) in [(&s.line, "line"), (&s.short, "short"), (&s.reach, "reach")] {
                    if let Some(f) = field.as_ref().filter(|f| !number.is_empty() && !gives_number(f.get_ref(), &number)) {
                        this.error(&at, f.span().start, format!("{what}.{name} does not give the number {number}"));
                    }
                }
                Some(Service::compose(&ServiceParts {
                    name: s.name.get_ref().trim(),
                    number: &number,
                    hours: get(&s.hours),
                    cost: get(&s.cost),
                    text: get(&s.text),
                    languages: get(&s.languages),
                    about: get(&s.about),
                    source: s.source.get_ref().trim(),
                    line: get(&s.line),
                    reach: get(&s.reach),
                    short: get(&s.short),
                }))
            };
            let crisis = service(self, &r.crisis, "crisis");
            if crisis.is_none() {
                self.error(&at, 0, "every region needs a suicide and crisis line: add a [crisis] table");
            }
            let poison = service(self, &r.poison, "poison");
            let helpline = service(self, &r.helpline, "helpline");
            let mut typed = Vec::new();
            for n in r.names.iter().chain(&r.cities).chain(std::iter::once(&r.name)) {
                let normalized = crate::text::normalize::normalize(n.get_ref());
                if normalized.is_empty() {
                    continue;
                }
                if crate::text::topics::STOPWORDS.contains(&normalized.as_str()) {
                    // "us": "the number for us to call" would switch someone's numbers.
                    self.error(
                        &at,
                        n.span().start,
                        format!("the name \"{normalized}\" is an everyday word: people would choose this country by accident"),
                    );
                    continue;
                }
                if let Some(other) = names.insert(normalized.clone(), code.clone()) {
                    if other != code {
                        self.error(&at, n.span().start, format!("the name \"{normalized}\" is also one of regions/{other}.toml's"));
                    }
                }
                if !typed.contains(&normalized) {
                    typed.push(normalized);
                }
            }
            if self.errors() > errors_before {
                // Its numbers cannot be trusted: the texts are not checked against them too.
                continue;
            }
            let mut region = Region {
                code,
                name,
                names: typed,
                emergency,
                crisis,
                poison,
                helpline,
                treatment: r.treatment.as_ref().map(|t| t.get_ref().trim().to_owned()),
            };
            if let Some((prefix, _)) = words {
                match said.remove(&region.code) {
                    Some((words_file, Some(w))) => self.say_region(words_file, &w, &mut region, r),
                    Some((_, None)) => {}
                    None => self.diags.push(Diagnostic {
                        severity: Severity::Warning,
                        ..file_problem(
                            &format!("{prefix}regions/{}.toml", region.code),
                            format!(
                                "no {prefix}regions/{}.toml: the texts in {prefix} give the services of {} in the folder's language",
                                region.code, region.name
                            ),
                        )
                    }),
                }
            }
            regions.push(region);
        }
        let mut strays: Vec<_> = said.into_iter().collect();
        strays.sort_by(|a, b| a.0.cmp(&b.0));
        for (code, (file, _)) in strays {
            let at = At { display: &file.display, pos: Positions::new(&file.text) };
            self.error(
                &at,
                0,
                format!("there is no regions/{code}.toml for these words: a country's numbers come from the folder's regions/"),
            );
        }
        if regions.is_empty() {
            return regions;
        }
        let (default, default_at) = match bot.and_then(|(f, b)| Some((f, b.region.as_ref()?))) {
            Some((f, r)) => (r.default.get_ref().clone(), Some((f, r.default.span().start))),
            None => ("us".to_owned(), None),
        };
        // By name as a reader sees it: "Sudáfrica" among the s, not after "z".
        let sort_name = |r: &Region| crate::text::normalize::normalize(r.name.trim_start_matches("the "));
        regions.sort_by_key(|r| (r.code != default, sort_name(r)));
        if regions[0].code != default {
            let message = format!("the default region \"{default}\" has no file regions/{default}.toml");
            match default_at {
                Some((f, offset)) => {
                    let at = At { display: &f.display, pos: Positions::new(&f.text) };
                    self.error(&at, offset, message);
                }
                None => self.diags.push(file_problem("regions/", message)),
            }
        }
        regions
    }

    /// A translation's words for one country: its name, treatment line and services, each
    /// giving the same number as the country's file.
    fn say_region(&mut self, file: &SourceFile, w: &RegionWordsFile, region: &mut Region, numbers: &RegionFile) {
        let at = At { display: &file.display, pos: Positions::new(&file.text) };
        region.name = self.label(&at, &w.name, "name", 60);
        let normalized = crate::text::normalize::normalize(&region.name);
        if !normalized.is_empty() && !region.names.contains(&normalized) {
            region.names.push(normalized);
        }
        if let Some(e) = &w.emergency {
            let said = self.label(&at, e, "emergency", 60);
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            if digits(&said) != digits(&region.emergency) {
                self.error(
                    &at,
                    e.span().start,
                    format!("emergency must give the number of regions/{}.toml ({})", region.code, region.emergency),
                );
            }
            region.emergency = said;
        }
        match (&w.treatment, numbers.treatment.is_some()) {
            (Some(t), true) => region.treatment = Some(t.get_ref().trim().to_owned()),
            (Some(t), false) => self.error(&at, t.span().start, format!("regions/{}.toml has no treatment line to say", region.code)),
            (None, true) => self.warn(&at, 0, format!("no treatment: regions/{}.toml's is shown in its own words", region.code)),
            (None, false) => {}
        }
        let code = region.code.clone();
        let services = [
            ("crisis", &mut region.crisis, &w.crisis),
            ("poison", &mut region.poison, &w.poison),
            ("helpline", &mut region.helpline, &w.helpline),
        ];
        for (what, service, said) in services {
            match (service.as_mut(), said) {
                (Some(service), Some(said)) => {
                    let mut text = |field: &Text, name: &str| {
                        let t = self.label(&at, field, &format!("{what}.{name}"), 400);
                        if !service.number.is_empty() && !gives_number(&t, &service.number) {
                            self.error(
                                &at,
                                field.span().start,
                                format!("{what}.{name} does not give the number {} (regions/{code}.toml)", service.number),
                            );
                        }
                        t
                    };
                    service.line = text(&said.line, "line");
                    service.short = text(&said.short, "short");
                    match (&said.reach, what) {
                        (Some(reach), _) => service.reach = text(reach, "reach"),
                        (None, "crisis") => {
                            self.warn(&at, 0, "[crisis] has no reach (the words after \"please\"): the folder's own are used")
                        }
                        (None, _) => {}
                    }
                }
                (Some(_), None) => self.warn(&at, 0, format!("no [{what}]: regions/{code}.toml's is given in the folder's language")),
                (None, Some(_)) => self.error(&at, 0, format!("[{what}]: regions/{code}.toml has no such service")),
                (None, None) => {}
            }
        }
    }

    /// A text that may give numbers, once per region (the default first), or as written when
    /// the folder has no regions. Markup problems are reported at their place in the file.
    fn localized(&mut self, at: &At, field: &Text, name: &str, regions: &[Region]) -> Vec<Rich> {
        let written = self.rich(at, field, name);
        let text = field.get_ref();
        for (_, p) in placeholders(text) {
            if !PLACEHOLDERS.iter().any(|(known, _)| *known == p) {
                let known: Vec<String> = PLACEHOLDERS.iter().map(|(k, _)| format!("{{{k}}}")).collect();
                self.error(at, field.span().start, format!("in \"{name}\": unknown placeholder {{{p}}} (known: {})", known.join(", ")));
            }
        }
        if regions.is_empty() {
            if is_template(text) {
                self.error(
                    at,
                    field.span().start,
                    format!("\"{name}\" uses placeholders such as {{emergency}}, but responses/regions/ has no countries to fill them"),
                );
            }
            return vec![written];
        }
        if !is_template(text) {
            return vec![written; regions.len()];
        }
        regions
            .iter()
            .map(|region| match render::render(&fill(text, region)) {
                Ok(rich) => {
                    self.check_fits(at, field, name, &rich);
                    rich
                }
                Err(errors) => {
                    for e in errors {
                        self.error(
                            at,
                            field.span().start,
                            format!("in \"{name}\" with the numbers of regions/{}.toml: {}", region.code, e.message),
                        );
                    }
                    Rich::default()
                }
            })
            .collect()
    }

    fn check_in(&mut self, at: &At, b: &BotFile) -> Option<CheckIn> {
        match (&b.check_in, &b.button_check_in_yes, &b.button_check_in_no) {
            (None, None, None) => None,
            (Some(q), Some(yes), Some(no)) => Some(CheckIn {
                question: self.rich(at, q, "check_in"),
                yes: self.label(at, yes, "button_check_in_yes", 60),
                no: self.label(at, no, "button_check_in_no", 60),
            }),
            (q, yes, no) => {
                let offset = q.as_ref().or(yes.as_ref()).or(no.as_ref()).map_or(0, |t| t.span().start);
                self.error(at, offset, "check_in, button_check_in_yes and button_check_in_no go together: set all three or none");
                None
            }
        }
    }

    /// `[model]`: every threshold a probability, the bands in order.
    fn thresholds(&mut self, at: &At, m: Option<&files::ModelFile>) -> Thresholds {
        let Some(m) = m else { return Thresholds::default() };
        let get = |this: &mut Self, v: &toml::Spanned<f32>, name: &str| {
            let x = *v.get_ref();
            if !(0.0..=1.0).contains(&x) {
                this.error(at, v.span().start, format!("model.{name} is {x}: a threshold is a probability between 0 and 1"));
            }
            x
        };
        let t = Thresholds {
            crisis: get(self, &m.crisis, "crisis"),
            check_in: get(self, &m.check_in, "check_in"),
            confirm: match &m.confirm {
                Some(v) => get(self, v, "confirm"),
                None => Thresholds::default().confirm,
            },
            kind: get(self, &m.kind, "kind"),
            answer: get(self, &m.answer, "answer"),
            suggest: get(self, &m.suggest, "suggest"),
        };
        if t.check_in > t.crisis {
            self.error(
                at,
                m.check_in.span().start,
                "model.check_in must not be above model.crisis: the check-in band lies below the crisis threshold",
            );
        }
        if t.suggest > t.answer {
            self.error(at, m.suggest.span().start, "model.suggest must not be above model.answer");
        }
        t
    }

    /// `help_now` closes most replies, so it must carry the lines that matter most.
    fn help_now(&mut self, at: &At, text: &Text, regions: &[Region]) -> Vec<Rich> {
        let texts = self.localized(at, text, "help_now", regions);
        let offset = text.span().start;
        for (i, rich) in texts.iter().enumerate() {
            let needs = Needs::of(regions.get(i));
            let crisis_what = if regions.get(i).is_some() { needs.crisis_what.as_str() } else { "988 (suicide and crisis)" };
            let mut wanted = vec![(&needs.emergency, needs.emergency_what.as_str()), (&needs.crisis, crisis_what)];
            wanted.extend(needs.helpline.as_ref().map(|(n, what)| (n, what.as_str())));
            for (number, what) in wanted {
                if !gives_number(&rich.plain, number) {
                    self.error(
                        at,
                        offset,
                        format!("help_now must give {what}, {number}{}: it closes every reply that shows no crisis guidance", needs.whose),
                    );
                }
            }
        }
        texts
    }

    /// `crisis.toml`, once per region (the default first; once as written without regions).
    fn crisis(&mut self, file: &SourceFile, c: &CrisisFile, by_id: &HashMap<String, usize>, regions: &[Region]) -> Vec<CrisisTexts> {
        let at = At { display: &file.display, pos: Positions::new(&file.text) };
        let count = regions.len().max(1);
        let block = |this: &mut Self, kind: CrisisKind, b: &files::CrisisBlockFile| -> Vec<CrisisBlock> {
            let bodies = this.localized(&at, &b.body, &format!("{}.body", kind.name()), regions);
            let agains = match &b.again {
                Some(again) => this.localized(&at, again, &format!("{}.again", kind.name()), regions),
                None => bodies.clone(),
            };
            let topics = this.topic_refs(&at, &b.topics, by_id, &format!("[{}] topics", kind.name()));
            let mut out = Vec::new();
            // Checked as written (with the numbers filled in): "first line" is a line of the file.
            let written = |t: &Text, i: usize| regions.get(i).map_or_else(|| t.get_ref().clone(), |r| fill(t.get_ref(), r));
            for (i, (body, again)) in bodies.into_iter().zip(agains).enumerate() {
                this.check_crisis_resources(&at, kind, &written(&b.body, i), b.body.span().start, regions.get(i));
                if let Some(a) = &b.again {
                    this.check_crisis_resources(&at, kind, &written(a, i), a.span().start, regions.get(i));
                }
                out.push(CrisisBlock { body, again, topics: topics.clone() });
            }
            out
        };
        let overdose = block(self, CrisisKind::Overdose, &c.overdose);
        let withdrawal = block(self, CrisisKind::Withdrawal, &c.withdrawal);
        let self_harm = block(self, CrisisKind::SelfHarm, &c.self_harm);
        let intro = self.localized(&at, &c.intro, "intro", regions);
        let outside_us = self.localized(&at, &c.outside_us, "outside_us", regions);
        let region_note = match &c.region_note {
            Some(note) => self.localized(&at, note, "region_note", regions),
            None if regions.len() > 1 => {
                self.error(
                    &at,
                    0,
                    "responses/regions/ has more than one country: add region_note, the line under the blocks of a chosen country",
                );
                vec![Rich::default(); count]
            }
            None => outside_us.clone(),
        };
        let mut all = Vec::new();
        let parts = overdose.into_iter().zip(withdrawal).zip(self_harm).zip(intro).zip(outside_us).zip(region_note);
        for (i, (((((overdose, withdrawal), self_harm), intro), outside_us), region_note)) in parts.enumerate() {
            // The default region's blocks end with the note for other countries; a chosen
            // region's with the line that says whose numbers these are.
            let outside_us = if i == 0 { outside_us } else { region_note };
            let texts = CrisisTexts { intro, outside_us, overdose, withdrawal, self_harm };
            let page = crisis_page(&texts, CrisisSet::default());
            if page.telegram_len() > TELEGRAM_MAX_TEXT {
                let whose = regions.get(i).map(|r| format!(" with the numbers of regions/{}.toml", r.code)).unwrap_or_default();
                self.error(&at, 0, format!(
                    "the /crisis page (intro, the three blocks and outside_us){whose} is {} characters; it must fit one Telegram message ({TELEGRAM_MAX_TEXT})",
                    page.telegram_len()
                ));
            }
            all.push(texts);
        }
        all
    }

    /// Every crisis block carries an emergency line and the helpline; overdose puts the
    /// emergency number first and gives the poison centre; self-harm gives the crisis line.
    fn check_crisis_resources(&mut self, at: &At, kind: CrisisKind, text: &str, offset: usize, region: Option<&Region>) {
        let name = kind.name();
        let needs = Needs::of(region);
        let whose = &needs.whose;
        let (emergency, crisis) = (needs.emergency.as_str(), needs.crisis.as_str());
        if !gives_number(text, emergency) && !gives_number(text, crisis) {
            self.error(at, offset, format!("crisis block [{name}] has no emergency line: it must give {emergency} or {crisis}{whose}"));
        }
        if let Some((number, what)) = &needs.helpline {
            if !gives_number(text, number) {
                self.error(at, offset, format!("crisis block [{name}] must give {what}, {number}{whose}"));
            }
        }
        match kind {
            CrisisKind::Overdose => {
                let first_line = text.trim_start().lines().next().unwrap_or("");
                if !gives_number(first_line, emergency) {
                    self.error(
                        at,
                        offset,
                        format!("crisis block [overdose] must give {emergency} in its first line: emergency lines come first{whose}"),
                    );
                }
                if let Some((number, what)) = &needs.poison {
                    if !gives_number(text, number) {
                        self.error(at, offset, format!("crisis block [overdose] must give {what}, {number}{whose}"));
                    }
                }
            }
            CrisisKind::SelfHarm if !gives_number(text, crisis) => {
                self.error(at, offset, format!("crisis block [self-harm] must give {crisis}, {}{whose}", needs.crisis_what));
            }
            _ => {}
        }
    }

    /// `selfcheck.toml`, and its bands' texts for each region (the default first, as in the
    /// set's; one list as written without regions).
    fn selfcheck(
        &mut self,
        file: &SourceFile,
        s: &SelfCheckFile,
        by_id: &HashMap<String, usize>,
        regions: &[Region],
    ) -> (SelfCheck, Vec<Vec<Rich>>) {
        let at = At { display: &file.display, pos: Positions::new(&file.text) };
        if s.questions.len() != SELF_CHECK_QUESTIONS {
            self.error(
                &at,
                0,
                format!(
                    "\"questions\" has {} entries; the self-check asks exactly {SELF_CHECK_QUESTIONS} (the DSM-5 criteria)",
                    s.questions.len()
                ),
            );
        }
        if !s.progress.get_ref().contains("{n}") {
            self.warn(&at, s.progress.span().start, "\"progress\" does not show {n}, the question number");
        }
        let questions: Vec<Rich> =
            s.questions.iter().enumerate().map(|(i, q)| self.rich(&at, q, &format!("questions[{}]", i + 1))).collect();
        let mut bands = Vec::new();
        let mut regional = vec![Vec::new(); regions.len().max(1)];
        for band in &s.bands {
            let b = band.get_ref();
            if b.min > b.max {
                self.error(&at, band.span().start, format!("band min {} is greater than max {}", b.min, b.max));
            }
            let texts = self.localized(&at, &b.text, "bands.text", regions);
            for (list, text) in regional.iter_mut().zip(&texts) {
                list.push(text.clone());
            }
            bands.push(Band {
                min: b.min,
                max: b.max,
                text: texts.into_iter().next().unwrap_or_default(),
                topics: self.topic_refs(&at, &b.topics, by_id, "a band's topics"),
            });
        }
        for yes in 0..=SELF_CHECK_QUESTIONS {
            let covering = bands.iter().filter(|b| b.min <= yes && yes <= b.max).count();
            if covering != 1 {
                let problem = if covering == 0 { "no band" } else { "more than one band" };
                self.error(
                    &at,
                    s.bands.first().map_or(0, |b| b.span().start),
                    format!("{problem} covers {yes} \"yes\" answers: bands must cover 0 to {SELF_CHECK_QUESTIONS} exactly once"),
                );
            }
        }
        let selfcheck = SelfCheck {
            intro: self.rich(&at, &s.intro, "intro"),
            progress: self.rich(&at, &s.progress, "progress"),
            yes: self.label(&at, &s.yes, "yes", 40),
            no: self.label(&at, &s.no, "no", 40),
            resume: self.label(&at, &s.resume, "resume", 60),
            questions,
            bands,
        };
        (selfcheck, regional)
    }
}

/// Whether `text` gives `number` whole: "15" is not given by "150 mg", nor "111" by
/// "0800 111 0 111".
fn gives_number(text: &str, number: &str) -> bool {
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let mut from = 0;
    while let Some(i) = text[from..].find(number) {
        let at = from + i;
        let end = at + number.len();
        // A digit or a digit group ("0800 111") right before or after makes it another number.
        let before = text[..at].trim_end_matches(' ');
        let glued_before = digit(text[..at].chars().next_back()) || (text[..at].ends_with(' ') && digit(before.chars().next_back()));
        let after = &text[end..];
        let glued_after = digit(after.chars().next()) || (after.starts_with(' ') && digit(after.trim_start_matches(' ').chars().next()));
        if !glued_before && !glued_after {
            return true;
        }
        from = at + 1;
    }
    false
}

/// A topic's answer (or its loved-one version) as long as it gets in any country.
fn longest_answer(topic: &Topic, loved_one: bool) -> &Rich {
    let own = if loved_one { topic.answer_loved_one.as_ref().unwrap_or(&topic.answer) } else { &topic.answer };
    topic
        .regional
        .iter()
        .filter_map(|(a, lo)| if loved_one { lo.as_ref() } else { Some(a) })
        .chain(std::iter::once(own))
        .max_by_key(|r| r.telegram_len())
        .unwrap_or(own)
}

/// The numbers the texts of one region must give, and how messages name them. Without
/// regions, the American ones the texts are written with.
struct Needs {
    emergency: String,
    emergency_what: String,
    crisis: String,
    crisis_what: String,
    helpline: Option<(String, String)>,
    poison: Option<(String, String)>,
    /// " (with regions/gb.toml)", or nothing without regions.
    whose: String,
}

impl Needs {
    fn of(region: Option<&Region>) -> Needs {
        let Some(r) = region else {
            return Needs {
                emergency: "911".into(),
                emergency_what: "911 (emergencies)".into(),
                crisis: "988".into(),
                crisis_what: "the Suicide & Crisis Lifeline".into(),
                helpline: Some((SAMHSA.into(), "the SAMHSA National Helpline".into())),
                poison: Some((POISON_HELP.into(), "Poison Help".into())),
                whose: String::new(),
            };
        };
        let numbered = |s: &Option<Service>| s.as_ref().filter(|s| !s.number.is_empty()).map(|s| (s.number.clone(), s.short.clone()));
        Needs {
            emergency: r.emergency.clone(),
            emergency_what: "the emergency number".into(),
            crisis: r.crisis.as_ref().map_or_else(|| r.emergency.clone(), |c| c.number.clone()),
            crisis_what: r.crisis.as_ref().map_or_else(|| "the crisis line".into(), |c| c.short.clone()),
            helpline: numbered(&r.helpline),
            poison: numbered(&r.poison),
            whose: format!(" (with regions/{}.toml)", r.code),
        }
    }
}

/// The whole `/crisis` page: intro, every block (those of `first` at the top, then the rest,
/// each most urgent first), the note for other countries. Someone who just wrote about
/// suicide reads the 988 block first, not overdose first aid.
pub fn crisis_page(c: &CrisisTexts, first: CrisisSet) -> Rich {
    let mut parts = vec![&c.intro];
    let (mine, rest): (Vec<CrisisKind>, Vec<CrisisKind>) = CrisisKind::ALL.iter().partition(|k| first.contains(**k));
    parts.extend(mine.iter().chain(&rest).map(|k| &c.block(*k).body));
    parts.push(&c.outside_us);
    Rich::join(parts)
}

/// The sources under an answer. In Telegram a folded quote (expanded with a tap) of short
/// linked labels, so that long addresses do not bury the answer on a phone; in plain text
/// (`chat`, `ask`, the fallback when Telegram refuses the HTML) each label with its address.
fn sources_block(heading: &str, sources: &[String]) -> Rich {
    if sources.is_empty() {
        return Rich::default();
    }
    let mut plain = heading.to_owned();
    let mut html = format!("<blockquote expandable>{}", escape_html(heading));
    for s in sources {
        plain.push_str("\n• ");
        plain.push_str(s);
        html.push_str("\n• ");
        match split_source(s) {
            Some((label, url)) => html.push_str(&format!("<a href=\"{}\">{}</a>", escape_html(url), escape_html(label))),
            None => html.push_str(&escape_html(s)),
        }
    }
    html.push_str("</blockquote>");
    Rich { html, plain }
}

/// "FDA, Klonopin label (2023): https://..." as its label and its address.
fn split_source(source: &str) -> Option<(&str, &str)> {
    let at = source.rfind(": http")?;
    let (label, url) = (source[..at].trim(), source[at + 2..].trim());
    (!label.is_empty() && !url.contains(char::is_whitespace)).then_some((label, url))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

/// FNV-1a over every file's path and text: a stable short content version.
fn version_of(files: &[SourceFile]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        for byte in file.relative.bytes().chain([0]).chain(file.text.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{:012x}", hash >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_counts_only_whole() {
        assert!(gives_number("Call 15 now", "15"));
        assert!(gives_number("call 15.", "15"));
        assert!(!gives_number("take 150 mg", "15"));
        assert!(!gives_number("TelefonSeelsorge 0800 111 0 111", "111"));
        assert!(gives_number("Call 111 now", "111"));
        assert!(gives_number("Samaritans 116 123 (free)", "116 123"));
        assert!(!gives_number("no number here", "911"));
    }

    #[test]
    fn sources_fold_into_a_quote_of_short_links_and_stay_whole_in_plain_text() {
        let sources = [
            "FDA, Klonopin label (2023): https://example.org/label.pdf?a=1&b=2".to_owned(),
            "A source with no address".to_owned(),
            "Odd: label: http://example.org/x".to_owned(),
        ];
        let block = sources_block("Sources:", &sources);
        assert_eq!(
            block.html,
            "<blockquote expandable>Sources:\n• <a href=\"https://example.org/label.pdf?a=1&amp;b=2\">FDA, Klonopin label (2023)</a>\n• A source with no address\n• <a href=\"http://example.org/x\">Odd: label</a></blockquote>"
        );
        assert_eq!(block.plain, format!("Sources:\n• {}\n• {}\n• {}", sources[0], sources[1], sources[2]));
        // One paragraph: the splitter never cuts the quote in two.
        assert!(!block.html.contains("\n\n"));
        assert_eq!(sources_block("Sources:", &[]), Rich::default());
    }
}
