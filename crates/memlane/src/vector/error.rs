//! Maps the payload database's and the vector index's errors to memlane's [`Error`], in one place.

use memlane_core::Error;
use rusqlite::ErrorCode;

/// The backend's name in errors and metrics.
pub(crate) const NAME: &str = "vector";

/// A SQLite error: busy, locked, full disk and I/O errors are temporary
/// ([`memlane_core::ErrorKind::Unavailable`]); constraint violations are conflicts; the rest are internal.
pub(crate) fn db(e: rusqlite::Error) -> Error {
    let msg = e.to_string();
    match e.sqlite_error_code() {
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

/// A vector-index error: bad vectors and settings are invalid input, I/O is temporary, corruption is internal.
pub(crate) fn index(e: memlane_vector::Error) -> Error {
    use memlane_vector::Error as E;
    match e {
        E::DimensionMismatch { .. } | E::InvalidVector(_) => {
            Error::invalid("embedding", e.to_string())
        }
        E::InvalidConfig(_) => Error::invalid("store options", e.to_string()),
        E::Io(_) => Error::unavailable(NAME, e.to_string(), Some(Box::new(e))),
        _ => Error::internal(NAME, e.to_string(), Some(Box::new(e))),
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

/// A lock poisoned by a panicking writer.
pub(crate) fn poisoned() -> Error {
    Error::internal(NAME, "a lock is poisoned: a writer panicked", None)
}

/// The error for a vector of another model than the store's.
pub(crate) fn other_model(field: &str, got: &str, store: &str) -> Error {
    Error::invalid(
        field,
        format!(
            "this store's embeddings are from the model {store:?}, not {got:?}: to change the model, re-index the store \
             (memlane reindex --model DIR) instead of mixing vectors"
        ),
    )
}
