//! Argument parsing with Redis's error texts.

use crate::engine::Error;
use crate::engine::num;

/// `ERR value is not an integer or out of range` unless `arg` is a 64-bit integer.
pub fn int(arg: &[u8]) -> Result<i64, Error> {
    num::parse_i64(arg).ok_or(Error::NotInteger)
}

/// A non-negative integer, with `error` otherwise (Redis words these per command).
pub fn non_negative(arg: &[u8], error: Error) -> Result<i64, Error> {
    match num::parse_i64(arg) {
        Some(value) if value >= 0 => Ok(value),
        Some(_) => Err(error),
        None => Err(Error::NotInteger),
    }
}

/// A positive count (`ERR value is out of range, must be positive` otherwise).
pub fn positive(arg: &[u8]) -> Result<i64, Error> {
    match num::parse_i64(arg) {
        Some(value) if value > 0 => Ok(value),
        Some(_) => Err(Error::MustBePositive),
        None => Err(Error::NotInteger),
    }
}

/// `ERR value is not a valid float` unless `arg` is a float (Redis's strtod rules, no NaN).
pub fn float(arg: &[u8]) -> Result<f64, Error> {
    num::parse_f64(arg).ok_or(Error::NotFloat)
}

/// Whether `arg` is `word`, ignoring ASCII case.
#[inline]
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// A timeout in seconds as the blocking commands take it (a float, non-negative), in ms.
///
/// As Redis 7.0.15's `getTimeoutFromObjectOrReply`: the milliseconds are rounded up, so
/// `-0.0005` is 0 (no timeout) and `0.0001` is 1 ms; a value whose milliseconds do not fit an
/// `i64` (`inf`, `1e300`) wraps negative in Redis's cast and is refused as negative.
pub fn timeout_ms(arg: &[u8]) -> Result<u64, Error> {
    let seconds =
        num::parse_f64(arg).ok_or(Error::Other("ERR timeout is not a float or out of range"))?;
    let ms = (seconds * 1000.0).ceil();
    if ms < 0.0 || ms >= i64::MAX as f64 {
        return Err(Error::Other("ERR timeout is negative"));
    }
    // Redis adds the clock to larger values and overflows; refuse them instead.
    if ms > (i64::MAX / 2) as f64 {
        return Err(Error::Other("ERR timeout is out of range"));
    }
    Ok(ms as u64)
}

/// A SCAN-family cursor as Redis's `parseScanCursorOrReply` reads it with C `strtoul`: the
/// text up to a NUL byte, no leading whitespace, an optional sign (a negative cursor wraps, as
/// in C), base-10 digits to the end, within `u64`; the empty string is cursor 0.
pub fn scan_cursor(arg: &[u8]) -> Result<u64, Error> {
    const INVALID: Error = Error::Other("ERR invalid cursor");
    let text = &arg[..memchr::memchr(0, arg).unwrap_or(arg.len())];
    if text.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match text[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(INVALID);
    }
    let mut value: u64 = 0;
    for &digit in digits {
        value = value
            .checked_mul(10)
            .and_then(|value| value.checked_add(u64::from(digit - b'0')))
            .ok_or(INVALID)?;
    }
    Ok(if negative { value.wrapping_neg() } else { value })
}

/// Redis's `ERR unknown command` line for a request (`processCommand`: the name cut at 128
/// bytes, then quoted arguments while the list is under 128 bytes).
pub fn unknown_command(args: &[&[u8]]) -> Vec<u8> {
    let mut text = b"ERR unknown command '".to_vec();
    text.extend_from_slice(c_str(args.first().copied().unwrap_or_default(), 128));
    text.extend_from_slice(b"', with args beginning with: ");
    let mut listed: Vec<u8> = Vec::new();
    for arg in args.iter().skip(1) {
        if listed.len() >= 128 {
            break;
        }
        listed.push(b'\'');
        listed.extend_from_slice(c_str(arg, 128 - (listed.len() - 1)));
        listed.extend_from_slice(b"' ");
    }
    text.extend_from_slice(&listed);
    one_line(text)
}

/// Redis's `ERR unknown subcommand` line (`CONFIG FOO`).
pub fn unknown_subcommand(command: &str, subcommand: &[u8]) -> Vec<u8> {
    let mut text = b"ERR unknown subcommand '".to_vec();
    text.extend_from_slice(c_str(subcommand, 128));
    text.extend_from_slice(format!("'. Try {} HELP.", command.to_ascii_uppercase()).as_bytes());
    one_line(text)
}

/// Redis's `ERR wrong number of arguments` line; `name` is the command's full name
/// (`get`, `config|get`).
pub fn wrong_arity(name: &str) -> Vec<u8> {
    format!("ERR wrong number of arguments for '{name}' command").into_bytes()
}

/// `printf("%.*s")` of a C string: stops at a NUL byte and after `max` bytes.
fn c_str(arg: &[u8], max: usize) -> &[u8] {
    let end = memchr::memchr(0, arg).unwrap_or(arg.len()).min(max);
    &arg[..end]
}

/// `addReplyErrorFormat` turns newlines into spaces so an error stays one line.
pub fn one_line(mut text: Vec<u8>) -> Vec<u8> {
    for byte in &mut text {
        if *byte == b'\r' || *byte == b'\n' {
            *byte = b' ';
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_text_matches_redis() {
        // Checked against redis-server 7.0.15.
        assert_eq!(
            unknown_command(&[b"foo", b"a", b"b"]),
            b"ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        assert_eq!(
            unknown_command(&[b"foo"]),
            b"ERR unknown command 'foo', with args beginning with: "
        );
    }

    #[test]
    fn timeouts() {
        assert_eq!(timeout_ms(b"0"), Ok(0));
        assert_eq!(timeout_ms(b"0.1"), Ok(100));
        assert_eq!(timeout_ms(b"-1"), Err(Error::Other("ERR timeout is negative")));
        assert!(timeout_ms(b"abc").is_err());
        // Checked against redis-server 7.0.15.
        assert_eq!(timeout_ms(b"0.0001"), Ok(1));
        assert_eq!(timeout_ms(b"-0.0005"), Ok(0));
        assert_eq!(timeout_ms(b"-0"), Ok(0));
        assert_eq!(timeout_ms(b"inf"), Err(Error::Other("ERR timeout is negative")));
        assert_eq!(timeout_ms(b"1e300"), Err(Error::Other("ERR timeout is negative")));
        assert_eq!(timeout_ms(b"-inf"), Err(Error::Other("ERR timeout is negative")));
        assert_eq!(
            timeout_ms(b""),
            Err(Error::Other("ERR timeout is not a float or out of range"))
        );
    }

    #[test]
    fn scan_cursors_follow_strtoul() {
        // Checked against redis-server 7.0.15.
        assert_eq!(scan_cursor(b""), Ok(0));
        assert_eq!(scan_cursor(b"+7"), Ok(7));
        assert_eq!(scan_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(scan_cursor(b"5\0x"), Ok(5));
        assert_eq!(scan_cursor(b"18446744073709551615"), Ok(u64::MAX));
        for invalid in [&b" 1"[..], b"18446744073709551616", b"1x", b"-", b"abc"] {
            assert_eq!(scan_cursor(invalid), Err(Error::Other("ERR invalid cursor")));
        }
    }
}
