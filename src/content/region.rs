//! Regions: one country's numbers, and the texts that give numbers written out with them.
//!
//! The texts that give phone numbers (the crisis blocks, the /crisis page, `help_now`, the
//! greeting) are templates: `{emergency}`, `{crisis_line}`, `{poison}`... filled from
//! `regions/<code>.toml` once per region when content loads. A line whose placeholder the
//! region has no value for is left out, so a country without a national drug helpline loses
//! that bullet, never the block. Pure: values in, text out.

/// Every placeholder a text may use, and what it becomes.
pub const PLACEHOLDERS: [(&str, &str); 12] = [
    ("region", "the country's name"),
    ("emergency", "the emergency number (911, 999, 112...)"),
    ("crisis_line", "the suicide and crisis line, written out with its hours"),
    ("crisis_reach", "how to reach the crisis line, as words after \"please\": \"call or text 988\""),
    ("crisis_short", "the crisis line's name and number"),
    ("poison", "the poison centre, written out (a line without it is left out where there is none)"),
    ("poison_short", "the poison centre's name and number"),
    ("helpline", "the drug or mental-health helpline, written out (left out where there is none)"),
    ("helpline_short", "the helpline's name and number"),
    ("treatment", "where to find treatment (left out where the region gives none)"),
    ("without_poison", "nothing; a line with it is shown only where there is no poison centre"),
    ("without_helpline", "nothing; a line with it is shown only where there is no helpline"),
];

/// One country's numbers, ready to fill templates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// The file's name: `gb` for `regions/gb.toml`.
    pub code: String,
    pub name: String,
    /// Normalized names a person may type for it ("uk", "united kingdom").
    pub names: Vec<String>,
    pub emergency: String,
    pub crisis: Option<Service>,
    pub poison: Option<Service>,
    pub helpline: Option<Service>,
    /// A markup line pointing to treatment, if the region has one.
    pub treatment: Option<String>,
}

/// A phone service, and how it is written out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub number: String,
    /// Name, number, what it is for, hours and cost: "Samaritans 116 123 (free, 24/7)".
    pub line: String,
    /// Name and number: "Samaritans 116 123".
    pub short: String,
    /// Words after "please": "call Samaritans on 116 123" (the crisis line's only).
    pub reach: String,
}

/// The parts of a service as its file gives them (overrides included).
#[derive(Clone, Debug, Default)]
pub struct ServiceParts<'a> {
    pub name: &'a str,
    pub number: &'a str,
    pub hours: Option<&'a str>,
    pub cost: Option<&'a str>,
    pub text: Option<&'a str>,
    pub languages: Option<&'a str>,
    pub about: Option<&'a str>,
    pub source: &'a str,
    pub line: Option<&'a str>,
    pub reach: Option<&'a str>,
    pub short: Option<&'a str>,
}

impl Service {
    /// Writes a service out, unless its file says how.
    pub fn compose(p: &ServiceParts) -> Service {
        let details: Vec<&str> = [p.about, p.cost, p.hours, p.languages].into_iter().flatten().filter(|s| !s.is_empty()).collect();
        let details = if details.is_empty() { String::new() } else { format!(" ({})", details.join(", ")) };
        let text = p.text.filter(|t| !t.is_empty()).map(|t| format!(", or {t}")).unwrap_or_default();
        // A service whose numbers differ by area (Canada's poison centres): its page lists them.
        let (number_part, short) = if p.number.is_empty() {
            (format!("([find the number]({}))", p.source), format!("{} ([numbers]({}))", p.name, p.source))
        } else {
            (p.number.to_owned(), format!("{} {}", p.name, p.number))
        };
        Service {
            number: p.number.to_owned(),
            line: p.line.map_or_else(|| format!("{} {number_part}{text}{details}", p.name), str::to_owned),
            short: p.short.map_or(short, str::to_owned),
            reach: p.reach.map_or_else(|| format!("call {} on {}{text}", p.name, p.number), str::to_owned),
        }
    }
}

impl Region {
    /// The value of a placeholder, or `None` where this region has none.
    pub fn value(&self, placeholder: &str) -> Option<&str> {
        let crisis = self.crisis.as_ref();
        let poison = self.poison.as_ref();
        let helpline = self.helpline.as_ref();
        match placeholder {
            "region" => Some(&self.name),
            "emergency" => Some(&self.emergency),
            "crisis_line" => crisis.map(|s| s.line.as_str()),
            "crisis_reach" => crisis.map(|s| s.reach.as_str()),
            "crisis_short" => crisis.map(|s| s.short.as_str()),
            "poison" => poison.map(|s| s.line.as_str()),
            "poison_short" => poison.map(|s| s.short.as_str()),
            "helpline" => helpline.map(|s| s.line.as_str()),
            "helpline_short" => helpline.map(|s| s.short.as_str()),
            "treatment" => self.treatment.as_deref(),
            "without_poison" => poison.is_none().then_some(""),
            "without_helpline" => helpline.is_none().then_some(""),
            _ => None,
        }
    }
}

