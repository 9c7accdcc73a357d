//! When the bot may speak unasked in a group: crisis guidance for overheard messages, without
//! flooding a group that talks about withdrawal.
//!
//! In a group the bot answers only what is addressed to it, with one exception: a message
//! that mentions an overdose or withdrawal gets the crisis guidance as a reply. Once a group
//! has been shown the guidance for a kind of crisis, more mentions of that kind within
//! [`CRISIS_WINDOW`] get nothing new (the guidance is right there in the chat); a kind not yet
//! shown in the window (an overdose after talk of withdrawal) is always answered. Pure: the
//! caller passes the time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::text::crisis::CrisisSet;

/// How long guidance shown in a group covers later mentions of the same kinds of crisis.
pub const CRISIS_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Past this many groups, expired entries are dropped before adding one.
const PRUNE_AT: usize = 10_000;

/// Per group: when the current window started and which kinds it has shown.
#[derive(Debug)]
pub struct CrisisCooldown {
    window: Duration,
    shown: HashMap<i64, (Instant, CrisisSet)>,
}

impl CrisisCooldown {
    pub fn new(window: Duration) -> CrisisCooldown {
        CrisisCooldown { window, shown: HashMap::new() }
    }

    /// Whether guidance for `kinds` should be sent to group `chat` at `now`; if so, it is
    /// recorded as shown.
    pub fn permit(&mut self, chat: i64, kinds: CrisisSet, now: Instant) -> bool {
        if kinds.is_empty() {
            return false;
        }
        let window = self.window;
        let live = |started: Instant| now.saturating_duration_since(started) < window;
        if let Some((started, shown)) = self.shown.get_mut(&chat) {
            if live(*started) {
                if kinds.iter().all(|k| shown.contains(k)) {
                    return false;
                }
                *shown = shown.union(kinds);
                return true;
            }
        }
        if self.shown.len() >= PRUNE_AT {
            self.shown.retain(|_, (started, _)| live(*started));
        }
        self.shown.insert(chat, (now, kinds));
        true
    }
}

impl Default for CrisisCooldown {
    fn default() -> Self {
        CrisisCooldown::new(CRISIS_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::crisis::CrisisKind;

    fn set(kinds: &[CrisisKind]) -> CrisisSet {
        let mut s = CrisisSet::default();
        for k in kinds {
            s.insert(*k);
        }
        s
    }

    #[test]
    fn once_per_kind_per_window_and_new_kinds_always() {
        let (od, wd) = (set(&[CrisisKind::Overdose]), set(&[CrisisKind::Withdrawal]));
        let t0 = Instant::now();
        let min = Duration::from_secs(60);
        let mut c = CrisisCooldown::new(10 * min);
        // (group, kinds, minutes after t0, permitted)
        let script: &[(i64, CrisisSet, u32, bool)] = &[
            (-1, wd, 0, true),
            (-1, wd, 1, false), // same kind, same window
            (-2, wd, 1, true),  // another group
            (-1, od, 2, true),  // a new kind in the window
            (-1, set(&[CrisisKind::Overdose, CrisisKind::Withdrawal]), 3, false),
            (-1, od, 9, false),
            (-1, od, 10, true), // the window has passed
            (-1, wd, 11, true), // the fresh window has shown overdose only
            (-1, wd, 12, false),
            (-1, CrisisSet::default(), 30, false), // nothing to show
        ];
        for (i, (chat, kinds, minutes, permitted)) in script.iter().enumerate() {
            assert_eq!(c.permit(*chat, *kinds, t0 + min * *minutes), *permitted, "step {i}: group {chat} at minute {minutes}");
        }
    }

    #[test]
    fn memory_stays_bounded_by_live_groups() {
        let t0 = Instant::now();
        let mut c = CrisisCooldown::new(Duration::from_secs(60));
        let wd = set(&[CrisisKind::Withdrawal]);
        for chat in 0..PRUNE_AT as i64 {
            assert!(c.permit(-chat - 1, wd, t0));
        }
        assert_eq!(c.shown.len(), PRUNE_AT);
        // Two minutes later every window has expired: the next group prunes them all.
        assert!(c.permit(-999_999, wd, t0 + Duration::from_secs(120)));
        assert_eq!(c.shown.len(), 1);
    }
}
