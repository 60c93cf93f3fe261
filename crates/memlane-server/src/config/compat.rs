//! The `[compat]` section: the deprecated compatibility routes (mem0's REST API under `/compat/mem0`).
//!
//! ```toml
//! [compat]
//! enabled = true                 # MEMLANE_COMPAT_ENABLED: false unmounts /compat/mem0 (its paths are then 404)
//! deprecated_since = "2026-12-01" # MEMLANE_COMPAT_DEPRECATED_SINCE: the `Deprecation` header's date
//! sunset = "2027-12-01"           # MEMLANE_COMPAT_SUNSET: the `Sunset` header's date (when the routes go away)
//! allow_reset = false            # MEMLANE_COMPAT_ALLOW_RESET: whether mem0's POST /reset forgets the caller's tenant
//! search_mode = "auto"           # MEMLANE_COMPAT_SEARCH_MODE: how mem0's searches rank (auto, keyword, semantic, hybrid)
//! ```
//!
//! Dates are `YYYY-MM-DD` (midnight UTC) or RFC 3339 times.

use serde::{Deserialize, Deserializer};

use memlane::{SearchMode, Timestamp};

/// `[compat]`: the compatibility routes and their deprecation headers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompatConfig {
    /// Whether `/compat/mem0` is served.
    pub enabled: bool,
    /// Since when the compatibility routes are deprecated (the `Deprecation` header, `@<unix seconds>`).
    #[serde(deserialize_with = "deserialize_date")]
    pub deprecated_since: Timestamp,
    /// When they will be removed (the `Sunset` header, an HTTP date).
    #[serde(deserialize_with = "deserialize_date")]
    pub sunset: Timestamp,
    /// Whether mem0's `POST /reset` deletes every memory of the caller's tenant (never another tenant's). Off by
    /// default: the route then answers 403 and names `POST /v1/forget {"all": true}`.
    pub allow_reset: bool,
    /// How mem0's searches rank: `None` is `auto` (the default): semantic, as mem0 does, when the store embeds
    /// queries itself (opened with `embedder=auto` or `minilm` and the model present) and offers semantic search,
    /// else keyword. `keyword`, `semantic` or `hybrid` force one (the last two need a store that embeds queries).
    #[serde(deserialize_with = "deserialize_mode")]
    pub search_mode: Option<SearchMode>,
}

/// 2026-12-01T00:00:00Z, the release that deprecates the compatibility routes on arrival.
const DEFAULT_DEPRECATED_SINCE: i64 = 1_796_083_200_000;
/// 2027-12-01T00:00:00Z: a year later.
const DEFAULT_SUNSET: i64 = 1_827_619_200_000;

impl Default for CompatConfig {
    fn default() -> Self {
        CompatConfig {
            enabled: true,
            deprecated_since: Timestamp::from_millis(DEFAULT_DEPRECATED_SINCE),
            sunset: Timestamp::from_millis(DEFAULT_SUNSET),
            allow_reset: false,
            search_mode: None,
        }
    }
}

impl CompatConfig {
    /// Applies `MEMLANE_COMPAT_*` from `get` (which treats empty variables as unset).
    pub(crate) fn apply_env(
        &mut self,
        get: &impl Fn(&str) -> Option<String>,
    ) -> memlane::Result<()> {
        if let Some(v) = get("MEMLANE_COMPAT_ENABLED") {
            self.enabled = parse_bool("MEMLANE_COMPAT_ENABLED", &v)?;
        }
        if let Some(v) = get("MEMLANE_COMPAT_ALLOW_RESET") {
            self.allow_reset = parse_bool("MEMLANE_COMPAT_ALLOW_RESET", &v)?;
        }
        if let Some(v) = get("MEMLANE_COMPAT_SEARCH_MODE") {
            self.search_mode = parse_mode("MEMLANE_COMPAT_SEARCH_MODE", &v)?;
        }
        if let Some(v) = get("MEMLANE_COMPAT_DEPRECATED_SINCE") {
            self.deprecated_since = parse_date("MEMLANE_COMPAT_DEPRECATED_SINCE", &v)?;
        }
        if let Some(v) = get("MEMLANE_COMPAT_SUNSET") {
            self.sunset = parse_date("MEMLANE_COMPAT_SUNSET", &v)?;
        }
        Ok(())
    }

