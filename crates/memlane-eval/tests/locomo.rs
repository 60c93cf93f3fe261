//! The LoCoMo run end to end on a small conversation in the same format, with a deterministic toy embedder.

use std::sync::Arc;

use memlane::SearchMode;
use memlane_embed::testing::HashEmbedder;
use memlane_eval::{locomo, metrics, run};
use serde_json::json;

#[tokio::test]
async fn runs_on_any_directory_of_conversations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conv = json!({
        "speaker_a": "Ann", "speaker_b": "Bo",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ann", "dia_id": "D1:1", "text": "Where did you go camping?"},
            {"speaker": "Bo", "dia_id": "D1:2", "text": "By the lake, last weekend!"},
            {"speaker": "Ann", "dia_id": "D1:3", "text": "Thanks!"},
            {"speaker": "Bo", "dia_id": "D1:4", "text": "Thanks!"}
        ],
        "session_2_date_time": "10:37 am on 27 June, 2023",
        "session_2": [
            {"speaker": "Ann", "dia_id": "D2:1", "text": "I adopted a dog", "blip_caption": "a photo of a puppy"},
            {"speaker": "Bo", "dia_id": "D2:2", "text": "What is its name?"}
        ],
        "session_1_summary": "Bo camped by the lake (never loaded).",
        "qa": [
            {"question": "Where did Bo go camping?", "answer": "lake", "evidence": ["D1:1; D1:2"], "category": 4},
            {"question": "What pet did Ann adopt in June 2023?", "answer": "dog", "evidence": ["D2:1"], "category": 2},
            {"question": "Unanswerable", "evidence": ["D1:3"], "category": 5}
        ]
    });
    std::fs::write(dir.path().join("conv-x.json"), conv.to_string()).expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a conversation").expect("write");
    let convs: Vec<_> = locomo::files(dir.path())
        .expect("files")
        .iter()
        .map(|f| locomo::load(f).expect("load"))
        .collect();
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].turns.len(), 6);
    assert_eq!((convs[0].questions.len(), convs[0].skipped), (2, 1));
    let loaded = run::load(&convs, Arc::new(HashEmbedder::new(32)))
        .await
        .expect("load");
    for mode in [
        SearchMode::Keyword,
        SearchMode::Semantic,
        SearchMode::Hybrid,
    ] {
        let r = loaded.run(&convs, mode).await.expect("run");
        assert_eq!(r.outcomes.len(), 2);
        assert_eq!(r.latencies.len(), 2);
    }
    let kw = loaded.run(&convs, SearchMode::Keyword).await.expect("run");
    let (all, cats) = metrics::by_category(&kw.outcomes);
    assert!((all.r10 - 1.0).abs() < 1e-9, "{all:?}");
    assert_eq!(cats.len(), 2);
}
