//! Topics: each file's fields, the answers' lengths in every country, ids, links between
//! topics, and that every topic can be reached by a typed question.

use super::*;

impl Checker {
    pub(super) fn check_answer_length(&mut self, at: &At, answer: &Rich, field: &str) {
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
    pub(super) fn check_reachable(&mut self, files: &[SourceFile], topics: &[Topic], matcher: &TopicMatcher) {
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

    pub(super) fn topics<'f>(&mut self, parsed: &[(&'f SourceFile, Option<TopicFile>)]) -> Vec<(Topic, (&'f SourceFile, Vec<Text>))> {
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

    pub(super) fn topic_refs(&mut self, at: &At, refs: &[Text], by_id: &HashMap<String, usize>, what: &str) -> Vec<String> {
        for r in refs {
            if !by_id.contains_key(r.get_ref()) {
                self.error(at, r.span().start, format!("{what} names topic \"{}\", which does not exist", r.get_ref()));
            }
        }
        refs.iter().map(|r| r.get_ref().clone()).collect()
    }
}

/// A topic's answer (or its loved-one version) as long as it gets in any country.
pub(super) fn longest_answer(topic: &Topic, loved_one: bool) -> &Rich {
    let own = if loved_one { topic.answer_loved_one.as_ref().unwrap_or(&topic.answer) } else { &topic.answer };
    topic
        .regional
        .iter()
        .filter_map(|(a, lo)| if loved_one { lo.as_ref() } else { Some(a) })
        .chain(std::iter::once(own))
        .max_by_key(|r| r.telegram_len())
        .unwrap_or(own)
}
