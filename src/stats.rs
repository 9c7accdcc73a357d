//! Privacy-preserving statistics: counters of what the bot did, never who or what was said.
//!
//! Only content-defined labels (topic ids, crisis kinds, error kinds) appear; no chat id,
//! user, or text ever reaches a counter. Rendered as Prometheus text for `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::engine::Event;
use crate::text::crisis::CrisisKind;

/// Kinds of errors worth counting (a fixed set: labels must never carry data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// A reply could not be delivered after retries.
    SendFailed,
    /// The stored state could not be read (reset to the start).
    StateUnreadable,
    /// Storing the new state failed.
    StoreFailed,
    /// The person blocked the bot (their state was cleared).
    Blocked,
}

impl ErrorKind {
    fn name(self) -> &'static str {
        match self {
            ErrorKind::SendFailed => "send_failed",
            ErrorKind::StateUnreadable => "state_unreadable",
            ErrorKind::StoreFailed => "store_failed",
            ErrorKind::Blocked => "blocked",
        }
    }
}

#[derive(Default)]
pub struct Stats {
    updates: AtomicU64,
    did_you_mean: AtomicU64,
    fallback: AtomicU64,
    self_checks_started: AtomicU64,
    self_checks_completed: AtomicU64,
    forgotten: AtomicU64,
    reload_ok: AtomicU64,
    reload_failed: AtomicU64,
    crisis: [AtomicU64; 3],
    topics: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<ErrorKind, u64>>,
}

impl Stats {
    pub fn update(&self) {
        self.updates.fetch_add(1, Ordering::Relaxed);
    }

    pub fn event(&self, event: &Event) {
        let counter = match event {
            Event::TopicServed(id) => {
                let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
                *topics.entry(id.clone()).or_default() += 1;
                return;
            }
            Event::DidYouMean => &self.did_you_mean,
            Event::Fallback => &self.fallback,
            Event::Crisis(kind) => &self.crisis[*kind as usize],
            Event::SelfCheckStarted => &self.self_checks_started,
            Event::SelfCheckCompleted => &self.self_checks_completed,
            Event::Forgotten => &self.forgotten,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self, kind: ErrorKind) {
        *self.errors.lock().unwrap_or_else(|p| p.into_inner()).entry(kind).or_default() += 1;
    }

    pub fn reload(&self, ok: bool) {
        let counter = if ok { &self.reload_ok } else { &self.reload_failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text exposition format, version 0.0.4.
    pub fn render(&self, content_version: &str) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut counter = |name: &str, help: &str, rows: &[(String, u64)]| {
            let _ = writeln!(out, "# HELP klonopin_bot_{name} {help}\n# TYPE klonopin_bot_{name} counter");
            for (labels, value) in rows {
                let _ = writeln!(out, "klonopin_bot_{name}{labels} {value}");
            }
        };
        counter("updates_total", "Updates handled.", &[(String::new(), get(&self.updates))]);
        let topics: Vec<(String, u64)> = self
            .topics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(id, n)| (format!("{{topic=\"{}\"}}", label(id)), *n))
            .collect();
        counter("topics_served_total", "Topic answers sent, by topic.", &topics);
        counter("did_you_mean_total", "Times \"did you mean\" was offered.", &[(String::new(), get(&self.did_you_mean))]);
        counter("fallback_total", "Messages no topic matched (fallback and menu).", &[(String::new(), get(&self.fallback))]);
        let crisis: Vec<(String, u64)> =
            CrisisKind::ALL.iter().map(|k| (format!("{{kind=\"{}\"}}", k.name()), get(&self.crisis[*k as usize]))).collect();
        counter("crisis_guidance_total", "Crisis guidance shown, by kind.", &crisis);
        counter("self_checks_started_total", "Self-checks started.", &[(String::new(), get(&self.self_checks_started))]);
        counter("self_checks_completed_total", "Self-checks completed.", &[(String::new(), get(&self.self_checks_completed))]);
        counter("forget_total", "/forget requests.", &[(String::new(), get(&self.forgotten))]);
        let errors: Vec<(String, u64)> =
            self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(k, n)| (format!("{{kind=\"{}\"}}", k.name()), *n)).collect();
        counter("errors_total", "Errors, by kind.", &errors);
        counter(
            "reloads_total",
            "Content reloads, by result.",
            &[("{result=\"success\"}".to_owned(), get(&self.reload_ok)), ("{result=\"failure\"}".to_owned(), get(&self.reload_failed))],
        );
        let _ = writeln!(
            out,
            "# HELP klonopin_bot_content_info The content version being served.\n# TYPE klonopin_bot_content_info gauge\nklonopin_bot_content_info{{version=\"{}\"}} 1",
            label(content_version)
        );
        out
    }
}

/// Label values come from content (topic ids, versions), never from people; escaped anyway.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders() {
        let stats = Stats::default();
        stats.update();
        stats.event(&Event::TopicServed("tolerance".into()));
        stats.event(&Event::TopicServed("tolerance".into()));
        stats.event(&Event::Crisis(CrisisKind::Withdrawal));
        stats.error(ErrorKind::Blocked);
        stats.reload(false);
        let text = stats.render("abc123");
        for line in [
            "klonopin_bot_updates_total 1",
            "klonopin_bot_topics_served_total{topic=\"tolerance\"} 2",
            "klonopin_bot_crisis_guidance_total{kind=\"withdrawal\"} 1",
            "klonopin_bot_crisis_guidance_total{kind=\"overdose\"} 0",
            "klonopin_bot_errors_total{kind=\"blocked\"} 1",
            "klonopin_bot_reloads_total{result=\"failure\"} 1",
            "klonopin_bot_content_info{version=\"abc123\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
