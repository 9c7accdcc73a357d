//! What operators need from a running bot: safe reloads (`reload.rs`), Telegram's health
//! (`health.rs`), statistics and health over HTTP (`metrics.rs`), and the opt-in log of
//! unmatched questions (`unmatched.rs`).

mod health;
mod metrics;
mod reload;
mod unmatched;

pub use health::spawn_health_check;
pub use metrics::spawn_metrics;
pub use reload::{reload, spawn_sighup, spawn_watcher};
pub use unmatched::UnmatchedLog;
