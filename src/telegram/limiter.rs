//! Telegram's sending limits, held without waiting while under them.
//!
//! Telegram answers `429 Too Many Requests` to a bot that sends more than about 30 messages a
//! second overall, more than about one a second to one chat (short bursts are tolerated), or
//! more than 20 a minute to one group. teloxide's `Throttle` keeps to those limits by queueing
//! every send for a worker that wakes every 250 ms, so every reply waited (p50 +250 ms). Here
//! a send goes out at once while it is under all three limits and waits only for the one it
//! would break. The limits are GCRA quotas from `governor`, sized so that no window breaks the
//! rule even at its edges:
//!
//! - overall: a burst of 5, then one every 40 ms: any second holds at most 5 + 25 = 30;
//! - per chat: a burst of 3, then one a second;
//! - per group, on top of its chat quota: a burst of 3, then one every 3.75 s: any minute
//!   holds at most 3 + 16 = 19 cells, and a chat's sends are sequential, so at most 20 sends.
//!
//! A chat's messages go out one after another (teloxide hands one chat's updates to one worker
//! in order), and the overall quota is taken last, right before the request. A 429 pauses its
//! chat for the `retry_after` Telegram gave; 429s for two different chats within a second mean
//! the bot as a whole is over a limit, and every send then waits that long.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// The quotas, as numbers (see the module docs for why these).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub overall_burst: u32,
    pub overall_every: Duration,
    pub chat_burst: u32,
    pub chat_every: Duration,
    pub group_burst: u32,
    pub group_every: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            overall_burst: 5,
            overall_every: Duration::from_millis(40),
            chat_burst: 3,
            chat_every: Duration::from_secs(1),
            group_burst: 3,
            group_every: Duration::from_millis(3750),
        }
    }
}

fn quota(burst: u32, every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every.max(Duration::from_micros(1))).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst)
}

type Direct<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;
type Keyed<C> = RateLimiter<i64, DefaultKeyedStateStore<i64>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Decides when each message may go out: [`SendLimiter::acquire`] waits for the turn; the
/// decisions underneath (`take`) only read the clock, so tests drive them with a fake one.
pub struct SendLimiter<C: Clock = DefaultClock> {
    clock: C,
    overall: Direct<C>,
    chats: Keyed<C>,
    groups: Keyed<C>,
    /// Pauses Telegram asked for (429 `retry_after`): per chat, and for the whole bot.
    pauses: Mutex<Pauses>,
    /// Sends waiting for the overall quota, in arrival order.
    overall_queue: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Pauses {
    chats: HashMap<i64, Instant>,
    all: Option<Instant>,
    /// The last 429: when, and for which chat (a second chat within a second pauses all).
    last: Option<(Instant, i64)>,
}

/// Where a send stands: the limit it waits for, or its turn.
#[derive(Debug, PartialEq, Eq)]
pub enum Turn {
    Go,
    Wait(Duration),
}

impl SendLimiter<DefaultClock> {
    pub fn new(limits: Limits) -> SendLimiter<DefaultClock> {
        SendLimiter::with_clock(limits, DefaultClock::default())
    }

    /// Waits until `chat` may be sent one message, and takes that turn. Groups have negative
    /// ids (Telegram's convention), so the group quota applies to them.
    pub async fn acquire(&self, chat: i64) {
        // Each step waits for one limit and keeps what it took: a chat's turn is taken before
        // the overall one, so an overall backlog delays a send but never lets a chat burst.
        for step in [Step::Paused, Step::Group, Step::Chat] {
            self.wait_for(step, chat).await;
        }
        // The overall quota in arrival order (tokio's mutex is first come, first served):
        // under a backlog no chat waits while later ones go first.
        let _queue = self.overall_queue.lock().await;
        self.wait_for(Step::Overall, chat).await;
    }

