//! The Telegram adapter: a thin teloxide layer over the conversation engine.
//!
//! - [`serve`] reads the flags, loads the responses, opens storage, and runs a teloxide
//!   `Dispatcher` (long polling, or a webhook) until SIGINT or SIGTERM.
//! - [`handlers`] turns updates into engine inputs, runs `engine::step`, sends the replies
//!   and stores the new state. It decides nothing the engine decides.
//! - [`ops`] reloads the responses (SIGHUP, file changes), serves `/metrics` and
//!   `/healthz`, and keeps the opt-in log of unmatched questions.
//! - [`direct`] sends replies without teloxide's answer parsing; [`limiter`] keeps them
//!   within Telegram's rate limits, waiting only when a send would break one.
//! - [`groups`] decides when crisis guidance goes to a group unasked (pure).
//! - [`render`] splits replies to Telegram's limits and builds keyboards (pure).
//! - [`salvage`] rebuilds messages teloxide cannot parse, so their words still get an answer.
//! - [`storage`] keeps each chat's dialogue state: SQLite (default), Redis or memory.

pub mod direct;
pub mod failure;
pub mod groups;
pub mod handlers;
pub mod limiter;
pub mod ops;
pub mod render;
pub mod salvage;
pub mod storage;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::BotCommand;
use teloxide::update_listeners::{webhooks, Polling, UpdateListener};

use crate::content::ResponseSet;
use storage::{open_store, parse_storage_spec, StateStore};

/// Flags of `klonopin-bot serve`. The token is never a flag (it would show in `ps`).
#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub content: crate::cli::ContentArgs,
    /// Read the bot token from this file instead of TELOXIDE_TOKEN (systemd: LoadCredential).
    #[arg(long, env = "KLONOPIN_BOT_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// Where dialogue state lives: sqlite:PATH, memory, or redis://HOST:PORT/DB.
    #[arg(long, env = "KLONOPIN_BOT_STORAGE", default_value = "sqlite:klonopin-bot.sqlite")]
    pub storage: String,
    /// Days of inactivity after which a chat's stored state is deleted.
    #[arg(long, env = "KLONOPIN_BOT_RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u64,
    /// Key prefix in Redis, so bots sharing a Redis database do not mix their chats.
    #[arg(long, env = "KLONOPIN_BOT_REDIS_NAMESPACE", default_value = "default")]
    pub redis_namespace: String,
    /// Receive updates by webhook at this public HTTPS URL instead of long polling.
    #[arg(long, env = "KLONOPIN_BOT_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// Address the webhook server listens on (behind your TLS proxy).
    #[arg(long, env = "KLONOPIN_BOT_LISTEN", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// File holding the webhook secret token (else systemd's credential "webhook-secret",
    /// else KLONOPIN_BOT_WEBHOOK_SECRET); required with --webhook-url. Requests without the
    /// right secret get 401.
    #[arg(long, env = "KLONOPIN_BOT_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Send without holding to Telegram's rate limits (for a local Bot API server or load
    /// tests only).
    #[arg(long)]
    pub no_throttle: bool,
    /// Long-polling timeout in seconds (kept below the HTTP client's 17 s timeout).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=15))]
    pub polling_timeout: u32,
    /// Serve Prometheus `/metrics` and `/healthz` on this address (off by default), e.g.
    /// 127.0.0.1:9898. The counters hold no chat ids and no text.
    #[arg(long, env = "KLONOPIN_BOT_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// SENSITIVE, off by default: append questions no topic matched to FILE (digits, emails,
    /// @handles and links redacted) so editors can add phrasings.
    #[arg(long, env = "KLONOPIN_BOT_RECORD_UNMATCHED")]
    pub record_unmatched: Option<PathBuf>,
    /// Do not watch the responses folder for changes (SIGHUP still reloads).
    #[arg(long)]
    pub no_watch: bool,
}

/// What every handler shares.
pub struct App {
    /// The responses being served; a reload swaps the whole set at once.
    pub content: RwLock<Arc<ResponseSet>>,
    pub storage: Arc<StateStore>,
    /// The bot's @username, to tell commands and mentions meant for it in groups.
    pub username: String,
    /// The folder the responses come from (None: the built-in copy, which never reloads).
    pub responses_dir: Option<PathBuf>,
    pub stats: Arc<crate::stats::Stats>,
    /// Whether Telegram answered the last health check.
    pub telegram_ok: std::sync::atomic::AtomicBool,
    /// Set only with --record-unmatched.
    pub unmatched: Option<ops::UnmatchedLog>,
    /// How replies go out.
    pub sender: Sender,
    /// Which groups were shown crisis guidance unasked, and when.
    pub group_crisis: std::sync::Mutex<groups::CrisisCooldown>,
}