/// Every `{name}` in a text (lower-case letters and `_`), with its byte offset.
pub fn placeholders(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut rest = text;
    let mut base = 0;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let len = after.bytes().take_while(|b| b.is_ascii_lowercase() || *b == b'_').count();
        if len > 0 && after.as_bytes().get(len) == Some(&b'}') {
            found.push((base + open, &after[..len]));
        }
        base += open + 1;
        rest = after;
    }
    found
}

/// Whether a text uses any placeholder of [`PLACEHOLDERS`].
pub fn is_template(text: &str) -> bool {
    placeholders(text).iter().any(|(_, name)| PLACEHOLDERS.iter().any(|(p, _)| p == name))
}

/// The text with the region's values; a line with a placeholder the region lacks is left
/// out (with a blank line left over where it stood alone). Unknown placeholders stay as
/// they are (the content check reports them).
pub fn fill(template: &str, region: &Region) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    for line in template.split_inclusive('\n') {
        let known: Vec<(usize, &str)> = placeholders(line).into_iter().filter(|(_, n)| PLACEHOLDERS.iter().any(|(p, _)| p == n)).collect();
        if known.iter().any(|(_, name)| region.value(name).is_none()) {
            continue;
        }
        let mut at = 0;
        for (offset, name) in known {
            out.push_str(&line[at..offset]);
            out.push_str(region.value(name).unwrap_or_default());
            at = offset + name.len() + 2;
        }
        out.push_str(&line[at..]);
    }
    // A dropped paragraph leaves its blank lines behind: keep one.
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(helpline: bool) -> Region {
        let service = |name: &str, number: &str| {
            Service::compose(&ServiceParts {
                name,
                number,
                hours: Some("24/7"),
                cost: Some("free"),
                source: "https://x.example",
                ..Default::default()
            })
        };
        Region {
            code: "gb".into(),
            name: "the United Kingdom".into(),
            names: vec!["uk".into()],
            emergency: "999".into(),
            crisis: Some(service("Samaritans", "116 123")),
            poison: None,
            helpline: helpline.then(|| service("FRANK", "0300 123 6600")),
            treatment: None,
        }
    }

    #[test]
    fn composes_a_service_from_its_parts_unless_told_how() {
        let s = Service::compose(&ServiceParts {
            name: "Samaritans",
            number: "116 123",
            hours: Some("24/7"),
            cost: Some("free"),
            source: "https://www.samaritans.org",
            ..Default::default()
        });
        assert_eq!(s.line, "Samaritans 116 123 (free, 24/7)");
        assert_eq!(s.short, "Samaritans 116 123");
        assert_eq!(s.reach, "call Samaritans on 116 123");
        let told = Service::compose(&ServiceParts {
            name: "988",
            number: "988",
            source: "https://988lifeline.org",
            line: Some("988 Lifeline: call or text 988"),
            reach: Some("call or text 988"),
            ..Default::default()
        });
        assert_eq!((told.line.as_str(), told.reach.as_str()), ("988 Lifeline: call or text 988", "call or text 988"));
        let listed =
            Service::compose(&ServiceParts { name: "Your poison centre", number: "", source: "https://p.example", ..Default::default() });
        assert_eq!(listed.line, "Your poison centre ([find the number](https://p.example))");
    }

    #[test]
    fn fills_placeholders_and_drops_lines_the_region_cannot_fill() {
        let template = "**Call {emergency} now.**\n\n- {crisis_line}\n- {helpline}\n\nPoison: {poison}\n\nNo poison centre: call {emergency}.{without_poison}\n\nYou are not alone, {region}.";
        assert_eq!(
            fill(template, &region(true)),
            "**Call 999 now.**\n\n- Samaritans 116 123 (free, 24/7)\n- FRANK 0300 123 6600 (free, 24/7)\n\nNo poison centre: call 999.\n\nYou are not alone, the United Kingdom."
        );
        assert_eq!(
            fill(template, &region(false)),
            "**Call 999 now.**\n\n- Samaritans 116 123 (free, 24/7)\n\nNo poison centre: call 999.\n\nYou are not alone, the United Kingdom."
        );
    }

    #[test]
    fn finds_placeholders_and_leaves_other_braces() {
        assert_eq!(placeholders("a {emergency} b {x_y} {Not} {} {title"), vec![(2, "emergency"), (16, "x_y")]);
        assert!(is_template("call {emergency}"));
        assert!(!is_template("Question {n} of 11"));
        assert_eq!(fill("{unknown} stays", &region(true)), "{unknown} stays");
    }
}
