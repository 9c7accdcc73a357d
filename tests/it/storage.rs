//! Storage tests against real SQLite files and a real redis-server.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::redis_server::RedisServer;
use klonopin_bot::telegram::storage::{
    open_store, parse_storage_spec, RedisStateStore, SqliteStateStore, StateStore, StorageErrorKind, Write,
};
use serde::{Deserialize, Serialize};
use teloxide::dispatching::dialogue::Storage;
use teloxide::types::ChatId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum State {
    Start,
    AskedDose { mg: u32 },
    Crisis { note: String },
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn get<S: Storage<State> + ?Sized>(store: &Arc<S>, chat: i64) -> Result<Option<State>, S::Error> {
    Arc::clone(store).get_dialogue(ChatId(chat)).await
}

async fn put<S: Storage<State> + ?Sized>(store: &Arc<S>, chat: i64, state: State) -> Result<(), S::Error> {
    Arc::clone(store).update_dialogue(ChatId(chat), state).await
}

async fn del<S: Storage<State> + ?Sized>(store: &Arc<S>, chat: i64) -> Result<(), S::Error> {
    Arc::clone(store).remove_dialogue(ChatId(chat)).await
}

/// The state every backend must leave in chat -100123 after [`assert_round_trips`].
fn group_state() -> State {
    State::Crisis { note: "ünïcode \"quoted\"".into() }
}

/// The contract every backend keeps: reads what was written, overwrites, forgets (also
/// a chat it never saw, as `/forget` on a fresh chat does), and keeps chats apart. Leaves
/// [`group_state`] stored for chat -100123, for the backend's own checks.
async fn assert_round_trips<S>(store: &Arc<S>)
where
    S: Storage<State> + ?Sized,
    S::Error: std::fmt::Debug,
{
    assert_eq!(get(store, 1).await.unwrap(), None);
    del(store, 1).await.unwrap();

    put(store, 1, State::AskedDose { mg: 2 }).await.unwrap();
    put(store, -100123, group_state()).await.unwrap();
    assert_eq!(get(store, 1).await.unwrap(), Some(State::AskedDose { mg: 2 }));
    assert_eq!(get(store, -100123).await.unwrap(), Some(group_state()));

    put(store, 1, State::Start).await.unwrap();
    assert_eq!(get(store, 1).await.unwrap(), Some(State::Start));

    del(store, 1).await.unwrap();
    assert_eq!(get(store, 1).await.unwrap(), None);
    del(store, 1).await.unwrap();
    assert_eq!(get(store, -100123).await.unwrap(), Some(group_state()));
}

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("state.sqlite")
}

/// A second, plain connection to the same file, as an operator's shell
/// would have.
fn raw(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

fn row_count(path: &Path) -> i64 {
    raw(path).query_row("SELECT count(*) FROM dialogues", [], |r| r.get(0)).unwrap()
}

// ---------------------------------------------------------------- SQLite

#[tokio::test]
async fn sqlite_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStateStore::open(&db_path(&dir), DAY).unwrap();
    assert_round_trips(&store).await;

    // Stored as JSON text with a current timestamp.
    let (state, updated_at): (String, i64) = raw(&db_path(&dir))
        .query_row("SELECT state, updated_at FROM dialogues WHERE chat_id = -100123", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(serde_json::from_str::<State>(&state).unwrap(), group_state());
    assert!((updated_at - unix_now()).abs() <= 5, "updated_at {updated_at}");
    store.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_state_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let store = SqliteStateStore::open(&path, DAY).unwrap();
        put(&store, 42, State::AskedDose { mg: 1 }).await.unwrap();
        put(&store, 43, State::Start).await.unwrap();
        del(&store, 43).await.unwrap();
        store.close().await.unwrap();
        // Closed means closed, and closing again is harmless.
        assert_eq!(get(&store, 42).await.unwrap_err().kind(), StorageErrorKind::Closed);
        store.close().await.unwrap();
    }
    let store = SqliteStateStore::open(&path, DAY).unwrap();
    assert_eq!(get(&store, 42).await.unwrap(), Some(State::AskedDose { mg: 1 }));
    assert_eq!(get(&store, 43).await.unwrap(), None);
    store.close().await.unwrap();
}

