//! The backend chosen at runtime, behind one type and one error.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{de::DeserializeOwned, Serialize};
use teloxide::dispatching::dialogue::{InMemStorage, InMemStorageError, Storage};
use teloxide::types::ChatId;

use super::error::{StorageError, StorageErrorKind};
use super::{RedisStateStore, SqliteStateStore, StorageSpec};

/// Any of the three backends. It implements teloxide's `Storage<D>` with
/// [`StorageError`], so handlers see one error type whatever was chosen;
/// `Storage::erase` still works for code that wants `ErasedStorage<D>`
/// (find the error again with [`StorageError::find_in`]).
pub enum StateStore<D> {
    Sqlite(Arc<SqliteStateStore>),
    Redis(Arc<RedisStateStore>),
    /// Lost on restart, no retention; for development and tests.
    Memory(Arc<InMemStorage<D>>),
}

impl<D> std::fmt::Debug for StateStore<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(s) => f.debug_tuple("Sqlite").field(s).finish(),
            Self::Redis(s) => f.debug_tuple("Redis").field(s).finish(),
            Self::Memory(_) => f.write_str("Memory"),
        }
    }
}

impl<D> StateStore<D> {
    /// "sqlite", "redis" or "memory", for logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Redis(_) => "redis",
            Self::Memory(_) => "memory",
        }
    }

    /// Waits until every acknowledged-or-queued write is durable where the
    /// backend can promise that (SQLite); immediate for the others, whose
    /// writes are done when they resolve.
    pub async fn flush(&self) -> Result<(), StorageError> {
        match self {
            Self::Sqlite(s) => s.flush().await,
            Self::Redis(_) | Self::Memory(_) => Ok(()),
        }
    }

    /// Call at shutdown: commits what SQLite has queued and closes the file.
    pub async fn close(&self) -> Result<(), StorageError> {
        match self {
            Self::Sqlite(s) => s.close().await,
            Self::Redis(_) | Self::Memory(_) => Ok(()),
        }
    }

    /// Deletes expired SQLite rows now (the writer thread also does this
    /// hourly on its own). Redis expires keys itself and memory keeps
    /// nothing across restarts, so both report 0.
    pub async fn purge_expired(&self) -> Result<usize, StorageError> {
        match self {
            Self::Sqlite(s) => s.purge_expired().await,
            Self::Redis(_) | Self::Memory(_) => Ok(0),
        }
    }
}

/// Opens the backend named by `spec`. `retention` applies to SQLite and
/// Redis; `redis_namespace` only to Redis (see [`RedisStateStore`]).
pub async fn open_store<D>(spec: &StorageSpec, retention: Duration, redis_namespace: &str) -> Result<Arc<StateStore<D>>, StorageError> {
    let store = match spec {
        StorageSpec::Sqlite(path) => {
            let path = path.clone();
            // Opening runs a purge that may scan the whole table.
            let opened = tokio::task::spawn_blocking(move || SqliteStateStore::open(&path, retention))
                .await
                .map_err(|e| StorageError::with_source(StorageErrorKind::Io, "opening the sqlite store", e))??;
            StateStore::Sqlite(opened)
        }
        StorageSpec::Redis(url) => StateStore::Redis(RedisStateStore::open(url, redis_namespace, retention).await?),
        StorageSpec::Memory => StateStore::Memory(InMemStorage::new()),
    };
    Ok(Arc::new(store))
}

impl<D> Storage<D> for StateStore<D>
where
    D: Serialize + DeserializeOwned + Clone + Send + 'static,
{
    type Error = StorageError;

    fn remove_dialogue(self: Arc<Self>, chat_id: ChatId) -> BoxFuture<'static, Result<(), StorageError>> {
        match &*self {
            Self::Sqlite(s) => <SqliteStateStore as Storage<D>>::remove_dialogue(Arc::clone(s), chat_id),
            Self::Redis(s) => <RedisStateStore as Storage<D>>::remove_dialogue(Arc::clone(s), chat_id),
            Self::Memory(s) => {
                let s = Arc::clone(s);
                Box::pin(async move {
                    // InMemStorage reports a missing chat as an error; here
                    // that is success, as for the other backends.
                    match s.remove_dialogue(chat_id).await {
                        Ok(()) | Err(InMemStorageError::DialogueNotFound) => Ok(()),
                    }
                })
            }
        }
    }

    fn update_dialogue(self: Arc<Self>, chat_id: ChatId, dialogue: D) -> BoxFuture<'static, Result<(), StorageError>> {
        match &*self {
            Self::Sqlite(s) => Arc::clone(s).update_dialogue(chat_id, dialogue),
            Self::Redis(s) => Arc::clone(s).update_dialogue(chat_id, dialogue),
            Self::Memory(s) => {
                let s = Arc::clone(s);
                Box::pin(async move {
                    // Never fails; the match is exhaustive so a new
                    // InMemStorage error would be a compile error here.
                    match s.update_dialogue(chat_id, dialogue).await {
                        Ok(()) | Err(InMemStorageError::DialogueNotFound) => Ok(()),
                    }
                })
            }
        }
    }

    fn get_dialogue(self: Arc<Self>, chat_id: ChatId) -> BoxFuture<'static, Result<Option<D>, StorageError>> {
        match &*self {
            Self::Sqlite(s) => Arc::clone(s).get_dialogue(chat_id),
            Self::Redis(s) => Arc::clone(s).get_dialogue(chat_id),
            Self::Memory(s) => {
                let s = Arc::clone(s);
                Box::pin(async move {
                    match s.get_dialogue(chat_id).await {
                        Ok(state) => Ok(state),
                        Err(InMemStorageError::DialogueNotFound) => Ok(None),
                    }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    enum State {
        Start,
        Asked { topic: String },
    }

    #[tokio::test]
    async fn memory_store_round_trips_and_forgets_fresh_chats() {
        let store = open_store::<State>(&StorageSpec::Memory, Duration::from_secs(60), "test").await.unwrap();
        let chat = ChatId(7);
        Arc::clone(&store).remove_dialogue(chat).await.unwrap();
        assert_eq!(Arc::clone(&store).get_dialogue(chat).await.unwrap(), None);
        let asked = State::Asked { topic: "dose".into() };
        Arc::clone(&store).update_dialogue(chat, asked.clone()).await.unwrap();
        assert_eq!(Arc::clone(&store).get_dialogue(chat).await.unwrap(), Some(asked));
        Arc::clone(&store).update_dialogue(chat, State::Start).await.unwrap();
        assert_eq!(Arc::clone(&store).get_dialogue(chat).await.unwrap(), Some(State::Start));
        Arc::clone(&store).remove_dialogue(chat).await.unwrap();
        assert_eq!(Arc::clone(&store).get_dialogue(chat).await.unwrap(), None);
        store.close().await.unwrap();
    }

    #[test]
    fn deserialize_errors_survive_erasure() {
        let err = super::super::from_json::<State>(1, "{\"Nope\":1}").unwrap_err();
        assert!(err.is_deserialize());
        let erased: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
        let found = StorageError::find_in(erased.as_ref()).unwrap();
        assert_eq!(found.kind(), StorageErrorKind::Deserialize);
        assert!(!found.to_string().contains("Nope"), "state leaked into the message: {found}");
    }
}
