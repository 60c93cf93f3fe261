//! API keys: which key acts as which tenant.
//!
//! Keys are never kept in clear: the config file holds their sha256 (`key_sha256`), and keys given in the
//! environment (`MEMLANE_API_KEYS="tenant1:key1,tenant2:key2"`) are hashed as they are read. A presented key is
//! hashed and compared with every configured hash in constant time.

use std::fmt;

use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};

/// The shortest API key accepted, in bytes: shorter keys are guessable.
pub const MIN_KEY_BYTES: usize = 16;

/// The `[auth]` section.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The API keys (`[[auth.keys]]`), plus those of `MEMLANE_API_KEYS`. With none, the server runs single-tenant
    /// (tenant `default`, no authentication) and only listens on a loopback address.
    pub keys: Vec<ApiKey>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("keys", &self.keys)
            .finish()
    }
}

/// One API key: `[[auth.keys]] tenant = "acme"  key_sha256 = "<64 hex digits>"`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// The tenant every request with this key acts as.
    pub tenant: String,
    /// The sha256 of the key (`printf %s "$KEY" | sha256sum`).
    pub key_sha256: KeyHash,
}

impl ApiKey {
    /// A key for `tenant` from the clear key (hashed here; the clear key is not kept).
    pub fn from_secret(tenant: impl Into<String>, key: &str) -> Self {
        ApiKey {
            tenant: tenant.into(),
            key_sha256: KeyHash::of(key),
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("tenant", &self.tenant)
            .field("key_sha256", &"<redacted>")
            .finish()
    }
}

/// The sha256 of an API key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    /// The hash of a clear key.
    pub fn of(key: &str) -> Self {
        KeyHash(Sha256::digest(key.as_bytes()).into())
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.len() != 64 || !s.is_ascii() {
            return Err("key_sha256 must be 64 hex digits (the sha256 of the key)".into());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| {
                "key_sha256 must be 64 hex digits (the sha256 of the key)".to_owned()
            })?;
        }
        Ok(KeyHash(out))
    }

    /// Equality that takes the same time wherever the hashes differ.
    pub fn ct_eq(&self, other: &KeyHash) -> bool {
        let diff = self
            .0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for KeyHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KeyHash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Parses `MEMLANE_API_KEYS` (`tenant1:key1,tenant2:key2`), hashing each key. Errors name the entry by position,
/// never by content, so that a key never reaches a log.
pub(crate) fn parse_env_keys(var: &str, value: &str) -> memlane::Result<Vec<ApiKey>> {
    let mut keys = Vec::new();
    for (i, entry) in value.split(',').map(str::trim).enumerate() {
        if entry.is_empty() {
            continue;
        }
        let n = i + 1;
        let Some((tenant, key)) = entry.split_once(':') else {
            return Err(memlane::Error::invalid(
                var,
                format!("entry {n} is not tenant:key"),
            ));
        };
        check_tenant(&format!("{var} entry {n}"), tenant.trim())?;
        if key.len() < MIN_KEY_BYTES {
            return Err(memlane::Error::invalid(
                var,
                format!("the key of entry {n} is shorter than {MIN_KEY_BYTES} characters"),
            ));
        }
        keys.push(ApiKey::from_secret(tenant.trim(), key));
    }
    Ok(keys)
}

/// Checks a tenant name as the stores do.
pub(crate) fn check_tenant(field: &str, tenant: &str) -> memlane::Result<()> {
    memlane::Scope::tenant(tenant)
        .validate()
        .map_err(|e| memlane::Error::invalid(field, format!("bad tenant name: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_keys_are_hashed_and_checked() {
        let keys =
            parse_env_keys("K", "acme:0123456789abcdef, beta:fedcba9876543210fe").expect("parse");
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].tenant, "acme");
        assert!(keys[0].key_sha256.ct_eq(&KeyHash::of("0123456789abcdef")));
        assert!(!keys[1].key_sha256.ct_eq(&KeyHash::of("0123456789abcdef")));
        let short = parse_env_keys("K", "acme:short").expect_err("short key");
        assert!(!short.to_string().contains("short:"), "{short}");
        assert!(parse_env_keys("K", "no-colon-here-0123456789").is_err());
        assert!(parse_env_keys("K", ":0123456789abcdef").is_err());
        assert!(parse_env_keys("K", "").expect("empty").is_empty());
    }

    #[test]
    fn hex_round_trip_and_debug_hides() {
        let h = KeyHash::of("hello");
        let hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert!(KeyHash::from_hex(hex).expect("hex").ct_eq(&h));
        assert!(KeyHash::from_hex("zz").is_err());
        let dbg = format!("{:?}", ApiKey::from_secret("acme", "hello"));
        assert!(!dbg.contains("2cf24d"), "{dbg}");
    }
}
