use super::super::syntax::*;

fn split(line: &str) -> Option<Vec<String>> {
    split_args(line.as_bytes()).map(|args| {
        args.into_iter().map(|arg| String::from_utf8_lossy(&arg).into_owned()).collect()
    })
}

#[test]
fn split_plain_words() {
    assert_eq!(split("  port   6379\t"), Some(vec!["port".into(), "6379".into()]));
    assert_eq!(split(""), Some(vec![]));
    assert_eq!(split("   "), Some(vec![]));
}

#[test]
fn split_double_quotes_with_escapes() {
    assert_eq!(
        split(r#"requirepass "a b\"c\\d\n\r\t\x41\q""#),
        Some(vec!["requirepass".into(), "a b\"c\\d\n\r\tAq".into()])
    );
    assert_eq!(split_args(br#""\b\a""#), Some(vec![vec![0x08, 0x07]]));
    // `\x` without two hex digits is the escaped character itself.
    assert_eq!(split(r#""\xZZ""#), Some(vec!["xZZ".into()]));
    assert_eq!(split(r#"save """#), Some(vec!["save".into(), String::new()]));
}

#[test]
fn split_single_quotes_only_escape_the_quote() {
    assert_eq!(split(r"a 'it\'s \n'"), Some(vec!["a".into(), "it's \\n".into()]));
}

#[test]
fn split_quotes_inside_a_word_join_it() {
    assert_eq!(split(r#"ab"cd ef"gh"#), None, "a closing quote must be followed by a blank");
    assert_eq!(split(r#"ab"cd ef" gh"#), Some(vec!["abcd ef".into(), "gh".into()]));
}

#[test]
fn split_refuses_unbalanced_and_glued_quotes() {
    assert_eq!(split(r#"port "6379"#), None);
    assert_eq!(split("port '6379"), None);
    assert_eq!(split(r#"port "ab"c"#), None);
    assert_eq!(split("port 'ab'c"), None);
    assert_eq!(split(r#"port "ab\"#), None);
}

#[test]
fn split_stops_at_nul_like_a_c_string() {
    assert_eq!(split_args(b"port 1\0 2"), Some(vec![b"port".to_vec(), b"1".to_vec()]));
}

#[test]
fn repr_round_trips_every_byte() {
    let all: Vec<u8> = (1..=255).collect();
    let quoted = repr(&all);
    assert_eq!(split_args(quoted.as_bytes()), Some(vec![all]));
    assert_eq!(repr(b"a\"b\\c\n\x01"), r#""a\"b\\c\n\x01""#);
}

#[test]
fn memory_units_follow_memtoull() {
    assert_eq!(parse_memory(b"1k"), Some(1000));
    assert_eq!(parse_memory(b"1kb"), Some(1024));
    assert_eq!(parse_memory(b"1KB"), Some(1024));
    assert_eq!(parse_memory(b"2m"), Some(2_000_000));
    assert_eq!(parse_memory(b"2Mb"), Some(2 * 1024 * 1024));
    assert_eq!(parse_memory(b"3g"), Some(3_000_000_000));
    assert_eq!(parse_memory(b"3gb"), Some(3 << 30));
    assert_eq!(parse_memory(b"7b"), Some(7));
    assert_eq!(parse_memory(b"7"), Some(7));
    // redis 7.0.15: `CONFIG SET maxmemory ""` and `kb` are accepted as 0.
    assert_eq!(parse_memory(b""), Some(0));
    assert_eq!(parse_memory(b"kb"), Some(0));
    // redis 7.0.15: a digit run past u64 saturates (CONFIG GET shows 18446744073709551615).
    assert_eq!(parse_memory(b"99999999999999999999999"), Some(u64::MAX));
    assert_eq!(parse_memory(b"99999999999999999999kb"), None);
    assert_eq!(parse_memory(b"-1"), None);
    assert_eq!(parse_memory(b"1.5gb"), None);
    assert_eq!(parse_memory(b"1 kb"), None);
    assert_eq!(parse_memory(b"1tb"), None);
    assert_eq!(parse_memory(b"+1"), None);
}

#[test]
fn memory_is_rewritten_with_the_largest_exact_unit() {
    assert_eq!(format_memory(0), "0");
    assert_eq!(format_memory(1000), "1000");
    assert_eq!(format_memory(1024), "1kb");
    assert_eq!(format_memory(64 << 20), "64mb");
    assert_eq!(format_memory(3 << 30), "3gb");
    assert_eq!(format_memory(u64::MAX), u64::MAX.to_string());
}

#[test]
fn strtoll_accepts_what_c_accepts() {
    assert_eq!(parse_strtoll(b"12"), Some(12));
    assert_eq!(parse_strtoll(b"+12"), Some(12));
    assert_eq!(parse_strtoll(b"  -12"), Some(-12));
    assert_eq!(parse_strtoll(b""), Some(0));
    assert_eq!(parse_strtoll(b"99999999999999999999"), Some(i64::MAX));
    assert_eq!(parse_strtoll(b"-99999999999999999999"), Some(i64::MIN));
    for refused in [&b"+"[..], b"-", b" ", b"1a", b"1 ", b"abc"] {
        assert_eq!(parse_strtoll(refused), None, "{refused:?}");
    }
}

#[test]
fn yes_no_is_case_insensitive() {
    assert_eq!(parse_yes_no(b"YeS"), Some(true));
    assert_eq!(parse_yes_no(b"no"), Some(false));
    assert_eq!(parse_yes_no(b"1"), None);
    assert_eq!(parse_yes_no(b"y"), None);
}

#[test]
fn percentiles_print_like_printf_then_trim() {
    assert_eq!(format_percentile(50.0), "50");
    assert_eq!(format_percentile(99.9), "99.9");
    assert_eq!(format_percentile(0.0001), "0.0001");
    // redis 7.0.15 shows 99.99999999 as "100" (%f rounds to six decimals).
    assert_eq!(format_percentile(99.99999999), "100");
    assert_eq!(format_percentile(0.0), "0");
}

mod arbitrary_input {
    use proptest::prelude::*;

    use super::super::super::load::Loader;
    use super::super::super::table::OPTIONS;
    use super::super::super::{Config, ConfigOrigin};
    use super::*;

    /// Bytes that exercise the quoting rules more often than uniform bytes would.
    fn line() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            Just(b'"'),
            Just(b'\''),
            Just(b'\\'),
            Just(b' '),
            Just(b'x'),
            Just(b'1'),
            any::<u8>()
        ];
        proptest::collection::vec(byte, 0..24)
    }

    proptest! {
        #[test]
        fn splitting_never_panics_and_repr_round_trips(line in line()) {
            // Quoting what was split and splitting again gives the same arguments.
            if let Some(args) = split_args(&line) {
                let quoted: Vec<String> = args.iter().map(|arg| repr(arg)).collect();
                prop_assert_eq!(split_args(quoted.join(" ").as_bytes()), Some(args));
            }
        }

        #[test]
        fn loading_any_line_for_any_option_never_panics(index in 0..OPTIONS.len(), rest in line()) {
            let mut text = OPTIONS[index].name.as_bytes().to_vec();
            text.push(b' ');
            text.extend_from_slice(&rest);
            let mut config = Config::default();
            let _ = Loader::new(&mut config).load_lines([text.as_slice()], &ConfigOrigin::CommandLine);
        }

        #[test]
        fn config_set_of_anything_never_panics(index in 0..OPTIONS.len(), value in line()) {
            let mut config = Config::default();
            let before = config.clone();
            if config.set(OPTIONS[index].name.as_bytes(), &value).is_err() {
                prop_assert_eq!(config, before);
            }
        }
    }
}
