#![cfg(feature = "postgres")]
//! Helpers shared by the PostgreSQL tests (included by each with `#[path]`; compiled alone it has no tests).
#![allow(dead_code)]

use memlane::postgres::{PostgresConfig, PostgresStore};

/// The URL in the environment variable `var` (set by `scripts/services/postgres.sh`). When it is missing: panics
/// if `MEMLANE_REQUIRE_SERVICES=1`, otherwise prints why the test is skipped and returns `None`.
pub fn url(var: &str) -> Option<String> {
    memlane_core::testkit::service_url(var)
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