    async fn wait_for(&self, step: Step, chat: i64) {
        while let Turn::Wait(wait) = self.take(step, chat, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The limits a send passes, in order.
#[derive(Clone, Copy, Debug)]
enum Step {
    Paused,
    Group,
    Chat,
    Overall,
}

impl<C: Clock + Clone> SendLimiter<C> {
    pub fn with_clock(limits: Limits, clock: C) -> SendLimiter<C> {
        SendLimiter {
            overall: RateLimiter::direct_with_clock(quota(limits.overall_burst, limits.overall_every), clock.clone()),
            chats: RateLimiter::dashmap_with_clock(quota(limits.chat_burst, limits.chat_every), clock.clone()),
            groups: RateLimiter::dashmap_with_clock(quota(limits.group_burst, limits.group_every), clock.clone()),
            clock,
            pauses: Mutex::new(Pauses::default()),
            overall_queue: tokio::sync::Mutex::new(()),
        }
    }

    /// One step of [`SendLimiter::acquire`]: takes the turn if the limit allows it now, else
    /// says how long to wait (nothing taken). `now` is only for Telegram's pauses.
    fn take(&self, step: Step, chat: i64, now: Instant) -> Turn {
        let outcome = match step {
            Step::Paused => return self.paused(chat, now),
            Step::Group if chat >= 0 => return Turn::Go,
            Step::Group => self.groups.check_key(&chat),
            Step::Chat => self.chats.check_key(&chat),
            Step::Overall => self.overall.check(),
        };
        match outcome {
            Ok(()) => Turn::Go,
            Err(not_until) => Turn::Wait(not_until.wait_time_from(self.clock.now()).max(Duration::from_millis(1))),
        }
    }

    fn paused(&self, chat: i64, now: Instant) -> Turn {
        let mut pauses = self.pauses.lock().unwrap_or_else(|p| p.into_inner());
        let until = [pauses.all, pauses.chats.get(&chat).copied()].into_iter().flatten().max();
        match until {
            Some(until) if until > now => Turn::Wait(until - now),
            Some(_) => {
                pauses.chats.remove(&chat);
                if pauses.all.is_some_and(|all| all <= now) {
                    pauses.all = None;
                }
                Turn::Go
            }
            None => Turn::Go,
        }
    }

    /// Telegram answered 429 for `chat` with `retry_after`: that chat waits that long, and if
    /// another chat got a 429 within the last second, every chat does.
    pub fn hold(&self, chat: i64, retry_after: Duration, now: Instant) {
        let until = now + retry_after;
        let mut pauses = self.pauses.lock().unwrap_or_else(|p| p.into_inner());
        let entry = pauses.chats.entry(chat).or_insert(until);
        *entry = (*entry).max(until);
        let other_chat_recently = pauses.last.is_some_and(|(at, other)| other != chat && now.duration_since(at) < Duration::from_secs(1));
        if other_chat_recently {
            pauses.all = Some(pauses.all.map_or(until, |all| all.max(until)));
        }
        pauses.last = Some((now, chat));
    }

    /// Forgets chats whose quotas are full again (they would allow a burst anyway), so that
    /// the limiter's memory follows the chats active in the last few seconds, not all chats
    /// ever seen. Call it now and then.
    pub fn forget_idle(&self, now: Instant) {
        self.chats.retain_recent();
        self.chats.shrink_to_fit();
        self.groups.retain_recent();
        self.groups.shrink_to_fit();
        let mut pauses = self.pauses.lock().unwrap_or_else(|p| p.into_inner());
        pauses.chats.retain(|_, until| *until > now);
        pauses.chats.shrink_to_fit();
    }

    /// Chats and groups the limiter holds state for (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.chats.len() + self.groups.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn limiter() -> (SendLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (SendLimiter::with_clock(Limits::default(), clock.clone()), clock)
    }

    /// Takes every step at once, as `acquire` would with no waiting; the first wait if any.
    fn try_send(l: &SendLimiter<FakeRelativeClock>, chat: i64, now: Instant) -> Turn {
        for step in [Step::Paused, Step::Group, Step::Chat, Step::Overall] {
            if let Turn::Wait(w) = l.take(step, chat, now) {
                return Turn::Wait(w);
            }
        }
        Turn::Go
    }

    #[test]
    fn under_the_limits_nothing_waits() {
        let (l, clock) = limiter();
        let now = Instant::now();
        // One message to each of 5 chats, then a second later 5 more: all at once.
        for round in 0..3 {
            for chat in 1..=5 {
                assert_eq!(try_send(&l, chat, now), Turn::Go, "round {round}, chat {chat}");
            }
            clock.advance(Duration::from_secs(1));
        }
        // A three-part reply to one chat goes out at once.
        for part in 0..3 {
            assert_eq!(try_send(&l, 99, now), Turn::Go, "part {part}");
        }
    }

    #[test]
    fn one_chat_gets_a_burst_of_three_then_one_a_second() {
        let (l, clock) = limiter();
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(try_send(&l, 7, now), Turn::Go);
        }
        let Turn::Wait(wait) = try_send(&l, 7, now) else { panic!("the fourth message in a moment must wait") };
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        // Another chat is not held up by this one.
        assert_eq!(try_send(&l, 8, now), Turn::Go);
        clock.advance(wait);
        assert_eq!(try_send(&l, 7, now), Turn::Go);
        assert!(matches!(try_send(&l, 7, now), Turn::Wait(_)));
    }

    #[test]
    fn under_a_backlog_no_window_holds_more_than_telegram_allows() {
        // 200 private chats and one group, each with a message always waiting, for two minutes
        // of fake time in 5 ms ticks. Each chat's messages go one after another, each step of
        // `acquire` kept once taken, and the overall quota served in arrival order, as in the
        // bot.
        let (l, clock) = limiter();
        let now = Instant::now();
        let steps = [Step::Paused, Step::Group, Step::Chat];
        let mut senders: Vec<(i64, usize)> = (1..=200).map(|c| (c, 0)).chain([(-100, 0)]).collect();
        let mut queue: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
        let mut sent: Vec<(Duration, i64)> = Vec::new();
        let mut t = Duration::ZERO;
        while t < Duration::from_secs(120) {
            for (i, (chat, step)) in senders.iter_mut().enumerate() {
                while *step < steps.len() && l.take(steps[*step], *chat, now) == Turn::Go {
                    *step += 1;
                    if *step == steps.len() {
                        queue.push_back(i);
                    }
                }
            }
            while let Some(&i) = queue.front() {
                if l.take(Step::Overall, senders[i].0, now) != Turn::Go {
                    break;
                }
                queue.pop_front();
                sent.push((t, senders[i].0));
                senders[i].1 = 0;
            }
            clock.advance(Duration::from_millis(5));
            t += Duration::from_millis(5);
        }
        let most_in = |window: Duration, chat: Option<i64>| {
            let times: Vec<Duration> = sent.iter().filter(|(_, c)| chat.is_none_or(|x| x == *c)).map(|(t, _)| *t).collect();
            (0..times.len()).map(|i| times[i..].iter().take_while(|&&t| t < times[i] + window).count()).max().unwrap_or(0)
        };
        let overall = most_in(Duration::from_secs(1), None);
        assert!((25..=30).contains(&overall), "{overall} messages in the busiest second (limit 30, and capacity should not be wasted)");
        let chat_second = (1..=200).map(|c| most_in(Duration::from_secs(1), Some(c))).max().unwrap_or(0);
        assert!(chat_second <= 4, "{chat_second} messages to one chat in a second");
        assert!(sent.len() > 2900, "only {} messages in two minutes", sent.len());
        // First come, first served: every chat gets its share of the backlog, the group too.
        let fair = sent.len() / senders.len();
        for (chat, _) in &senders {
            let n = sent.iter().filter(|(_, c)| c == chat).count();
            assert!(n * 10 >= fair * 9, "chat {chat} sent {n}, a fair share is {fair}");
        }
    }

    #[test]
    fn a_group_gets_at_most_twenty_a_minute() {
        // One group with a message always waiting, for five minutes of fake time.
        let (l, clock) = limiter();
        let now = Instant::now();
        let mut sent: Vec<Duration> = Vec::new();
        let mut t = Duration::ZERO;
        while t < Duration::from_secs(300) {
            if [Step::Paused, Step::Group, Step::Chat, Step::Overall].iter().all(|&step| l.take(step, -100, now) == Turn::Go) {
                sent.push(t);
            }
            clock.advance(Duration::from_millis(5));
            t += Duration::from_millis(5);
        }
        let most = (0..sent.len()).map(|i| sent[i..].iter().take_while(|&&t| t < sent[i] + Duration::from_secs(60)).count()).max();
        let most = most.unwrap_or(0);
        assert!((16..=20).contains(&most), "{most} messages in the group's busiest minute (limit 20)");
        assert!(sent.len() >= 80, "{} messages in five minutes", sent.len());
    }

    #[test]
    fn a_429_pauses_its_chat_and_two_pause_everyone() {
        let (l, _clock) = limiter();
        let now = Instant::now();
        l.hold(1, Duration::from_secs(3), now);
        assert_eq!(try_send(&l, 1, now), Turn::Wait(Duration::from_secs(3)));
        assert_eq!(try_send(&l, 2, now), Turn::Go, "one chat's 429 holds only that chat");
        l.hold(2, Duration::from_secs(5), now + Duration::from_millis(300));
        let Turn::Wait(wait) = try_send(&l, 3, now + Duration::from_millis(300)) else { panic!("two 429s in a second pause every chat") };
        assert_eq!(wait, Duration::from_secs(5));
        // Pauses end.
        assert_eq!(try_send(&l, 3, now + Duration::from_secs(6)), Turn::Go);
        assert_eq!(try_send(&l, 1, now + Duration::from_secs(6)), Turn::Go);
    }

    #[test]
    fn idle_chats_are_forgotten() {
        let (l, clock) = limiter();
        let now = Instant::now();
        for chat in 1..=1000 {
            let _ = try_send(&l, chat, now);
            let _ = try_send(&l, -chat, now);
        }
        assert!(l.tracked() >= 2000, "every chat and group is tracked while recent: {}", l.tracked());
        clock.advance(Duration::from_secs(60));
        l.forget_idle(now + Duration::from_secs(60));
        assert_eq!(l.tracked(), 0);
    }
}
