//! Redis's glob matching (`stringmatchlen` in util.c): `*`, `?`, `[abc]`, `[^a-z]`, `\x`.
//! Used by KEYS, SCAN MATCH and the collection SCAN commands.

/// Most nested `*` backtracking steps before giving up; Redis bounds the recursion the same
/// way so a pattern like `a*a*a*a*...b` cannot stall a core.
const MAX_STEPS: usize = 1 << 20;

/// True when `text` matches the glob `pattern` (binary-safe, case-sensitive).
///
/// ```
/// use corekv::engine::glob::matches;
/// assert!(matches(b"user:*", b"user:42"));
/// assert!(matches(b"h[ae]llo", b"hallo"));
/// assert!(!matches(b"h[^e]llo", b"hello"));
/// ```
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let mut steps = 0;
    match_from(pattern, text, &mut steps) == Some(true)
}

/// `None` when the step budget ran out (treated as no match).
fn match_from(mut pattern: &[u8], mut text: &[u8], steps: &mut usize) -> Option<bool> {
    *steps += 1;
    if *steps > MAX_STEPS {
        return None;
    }
    while let Some(&first) = pattern.first() {
        match first {
            b'*' => {
                while pattern.len() > 1 && pattern[1] == b'*' {
                    pattern = &pattern[1..];
                }
                if pattern.len() == 1 {
                    return Some(true);
                }
                for start in 0..=text.len() {
                    if match_from(&pattern[1..], &text[start..], steps)? {
                        return Some(true);
                    }
                }
                return Some(false);
            }
            b'?' => {
                if text.is_empty() {
                    return Some(false);
                }
                text = &text[1..];
            }
            b'[' => {
                let Some(&current) = text.first() else { return Some(false) };
                pattern = &pattern[1..];
                let negate = pattern.first() == Some(&b'^');
                if negate {
                    pattern = &pattern[1..];
                }
                let mut matched = false;
                loop {
                    match pattern {
                        [] => {
                            // Unterminated class: Redis treats the end as closing it.
                            break;
                        }
                        [b'\\', escaped, ..] => {
                            matched |= *escaped == current;
                            pattern = &pattern[2..];
                        }
                        [b']', ..] => break,
                        [low, b'-', high, ..] if *high != b']' => {
                            let (low, high) =
                                if low > high { (*high, *low) } else { (*low, *high) };
                            matched |= (low..=high).contains(&current);
                            pattern = &pattern[3..];
                        }
                        [single, ..] => {
                            matched |= *single == current;
                            pattern = &pattern[1..];
                        }
                    }
                }
                if negate {
                    matched = !matched;
                }
                if !matched {
                    return Some(false);
                }
                text = &text[1..];
                if pattern.is_empty() {
                    // Redis steps back so the outer loop's advance does not run off the end.
                    return Some(text.is_empty());
                }
            }
            b'\\' if pattern.len() >= 2 => {
                pattern = &pattern[1..];
                if text.first() != Some(&pattern[0]) {
                    return Some(false);
                }
                text = &text[1..];
            }
            literal => {
                if text.first() != Some(&literal) {
                    return Some(false);
                }
                text = &text[1..];
            }
        }
        pattern = &pattern[1..];
    }
    Some(text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_examples() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"*", b"", true),
            (b"*", b"anything", true),
            (b"h?llo", b"hello", true),
            (b"h?llo", b"hllo", false),
            (b"h*llo", b"heeeello", true),
            (b"h[ae]llo", b"hello", true),
            (b"h[ae]llo", b"hillo", false),
            (b"h[^e]llo", b"hallo", true),
            (b"h[^e]llo", b"hello", false),
            (b"h[a-b]llo", b"hbllo", true),
            (b"h[b-a]llo", b"hallo", true),
            (b"h\\*llo", b"h*llo", true),
            (b"h\\*llo", b"hello", false),
            (b"user:*:name", b"user:1:name", true),
            (b"user:*:name", b"user:1:age", false),
            (b"abc", b"abcd", false),
            (b"[abc", b"a", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                matches(pattern, text),
                *expected,
                "{} ~ {}",
                pattern.escape_ascii(),
                text.escape_ascii()
            );
        }
    }

    #[test]
    fn pathological_pattern_is_bounded() {
        let pattern = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let text = [b'a'; 64];
        assert!(!matches(pattern, &text));
    }
}
