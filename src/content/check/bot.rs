//! `bot.toml`: the bot's texts, the region choice and its `elsewhere` list, the check-in
//! question, the model's thresholds, the help line.

use super::*;

impl Checker {
    /// `bot.toml`: its texts (those that give numbers in the default region's), the same
    /// texts for every region (`[help_now, greeting, help, about, us_numbers]`), and the
    /// region choice.
    pub(super) fn bot(
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
    pub(super) fn region_choice(&mut self, at: &At, b: &BotFile, regions: &[Region]) -> Option<RegionChoice> {
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
    pub(super) fn elsewhere(&mut self, at: &At, names: &[Text], regions: &[Region]) -> Vec<String> {
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

    pub(super) fn check_in(&mut self, at: &At, b: &BotFile) -> Option<CheckIn> {
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
    pub(super) fn thresholds(&mut self, at: &At, m: Option<&files::ModelFile>) -> Thresholds {
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
    pub(super) fn help_now(&mut self, at: &At, text: &Text, regions: &[Region]) -> Vec<Rich> {
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
}
