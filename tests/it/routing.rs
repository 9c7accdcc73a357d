//! Realistic questions (tests/data/routing.tsv) reach their intended topic: the hit rate is
//! printed (`--nocapture`) and recorded in the README.

use klonopin_bot::content::load_embedded;
use klonopin_bot::engine::{step, Action, Input, State};

#[test]
fn realistic_questions_reach_their_topic() {
    let set = match load_embedded() {
        Ok(l) => l.set,
        Err(d) => panic!("{d:#?}"),
    };
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/routing.tsv");
    let data = std::fs::read_to_string(path).expect("routing.tsv");
    let (mut total, mut direct, mut offered) = (0, 0, 0);
    let mut misses = Vec::new();
    for (i, line) in data.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (topic, question) = line.split_once('\t').unwrap_or_else(|| panic!("routing.tsv:{}: no tab", i + 1));
        assert!(set.topic(topic).is_some(), "routing.tsv:{}: unknown topic {topic}", i + 1);
        total += 1;
        let turn = step(&State::default(), &Input::Text(question), &set);
        let actions: Vec<Action> = turn.messages.iter().flat_map(|m| m.buttons.iter().flatten()).map(|b| b.action.clone()).collect();
        let asked_for_whom = actions.iter().any(|a| matches!(a, Action::Audience(_, id) if id == topic));
        if turn.topic.as_deref() == Some(topic) || asked_for_whom {
            direct += 1;
        } else if turn.topic.is_none() && actions.contains(&Action::Topic(topic.to_owned())) {
            offered += 1;
        } else {
            misses.push(format!("routing.tsv:{}: {question:?} -> {:?} (wanted {topic})", i + 1, turn.topic));
        }
    }
    let pct = |n: usize| 100.0 * n as f64 / total as f64;
    println!("routing: {direct}/{total} answered directly ({:.1}%), {offered} more offered under \"did you mean\" ({:.1}% reachable in one tap)", pct(direct), pct(direct + offered));
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(total >= 150, "the routing set needs 150+ questions");
    assert!(pct(direct) >= 80.0, "direct hit rate fell below 80%");
    assert!(pct(direct + offered) >= 90.0, "one-tap reach fell below 90%");
}
