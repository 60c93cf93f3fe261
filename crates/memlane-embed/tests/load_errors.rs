//! Loading fails with typed errors that say what to do.

use memlane_core::ErrorKind;
use memlane_embed::{MiniLm, FETCH_COMMAND};

#[test]
fn missing_model_names_the_fetch_command() {
    let dir = std::env::temp_dir().join(format!("memlane-embed-missing-{}", std::process::id()));
    let err = MiniLm::load(&dir).expect_err("no model there");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.to_string().contains(FETCH_COMMAND), "{err}");
    assert!(err.to_string().contains("scripts/fetch-model.sh"), "{err}");

    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("config.json"), "{}").expect("write");
    let err = MiniLm::load(&dir).expect_err("incomplete model");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(
        err.to_string().contains("tokenizer.json is missing"),
        "{err}"
    );

    std::fs::write(dir.join("tokenizer.json"), "{}").expect("write");
    std::fs::write(dir.join("model.safetensors"), "not a model").expect("write");
    let err = MiniLm::load(&dir).expect_err("wrong checksum");
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(err.to_string().contains("sha256"), "{err}");
    assert!(err.to_string().contains(FETCH_COMMAND), "{err}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_stale_verification_marker_does_not_skip_the_checksum() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.json"), "{}").expect("write");
    std::fs::write(dir.path().join("tokenizer.json"), "{}").expect("write");
    std::fs::write(dir.path().join("model.safetensors"), "not a model").expect("write");
    // A marker left by another file (other size and time) must not vouch for this one.
    std::fs::write(
        dir.path().join(".memlane-verified"),
        format!("91000000 1 {}", memlane_embed::MODEL_SHA256),
    )
    .expect("write");
    let err = MiniLm::load(dir.path()).expect_err("wrong checksum");
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(err.to_string().contains("sha256"), "{err}");
}
