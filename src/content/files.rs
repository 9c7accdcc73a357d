//! The response files as written: serde shapes with source positions, before validation.
//!
//! `deny_unknown_fields` everywhere, so a misspelt field is an error with its line and column
//! instead of a text that silently never shows.

use serde::Deserialize;
use toml::Spanned;

pub type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicFile {
    pub id: Text,
    pub title: Text,
    #[serde(default)]
    pub crisis: Option<Text>,
    #[serde(default)]
    pub phrasings: Vec<Text>,
    #[serde(default)]
    pub keywords: Vec<Text>,
    #[serde(default)]
    pub related: Vec<Text>,
    #[serde(default)]
    pub sources: Vec<Text>,
    pub body: Text,
    #[serde(default)]
    pub loved_one: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotFile {
    pub greeting: Text,
    pub help: Text,
    pub menu_prompt: Text,
    pub menu: Vec<Text>,
    pub fallback: Text,
    pub did_you_mean: Text,
    pub privacy: Text,
    pub about: Text,
    /// No longer used (the bot answers first and offers the other version as a button);
    /// accepted so that older folders still load, with a warning.
    #[serde(default)]
    pub audience_question: Option<Text>,
    pub audience_self: Text,
    pub audience_loved_one: Text,
    pub cancelled: Text,
    pub forgotten: Text,
    pub non_text: Text,
    pub help_now: Text,
    pub button_menu: Text,
    pub button_crisis: Text,
    pub button_selfcheck: Text,
    pub sources_heading: Text,
    pub commands: Commands,
    /// The calm question asked when a message may describe a crisis (the model's check-in band).
    #[serde(default)]
    pub check_in: Option<Text>,
    #[serde(default)]
    pub button_check_in_yes: Option<Text>,
    #[serde(default)]
    pub button_check_in_no: Option<Text>,
    /// What Telegram shows before a person presses Start (plain text, at most 512 characters).
    #[serde(default)]
    pub description: Option<Text>,
    /// What Telegram shows on the bot's profile and when it is shared (at most 120).
    #[serde(default)]
    pub short_description: Option<Text>,
    /// The reply when a typed question leads to the answer just given ("{title}" is its title).
    #[serde(default)]
    pub repeat: Option<Text>,
    /// Replies to small talk, by intent name (`examples/smalltalk/<name>.txt`).
    #[serde(default)]
    pub smalltalk: std::collections::BTreeMap<String, Text>,
    /// The classifier's thresholds.
    #[serde(default)]
    pub model: Option<ModelFile>,
    /// Choosing a country for the numbers (needed once `regions/` has more than one).
    #[serde(default)]
    pub region: Option<RegionChoiceFile>,
    /// This language's name and the `/language` question (needed once a translation exists).
    #[serde(default)]
    pub language: Option<LanguageFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageFile {
    /// The language's name in itself ("English", "Español"): the label of its button.
    pub name: Text,
    /// The question above one button per language (`/language`).
    pub prompt: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionChoiceFile {
    /// The region shown until a chat chooses one (a file in `regions/`).
    pub default: Text,
    /// The button under crisis guidance that opens the choice.
    pub button: Text,
    /// The question above the countries' buttons.
    pub prompt: Text,
    /// The last button, for a country not in the list, and its reply.
    pub other_button: Text,
    pub other: Text,
    /// Under an answer that gives American numbers, once a chat chose another country.
    #[serde(default)]
    pub us_numbers: Option<Text>,
    /// Names of countries without a file ("mexico"): a chat that says it is there gets
    /// `other`'s reply instead of "not sure what you are asking".
    #[serde(default)]
    pub elsewhere: Vec<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub crisis: Spanned<f32>,
    pub check_in: Spanned<f32>,
    /// Optional: older folders have no `confirm` line.
    pub confirm: Option<Spanned<f32>>,
    pub kind: Spanned<f32>,
    pub answer: Spanned<f32>,
    pub suggest: Spanned<f32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    pub start: Text,
    pub help: Text,
    pub topics: Text,
    pub crisis: Text,
    pub selfcheck: Text,
    pub cancel: Text,
    pub privacy: Text,
    pub forget: Text,
    pub about: Text,
    #[serde(default)]
    pub region: Option<Text>,
    #[serde(default)]
    pub language: Option<Text>,
}

impl Commands {
    pub fn entries(&self) -> Vec<(&'static str, &Text)> {
        let mut entries = vec![
            ("start", &self.start),
            ("topics", &self.topics),
            ("crisis", &self.crisis),
            ("selfcheck", &self.selfcheck),
            ("help", &self.help),
            ("cancel", &self.cancel),
            ("privacy", &self.privacy),
            ("forget", &self.forget),
            ("about", &self.about),
        ];
        if let Some(region) = &self.region {
            entries.push(("region", region));
        }
        if let Some(language) = &self.language {
            entries.push(("language", language));
        }
        entries
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisFile {
    pub intro: Text,
    pub outside_us: Text,
    /// Under whole blocks once a chat chose a region other than the default (`{region}`).
    #[serde(default)]
    pub region_note: Option<Text>,
    pub overdose: CrisisBlockFile,
    pub withdrawal: CrisisBlockFile,
    #[serde(rename = "self-harm")]
    pub self_harm: CrisisBlockFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisBlockFile {
    pub body: Text,
    /// Optional: the shorter block shown when the reply before already showed this one.
    #[serde(default)]
    pub again: Option<Text>,
    #[serde(default)]
    pub topics: Vec<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfCheckFile {
    pub intro: Text,
    pub progress: Text,
    pub yes: Text,
    pub no: Text,
    pub resume: Text,
    pub questions: Vec<Text>,
    pub bands: Vec<Spanned<BandFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandFile {
    pub min: usize,
    pub max: usize,
    pub text: Text,
    #[serde(default)]
    pub topics: Vec<Text>,
}

/// `regions/<code>.toml`: one country's numbers, each with the source it was checked against.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionFile {
    pub name: Text,
    /// Lower-case names a person might type for the country.
    #[serde(default)]
    pub names: Vec<Text>,
    /// Its biggest cities and regions: "i'm in london" places the writer as "uk" does.
    #[serde(default)]
    pub cities: Vec<Text>,
    /// When the numbers were last checked against their sources (YYYY-MM-DD).
    pub checked: Text,
    pub emergency: EmergencyFile,
    #[serde(default)]
    pub crisis: Option<ServiceFile>,
    #[serde(default)]
    pub poison: Option<ServiceFile>,
    #[serde(default)]
    pub helpline: Option<ServiceFile>,
    /// A line (markup) pointing to treatment: "Find a program at [FindTreatment.gov](...)".
    #[serde(default)]
    pub treatment: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyFile {
    pub number: Text,
    /// Another number that works too (112 in much of the world).
    #[serde(default)]
    pub also: Option<Text>,
    pub source: Text,
}

/// A phone service. `line`, `reach` and `short` override how it is written out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    pub name: Text,
    pub number: Text,
    #[serde(default)]
    pub hours: Option<Text>,
    #[serde(default)]
    pub cost: Option<Text>,
    #[serde(default)]
    pub text: Option<Text>,
    #[serde(default)]
    pub languages: Option<Text>,
    #[serde(default)]
    pub about: Option<Text>,
    /// A note for operators (never shown).
    #[serde(default)]
    #[allow(dead_code)]
    pub note: Option<serde::de::IgnoredAny>,
    pub source: Text,
    #[serde(default)]
    pub line: Option<Text>,
    #[serde(default)]
    pub reach: Option<Text>,
    #[serde(default)]
    pub short: Option<Text>,
}

/// `<language>/regions/<code>.toml`: a country's services in a translation's words. The
/// numbers and their sources stay in `regions/<code>.toml`; each text here must give the
/// same number.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionWordsFile {
    pub name: Text,
    /// The emergency number as the texts write it, where the folder's file says more than
    /// digits ("112 (from a mobile phone)").
    #[serde(default)]
    pub emergency: Option<Text>,
    #[serde(default)]
    pub treatment: Option<Text>,
    #[serde(default)]
    pub crisis: Option<ServiceWordsFile>,
    #[serde(default)]
    pub poison: Option<ServiceWordsFile>,
    #[serde(default)]
    pub helpline: Option<ServiceWordsFile>,
}

/// A service written out in a translation: `line`, `short`, and (the crisis line's) `reach`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceWordsFile {
    pub line: Text,
    pub short: Text,
    #[serde(default)]
    pub reach: Option<Text>,
    /// A note for operators (never shown).
    #[serde(default)]
    #[allow(dead_code)]
    pub note: Option<serde::de::IgnoredAny>,
}
