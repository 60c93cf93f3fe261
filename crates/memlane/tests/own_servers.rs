//! Servers of a test's own, for the fault tests that stop and start them (composite_faults.rs, postgres_faults.rs;
//! included with `#[path]`; compiled alone it has no tests): a `redis-server` and a PostgreSQL cluster, on free
//! loopback ports.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Whether the servers are missing: then the test is skipped (or fails with `MEMLANE_REQUIRE_SERVICES=1`).
pub fn skip(what: &str) -> bool {
    if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("{what} and MEMLANE_REQUIRE_SERVICES=1: run scripts/services/*.sh start");
    }
    let msg = format!("skipping: {what} (see scripts/services/)\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), msg.as_bytes());
    true
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A `redis-server` child process with an append-only file (fsync always) in its own directory, so what it
/// acknowledged survives a stop; killed when dropped.
pub struct Redis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Redis {
    /// Starts one, or `None` when `redis-server` is not installed.
    pub fn start() -> Option<Redis> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found && skip("redis-server is not installed") {
            return None;
        }
        let mut r = Redis {
            port: free_port(),
            dir: tempfile::tempdir().expect("tempdir"),
            child: None,
        };
        r.resume();
        Some(r)
    }

    /// Starts it again (same port, same data).
    pub fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(start.elapsed().as_secs() < 10, "redis-server did not start");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Kills it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Its URL with memlane options.
    pub fn url(&self, opts: &str) -> String {
        format!("redis://127.0.0.1:{}?{opts}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn pg_bin() -> Option<PathBuf> {
    if let Ok(b) = std::env::var("MEMLANE_TEST_POSTGRES_BIN") {
        return Some(PathBuf::from(b));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// A PostgreSQL cluster of its own (initdb in a temporary directory; the server's pgvector, when installed, is
/// available to it), stopped and removed when dropped. Run as the `postgres` user when the test runs as root.
pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    root: bool,
}

impl Cluster {
    /// Makes and starts one, or `None` when the server binaries are missing.
    pub fn start() -> Option<Cluster> {
        let Some(bin) = pg_bin() else {
            skip("no PostgreSQL server binaries (MEMLANE_TEST_POSTGRES_BIN)");
            return None;
        };
        let root = is_root();
        let dir = tempfile::tempdir().expect("tempdir");
        if root {
            let st = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(st.success(), "chown the cluster's directory to postgres");
        }
        let c = Cluster {
            bin,
            dir,
            port: free_port(),
            root,
        };
        let data = c.data();
        c.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
        );
        c.resume();
        Some(c)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Starts the server (again).
    pub fn resume(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=100",
            self.port,
            self.path().display()
        );
        let log = self.path().join("server.log").display().to_string();
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &opts, "start",
            ],
        );
    }

    /// Stops the server (fast shutdown: connections are cut).
    pub fn stop(&self) {
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }

    /// Its URL with memlane options.
    pub fn url(&self, opts: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?{opts}",
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = cmd.args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}
