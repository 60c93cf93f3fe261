//! The conformance suite against the in-process store.
memlane::conformance_tests!(|| async {
    memlane::open("memory://?embedder=none")
        .await
        .expect("open memory://")
});
