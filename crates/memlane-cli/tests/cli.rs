//! The `memlane` binary, run for real against an embedded store in a temporary directory.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use memlane::{Memory, Page, Scored};
use serde_json::Value;

/// A store in a fresh temporary directory.
struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    fn new() -> Self {
        Store {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `memlane --store DIR ARGS...`, with no stdin.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let mut cmd = memlane();
        cmd.arg("--store").arg(self.path()).args(args);
        run(cmd, stdin)
    }

    /// Runs, expecting success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        r.assert_code(0);
        r.stdout
    }

    /// Runs with `--json`, expecting success; returns the parsed stdout.
    fn json<T: serde::de::DeserializeOwned>(&self, args: &[&str]) -> T {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"))
    }

    /// Adds a memory; returns it.
    fn add(&self, args: &[&str]) -> Memory {
        let mut all = vec!["add"];
        all.extend_from_slice(args);
        self.json(&all)
    }
}

/// The binary, with the environment variables it reads cleared.
fn memlane() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_memlane"));
    cmd.env_remove("MEMLANE_STORE").env_remove("MEMLANE_TENANT");
    cmd
}

fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the binary starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("stdin written");
    }
    let out: Output = child.wait_with_output().expect("the binary ends");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What a run did.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "exit code; {self:#?}");
        self
    }

    /// A failure: the code, an `error:` line on stderr containing every one of `needles`, nothing on stdout.
    fn assert_error(&self, code: i32, needles: &[&str]) -> &Self {
        self.assert_code(code);
        assert!(self.stderr.starts_with("error: "), "{self:#?}");
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks {n:?}: {self:#?}");
        }
        assert!(self.stdout.is_empty(), "{self:#?}");
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        self
    }
}

