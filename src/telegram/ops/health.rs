//! Whether Telegram answers: `getMe` now and then, read by `/healthz`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::Requester;

use crate::telegram::App;

/// How often the health check asks Telegram `getMe`.
const HEALTH_INTERVAL: Duration = Duration::from_secs(15);

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
