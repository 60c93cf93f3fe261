//! `memlane reindex --model DIR`: a store whose vectors come from another model is re-embedded with the local
//! all-MiniLM-L6-v2 (fetched by scripts/fetch-model.sh), after which semantic search by meaning works through the
//! factory's embedder. Without the model the test is skipped (failing with `MEMLANE_REQUIRE_SERVICES=1`).

use std::process::Command;

use memlane::{AddOptions, Embedding, MemoryStore, NewMemory, Scope};

fn memlane(store: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_memlane"))
        .args(["--store", store, "--tenant", "t"])
        .args(args)
        .output()
        .expect("run memlane");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_switches_every_vector_to_the_new_model() {
    let model = memlane_embed::default_model_dir();
    if !model.join("model.safetensors").is_file() {
        if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!(
                "the model is not in {}: run scripts/fetch-model.sh",
                model.display()
            );
        }
        eprintln!("skipped: no model in {}", model.display());
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().display().to_string();
    {
        let store = memlane::open(&format!("{path}?embedder=none"))
            .await
            .expect("open");
        let texts = [
            "Alice drinks green tea every morning",
            "The deploy pipeline runs on ci-3",
            "Bob's dog is called Rex",
        ];
        let batch = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                NewMemory::new(Scope::tenant("t").with_user("alice"), *t).embedding(Embedding {
                    model: "old-model".into(),
                    vector: vec![i as f32, 1.0, 0.0],
                })
            })
            .collect();
        store
            .add(batch, AddOptions::default())
            .await
            .expect("add with the old model's vectors");
    }
    // Before: the factory's MiniLM embedder refuses a store of another model.
    let (code, _, err) = memlane(&path, &["search", "beverage", "--mode", "semantic"]);
    assert_ne!(code, 0, "{err}");

    let model = model.display().to_string();
    let (code, out, err) = memlane(&path, &["reindex", "--model", &model]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("re-indexed 3 memories with all-MiniLM-L6-v2"),
        "{out}"
    );
    let (code, out, err) = memlane(
        &path,
        &[
            "--json",
            "search",
            "what beverage does she like",
            "--mode",
            "semantic",
            "--user",
            "alice",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let hits: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        hits[0]["memory"]["content"],
        "Alice drinks green tea every morning"
    );
    assert_eq!(hits[0]["memory"]["embedding"]["model"], "all-MiniLM-L6-v2");
    // Again: nothing left to do, still consistent.
    let (code, out, _) = memlane(&path, &["reindex", "--model", &model]);
    assert_eq!(code, 0);
    assert!(out.contains("re-indexed 3 memories"), "{out}");
}
