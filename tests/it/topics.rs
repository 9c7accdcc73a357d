//! Every topic, walked through the engine as a button press: it renders, fits Telegram,
//! cites its sources, and carries its crisis block when it has one.

use klonopin_bot::content::{load_embedded, TELEGRAM_MAX_TEXT};
use klonopin_bot::engine::{step, Action, Input, State};
use klonopin_bot::text::audience::Audience;

#[test]
fn every_topic_renders_fits_cites_and_carries_its_crisis_block() {
    let set = match load_embedded() {
        Ok(l) => l.set,
        Err(d) => panic!("{d:#?}"),
    };
    assert!(set.topics.len() >= 20, "the curated set covers every seed topic");
    let mut problems = Vec::new();
    for topic in &set.topics {
        for audience in [Audience::Myself, Audience::LovedOne] {
            let state = State { audience: Some(audience), ..State::default() };
            let data = Action::Topic(topic.id.clone()).encode();
            let turn = step(&state, &Input::Button(&data), &set);
            let at = format!("{} ({audience:?})", topic.id);
            if turn.topic.as_deref() != Some(topic.id.as_str()) {
                problems.push(format!("{at}: not answered"));
                continue;
            }
            let answer = &turn.messages[0].text;
            if answer.plain.encode_utf16().count() > TELEGRAM_MAX_TEXT {
                problems.push(format!("{at}: {} characters", answer.plain.encode_utf16().count()));
            }
            if !answer.plain.contains(&set.bot.sources_heading) || topic.sources.is_empty() {
                problems.push(format!("{at}: no sources"));
            }
            if !answer.html.starts_with("<b>") {
                problems.push(format!("{at}: does not open with a bold one-line answer"));
            }
            if let Some(kind) = topic.crisis {
                if !turn.crisis.contains(kind) || !answer.plain.contains(&set.crisis.block(kind).body.plain) {
                    problems.push(format!("{at}: missing its {} crisis block", kind.name()));
                }
            }
            if turn.messages[0].buttons.iter().flatten().filter(|b| matches!(b.action, Action::Topic(_))).count() < 2 {
                problems.push(format!("{at}: fewer than two related topics to walk on"));
            }
        }
    }
    let withdrawal_or_overdose = set
        .topics
        .iter()
        .filter(|t| t.id.contains("withdrawal") || t.id.contains("overdose") || t.id.contains("taper"))
        .collect::<Vec<_>>();
    for t in withdrawal_or_overdose {
        if t.crisis.is_none() {
            problems.push(format!("{}: a withdrawal/overdose topic without a crisis kind", t.id));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn readme_lists_every_topic() {
    let set = match load_embedded() {
        Ok(l) => l.set,
        Err(d) => panic!("{d:#?}"),
    };
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    // The topic table: from its header to the first line that is not a table row.
    let rows: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| id (deep link"))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| l.starts_with("| `"))
        .collect();
    let mut missing = Vec::new();
    for topic in &set.topics {
        let expected = format!("| `{}` | {} |", topic.id, topic.title);
        if !rows.iter().any(|r| r.starts_with(&expected)) {
            missing.push(expected);
        }
    }
    let stale: Vec<&&str> = rows.iter().filter(|r| r.split('`').nth(1).is_some_and(|id| set.topic(id).is_none())).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "README's topic table is out of date; missing:\n{}\nno such topic:\n{stale:#?}",
        missing.join("\n")
    );
}
