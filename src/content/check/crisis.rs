//! Crisis blocks (`crisis.toml`) and the numbers each must carry in every country, and the
//! self-check (`selfcheck.toml`).

use super::*;

impl Checker {
    /// `crisis.toml`, once per region (the default first; once as written without regions).
    pub(super) fn crisis(
        &mut self,
        file: &SourceFile,
        c: &CrisisFile,
        by_id: &HashMap<String, usize>,
        regions: &[Region],
    ) -> Vec<CrisisTexts> {
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
    pub(super) fn check_crisis_resources(&mut self, at: &At, kind: CrisisKind, text: &str, offset: usize, region: Option<&Region>) {
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
    pub(super) fn selfcheck(
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

/// The numbers the texts of one region must give, and how messages name them. Without
/// regions, the American ones the texts are written with.
pub(super) struct Needs {
    pub(super) emergency: String,
    pub(super) emergency_what: String,
    pub(super) crisis: String,
    pub(super) crisis_what: String,
    pub(super) helpline: Option<(String, String)>,
    pub(super) poison: Option<(String, String)>,
    /// " (with regions/gb.toml)", or nothing without regions.
    pub(super) whose: String,
}

impl Needs {
    pub(super) fn of(region: Option<&Region>) -> Needs {
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
