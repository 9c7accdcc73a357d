//! In-memory dialogue-state store: lost on restart, for development and tests, and bounded
//! like the others.
//!
//! States are kept as JSON (as SQLite and Redis keep them, so a state that does not
//! round-trip fails here too) in a [`quick_cache`] of at most [`MAX_CHATS`] chats, each with
//! the time it was written. A state older than the retention is invisible at once, dropped
//! when next read or by [`MemoryStateStore::purge_expired`] (which the adapter runs hourly,
//! as the SQLite writer purges its file); the capacity bounds memory in between.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde::{de::DeserializeOwned, Serialize};
use teloxide::dispatching::dialogue::Storage;
use teloxide::types::ChatId;

use super::error::StorageError;

/// Most chats remembered at once; past this the least recently useful are forgotten.
pub const MAX_CHATS: usize = 100_000;

/// Dialogue states in this process's memory.
pub struct MemoryStateStore {
    retention: Duration,
    states: Mutex<quick_cache::unsync::Cache<i64, (String, Instant)>>,
}

impl std::fmt::Debug for MemoryStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStateStore").field("retention", &self.retention).finish_non_exhaustive()
    }
}

impl MemoryStateStore {
    /// A store whose states expire `retention` after they were last written.
    pub fn new(retention: Duration) -> Arc<Self> {
        Self::with_capacity(retention, MAX_CHATS)
    }

    /// [`Self::new`] remembering at most about `chats` chats.
    pub fn with_capacity(retention: Duration, chats: usize) -> Arc<Self> {
        Arc::new(Self { retention, states: Mutex::new(quick_cache::unsync::Cache::new(chats.max(1))) })
    }

    /// How many chats are held (expired ones included until read or evicted).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every expired state now; returns how many went.
    pub fn purge_expired(&self) -> usize {
        let mut states = self.lock();
        let before = states.len();
        states.retain(|_, (_, written)| written.elapsed() < self.retention);
        before - states.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, quick_cache::unsync::Cache<i64, (String, Instant)>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The JSON state of `chat_id` if it was written within the retention.
    fn read(&self, chat_id: i64) -> Option<String> {
        let mut states = self.lock();
        let live = states.get(&chat_id).map(|(state, written)| (written.elapsed() < self.retention).then(|| state.clone()))?;
        if live.is_none() {
            states.remove(&chat_id);
        }
        live
    }
}

impl<D> Storage<D> for MemoryStateStore
where
    D: Serialize + DeserializeOwned + Send + 'static,
{
    type Error = StorageError;

    fn remove_dialogue(self: Arc<Self>, ChatId(chat_id): ChatId) -> BoxFuture<'static, Result<(), StorageError>> {
        Box::pin(async move {
            self.lock().remove(&chat_id);
            Ok(())
        })
    }

    fn update_dialogue(self: Arc<Self>, ChatId(chat_id): ChatId, dialogue: D) -> BoxFuture<'static, Result<(), StorageError>> {
        Box::pin(async move {
            let state = super::to_json(&dialogue)?;
            self.lock().insert(chat_id, (state, Instant::now()));
            Ok(())
        })
    }

    fn get_dialogue(self: Arc<Self>, ChatId(chat_id): ChatId) -> BoxFuture<'static, Result<Option<D>, StorageError>> {
        Box::pin(async move { self.read(chat_id).map(|s| super::from_json(chat_id, &s)).transpose() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(store: &Arc<MemoryStateStore>, chat: i64) -> Option<u32> {
        Storage::<u32>::get_dialogue(Arc::clone(store), ChatId(chat)).await.unwrap()
    }

    async fn put(store: &Arc<MemoryStateStore>, chat: i64, state: u32) {
        Arc::clone(store).update_dialogue(ChatId(chat), state).await.unwrap();
    }

    #[tokio::test]
    async fn a_state_expires_a_retention_after_its_last_write() {
        // 1 s retention, 600 ms steps: 400 ms of slack on a loaded machine.
        let store = MemoryStateStore::new(Duration::from_millis(1000));
        put(&store, 1, 7).await;
        put(&store, 2, 8).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        put(&store, 2, 9).await; // written again: its retention starts over
        assert_eq!(get(&store, 1).await, Some(7));
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(get(&store, 1).await, None, "1.2 s after its write, past a 1 s retention");
        assert_eq!(get(&store, 2).await, Some(9), "600 ms after its last write");
        assert_eq!(store.len(), 1, "the expired state was dropped when read");
        put(&store, 3, 1).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(store.purge_expired(), 1, "chat 2's state was written 1.2 s ago");
        assert_eq!(get(&store, 3).await, Some(1));
    }

    #[tokio::test]
    async fn memory_stays_bounded_and_a_live_chat_survives_a_flood() {
        let capacity = 1_000;
        let store = MemoryStateStore::with_capacity(Duration::from_secs(3600), capacity);
        put(&store, 1, 1).await;
        for chat in 2..30_000_i64 {
            put(&store, chat, 0).await;
            if chat % 50 == 0 {
                assert_eq!(get(&store, 1).await, Some(1), "the live chat is still there after {chat} new chats");
            }
        }
        assert!(store.len() <= capacity + capacity / 10, "{} chats held", store.len());
    }

    #[tokio::test]
    async fn removing_forgets_and_removing_twice_is_fine() {
        let store = MemoryStateStore::new(Duration::from_secs(60));
        put(&store, 5, 3).await;
        Storage::<u32>::remove_dialogue(Arc::clone(&store), ChatId(5)).await.unwrap();
        Storage::<u32>::remove_dialogue(Arc::clone(&store), ChatId(5)).await.unwrap();
        assert_eq!(get(&store, 5).await, None);
    }
}
