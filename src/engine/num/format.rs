//! Printing numbers as Redis 7.0 replies print them.

use std::fmt::Write as _;

/// Appends `value` in decimal (Redis's `ll2string`).
#[inline]
pub fn write_i64(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// `%.17g` uses exponent notation from 10^17 on: 17 significant digits no longer cover the
/// integer part. Below [`EXACT_INTEGER_LIMIT`] every integer-valued double prints as its
/// digits, so the integer fast path and `%.17g` agree.
const SIGNIFICANT_DIGITS: i32 = 17;

/// Integers below 2^53 in magnitude are exact in a double (Redis's `d2string` fast path).
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// `{:.16e}` of a negative subnormal is at most 24 bytes (`-4.9406564584124654e-324`).
const SCIENTIFIC_BUFFER_BYTES: usize = 32;

/// Appends `value` exactly as Redis 7.0 replies with a double (ZSCORE, ZINCRBY, WITHSCORES):
/// C's `%.17g` (`0.10000000000000001`, `1.2345678901234568e+17`, `-0`), and `inf`, `-inf`.
/// NaN, which no score can be, prints as `nan`.
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    if value.is_nan() {
        out.extend_from_slice(b"nan");
    } else if value.is_infinite() {
        out.extend_from_slice(if value > 0.0 { b"inf" } else { b"-inf" });
    } else if value == 0.0 {
        out.extend_from_slice(if value.is_sign_negative() { b"-0" } else { b"0" });
    } else if value.abs() < EXACT_INTEGER_LIMIT && value.fract() == 0.0 {
        write_i64(out, value as i64);
    } else {
        write_g17(out, value);
    }
}

/// Returns [`write_f64`]'s text as a `String`.
pub fn format_f64(value: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_f64(&mut out, value);
    // write_f64 only emits ASCII.
    String::from_utf8(out).expect("ASCII")
}

/// A fixed stack buffer that `write!` can format into, so printing does not allocate.
struct StackBuffer {
    bytes: [u8; SCIENTIFIC_BUFFER_BYTES],
    len: usize,
}

impl std::fmt::Write for StackBuffer {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let end = self.len + text.len();
        self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// C's `%.17g` for a finite, non-zero value. Rust's `{:.16e}` rounds the exact binary value
/// to 17 significant digits (ties to even, as glibc does); the `%g` rules then choose fixed or
/// exponent notation and strip trailing zeros.
fn write_g17(out: &mut Vec<u8>, value: f64) {
    let mut buffer = StackBuffer { bytes: [0; SCIENTIFIC_BUFFER_BYTES], len: 0 };
    write!(buffer, "{:.16e}", value.abs()).expect("a double fits the buffer");
    let text = &buffer.bytes[..buffer.len];
    let e_at = text.iter().position(|&byte| byte == b'e').expect("scientific notation");
    let exponent: i32 = std::str::from_utf8(&text[e_at + 1..]).unwrap().parse().unwrap();
    // The 17 significant digits without the dot, then without trailing zeros (no `#` flag).
    let mut digits = [0u8; SIGNIFICANT_DIGITS as usize];
    digits[0] = text[0];
    digits[1..].copy_from_slice(&text[2..e_at]);
    let significant = digits.iter().rposition(|&digit| digit != b'0').map_or(1, |last| last + 1);
    let digits = &digits[..significant];

    if value < 0.0 {
        out.push(b'-');
    }
    if !(-4..SIGNIFICANT_DIGITS).contains(&exponent) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(itoa::Buffer::new().format(magnitude).as_bytes());
    } else if exponent < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exponent - 1) as usize));
        out.extend_from_slice(digits);
    } else {
        let integer_digits = exponent as usize + 1;
        if digits.len() <= integer_digits {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', integer_digits - digits.len()));
        } else {
            out.extend_from_slice(&digits[..integer_digits]);
            out.push(b'.');
            out.extend_from_slice(&digits[integer_digits..]);
        }
    }
}
