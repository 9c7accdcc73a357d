//! The SQLite file: how a connection is opened (WAL, busy timeout), the table, the
//! statements, and retention in unix seconds.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags};

/// How long a write waits for a lock held by another process (e.g. an
/// operator's `sqlite3` shell) before failing.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) const SQL_GET: &str = "SELECT state, updated_at FROM dialogues WHERE chat_id = ?1 AND updated_at >= ?2";
pub(super) const SQL_PUT: &str = "INSERT INTO dialogues (chat_id, state, updated_at) VALUES (?1, ?2, ?3) \
                       ON CONFLICT(chat_id) DO UPDATE SET state = excluded.state, \
                       updated_at = excluded.updated_at";
pub(super) const SQL_REMOVE: &str = "DELETE FROM dialogues WHERE chat_id = ?1";
// No index on updated_at: it would be rewritten on every state change to
// speed up a scan that runs once an hour over a table of small rows.
pub(super) const SQL_PURGE: &str = "DELETE FROM dialogues WHERE updated_at < ?1";

pub(super) fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    // No SQLITE_OPEN_URI: a path that happens to start with "file:" must
    // stay a path.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Some filesystems (network mounts) cannot do WAL; it still works,
        // only slower, so this is worth a warning and not a refusal.
        log::warn!("{}: journal_mode is {mode}, not wal; state writes will be slower", path.display());
    }
    // With WAL, NORMAL loses at most the last commits on power loss, never
    // consistency; FULL would fsync every group commit.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS dialogues (
             chat_id    INTEGER PRIMARY KEY,
             state      TEXT    NOT NULL,
             updated_at INTEGER NOT NULL
         )",
    )?;
    Ok(conn)
}

pub(super) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// Oldest `updated_at` still inside the retention.
fn cutoff(retention: Duration) -> i64 {
    unix_now().saturating_sub(retention_secs(retention))
}

pub(super) fn retention_secs(retention: Duration) -> i64 {
    i64::try_from(retention.as_secs()).unwrap_or(i64::MAX)
}

pub(super) fn purge(conn: &Connection, retention: Duration) -> rusqlite::Result<usize> {
    conn.prepare_cached(SQL_PURGE)?.execute(params![cutoff(retention)])
}
