//! One integration-test binary with a module per area.

mod cli;
mod content_check;
mod conversations;
mod crisis_set;
mod languages;
mod operators;
mod storage;
mod support;
mod telegram;
mod topics;
mod understanding;
