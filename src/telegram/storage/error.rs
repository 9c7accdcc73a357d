//! The one error type shared by every dialogue-state backend.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// What went wrong, coarsely enough for the caller to pick a reaction.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageErrorKind {
    /// SQLite refused or failed (I/O, locking, corruption, schema).
    Sqlite,
    /// Redis was unreachable, timed out, or rejected a command.
    Redis,
    /// The filesystem failed outside of SQLite itself.
    Io,
    /// The state could not be turned into JSON (a bug in the state type).
    Serialize,
    /// A stored state is not valid JSON for the current state type, e.g.
    /// written by an older build. The caller should reset the chat to the
    /// start state rather than fail every message from it forever.
    Deserialize,
    /// The store was closed (or its writer thread died) before the request
    /// could be served.
    Closed,
    /// The store was opened with settings it cannot work with.
    Config,
}

impl fmt::Display for StorageErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite error",
            Self::Redis => "redis error",
            Self::Io => "i/o error",
            Self::Serialize => "cannot serialize dialogue state",
            Self::Deserialize => "stored dialogue state does not deserialize",
            Self::Closed => "state store is closed",
            Self::Config => "invalid state store configuration",
        })
    }
}

/// Error from any dialogue-state store.
///
/// It is `Clone` because the SQLite writer answers a whole batch of waiters
/// with the one commit error; the source is shared behind an `Arc` for that.
#[derive(Debug, Clone)]
pub struct StorageError {
    kind: StorageErrorKind,
    context: String,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl StorageError {
    pub(crate) fn new(kind: StorageErrorKind, context: impl Into<String>) -> Self {
        Self { kind, context: context.into(), source: None }
    }

    pub(crate) fn with_source(kind: StorageErrorKind, context: impl Into<String>, source: impl StdError + Send + Sync + 'static) -> Self {
        Self { kind, context: context.into(), source: Some(Arc::new(source)) }
    }

    pub(crate) fn sqlite(context: impl Into<String>, source: rusqlite::Error) -> Self {
        Self::with_source(StorageErrorKind::Sqlite, context, source)
    }

    pub(crate) fn redis(context: impl Into<String>, source: redis::RedisError) -> Self {
        Self::with_source(StorageErrorKind::Redis, context, source)
    }

    pub(crate) fn closed() -> Self {
        Self::new(StorageErrorKind::Closed, "the sqlite writer thread has stopped")
    }

    pub fn kind(&self) -> StorageErrorKind {
        self.kind
    }

    /// True when the stored state exists but no longer parses; the chat
    /// should be reset to the start state.
    pub fn is_deserialize(&self) -> bool {
        self.kind == StorageErrorKind::Deserialize
    }

    /// Finds a [`StorageError`] behind teloxide's erased error type
    /// (`Box<dyn Error + Send + Sync>` from `ErasedStorage`), so callers
    /// that erased the store can still tell a bad state from a broken
    /// database.
    pub fn find_in<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a StorageError> {
        let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = cur {
            if let Some(found) = e.downcast_ref::<StorageError>() {
                return Some(found);
            }
            cur = e.source();
        }
        None
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.context)?;
        // The cause is spelled out because most log lines print only `{e}`
        // and "database is locked" is the part an operator needs. Except for
        // a bad state: serde quotes the offending value, which can be what
        // a user typed, so that detail stays behind `source()`.
        match &self.source {
            Some(source) if self.kind != StorageErrorKind::Deserialize => write!(f, ": {source}"),
            _ => Ok(()),
        }
    }
}

impl StdError for StorageError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}