/// Replies go straight to the Bot API ([`direct`]), through the rate limiter unless
/// `--no-throttle`.
pub struct Sender {
    pub direct: direct::DirectSender,
    pub limiter: Option<limiter::SendLimiter>,
}

/// Every 30 s, the limiter forgets chats whose quotas are full again: its memory follows the
/// chats of the last few seconds, not every chat ever seen.
fn spawn_limiter_upkeep(app: Arc<App>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(30));
        loop {
            every.tick().await;
            if let Some(limiter) = &app.sender.limiter {
                limiter.forget_idle(std::time::Instant::now());
            }
        }
    });
}

/// Hourly, the memory store drops expired states (SQLite's writer thread purges its file on
/// its own, and Redis expires keys itself).
fn spawn_memory_purge(app: Arc<App>) {
    if !matches!(*app.storage, StateStore::Memory(_)) {
        return;
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(storage::PURGE_INTERVAL);
        every.tick().await; // the first tick is immediate: nothing has expired yet
        loop {
            every.tick().await;
            if let Ok(n @ 1..) = app.storage.purge_expired().await {
                log::info!("purged {n} expired dialogue states from memory");
            }
        }
    });
}

impl App {
    pub fn content(&self) -> Arc<ResponseSet> {
        match self.content.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

/// `klonopin-bot serve`.
pub fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    init_logging();
    let loaded = crate::cli::load_or_report(args.content.responses.as_deref())?;
    let token = read_token(&args)?;
    let webhook_secret = match &args.webhook_url {
        Some(_) => Some(read_webhook_secret(&args)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(run(args, token, webhook_secret, loaded.set))
}

fn init_logging() {
    let filters = std::env::var("RUST_LOG").unwrap_or_else(|_| "klonopin_bot=info,teloxide=warn,warn".to_owned());
    let logger = pretty_env_logger::formatted_timed_builder().parse_filters(&filters).build();
    let max = logger.filter();
    // A second init (tests calling serve twice) is harmless: keep the first logger.
    if log::set_boxed_logger(Box::new(WithholdUpdates(logger))).is_ok() {
        log::set_max_level(max);
    }
}

/// teloxide logs an update it cannot parse whole, at error level ("Cannot parse an
/// update ... Value: {the raw update}"): that would put people's messages in the log. This
/// wrapper withholds such records, whatever RUST_LOG says, and logs that one was dropped.
struct WithholdUpdates<L>(L);

impl<L: log::Log> log::Log for WithholdUpdates<L> {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record) {
        if record.target().starts_with("teloxide") && record.args().to_string().contains("Cannot parse an update") {
            self.0.log(
                &log::Record::builder()
                    .args(format_args!("an update teloxide could not parse was dropped (its content is withheld from the log)"))
                    .level(record.level())
                    .target("klonopin_bot::telegram")
                    .build(),
            );
            return;
        }
        self.0.log(record);
    }

    fn flush(&self) {
        self.0.flush();
    }
}

fn read_secret_file(path: &std::path::Path, what: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the {what} file {}: {e}", path.display()))?;
    let secret = text.trim().to_owned();
    if secret.is_empty() {
        return Err(format!("the {what} file {} is empty", path.display()));
    }
    Ok(secret)
}

fn read_token(args: &ServeArgs) -> Result<String, String> {
    if let Some(path) = &args.token_file {
        return read_secret_file(path, "token");
    }
    // systemd's LoadCredential=telegram-token:/path puts it here.
    if let Ok(dir) = std::env::var("CREDENTIALS_DIRECTORY") {
        let path = std::path::Path::new(&dir).join("telegram-token");
        if path.exists() {
            return read_secret_file(&path, "token");
        }
    }
    match std::env::var("TELOXIDE_TOKEN") {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
        _ => {
            Err("no bot token: set TELOXIDE_TOKEN or pass --token-file FILE (try `klonopin-bot chat` to talk to the bot without Telegram)"
                .to_owned())
        }
    }
}

fn read_webhook_secret(args: &ServeArgs) -> Result<String, String> {
    let credential =
        std::env::var("CREDENTIALS_DIRECTORY").ok().map(|dir| PathBuf::from(dir).join("webhook-secret")).filter(|p| p.exists());
    let secret = match args.webhook_secret_file.as_ref().or(credential.as_ref()) {
        Some(path) => read_secret_file(path, "webhook secret")?,
        None => std::env::var("KLONOPIN_BOT_WEBHOOK_SECRET").unwrap_or_default().trim().to_owned(),
    };
    let valid = (1..=256).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err("--webhook-url needs a secret token: 1-256 characters A-Z, a-z, 0-9, _ or -, in KLONOPIN_BOT_WEBHOOK_SECRET or --webhook-secret-file".to_owned());
    }
    Ok(secret)
}

/// The command menu, description and short description, in every language of the content:
/// the folder's own for every app, each translation's for apps in that language.
async fn describe_bot(bot: &Bot, content: &ResponseSet) {
    for set in content.languages() {
        let language = (set.language != content.language).then(|| set.language.clone());
        let commands: Vec<BotCommand> = set.bot.commands.iter().map(|(name, description)| BotCommand::new(name, description)).collect();
        let mut request = bot.set_my_commands(commands);
        request.language_code.clone_from(&language);
        if let Err(e) = request.await {
            log::warn!("setMyCommands failed: {}", handlers::error_kind(&e));
        }
        // What a person sees before pressing Start, and when the bot is shared.
        if let Some(description) = &set.bot.description {
            let mut request = bot.set_my_description().description(description.clone());
            request.language_code.clone_from(&language);
            if let Err(e) = request.await {
                log::warn!("setMyDescription failed: {}", handlers::error_kind(&e));
            }
        }
        if let Some(short) = &set.bot.short_description {
            let mut request = bot.set_my_short_description().short_description(short.clone());
            request.language_code.clone_from(&language);
            if let Err(e) = request.await {
                log::warn!("setMyShortDescription failed: {}", handlers::error_kind(&e));
            }
        }
    }
}

async fn run(args: ServeArgs, token: String, webhook_secret: Option<String>, content: ResponseSet) -> Result<ExitCode, String> {
    let signals = StopSignals::register()?;
    let spec = parse_storage_spec(&args.storage)?;
    let retention = Duration::from_secs(args.retention_days.max(1) * 24 * 60 * 60);
    let storage = open_store(&spec, retention, &args.redis_namespace).await.map_err(|e| format!("cannot open storage {spec}: {e}"))?;

    let client = teloxide::net::default_reqwest_settings()
        .timeout(Duration::from_secs(u64::from(args.polling_timeout) + 7))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let mut bot = Bot::with_client(token, client);
    if let Ok(url) = std::env::var("TELOXIDE_API_URL") {
        let url = url.parse().map_err(|e| format!("TELOXIDE_API_URL is not a URL: {e}"))?;
        bot = bot.set_api_url(url);
    }
    let me = bot.get_me().await.map_err(|e| format!("cannot reach Telegram (getMe): {}", handlers::error_kind(&e)))?;
    let username = me.username.clone().unwrap_or_default();
    describe_bot(&bot, &content).await;
    log::info!(
        "serving content {} ({} topics), storage {}, {}",
        content.version,
        content.topics.len(),
        storage.backend(),
        if args.webhook_url.is_some() { "webhook" } else { "long polling" }
    );
    let unmatched = match &args.record_unmatched {
        Some(path) => {
            log::warn!("recording unmatched questions (redacted) to {}: this file is sensitive", path.display());
            Some(ops::UnmatchedLog::open(path)?)
        }
        None => None,
    };
    let app = Arc::new(App {
        content: RwLock::new(Arc::new(content)),
        storage: Arc::clone(&storage),
        username,
        responses_dir: args.content.responses.clone(),
        stats: Arc::new(crate::stats::Stats::default()),
        telegram_ok: std::sync::atomic::AtomicBool::new(true),
        unmatched,
        sender: Sender {
            direct: direct::DirectSender::new(&bot)?,
            limiter: (!args.no_throttle).then(|| limiter::SendLimiter::new(limiter::Limits::default())),
        },
        group_crisis: std::sync::Mutex::new(groups::CrisisCooldown::default()),
    });
    ops::spawn_sighup(Arc::clone(&app));
    let _watcher = match (&args.content.responses, args.no_watch) {
        (Some(dir), false) => Some(ops::spawn_watcher(Arc::clone(&app), dir)?),
        _ => None,
    };
    if let Some(addr) = args.metrics_listen {
        ops::spawn_metrics(Arc::clone(&app), addr).await?;
    }
    ops::spawn_health_check(Arc::clone(&app), bot.clone());

    if app.sender.limiter.is_some() {
        spawn_limiter_upkeep(Arc::clone(&app));
    }
    spawn_memory_purge(Arc::clone(&app));
    let result = dispatch(bot, app, &args, webhook_secret, signals).await;
    if let Err(e) = storage.close().await {
        log::error!("storage did not close cleanly: {}", e.kind());
    }
    log::info!("stopped");
    result.map(|()| ExitCode::SUCCESS)
}

async fn dispatch<B>(bot: B, app: Arc<App>, args: &ServeArgs, webhook_secret: Option<String>, signals: StopSignals) -> Result<(), String>
where
    B: Requester<Err = teloxide::RequestError> + Clone + Send + Sync + 'static,
    <B as Requester>::GetUpdates: Send,
    <B as Requester>::DeleteWebhook: Send,
    <B as Requester>::SetWebhook: Send,
{
    let failures = Arc::new(failure::Failures { stats: Arc::clone(&app.stats) });
    let mut dispatcher = Dispatcher::builder(bot.clone(), handlers::schema::<B>())
        .dependencies(dptree::deps![app])
        // teloxide's default logs whole unhandled updates (user data); count nothing, log the kind.
        .default_handler(|update: Arc<Update>| async move {
            log::debug!("update {} ignored", update.id.0);
        })
        .error_handler(failures)
        .build();
    match (&args.webhook_url, webhook_secret) {
        (Some(url), Some(secret)) => {
            let url = url.parse().map_err(|e| format!("--webhook-url is not a URL: {e}"))?;
            let options = webhooks::Options::new(args.listen, url).secret_token(secret);
            let tcp = tokio::net::TcpListener::bind(args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
            let (mut listener, stop, router) =
                webhooks::axum_to_router(bot, options).await.map_err(|e| format!("setWebhook failed: {}", handlers::error_kind(&e)))?;
            stop_on_signal(signals, dispatcher.shutdown_token(), listener.stop_token());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(tcp, router).with_graceful_shutdown(stop).await {
                    log::error!("webhook server stopped: {e}");
                }
            });
            dispatcher.dispatch_with_listener(salvage::Salvage(listener), Arc::new(handlers::ListenerErrors)).await;
        }
        _ => {
            let mut listener =
                Polling::builder(bot).timeout(Duration::from_secs(u64::from(args.polling_timeout))).delete_webhook().await.build();
            stop_on_signal(signals, dispatcher.shutdown_token(), listener.stop_token());
            dispatcher.dispatch_with_listener(salvage::Salvage(listener), Arc::new(handlers::ListenerErrors)).await;
        }
    }
    Ok(())
}

