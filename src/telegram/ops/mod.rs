//! What operators need from a running bot: safe reloads ([`reload`]), health ([`health`]),
//! statistics and health over HTTP ([`metrics`]), and the opt-in log of unmatched questions
//! ([`unmatched`]).

pub mod health;
pub mod metrics;
pub mod reload;
pub mod unmatched;

pub use health::spawn_health_check;
pub use metrics::spawn_metrics;
pub use reload::{reload, spawn_sighup, spawn_watcher};
pub use unmatched::UnmatchedLog;
