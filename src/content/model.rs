//! The validated, immutable response set the engine reads: every text the bot can say.

use std::collections::HashMap;

use super::render::Rich;
use std::sync::Arc;

pub use super::examples::IntentTarget;
use crate::text::crisis::CrisisKind;
use crate::text::model::{Classifier, Thresholds};
use crate::text::topics::TopicMatcher;

/// Everything the bot says, validated. Built by [`super::load`]; never changed afterwards
/// (a reload builds a new one and swaps it whole).
pub struct ResponseSet {
    /// A short hash of every source file: which content a running bot serves.
    pub version: String,
    pub bot: BotTexts,
    pub crisis: CrisisTexts,
    pub selfcheck: SelfCheck,
    pub topics: Vec<Topic>,
    /// Shared with the set's translations: phrasings in every language lead to a topic.
    pub matcher: Arc<TopicMatcher>,
    /// The classifier trained on `examples/`; `None` when the folder has no examples (the
    /// phrase rules and the term matcher then decide alone).
    pub classifier: Option<Arc<Classifier>>,
    /// What each of the classifier's intents leads to.
    pub intents: Vec<IntentTarget>,
    /// The countries whose numbers the bot knows (`regions/`), the default one first; its
    /// texts are `crisis` and `bot`'s own. Empty when the folder has no regions.
    pub regions: Vec<RegionTexts>,
    /// How a chat chooses its region (`[region]` in `bot.toml`), when there is a choice.
    pub region_choice: Option<RegionChoice>,
    pub(crate) by_id: HashMap<String, usize>,
    /// This set's language code (`en` for the folder itself, `es` for `responses/es/`).
    pub language: String,
    /// The same topics, crisis kinds and self-check in other languages (`responses/<code>/`),
    /// sharing this set's matcher, classifier and thresholds. Empty in a translation.
    pub translations: Vec<Arc<ResponseSet>>,
}

impl ResponseSet {
    /// The set in `code`'s language (this one for its own code or an unknown one).
    pub fn in_language(&self, code: &str) -> &ResponseSet {
        self.translations.iter().find(|t| t.language == code).map_or(self, |t| t)
    }

    /// This set and its translations, this one first.
    pub fn languages(&self) -> impl Iterator<Item = &ResponseSet> {
        std::iter::once(self).chain(self.translations.iter().map(|t| &**t))
    }

    /// The language of an app's language tag ("es-MX" -> "es"), if the set has it.
    pub fn language_of_tag(&self, tag: &str) -> Option<&str> {
        let code = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        self.languages().map(|s| s.language.as_str()).find(|l| *l == code)
    }

    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.by_id.get(id).map(|i| &self.topics[*i])
    }

    /// A region other than the default, by code.
    pub fn other_region(&self, code: &str) -> Option<&RegionTexts> {
        self.regions.iter().skip(1).find(|r| r.region.code == code)
    }
}

/// The texts that give numbers, written out with one region's numbers.
pub struct RegionTexts {
    pub region: crate::content::region::Region,
    pub crisis: CrisisTexts,
    pub help_now: Rich,
    pub greeting: Rich,
    pub help: Rich,
    pub about: Rich,
    /// Under answers that give American numbers ("In {region}: emergency {emergency}...").
    pub us_numbers: Rich,
    /// The self-check's result texts, band by band (as `SelfCheck::bands`).
    pub bands: Vec<Rich>,
}

/// Choosing a region: the button under crisis guidance, the question, and "another country".
pub struct RegionChoice {
    pub button: String,
    pub prompt: Rich,
    pub other_button: String,
    pub other: Rich,
    /// Normalized names of countries without a file (`[region] elsewhere`), which lead to
    /// `other`.
    pub elsewhere: Vec<String>,
}

