//! One integration-test binary with a module per area.

mod conversations;
mod crisis_set;
mod storage;
mod support;
