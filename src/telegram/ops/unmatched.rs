//! The opt-in log of unmatched questions (`--record-unmatched`), redacted before writing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The opt-in log of questions no topic matched, redacted, one per line.
pub struct UnmatchedLog {
    file: Mutex<std::fs::File>,
    pub path: PathBuf,
}

impl UnmatchedLog {
    pub fn open(path: &Path) -> Result<UnmatchedLog, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open --record-unmatched file {}: {e}", path.display()))?;
        Ok(UnmatchedLog { file: Mutex::new(file), path: path.to_owned() })
    }

    pub fn record(&self, question: &str) {
        let line = crate::text::redact::redact(question);
        if line.is_empty() {
            return;
        }
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = writeln!(file, "{line}") {
            log::warn!("cannot append to the unmatched-questions file: {}", e.kind());
        }
    }
}
