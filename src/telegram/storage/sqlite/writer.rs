//! The writer thread: takes every request queued since its last commit, runs them in one
//! transaction, and answers each only once the commit decided its fate.

use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use super::schema::{purge, retention_secs, unix_now, SQL_GET, SQL_PURGE, SQL_PUT, SQL_REMOVE};
use crate::telegram::storage::error::StorageError;

/// Caps one transaction so a flood of requests cannot delay the first
/// waiter's answer without bound.
pub(super) const MAX_BATCH: usize = 1024;

pub(super) type Reply<T> = oneshot::Sender<Result<T, StorageError>>;

pub(super) enum Request {
    Get { chat_id: i64, reply: Reply<Option<(String, i64)>> },
    Put { chat_id: i64, state: String, reply: Reply<()> },
    Remove { chat_id: i64, reply: Reply<()> },
    Purge { reply: Reply<usize> },
    Flush { reply: Reply<()> },
    Close { reply: Reply<()> },
}

impl Request {
    fn writes(&self) -> bool {
        matches!(self, Self::Put { .. } | Self::Remove { .. } | Self::Purge { .. })
    }
}

/// A computed result held back until the batch's commit decides its fate.
enum Answer {
    Text(Reply<Option<(String, i64)>>, Result<Option<(String, i64)>, StorageError>),
    Unit(Reply<()>, Result<(), StorageError>),
    Count(Reply<usize>, Result<usize, StorageError>),
}

impl Answer {
    /// A rolled-back transaction takes every result computed inside it with
    /// it, reads included (they may have seen the lost writes).
    fn fail_if_ok(&mut self, err: &StorageError) {
        match self {
            Self::Text(_, r @ Ok(_)) => *r = Err(err.clone()),
            Self::Unit(_, r @ Ok(_)) => *r = Err(err.clone()),
            Self::Count(_, r @ Ok(_)) => *r = Err(err.clone()),
            _ => {}
        }
    }

    fn send(self) {
        // A waiter that gave up (its future was dropped) is not an error.
        match self {
            Self::Text(tx, r) => drop(tx.send(r)),
            Self::Unit(tx, r) => drop(tx.send(r)),
            Self::Count(tx, r) => drop(tx.send(r)),
        }
    }
}

pub(super) fn writer_loop(conn: Connection, rx: flume::Receiver<Request>, retention: Duration, purge_interval: Duration) {
    let mut next_purge = Instant::now() + purge_interval;
    let mut batch: Vec<Request> = Vec::new();
    let mut close_replies: Vec<Reply<()>> = Vec::new();

    loop {
        // Checked here and not only on an idle timeout: under steady load
        // the channel is never empty long enough for one.
        if Instant::now() >= next_purge {
            match purge(&conn, retention) {
                Ok(0) => {}
                Ok(n) => log::info!("purged {n} expired dialogue states"),
                Err(e) => log::warn!("purging expired dialogue states failed: {e}"),
            }
            next_purge = Instant::now() + purge_interval;
        }
        let first = match rx.recv_timeout(next_purge.saturating_duration_since(Instant::now())) {
            Ok(request) => request,
            Err(flume::RecvTimeoutError::Timeout) => continue,
            // Every store handle is gone; everything they queued was
            // received before this, so it is committed already.
            Err(flume::RecvTimeoutError::Disconnected) => break,
        };
        batch.push(first);
        // Let the batch fill before taking it: on one busy core the kernel runs this thread
        // as soon as a handler queues a request, and batches held about one request each (one
        // commit and two context switches per write; the load benchmark measured 3,700
        // switches/s, 1,300/s with this yield). On an idle machine it returns at once.
        std::thread::yield_now();
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        run_batch(&conn, &mut batch, retention, &mut close_replies);
        if !close_replies.is_empty() {
            break;
        }
    }

    // Dropping the receiver first makes requests that raced with close fail
    // fast with `Closed` instead of waiting for the checkpoint below.
    drop(rx);
    let result = conn.close().map_err(|(_, e)| StorageError::sqlite("closing the database", e));
    if let Err(e) = &result {
        log::warn!("{e}");
    }
    for reply in close_replies {
        drop(reply.send(result.clone()));
    }
}

