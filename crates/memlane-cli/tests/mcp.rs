//! `memlane mcp` end to end: the official MCP Python SDK (`mcp` on PyPI) starts the real binary as a stdio server,
//! as agent hosts do (once with the newest protocol, once with the initialize handshake of 2025), lists its tools
//! and calls every one (the client script is shared with the HTTP test:
//! crates/memlane-server/tests/mcp/client.py). That the protocol works at all also shows that nothing but
//! protocol messages reaches stdout.
//!
//! Needs `MEMLANE_TEST_PYTHON` (scripts/setup/python.sh); skipped with a message without it, unless
//! `MEMLANE_REQUIRE_SERVICES=1` (CI), where it fails.

use std::path::PathBuf;
use std::process::Command;

fn python() -> Option<String> {
    match std::env::var("MEMLANE_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") => panic!(
            "MEMLANE_TEST_PYTHON is not set and MEMLANE_REQUIRE_SERVICES=1: run scripts/setup/python.sh"
        ),
        _ => {
            eprintln!(
                "skipped: MEMLANE_TEST_PYTHON is not set (run scripts/setup/python.sh, then export \
                 MEMLANE_TEST_PYTHON=~/.cache/memlane/test-venv/bin/python)"
            );
            None
        }
    }
}

#[test]
fn python_sdk_client_over_stdio() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../memlane-server/tests/mcp/client.py");
    let store = format!("{}?embedder=none", dir.path().display());
    let out = Command::new(python)
        .arg(script)
        .args(["stdio", env!("CARGO_BIN_EXE_memlane"), "--store", &store])
        .args(["--tenant", "stdio-tenant", "mcp"])
        .output()
        .expect("run the Python MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the MCP client failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("stdio auto ("), "{stdout}");
    assert!(stdout.contains("stdio legacy ("), "{stdout}");
    // The server's log went to stderr (the client passes it through), never into the protocol.
    assert!(stderr.contains("serving MCP on stdio"), "{stderr}");

    // The session's memories went to the tenant of --tenant: the one it kept is there, and only there.
    assert_eq!(count(&store, "stdio-tenant"), 1);
    assert_eq!(count(&store, "default"), 0);
}

/// `memlane count` of a tenant.
fn count(store: &str, tenant: &str) -> u64 {
    let out = Command::new(env!("CARGO_BIN_EXE_memlane"))
        .args(["--store", store, "--tenant", tenant, "--json", "count"])
        .output()
        .expect("memlane count");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["count"].as_u64().expect("count")
}
