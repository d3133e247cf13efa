//! Tables of inputs and the outputs of redis-server 7.0.15 (Debian), collected with
//! redis-cli against a local server.

use super::*;
use crate::engine::Error;

#[test]
fn parse_i64_follows_string2ll() {
    let accepted: &[(&[u8], i64)] = &[
        (b"0", 0),
        (b"1", 1),
        (b"-1", -1),
        (b"9223372036854775807", i64::MAX),
        (b"-9223372036854775808", i64::MIN),
        (b"12345678901234567", 12345678901234567),
    ];
    for &(text, value) in accepted {
        assert_eq!(parse_i64(text), Some(value), "{}", text.escape_ascii());
    }
    let refused: &[&[u8]] = &[
        b"",
        b"-",
        b"+1",
        b"-0",
        b"01",
        b"00",
        b" 1",
        b"1 ",
        b"1a",
        b"1.0",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"18446744073709551616",
        b"-00000000000000000001",
        b"123456789012345678901",
        b"1\0",
    ];
    for &text in refused {
        assert_eq!(parse_i64(text), None, "{}", text.escape_ascii());
    }
}

#[test]
fn parse_f64_follows_string2d() {
    // ZADD z <text> m; ZSCORE z m on redis-server 7.0.15.
    let accepted: &[(&[u8], f64)] = &[
        (b"1", 1.0),
        (b"0.1", 0.1),
        (b"0x10", 16.0),
        (b"0x1p3", 8.0),
        (b"inf", f64::INFINITY),
        (b"+inf", f64::INFINITY),
        (b"-inf", f64::NEG_INFINITY),
        (b"infinity", f64::INFINITY),
        (b"-Infinity", f64::NEG_INFINITY),
        (b"INF", f64::INFINITY),
        (b"1.5e3", 1500.0),
        (b"+1", 1.0),
        (b".5", 0.5),
        (b"5.", 5.0),
        (b"1e5", 100000.0),
        (b"1e-310", 1e-310),
        (b"123456789012345678", 123456789012345678.0),
        (b"9007199254740993", 9007199254740992.0),
    ];
    for &(text, value) in accepted {
        assert_eq!(parse_f64(text), Some(value), "{}", text.escape_ascii());
    }
    assert!(parse_f64(b"-0").unwrap().is_sign_negative());
    let refused: &[&[u8]] = &[
        b"nan", b"NaN", b" 1", b"\t1", b"1 ", b"", b"1e400", b"-1e400", b"1e-400", b"1_0", b"1\0",
    ];
    for &text in refused {
        assert_eq!(parse_f64(text), None, "{}", text.escape_ascii());
    }
}

#[test]
fn parse_f64_prefix_follows_zsl_parse_range() {
    // ZRANGEBYSCORE accepts what a bare strtod reads to the end of the C string.
    assert_eq!(parse_f64_prefix(b""), Some(0.0));
    assert_eq!(parse_f64_prefix(b" 1"), Some(1.0));
    assert_eq!(parse_f64_prefix(b"1e400"), Some(f64::INFINITY));
    assert_eq!(parse_f64_prefix(b"0x1"), Some(1.0));
    assert_eq!(parse_f64_prefix(b"2\0garbage"), Some(2.0));
    assert_eq!(parse_f64_prefix(b"1abc"), None);
    assert_eq!(parse_f64_prefix(b"nan"), None);
    assert_eq!(parse_f64_prefix(b"1 "), None);
}

