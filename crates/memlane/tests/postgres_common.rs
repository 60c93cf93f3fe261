#![cfg(feature = "postgres")]
//! Helpers shared by the PostgreSQL tests (included by each with `#[path]`; compiled alone it has no tests).
#![allow(dead_code)]

use memlane::postgres::{PostgresConfig, PostgresStore};

/// The URL in the environment variable `var` (set by `scripts/services/postgres.sh`). When it is missing: panics
/// if `MEMLANE_REQUIRE_SERVICES=1`, otherwise prints why the test is skipped and returns `None`.
pub fn url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{var} is not set and MEMLANE_REQUIRE_SERVICES=1: start scripts/services/postgres.sh")
        }
        _ => {
            // Straight to stderr, past the test harness's capture, so the skip is seen.
            let msg = format!("skipping: {var} is not set (see scripts/services/postgres.sh)\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), msg.as_bytes());
            None
        }
    }
}

/// The database with pgvector.
pub const VECTOR: &str = "MEMLANE_TEST_POSTGRES_URL";
/// The database without pgvector.
pub const NOVECTOR: &str = "MEMLANE_TEST_POSTGRES_NOVECTOR_URL";

/// Opens the store at `url` with extra URL options (`k=v&...`).
pub async fn open(url: &str, extra: &str) -> PostgresStore {
    let full = if extra.is_empty() {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&{extra}")
    } else {
        format!("{url}?{extra}")
    };
    let mut opts = memlane::OpenOptions::parse(&full).expect("parse the URL");
    let config = PostgresConfig::from_options(&mut opts).expect("config");
    PostgresStore::open(config)
        .await
        .unwrap_or_else(|e| panic!("open {full}: {e}"))
}

/// Opens the store at `$var`'s URL for the conformance suite; when the variable is missing (and not required) the
/// whole test binary ends here, successfully, after saying why: every test in it needs the database.
pub async fn conformance_store(var: &str) -> PostgresStore {
    match url(var) {
        Some(u) => open(&u, "").await,
        None => std::process::exit(0),
    }
}