/// SIGTERM and SIGINT, registered as the service starts so that a signal during start-up is
/// not lost (nor handled by the default action, which would skip flushing storage).
pub struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn register() -> Result<StopSignals, String> {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
        let int = signal(SignalKind::interrupt()).map_err(|e| format!("cannot listen for SIGINT: {e}"))?;
        Ok(StopSignals { term, int })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// On SIGTERM or SIGINT: stops the update listener (its last getUpdates confirms what was
/// received) and shuts the dispatcher down; in-flight replies finish first.
///
/// Stopping the listener is what makes this reliable: teloxide's `ShutdownToken::shutdown`
/// alone wakes the dispatcher with `Notify::notify_waiters`, which is lost when the dispatcher
/// is busy handing an update to a worker at that moment, and then it never stops. (teloxide's
/// own Ctrl-C handler has the same race, so it is not used.)
fn stop_on_signal(mut signals: StopSignals, token: teloxide::dispatching::ShutdownToken, listener_stop: teloxide::stop::StopToken) {
    tokio::spawn(async move {
        let name = signals.recv().await;
        log::info!("{name}: finishing in-flight replies and stopping");
        listener_stop.stop();
        loop {
            match token.shutdown() {
                Ok(done) => {
                    done.await;
                    break;
                }
                // Not dispatching yet: try again shortly.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
}
