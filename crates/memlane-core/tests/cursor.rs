//! Cursors: the opaque string form round-trips; garbage is invalid input, never a panic.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use memlane_core::{Cursor, ErrorKind, Kind, NewMemory, Scope, Timestamp};
use proptest::prelude::*;

proptest! {
    #[test]
    fn encode_parse_round_trip(ms in any::<i64>(), id in any::<u128>()) {
        let c = Cursor { created_at: Timestamp::from_millis(ms), id: uuid::Uuid::from_u128(id) };
        let s = c.encode();
        prop_assert!(s.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'), "URL-safe: {}", s);
        prop_assert_eq!(s.parse::<Cursor>().ok(), Some(c));
        let json = serde_json::to_string(&c).expect("serialize");
        prop_assert_eq!(serde_json::from_str::<Cursor>(&json).ok(), Some(c));
    }

    #[test]
    fn garbage_is_invalid_input(s in "\\PC{0,80}") {
        match s.parse::<Cursor>() {
            Ok(c) => prop_assert_eq!(c.encode().parse::<Cursor>().ok(), Some(c)),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidInput),
        }
    }

    #[test]
    fn encoded_garbage_is_invalid_input(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
        let s = URL_SAFE_NO_PAD.encode(&raw);
        if let Err(e) = s.parse::<Cursor>() {
            prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
        }
    }
}

#[test]
fn known_garbage() {
    let id = "0191e3b0c1d27a3b8c4d5e6f708192a3";
    let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
    let bad = [
        String::new(),
        "garbage".into(),
        "!!!!".into(),
        enc(""),
        enc("1"),
        enc("1:"),
        enc("1:5"),
        enc("1:5:"),
        enc("1:x:0191e3b0c1d27a3b8c4d5e6f708192a3"),
        enc("1:1.5:0191e3b0c1d27a3b8c4d5e6f708192a3"),
        enc(&format!("2:5:{id}")),
        enc(&format!(":5:{id}")),
        enc(&format!("1:5:{id}x")),
        enc(&format!("1:99999999999999999999:{id}")),
        URL_SAFE_NO_PAD.encode([0xff, 0xfe, b':', b'1']),
        STANDARD.encode(format!("1:5:{id}")) + "==",
        format!("{} ", enc(&format!("1:5:{id}"))),
    ];
    for s in bad {
        let e = s.parse::<Cursor>().expect_err(&s);
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{s:?}");
        assert_eq!(
            e.to_string(),
            "invalid input: cursor: not a cursor returned by list"
        );
    }
    let ok = enc(&format!("1:-5:{id}"))
        .parse::<Cursor>()
        .expect("negative times are positions too");
    assert_eq!(ok.created_at.as_millis(), -5);
}

#[test]
fn precedes_is_newest_first() {
    let m = |ms: i64| {
        NewMemory::new(Scope::tenant("t"), "x")
            .kind(Kind::Fact)
            .into_memory(Timestamp::from_millis(ms))
    };
    let (a, b) = (m(10), m(20));
    let c = Cursor::after(&b);
    assert!(c.precedes(&a), "an older memory comes after the cursor");
    assert!(!c.precedes(&b), "the cursor's own memory does not");
    assert!(!Cursor::after(&a).precedes(&b), "a newer memory does not");
    let same_ms = m(20);
    let (lo, hi) = if same_ms.id < b.id {
        (same_ms, b)
    } else {
        (b, same_ms)
    };
    assert!(
        Cursor::after(&hi).precedes(&lo),
        "same time: the smaller id comes after"
    );
    assert!(!Cursor::after(&lo).precedes(&hi));
}