/// With a cache far smaller than the chats, every state is still read back right (evicted
/// rows come from the file), and more concurrent writes than the writer's queue holds all
/// complete (callers wait for room; none is lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_small_cache_and_a_full_queue_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStateStore::open_with(&path, DAY, klonopin_bot::telegram::storage::PURGE_INTERVAL, 4 * 1024).unwrap();
    let chats = 3 * klonopin_bot::telegram::storage::SQLITE_QUEUE_DEPTH as i64;
    let writes: Vec<_> = (0..chats).map(|chat| put(&store, chat, State::AskedDose { mg: chat as u32 })).collect();
    for result in futures::future::join_all(writes).await {
        result.unwrap();
    }
    assert_eq!(row_count(&path), chats);
    for chat in (0..chats).rev() {
        assert_eq!(get(&store, chat).await.unwrap(), Some(State::AskedDose { mg: chat as u32 }), "chat {chat}");
    }
    store.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_flush_commits_queued_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStateStore::open(&path, DAY).unwrap();
    // Queue writes whose callers stop waiting (as at shutdown), then flush.
    for chat in 0..50 {
        let mut write = Arc::clone(&store).update_dialogue(ChatId(chat), State::AskedDose { mg: chat as u32 });
        let _ = futures::poll!(&mut write);
    }
    store.flush().await.unwrap();
    assert_eq!(row_count(&path), 50);
    store.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_unparseable_state_is_a_deserialize_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStateStore::open(&path, DAY).unwrap();

    raw(&path)
        .execute(
            "INSERT INTO dialogues (chat_id, state, updated_at) VALUES (7, ?1, ?2), (8, ?3, ?2)",
            rusqlite::params!["{not json", unix_now(), r#"{"RemovedVariant":{"x":1}}"#],
        )
        .unwrap();

    for chat in [7, 8] {
        let err = get(&store, chat).await.unwrap_err();
        assert!(err.is_deserialize(), "chat {chat}: {err}");
        assert_eq!(err.kind(), StorageErrorKind::Deserialize);
    }
    // What the caller does next: reset the chat, which must work.
    put(&store, 7, State::Start).await.unwrap();
    assert_eq!(get(&store, 7).await.unwrap(), Some(State::Start));
    store.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_retention_hides_then_purges_old_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let retention = Duration::from_secs(60 * 60);
    let store = SqliteStateStore::open(&path, retention).unwrap();

    put(&store, 2, State::AskedDose { mg: 2 }).await.unwrap();
    // A row last changed two hours ago, written directly: the store has never seen chat 1,
    // so nothing of it is cached (the store is its file's only writer in real use).
    let two_hours_ago = unix_now() - 2 * 60 * 60;
    raw(&path)
        .execute(
            "INSERT INTO dialogues (chat_id, state, updated_at) VALUES (1, ?1, ?2)",
            rusqlite::params![serde_json::to_string(&State::AskedDose { mg: 1 }).unwrap(), two_hours_ago],
        )
        .unwrap();

    // Invisible before any purge...
    assert_eq!(get(&store, 1).await.unwrap(), None);
    assert_eq!(get(&store, 2).await.unwrap(), Some(State::AskedDose { mg: 2 }));
    assert_eq!(row_count(&path), 2);
    // ...then gone.
    assert_eq!(store.purge_expired().await.unwrap(), 1);
    assert_eq!(row_count(&path), 1);
    assert_eq!(store.purge_expired().await.unwrap(), 0);
    store.close().await.unwrap();

    // Opening purges too.
    raw(&path).execute("UPDATE dialogues SET updated_at = ?1 WHERE chat_id = 2", [two_hours_ago]).unwrap();
    let store = SqliteStateStore::open(&path, retention).unwrap();
    assert_eq!(row_count(&path), 0);
    store.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_purges_on_its_own_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStateStore::open_with_purge_interval(&path, DAY, Duration::from_millis(100)).unwrap();
    put(&store, 1, State::Start).await.unwrap();
    raw(&path).execute("UPDATE dialogues SET updated_at = 0 WHERE chat_id = 1", []).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while row_count(&path) > 0 {
        assert!(Instant::now() < deadline, "the writer thread never purged the expired row");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStateStore::open(&path, DAY).unwrap();
    put(&store, 1, State::Start).await.unwrap();
    let mode: String = raw(&path).query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode.to_ascii_lowercase(), "wal");
    store.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_open_reports_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStateStore::open(&dir.path().join("no/such/dir/state.sqlite"), DAY).unwrap_err();
    assert_eq!(err.kind(), StorageErrorKind::Sqlite);
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_many_concurrent_chats_all_land() {
    const CHATS: i64 = 200;
    const UPDATES: u32 = 20;
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStateStore::open(&path, DAY).unwrap();

    let started = Instant::now();
    let tasks: Vec<_> = (0..CHATS)
        .map(|chat| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..UPDATES {
                    let expected = i.checked_sub(1).map(|mg| State::AskedDose { mg });
                    assert_eq!(get(&store, chat).await.unwrap(), expected, "chat {chat} before update {i}");
                    put(&store, chat, State::AskedDose { mg: i }).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let concurrent = started.elapsed();

    for chat in 0..CHATS {
        assert_eq!(get(&store, chat).await.unwrap(), Some(State::AskedDose { mg: UPDATES - 1 }));
    }
    assert_eq!(row_count(&path), CHATS);

    // One chat at a time: every update waits for its own commit.
    const SEQUENTIAL: u32 = 2_000;
    let started = Instant::now();
    for i in 0..SEQUENTIAL {
        let _ = get(&store, 1_000_000).await.unwrap();
        put(&store, 1_000_000, State::AskedDose { mg: i }).await.unwrap();
    }
    let sequential = started.elapsed();
    store.close().await.unwrap();

    let pairs = (CHATS as u32 * UPDATES) as f64;
    println!(
        "sqlite get+update pairs/s: {:.0} with {CHATS} concurrent chats ({} pairs in {:?}), {:.0} one chat at a time \
         ({} build)",
        pairs / concurrent.as_secs_f64(),
        pairs,
        concurrent,
        SEQUENTIAL as f64 / sequential.as_secs_f64(),
        if cfg!(debug_assertions) { "debug" } else { "release" },
    );
}

#[tokio::test]
async fn open_store_picks_the_backend_from_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = parse_storage_spec(&format!("sqlite:{}", db_path(&dir).display())).unwrap();
    let store: Arc<StateStore> = open_store(&spec, DAY, "test").await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    put(&store, 5, State::AskedDose { mg: 5 }).await.unwrap();
    del(&store, 6).await.unwrap();
    store.close().await.unwrap();

    let store: Arc<StateStore> = open_store(&spec, DAY, "test").await.unwrap();
    // Through teloxide's erased form, as a Dispatcher would hold it.
    let erased = Arc::clone(&store).erase();
    assert_eq!(get(&erased, 5).await.unwrap(), Some(State::AskedDose { mg: 5 }));
    store.close().await.unwrap();

    let memory: Arc<StateStore> = open_store(&parse_storage_spec("memory").unwrap(), DAY, "test").await.unwrap();
    assert_eq!(memory.backend(), "memory");
    del(&memory, 1).await.unwrap();
}

// ----------------------------------------------------------------- Redis

#[tokio::test]
async fn redis_round_trip() {
    let Some(server) = RedisServer::start("redis_round_trip") else { return };
    let store = RedisStateStore::open(&server.url(2), "bot", DAY).await.unwrap();
    assert_round_trips(&store).await;

    // It really went to database 2, as JSON.
    let mut conn = server.raw(2).await;
    let value: String = redis::cmd("GET").arg("klonopin-bot:bot:state:-100123").query_async(&mut conn).await.unwrap();
    assert_eq!(serde_json::from_str::<State>(&value).unwrap(), group_state());
    let mut db0 = server.raw(0).await;
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut db0).await.unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test]
async fn redis_sets_the_retention_as_ttl() {
    let Some(server) = RedisServer::start("redis_sets_the_retention_as_ttl") else { return };
    let retention = Duration::from_secs(3 * 60 * 60);
    let store = RedisStateStore::open(&server.url(0), "bot", retention).await.unwrap();
    put(&store, 42, State::Start).await.unwrap();

    let key = store.key(ChatId(42));
    assert_eq!(key, "klonopin-bot:bot:state:42");
    let mut conn = server.raw(0).await;
    let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut conn).await.unwrap();
    assert!(ttl > 0 && ttl <= retention.as_secs() as i64, "TTL {ttl}");

    // Every state change restarts the clock.
    let () = redis::cmd("EXPIRE").arg(&key).arg(10).query_async(&mut conn).await.unwrap();
    put(&store, 42, State::AskedDose { mg: 1 }).await.unwrap();
    let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut conn).await.unwrap();
    assert!(ttl > 10, "TTL {ttl}");
}

