//! `engine::step` from random states with random inputs (text, button data, captions,
//! commands): every reply can be sent to Telegram, the new state round-trips through JSON (as
//! every store keeps it), and crisis guidance comes first in every state.
#![no_main]

use klonopin_bot::engine::{step_in, Flow, Input, Next, State};
use klonopin_bot::text::crisis::{CrisisDetector, CrisisKind, CrisisSet};
use klonopin_bot::text::normalize::normalize;
use klonopin_bot_fuzz::{assert_guidance_first, assert_sendable, CONTENT};
use libfuzzer_sys::fuzz_target;

fn pick<'a>(options: &'a [&'a str], byte: u8) -> Option<&'a str> {
    options.get(byte as usize % (options.len() + 1)).copied()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let (head, rest) = data.split_at(6);
    let text = String::from_utf8_lossy(rest);
    let topics: Vec<&str> = CONTENT.topics.iter().map(|t| t.id.as_str()).chain(["no-such-topic"]).collect();
    let regions: Vec<&str> = CONTENT.regions.iter().map(|r| r.region.code.as_str()).chain(["zz"]).collect();
    let flow = match head[0] % 3 {
        0 => Flow::Idle,
        1 => Flow::SelfCheck { next: head[1] % 16, yes: u16::from_le_bytes([head[2], head[3]]) },
        _ => Flow::Audience { topic: pick(&topics, head[1]).unwrap_or("").to_owned() },
    };
    let mut last_crisis = CrisisSet::default();
    for (bit, kind) in [CrisisKind::Overdose, CrisisKind::Withdrawal, CrisisKind::SelfHarm].into_iter().enumerate() {
        if head[4] & (1 << bit) != 0 {
            last_crisis.insert(kind);
        }
    }
    let region = pick(&regions, head[5]).map(str::to_owned);
    // The chat's language: none, one of the content's, or one it does not have.
    let language = match head[3] % 4 {
        0 | 1 => None,
        2 => Some("es".to_owned()),
        _ => Some("xx".to_owned()),
    };
    // Whether the last reply asked the check-in question (a typed "yes" then answers it).
    let asked_check_in = head[4] & 0x80 != 0;
    let state = State {
        flow,
        last_topic: pick(&topics, head[2]).map(str::to_owned),
        last_crisis,
        region,
        language,
        asked_check_in,
        ..State::default()
    };
    let input = match head[4] >> 4 {
        0..=9 => Input::from_text(&text),
        10..=12 => Input::Button(&text),
        _ => Input::NonText { caption: (head[5] & 1 == 0).then_some(&*text) },
    };
    // The app's language too: none, Spanish, English, or one the content lacks.
    let app = [None, Some("es-MX"), Some("en-GB"), Some("de")][usize::from(head[1] % 4)];
    let turn = step_in(&state, &input, &CONTENT, app);
    assert_sendable(&turn);
    if let Input::Text(t) | Input::NonText { caption: Some(t) } = input {
        if !CrisisDetector::get().detect_graded(&normalize(t)).sure.is_empty() {
            assert_guidance_first(&turn, t);
        }
    }
    if let Next::Keep(next) = &turn.next {
        let json = serde_json::to_string(next).expect("a state serialises");
        let back: State = serde_json::from_str(&json).expect("a stored state reads back");
        assert_eq!(&back, next, "the state did not round-trip: {json}");
    }
});