#[test]
fn add_get_list_search_update_delete_count() {
    let s = Store::new();

    // add, human form
    let out = s.ok(&[
        "add",
        "Alice prefers dark mode in her editor",
        "--user",
        "alice",
        "--kind",
        "fact",
        "--meta",
        r#"{"source":"chat","confidence":0.9}"#,
    ]);
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .map(str::trim)
        .expect("an id line")
        .to_owned();
    assert!(out.contains("kind:     fact"), "{out}");
    assert!(out.contains("tenant=default user=alice"), "{out}");
    assert!(out.contains("content:  Alice prefers dark mode"), "{out}");
    assert!(out.contains("expires:  never"), "{out}");
    assert!(!out.contains("(existing)"), "{out}");

    let bob = s.add(&[
        "Bob drinks coffee every morning",
        "--user",
        "bob",
        "--kind",
        "episode",
        "--ttl",
        "2h",
    ]);
    assert!(bob.expires_at.is_some());
    assert_eq!(bob.version, 1);

    // get
    let got: Memory = s.json(&["get", &id]);
    assert_eq!(got.id.to_string(), id);
    assert_eq!(got.metadata["source"], "chat");
    let human = s.ok(&["get", &id]);
    assert!(human.contains(&id), "{human}");

    // list: JSON shape, human form, scope and filter
    let page: Value = s.json(&["list"]);
    assert_eq!(page["memories"].as_array().map(Vec::len), Some(2));
    assert!(page["next"].is_null(), "{page}");
    let page: Page = serde_json::from_value(page).expect("a Page");
    assert_eq!(page.memories[0].id, bob.id, "newest first");
    let human = s.ok(&["list"]);
    assert_eq!(human.lines().count(), 2, "{human}");
    assert!(human.lines().any(|l| l.starts_with(&id)), "{human}");
    let alice: Page = s.json(&["list", "--user", "alice"]);
    assert_eq!(alice.memories.len(), 1);
    let episodes: Page = s.json(&["list", "--filter", r#"{"field":"kind","eq":"episode"}"#]);
    assert_eq!(episodes.memories.len(), 1);
    assert_eq!(episodes.memories[0].id, bob.id);

    // search
    let hits: Value = s.json(&["search", "dark mode"]);
    let first = &hits.as_array().expect("an array")[0];
    assert!(first["score"].is_number(), "{hits}");
    assert_eq!(first["memory"]["id"], Value::String(id.clone()));
    let hits: Vec<Scored> = s.json(&["search", "coffee", "--user", "alice"]);
    assert!(hits.is_empty(), "alice's scope has no coffee: {hits:?}");
    let human = s.ok(&["search", "coffee"]);
    assert!(human.contains("Bob drinks coffee"), "{human}");

    // update, with optimistic concurrency
    let updated: Memory = s.json(&[
        "update",
        &id,
        "--content",
        "Alice prefers light mode now",
        "--expected-version",
        "1",
    ]);
    assert_eq!(updated.version, 2);
    assert_eq!(updated.content, "Alice prefers light mode now");
    assert_eq!(updated.metadata["source"], "chat", "metadata kept");
    s.run(&[
        "update",
        &id,
        "--content",
        "stale",
        "--expected-version",
        "1",
    ])
    .assert_error(4, &["conflict", "--expected-version 2"]);
    let after: Memory = s.json(&["get", &id]);
    assert_eq!(after.content, "Alice prefers light mode now");
    let updated: Memory = s.json(&["update", &id, "--ttl", "1h", "--meta", r#"{"x":1}"#]);
    assert!(updated.expires_at.is_some());
    assert_eq!(updated.metadata.len(), 1);
    let updated: Memory = s.json(&["update", &id, "--no-expiry"]);
    assert!(updated.expires_at.is_none());

    // count, delete
    assert_eq!(s.ok(&["count"]).trim(), "2");
    let n: Value = s.json(&["count", "--user", "bob"]);
    assert_eq!(n["count"], 1);
    let out = s.ok(&["delete", &id]);
    assert!(out.contains(&id), "{out}");
    s.run(&["get", &id]).assert_error(3, &["not found"]);
    s.run(&["delete", &id]).assert_error(3, &["not found"]);
    assert_eq!(s.ok(&["count"]).trim(), "1");
}

#[test]
fn dedup_ids_and_stdin_content() {
    let s = Store::new();
    let a = s.add(&["Remember the milk", "--user", "u"]);
    let out = s.ok(&["add", "Remember the milk", "--user", "u"]);
    assert!(out.contains(&format!("{} (existing)", a.id)), "{out}");
    let b = s.add(&["Remember the milk", "--user", "u", "--no-dedup"]);
    assert_ne!(a.id, b.id);

    // a caller-chosen id is idempotent; other content under it is a conflict
    let id = "0190a000-0000-7000-8000-000000000001";
    let c = s.add(&["With my own id", "--id", id]);
    assert_eq!(c.id.to_string(), id);
    let out = s.ok(&["add", "With my own id", "--id", id]);
    assert!(out.contains("(existing)"), "{out}");
    s.run(&["add", "Other content", "--id", id])
        .assert_error(4, &["conflict"]);

    let r = s.run_with_stdin(&["--json", "add", "-"], Some(b"from stdin\n"));
    r.assert_code(0);
    let m: Memory = serde_json::from_str(&r.stdout).expect("a Memory");
    assert_eq!(m.content, "from stdin");
}

#[test]
fn pages_follow_the_cursor() {
    let s = Store::new();
    for i in 0..5 {
        s.add(&[&format!("memory number {i}")]);
    }
    let first: Page = s.json(&["list", "--limit", "2"]);
    assert_eq!(first.memories.len(), 2);
    let cursor = first.next.expect("a next cursor").encode();
    let human = s.ok(&["list", "--limit", "2"]);
    assert!(human.contains(&format!("next: {cursor}")), "{human}");
    let second: Page = s.json(&["list", "--limit", "2", "--cursor", &cursor]);
    assert_eq!(second.memories.len(), 2);
    let third: Page = s.json(&[
        "list",
        "--limit",
        "2",
        "--cursor",
        &second.next.expect("more").encode(),
    ]);
    assert_eq!(third.memories.len(), 1);
    assert!(third.next.is_none());
    let mut ids: Vec<_> = [first.memories, second.memories, third.memories]
        .concat()
        .into_iter()
        .map(|m| m.id)
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 5);
}

#[test]
fn export_then_import_into_another_tenant() {
    let s = Store::new();
    s.add(&[
        "--tenant",
        "a",
        "one",
        "--user",
        "alice",
        "--meta",
        r#"{"k":"v"}"#,
    ]);
    s.add(&[
        "--tenant",
        "a",
        "two",
        "--agent",
        "bot",
        "--ttl",
        "7d",
        "--kind",
        "procedure",
    ]);
    s.add(&[
        "--tenant",
        "a",
        "three",
        "--session",
        "s1",
        "--kind",
        "message",
    ]);
    s.add(&["--tenant", "other", "not exported"]);

    let export = s.run(&["--tenant", "a", "export"]);
    export.assert_code(0);
    assert!(export.stderr.contains("exported 3 memories"), "{export:#?}");
    let lines: Vec<&str> = export.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "a header and 3 memories: {}", export.stdout);
    let header: Value = serde_json::from_str(lines[0]).expect("a JSON header");
    assert_eq!(header["format"], "memlane-export");

    let r = s.run_with_stdin(&["--tenant", "b", "import"], Some(export.stdout.as_bytes()));
    r.assert_code(0);
    assert!(
        r.stdout.contains("3 created, 0 existing, 0 skipped"),
        "{r:#?}"
    );

    let a: Page = s.json(&["--tenant", "a", "list"]);
    let b: Page = s.json(&["--tenant", "b", "list"]);
    assert_eq!(a.memories.len(), 3);
    let moved: Vec<Memory> = a
        .memories
        .into_iter()
        .map(|mut m| {
            m.scope.tenant = "b".into();
            m
        })
        .collect();
    assert_eq!(b.memories, moved, "every field reproduced");

    let r = s.run_with_stdin(
        &["--tenant", "b", "--json", "import"],
        Some(export.stdout.as_bytes()),
    );
    r.assert_code(0);
    let report: Value = serde_json::from_str(&r.stdout).expect("a JSON report");
    assert_eq!(report["created"], 0);
    assert_eq!(report["existing"], 3);
    assert_eq!(s.ok(&["--tenant", "b", "count"]).trim(), "3");

    // to and from a file; a scoped export; bad lines skipped or refused
    let file = s.path().join("alice.jsonl");
    let file = file.to_str().expect("a UTF-8 path");
    s.ok(&[
        "--tenant", "a", "export", "--user", "alice", "--output", file,
    ]);
    let out = s.ok(&["--tenant", "c", "import", file]);
    assert!(out.contains("1 created"), "{out}");
    let broken = format!("{}\nnot json\n{}\n", lines[0], lines[1]);
    s.run_with_stdin(&["--tenant", "d", "import"], Some(broken.as_bytes()))
        .assert_error(2, &["line 2"]);
    let r = s.run_with_stdin(
        &["--tenant", "d", "import", "--skip-invalid"],
        Some(broken.as_bytes()),
    );
    r.assert_code(0);
    assert!(r.stdout.contains("1 skipped"), "{r:#?}");
    assert!(r.stdout.contains("skipped line 2"), "{r:#?}");
    s.run_with_stdin(&["--tenant", "d", "import"], Some(b"{}\n"))
        .assert_error(2, &["line 1"]);
}

#[test]
fn bad_input_is_refused_with_the_field_named() {
    let s = Store::new();
    let m = s.add(&["something"]);
    let id = m.id.to_string();
    s.run(&["add", "x", "--meta", "{not json"])
        .assert_error(2, &["--meta", "JSON"]);
    s.run(&["add", "x", "--meta", "[1,2]"])
        .assert_error(2, &["--meta", "object"]);
    s.run(&["list", "--filter", "{"])
        .assert_error(2, &["--filter", "JSON"]);
    s.run(&["count", "--filter", r#"{"field":"kind","like":"fact"}"#])
        .assert_error(2, &["--filter", "like"]);
    s.run(&[
        "search",
        "x",
        "--filter",
        r#"{"and":[{"field":"nope","eq":1}]}"#,
    ])
    .assert_error(2, &["--filter", "filter/and/0"]);
    s.run(&["get", "not-a-uuid"])
        .assert_error(2, &["<ID>", "UUID"]);
    s.run(&["add", "x", "--id", "123"])
        .assert_error(2, &["--id"]);
    s.run(&["list", "--limit", "0"])
        .assert_error(2, &["--limit"]);
    s.run(&["search", "x", "--limit", "0"])
        .assert_error(2, &["--limit"]);
    s.run(&["list", "--limit", "100000"])
        .assert_error(2, &["limit"]);
    s.run(&["list", "--cursor", "garbage"])
        .assert_error(2, &["--cursor"]);
    s.run(&["add", "x", "--ttl", "5x"])
        .assert_error(2, &["--ttl"]);
    s.run(&["update", &id, "--ttl", "0s"])
        .assert_error(2, &["--ttl"]);
    s.run(&["add", ""]).assert_error(2, &["content"]);
    s.run(&["add", "   "]).assert_error(2, &["content"]);
    s.run(&["add", "x", "--kind", "thought"])
        .assert_error(2, &["--kind"]);
    s.run(&["search", "x", "--mode", "fuzzy"])
        .assert_error(2, &["--mode"]);
    s.run(&["search", "x", "--min-score", "2"])
        .assert_error(2, &["--min-score"]);
    s.run(&["search", "   "]).assert_error(2, &["text"]);
    s.run(&["update", &id])
        .assert_error(2, &["nothing to change", "--content"]);
    s.run(&["update", &id, "--content", ""])
        .assert_error(2, &["content"]);
    s.run(&["update", &id, "--ttl", "1h", "--no-expiry"])
        .assert_error(2, &["--no-expiry"]);
    s.run(&["add", "x", "--user", ""])
        .assert_error(2, &["user"]);
    s.run(&["--tenant", "", "count"])
        .assert_error(2, &["tenant"]);
    s.run(&["frobnicate"]).assert_error(2, &["frobnicate"]);

    let r = run(
        {
            let mut c = memlane();
            c.args(["--store", "foo://x", "list"]);
            c
        },
        None,
    );
    r.assert_error(2, &["store", "foo", "available", "embedded"]);

    // nothing was stored by any of that
    assert_eq!(s.ok(&["count"]).trim(), "1");
}

#[test]
fn forget_refuses_a_whole_tenant_without_all() {
    let s = Store::new();
    s.add(&["a", "--user", "alice"]);
    s.add(&["b", "--user", "alice", "--session", "s1"]);
    s.add(&["c", "--user", "bob"]);
    s.run(&["forget"]).assert_error(2, &["--all", "--user"]);
    s.run(&["forget", "--all", "--user", "bob"]).assert_code(2);
    assert_eq!(s.ok(&["count"]).trim(), "3");

    let out = s.ok(&["forget", "--user", "alice", "--session", "s1"]);
    assert!(out.contains("forgot 1 memory"), "{out}");
    let n: Value = s.json(&["forget", "--user", "alice"]);
    assert_eq!(n["forgotten"], 1);
    assert_eq!(s.ok(&["count"]).trim(), "1");
    let out = s.ok(&["forget", "--all"]);
    assert!(out.contains("forgot 1 memory"), "{out}");
    assert_eq!(s.ok(&["count"]).trim(), "0");
}

#[test]
fn tenants_are_isolated_and_env_vars_are_read() {
    let s = Store::new();
    let m = s.add(&["--tenant", "acme", "acme's secret"]);
    s.run(&["--tenant", "other", "get", &m.id.to_string()])
        .assert_error(3, &["not found"]);
    assert_eq!(s.ok(&["--tenant", "other", "count"]).trim(), "0");

    let mut cmd = memlane();
    cmd.env("MEMLANE_STORE", s.path())
        .env("MEMLANE_TENANT", "acme")
        .args(["count"]);
    let r = run(cmd, None);
    r.assert_code(0);
    assert_eq!(r.stdout.trim(), "1");

    // global flags may follow the command
    let out = s.ok(&["count", "--tenant", "acme", "--json"]);
    assert!(out.contains("\"count\": 1"), "{out}");
}

#[test]
fn help_and_version_succeed() {
    let r = run(
        {
            let mut c = memlane();
            c.arg("--help");
            c
        },
        None,
    );
    r.assert_code(0);
    for cmd in [
        "add", "get", "list", "search", "update", "delete", "forget", "count", "export", "import",
    ] {
        assert!(r.stdout.contains(cmd), "help lacks {cmd}: {}", r.stdout);
    }
    assert!(r.stdout.contains("MEMLANE_STORE"), "{}", r.stdout);
    let r = run(
        {
            let mut c = memlane();
            c.arg("--version");
            c
        },
        None,
    );
    r.assert_code(0);
    assert!(r.stdout.starts_with("memlane "), "{}", r.stdout);
}