#[tokio::test]
async fn redis_namespaces_isolate_two_bots() {
    let Some(server) = RedisServer::start("redis_namespaces_isolate_two_bots") else { return };
    let a = RedisStateStore::open(&server.url(0), "bot-a", DAY).await.unwrap();
    let b = RedisStateStore::open(&server.url(0), "bot_b", DAY).await.unwrap();

    put(&a, 1, State::AskedDose { mg: 1 }).await.unwrap();
    assert_eq!(get(&b, 1).await.unwrap(), None);
    put(&b, 1, State::Crisis { note: "b".into() }).await.unwrap();
    assert_eq!(get(&a, 1).await.unwrap(), Some(State::AskedDose { mg: 1 }));
    assert_eq!(get(&b, 1).await.unwrap(), Some(State::Crisis { note: "b".into() }));
    del(&a, 1).await.unwrap();
    assert_eq!(get(&a, 1).await.unwrap(), None);
    assert_eq!(get(&b, 1).await.unwrap(), Some(State::Crisis { note: "b".into() }));

    for bad in ["", "a:b", "a*", "with space"] {
        let err = RedisStateStore::open(&server.url(0), bad, DAY).await.unwrap_err();
        assert_eq!(err.kind(), StorageErrorKind::Config, "{bad:?}");
    }
}

