//! Maps SQLite's errors to memlane's [`Error`], in one place.

use memlane_core::Error;
use rusqlite::ErrorCode;

/// The backend's name in errors and metrics.
pub(crate) const NAME: &str = "embedded";

/// A SQLite error as a memlane error: busy, locked, full disk and I/O errors are temporary
/// ([`memlane_core::ErrorKind::Unavailable`]); constraint violations are conflicts; the rest are internal.
pub(crate) fn map(e: rusqlite::Error) -> Error {
    let code = e.sqlite_error_code();
    let msg = e.to_string();
    match code {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::OutOfMemory,
        ) => Error::unavailable(NAME, msg, Some(Box::new(e))),
        Some(ErrorCode::ConstraintViolation) => Error::conflict(NAME, msg),
        _ => Error::internal(NAME, msg, Some(Box::new(e))),
    }
}

/// A connection-pool error: no connection could be had in time.
pub(crate) fn pool(e: r2d2::Error) -> Error {
    Error::unavailable(
        NAME,
        format!("no database connection: {e}"),
        Some(Box::new(e)),
    )
}

/// A blocking task that panicked or was cancelled.
pub(crate) fn join(e: tokio::task::JoinError) -> Error {
    Error::internal(
        NAME,
        format!("background task failed: {e}"),
        Some(Box::new(e)),
    )
}

/// Stored data that cannot be decoded: corruption or a bug.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::internal(NAME, format!("stored data is corrupt: {what}"), None)
}
