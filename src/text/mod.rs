//! Pure text understanding: normalization, crisis rules, topic matching, the learned classifier.

pub mod audience;
pub mod crisis;
pub mod fuzzy;
pub mod language;
pub mod model;
pub mod normalize;
pub mod place;
pub mod redact;
pub mod topics;