/// The bot's own texts (`bot.toml`).
pub struct BotTexts {
    pub greeting: Rich,
    pub help: Rich,
    pub menu_prompt: Rich,
    /// Topic ids on the main menu, in order.
    pub menu: Vec<String>,
    pub fallback: Rich,
    pub did_you_mean: Rich,
    pub privacy: Rich,
    pub about: Rich,
    pub audience_self: String,
    pub audience_loved_one: String,
    pub cancelled: Rich,
    pub forgotten: Rich,
    pub non_text: Rich,
    /// The closing line of every reply that shows no crisis guidance: help is always one
    /// line away, even when the detector misses a crisis described in other words.
    pub help_now: Rich,
    pub button_menu: String,
    pub button_crisis: String,
    pub button_selfcheck: String,
    pub sources_heading: String,
    /// Command name and its one-line description, for Telegram's command menu.
    pub commands: Vec<(String, String)>,
    /// The check-in question and its two buttons (help now, just a question), if set.
    pub check_in: Option<CheckIn>,
    /// Telegram's description of the bot (the empty chat, before Start) and its short
    /// description (profile, shares): plain text, set at start-up when given.
    pub description: Option<String>,
    pub short_description: Option<String>,
    /// The reply to a typed question that leads to the answer just given, with `{title}`;
    /// without it the answer is sent again.
    pub repeat: Option<Rich>,
    /// Small-talk replies, by intent name.
    pub smalltalk: Vec<(String, Rich)>,
    pub thresholds: Thresholds,
    /// This language's name and the `/language` question, when the set has translations.
    pub language: Option<LanguageTexts>,
}

/// `[language]` in `bot.toml`.
pub struct LanguageTexts {
    /// The language's name in itself ("Español"): its button's label.
    pub name: String,
    pub prompt: Rich,
}

/// "Are you or someone with you in danger right now?" and its buttons.
pub struct CheckIn {
    pub question: Rich,
    pub yes: String,
    pub no: String,
}

/// The crisis guidance (`crisis.toml`).
pub struct CrisisTexts {
    pub intro: Rich,
    pub outside_us: Rich,
    pub overdose: CrisisBlock,
    pub withdrawal: CrisisBlock,
    pub self_harm: CrisisBlock,
}

impl CrisisTexts {
    /// No texts (a default region's slot: its texts are the set's own).
    pub fn empty() -> CrisisTexts {
        let block = || CrisisBlock { body: Rich::default(), again: Rich::default(), topics: Vec::new() };
        CrisisTexts { intro: Rich::default(), outside_us: Rich::default(), overdose: block(), withdrawal: block(), self_harm: block() }
    }

    pub fn block(&self, kind: CrisisKind) -> &CrisisBlock {
        match kind {
            CrisisKind::Overdose => &self.overdose,
            CrisisKind::Withdrawal => &self.withdrawal,
            CrisisKind::SelfHarm => &self.self_harm,
        }
    }
}

pub struct CrisisBlock {
    pub body: Rich,
    /// Shown instead of `body` when the reply before showed this block (same checks); the
    /// full block is a tap away (/crisis). `body` itself when the folder sets none.
    pub again: Rich,
    /// Topics offered as buttons under this block.
    pub topics: Vec<String>,
}

/// The self-check (`selfcheck.toml`).
pub struct SelfCheck {
    pub intro: Rich,
    /// "Question {n} of {total}".
    pub progress: Rich,
    pub yes: String,
    pub no: String,
    /// Label of the button that goes back to the current question.
    pub resume: String,
    pub questions: Vec<Rich>,
    pub bands: Vec<Band>,
}

impl SelfCheck {
    /// The band for a number of "yes" answers (validation guarantees exactly one).
    pub fn band(&self, yes: usize) -> Option<&Band> {
        self.bands.iter().find(|b| b.min <= yes && yes <= b.max)
    }
}

pub struct Band {
    pub min: usize,
    pub max: usize,
    pub text: Rich,
    pub topics: Vec<String>,
}

/// One topic (`topics/<id>.toml`).
pub struct Topic {
    pub id: String,
    pub title: String,
    /// The crisis block this topic always carries.
    pub crisis: Option<CrisisKind>,
    pub phrasings: Vec<String>,
    pub keywords: Vec<String>,
    pub related: Vec<String>,
    pub sources: Vec<String>,
    /// Body and sources, ready to send (the crisis block is added by the engine).
    pub answer: Rich,
    /// The same for someone asking about a person they care about.
    pub answer_loved_one: Option<Rich>,
    /// A topic that gives numbers (`{crisis_reach}`...): both versions written out with each
    /// region's numbers, as `ResponseSet::regions` (the first is `answer`); empty otherwise.
    pub regional: Vec<(Rich, Option<Rich>)>,
}
