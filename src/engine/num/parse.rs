//! Parsing integers and doubles exactly as Redis 7.0 accepts them.

use super::LONG_STR_SIZE;
use super::ffi;

/// Parses a signed 64-bit integer with Redis's `string2ll` strictness: optional `-`, then
/// digits without leading zeros (`"0"` alone is allowed, `"-0"` is not), no `+`, no spaces,
/// at most 20 bytes, within `i64`.
///
/// ```
/// use corekv::engine::num::parse_i64;
/// assert_eq!(parse_i64(b"-42"), Some(-42));
/// assert_eq!(parse_i64(b"042"), None);
/// ```
pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() >= LONG_STR_SIZE {
        return None;
    }
    if bytes == b"0" {
        return Some(0);
    }
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    // The first digit must be 1-9: this refuses "", "-", "-0" and leading zeros.
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut magnitude = u64::from(first - b'0');
    for &byte in rest {
        if !byte.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
    }
    if negative {
        // i64::MIN's magnitude is one more than i64::MAX.
        if magnitude > i64::MIN.unsigned_abs() {
            return None;
        }
        Some((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Doubles in `(-2^53, 2^53)` hold every integer exactly, so a `string2ll` integer in that
/// range converts without rounding and `strtod` can be skipped (the common integer score).
const EXACT_INTEGER_LIMIT: i64 = 1 << 53;

/// Parses a double as Redis 7.0's `string2d` does (ZADD scores, ZINCRBY, float arguments):
/// the whole input must be C `strtod` syntax (so `0x10`, `1e5`, `.5`, `+1`, `inf`, `-inf`,
/// `infinity` in any case are accepted), not starting with whitespace, not NaN, and not out of
/// range (`1e400` and `1e-400` are refused; subnormals like `1e-310` are accepted).
///
/// ```
/// use corekv::engine::num::parse_f64;
/// assert_eq!(parse_f64(b"0x10"), Some(16.0));
/// assert_eq!(parse_f64(b" 1"), None);
/// ```
pub fn parse_f64(bytes: &[u8]) -> Option<f64> {
    if let Some(integer) = parse_i64(bytes)
        && integer.unsigned_abs() < EXACT_INTEGER_LIMIT as u64
    {
        return Some(integer as f64);
    }
    // string2d: empty, leading space (only the first byte is checked), unconsumed bytes
    // (which includes an embedded NUL, where strtod stops), range errors and NaN are refused.
    if bytes.first().is_none_or(|&byte| is_c_space(byte)) || bytes.contains(&0) {
        return None;
    }
    let parsed = ffi::strtod(bytes);
    if parsed.consumed != bytes.len()
        || (parsed.range_error && (parsed.value.is_infinite() || parsed.value == 0.0))
        || parsed.value.is_nan()
    {
        return None;
    }
    Some(parsed.value)
}

/// Parses a double as `zslParseRange` does for ZRANGEBYSCORE-style bounds: a bare `strtod`
/// that only has to reach the end of the C string (the first NUL byte). This is more lenient
/// than [`parse_f64`]: leading whitespace is skipped, the empty string is 0, `1e400` is
/// infinity. Only NaN and trailing garbage are refused.
pub fn parse_f64_prefix(bytes: &[u8]) -> Option<f64> {
    let c_string = bytes.iter().position(|&byte| byte == 0).map_or(bytes, |nul| &bytes[..nul]);
    let parsed = ffi::strtod(c_string);
    if parsed.consumed != c_string.len() || parsed.value.is_nan() {
        return None;
    }
    Some(parsed.value)
}

/// C's `isspace` in the "C" locale.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}
