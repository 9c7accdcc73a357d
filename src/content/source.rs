//! Where the responses come from: the copy built into the binary, or a folder read from disk
//! (the only I/O of content loading), and the version that names them.

use std::path::Path;

use super::diagnostic::{Diagnostic, Severity};

/// One response file: where it is (for messages) and what it says.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the responses folder, with `/`: `bot.toml`, `topics/x.toml`.
    pub relative: String,
    /// How diagnostics name the file (the path as the operator would type it).
    pub display: String,
    pub text: String,
}

/// The copy of `responses/` built into the binary.
static EMBEDDED: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/responses");

/// The built-in responses, as files.
pub fn embedded_files() -> Vec<SourceFile> {
    let mut files = Vec::new();
    collect_embedded(&EMBEDDED, &mut files);
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    files
}

fn collect_embedded(dir: &include_dir::Dir<'static>, out: &mut Vec<SourceFile>) {
    for file in dir.files() {
        let relative = file.path().to_string_lossy().replace('\\', "/");
        out.push(SourceFile {
            display: format!("responses/{relative}"),
            relative,
            text: String::from_utf8_lossy(file.contents()).into_owned(),
        });
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

/// Reads every file under `dir` (I/O only; no validation). A file that cannot be read is a
/// diagnostic, not a stop.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, Vec<Diagnostic>> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(file_problem(&current.display().to_string(), format!("cannot read folder: {e}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.ends_with('~') {
                continue; // editors' swap and backup files
            }
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => files.push(SourceFile { relative, display: path.display().to_string(), text }),
                    Err(e) => problems.push(file_problem(
                        &path.display().to_string(),
                        format!("not valid UTF-8 (byte {}): save the file as UTF-8", e.utf8_error().valid_up_to()),
                    )),
                },
                Err(e) => problems.push(file_problem(&path.display().to_string(), format!("cannot read file: {e}"))),
            }
        }
    }
    if problems.is_empty() {
        files.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(files)
    } else {
        Err(problems)
    }
}

pub(super) fn file_problem(file: &str, message: String) -> Diagnostic {
    Diagnostic { file: file.to_owned(), line: 1, col: 1, severity: Severity::Error, message }
}

/// FNV-1a over every file's path and text: a stable short content version.
pub(super) fn version_of(files: &[SourceFile]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        for byte in file.relative.bytes().chain([0]).chain(file.text.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{:012x}", hash >> 16)
}
