//! `memlane repair` against a composite store over the test servers (`MEMLANE_TEST_POSTGRES_URL` as the record of
//! truth with `outbox=true`, `MEMLANE_TEST_REDIS_URL` as the cache): drift made behind the composite's back is
//! reported by `--dry-run`, fixed by `repair`, and gone after. Skipped, with a message, without the servers (unless
//! `MEMLANE_REQUIRE_SERVICES=1`).

use std::process::Command;

use serde_json::Value;

fn url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{var} is not set and MEMLANE_REQUIRE_SERVICES=1")
        }
        _ => {
            eprintln!("skipping: {var} is not set (see scripts/services/)");
            None
        }
    }
}

fn with(url: &str, opts: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{opts}")
}

/// `memlane --store STORE --tenant T --json ARGS`, expecting success; the parsed JSON output.
fn json(store: &str, tenant: &str, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_memlane"))
        .args(["--store", store, "--tenant", tenant, "--json"])
        .args(args)
        .output()
        .expect("run memlane");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "memlane {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"))
}

#[test]
fn repair_reports_and_fixes_drift() {
    let (Some(pg), Some(redis)) = (
        url("MEMLANE_TEST_POSTGRES_URL"),
        url("MEMLANE_TEST_REDIS_URL"),
    ) else {
        return;
    };
    let run = memlane::new_id().simple().to_string();
    let cache_url = with(&redis, "prefix=memlane-cli-repair");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("composite.toml");
    std::fs::write(
        &config,
        format!(
            "[tiers.cache_{run}]\nurl = {cache_url:?}\nrole = \"cache\"\n\
             [tiers.records]\nurl = {:?}\nrole = \"record\"\n",
            with(&pg, "outbox=true")
        ),
    )
    .unwrap();
    let store = format!("composite://{}?embedder=none", config.display());
    let tenant = format!("cli-repair-{run}");
    let mut ids = Vec::new();
    for i in 0..3 {
        let m = json(
            &store,
            &tenant,
            &["add", &format!("fact {i}"), "--user", "alice"],
        );
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    // Drift behind the composite's back: one memory deleted from the cache alone.
    json(
        &with(&cache_url, "embedder=none"),
        &tenant,
        &["delete", &ids[1]],
    );

    let check = json(
        &store,
        &tenant,
        &["repair", "--dry-run", "--tenants", &tenant],
    );
    assert_eq!(check["tenants"], serde_json::json!([tenant]));
    let drifts = check["drifts"].as_array().unwrap();
    assert_eq!(drifts.len(), 1, "{check}");
    assert_eq!(drifts[0]["tier"], format!("cache_{run}"));
    assert_eq!(drifts[0]["fixed"], 0);

    let fixed = json(&store, &tenant, &["repair", "--tenants", &tenant]);
    assert_eq!(fixed["drifts"][0]["fixed"], 1, "{fixed}");
    let after = json(
        &store,
        &tenant,
        &["repair", "--dry-run", "--tenants", &tenant],
    );
    assert_eq!(after["drifts"], serde_json::json!([]), "{after}");
    let back = json(
        &with(&cache_url, "embedder=none"),
        &tenant,
        &["get", &ids[1]],
    );
    assert_eq!(back["content"], "fact 1", "the cache holds it again");
    json(&store, &tenant, &["forget", "--all"]);
}
