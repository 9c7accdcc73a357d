//! `responses/` -> a validated, immutable [`ResponseSet`], with every problem as a [`Diagnostic`].
//!
//! [`load`] is pure: it takes the files' texts and returns the set or every diagnostic found
//! (it never stops at the first). [`read_dir`] is the only I/O; [`embedded_files`] is the copy
//! of `responses/` compiled into the binary, so the bot runs with no files beside it.

mod check;
mod compose;
pub mod diagnostic;
pub mod examples;
mod files;
mod limits;
pub mod model;
pub mod region;
pub mod render;
mod source;

use std::path::Path;

pub use compose::crisis_page;
pub use diagnostic::{Diagnostic, Severity};
pub use limits::*;
pub use model::*;
pub use render::Rich;
pub use source::{embedded_files, read_dir, SourceFile};

use check::Checker;

/// A valid response set and the warnings that did not stop it.
pub struct Loaded {
    pub set: ResponseSet,
    pub warnings: Vec<Diagnostic>,
}

/// Reads and validates a responses folder.
pub fn load_dir(dir: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    load(&read_dir(dir)?)
}

/// The built-in responses, validated.
pub fn load_embedded() -> Result<Loaded, Vec<Diagnostic>> {
    load(&embedded_files())
}

/// Validates a whole set of files. On success the set and its warnings; otherwise every
/// diagnostic (errors and warnings), sorted by file and position.
pub fn load(files: &[SourceFile]) -> Result<Loaded, Vec<Diagnostic>> {
    let mut checker = Checker::default();
    let set = checker.build(files);
    let mut diags = checker.diags;
    diags.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    diags.dedup();
    match set {
        Some(set) if !diags.iter().any(|d| d.severity == Severity::Error) => Ok(Loaded { set, warnings: diags }),
        _ => Err(diags),
    }
}
