//! When the bot may speak unasked in a group: crisis guidance for overheard messages, without
//! flooding a group that talks about withdrawal.
//!
//! In a group the bot answers only what is addressed to it, with one exception: a message
//! that mentions an overdose or withdrawal gets the crisis guidance as a reply. Once a group
//! has been shown the guidance for a kind of crisis, more mentions of that kind within
//! [`CRISIS_WINDOW`] get nothing new (the guidance is right there in the chat); a kind not yet
//! shown in the window (an overdose after talk of withdrawal) is always answered. Pure: the
//! caller passes the time.
//!
//! Memory is bounded: the groups live in a [`quick_cache`] of [`MAX_GROUPS`] entries, and an
//! expired window counts as absent. Forgetting a group early can only mean guidance is shown
//! again, never that it is held back.

use std::time::{Duration, Instant};

use crate::text::crisis::CrisisSet;

/// How long guidance shown in a group covers later mentions of the same kinds of crisis.
pub const CRISIS_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Most groups remembered at once (about 40 bytes each); past this the cache evicts the
/// least recently useful ones, each operation O(1).
pub const MAX_GROUPS: usize = 50_000;

/// Per group: when the current window started and which kinds it has shown.
pub struct CrisisCooldown {
    window: Duration,
    shown: quick_cache::unsync::Cache<i64, (Instant, CrisisSet)>,
}

impl std::fmt::Debug for CrisisCooldown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrisisCooldown").field("window", &self.window).field("groups", &self.shown.len()).finish()
    }
}

impl CrisisCooldown {
    pub fn new(window: Duration) -> CrisisCooldown {
        CrisisCooldown::with_capacity(window, MAX_GROUPS)
    }

    /// A cooldown that remembers at most about `groups` groups.
    pub fn with_capacity(window: Duration, groups: usize) -> CrisisCooldown {
        CrisisCooldown { window, shown: quick_cache::unsync::Cache::new(groups.max(1)) }
    }

    /// How many groups are remembered (expired windows included until evicted).
    pub fn len(&self) -> usize {
        self.shown.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shown.len() == 0
    }

    /// Whether guidance for `kinds` should be sent to group `chat` at `now`; if so, it is
    /// recorded as shown.
    pub fn permit(&mut self, chat: i64, kinds: CrisisSet, now: Instant) -> bool {
        if kinds.is_empty() {
            return false;
        }
        let window = self.window;
        let live = |started: Instant| now.saturating_duration_since(started) < window;
        if let Some(mut entry) = self.shown.get_mut(&chat) {
            let (started, shown) = &mut *entry;
            if live(*started) {
                if kinds.iter().all(|k| shown.contains(k)) {
                    return false;
                }
                *shown = shown.union(kinds);
                return true;
            }
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
    fn memory_stays_bounded_and_a_busy_group_is_remembered() {
        let t0 = Instant::now();
        let capacity = 1_000;
        let mut c = CrisisCooldown::with_capacity(Duration::from_secs(600), capacity);
        let wd = set(&[CrisisKind::Withdrawal]);
        assert!(c.permit(-1, wd, t0));
        // A flood of new groups, each seen once, while group -1 keeps talking.
        for chat in 2..50_000_i64 {
            assert!(c.permit(-chat, wd, t0), "a group never seen gets the guidance");
            if chat % 100 == 0 {
                assert!(!c.permit(-1, wd, t0), "the busy group stays in its window (after {chat} groups)");
            }
            assert!(c.len() <= capacity + capacity / 10, "{} groups remembered", c.len());
        }
    }
}
