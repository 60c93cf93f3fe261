//! `memlane serve` end to end: the real binary serves the embedded store over HTTP, answers a write and a read,
//! and exits 0 on SIGTERM after draining.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// One HTTP/1.1 request with `Connection: close`; returns the status and the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serve_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_memlane"))
        .args([
            "--store",
            dir.path().to_str().expect("utf-8"),
            "serve",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("MEMLANE_CONFIG")
        .env_remove("MEMLANE_API_KEYS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn memlane serve");

    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(http(port, "GET", "/health/ready", "").0, 200);
    let (status, body) = http(
        port,
        "POST",
        "/v1/memories",
        r#"{"memories":[{"scope":{"user":"alice"},"content":"Alice prefers dark mode"}]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let id = v["results"][0]["memory"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, body) = http(port, "GET", &format!("/v1/memories/{id}"), "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Alice prefers dark mode"));

    // SIGTERM: graceful shutdown, exit status 0.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(e) = child.stderr.take() {
        BufReader::new(e)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| {
                err.push_str(&l);
                err.push('\n');
            });
    }
    assert!(status.success(), "exit status {status:?}; stderr:\n{err}");

    // The write was durable: the CLI reads it from the same directory.
    let out = Command::new(env!("CARGO_BIN_EXE_memlane"))
        .args(["--store", dir.path().to_str().expect("utf-8"), "get", &id])
        .output()
        .expect("memlane get");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Alice prefers dark mode"));
}
