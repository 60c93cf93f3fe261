//! MCP over streamable HTTP at `/mcp`, driven by a real MCP client: the official Python SDK (`mcp` on PyPI,
//! pinned in scripts/setup/requirements-mcp.txt), running `tests/mcp/client.py` against a server on 127.0.0.1:0
//! with two tenants' keys. The script lists the tools and checks their schemas, calls every tool (with the newest
//! protocol and with the 2025 initialize handshake), checks error codes, tenant isolation and that a missing or
//! wrong key is 401.
//!
//! Needs `MEMLANE_TEST_PYTHON` (a Python with the SDK: `scripts/setup/python.sh` builds one); without it the test
//! is skipped with a message, or fails when `MEMLANE_REQUIRE_SERVICES=1` (as in CI).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use memlane_server::{ApiKey, MemoryManager, ServerConfig};
use tokio::sync::oneshot;

const KEY_A: &str = "mcp-key-of-tenant-a-0123456789";
const KEY_B: &str = "mcp-key-of-tenant-b-0123456789";

/// The Python to run the client with, or `None` (after saying why) when the test should be skipped.
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

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_over_http() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig::default()
        .with_key(ApiKey::from_secret("a", KEY_A))
        .with_key(ApiKey::from_secret("b", KEY_B))
        .with_store(format!("{}?embedder=none", dir.path().display()));
    let store = memlane::open(&config.store).await.expect("open store");
    let manager = MemoryManager::start(store, &config).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(memlane_server::run_with_manager(
        listener,
        config,
        manager,
        async move {
            let _ = stopped.await;
        },
    ));

    let run = tokio::process::Command::new(&python)
        .arg(script())
        .args(["http", &url, KEY_A, KEY_B])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the MCP client finished within 120 s")
        .expect("run the Python MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the MCP client failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("http auto"), "{stdout}");
    assert!(stdout.contains("http legacy"), "{stdout}");
    assert!(stdout.contains("is 401"), "{stdout}");

    let _ = stop.send(());
    server.await.expect("server task").expect("server stopped");
}
