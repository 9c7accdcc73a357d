//! Reloads: on SIGHUP (`systemctl reload`) and on changes under the responses folder
//! (debounced). A new set is validated exactly as `check` does and swapped in whole; an
//! invalid one leaves the old set serving and logs every diagnostic.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::Watcher;

use crate::content::Severity;
use crate::telegram::App;

/// How long the folder must be quiet before a reload: editors write a file in several steps.
const DEBOUNCE: Duration = Duration::from_millis(300);

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
