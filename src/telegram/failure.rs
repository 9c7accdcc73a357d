//! What went wrong while handling one update, carried to the dispatcher's one error handler.
//!
//! A handler does all it can (a reply that could not be sent does not stop the new state
//! from being stored) and returns what failed as a [`Failure`]; [`Failures`], the
//! dispatcher's error handler, logs it with the update id and counts it in the metrics.
//! Nothing here holds a message's text, a name or a username: only kinds of errors.

use std::sync::Arc;

use futures::future::BoxFuture;
use teloxide::error_handlers::ErrorHandler;

use super::storage::StorageErrorKind;
use crate::stats::{ErrorKind, Stats};

/// Everything that went wrong with one update, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub update_id: u32,
    pub problems: Vec<Problem>,
}

/// One thing that went wrong. The `String`s are content-free error kinds
/// ([`super::handlers::error_kind`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The stored state could not be decoded; the chat was started over and answered.
    StateUnreadable(StorageErrorKind),
    /// The store could not be reached to read the state; the message was answered as from
    /// the start, and nothing was written.
    ReadFailed(StorageErrorKind),
    /// A reply (or the rest of it) was not delivered after retries.
    NotDelivered(String),
    /// Crisis guidance overheard in a group was not delivered.
    GroupGuidanceNotDelivered(String),
    /// Telegram was not told that a button press was handled (the client shows a spinner).
    CallbackNotAnswered(String),
    /// The new state was not stored.
    StoreFailed(StorageErrorKind),
    /// A blocked chat's state was not cleared.
    ClearFailed(StorageErrorKind),
}

impl Problem {
    /// The metrics counter this problem adds to, if any.
    fn counted_as(&self) -> Option<ErrorKind> {
        match self {
            Problem::StateUnreadable(_) | Problem::ReadFailed(_) => Some(ErrorKind::StateUnreadable),
            Problem::NotDelivered(_) | Problem::GroupGuidanceNotDelivered(_) => Some(ErrorKind::SendFailed),
            Problem::StoreFailed(_) | Problem::ClearFailed(_) => Some(ErrorKind::StoreFailed),
            Problem::CallbackNotAnswered(_) => None,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::StateUnreadable(kind) => write!(f, "stored state unreadable ({kind}), the chat was started over"),
            Problem::ReadFailed(kind) => write!(f, "reading the state failed ({kind}), answered as from the start"),
            Problem::NotDelivered(kind) => write!(f, "a reply was not delivered ({kind})"),
            Problem::GroupGuidanceNotDelivered(kind) => write!(f, "crisis guidance for a group was not delivered ({kind})"),
            Problem::CallbackNotAnswered(kind) => write!(f, "answerCallbackQuery failed ({kind})"),
            Problem::StoreFailed(kind) => write!(f, "storing state failed ({kind})"),
            Problem::ClearFailed(kind) => write!(f, "clearing a blocked chat's state failed ({kind})"),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "update {}:", self.update_id)?;
        for (i, problem) in self.problems.iter().enumerate() {
            write!(f, "{} {problem}", if i == 0 { "" } else { ";" })?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// `Ok` when nothing went wrong.
    pub fn check(update_id: u32, problems: Vec<Problem>) -> Result<(), Failure> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Failure { update_id, problems })
        }
    }
}

/// The dispatcher's error handler: a [`Failure`] is logged and counted; any other error
/// (none is expected) is logged without its details, which may hold user data.
pub struct Failures {
    pub stats: Arc<Stats>,
}

impl ErrorHandler<Box<dyn std::error::Error + Send + Sync>> for Failures {
    fn handle_error(self: Arc<Self>, error: Box<dyn std::error::Error + Send + Sync>) -> BoxFuture<'static, ()> {
        match error.downcast_ref::<Failure>() {
            Some(failure) => {
                for problem in &failure.problems {
                    if let Some(kind) = problem.counted_as() {
                        self.stats.error(kind);
                    }
                }
                log::warn!("{failure}");
            }
            None => log::error!("handler error (details withheld: they may contain user data)"),
        }
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_update_and_every_problem_and_counts_them() {
        let failure = Failure {
            update_id: 41,
            problems: vec![Problem::NotDelivered("network timeout".into()), Problem::StoreFailed(StorageErrorKind::Sqlite)],
        };
        let text = failure.to_string();
        assert!(text.starts_with("update 41: a reply was not delivered (network timeout); storing state failed ("), "{text}");
        let stats = Arc::new(Stats::default());
        let handler = Arc::new(Failures { stats: Arc::clone(&stats) });
        drop(Arc::clone(&handler).handle_error(Box::new(failure)));
        drop(handler.handle_error("some other error".into()));
        let metrics = stats.render("test");
        for counter in ["send_failed", "store_failed"] {
            let line = metrics.lines().find(|l| l.contains(counter) && !l.starts_with('#')).unwrap_or_else(|| panic!("{metrics}"));
            assert!(line.ends_with(" 1"), "{line}");
        }
    }

    #[test]
    fn nothing_wrong_is_ok() {
        assert_eq!(Failure::check(3, Vec::new()), Ok(()));
        assert_eq!(Failure::check(3, vec![Problem::CallbackNotAnswered("x".into())]).map_err(|f| f.problems.len()), Err(1));
    }
}
