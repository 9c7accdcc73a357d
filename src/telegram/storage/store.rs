//! The backend chosen at runtime, behind one type and one error.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{de::DeserializeOwned, Serialize};
use teloxide::dispatching::dialogue::Storage;
use teloxide::types::ChatId;

use super::error::{StorageError, StorageErrorKind};
use super::{MemoryStateStore, RedisStateStore, SqliteStateStore, StorageSpec};

/// Any of the three backends. It implements teloxide's `Storage<D>` with
/// [`StorageError`], so handlers see one error type whatever was chosen;
/// `Storage::erase` still works for code that wants `ErasedStorage<D>`
/// (find the error again with [`StorageError::find_in`]).
pub enum StateStore {
    Sqlite(Arc<SqliteStateStore>),
    Redis(Arc<RedisStateStore>),
    /// Lost on restart; for development and tests.
    Memory(Arc<MemoryStateStore>),
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(s) => f.debug_tuple("Sqlite").field(s).finish(),
            Self::Redis(s) => f.debug_tuple("Redis").field(s).finish(),
            Self::Memory(s) => f.debug_tuple("Memory").field(s).finish(),
        }
    }
}

impl StateStore {
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

    /// Deletes expired states now and says how many went: SQLite rows (the writer thread
    /// also does this hourly on its own) or memory entries. Redis expires keys itself: 0.
    pub async fn purge_expired(&self) -> Result<usize, StorageError> {
        match self {
            Self::Sqlite(s) => s.purge_expired().await,
            Self::Memory(s) => Ok(s.purge_expired()),
            Self::Redis(_) => Ok(0),
        }
    }
}

/// What a [`StateStore::transition`] stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write<D> {
    /// Nothing changes.
    Nothing,
    Put(D),
    Remove,
}

/// Compare-and-set attempts before a transition gives up (each one lost to a writer that
/// changed the same chat in between).
const TRANSITION_ATTEMPTS: usize = 16;

impl StateStore {
    /// Reads `chat_id`'s state, lets `decide` compute what to store and what to return, and
    /// stores it. With Redis the write happens only if no other writer (another instance)
    /// changed the state since it was read; otherwise `decide` runs again on the new state, so
    /// no transition is lost. SQLite and memory stores have one writer, and teloxide's
    /// dispatcher hands it a chat's updates one at a time, so they read, then write.
    ///
    /// `decide` may run more than once and must be pure. It sees a failed read as `Err`
    /// (an undecodable state is then overwritten by what it decides; a store that could not
    /// be read is not written, whatever the backend). Returns the last decision's value and
    /// whether storing it worked.
    pub async fn transition<D, R>(
        self: &Arc<Self>,
        chat_id: ChatId,
        mut decide: impl FnMut(Result<Option<D>, StorageError>) -> (Write<D>, R),
    ) -> (R, Result<(), StorageError>)
    where
        D: Serialize + DeserializeOwned + Send + 'static,
    {
        let redis = match &**self {
            Self::Redis(redis) => Arc::clone(redis),
            _ => {
                let read = Storage::<D>::get_dialogue(Arc::clone(self), chat_id).await;
                // A store that cannot be read is not written blind (as with Redis below); an
                // undecodable state is, by what `decide` makes of it.
                let unreachable = read.as_ref().err().filter(|e| !e.is_deserialize()).cloned();
                let (write, value) = decide(read);
                if let Some(e) = unreachable {
                    return (value, Err(e));
                }
                let stored = match write {
                    Write::Nothing => Ok(()),
                    Write::Put(state) => Arc::clone(self).update_dialogue(chat_id, state).await,
                    Write::Remove => Storage::<D>::remove_dialogue(Arc::clone(self), chat_id).await,
                };
                return (value, stored);
            }
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let raw = match redis.get_raw(chat_id).await {
                Ok(raw) => raw,
                Err(e) => return (decide(Err(e.clone())).1, Err(e)),
            };
            let read = raw.as_deref().map(|state| super::from_json(chat_id.0, state)).transpose();
            let (write, value) = decide(read);
            let new = match write {
                Write::Nothing => return (value, Ok(())),
                Write::Put(state) => match super::to_json(&state) {
                    Ok(json) => Some(json),
                    Err(e) => return (value, Err(e)),
                },
                Write::Remove => None,
            };
            match redis.compare_and_set(chat_id, raw.as_deref(), new.as_deref()).await {
                Ok(true) => return (value, Ok(())),
                Ok(false) if attempt < TRANSITION_ATTEMPTS => {
                    // Lost the race: wait a little, a random while growing with each loss, so
                    // that two writers retrying in step do not lose to each other every time
                    // (seen: 16 losses in a row with immediate retries on a loaded machine).
                    let jitter =
                        u64::from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()));
                    let ceiling = 200 * attempt as u64;
                    tokio::time::sleep(std::time::Duration::from_micros(jitter % ceiling)).await;
                    continue;
                }
                Ok(false) => {
                    let e = StorageError::new(
                        StorageErrorKind::Redis,
                        format!("the state of chat {} kept changing under another writer", chat_id.0),
                    );
                    return (value, Err(e));
                }
                Err(e) => return (value, Err(e)),
            }
        }
    }
}

