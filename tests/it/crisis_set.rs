//! The crisis detector against its labelled test sets: recall, per-kind recall, false alarms,
//! and what a person in crisis receives whether the detector fires or not.
//!
//! `tests/data/crisis/` holds three sets, each written without seeing the detector: the main
//! set (`positive.tsv`, `benign.tsv`) and the second set (`second-*`), both since used to add
//! rules, and the hold-out (`holdout-*`), never used to add rules. Recall on explicit
//! withdrawal/overdose mentions must be 100% on all three; the figures are printed (run with
//! `--nocapture`) and recorded in the README.

use klonopin_bot::text::crisis::{CrisisDetector, CrisisKind};
use klonopin_bot::text::normalize::normalize;

/// One labelled message of a crisis set (shared with `understanding`).
pub struct Case {
    pub kinds: Vec<CrisisKind>,
    pub explicit: bool,
    pub text: String,
    pub line: usize,
}

/// Reads `tests/data/crisis/<name>`.
pub fn read(name: &str) -> Vec<Case> {
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

pub fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        100.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

#[test]
fn crisis_detector_recall_and_false_positives() {
    let report = measure("positive.tsv", "benign.tsv");
    report.assert_safe(97.0, 5.0);
    every_reply_carries_the_emergency_lines("positive.tsv");
}

/// A second set, written as a hold-out by someone who had seen neither the detector nor the
/// main set. Measured once untouched (recall 79.3%, self-harm 52%: see the README), then
/// used to add rules, so it now guards against regressions like the main set.
#[test]
fn crisis_detector_on_the_second_set() {
    // Its benign half is mostly deliberate near-misses ("netflix overdose", "laptop won't wake up").
    let report = measure("second-positive.tsv", "second-benign.tsv");
    report.assert_safe(97.0, 10.0);
    every_reply_carries_the_emergency_lines("second-positive.tsv");
}

/// The hold-out: written after those rules by someone who saw neither the detector, its
/// rules nor the other sets, and never used to add rules. Its figures are what an unseen
/// message can expect; the floors asserted are the safety ones plus today's measure.
#[test]
fn crisis_detector_on_the_hold_out_set() {
    let report = measure("holdout-positive.tsv", "holdout-benign.tsv");
    // Measured 2026-11-23: 110/150 detected, 23/150 false alarms. Floors, not goals.
    // 2026-12-03: the rule for a child who ate or swallowed something fires on 3 more of its
    // benign messages (26/150; counted once, the messages not read). That rule is graded:
    // without the drug named it counts only with the classifier's agreement, so what people
    // get is measured by `understanding_on_the_hold_outs`, not here.
    report.assert_safe(73.0, 17.4);
    every_reply_carries_the_emergency_lines("holdout-positive.tsv");
}

/// What a person in crisis actually receives, detector or not: the bot's first reply to each
/// message, from a fresh chat, must carry an emergency line (911 or 988) and SAMHSA, as every
/// crisis block does: in the crisis guidance when the detector sees the crisis, else in the
/// `help_now` line that closes the reply.
fn every_reply_carries_the_emergency_lines(positive_file: &str) {
    use klonopin_bot::content::{load_embedded, SAMHSA};
    use klonopin_bot::engine::{step, Input, State};
    let set = match load_embedded() {
        Ok(loaded) => loaded.set,
        Err(diags) => panic!("shipped responses are invalid: {diags:#?}"),
    };
    let cases = read(positive_file);
    let without: Vec<String> = cases
        .iter()
        .filter(|case| {
            let turn = step(&State::default(), &Input::from_text(&case.text), &set);
            let all: String = turn.messages.iter().map(|m| m.text.plain.as_str()).collect();
            !((all.contains("911") || all.contains("988")) && all.contains(SAMHSA))
        })
        .map(|case| format!("{positive_file}:{}: {}", case.line, case.text))
        .collect();
    println!("replies carrying an emergency line and SAMHSA: {}/{}", cases.len() - without.len(), cases.len());
    assert!(without.is_empty(), "replies without the emergency lines:\n{}", without.join("\n"));
}

struct Report {
    positives: usize,
    benign: usize,
    detected: usize,
    explicit_missed: Vec<String>,
    false_positives: Vec<String>,
}

impl Report {
    /// Every explicit withdrawal/overdose mention caught, at least `min_recall_pct` of all
    /// crisis messages, and at most `max_false_pct` false alarms (a false alarm costs a few
    /// lines of guidance; a miss can cost far more).
    fn assert_safe(&self, min_recall_pct: f64, max_false_pct: f64) {
        assert!(
            self.explicit_missed.is_empty(),
            "explicit withdrawal/overdose mentions must all be caught:\n{}",
            self.explicit_missed.join("\n")
        );
        assert!(pct(self.detected, self.positives) >= min_recall_pct, "overall recall fell below {min_recall_pct}%");
        assert!(pct(self.false_positives.len(), self.benign) <= max_false_pct, "false positives rose above {max_false_pct}%");
    }
}

/// Runs the detector over a positive and a benign file and prints the figures.
fn measure(positive_file: &str, benign_file: &str) -> Report {
    let detector = CrisisDetector::get();
    let positives = read(positive_file);
    let benign = read(benign_file);
    assert!(positives.len() >= 100 && benign.len() >= 100, "{positive_file}/{benign_file}: a set needs 100+ of each");

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
            missed.push(format!("{positive_file}:{}: {}", case.line, case.text));
            if case.explicit {
                explicit_missed.push(format!("{positive_file}:{}: {}", case.line, case.text));
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
                    kind_missed.push(format!("{positive_file}:{}: no {} in: {}", case.line, k.name(), case.text));
                }
                if case.explicit && *k != CrisisKind::SelfHarm {
                    explicit_missed.push(format!("{positive_file}:{}: {} (no {})", case.line, case.text, k.name()));
                }
            }
        }
    }
    let false_positives: Vec<String> = benign
        .iter()
        .filter(|c| !detector.detect(&normalize(&c.text)).is_empty())
        .map(|c| format!("{benign_file}:{}: {}", c.line, c.text))
        .collect();

    println!(
        "crisis set {positive_file} + {benign_file}: {} positive ({} explicit), {} benign",
        positives.len(),
        explicit_total,
        benign.len()
    );
    println!("recall (any crisis guidance): {detected}/{} = {:.1}%", positives.len(), pct(detected, positives.len()));
    println!("recall (every expected kind): {kind_exact}/{} = {:.1}%", positives.len(), pct(kind_exact, positives.len()));
    for kind in CrisisKind::ALL {
        let (hit, total) = per_kind[kind as usize];
        println!("  {:<10} {hit}/{total} = {:.1}%", kind.name(), pct(hit, total));
    }
    println!("false positives: {}/{} = {:.1}%", false_positives.len(), benign.len(), pct(false_positives.len(), benign.len()));
    // A hold-out's misses are not printed: reading them to change the rules would end it
    // being a hold-out (tests/data/README.md).
    if !positive_file.contains("holdout") {
        for m in &missed {
            println!("  missed: {m}");
        }
        for m in &kind_missed {
            println!("  other guidance only: {m}");
        }
        for f in &false_positives {
            println!("  false positive: {f}");
        }
    }
    Report { positives: positives.len(), benign: benign.len(), detected, explicit_missed, false_positives }
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
        State { flow: Flow::Audience { topic: "dosage".into() }, ..State::default() },
        State { flow: Flow::SelfCheck { next: 2, yes: 0b11 }, ..State::default() },
    ];
    let detector = CrisisDetector::get();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in read("positive.tsv").iter().filter(|c| !detector.detect(&normalize(&c.text)).is_empty()) {
        let slashed = format!("/{}", case.text.trim_start());
        let forms = [
            ("typed", Input::from_text(&case.text)),
            ("caption", Input::NonText { caption: Some(&case.text) }),
            ("slash", Input::from_text(&slashed)),
        ];
        for state in &states {
            for (form, input) in &forms {
                checked += 1;
                let turn = step(state, input, &set);
                let first = turn.messages.first().map(|m| m.text.plain.as_str()).unwrap_or("");
                let guided =
                    !turn.crisis.is_empty() && first.contains("1-800-662-4357") && (first.contains("911") || first.contains("988"));
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
