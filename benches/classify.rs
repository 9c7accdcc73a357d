//! Classification speed: how the engine reads one message (normalize, crisis rules, the
//! classifier's embedding, n-grams and heads, routing), and what content load costs with
//! training.
//!
//! Budgets (issue #10): reading a 100-character message under 50 µs median; loading the
//! shipped content, training included, under 2 s. Run: `cargo bench --bench classify`;
//! figures go in the README as medians.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use klonopin_bot::content::load_embedded;
use klonopin_bot::engine::reading::read;
use klonopin_bot::engine::{step, Input, State};
use klonopin_bot::text::crisis::CrisisDetector;
use klonopin_bot::text::model::embedding::embed;
use klonopin_bot::text::model::features::extract;
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
                black_box(read(&normalized, &set))
            })
        });
    }
    let normalized = normalize(MESSAGES[1]);
    c.bench_function("stage/normalize", |b| b.iter(|| black_box(normalize(black_box(MESSAGES[1])))));
    c.bench_function("stage/crisis", |b| b.iter(|| black_box(detector.detect(black_box(&normalized)))));
    c.bench_function("stage/topics", |b| b.iter(|| black_box(set.matcher.classify(black_box(&normalized)))));
    c.bench_function("stage/embedding", |b| b.iter(|| black_box(embed(black_box(&normalized)))));
    c.bench_function("stage/features", |b| b.iter(|| black_box(extract(black_box(&normalized)))));
    let model = set.classifier.as_deref().expect("the shipped content trains a classifier");
    c.bench_function("stage/model", |b| b.iter(|| black_box(model.scores(black_box(&normalized)))));
    c.bench_function("step/free-text", |b| {
        let state = State::default();
        b.iter(|| black_box(step(&state, &Input::Text(black_box(MESSAGES[0])), &set)))
    });
}

/// Content load with training. The classifier memoizes by the examples' hash, so each run
/// changes one example to train anew, as a reload after an operator's edit does.
fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    let files = klonopin_bot::content::embedded_files();
    let mut n = 0u64;
    group.bench_function("content+training", |b| {
        b.iter(|| {
            n += 1;
            let mut files = files.clone();
            if let Some(f) = files.iter_mut().find(|f| f.relative == "examples/not-crisis.txt") {
                f.text.push_str(&format!("\nbench line {n}"));
            }
            black_box(klonopin_bot::content::load(&files).is_ok())
        })
    });
    group.finish();
}

criterion_group!(benches, bench, load);
criterion_main!(benches);
