//! `rediss://`: the store over TLS, against a `redis-server` of its own with a self-signed certificate made by
//! `openssl` (so `tls_insecure=true`). Skipped when `redis-server` or `openssl` is missing, unless
//! `MEMLANE_REQUIRE_SERVICES=1`.
#![cfg(feature = "redis")]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use memlane::{ErrorKind, MemoryStoreExt, NewMemory, Scope};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(program: &str, arg: &str) -> bool {
    let found = Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("{program} is missing and MEMLANE_REQUIRE_SERVICES=1");
        }
        eprintln!("skipped: {program} is missing");
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test]
async fn rediss_works() {
    if !have("redis-server", "--version") || !have("openssl", "version") {
        return;
    }
    let dir = tempfile::tempdir().expect("a directory");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(made.success(), "openssl made no certificate");
    let port = free_port();
    let _server = Server(
        Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--tls-ca-cert-file")
            .arg(&cert)
            .args(["--tls-auth-clients", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server"),
    );
    let url = format!("rediss://127.0.0.1:{port}?tls_insecure=true&timeout_ms=1000");
    let start = Instant::now();
    let store = loop {
        match memlane::open(&url).await {
            Ok(s) => break s,
            Err(e) if start.elapsed() < Duration::from_secs(10) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("no TLS connection: {e}"),
        }
    };
    let m = store
        .add_one(NewMemory::new(Scope::tenant("tls"), "over TLS"))
        .await
        .expect("add over TLS");
    assert_eq!(store.get("tls", m.id).await.expect("get over TLS"), m);

    // Without TLS the same port does not answer as Redis.
    let plain = memlane::open(&format!("redis://127.0.0.1:{port}?timeout_ms=300")).await;
    assert!(plain.is_err(), "a plain connection to a TLS port fails");
}
