//! The write-through row cache: bounded by weight, so a flood of new chats evicts each other
//! before a chat that keeps talking.

/// About what one cached row costs beside its JSON (key, timestamp, string header, the
/// cache's own bookkeeping).
pub(super) const ROW_OVERHEAD: u64 = 64;

pub(super) type RowCache = quick_cache::unsync::Cache<i64, Option<(String, i64)>, RowWeight>;

/// A cached row weighs its JSON's length plus [`ROW_OVERHEAD`].
#[derive(Clone, Copy)]
pub(super) struct RowWeight;

impl quick_cache::Weighter<i64, Option<(String, i64)>> for RowWeight {
    fn weight(&self, _chat: &i64, row: &Option<(String, i64)>) -> u64 {
        ROW_OVERHEAD + row.as_ref().map_or(0, |(state, _)| state.len() as u64)
    }
}

pub(super) fn row_cache(bytes: u64) -> RowCache {
    let rows = usize::try_from(bytes / (ROW_OVERHEAD + 64)).unwrap_or(usize::MAX).max(1);
    quick_cache::unsync::Cache::with_weighter(rows, bytes.max(1), RowWeight)
}
