//! Maps SQLite's errors to memlane's [`Error`], in one place (the mapping itself is shared with the vector
//! store: [`crate::sqlite`]).

use memlane_core::Error;

use crate::sqlite;

/// The backend's name in errors and metrics.
pub(crate) const NAME: &str = "embedded";

/// A SQLite error as a memlane error: busy, locked, full disk and I/O errors are temporary
/// ([`memlane_core::ErrorKind::Unavailable`]); constraint violations are conflicts; the rest are internal.
pub(crate) fn map(e: rusqlite::Error) -> Error {
    sqlite::map_error(NAME, e)
}

/// A connection-pool error: no connection could be had in time.
pub(crate) fn pool(e: r2d2::Error) -> Error {
    sqlite::pool_error(NAME, e)
}

/// A blocking task that panicked or was cancelled.
pub(crate) fn join(e: tokio::task::JoinError) -> Error {
    sqlite::join_error(NAME, e)
}

/// Stored data that cannot be decoded: corruption or a bug.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
    sqlite::corrupt(NAME, what)
}
