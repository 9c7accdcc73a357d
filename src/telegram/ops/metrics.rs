//! `/metrics` (Prometheus text: counters, never who or what) and `/healthz`.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::telegram::App;

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
