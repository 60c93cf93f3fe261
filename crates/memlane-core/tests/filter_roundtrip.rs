//! A filter survives its JSON form: `Filter::parse(&f.to_json()) == f`, through values and through text.

mod common;

use memlane_core::Filter;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Every valid filter, with any finite numbers, round-trips through its JSON value.
    #[test]
    fn value_round_trip(f in common::filter(false)) {
        let json = f.to_json();
        let back = Filter::parse(&json);
        prop_assert!(back.is_ok(), "{json} does not parse back: {:?}", back.err());
        prop_assert_eq!(back.ok(), Some(f));
    }

    /// Through JSON text too (with numbers whose decimal form is exact), and through serde.
    #[test]
    fn text_round_trip(f in common::filter(true)) {
        let text = serde_json::to_string(&f).expect("a filter serializes");
        let back: Filter = serde_json::from_str(&text).expect("and deserializes");
        prop_assert_eq!(&back, &f);
        prop_assert_eq!(Filter::parse_str(&text).ok(), Some(f));
    }

    /// The JSON form is canonical: serializing a parsed filter again gives the same JSON.
    #[test]
    fn json_form_is_canonical(f in common::filter(false)) {
        let json = f.to_json();
        let again = Filter::parse(&json).map(|g| g.to_json()).ok();
        prop_assert_eq!(again, Some(json));
    }
}