/// Opens the backend named by `spec`. `retention` applies to SQLite and
/// Redis; `redis_namespace` only to Redis (see [`RedisStateStore`]).
pub async fn open_store(spec: &StorageSpec, retention: Duration, redis_namespace: &str) -> Result<Arc<StateStore>, StorageError> {
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
        StorageSpec::Memory => StateStore::Memory(MemoryStateStore::new(retention)),
    };
    Ok(Arc::new(store))
}

impl<D> Storage<D> for StateStore
where
    D: Serialize + DeserializeOwned + Send + 'static,
{
    type Error = StorageError;

    fn remove_dialogue(self: Arc<Self>, chat_id: ChatId) -> BoxFuture<'static, Result<(), StorageError>> {
        match &*self {
            Self::Sqlite(s) => <SqliteStateStore as Storage<D>>::remove_dialogue(Arc::clone(s), chat_id),
            Self::Redis(s) => <RedisStateStore as Storage<D>>::remove_dialogue(Arc::clone(s), chat_id),
            Self::Memory(s) => <MemoryStateStore as Storage<D>>::remove_dialogue(Arc::clone(s), chat_id),
        }
    }

    fn update_dialogue(self: Arc<Self>, chat_id: ChatId, dialogue: D) -> BoxFuture<'static, Result<(), StorageError>> {
        match &*self {
            Self::Sqlite(s) => Arc::clone(s).update_dialogue(chat_id, dialogue),
            Self::Redis(s) => Arc::clone(s).update_dialogue(chat_id, dialogue),
            Self::Memory(s) => Arc::clone(s).update_dialogue(chat_id, dialogue),
        }
    }

    fn get_dialogue(self: Arc<Self>, chat_id: ChatId) -> BoxFuture<'static, Result<Option<D>, StorageError>> {
        match &*self {
            Self::Sqlite(s) => Arc::clone(s).get_dialogue(chat_id),
            Self::Redis(s) => Arc::clone(s).get_dialogue(chat_id),
            Self::Memory(s) => Arc::clone(s).get_dialogue(chat_id),
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
        let store = open_store(&StorageSpec::Memory, Duration::from_secs(60), "test").await.unwrap();
        let chat = ChatId(7);
        Storage::<State>::remove_dialogue(Arc::clone(&store), chat).await.unwrap();
        assert_eq!(Storage::<State>::get_dialogue(Arc::clone(&store), chat).await.unwrap(), None);
        let asked = State::Asked { topic: "dose".into() };
        Arc::clone(&store).update_dialogue(chat, asked.clone()).await.unwrap();
        assert_eq!(Arc::clone(&store).get_dialogue(chat).await.unwrap(), Some(asked));
        Arc::clone(&store).update_dialogue(chat, State::Start).await.unwrap();
        assert_eq!(Arc::clone(&store).get_dialogue(chat).await.unwrap(), Some(State::Start));
        Storage::<State>::remove_dialogue(Arc::clone(&store), chat).await.unwrap();
        assert_eq!(Storage::<State>::get_dialogue(Arc::clone(&store), chat).await.unwrap(), None);
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
