//! The crisis detector against its labelled test set: recall, per-kind recall, false positives.
//!
//! `tests/data/crisis/positive.tsv` and `benign.tsv` were written independently of the
//! detector. Recall on explicit withdrawal/overdose mentions must be 100%; the figures are
//! printed (run with `--nocapture`) and recorded in the README.

use klonopin_bot::text::crisis::{CrisisDetector, CrisisKind};
use klonopin_bot::text::normalize::normalize;

struct Case {
    kinds: Vec<CrisisKind>,
    explicit: bool,
    text: String,
    line: usize,
}

fn read(name: &str) -> Vec<Case> {
    let path = format!("{}/tests/data/crisis/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, line)| {
            let mut fields = line.splitn(3, '\t');
            let (kinds, class, text) = (fields.next().unwrap(), fields.next().unwrap(), fields.next().unwrap());
            let kinds = if kinds == "-" {
                Vec::new()
            } else {
                kinds.split(',').map(|k| CrisisKind::from_name(k.trim()).unwrap_or_else(|| panic!("{path}:{}: kind {k}", i + 1))).collect()
            };
            Case { kinds, explicit: class == "explicit", text: text.to_owned(), line: i + 1 }
        })
        .collect()
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 { 100.0 } else { 100.0 * n as f64 / d as f64 }
}

#[test]
fn crisis_detector_recall_and_false_positives() {
    let detector = CrisisDetector::get();
    let positives = read("positive.tsv");
    let benign = read("benign.tsv");
    assert!(positives.len() >= 300 && benign.len() >= 300, "the set needs 300+ of each");

    let mut missed = Vec::new();
    let mut kind_missed = Vec::new();
    let mut explicit_missed = Vec::new();
    let (mut detected, mut explicit_total, mut kind_exact) = (0, 0, 0);
    let mut per_kind = [(0usize, 0usize); 3];
    for case in &positives {
        let found = detector.detect(&normalize(&case.text));
        if case.explicit {
            explicit_total += 1;
        }
        if found.is_empty() {
            missed.push(format!("positive.tsv:{}: {}", case.line, case.text));
            if case.explicit {
                explicit_missed.push(format!("positive.tsv:{}: {}", case.line, case.text));
            }
        } else {
            detected += 1;
        }
        if case.kinds.iter().all(|k| found.contains(*k)) {
            kind_exact += 1;
        }
        for k in &case.kinds {
            let slot = &mut per_kind[*k as usize];
            slot.1 += 1;
            if found.contains(*k) {
                slot.0 += 1;
            } else {
                if !found.is_empty() {
                    kind_missed.push(format!("positive.tsv:{}: no {} in: {}", case.line, k.name(), case.text));
                }
                if case.explicit && *k != CrisisKind::SelfHarm {
                    explicit_missed.push(format!("positive.tsv:{}: {} (no {})", case.line, case.text, k.name()));
                }
            }
        }
    }
    let false_positives: Vec<String> = benign
        .iter()
        .filter(|c| !detector.detect(&normalize(&c.text)).is_empty())
        .map(|c| format!("benign.tsv:{}: {}", c.line, c.text))
        .collect();

    println!("crisis set: {} positive ({} explicit), {} benign", positives.len(), explicit_total, benign.len());
    println!("recall (any crisis guidance): {detected}/{} = {:.1}%", positives.len(), pct(detected, positives.len()));
    println!("recall (every expected kind): {kind_exact}/{} = {:.1}%", positives.len(), pct(kind_exact, positives.len()));
    for kind in CrisisKind::ALL {
        let (hit, total) = per_kind[kind as usize];
        println!("  {:<10} {hit}/{total} = {:.1}%", kind.name(), pct(hit, total));
    }
    println!("false positives: {}/{} = {:.1}%", false_positives.len(), benign.len(), pct(false_positives.len(), benign.len()));
    for m in &missed {
        println!("  missed: {m}");
    }
    for m in &kind_missed {
        println!("  other guidance only: {m}");
    }
    for f in &false_positives {
        println!("  false positive: {f}");
    }

    assert!(explicit_missed.is_empty(), "explicit withdrawal/overdose mentions must all be caught:\n{}", explicit_missed.join("\n"));
    assert!(pct(detected, positives.len()) >= 97.0, "overall recall fell below 97%");
    assert!(pct(false_positives.len(), benign.len()) <= 5.0, "false positives rose above 5%");
}

/// The crisis rule end to end through the engine: every positive message the detector
/// recognises must bring crisis guidance (an emergency line and SAMHSA in the first reply)
/// in every dialogue state and in every form a person can send it: typed, as a photo
/// caption, or with a slash in front as if it were a command ("/overdose ...").
#[test]
fn every_detected_crisis_message_gets_guidance_in_every_state_and_form() {
    use klonopin_bot::content::load_embedded;
    use klonopin_bot::engine::{step, Flow, Input, State};

    let set = match load_embedded() {
        Ok(loaded) => loaded.set,
        Err(diags) => panic!("shipped responses are invalid: {diags:#?}"),
    };
    let states = [
        State::default(),
        State { flow: Flow::Audience { topic: "dosage".into() }, audience: None },
        State { flow: Flow::SelfCheck { next: 2, yes: 0b11 }, audience: None },
    ];
    let detector = CrisisDetector::get();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in read("positive.tsv").iter().filter(|c| !detector.detect(&normalize(&c.text)).is_empty()) {
        let slashed = format!("/{}", case.text.trim_start());
        let forms = [("typed", Input::from_text(&case.text)), ("caption", Input::NonText { caption: Some(&case.text) }), ("slash", Input::from_text(&slashed))];
        for state in &states {
            for (form, input) in &forms {
                checked += 1;
                let turn = step(state, input, &set);
                let first = turn.messages.first().map(|m| m.text.plain.as_str()).unwrap_or("");
                let guided = !turn.crisis.is_empty() && first.contains("1-800-662-4357") && (first.contains("911") || first.contains("988"));
                if !guided {
                    failures.push(format!("positive.tsv:{} ({form}, {:?}): {}", case.line, state.flow, case.text));
                }
            }
        }
    }
    println!("crisis guidance through the engine: {} of {checked} state/form combinations", checked - failures.len());
    assert!(checked > 1000, "too few cases checked: {checked}");
    assert!(failures.is_empty(), "no crisis guidance for:\n{}", failures.join("\n"));
}
