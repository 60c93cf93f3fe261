//! Maps the payload database's and the vector index's errors to memlane's [`Error`], in one place (SQLite's
//! mapping is shared with the embedded store: [`crate::sqlite`]).

use memlane_core::Error;

use crate::sqlite;

/// The backend's name in errors and metrics.
pub(crate) const NAME: &str = "vector";

/// A SQLite error: busy, locked, full disk and I/O errors are temporary
/// ([`memlane_core::ErrorKind::Unavailable`]); constraint violations are conflicts; the rest are internal.
pub(crate) fn db(e: rusqlite::Error) -> Error {
    sqlite::map_error(NAME, e)
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

/// A lock poisoned by a panicking writer.
pub(crate) fn poisoned() -> Error {
    Error::internal(NAME, "a lock is poisoned: a writer panicked", None)
}

pub(crate) use crate::sqlite::other_model;