/// Runs `batch` in one transaction and answers every request after the
/// commit (or with the error that lost it).
fn run_batch(conn: &Connection, batch: &mut Vec<Request>, retention: Duration, close_replies: &mut Vec<Reply<()>>) {
    let begin = if batch.iter().any(Request::writes) {
        // IMMEDIATE takes the write lock up front, so busy_timeout covers
        // it; a DEFERRED transaction upgrading later can fail at once.
        "BEGIN IMMEDIATE"
    } else {
        "BEGIN DEFERRED"
    };
    // One clock reading per batch keeps its requests consistent with each
    // other.
    let now = unix_now();
    let cutoff = now.saturating_sub(retention_secs(retention));
    let mut pending: Vec<Answer> = Vec::with_capacity(batch.len());
    let mut in_txn = false;

    for request in batch.drain(..) {
        if !in_txn {
            if let Err(e) = conn.execute_batch(begin) {
                // Cannot even start (e.g. another process holds the lock
                // past busy_timeout): this request fails alone, the next one
                // tries again.
                let err = StorageError::sqlite("starting a transaction", e);
                answer_error(request, err, close_replies);
                continue;
            }
            in_txn = true;
        }
        let Some(answer) = execute(conn, request, now, cutoff, close_replies) else {
            continue;
        };
        let failed = answer_failed(&answer);
        pending.push(answer);
        if failed && conn.is_autocommit() {
            // SQLite rolled the transaction back by itself (disk full, I/O
            // error): whatever the batch did before this is gone too.
            if let Some(err) = pending.last().and_then(answer_error_of) {
                for a in &mut pending {
                    a.fail_if_ok(&err);
                }
            }
            pending.drain(..).for_each(Answer::send);
            in_txn = false;
        }
    }

    if in_txn {
        if let Err(e) = conn.execute_batch("COMMIT") {
            let err = StorageError::sqlite("committing", e);
            log::warn!("{err}");
            if !conn.is_autocommit() {
                if let Err(e) = conn.execute_batch("ROLLBACK") {
                    log::warn!("rolling back after a failed commit: {e}");
                }
            }
            for a in &mut pending {
                a.fail_if_ok(&err);
            }
        }
    }
    pending.into_iter().for_each(Answer::send);
}

/// Runs one request; `None` for `Close`, which is answered only after the
/// connection is closed.
fn execute(conn: &Connection, request: Request, now: i64, cutoff: i64, close_replies: &mut Vec<Reply<()>>) -> Option<Answer> {
    let answer = match request {
        Request::Get { chat_id, reply } => {
            let r = conn
                .prepare_cached(SQL_GET)
                .and_then(|mut st| st.query_row(params![chat_id, cutoff], |row| Ok((row.get(0)?, row.get(1)?))).optional())
                .map_err(|e| StorageError::sqlite(format!("reading the state of chat {chat_id}"), e));
            Answer::Text(reply, r)
        }
        Request::Put { chat_id, state, reply } => {
            let r = conn
                .prepare_cached(SQL_PUT)
                .and_then(|mut st| st.execute(params![chat_id, state, now]))
                .map(drop)
                .map_err(|e| StorageError::sqlite(format!("writing the state of chat {chat_id}"), e));
            Answer::Unit(reply, r)
        }
        Request::Remove { chat_id, reply } => {
            let r = conn
                .prepare_cached(SQL_REMOVE)
                .and_then(|mut st| st.execute(params![chat_id]))
                .map(drop)
                .map_err(|e| StorageError::sqlite(format!("removing the state of chat {chat_id}"), e));
            Answer::Unit(reply, r)
        }
        Request::Purge { reply } => {
            let r = conn
                .prepare_cached(SQL_PURGE)
                .and_then(|mut st| st.execute(params![cutoff]))
                .map_err(|e| StorageError::sqlite("purging expired states", e));
            Answer::Count(reply, r)
        }
        Request::Flush { reply } => Answer::Unit(reply, Ok(())),
        Request::Close { reply } => {
            close_replies.push(reply);
            return None;
        }
    };
    Some(answer)
}

fn answer_failed(a: &Answer) -> bool {
    matches!(a, Answer::Text(_, Err(_)) | Answer::Unit(_, Err(_)) | Answer::Count(_, Err(_)))
}

fn answer_error_of(a: &Answer) -> Option<StorageError> {
    match a {
        Answer::Text(_, Err(e)) | Answer::Unit(_, Err(e)) | Answer::Count(_, Err(e)) => Some(e.clone()),
        _ => None,
    }
}

fn answer_error(request: Request, err: StorageError, close_replies: &mut Vec<Reply<()>>) {
    match request {
        Request::Get { reply, .. } => drop(reply.send(Err(err))),
        Request::Put { reply, .. } | Request::Remove { reply, .. } | Request::Flush { reply } => drop(reply.send(Err(err))),
        Request::Purge { reply } => drop(reply.send(Err(err))),
        // Closing still happens; the batch's failure was reported to the
        // requests it concerned.
        Request::Close { reply } => close_replies.push(reply),
    }
}