    /// The sunset must come after the deprecation.
    pub(crate) fn validate(&self) -> memlane::Result<()> {
        if self.sunset <= self.deprecated_since {
            return Err(memlane::Error::invalid(
                "compat.sunset",
                format!(
                    "the sunset ({}) must be later than deprecated_since ({})",
                    self.sunset, self.deprecated_since
                ),
            ));
        }
        Ok(())
    }
}

fn parse_bool(name: &str, v: &str) -> memlane::Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(memlane::Error::invalid(
            name,
            format!("{other:?} is not true or false"),
        )),
    }
}

/// A date (`2027-12-01`, midnight UTC) or an RFC 3339 time.
pub(crate) fn parse_date(field: &str, v: &str) -> memlane::Result<Timestamp> {
    let v = v.trim();
    let full = if v.len() == 10 {
        format!("{v}T00:00:00Z")
    } else {
        v.to_owned()
    };
    full.parse().map_err(|_| {
        memlane::Error::invalid(
            field,
            format!("{v:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"),
        )
    })
}

/// `auto` (`None`), or a search mode.
fn parse_mode(field: &str, v: &str) -> memlane::Result<Option<SearchMode>> {
    match v.trim() {
        "auto" => Ok(None),
        m => m.parse().map(Some).map_err(|_| {
            memlane::Error::invalid(
                field,
                format!("{v:?} is not auto, keyword, semantic or hybrid"),
            )
        }),
    }
}

fn deserialize_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SearchMode>, D::Error> {
    let s = String::deserialize(d)?;
    parse_mode("compat.search_mode", &s).map_err(serde::de::Error::custom)
}

fn deserialize_date<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let s = String::deserialize(d)?;
    parse_date("date", &s).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_dates() {
        let c = CompatConfig::default();
        assert_eq!(c.deprecated_since.to_string(), "2026-12-01T00:00:00.000Z");
        assert_eq!(c.sunset.to_string(), "2027-12-01T00:00:00.000Z");
        c.validate().expect("valid");
        assert_eq!(c.search_mode, None, "auto by default");
    }

    #[test]
    fn the_section_parses_from_toml() {
        let c = crate::ServerConfig::from_toml_str(
            "[compat]\nenabled = false\nallow_reset = true\nsearch_mode = \"semantic\"\ndeprecated_since = \"2026-01-01T12:00:00Z\"\nsunset = \"2030-01-01\"\n",
        )
        .expect("parses");
        assert!(!c.compat.enabled && c.compat.allow_reset);
        assert_eq!(c.compat.search_mode, Some(SearchMode::Semantic));
        assert_eq!(c.compat.sunset.to_string(), "2030-01-01T00:00:00.000Z");
        assert!(crate::ServerConfig::from_toml_str("[compat]\nsunset = \"later\"\n").is_err());
        assert!(crate::ServerConfig::from_toml_str("[compat]\nnope = 1\n").is_err());
    }

    #[test]
    fn env_overrides_and_errors_name_the_variable() {
        let mut c = CompatConfig::default();
        let env = |n: &str| match n {
            "MEMLANE_COMPAT_ENABLED" => Some("false".to_owned()),
            "MEMLANE_COMPAT_SUNSET" => Some("2030-01-02".to_owned()),
            "MEMLANE_COMPAT_SEARCH_MODE" => Some("hybrid".to_owned()),
            _ => None,
        };
        c.apply_env(&env).expect("apply");
        assert!(!c.enabled);
        assert_eq!(c.sunset.to_string(), "2030-01-02T00:00:00.000Z");
        assert_eq!(c.search_mode, Some(SearchMode::Hybrid));
        let auto = |n: &str| (n == "MEMLANE_COMPAT_SEARCH_MODE").then(|| "auto".to_owned());
        c.apply_env(&auto).expect("auto");
        assert_eq!(c.search_mode, None);
        let mode = |n: &str| (n == "MEMLANE_COMPAT_SEARCH_MODE").then(|| "fuzzy".to_owned());
        assert!(c.apply_env(&mode).is_err());
        let bad = |n: &str| (n == "MEMLANE_COMPAT_SUNSET").then(|| "soon".to_owned());
        let e = c.apply_env(&bad).expect_err("bad date");
        assert!(e.to_string().contains("MEMLANE_COMPAT_SUNSET"), "{e}");
        c.sunset = c.deprecated_since;
        assert!(c.validate().is_err());
    }
}
