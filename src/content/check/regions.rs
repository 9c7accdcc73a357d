//! Countries (`regions/*.toml`): their services and numbers, their words in other
//! languages, and the texts filled with each country's numbers.

use super::*;

impl Checker {
    /// `regions/<code>.toml`, checked, the default region (`[region] default`, else `us`) first
    /// and the others by name.
    /// A translation's (`words`: its prefix and its `regions/` files) gives each country's name
    /// and services in its language.
    pub(super) fn regions(
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
    pub(super) fn say_region(&mut self, file: &SourceFile, w: &RegionWordsFile, region: &mut Region, numbers: &RegionFile) {
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
    pub(super) fn localized(&mut self, at: &At, field: &Text, name: &str, regions: &[Region]) -> Vec<Rich> {
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
}

/// Whether `text` gives `number` whole: "15" is not given by "150 mg", nor "111" by
/// "0800 111 0 111".
pub(super) fn gives_number(text: &str, number: &str) -> bool {
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
}
