//! Writes the MiniLM vectors of every turn and question of a LoCoMo directory as JSON, for offline analysis of
//! ranking methods: `cargo run --release -p memlane-eval --example dump_vectors -- DIR OUT.json`.

use memlane::Embedder;
use memlane_embed::MiniLm;
use memlane_eval::locomo;
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: dump_vectors DIR OUT.json".into());
    };
    let model = MiniLm::load_default()?;
    let mut convs = Vec::new();
    for f in locomo::files(std::path::Path::new(dir))? {
        let c = locomo::load(&f)?;
        let texts: Vec<String> = c.turns.iter().map(|t| t.content()).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let tv = model.embed(&refs)?;
        let qs: Vec<&str> = c.questions.iter().map(|q| q.text.as_str()).collect();
        let qv = model.embed(&qs)?;
        convs.push(json!({"name": c.name, "turns": tv, "questions": qv}));
    }
    std::fs::write(out, serde_json::to_string(&convs)?)?;
    Ok(())
}