#[tokio::test]
async fn redis_unparseable_state_is_a_deserialize_error() {
    let Some(server) = RedisServer::start("redis_unparseable_state_is_a_deserialize_error") else { return };
    let store = RedisStateStore::open(&server.url(0), "bot", DAY).await.unwrap();
    let mut conn = server.raw(0).await;
    let () = redis::cmd("SET").arg(store.key(ChatId(7))).arg("{not json").query_async(&mut conn).await.unwrap();
    let err = get(&store, 7).await.unwrap_err();
    assert!(err.is_deserialize(), "{err}");
    put(&store, 7, State::Start).await.unwrap();
    assert_eq!(get(&store, 7).await.unwrap(), Some(State::Start));
}

#[tokio::test]
async fn redis_through_open_store() {
    let Some(server) = RedisServer::start("redis_through_open_store") else { return };
    let spec = parse_storage_spec(&server.url(1)).unwrap();
    let store: Arc<StateStore> = open_store(&spec, DAY, "bot").await.unwrap();
    assert_eq!(store.backend(), "redis");
    put(&store, 3, State::AskedDose { mg: 3 }).await.unwrap();
    assert_eq!(get(&store, 3).await.unwrap(), Some(State::AskedDose { mg: 3 }));
    del(&store, 3).await.unwrap();
    assert_eq!(get(&store, 3).await.unwrap(), None);
    store.close().await.unwrap();
}

