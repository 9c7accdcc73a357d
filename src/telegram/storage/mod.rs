//! Dialogue-state storage for the Telegram adapter (SQLite, Redis, memory).
//!
//! Every backend stores the dialogue state as JSON and reports failures as
//! one [`StorageError`], whose [`StorageError::is_deserialize`] tells a state
//! written by an incompatible build (reset the chat) from a broken database
//! (report and retry). Pick a backend at runtime with [`parse_storage_spec`]
//! and [`open_store`]; the resulting [`StateStore`] is a teloxide
//! [`Storage`](teloxide::dispatching::dialogue::Storage) itself, so it can be
//! used as `Dialogue<State, StateStore>` directly or erased.

mod error;
mod memory;
mod redis;
mod spec;
mod sqlite;
mod store;

pub use self::error::{StorageError, StorageErrorKind};
pub use self::memory::MemoryStateStore;
pub use self::redis::RedisStateStore;
pub use self::spec::{parse_storage_spec, StorageSpec};
pub use self::sqlite::{SqliteStateStore, PURGE_INTERVAL, QUEUE_DEPTH as SQLITE_QUEUE_DEPTH};
pub use self::store::{open_store, StateStore, Write};

use serde::{de::DeserializeOwned, Serialize};

fn to_json<D: Serialize>(dialogue: &D) -> Result<String, StorageError> {
    serde_json::to_string(dialogue).map_err(|e| StorageError::with_source(StorageErrorKind::Serialize, "encoding a dialogue state", e))
}

fn from_json<D: DeserializeOwned>(chat_id: i64, state: &str) -> Result<D, StorageError> {
    // The state itself stays out of the message: it is user data.
    serde_json::from_str(state)
        .map_err(|e| StorageError::with_source(StorageErrorKind::Deserialize, format!("decoding the stored state of chat {chat_id}"), e))
}
