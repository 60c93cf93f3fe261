//! `memlane import --format mem0|langgraph`: samples produced by the real libraries (mem0 and LangGraph, installed
//! from PyPI by scripts/setup/python.sh from scripts/setup/requirements-compat.txt; the scripts are in
//! tests/compat/), imported and checked field by field; malformed lines abort with nothing written or are skipped
//! with their line numbers.
//!
//! Needs `MEMLANE_TEST_PYTHON` (and `MEMLANE_TEST_POSTGRES_URL` for LangGraph): skipped without them, failing
//! instead with `MEMLANE_REQUIRE_SERVICES=1` (CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn required(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{var} is not set and MEMLANE_REQUIRE_SERVICES=1: run scripts/setup/python.sh and scripts/services/postgres.sh")
        }
        _ => {
            eprintln!("skipped: {var} is not set");
            None
        }
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat")
        .join(name)
}

fn python(py: &str, args: &[&str]) -> String {
    let out = Command::new(py)
        .args(args)
        .env("MEM0_TELEMETRY", "False")
        .env("TZ", "UTC")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn memlane(store: &str, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_memlane"))
        .args(["--store", store, "--tenant", "t"])
        .args(args)
        .output()
        .expect("run memlane");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(store: &str, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let r = memlane(store, &all);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).expect("JSON")
}

fn listed(store: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["list", "--limit", "100"];
    args.extend_from_slice(extra);
    json(store, &args)["memories"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn imports_mem0_get_all_output() {
    let Some(py) = required("MEMLANE_TEST_PYTHON") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (alice, run) = (dir.path().join("alice.json"), dir.path().join("run.json"));
    let (alice, run) = (alice.to_str().expect("path"), run.to_str().expect("path"));
    let work = dir.path().join("mem0");
    python(
        &py,
        &[
            script("mem0_sample.py").to_str().expect("path"),
            alice,
            run,
            work.to_str().expect("path"),
        ],
    );
    let sample: Value =
        serde_json::from_str(&std::fs::read_to_string(alice).expect("read")).expect("JSON");
    let store = format!("{}?embedder=none", dir.path().join("store").display());

    let report = json(&store, &["import", "--format", "mem0", alice]);
    assert_eq!(report["created"], 3, "{report}");
    assert_eq!(report["skipped"], serde_json::json!([]));
    let report = json(&store, &["import", "--format", "mem0", run]);
    assert_eq!(report["created"], 2, "{report}");

    // Field by field, against what mem0 returned.
    let items = sample["results"].as_array().expect("results");
    let ours = listed(&store, &["--user", "alice"]);
    assert_eq!(ours.len(), 3);
    for item in items {
        let m = ours
            .iter()
            .find(|m| m["id"] == item["id"])
            .unwrap_or_else(|| panic!("mem0 id {} kept as the memlane id", item["id"]));
        assert_eq!(m["content"], item["memory"]);
        assert_eq!(m["metadata"]["mem0_id"], item["id"]);
        assert_eq!(m["metadata"]["mem0_hash"], item["hash"]);
        assert_eq!(m["scope"]["user"], "alice");
        assert_eq!(m["kind"], "fact");
        if let Some(meta) = item["metadata"].as_object() {
            for (k, v) in meta {
                assert_eq!(&m["metadata"][k], v, "metadata {k}");
            }
        }
        let created = item["created_at"].as_str().expect("created_at");
        assert_eq!(
            m["created_at"].as_str().map(|s| &s[..23]),
            Some(&created[..23]),
            "created_at to the millisecond"
        );
    }
    let bob = listed(&store, &["--session", "r1"]);
    assert_eq!(bob.len(), 2);
    assert!(bob
        .iter()
        .all(|m| m["scope"]["agent"] == "helper" && m["scope"]["user"] == "bob"));
    let expiring = bob
        .iter()
        .find(|m| m["content"] == "Deploys happen on Fridays")
        .expect("imported");
    assert_eq!(expiring["expires_at"], "2999-12-31T00:00:00.000Z");

    // Importing again creates nothing.
    let again = json(&store, &["import", "--format", "mem0", alice]);
    assert_eq!(
        (again["created"].as_u64(), again["existing"].as_u64()),
        (Some(0), Some(3))
    );

    // Malformed lines (one item per line): abort writes nothing and names the line; skip imports the rest.
    let lines: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(
        &broken,
        format!(
            "{}\n{{\"memory\": \n{}\n{{\"id\": \"x\"}}\n",
            lines[0], lines[1]
        ),
    )
    .expect("write");
    let broken = broken.to_str().expect("path");
    let other = format!("{}?embedder=none", dir.path().join("other").display());
    let r = memlane(
        &other,
        &["import", "--format", "mem0", "--on-error", "abort", broken],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("line 4"),
        "{}",
        r.stderr
    );
    assert_eq!(
        memlane(&other, &["count"]).stdout.trim(),
        "0",
        "nothing half-written"
    );
    let r = memlane(
        &other,
        &["import", "--format", "mem0", "--on-error", "skip", broken],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("2 created"), "{}", r.stdout);
    assert!(
        r.stdout.contains("skipped line 2: not JSON"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("skipped line 4: no memory text"),
        "{}",
        r.stdout
    );
}

#[test]
fn imports_langgraph_postgres_store() {
    let Some(py) = required("MEMLANE_TEST_PYTHON") else {
        return;
    };
    let Some(pg) = required("MEMLANE_TEST_POSTGRES_URL") else {
        return;
    };
    let db = format!(
        "langgraph_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let sample = script("langgraph_sample.py");
    let sample = sample.to_str().expect("path");
    let url = python(&py, &[sample, "create", &pg, &db]).trim().to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("{}?embedder=none", dir.path().join("store").display());
    let report = json(&store, &["import", "--format", "langgraph", &url]);
    let again = json(&store, &["import", "--format", "langgraph", &url]);
    python(&py, &[sample, "drop", &pg, &db]);

    assert_eq!(report["created"], 5, "{report}");
    assert_eq!(report["expired"], 1, "the item whose TTL ran out: {report}");
    assert_eq!(
        again["created"], 0,
        "a repeated import creates nothing: {again}"
    );
    assert_eq!(again["existing"], 5);

    let alice = listed(&store, &["--user", "alice"]);
    assert_eq!(alice.len(), 3);
    let pref = alice
        .iter()
        .find(|m| m["metadata"]["langgraph_key"] == "pref-1")
        .expect("pref-1");
    assert_eq!(pref["content"], "Alice prefers dark mode");
    assert_eq!(pref["metadata"]["tags"], serde_json::json!(["ui"]));
    assert_eq!(
        pref["metadata"]["langgraph_namespace"],
        serde_json::json!(["memories", "users", "alice"])
    );
    let short = alice
        .iter()
        .find(|m| m["metadata"]["langgraph_key"] == "short-lived")
        .expect("short-lived");
    assert!(short["expires_at"].is_string(), "the TTL travels: {short}");
    let bob = listed(&store, &["--session", "t1"]);
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0]["scope"]["user"], "bob");
    assert_eq!(bob[0]["content"], "Bob asked about the deploy");
    let all = listed(&store, &[]);
    let profile = all
        .iter()
        .find(|m| m["metadata"]["langgraph_key"] == "settings")
        .expect("settings");
    let value: Value =
        serde_json::from_str(profile["content"].as_str().expect("text")).expect("JSON content");
    assert_eq!(value["theme"], "dark");
}
