//! Maps the driver's and the pool's errors to memlane's [`Error`], in one place ([`map`]).

use deadpool_postgres::PoolError;
use memlane_core::Error;
use tokio_postgres::error::SqlState;

/// The backend's name in errors and metrics.
pub(crate) const NAME: &str = "postgres";

/// A failure of the driver or of the connection pool.
#[derive(Debug)]
pub(crate) enum Failure {
    /// From tokio-postgres: the server's error, or the connection's.
    Db(tokio_postgres::Error),
    /// From the pool: no connection in time, or connecting failed.
    Pool(PoolError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Db(e)
    }
}

impl From<PoolError> for Failure {
    fn from(e: PoolError) -> Self {
        Failure::Pool(e)
    }
}

/// A driver or pool error as a memlane error:
///
/// - connection errors (refused, reset, closed, timed out), the server shutting down or starting up (`57P01`,
///   `57P02`, `57P03`), too many connections and other lack of resources (class `53`), statement timeouts and lock
///   timeouts (`57014`, `55P03`), serialization failures and deadlocks (`40001`, `40P01`), and a pool that has no
///   connection to give in time: [`memlane_core::ErrorKind::Unavailable`] (temporary: retrying may succeed);
/// - unique violations (`23505`): [`memlane_core::ErrorKind::Conflict`];
/// - values PostgreSQL cannot store (`22P05`, `22021`, `54000`): [`memlane_core::ErrorKind::InvalidInput`];
/// - everything else: [`memlane_core::ErrorKind::Internal`].
pub(crate) fn map(e: impl Into<Failure>) -> Error {
    let e = match e.into() {
        Failure::Pool(PoolError::Backend(e)) => e,
        Failure::Pool(PoolError::Timeout(t)) => {
            return Error::unavailable(
                NAME,
                format!("no database connection in time ({t:?})"),
                None,
            )
        }
        Failure::Pool(PoolError::Closed) => {
            return Error::unavailable(NAME, "the connection pool is closed", None)
        }
        Failure::Pool(p @ PoolError::PostCreateHook(_)) => {
            return Error::unavailable(
                NAME,
                format!("setting up a connection failed: {p}"),
                Some(Box::new(p)),
            )
        }
        Failure::Pool(p @ PoolError::NoRuntimeSpecified) => {
            return Error::internal(NAME, p.to_string(), Some(Box::new(p)))
        }
        Failure::Db(e) => e,
    };
    let msg = match e.as_db_error() {
        Some(db) => format!("{} ({}): {}", db.severity(), db.code().code(), db.message()),
        None => e.to_string(),
    };
    let Some(code) = e.code().cloned() else {
        let transient = e.is_closed()
            || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
            || [
                "error connecting",
                "error communicating",
                "timeout waiting",
                "connection closed",
            ]
            .iter()
            .any(|p| msg.starts_with(p));
        return if transient {
            Error::unavailable(NAME, msg, Some(Box::new(e)))
        } else {
            Error::internal(NAME, msg, Some(Box::new(e)))
        };
    };
    let class = &code.code()[..2];
    if code == SqlState::UNIQUE_VIOLATION {
        Error::conflict(NAME, msg)
    } else if code == SqlState::T_R_SERIALIZATION_FAILURE
        || code == SqlState::T_R_DEADLOCK_DETECTED
        || code == SqlState::ADMIN_SHUTDOWN
        || code == SqlState::CRASH_SHUTDOWN
        || code == SqlState::CANNOT_CONNECT_NOW
        || code == SqlState::QUERY_CANCELED
        || code == SqlState::LOCK_NOT_AVAILABLE
        || code == SqlState::READ_ONLY_SQL_TRANSACTION
        || class == "08"
        || class == "53"
    {
        Error::unavailable(NAME, msg, Some(Box::new(e)))
    } else if code == SqlState::UNTRANSLATABLE_CHARACTER
        || code == SqlState::CHARACTER_NOT_IN_REPERTOIRE
        || code == SqlState::PROGRAM_LIMIT_EXCEEDED
    {
        Error::invalid("value", format!("PostgreSQL cannot store it: {msg}"))
    } else {
        Error::internal(NAME, msg, Some(Box::new(e)))
    }
}

/// Stored data that cannot be decoded: corruption or a bug.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::internal(NAME, format!("stored data is corrupt: {what}"), None)
}