/// ZADD z <value> m; ZSCORE z m on redis-server 7.0.15 (skiplist-encoded for `-0`).
#[test]
fn format_f64_matches_redis_replies() {
    let table: &[(f64, &str)] = &[
        (1.0, "1"),
        (0.1, "0.10000000000000001"),
        (16.0, "16"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (1e-310, "9.9999999999999694e-311"),
        (1500.0, "1500"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (4503599627370495.5, "4503599627370495.5"),
        (3.0000000000000004, "3.0000000000000004"),
        (-0.0, "-0"),
        (0.0, "0"),
        (-2.5, "-2.5"),
        (1e16, "10000000000000000"),
        (1e17, "1e+17"),
        (0.0001, "0.0001"),
        (0.00001, "1.0000000000000001e-05"),
        (f64::MAX, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"),
    ];
    for &(value, text) in table {
        assert_eq!(format_f64(value), text, "{value:?}");
        assert_eq!(format_f64(value), ffi::format_g17(value), "{value:?}");
    }
}

#[test]
fn format_f64_agrees_with_snprintf() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let check = |value: f64| {
        if value.is_finite() {
            assert_eq!(format_f64(value), ffi::format_g17(value), "{value:e}");
        }
    };
    for _ in 0..200_000 {
        check(f64::from_bits(rng.random()));
        check(rng.random_range(-1e6..1e6));
        check(f64::from(rng.random_range(-100_000i32..100_000)) / 100.0);
    }
    // Exact ties at the 18th significant digit: 2^-25 = 2.98023223876953125e-8.
    for k in 1..2000u32 {
        check(f64::from(k) * 2f64.powi(-25));
        check(f64::from(k) * 2f64.powi(-60));
    }
    for power in -330..310 {
        check(10f64.powi(power));
        check(-(10f64.powi(power)) * 3.0);
    }
}

#[test]
fn write_i64_prints_decimal() {
    let mut out = Vec::new();
    write_i64(&mut out, i64::MIN);
    out.push(b' ');
    write_i64(&mut out, 0);
    assert_eq!(out, b"-9223372036854775808 0");
}

/// INCRBYFLOAT k <increment> after SET k <current> ("" = key missing, passed as "0"), on
/// redis-server 7.0.15.
const INCR_BY_FLOAT_TABLE: &[(&str, &str, Result<&str, Error>)] = &[
    ("10.5", "0.1", Ok("10.6")),
    ("0", "0.1", Ok("0.1")),
    ("3.0e3", "200", Ok("3200")),
    ("5.0e3", "2.0e2", Ok("5200")),
    ("1", "-1", Ok("0")),
    ("-1", "1", Ok("0")),
    ("0.1", "0.2", Ok("0.3")),
    ("1.1", "2.2", Ok("3.3")),
    ("0", "1e-20", Ok("0")),
    ("0", "-0", Ok("0")),
    ("-0", "0", Ok("0")),
    ("0", "1.0", Ok("1")),
    ("0", "3", Ok("3")),
    ("0", "0x10", Ok("16")),
    ("0", "123456789012345678901234567890", Ok("123456789012345678899921813504")),
    ("0", "0.3333333333333333333333", Ok("0.33333333333333333")),
    ("0", "-5.0000000000000000001", Ok("-5")),
    ("0", "-1e-10", Ok("-0.0000000001")),
    ("abc", "1", Err(Error::NotFloat)),
    ("1", "abc", Err(Error::NotFloat)),
    ("1", "nan", Err(Error::NotFloat)),
    ("1", "inf", Err(Error::NanOrInfinity)),
    ("1", "1e5000", Err(Error::NotFloat)),
    ("0", "1e-5000", Err(Error::NotFloat)),
    ("1", " 1", Err(Error::NotFloat)),
    ("1", "1 ", Err(Error::NotFloat)),
    ("", "1", Err(Error::NotFloat)),
    ("1", "", Err(Error::NotFloat)),
];

#[test]
fn incr_by_float_matches_redis() {
    for &(current, increment, expected) in INCR_BY_FLOAT_TABLE {
        let result = incr_by_float(current.as_bytes(), increment.as_bytes());
        let result = result.map(|bytes| String::from_utf8(bytes.to_vec()).unwrap());
        assert_eq!(result.as_deref().map_err(|e| *e), expected, "{current:?} + {increment:?}");
    }
}

#[test]
fn incr_by_float_prints_hundreds_of_digits() {
    let expected = concat!(
        "-999999999999999999966858796558456456605600998474155672077970479949217348688380618721",
        "00126921888539320446747225054013223152134749593960583597420814430196418767959100019603",
        "19077866310960450710666793915339578893891456054356306126836490161863021708658925344488",
        "1623791300855757318142424510452728255046343928578048"
    );
    assert_eq!(&*incr_by_float(b"0", b"-1e308").unwrap(), expected.as_bytes());
    let doubled = incr_by_float(b"1e308", b"1e308").unwrap();
    assert!(doubled.starts_with(b"1999999999999999999933717593116912913211201996948311344155940"));
    assert_eq!(doubled.len(), 309);
    // The long double nearest 1e4000 is just below it: 4,000 digits, far beyond any double.
    let huge = incr_by_float(b"0", b"1e4000").unwrap();
    assert_eq!(huge.len(), 4000);
    assert!(huge.starts_with(b"99999999999999999999654638730996237849324925835069576313015"));
    // An input of MAX_LONG_DOUBLE_CHARS bytes is refused as Redis's string2ld refuses it.
    let long = vec![b'1'; MAX_LONG_DOUBLE_CHARS];
    assert_eq!(incr_by_float(&long, b"1"), Err(Error::NotFloat));
}

#[test]
fn hash_incr_by_float_checks_increment_first() {
    assert_eq!(hash_incr_by_float(b"abc", b"xyz"), Err(Error::NotFloat));
    assert_eq!(hash_incr_by_float(b"abc", b"1"), Err(Error::HashNotFloat));
    assert_eq!(&*hash_incr_by_float(b"1.5", b"1").unwrap(), b"2.5");
    assert_eq!(incr_by_float(b"abc", b"xyz"), Err(Error::NotFloat));
    // An embedded NUL makes a value no float (redis-server 7.0.15), current or increment.
    assert_eq!(hash_incr_by_float(b"\0", b"1"), Err(Error::HashNotFloat));
    assert_eq!(hash_incr_by_float(b"1\0x", b"1"), Err(Error::HashNotFloat));
    assert_eq!(hash_incr_by_float(b"1", b"1\0"), Err(Error::NotFloat));
    assert_eq!(incr_by_float(b"1\0", b"1"), Err(Error::NotFloat));
}
