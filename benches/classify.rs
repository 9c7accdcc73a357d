//! Classification speed: normalize + crisis detection + topic matching for one message.
//!
//! Budget (issue "Conversation engine"): under 20 µs median for a 100-character message.
//! Run: `cargo bench --bench classify`; figures go in the README as medians.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use klonopin_bot::content::load_embedded;
use klonopin_bot::engine::{step, Input, State};
use klonopin_bot::text::crisis::CrisisDetector;
use klonopin_bot::text::normalize::normalize;

/// Typical 100-character messages: a question, a crisis, slang with typos.
const MESSAGES: [&str; 3] = [
    "hi, my doctor put me on klonopin for panic attacks last month. is it addictive if I take it daily?",
    "my son stopped taking his klonnies 3 days ago and now he is shaking and cant sleep, what do we do??",
    "sied efects of klonipin?? i feel sooo sleepy and dizzy all day at work, is that normal or not ok..",
];

fn bench(c: &mut Criterion) {
    let set = match load_embedded() {
        Ok(loaded) => loaded.set,
        Err(diags) => panic!("responses invalid: {diags:?}"),
    };
    let detector = CrisisDetector::get();
    for (i, message) in MESSAGES.iter().enumerate() {
        assert!((95..=105).contains(&message.len()), "message {i} is {} chars", message.len());
        c.bench_function(&format!("classify/{i}"), |b| {
            b.iter(|| {
                let normalized = normalize(black_box(message));
                let crisis = detector.detect(&normalized);
                let outcome = set.matcher.classify(&normalized);
                black_box((crisis, outcome))
            })
        });
    }
    let normalized = normalize(MESSAGES[1]);
    c.bench_function("stage/normalize", |b| b.iter(|| black_box(normalize(black_box(MESSAGES[1])))));
    c.bench_function("stage/crisis", |b| b.iter(|| black_box(detector.detect(black_box(&normalized)))));
    c.bench_function("stage/topics", |b| b.iter(|| black_box(set.matcher.classify(black_box(&normalized)))));
    c.bench_function("step/free-text", |b| {
        let state = State::default();
        b.iter(|| black_box(step(&state, &Input::Text(black_box(MESSAGES[0])), &set)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
