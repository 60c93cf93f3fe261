//! Unit tests of config loading.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::Duration;

use super::*;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn defaults_without_file_or_env() {
    let c = ServerConfig::load_from(None, env(&[])).expect("load");
    assert_eq!(c.listen.to_string(), "127.0.0.1:7878");
    assert_eq!(c.store, "./memlane-data");
    assert_eq!(c.max_body_bytes, 2 * 1024 * 1024);
    assert!(!c.has_keys());
}

#[test]
fn file_then_env() {
    let mut f = tempfile::NamedTempFile::new().expect("tmp");
    write!(
        f,
        r#"
listen = "0.0.0.0:9000"
store = "postgres://app:hunter2@db/m"
log_format = "json"
request_timeout = "5s"
max_concurrency = 8
[[auth.keys]]
tenant = "acme"
key_sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
"#
    )
    .expect("write");
    let c = ServerConfig::load_from(
        Some(f.path()),
        env(&[
            ("MEMLANE_MAX_CONCURRENCY", "16"),
            ("MEMLANE_API_KEYS", "beta:0123456789abcdef0123"),
            ("MEMLANE_LISTEN", ""),
        ]),
    )
    .expect("load");
    assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.request_timeout, Duration::from_secs(5));
    assert_eq!(c.max_concurrency, 16);
    let tenants: Vec<_> = c.auth.keys.iter().map(|k| k.tenant.as_str()).collect();
    assert_eq!(tenants, ["acme", "beta"]);
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert!(!dbg.contains("0123456789abcdef0123"), "{dbg}");
    assert!(!dbg.contains("2cf24d"), "{dbg}");
}

#[test]
fn config_env_names_the_file() {
    let mut f = tempfile::NamedTempFile::new().expect("tmp");
    writeln!(f, "store = \"memory://\"").expect("write");
    let path = f.path().to_string_lossy().into_owned();
    let c = ServerConfig::load_from(None, env(&[(CONFIG_ENV, &path)])).expect("load");
    assert_eq!(c.store, "memory://");
}

#[test]
fn errors_name_the_key() {
    let e = ServerConfig::from_toml_str("lissen = \"x\"").expect_err("unknown key");
    assert!(e.to_string().contains("lissen"), "{e}");
    let e = ServerConfig::from_toml_str("[[auth.keys]]\ntenant = \"a\"\nkey = \"plain\"")
        .expect_err("clear key");
    assert!(e.to_string().contains("key"), "{e}");
    let e = ServerConfig::load_from(None, env(&[("MEMLANE_REQUEST_TIMEOUT", "soon")]))
        .expect_err("bad duration");
    assert!(e.to_string().contains("MEMLANE_REQUEST_TIMEOUT"), "{e}");
    let e =
        ServerConfig::load_from(None, env(&[("MEMLANE_MAX_BODY_BYTES", "0")])).expect_err("zero");
    assert!(e.to_string().contains("max_body_bytes"), "{e}");
    let e = ServerConfig::load_from(None, env(&[("MEMLANE_LOG_LEVEL", "info,[=")]))
        .expect_err("bad filter");
    assert!(e.to_string().contains("log_level"), "{e}");
}
