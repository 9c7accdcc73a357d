//! Load benchmark: the real `klonopin-bot serve` (release build) against the fake Bot API.
//!
//! Run: `cargo bench --bench load` (about 2-3 minutes; it stops by itself). It prints a table
//! and writes it to `target/load-report.txt`. What it measures, each configuration 3 times,
//! medians reported with the min-max range (the machine may be shared: see the noise notes):
//! 1. Throughput: 20,000 updates over 2,000 private chats (topic questions, crisis messages,
//!    /start and other commands, small talk, ~7% button presses) are queued in the fake,
//!    then the bot starts with `--no-throttle`; updates/s = N / (first getUpdates -> the last
//!    expected reply). The expected number of replies is computed with the same engine
//!    (`engine::step` + `render::parts`), so the run ends exactly at the last reply.
//! 2. Latency, paced: fresh chats get one question each at a fixed rate; per update, push ->
//!    first reply received by the fake; p50 / p99. At 500 updates/s with `--no-throttle` for
//!    both storages, and the rate limiter (`src/telegram/limiter.rs`, as in production) vs
//!    `--no-throttle` (SQLite) at a rate under Telegram's limits. One extra run shows the
//!    limiter's cap with a backlog. With the limiter, the messages that broke one of
//!    Telegram's limits are counted from the fake's delivery times (must be 0).
//! 3. Peak RSS of the bot (`VmHWM` just before SIGTERM) and its exit code (must be 0).
//!
//! 5. Soak, only with `KLONOPIN_LOAD_ONLY=soak` (about 10 minutes): 1,000,000 updates over
//!    500,000 private chats and 50,000 groups (each group: one crisis mention the bot
//!    overhears, `/help`, chatter it ignores) with SQLite and `--no-throttle`, fed in chunks;
//!    the bot's RSS after every chunk, its peak, and whether it stayed flat after warm-up.
//!    `KLONOPIN_SOAK_UPDATES=N` runs a shorter one, `KLONOPIN_SOAK_CHUNK=N` queues N at a time.
//!
//! 4. With `KLONOPIN_LOAD_BASELINE=PATH` (another build of `klonopin-bot`, e.g. the previous
//!    commit's): the throughput runs alternate between this build and that one (6 pairs, to
//!    `target/load-compare.txt`), and the report gives the median of the paired ratios, which drifts far less than absolute figures on a
//!    shared machine.
//!
//! Pinning: the bot runs under `taskset -c 1`; this process (fake server + load generator,
//! a current-thread tokio runtime) re-executes itself under `taskset -c 0`. Without taskset
//! (util-linux) both run unpinned and the report says so. Only 127.0.0.1 is contacted.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use klonopin_bot::content::{load_embedded, ResponseSet};
use klonopin_bot::engine::{step, Input, Next, State};
use klonopin_bot::telegram::render::parts;

// `cargo bench` compiles with cfg(test), which pulls in the fake's own tests (not run here).
#[allow(unused_imports)]
#[path = "../tests/it/support/fake_bot_api.rs"]
mod fake_bot_api;

use fake_bot_api::FakeBotApi;

const ROUTING: &str = include_str!("../tests/data/routing.tsv");
const CRISIS: &str = include_str!("../tests/data/crisis/positive.tsv");
const SMALL_TALK: &[&str] = &["hi", "thanks!", "ok thank you", "hello?", "lol", "what", "good bot", "bye"];
const COMMANDS: &[&str] = &["/start", "/start", "/start", "/help", "/topics", "/privacy", "/crisis"];

