//! Maps the redis crate's errors to memlane's [`Error`], in one place.

use std::time::Duration;

use memlane_core::Error;
use redis::{ErrorKind, RedisError, ServerErrorKind};

/// The backend's name in errors and metrics.
pub(crate) const NAME: &str = "redis";

/// A Redis error as a memlane error.
///
/// Temporary ([`memlane_core::ErrorKind::Unavailable`]): I/O errors (refused, reset, dropped connections), timeouts,
/// cluster redirections that did not settle, `CLUSTERDOWN`, `TRYAGAIN`, `MASTERDOWN`, `LOADING`, `READONLY` (a
/// failover under way), `BUSY` (a long script), `OOM`, `MISCONF` and `NOREPLICAS`. A configuration the driver
/// refuses (from the URL) is invalid input. The rest (a script or protocol error, a refused authentication) is
/// internal.
pub(crate) fn map(e: RedisError) -> Error {
    if e.kind() == ErrorKind::InvalidClientConfig {
        return Error::invalid("store", format!("{NAME}: {e}"));
    }
    let temporary = e.is_io_error()
        || e.is_timeout()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_cluster_error()
        || matches!(
            e.kind(),
            ErrorKind::Io
                | ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ReadOnly
                        | ServerErrorKind::Moved
                        | ServerErrorKind::Ask
                )
        )
        || matches!(
            e.code(),
            Some("BUSY" | "OOM" | "MISCONF" | "NOREPLICAS" | "LOADING")
        );
    let message = e.to_string();
    if temporary {
        Error::unavailable(NAME, message, Some(Box::new(e)))
    } else {
        Error::internal(NAME, message, Some(Box::new(e)))
    }
}

/// An operation that got no answer within its timeout.
pub(crate) fn timed_out(after: Duration) -> Error {
    Error::unavailable(
        NAME,
        format!("no answer within {} ms", after.as_millis()),
        None,
    )
}

/// Stored data or a script reply that cannot be decoded: corruption or a bug.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::internal(NAME, format!("unexpected data: {what}"), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let refused = RedisError::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        ));
        assert!(map(refused).is_temporary());
        let script = RedisError::from((ErrorKind::Server(ServerErrorKind::ResponseError), "bad"));
        assert_eq!(map(script).kind(), memlane_core::ErrorKind::Internal);
        let down = RedisError::from((ErrorKind::Server(ServerErrorKind::ClusterDown), "down"));
        assert!(map(down).is_temporary());
        assert!(timed_out(Duration::from_millis(5)).is_temporary());
    }
}
