//! Content loading with one file replaced by random text (a topic, the crisis texts, a
//! region, bot.toml, an example list): it never panics, and every problem it reports names
//! that file (or another) with a line and column from 1.
#![no_main]

use klonopin_bot::content::{embedded_files, load};
use libfuzzer_sys::fuzz_target;

const TARGETS: [&str; 5] = ["topics/tolerance.toml", "crisis.toml", "regions/gb.toml", "bot.toml", "selfcheck.toml"];

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let mut files = embedded_files();
    let name = TARGETS[which as usize % TARGETS.len()];
    let Some(file) = files.iter_mut().find(|f| f.relative == name) else { return };
    file.text = String::from_utf8_lossy(rest).into_owned();
    if let Err(problems) = load(&files) {
        assert!(!problems.is_empty(), "a failed load says why");
        for p in &problems {
            assert!(p.line >= 1 && p.col >= 1, "{}:{}:{}: {}", p.file, p.line, p.col, p.message);
            assert!(!p.file.is_empty(), "a problem without a file: {}", p.message);
        }
    }
});
