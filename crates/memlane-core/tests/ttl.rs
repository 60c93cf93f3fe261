//! `parse_ttl` and the TTL in JSON.

use std::time::Duration;

use memlane_core::{parse_ttl, ErrorKind, NewMemory, Update};
use proptest::prelude::*;

#[test]
fn parse_ttl_accepts() {
    let ok = [
        ("1ms", 1),
        ("500ms", 500),
        ("30s", 30_000),
        ("10m", 600_000),
        ("2h", 7_200_000),
        ("7d", 604_800_000),
        ("  5s ", 5_000),
        ("007s", 7_000),
    ];
    for (s, ms) in ok {
        assert_eq!(parse_ttl(s).expect(s), Duration::from_millis(ms), "{s:?}");
    }
}

#[test]
fn parse_ttl_refuses() {
    let bad = [
        "",
        "10",
        "s",
        "0s",
        "0ms",
        "-5s",
        "+5s",
        "1.5h",
        "5 s",
        "5S",
        "5sec",
        "5s5",
        "1h30m",
        "ms",
        "١٢s",
        "18446744073709551615d",
        "99999999999999999999s",
    ];
    for s in bad {
        let e = parse_ttl(s).expect_err(s);
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{s:?}");
        assert!(e.to_string().contains("ttl"), "{e}");
    }
}

proptest! {
    #[test]
    fn parse_ttl_never_panics(s in "\\PC{0,24}") {
        let _ = parse_ttl(&s);
    }

    #[test]
    fn parse_ttl_units(n in 1u64..1_000_000, unit in prop::sample::select(vec![("ms", 1u64), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)])) {
        prop_assert_eq!(parse_ttl(&format!("{n}{}", unit.0)).ok(), Some(Duration::from_millis(n * unit.1)));
    }
}

#[test]
fn ttl_in_json() {
    let m: NewMemory =
        serde_json::from_str(r#"{"scope": {"tenant": "t"}, "content": "x", "ttl": 30}"#)
            .expect("seconds");
    assert_eq!(m.ttl, Some(Duration::from_secs(30)));
    let m: NewMemory =
        serde_json::from_str(r#"{"scope": {"tenant": "t"}, "content": "x", "ttl": "10m"}"#)
            .expect("text");
    assert_eq!(m.ttl, Some(Duration::from_secs(600)));
    for bad in [
        r#""ttl": 0"#,
        r#""ttl": "0s""#,
        r#""ttl": "soon""#,
        r#""ttl": -1"#,
        r#""ttl": 1.5"#,
    ] {
        let text = format!(r#"{{"scope": {{"tenant": "t"}}, "content": "x", {bad}}}"#);
        assert!(serde_json::from_str::<NewMemory>(&text).is_err(), "{bad}");
    }
    let m = NewMemory::new(memlane_core::Scope::tenant("t"), "x").ttl(Duration::from_millis(1500));
    let json = serde_json::to_value(&m).expect("serialize");
    assert_eq!(json["ttl"], "1500ms");
    let back: NewMemory = serde_json::from_value(json).expect("deserialize");
    assert_eq!(back, m);
}

#[test]
fn update_expiry_in_json() {
    let clear: Update = serde_json::from_str(r#"{"expires_at": null}"#).expect("null clears");
    assert_eq!(clear.expires_at, Some(None));
    let keep: Update = serde_json::from_str(r#"{"content": "x"}"#).expect("absent keeps");
    assert_eq!(keep.expires_at, None);
    let set: Update =
        serde_json::from_str(r#"{"expires_at": "2030-01-01T00:00:00Z"}"#).expect("a time sets");
    assert!(matches!(set.expires_at, Some(Some(_))));
    for u in [clear, keep, set] {
        let back: Update =
            serde_json::from_value(serde_json::to_value(&u).expect("ser")).expect("de");
        assert_eq!(back, u, "Update round-trips, null and absent kept apart");
    }
}

/// A TTL so long that the expiry is past what RFC 3339 can write must be refused, not stored as a memory whose JSON
/// (`"expires_at": "@8641795615426517ms"`) no import can read.
#[test]
fn huge_ttl_is_refused_or_round_trips() {
    use memlane_core::{Limits, Memory, Scope, Timestamp};
    let ttl = parse_ttl("100000000d").expect("a valid duration");
    let m = NewMemory::new(Scope::tenant("t"), "x").ttl(ttl);
    let now = Timestamp::now();
    if Limits::default().check_new("m", &m, now).is_ok() {
        let mem = m.into_memory(now);
        let text = serde_json::to_string(&mem).expect("serialize");
        let back = serde_json::from_str::<Memory>(&text);
        assert!(back.is_ok(), "accepted, so its JSON must read back: {text}");
    }
}
