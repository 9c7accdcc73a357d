//! Problems found in response files, each with its place: `file:line:col: message`.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file. Lines and columns are 1-based, columns count characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub severity: Severity,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.severity {
            Severity::Error => write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message),
            Severity::Warning => write!(f, "{}:{}:{}: warning: {}", self.file, self.line, self.col, self.message),
        }
    }
}

/// Turns byte offsets of one file's text into 1-based line and column.
pub struct Positions<'a> {
    text: &'a str,
}

impl<'a> Positions<'a> {
    pub fn new(text: &'a str) -> Self {
        Positions { text }
    }

    pub fn of(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// Where the content of a string value starts, given the span of the value as written
    /// (quotes included): after the opening quotes, and after the newline that TOML trims
    /// right after `"""`.
    pub fn string_content_start(&self, span: std::ops::Range<usize>) -> (usize, usize) {
        let written = self.text.get(span.clone()).unwrap_or("");
        let skip = if written.starts_with("\"\"\"") || written.starts_with("'''") {
            let after = &written[3..];
            3 + if after.starts_with("\r\n") {
                2
            } else if after.starts_with('\n') {
                1
            } else {
                0
            }
        } else if written.starts_with('"') || written.starts_with('\'') {
            1
        } else {
            0
        };
        self.of(span.start + skip)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
