//! Inline requests (`set k "v 1"\r\n` from telnet): Redis's `sdssplitargs` (sds.c, 7.0).
//!
//! The rules, kept exactly because clients and scripts rely on them:
//! - blanks between arguments are C's `isspace` (space, `\t`, `\n`, `\v`, `\f`, `\r`), but an
//!   unquoted argument ends only at space, `\t`, `\n`, `\r` (so `\v` and `\f` inside it stay);
//! - `"..."` understands `\n \r \t \b \a`, `\xHH` (two hex digits) and `\<any>` as `<any>`;
//! - `'...'` understands only `\'`;
//! - a quote may open inside an argument (`a"b c"` is `ab c`), but a closing quote must be
//!   followed by a blank or the end of the line, else the request is unbalanced.
//!
//! Arguments are unescaped into a scratch buffer the parser owns and reuses, so an inline
//! request costs no allocation once the buffer has grown.

use std::ops::Range;

/// C's `isspace` in the C locale.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|digit| digit as u8)
}

/// Splits `line` (without its line terminator) into arguments appended to `scratch`, one
/// range of `scratch` per argument in `spans`. `Err(())` is Redis's "unbalanced quotes".
///
/// `line` holds no NUL byte (the line search stops at one, as Redis's `strchr` does), so a
/// position past the end reads as the C string's terminating NUL.
pub(crate) fn split_args(
    line: &[u8],
    scratch: &mut Vec<u8>,
    spans: &mut Vec<Range<usize>>,
) -> Result<(), ()> {
    debug_assert!(!line.contains(&0), "the line search stops at NUL");
    let at = |index: usize| line.get(index).copied().unwrap_or(0);
    let mut p = 0;
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Ok(());
        }
        let begin = scratch.len();
        let (mut in_double, mut in_single, mut done) = (false, false, false);
        while !done {
            let byte = at(p);
            if in_double {
                if byte == b'\\' && at(p + 1) == b'x' {
                    if let (Some(high), Some(low)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        scratch.push(high * 16 + low);
                        p += 3;
                    } else {
                        // `\x` without two hex digits is `\<any>`: the `x` itself.
                        p += 1;
                        scratch.push(b'x');
                    }
                } else if byte == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    scratch.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if byte == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(());
                    }
                    done = true;
                } else if byte == 0 {
                    return Err(());
                } else {
                    scratch.push(byte);
                }
            } else if in_single {
                if byte == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    scratch.push(b'\'');
                } else if byte == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(());
                    }
                    done = true;
                } else if byte == 0 {
                    return Err(());
                } else {
                    scratch.push(byte);
                }
            } else {
                match byte {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    other => scratch.push(other),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        spans.push(begin..scratch.len());
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(line: &[u8]) -> Result<Vec<Vec<u8>>, ()> {
        let (mut scratch, mut spans) = (Vec::new(), Vec::new());
        split_args(line, &mut scratch, &mut spans)?;
        Ok(spans.into_iter().map(|span| scratch[span].to_vec()).collect())
    }

    fn ok(line: &[u8], expected: &[&[u8]]) {
        assert_eq!(split(line), Ok(expected.iter().map(|arg| arg.to_vec()).collect()));
    }

    #[test]
    fn plain_and_blank() {
        ok(b"", &[]);
        ok(b"   \t ", &[]);
        ok(b"PING", &[b"PING"]);
        ok(b"  set  k   v ", &[b"set", b"k", b"v"]);
        ok(b"a\rb", &[b"a", b"b"]);
        // \v and \f are skipped as leading blanks but do not end an argument.
        ok(b"echo \x0bx\x0by", &[b"echo", b"x\x0by"]);
        ok(b"PING\r", &[b"PING"]);
    }

    #[test]
    fn double_quotes_and_escapes() {
        ok(br#"set k "v 1""#, &[b"set", b"k", b"v 1"]);
        ok(br#""\n\r\t\b\a\"\\\q""#, &[b"\n\r\t\x08\x07\"\\q"]);
        ok(br#""\x41\x4g\xff\x""#, &[b"Ax4g\xffx"]);
        ok(br#""""#, &[b""]);
        ok(br#"a"b c"d"#.split_at(6).0, &[b"ab c"]);
        ok(b"\"a\"\x0b", &[b"a"]);
    }

    #[test]
    fn single_quotes() {
        ok(br"'a\'b' 'c\nd'", &[b"a'b", br"c\nd"]);
        ok(b"''", &[b""]);
    }

    #[test]
    fn unbalanced() {
        for line in [&br#"ping "a"#[..], br#""a"b"#, br"'a", br"'a'b", br#"a"b c"d"#, b"\"\\"] {
            assert_eq!(split(line), Err(()), "{}", String::from_utf8_lossy(line));
        }
    }
}
