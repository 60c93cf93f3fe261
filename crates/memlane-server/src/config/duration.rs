//! Durations in the config file: a string such as `"30s"`, `"500ms"`, `"2m"` (see [`memlane::parse_ttl`]) or a
//! whole number of seconds.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parses a duration from the environment or a string, naming `field` in the error.
pub(crate) fn parse(field: &str, s: &str) -> memlane::Result<Duration> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return positive(field, Duration::from_secs(secs));
    }
    memlane::parse_ttl(s).map_err(|_| {
        memlane::Error::invalid(
            field,
            format!("{s:?} is not a duration: use e.g. 500ms, 30s, 2m or a number of seconds"),
        )
    })
}

fn positive(field: &str, d: Duration) -> memlane::Result<Duration> {
    if d.is_zero() {
        return Err(memlane::Error::invalid(field, "must be greater than zero"));
    }
    Ok(d)
}

/// `#[serde(deserialize_with = "duration::deserialize")]` support.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    let parsed = match Raw::deserialize(d)? {
        Raw::Secs(n) => positive("duration", Duration::from_secs(n)),
        Raw::Text(t) => parse("duration", &t),
    };
    parsed.map_err(|e| serde::de::Error::custom(strip_field(&e)))
}

/// The message of an invalid-input error without its field (serde adds the path itself).
fn strip_field(e: &memlane::Error) -> String {
    match e {
        memlane::Error::InvalidInput { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_seconds() {
        assert_eq!(parse("x", "30s").ok(), Some(Duration::from_secs(30)));
        assert_eq!(parse("x", "250ms").ok(), Some(Duration::from_millis(250)));
        assert_eq!(parse("x", "7").ok(), Some(Duration::from_secs(7)));
        assert!(parse("x", "0").is_err());
        assert!(parse("x", "soon").is_err());
    }
}
