//! The ID number check against valid and corrupted numbers: every valid number parses, and
//! any single character changed to another is caught.

use jiaohao_core::identity::{IdNumber, check_character};
use proptest::prelude::*;

/// A valid number: a real province, a birth date that exists, any sequence, its check.
fn valid_number() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![11u8, 31, 44, 51, 65, 81, 83]),
        0u32..10_000,
        1900i32..2026,
        1u8..=12,
        1u8..=28,
        0u32..1000,
    )
        .prop_map(|(province, county, year, month, day, seq)| {
            let first17 = format!("{province:02}{county:04}{year:04}{month:02}{day:02}{seq:03}");
            let check = char::from(check_character(first17.as_bytes()));
            format!("{first17}{check}")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn valid_numbers_parse_and_mask(number in valid_number()) {
        let parsed = IdNumber::parse(&number).unwrap();
        prop_assert_eq!(parsed.as_str(), number.as_str());
        let masked = parsed.masked();
        prop_assert_eq!(&masked[..4], &number[..4]);
        prop_assert_eq!(&masked[14..], &number[14..]);
        prop_assert_eq!(&masked[4..14], "**********");
    }

    #[test]
    fn any_single_character_corruption_is_detected(
        number in valid_number(),
        position in 0usize..18,
        replacement in prop::sample::select(b"0123456789X".to_vec()),
    ) {
        let mut bytes = number.into_bytes();
        prop_assume!(bytes[position] != replacement);
        bytes[position] = replacement;
        let corrupted = String::from_utf8(bytes).unwrap();
        prop_assert!(IdNumber::parse(&corrupted).is_err(), "{corrupted} passed");
    }
}
