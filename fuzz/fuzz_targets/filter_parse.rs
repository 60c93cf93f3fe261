//! Fuzzes the filter parser: any input either fails with a typed error or parses into a filter that survives
//! its JSON form and evaluates without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memlane_core::{Filter, NewMemory, Scope, Timestamp};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(filter) = Filter::parse_str(text) else { return };
    let again = Filter::parse(&filter.to_json()).expect("a parsed filter must re-parse from its JSON form");
    assert_eq!(again, filter);
    let m = NewMemory::new(Scope::tenant("t").with_user("u"), "fuzz content")
        .meta("a", serde_json::json!({"b": [1, "x", true]}))
        .meta("n", 1.5)
        .into_memory(Timestamp::from_millis(1_700_000_000_000));
    let _ = filter.matches(&m);
});