/// Two instances on one Redis, each adding 1 to the same chat's state 100 times at once
/// through `transition`: every increment survives (a plain read then write loses them
/// whenever the two interleave), and deleting goes through the same compare-and-set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_two_writers_lose_no_transition() {
    let Some(server) = RedisServer::start("redis_two_writers_lose_no_transition") else { return };
    let spec = parse_storage_spec(&server.url(3)).unwrap();
    let (a, b) = (open_store(&spec, DAY, "bot").await.unwrap(), open_store(&spec, DAY, "bot").await.unwrap());
    let chat = ChatId(9);
    async fn bump(store: Arc<StateStore>, chat: ChatId, times: u32) -> u32 {
        let mut decisions = 0;
        for _ in 0..times {
            let (ran, stored) = store
                .transition(chat, |read: Result<Option<State>, _>| {
                    let mg = match read {
                        Ok(Some(State::AskedDose { mg })) => mg,
                        _ => 0,
                    };
                    (Write::Put(State::AskedDose { mg: mg + 1 }), 1)
                })
                .await;
            stored.unwrap();
            decisions += ran;
        }
        decisions
    }
    let (x, y) = tokio::join!(tokio::spawn(bump(Arc::clone(&a), chat, 100)), tokio::spawn(bump(Arc::clone(&b), chat, 100)));
    assert_eq!(x.unwrap() + y.unwrap(), 200);
    assert_eq!(get(&a, 9).await.unwrap(), Some(State::AskedDose { mg: 200 }), "no increment was lost");
    // Removing and leaving the state as it is go through the same path.
    let (_, stored) = b.transition(chat, |_read: Result<Option<State>, _>| (Write::<State>::Remove, ())).await;
    stored.unwrap();
    assert_eq!(get(&a, 9).await.unwrap(), None);
    let (kept, stored) = a.transition(chat, |read: Result<Option<State>, _>| (Write::<State>::Nothing, read.unwrap())).await;
    assert_eq!((kept, stored.is_ok()), (None, true));
}

#[tokio::test]
async fn redis_unreachable_is_a_redis_error() {
    // Bound and then released: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = RedisStateStore::open(&format!("redis://127.0.0.1:{port}/0"), "bot", DAY).await.unwrap_err();
    assert_eq!(err.kind(), StorageErrorKind::Redis, "{err}");
}

#[tokio::test]
async fn sqlite_does_not_rewrite_an_unchanged_state_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = SqliteStateStore::open(&path, DAY).unwrap();
    put(&store, 5, State::AskedDose { mg: 1 }).await.unwrap();
    let updated_at =
        |path: &Path| -> i64 { raw(path).query_row("SELECT updated_at FROM dialogues WHERE chat_id = 5", [], |r| r.get(0)).unwrap() };
    // Mark the row as written a minute ago (behind the store's back, to see whether it writes).
    let a_minute_ago = unix_now() - 60;
    raw(&path).execute("UPDATE dialogues SET updated_at = ?1 WHERE chat_id = 5", [a_minute_ago]).unwrap();

    // The same state again, within the refresh window: no write.
    put(&store, 5, State::AskedDose { mg: 1 }).await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(updated_at(&path), a_minute_ago);
    // A different state is written at once.
    put(&store, 5, State::AskedDose { mg: 2 }).await.unwrap();
    assert!(updated_at(&path) >= unix_now() - 5);
    assert_eq!(get(&store, 5).await.unwrap(), Some(State::AskedDose { mg: 2 }));
    store.close().await.unwrap();
}
