//! Redis dialogue-state store, for several bot instances behind a webhook
//! load balancer: a chat's state changes by compare-and-set
//! ([`RedisStateStore::compare_and_set`], used by `StateStore::transition`), so two
//! instances handling one chat at once never lose a transition.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{de::DeserializeOwned, Serialize};
use teloxide::dispatching::dialogue::Storage;
use teloxide::types::ChatId;

use super::error::{StorageError, StorageErrorKind};

/// Bounds each attempt so a dead Redis fails a message instead of hanging
/// its handler forever.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// The redis crate's default backoff (factor 100 over backon's 1 s base,
/// six retries) waits minutes before reporting an unreachable server; a
/// failed request already triggers a fresh reconnect, so a short one is
/// enough.
const CONNECT_RETRIES: usize = 2;
const BACKOFF_FACTOR: u64 = 2;
const MAX_BACKOFF_MS: u64 = 1_000;

/// Redis rejects an `EX` whose expiry overflows its millisecond clock; a
/// century is "forever" for a chat state.
const MAX_RETENTION_SECS: u64 = 100 * 365 * 24 * 60 * 60;

/// Dialogue states as Redis strings.
///
/// Key `klonopin-bot:{namespace}:state:{chat_id}`, value the state's JSON,
/// written with `SET ... EX retention` so expiry is Redis' own TTL, counted
/// from the last state change. The namespace lets two bots share one Redis;
/// a dedicated database (`redis://host:port/N`) per bot is still preferable,
/// because nothing stops another application from `FLUSHDB`-ing a shared one.
///
/// The connection is a [`ConnectionManager`], which reconnects on its own;
/// requests that hit a dead connection fail with
/// [`StorageErrorKind::Redis`] and later ones use the new connection.
#[derive(Clone)]
pub struct RedisStateStore {
    conn: ConnectionManager,
    prefix: String,
    retention_secs: u64,
}

impl std::fmt::Debug for RedisStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStateStore")
            .field("prefix", &self.prefix)
            .field("retention_secs", &self.retention_secs)
            .finish_non_exhaustive()
    }
}

impl RedisStateStore {
    /// Connects to `url` (`redis://host:port/db`). `namespace` is
    /// `[A-Za-z0-9_-]+`; `retention` must be at least one second, because
    /// Redis' `EX` counts whole seconds and rejects 0.
    pub async fn open(url: &str, namespace: &str, retention: Duration) -> Result<Arc<Self>, StorageError> {
        validate_namespace(namespace)?;
        let retention_secs = retention.as_secs().min(MAX_RETENTION_SECS);
        if retention_secs == 0 {
            return Err(StorageError::new(StorageErrorKind::Config, "redis retention must be at least one second"));
        }
        let client = redis::Client::open(url).map_err(|e| StorageError::redis("parsing the redis url", e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(CONNECT_RETRIES)
            .set_factor(BACKOFF_FACTOR)
            .set_max_delay(MAX_BACKOFF_MS);
        let conn = ConnectionManager::new_with_config(client, config).await.map_err(|e| StorageError::redis("connecting to redis", e))?;
        Ok(Arc::new(Self { conn, prefix: format!("klonopin-bot:{namespace}:state:"), retention_secs }))
    }

    /// The key that holds `chat_id`'s state, for operators and tests.
    pub fn key(&self, ChatId(chat_id): ChatId) -> String {
        format!("{}{chat_id}", self.prefix)
    }
}

/// Compare-and-set in one server-side step: `KEYS[1]` is written (`ARGV[3]` "put": value
/// `ARGV[4]`, expiry `ARGV[5]` s) or deleted ("del") only if it still holds what the caller
/// read (`ARGV[1]` "1": the value `ARGV[2]`; "0": no key). Returns 1 if it wrote, 0 if another
/// writer changed the key first. A script and not WATCH/MULTI: the connection is shared by
/// every handler, and WATCH belongs to a connection.
const COMPARE_AND_SET: &str = r#"
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == 'del' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[4], 'EX', ARGV[5])
end
return 1
"#;

impl RedisStateStore {
    /// The stored JSON of `chat_id`'s state, as it is.
    pub async fn get_raw(&self, chat_id: ChatId) -> Result<Option<String>, StorageError> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(self.key(chat_id))
            .query_async(&mut conn)
            .await
            .map_err(|e| StorageError::redis(format!("reading the state of chat {}", chat_id.0), e))
    }

    /// Writes `new` (`None`: deletes the key) only if the key still holds `expected`
    /// (`None`: no key); `Ok(false)` when another writer changed it first.
    pub async fn compare_and_set(&self, chat_id: ChatId, expected: Option<&str>, new: Option<&str>) -> Result<bool, StorageError> {
        let mut conn = self.conn.clone();
        // EVAL with the script's text (a few hundred bytes): no script cache to fall out of.
        let wrote: i64 = redis::cmd("EVAL")
            .arg(COMPARE_AND_SET)
            .arg(1)
            .arg(self.key(chat_id))
            .arg(if expected.is_some() { "1" } else { "0" })
            .arg(expected.unwrap_or(""))
            .arg(if new.is_some() { "put" } else { "del" })
            .arg(new.unwrap_or(""))
            .arg(self.retention_secs)
            .query_async(&mut conn)
            .await
            .map_err(|e| StorageError::redis(format!("writing the state of chat {}", chat_id.0), e))?;
        Ok(wrote == 1)
    }
}

/// A `:` or `*` in a namespace could make one bot's keys match another's
/// (`a:state:1` vs namespace `a`), so only plain names are accepted.
fn validate_namespace(namespace: &str) -> Result<(), StorageError> {
    let plain =
        !namespace.is_empty() && namespace.len() <= 64 && namespace.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        Ok(())
    } else {
        Err(StorageError::new(
            StorageErrorKind::Config,
            format!("redis namespace {namespace:?} must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'"),
        ))
    }
}

impl<D> Storage<D> for RedisStateStore
where
    D: Serialize + DeserializeOwned + Send + 'static,
{
    type Error = StorageError;

    /// `DEL` of a missing key is fine: `/forget` on a fresh chat must not
    /// fail.
    fn remove_dialogue(self: Arc<Self>, chat_id: ChatId) -> BoxFuture<'static, Result<(), StorageError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let _removed: i64 = redis::cmd("DEL")
                .arg(self.key(chat_id))
                .query_async(&mut conn)
                .await
                .map_err(|e| StorageError::redis(format!("removing the state of chat {}", chat_id.0), e))?;
            Ok(())
        })
    }

    fn update_dialogue(self: Arc<Self>, chat_id: ChatId, dialogue: D) -> BoxFuture<'static, Result<(), StorageError>> {
        Box::pin(async move {
            let state = super::to_json(&dialogue)?;
            let mut conn = self.conn.clone();
            let () = redis::cmd("SET")
                .arg(self.key(chat_id))
                .arg(state)
                .arg("EX")
                .arg(self.retention_secs)
                .query_async(&mut conn)
                .await
                .map_err(|e| StorageError::redis(format!("writing the state of chat {}", chat_id.0), e))?;
            Ok(())
        })
    }

    fn get_dialogue(self: Arc<Self>, chat_id: ChatId) -> BoxFuture<'static, Result<Option<D>, StorageError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let state: Option<String> = redis::cmd("GET")
                .arg(self.key(chat_id))
                .query_async(&mut conn)
                .await
                .map_err(|e| StorageError::redis(format!("reading the state of chat {}", chat_id.0), e))?;
            state.map(|s| super::from_json(chat_id.0, &s)).transpose()
        })
    }
}
