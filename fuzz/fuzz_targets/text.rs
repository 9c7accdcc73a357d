//! Normalisation, the crisis rules and the classifier on any text: nothing panics, and a
//! message the crisis rules are sure of always gets crisis guidance first, typed, as a caption and
//! behind a slash.
#![no_main]

use klonopin_bot::engine::{step, Input, State};
use klonopin_bot::text::crisis::CrisisDetector;
use klonopin_bot::text::normalize::normalize;
use klonopin_bot_fuzz::{assert_guidance_first, assert_sendable, CONTENT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let normalized = normalize(&text);
    // "Sure" hits; a word with an everyday sense ("withdrawal" with no drug named) counts only
    // with the model's agreement, so it need not get guidance.
    let flagged = !CrisisDetector::get().detect_graded(&normalized).sure.is_empty();
    let _ = klonopin_bot::engine::reading::crisis_of(&normalized, &CONTENT);
    let slashed = format!("/{}", text.trim_start());
    for input in [Input::from_text(&text), Input::NonText { caption: Some(&text) }, Input::from_text(&slashed)] {
        let turn = step(&State::default(), &input, &CONTENT);
        assert_sendable(&turn);
        if flagged {
            assert_guidance_first(&turn, &text);
        }
    }
});
