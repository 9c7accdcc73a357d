//! Response validation, one fixture folder per kind of error, exact messages asserted.
//!
//! Each folder under `tests/fixtures/` (except `valid/`) holds the files that differ from
//! `valid/` and an `expected.txt` with every diagnostic, one per line. Run with
//! `BLESS=1` to rewrite the expected files after an intended change, then review the diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use klonopin_bot::content::{load, SourceFile};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read_tree(dir: &Path, into: &mut BTreeMap<String, String>) {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("fixture folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n != "expected.txt") {
                let relative = path.strip_prefix(dir).expect("inside").to_string_lossy().replace('\\', "/");
                into.insert(relative, std::fs::read_to_string(&path).expect("utf-8 fixture"));
            }
        }
    }
}

/// The valid set with one fixture folder's files laid over it.
pub fn overlay(name: &str) -> Vec<SourceFile> {
    let mut files = BTreeMap::new();
    read_tree(&fixtures().join("valid"), &mut files);
    if name != "valid" {
        read_tree(&fixtures().join(name), &mut files);
    }
    files.into_iter().map(|(relative, text)| SourceFile { display: relative.clone(), relative, text }).collect()
}

/// Writes an overlaid fixture to a real folder (for the CLI tests).
pub fn overlay_dir(name: &str, dir: &Path) {
    for file in overlay(name) {
        let path = dir.join(&file.relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, file.text).expect("write fixture");
    }
}

#[test]
fn the_valid_fixture_loads_without_warnings() {
    match load(&overlay("valid")) {
        Ok(loaded) => assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings),
        Err(diags) => panic!("{diags:#?}"),
    }
}

#[test]
fn every_fixture_reports_exactly_its_diagnostics() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "valid")
        .collect();
    names.sort();
    assert!(names.len() >= 10, "expected a folder per kind of error, found {names:?}");
    let mut failures = Vec::new();
    for name in names {
        // A fixture shows errors, or (when it loads) the warnings it exists for.
        let diags = match load(&overlay(&name)) {
            Ok(loaded) if loaded.warnings.is_empty() => {
                failures.push(format!("{name}: loaded without errors or warnings"));
                continue;
            }
            Ok(loaded) => loaded.warnings,
            Err(diags) => diags,
        };
        let actual: String = diags.iter().map(|d| format!("{d}\n")).collect();
        let expected_path = fixtures().join(&name).join("expected.txt");
        if bless {
            std::fs::write(&expected_path, &actual).expect("bless");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!("{name}:\n--- expected\n{expected}--- actual\n{actual}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shipped_responses_are_valid_without_warnings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("responses");
    match klonopin_bot::content::load_dir(&dir) {
        Ok(loaded) => assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings),
        Err(diags) => panic!("{diags:#?}"),
    }
}

/// A country without a file, named in `[region] elsewhere`, must not be a translation's name
/// of a country with one: "vivo en alemania" would name two places and choose nothing.
#[test]
fn elsewhere_is_checked_against_every_languages_country_names() {
    use klonopin_bot::content::embedded_files;
    let mut files = embedded_files();
    let bot = files.iter_mut().find(|f| f.relative == "bot.toml").expect("bot.toml");
    bot.text = bot.text.replacen("elsewhere = [", "elsewhere = [\"alemania\", ", 1);
    let diags = match load(&files) {
        Ok(_) => panic!("alemania is Germany's Spanish name"),
        Err(d) => d,
    };
    assert!(diags.iter().any(|d| d.message.contains("\"alemania\"") && d.message.contains("regions/de.toml")), "{diags:#?}");
}
