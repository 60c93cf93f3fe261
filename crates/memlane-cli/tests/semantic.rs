//! Semantic and hybrid search from the command line with the real local model (fetched by scripts/fetch-model.sh),
//! and `memlane embed`.

use std::process::Command;

fn memlane(store: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_memlane"))
        .args(["--store", store])
        .args(args)
        .output()
        .expect("run memlane");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn semantic_and_hybrid_search_find_by_meaning() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `embedder=minilm` insists on the model: a missing model fails here with the fetch command.
    let store = format!("{}?embedder=minilm", dir.path().display());
    for text in [
        "Alice drinks green tea every morning",
        "The deploy pipeline runs on ci-3",
        "Bob's dog is called Rex",
    ] {
        let (ok, _, err) = memlane(&store, &["add", text, "--user", "alice"]);
        assert!(ok, "add failed: {err}");
    }
    for mode in ["semantic", "hybrid"] {
        let (ok, out, err) = memlane(
            &store,
            &[
                "--json",
                "search",
                "what beverage does she like",
                "--mode",
                mode,
                "--user",
                "alice",
            ],
        );
        assert!(ok, "{mode} search failed: {err}");
        let hits: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(
            hits[0]["memory"]["content"], "Alice drinks green tea every morning",
            "{mode}: {out}"
        );
        let top = hits[0]["score"].as_f64().expect("score");
        assert!(top > 0.0 && top <= 1.0, "{mode} score {top}");
        assert_eq!(hits[0]["memory"]["embedding"]["model"], "all-MiniLM-L6-v2");
    }
}

#[test]
fn embed_prints_normalized_vectors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, out, err) = memlane(
        dir.path().to_str().expect("utf-8"),
        &["--json", "embed", "hello", "world"],
    );
    assert!(ok, "embed failed: {err}");
    let v: Vec<Vec<f32>> = serde_json::from_str(&out).expect("json");
    assert_eq!(v.len(), 2);
    for x in &v {
        assert_eq!(x.len(), 384);
        let norm: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "norm {norm}");
    }
}

#[test]
fn model_fetch_leaves_a_verified_model_in_place() {
    // CI fetched the model already: fetching into the same directory verifies it and downloads nothing.
    let dir = memlane_embed::default_model_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_memlane"))
        .args(["--json", "model", "fetch", "--dir"])
        .arg(&dir)
        .output()
        .expect("run memlane");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(printed["model_dir"], dir.display().to_string());
    let model = memlane_embed::MiniLm::load(&dir).expect("the model loads after fetch");
    assert_eq!(memlane::Embedder::dimension(&model), 384);
}
