//! Timestamps and durations.
//!
//! memlane keeps time at millisecond precision everywhere (UTC, Unix epoch), so that a memory round-trips exactly
//! through every backend and the export format. In JSON a [`Timestamp`] is an RFC 3339 string with milliseconds,
//! e.g. `"2026-11-25T13:35:45.123Z"`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// A point in time, in whole milliseconds since the Unix epoch (UTC).
///
/// ```
/// use memlane_core::Timestamp;
/// let t: Timestamp = "2026-11-25T13:35:45.123Z".parse().unwrap();
/// assert_eq!(t.as_millis(), 1_795_613_745_123);
/// assert_eq!(t.to_string(), "2026-11-25T13:35:45.123Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current time, truncated to milliseconds.
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_millis())
    }

    /// The latest time memlane represents: 9999-12-31T23:59:59.999Z (RFC 3339 has four-digit years).
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999);

    /// From milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// This time plus `d`, saturating at [`Timestamp::MAX`].
    pub fn plus(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(ms).min(Self::MAX.0))
    }

    fn to_datetime(self) -> Option<DateTime<Utc>> {
        Utc.timestamp_millis_opt(self.0).single()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_datetime() {
            Some(dt) => f.write_str(&dt.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => write!(f, "@{}ms", self.0),
        }
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        DateTime::parse_from_rfc3339(s)
            .map(|dt| Timestamp(dt.with_timezone(&Utc).timestamp_millis()))
            .map_err(|e| {
                Error::invalid(
                    "timestamp",
                    format!(
                        "{s:?} is not an RFC 3339 timestamp such as 2026-01-31T12:00:00Z ({e})"
                    ),
                )
            })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses a time-to-live such as `30s`, `10m`, `2h`, `7d` or `500ms` (a whole number and a unit).
///
/// ```
/// use std::time::Duration;
/// use memlane_core::parse_ttl;
/// assert_eq!(parse_ttl("10m").unwrap(), Duration::from_secs(600));
/// assert!(parse_ttl("10").is_err());
/// assert!(parse_ttl("0s").is_err());
/// ```
pub fn parse_ttl(s: &str) -> Result<Duration, Error> {
    let bad = || {
        Error::invalid(
            "ttl",
            format!("{s:?} is not a duration: use a positive whole number and a unit, e.g. 500ms, 30s, 10m, 2h, 7d"),
        )
    };
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let ms_per = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    let ms = n.checked_mul(ms_per).ok_or_else(bad)?;
    if ms == 0 {
        return Err(Error::invalid("ttl", "must be greater than zero"));
    }
    Ok(Duration::from_millis(ms))
}
