//! What operators need from a running bot: safe reloads, statistics, health, and the
//! opt-in log of unmatched questions.
//!
//! Reloads come from SIGHUP (`systemctl reload`) and from changes under the responses
//! folder (debounced). A new set is validated exactly as `check` does and swapped in whole;
//! an invalid one leaves the old set serving and logs every diagnostic.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use notify::Watcher;
use teloxide::prelude::Requester;

use super::App;
use crate::content::Severity;

/// How long the folder must be quiet before a reload: editors write a file in several steps.
const DEBOUNCE: Duration = Duration::from_millis(300);
/// How often the health check asks Telegram `getMe`.
const HEALTH_INTERVAL: Duration = Duration::from_secs(15);

/// Validates the responses folder and, if valid and different, swaps it in.
pub async fn reload(app: &App, why: &str) {
    let Some(dir) = app.responses_dir.clone() else {
        log::warn!("{why}: serving the built-in responses, nothing to reload (start with --responses DIR)");
        return;
    };
    let loaded = tokio::task::spawn_blocking(move || crate::content::load_dir(&dir)).await;
    match loaded {
        Ok(Ok(loaded)) => {
            for w in &loaded.warnings {
                log::warn!("{w}");
            }
            let version = loaded.set.version.clone();
            let topics = loaded.set.topics.len();
            let previous = {
                let mut current = app.content.write().unwrap_or_else(|p| p.into_inner());
                std::mem::replace(&mut *current, Arc::new(loaded.set))
            };
            if previous.version == version {
                log::debug!("{why}: content unchanged ({version})");
            } else {
                log::info!("{why}: reloaded content {version} ({topics} topics)");
            }
            app.stats.reload(true);
        }
        Ok(Err(diags)) => {
            let errors = diags.iter().filter(|d| d.severity == Severity::Error).count();
            for d in &diags {
                log::error!("{d}");
            }
            log::error!("{why}: the responses have {errors} error(s); still serving content {}", app.content().version);
            app.stats.reload(false);
        }
        Err(e) => {
            log::error!("{why}: reload task failed: {e}");
            app.stats.reload(false);
        }
    }
}

/// Reloads on SIGHUP.
pub fn spawn_sighup(app: Arc<App>) {
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            log::warn!("cannot listen for SIGHUP; reload by file changes only");
            return;
        };
        while hup.recv().await.is_some() {
            reload(&app, "SIGHUP").await;
        }
    });
}

/// Reloads when anything under the responses folder changes. The watcher lives as long as
/// the returned value.
pub fn spawn_watcher(app: Arc<App>, dir: &Path) -> Result<notify::RecommendedWatcher, String> {
    // One slot is enough: a change waiting to be seen already covers every later one (an
    // editor's save can fire thousands of events; none of them needs its own slot).
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.try_send(());
        }
    })
    .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    watcher.watch(dir, notify::RecursiveMode::Recursive).map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Wait for the folder to be quiet, then reload once for the whole burst.
            loop {
                match tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            reload(&app, "responses changed").await;
        }
    });
    Ok(watcher)
}

/// Asks Telegram `getMe` now and then: `/healthz` reports ready only while it answers.
pub fn spawn_health_check<B>(app: Arc<App>, bot: B)
where
    B: Requester + Send + Sync + 'static,
    <B as Requester>::GetMe: Send,
{
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(HEALTH_INTERVAL).await;
            let ok = bot.get_me().await.is_ok();
            if ok != app.telegram_ok.swap(ok, Ordering::Relaxed) {
                if ok {
                    log::info!("Telegram reachable again");
                } else {
                    log::warn!("Telegram unreachable (getMe failed)");
                }
            }
        }
    });
}

/// Serves `/metrics` (Prometheus text) and `/healthz` on `addr`.
pub async fn spawn_metrics(app: Arc<App>, addr: SocketAddr) -> Result<SocketAddr, String> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr} for metrics: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let metrics_app = Arc::clone(&app);
    let router = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let app = Arc::clone(&metrics_app);
                async move {
                    let body = app.stats.render(&app.content().version);
                    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
                }
            }),
        )
        .route(
            "/healthz",
            get(move || {
                let app = Arc::clone(&app);
                async move {
                    let content = !app.content().topics.is_empty();
                    let telegram = app.telegram_ok.load(Ordering::Relaxed);
                    let status = if content && telegram { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                    (
                        status,
                        format!(
                            "content: {}\ntelegram: {}\n",
                            if content { "loaded" } else { "missing" },
                            if telegram { "ok" } else { "unreachable" }
                        ),
                    )
                        .into_response()
                }
            }),
        );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            log::error!("metrics server stopped: {e}");
        }
    });
    log::info!("metrics on http://{bound}/metrics");
    Ok(bound)
}

/// The opt-in log of questions no topic matched, redacted, one per line.
pub struct UnmatchedLog {
    file: Mutex<std::fs::File>,
    pub path: PathBuf,
}

impl UnmatchedLog {
    pub fn open(path: &Path) -> Result<UnmatchedLog, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open --record-unmatched file {}: {e}", path.display()))?;
        Ok(UnmatchedLog { file: Mutex::new(file), path: path.to_owned() })
    }

    pub fn record(&self, question: &str) {
        let line = crate::text::redact::redact(question);
        if line.is_empty() {
            return;
        }
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = writeln!(file, "{line}") {
            log::warn!("cannot append to the unmatched-questions file: {}", e.kind());
        }
    }
}