const RUNS: usize = 3;
const THROUGHPUT_UPDATES: usize = 20_000;
const THROUGHPUT_CHATS: i64 = 2_000;
const PACED_RATE: f64 = 500.0;
const PACED_SECS: f64 = 6.0;
const THROTTLE_SECS: f64 = 6.0;
/// Wall-clock bounds: no wait in this file runs longer than these.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const STALL_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
const PIN_ENV: &str = "KLONOPIN_LOAD_PINNED";
/// `KLONOPIN_LOAD_ONLY=throughput` or `=latency` runs one part (e.g. to profile it).
const ONLY_ENV: &str = "KLONOPIN_LOAD_ONLY";
/// `KLONOPIN_LOAD_BASELINE=PATH`: compare this build's throughput with another binary's.
const BASELINE_ENV: &str = "KLONOPIN_LOAD_BASELINE";
const COMPARE_PAIRS: usize = 6;
const SOAK_ENV: &str = "KLONOPIN_SOAK_UPDATES";
const SOAK_UPDATES: usize = 1_000_000;
const SOAK_PRIVATE_CHATS: i64 = 500_000;
const SOAK_GROUPS: i64 = 50_000;
const SOAK_CHUNK: usize = 20_000;
/// `KLONOPIN_SOAK_CHUNK=N`: updates queued at once (a backlog of N at each step).
const SOAK_CHUNK_ENV: &str = "KLONOPIN_SOAK_CHUNK";
/// Of every 100 soak updates, this many are in groups.
const SOAK_GROUP_SHARE: usize = 10;
/// The soak's bound on the bot's peak RSS (issue 13).
const SOAK_RSS_TARGET_MIB: f64 = 64.0;

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: do nothing then.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("load: run with `cargo bench --bench load` (skipped)");
        return;
    }
    let taskset = taskset_works();
    if taskset && std::env::var_os(PIN_ENV).is_none() && cpus_allowed() != "0" {
        // Re-execute pinned to core 0; the bot gets core 1.
        let exe = std::env::current_exe().expect("current_exe");
        let status =
            Command::new("taskset").args(["-c", "0"]).arg(exe).args(&args).env(PIN_ENV, "1").status().expect("re-exec under taskset");
        std::process::exit(status.code().unwrap_or(1));
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let started = Instant::now();
    let report = runtime.block_on(run_all(taskset));
    let total = started.elapsed();
    let report = format!("{report}\ntotal bench time {:.0} s\n", total.as_secs_f64());
    print!("{report}");
    let name = if std::env::var_os(BASELINE_ENV).is_some() { "load-compare.txt" } else { "load-report.txt" };
    let path = target_dir().join(name);
    match std::fs::write(&path, &report) {
        Ok(()) => println!("written to {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn taskset_works() -> bool {
    Command::new("taskset").args(["-c", "1", "true"]).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn cpus_allowed() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:").map(|v| v.trim().to_owned())))
        .unwrap_or_default()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Workload
// ---------------------------------------------------------------------------------------------

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Corpus {
    questions: Vec<&'static str>,
    crisis: Vec<&'static str>,
}

impl Corpus {
    fn new() -> Corpus {
        let column = |text: &'static str, col: usize| -> Vec<&'static str> {
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|l| l.split('\t').nth(col))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        };
        let corpus = Corpus { questions: column(ROUTING, 1), crisis: column(CRISIS, 2) };
        assert!(corpus.questions.len() > 100 && corpus.crisis.len() > 20, "test data changed shape");
        corpus
    }
}

enum Item {
    Text(&'static str),
    Button(String),
}

/// What the bot will receive, and what it must send back (by the same engine).
struct Workload {
    items: Vec<(i64, Item)>,
    expected_messages: usize,
    callbacks: usize,
    /// Updates after which the bot stores or deletes a state (the handler skips a write
    /// when the state stays the default and nothing was stored).
    state_writes: usize,
}

/// Simulates each chat's dialogue as the bot will (per-chat order is kept by teloxide's
/// dispatcher), so the number of sendMessage calls is known in advance.
struct Simulator<'a> {
    set: &'a ResponseSet,
    chats: HashMap<i64, (State, Option<String>)>,
    state_writes: usize,
}

impl<'a> Simulator<'a> {
    fn new(set: &'a ResponseSet) -> Self {
        Simulator { set, chats: HashMap::new(), state_writes: 0 }
    }

    /// Returns the number of messages sent for this input.
    fn feed(&mut self, chat: i64, item: &Item) -> usize {
        let (state, button) = self.chats.entry(chat).or_default();
        let input = match item {
            Item::Text(t) => Input::from_text(t),
            Item::Button(d) => Input::Button(d),
        };
        let turn = step(state, &input, self.set);
        let forget = matches!(turn.next, Next::Forget);
        let next = match turn.next {
            Next::Forget => State::default(),
            Next::Keep(s) => s,
        };
        // Approximates handlers::process: a changed state is written; an unchanged one is not
        // (the SQLite store skips it within the hour); back to the default deletes the row.
        if next != *state || forget {
            self.state_writes += 1;
        }
        *state = next;
        *button = turn.messages.last().and_then(|m| m.buttons.iter().flatten().next()).map(|b| b.action.encode());
        turn.messages.iter().map(|m| parts(m).len()).sum()
    }

    fn button(&self, chat: i64) -> Option<String> {
        self.chats.get(&chat).and_then(|(_, b)| b.clone())
    }
}

/// One private-chat update of the mixed workload: commands, crisis messages, small talk,
/// the chat's latest button (when it has one) and, mostly, topic questions.
fn mixed_item(rng: &mut Rng, corpus: &Corpus, sim: &Simulator<'_>, chat: i64) -> Item {
    match rng.below(100) {
        0..=3 => Item::Text(COMMANDS[rng.below(COMMANDS.len())]),
        4..=6 => Item::Text(corpus.crisis[rng.below(corpus.crisis.len())]),
        7..=11 => Item::Text(SMALL_TALK[rng.below(SMALL_TALK.len())]),
        12..=18 => match sim.button(chat) {
            Some(data) => Item::Button(data),
            None => Item::Text(corpus.questions[rng.below(corpus.questions.len())]),
        },
        _ => Item::Text(corpus.questions[rng.below(corpus.questions.len())]),
    }
}

fn mixed_workload(set: &ResponseSet, corpus: &Corpus, n: usize, chats: i64, first_chat: i64, seed: u64) -> Workload {
    let mut rng = Rng(seed);
    let mut sim = Simulator::new(set);
    let mut w = Workload { items: Vec::with_capacity(n), expected_messages: 0, callbacks: 0, state_writes: 0 };
    for _ in 0..n {
        let chat = first_chat + rng.below(chats as usize) as i64;
        let item = mixed_item(&mut rng, corpus, &sim, chat);
        w.expected_messages += sim.feed(chat, &item);
        if matches!(item, Item::Button(_)) {
            w.callbacks += 1;
        }
        w.items.push((chat, item));
    }
    w.state_writes = sim.state_writes;
    w
}

/// One question per fresh chat (for latency: the first reply to the chat answers it).
fn paced_workload(set: &ResponseSet, corpus: &Corpus, n: usize, first_chat: i64, seed: u64) -> Workload {
    let mut rng = Rng(seed);
    let mut sim = Simulator::new(set);
    let mut w = Workload { items: Vec::with_capacity(n), expected_messages: 0, callbacks: 0, state_writes: 0 };
    for i in 0..n {
        let chat = first_chat + i as i64;
        let item = Item::Text(corpus.questions[rng.below(corpus.questions.len())]);
        w.expected_messages += sim.feed(chat, &item);
        w.items.push((chat, item));
    }
    w.state_writes = sim.state_writes;
    w
}

fn push_all(fake: &FakeBotApi, items: &[(i64, Item)]) {
    let mut batch: Vec<(i64, &str)> = Vec::new();
    for (chat, item) in items {
        match item {
            Item::Text(t) => batch.push((*chat, *t)),
            Item::Button(data) => {
                fake.push_texts(&batch);
                batch.clear();
                // Message id 1 is the user's first message: the fake embeds a stand-in bot message.
                fake.push_callback(*chat, 1, data);
            }
        }
    }
    fake.push_texts(&batch);
}

// ---------------------------------------------------------------------------------------------
// The bot process
// ---------------------------------------------------------------------------------------------

struct Bot {
    child: Child,
    pid: u32,
    log: PathBuf,
}

impl Bot {
    fn start(fake: &FakeBotApi, bin: &Path, storage: &str, throttle: bool, pinned: bool, dir: &Path) -> Bot {
        let mut cmd = if pinned {
            let mut c = Command::new("taskset");
            c.args(["-c", "1"]).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        cmd.args(["serve", "--storage", storage]);
        if !throttle {
            cmd.arg("--no-throttle");
        }
        let log = dir.join("bot.log");
        let stderr = std::fs::File::create(&log).expect("bot log file");
        cmd.env_remove("KLONOPIN_BOT_RESPONSES")
            .env_remove("RUST_LOG")
            .env_remove("KLONOPIN_BOT_STORAGE")
            .env_remove("KLONOPIN_BOT_METRICS_LISTEN")
            .env_remove("KLONOPIN_BOT_RECORD_UNMATCHED");
        for (k, v) in fake.env() {
            cmd.env(k, v);
        }
        cmd.current_dir(dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr);
        let child = cmd.spawn().expect("spawn klonopin-bot");
        let pid = child.id(); // taskset execs the bot: same pid
        Bot { child, pid, log }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    fn status_field(&self, key: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok())
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        self.status_field("VmHWM:")
    }

    fn cpu_ticks(&self) -> Option<u64> {
        cpu_ticks_of(&format!("/proc/{}/stat", self.pid))
    }

    /// SIGTERM, then its exit code (None: killed after STOP_TIMEOUT, or died of a signal).
    async fn terminate(mut self) -> Option<i32> {
        let _ = Command::new("kill").args(["-TERM", &self.pid.to_string()]).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// utime + stime (clock ticks) from /proc/PID/stat.
fn cpu_ticks_of(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After "pid (comm) ": state is field 3 -> index 0; utime is field 14 -> index 11.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Waits (async, bounded) until `cond` holds; false on RUN_TIMEOUT or if the bot exited.
async fn wait_for(bot: &mut Bot, mut cond: impl FnMut() -> bool, progress: impl Fn() -> usize) -> bool {
    let deadline = Instant::now() + RUN_TIMEOUT;
    let mut last = (progress(), Instant::now());
    loop {
        if cond() {
            return true;
        }
        let now = Instant::now();
        let p = progress();
        if p != last.0 {
            last = (p, now);
        }
        if now >= deadline || now - last.1 > STALL_TIMEOUT || !matches!(bot.child.try_wait(), Ok(None)) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

struct Env<'a> {
    set: &'a ResponseSet,
    /// The binary under test: this build's, or the baseline's during its runs.
    bin: PathBuf,
    corpus: Corpus,
    pinned: bool,
    tck: f64,
    notes: Vec<String>,
}

#[derive(Default, Clone)]
struct Outcome {
    /// updates/s (throughput) or messages/s (throttle cap).
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    samples: usize,
    bot_cpu: f64,
    fake_cpu: f64,
    rss_mib: f64,
    exit: Option<i32>,
    ok: bool,
    /// Messages over Telegram's rate limits (runs with the limiter only).
    breaches: usize,
}

fn spec_for(storage: &str, dir: &Path) -> String {
    match storage {
        "sqlite" => format!("sqlite:{}", dir.join("state.sqlite").display()),
        other => other.to_owned(),
    }
}

async fn throughput_run(env: &mut Env<'_>, storage: &str, lean: bool, seed: u64) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeBotApi::start().await;
    fake.set_lean(lean);
    fake.ignore_rate_limits(); // --no-throttle: the bot is meant to go as fast as it can
    let w = mixed_workload(env.set, &env.corpus, THROUGHPUT_UPDATES, THROUGHPUT_CHATS, 10_000, seed);
    push_all(&fake, &w.items);
    let mut bot = Bot::start(&fake, &env.bin, &spec_for(storage, dir.path()), false, env.pinned, dir.path());
    let mut out = Outcome::default();
    let ready = wait_for(&mut bot, || fake.first_call_at("getUpdates").is_some(), || 0).await;
    let (bot0, fake0) = (bot.cpu_ticks().unwrap_or(0), cpu_ticks_of("/proc/self/stat").unwrap_or(0));
    let done = ready && wait_for(&mut bot, || fake.delivered_count() >= w.expected_messages, || fake.delivered_count()).await;
    let (bot1, fake1) = (bot.cpu_ticks().unwrap_or(0), cpu_ticks_of("/proc/self/stat").unwrap_or(0));
    if done {
        let deliveries = fake.deliveries();
        let start = fake.first_call_at("getUpdates").expect("polled");
        let end = deliveries.iter().map(|d| d.at).max().expect("deliveries");
        let secs = (end - start).as_secs_f64();
        out.rate = THROUGHPUT_UPDATES as f64 / secs;
        out.bot_cpu = (bot1 - bot0) as f64 / env.tck / secs;
        out.fake_cpu = (fake1 - fake0) as f64 / env.tck / secs;
        out.ok = true;
    } else {
        env.notes.push(format!(
            "throughput {storage} (seed {seed}): only {} of {} replies arrived; bot log tail:\n{}",
            fake.delivered_count(),
            w.expected_messages,
            bot.log_tail()
        ));
    }
    out.samples = w.expected_messages;
    settle(env, &fake, &mut bot, &mut out, &format!("throughput {storage}"), w.expected_messages, w.callbacks).await;
    out.exit = bot.terminate().await;
    out
}

/// Checks the run was clean (no violations, no surplus replies) and reads peak RSS.
async fn settle(env: &mut Env<'_>, fake: &FakeBotApi, bot: &mut Bot, out: &mut Outcome, what: &str, expected: usize, callbacks: usize) {
    tokio::time::sleep(Duration::from_millis(100)).await; // let stragglers (if any) arrive
    let violations = fake.violations();
    if !violations.is_empty() {
        out.ok = false;
        env.notes.push(format!("{what}: {} violations, first: {}", violations.len(), violations[0]));
    }
    if fake.delivered_count() > expected {
        env.notes.push(format!("{what}: {} replies, {} expected", fake.delivered_count(), expected));
    }
    let answered = fake.method_count("answerCallbackQuery");
    if answered < callbacks && out.ok {
        env.notes.push(format!("{what}: {answered} of {callbacks} callback queries answered"));
    }
    out.rss_mib = bot.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
}

async fn paced_run(env: &mut Env<'_>, storage: &str, throttle: bool, rate: f64, secs: f64, seed: u64) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeBotApi::start().await;
    fake.set_lean(true);
    let mut bot = Bot::start(&fake, &env.bin, &spec_for(storage, dir.path()), throttle, env.pinned, dir.path());
    let mut out = Outcome::default();
    let what = format!("paced {storage} {rate}/s throttle={throttle}");
    if !wait_for(&mut bot, || fake.first_call_at("getUpdates").is_some(), || 0).await {
        env.notes.push(format!("{what}: the bot never polled; log tail:\n{}", bot.log_tail()));
        out.exit = bot.terminate().await;
        return out;
    }
    // Warm-up: a few chats, so connections and caches exist before measuring.
    let warm = paced_workload(env.set, &env.corpus, 20, 1, seed ^ 1);
    push_all(&fake, &warm.items);
    if !wait_for(&mut bot, || fake.delivered_count() >= warm.expected_messages, || fake.delivered_count()).await {
        env.notes.push(format!("{what}: warm-up replies missing; log tail:\n{}", bot.log_tail()));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let n = (rate * secs).round() as usize;
    let w = paced_workload(env.set, &env.corpus, n, 1_000_000, seed);
    let expected = warm.expected_messages + w.expected_messages;
    let mut pushed_at: Vec<(i64, Instant)> = Vec::with_capacity(n);
    let (bot0, fake0) = (bot.cpu_ticks().unwrap_or(0), cpu_ticks_of("/proc/self/stat").unwrap_or(0));
    let t0 = Instant::now();
    let mut next = 0;
    while next < n && t0.elapsed() < Duration::from_secs_f64(secs * 3.0) {
        let now = Instant::now();
        while next < n && t0 + Duration::from_secs_f64(next as f64 / rate) <= now {
            let (chat, Item::Text(text)) = &w.items[next] else { unreachable!("paced items are texts") };
            pushed_at.push((*chat, Instant::now()));
            fake.push_text(*chat, text);
            next += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let push_secs = t0.elapsed().as_secs_f64();
    let done = wait_for(&mut bot, || fake.delivered_count() >= expected, || fake.delivered_count()).await;
    let (bot1, fake1) = (bot.cpu_ticks().unwrap_or(0), cpu_ticks_of("/proc/self/stat").unwrap_or(0));
    let wall = t0.elapsed().as_secs_f64();
    out.bot_cpu = (bot1 - bot0) as f64 / env.tck / wall;
    out.fake_cpu = (fake1 - fake0) as f64 / env.tck / wall;
    let mut first: HashMap<i64, Instant> = HashMap::new();
    for d in fake.deliveries() {
        first.entry(d.chat_id).and_modify(|t| *t = (*t).min(d.at)).or_insert(d.at);
    }
    let mut lat: Vec<f64> =
        pushed_at.iter().filter_map(|(c, p)| first.get(c).map(|f| f.saturating_duration_since(*p).as_secs_f64() * 1000.0)).collect();
    let missing = pushed_at.len() - lat.len();
    if !done || missing > 0 || pushed_at.len() < n {
        env.notes.push(format!(
            "{what}: pushed {}/{n} in {push_secs:.1} s, {missing} without a reply, {}/{expected} messages",
            pushed_at.len(),
            fake.delivered_count()
        ));
    }
    lat.sort_by(f64::total_cmp);
    out.samples = lat.len();
    out.rate = pushed_at.len() as f64 / push_secs;
    out.p50_ms = percentile(&lat, 50.0);
    out.p99_ms = percentile(&lat, 99.0);
    out.ok = done && missing == 0 && !lat.is_empty();
    settle(env, &fake, &mut bot, &mut out, &what, expected, 0).await;
    out.breaches = if throttle { fake.rate_limit_breaches() } else { 0 };
    out.exit = bot.terminate().await;
    out
}

/// With the rate limiter and a backlog: messages/s delivered over a fixed window, and the
/// messages over Telegram's limits once every reply went out.
async fn throttle_cap_run(env: &mut Env<'_>, window: Duration) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeBotApi::start().await;
    fake.set_lean(true);
    let w = paced_workload(env.set, &env.corpus, 150, 1_000_000, 7);
    push_all(&fake, &w.items);
    let mut bot = Bot::start(&fake, &env.bin, &spec_for("sqlite", dir.path()), true, env.pinned, dir.path());
    let mut out = Outcome::default();
    if wait_for(&mut bot, || fake.first_call_at("getUpdates").is_some(), || 0).await {
        let start = fake.first_call_at("getUpdates").expect("polled");
        let end = start + window;
        while Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let sent = fake.deliveries().iter().filter(|d| d.at <= end).count();
        out.rate = sent as f64 / window.as_secs_f64();
        out.samples = sent;
        out.ok = sent < w.expected_messages; // a backlog remained: the cap was binding
        if !out.ok {
            env.notes.push("limiter cap: the backlog drained inside the window; the rate is a lower bound".to_owned());
        }
    }
    out.rss_mib = bot.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    out.exit = bot.terminate().await; // finishes the queued replies first (bounded by STOP_TIMEOUT)
    out.breaches = fake.rate_limit_breaches();
    out
}

// ---------------------------------------------------------------------------------------------
// Statistics and the report
// ---------------------------------------------------------------------------------------------

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// "median [min-max]" over the runs.
fn stat(runs: &[Outcome], f: impl Fn(&Outcome) -> f64, digits: usize) -> String {
    spread(&runs.iter().filter(|o| o.ok).map(f).collect::<Vec<_>>(), digits)
}

/// "median [min-max]" of the finite values, or "n/a".
fn spread(values: &[f64], digits: usize) -> String {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return "n/a".to_owned();
    }
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.digits$} [{:.digits$}-{:.digits$}]", median(&v), min, max)
}

fn exits(runs: &[Outcome]) -> String {
    let codes: Vec<String> = runs.iter().map(|o| o.exit.map_or("none".to_owned(), |c| c.to_string())).collect();
    codes.join(",")
}

fn okays(runs: &[Outcome]) -> String {
    format!("{}/{}", runs.iter().filter(|o| o.ok).count(), runs.len())
}

async fn run_all(taskset: bool) -> String {
    let loaded = load_embedded().unwrap_or_else(|d| panic!("built-in responses invalid: {d:?}"));
    let set = loaded.set;
    let pinned = taskset && cpus_allowed() == "0";
    let mut env = Env {
        set: &set,
        // KLONOPIN_LOAD_BIN: another binary (or a wrapper such as a heap profiler's) to run.
        bin: std::env::var_os("KLONOPIN_LOAD_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_klonopin-bot"))),
        corpus: Corpus::new(),
        pinned,
        tck: clock_ticks_per_sec(),
        notes: Vec::new(),
    };
    let load_before = loadavg();
    let mut out = String::new();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let _ = writeln!(out, "klonopin-bot load benchmark ({RUNS} runs per configuration; median [min-max])");
    let _ = writeln!(
        out,
        "pinning: {}; bench process CPUs {}; loadavg before {load_before}",
        if pinned {
            "bot on core 1 (taskset -c 1), fake + generator on core 0"
        } else {
            "NONE (taskset missing or failed): bot and fake share all cores"
        },
        cpus_allowed(),
    );
    let _ = writeln!(out, "cores visible to the bench: {cores}");

    // Workload facts.
    let sample = mixed_workload(&set, &env.corpus, THROUGHPUT_UPDATES, THROUGHPUT_CHATS, 10_000, 1);
    let paced = paced_workload(&set, &env.corpus, 1000, 1_000_000, 2);
    let per_update = paced.expected_messages as f64 / 1000.0;
    let _ = writeln!(
        out,
        "workload: {THROUGHPUT_UPDATES} updates over {THROUGHPUT_CHATS} private chats ({} button presses, about {} state writes), {} sendMessage expected ({:.2}/update); paced questions: {per_update:.2} messages/update",
        sample.callbacks,
        sample.state_writes,
        sample.expected_messages,
        sample.expected_messages as f64 / THROUGHPUT_UPDATES as f64
    );
    drop(sample);

    let only = std::env::var(ONLY_ENV).unwrap_or_default();
    let mut table = String::new();
    if only == "soak" {
        soak_section(&mut env, &mut table).await;
    } else if let Some(baseline) = std::env::var_os(BASELINE_ENV) {
        compare_section(&mut env, &mut table, PathBuf::from(baseline)).await;
    } else if only != "latency" {
        throughput_section(&mut env, &mut table).await;
    }
    if only != "throughput" && only != "soak" && std::env::var_os(BASELINE_ENV).is_none() {
        latency_section(&mut env, &mut table, per_update).await;
    }

    out.push_str(&table);
    let _ = writeln!(out, "\nloadavg after {} (before {load_before}); other processes on the machine add noise to every figure", loadavg());
    if !env.notes.is_empty() {
        let _ = writeln!(out, "\nnotes:");
        for n in &env.notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    out
}

async fn throughput_section(env: &mut Env<'_>, table: &mut String) {
    let _ = writeln!(table, "\n1. Throughput, --no-throttle, {THROUGHPUT_UPDATES} queued updates (first getUpdates -> last reply)");
    let _ = writeln!(
        table,
        "{:<34} {:>24} {:>16} {:>22} {:>16} {:>16} {:>6} {:>6}",
        "configuration", "updates/s", "bot CPU (cores)", "updates/bot CPU-s", "fake CPU", "peak RSS MiB", "ok", "exit"
    );
    let mut sqlite_rate = f64::NAN;
    let configs = [("memory", true), ("sqlite", true), ("sqlite", false)];
    let mut all_runs: Vec<Vec<Outcome>> = vec![Vec::new(); configs.len()];
    // Interleaved (memory, sqlite, memory, sqlite, ...) so that the machine's drift during
    // the bench hits both storages alike; the validating run comes last, once.
    for r in 0..RUNS {
        for (i, (storage, lean)) in configs.iter().enumerate() {
            if *lean || r == RUNS - 1 {
                all_runs[i].push(throughput_run(env, storage, *lean, 1 + r as u64).await);
            }
        }
    }
    for ((storage, lean), runs) in configs.into_iter().zip(all_runs) {
        if storage == "sqlite" && lean {
            sqlite_rate = median(&runs.iter().filter(|o| o.ok).map(|o| o.rate).collect::<Vec<_>>());
        }
        let name = format!("{storage}{}", if lean { "" } else { " (fake validates HTML, 1 run)" });
        let _ = writeln!(
            table,
            "{:<34} {:>24} {:>16} {:>22} {:>16} {:>16} {:>6} {:>6}",
            name,
            stat(&runs, |o| o.rate, 0),
            stat(&runs, |o| o.bot_cpu, 2),
            stat(&runs, |o| o.rate / o.bot_cpu, 0),
            stat(&runs, |o| o.fake_cpu, 2),
            stat(&runs, |o| o.rss_mib, 1),
            okays(&runs),
            exits(&runs)
        );
    }
    let verdict = if sqlite_rate >= 5000.0 { "meets" } else { "MISSES" };
    let _ = writeln!(table, "target >= 5,000 updates/s with SQLite on one core: {verdict} ({sqlite_rate:.0}/s median)");
}

/// This build against a baseline binary, runs alternating so that drift hits both alike.
async fn compare_section(env: &mut Env<'_>, table: &mut String, baseline: PathBuf) {
    let this_build = env.bin.clone();
    let _ = writeln!(
        table,
        "\n1. Throughput, --no-throttle, {THROUGHPUT_UPDATES} queued updates: this build vs {} ({COMPARE_PAIRS} alternating pairs)",
        baseline.display()
    );
    let _ = writeln!(
        table,
        "{:<34} {:>24} {:>24} {:>20} {:>16} {:>16}",
        "storage", "this build updates/s", "baseline updates/s", "ratio (paired)", "this RSS MiB", "baseline RSS MiB"
    );
    for storage in ["memory", "sqlite"] {
        let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..COMPARE_PAIRS {
            let seed = 1 + r as u64;
            // Alternate which goes first, so a trend in the machine's load does not favour one.
            let order = if r % 2 == 0 { [&this_build, &baseline] } else { [&baseline, &this_build] };
            let mut pair = Vec::new();
            for bin in order {
                env.bin = bin.clone();
                pair.push((bin == &this_build, throughput_run(env, storage, true, seed).await));
            }
            let mine = pair.iter().find(|(is_this, _)| *is_this).map(|(_, o)| o.clone()).unwrap_or_default();
            let base = pair.iter().find(|(is_this, _)| !*is_this).map(|(_, o)| o.clone()).unwrap_or_default();
            if mine.ok && base.ok {
                ratios.push(mine.rate / base.rate);
            }
            ours.push(mine);
            theirs.push(base);
        }
        env.bin = this_build.clone();
        let ratio = if ratios.is_empty() { "no clean pair".to_owned() } else { format!("x{}", spread(&ratios, 2)) };
        let _ = writeln!(
            table,
            "{:<34} {:>24} {:>24} {:>20} {:>16} {:>16}",
            storage,
            stat(&ours, |o| o.rate, 0),
            stat(&theirs, |o| o.rate, 0),
            ratio,
            stat(&ours, |o| o.rss_mib, 1),
            stat(&theirs, |o| o.rss_mib, 1)
        );
    }
}

async fn latency_section(env: &mut Env<'_>, table: &mut String, per_update: f64) {
    let _ = writeln!(table, "\n2. Latency, paced, fresh chat per update (push -> first reply at the fake), ms");
    let _ = writeln!(
        table,
        "{:<34} {:>10} {:>24} {:>24} {:>10} {:>16} {:>14} {:>6} {:>6}",
        "configuration", "rate/s", "p50 ms", "p99 ms", "samples", "bot CPU", "peak RSS MiB", "ok", "exit"
    );
    let throttle_rate = (25.0 / per_update.max(1.0)).floor().clamp(5.0, 15.0);
    let configs: [(&str, bool, f64, f64); 4] = [
        ("memory", false, PACED_RATE, PACED_SECS),
        ("sqlite", false, PACED_RATE, PACED_SECS),
        ("sqlite", false, throttle_rate, THROTTLE_SECS),
        ("sqlite", true, throttle_rate, THROTTLE_SECS),
    ];
    let mut p50s = HashMap::new();
    for (i, (storage, throttle, rate, secs)) in configs.into_iter().enumerate() {
        let mut runs = Vec::new();
        for r in 0..RUNS {
            runs.push(paced_run(env, storage, throttle, rate, secs, 100 + (i * RUNS + r) as u64).await);
        }
        let name = format!("{storage}, {}", if throttle { "rate limiter" } else { "--no-throttle" });
        if throttle {
            let breaches: usize = runs.iter().map(|o| o.breaches).sum();
            env.notes.push(format!("{name} at {rate:.0}/s: {breaches} messages over Telegram's limits in {RUNS} runs"));
        }
        p50s.insert((storage, throttle, rate as u64), (median(&ok_values(&runs, |o| o.p50_ms)), median(&ok_values(&runs, |o| o.p99_ms))));
        let _ = writeln!(
            table,
            "{:<34} {:>10.0} {:>24} {:>24} {:>10} {:>16} {:>14} {:>6} {:>6}",
            name,
            rate,
            stat(&runs, |o| o.p50_ms, 1),
            stat(&runs, |o| o.p99_ms, 1),
            stat(&runs, |o| o.samples as f64, 0),
            stat(&runs, |o| o.bot_cpu, 2),
            stat(&runs, |o| o.rss_mib, 1),
            okays(&runs),
            exits(&runs)
        );
    }
    let off = p50s.get(&("sqlite", false, throttle_rate as u64)).copied().unwrap_or((f64::NAN, f64::NAN));
    let on = p50s.get(&("sqlite", true, throttle_rate as u64)).copied().unwrap_or((f64::NAN, f64::NAN));
    let _ = writeln!(
        table,
        "Rate limiter cost at {throttle_rate:.0}/s (sqlite, medians): p50 {:.1} -> {:.1} ms (+{:.1} ms), p99 {:.1} -> {:.1} ms (+{:.1} ms)",
        off.0,
        on.0,
        on.0 - off.0,
        off.1,
        on.1,
        on.1 - off.1
    );

    // The limiter's overall cap, once.
    let cap = throttle_cap_run(env, Duration::from_secs(4)).await;
    let _ = writeln!(
        table,
        "Rate limiter with a backlog of 150 questions (sqlite, 1 run): {:.1} messages/s delivered in the first 4 s (overall quota: a burst of 5, then 25/s), {} over Telegram's limits; exit {}",
        cap.rate,
        cap.breaches,
        cap.exit.map_or("none".to_owned(), |c| c.to_string())
    );
}

fn ok_values(runs: &[Outcome], f: impl Fn(&Outcome) -> f64) -> Vec<f64> {
    runs.iter().filter(|o| o.ok).map(f).collect()
}

// ---------------------------------------------------------------------------------------------
// Soak
// ---------------------------------------------------------------------------------------------

/// What the soak's groups say: chatter the bot must ignore, and crisis mentions it overhears.
struct GroupLines {
    chatter: Vec<&'static str>,
    crisis: Vec<&'static str>,
}

impl GroupLines {
    fn new(set: &ResponseSet, corpus: &Corpus) -> GroupLines {
        use klonopin_bot::engine::overheard;
        let chatter = corpus.questions.iter().copied().filter(|q| overheard(q, set).is_none()).collect();
        let crisis = corpus.crisis.iter().copied().filter(|q| overheard(q, set).is_some()).collect();
        GroupLines { chatter, crisis }
    }
}

/// One chunk of the soak: private items (through the simulator), group messages, and the
/// replies both must bring.
struct SoakChunk {
    private: Vec<(i64, Item)>,
    group: Vec<(i64, &'static str)>,
    expected: usize,
}

fn soak_chunk(
    set: &ResponseSet,
    corpus: &Corpus,
    lines: &GroupLines,
    sim: &mut Simulator<'_>,
    groups_told: &mut std::collections::HashSet<i64>,
    rng: &mut Rng,
    n: usize,
) -> SoakChunk {
    let (mut private, mut group, mut expected) = (Vec::new(), Vec::new(), 0);
    for _ in 0..n {
        if rng.below(100) < SOAK_GROUP_SHARE {
            let chat = -(1_000 + rng.below(SOAK_GROUPS as usize) as i64);
            // A group's first message mentions a crisis (overheard: guidance as a reply, and
            // the group enters the cooldown map); later ones are chatter or /help.
            let text = if groups_told.insert(chat) {
                let text = lines.crisis[rng.below(lines.crisis.len())];
                let turn = klonopin_bot::engine::overheard_in(text, set, None).expect("chosen as overheard");
                expected += turn.messages.iter().map(|m| parts(m).len()).sum::<usize>();
                text
            } else if rng.below(4) == 0 {
                expected += sim.feed(chat, &Item::Text("/help"));
                "/help"
            } else {
                lines.chatter[rng.below(lines.chatter.len())]
            };
            group.push((chat, text));
            continue;
        }
        let chat = 10_000 + rng.below(SOAK_PRIVATE_CHATS as usize) as i64;
        let item = mixed_item(rng, corpus, sim, chat);
        expected += sim.feed(chat, &item);
        private.push((chat, item));
    }
    SoakChunk { private, group, expected }
}

async fn soak_section(env: &mut Env<'_>, table: &mut String) {
    let total: usize = std::env::var(SOAK_ENV).ok().and_then(|v| v.parse().ok()).unwrap_or(SOAK_UPDATES);
    let chunk: usize = std::env::var(SOAK_CHUNK_ENV).ok().and_then(|v| v.parse().ok()).unwrap_or(SOAK_CHUNK).max(1);
    let _ = writeln!(
        table,
        "\n5. Soak: {total} updates over {SOAK_PRIVATE_CHATS} private chats and {SOAK_GROUPS} groups ({SOAK_GROUP_SHARE}% group messages), sqlite, --no-throttle, chunks of {chunk} (each queued at once, then answered)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeBotApi::start().await;
    fake.set_lean(true);
    let mut bot = Bot::start(&fake, &env.bin, &spec_for("sqlite", dir.path()), false, env.pinned, dir.path());
    if !wait_for(&mut bot, || fake.first_call_at("getUpdates").is_some(), || 0).await {
        env.notes.push(format!("soak: the bot never polled; log tail:\n{}", bot.log_tail()));
        return;
    }
    let lines = GroupLines::new(env.set, &env.corpus);
    let mut sim = Simulator::new(env.set);
    let mut told = std::collections::HashSet::new();
    let mut rng = Rng(0x50a4);
    let (mut done, mut expected, mut shortfalls) = (0, 0, 0);
    // Before any update: the content loaded and the classifier trained.
    let mut samples: Vec<(usize, f64)> = vec![(0, bot.status_field("VmRSS:").unwrap_or(0) as f64 / 1024.0)];
    let mib = |field: &str| bot.status_field(field).unwrap_or(0) as f64 / 1024.0;
    let mut split = vec![format!("0k: heap and stacks {:.1}, file-backed {:.1}", mib("RssAnon:"), mib("RssFile:"))];
    let t0 = Instant::now();
    while done < total {
        let n = chunk.min(total - done);
        let SoakChunk { private, group, expected: more } = soak_chunk(env.set, &env.corpus, &lines, &mut sim, &mut told, &mut rng, n);
        expected += more;
        push_all(&fake, &private);
        for (chat, text) in &group {
            fake.push_group_text(*chat, 7, text);
        }
        let all_in =
            wait_for(&mut bot, || fake.delivered_count() >= expected && fake.pending_updates() == 0, || fake.delivered_count()).await;
        if !matches!(bot.child.try_wait(), Ok(None)) {
            env.notes.push(format!("soak: the bot exited after {done} updates; log tail:\n{}", bot.log_tail()));
            break;
        }
        if !all_in {
            shortfalls += 1;
            // Replies the simulator expected and the bot did not send: start the next chunk
            // from what arrived, and say so.
            expected = fake.delivered_count();
        }
        done += n;
        samples.push((done, bot.status_field("VmRSS:").unwrap_or(0) as f64 / 1024.0));
        if done == n || done == total || done % (total / 4).max(n) < n {
            let mib = |field: &str| bot.status_field(field).unwrap_or(0) as f64 / 1024.0;
            split.push(format!("{}k: heap and stacks {:.1}, file-backed {:.1}", done / 1000, mib("RssAnon:"), mib("RssFile:")));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let peak = bot.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    let violations = fake.violations().len();
    let exit = bot.terminate().await;
    let at = |share: f64| samples.iter().skip(1).find(|(d, _)| *d as f64 >= share * total as f64).map_or(f64::NAN, |(_, r)| *r);
    let after_warmup: Vec<f64> = samples.iter().filter(|(d, _)| *d as f64 >= 0.2 * total as f64).map(|(_, r)| *r).collect();
    let (lo, hi) = after_warmup.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    let _ = writeln!(
        table,
        "RSS MiB at start {:.1}, after 10% {:.1}, 20% {:.1}, 50% {:.1}, 100% {:.1}; from 20% on between {lo:.1} and {hi:.1}; peak (VmHWM) {peak:.1}",
        samples[0].1,
        at(0.1),
        at(0.2),
        at(0.5),
        at(1.0)
    );
    let verdict = if peak <= SOAK_RSS_TARGET_MIB { "meets" } else { "MISSES" };
    let _ = writeln!(
        table,
        "{done} updates in {secs:.0} s ({:.0}/s), {} replies, {shortfalls} chunks short of the expected replies, {violations} violations, exit {}; peak RSS <= {SOAK_RSS_TARGET_MIB} MiB: {verdict}",
        done as f64 / secs,
        fake.delivered_count(),
        exit.map_or("none".to_owned(), |c| c.to_string())
    );
    let curve: Vec<String> = samples.iter().step_by((samples.len() / 10).max(1)).map(|(d, r)| format!("{}k:{r:.1}", d / 1000)).collect();
    let _ = writeln!(table, "RSS curve (updates: MiB): {}", curve.join(" "));
    let _ = writeln!(table, "RSS split (MiB): {}", split.join("; "));
}
