//! The FFI surface to `num.c`: three C functions, each behind a safe wrapper that owns the
//! buffers it hands over.

use std::ffi::{c_char, c_int};

use super::MAX_LONG_DOUBLE_CHARS;

unsafe extern "C" {
    fn corekv_strtod(
        nul_terminated: *const c_char,
        consumed: *mut usize,
        erange: *mut c_int,
    ) -> f64;
    fn corekv_incr_by_float(
        current: *const c_char,
        current_len: usize,
        increment: *const c_char,
        increment_len: usize,
        increment_first: c_int,
        out: *mut c_char,
        out_cap: usize,
        out_len: *mut usize,
    ) -> c_int;
    #[cfg(test)]
    fn corekv_format_g17(value: f64, out: *mut c_char, out_cap: usize) -> usize;
}

/// Inputs up to this length are NUL-terminated on the stack rather than in a `Vec`; longer
/// float texts are rare (scores are short).
const STACK_C_STRING_BYTES: usize = 64;

/// What `strtod` made of a string.
pub(super) struct Strtod {
    pub value: f64,
    /// Bytes consumed; the number ends there.
    pub consumed: usize,
    /// `errno` was `ERANGE` (overflow to ±HUGE_VAL, or underflow).
    pub range_error: bool,
}

/// Runs C `strtod` over `bytes` (which must not contain NUL: C would stop there).
pub(super) fn strtod(bytes: &[u8]) -> Strtod {
    debug_assert!(!bytes.contains(&0), "strtod input must not contain NUL");
    let mut stack = [0u8; STACK_C_STRING_BYTES];
    let heap;
    let c_string: &[u8] = if bytes.len() < STACK_C_STRING_BYTES {
        stack[..bytes.len()].copy_from_slice(bytes);
        &stack[..=bytes.len()]
    } else {
        heap = [bytes, &[0]].concat();
        &heap
    };
    let mut consumed = 0usize;
    let mut erange: c_int = 0;
    // SAFETY: `c_string` is NUL-terminated (its last byte is 0, the stack array is zeroed)
    // and lives across the call; strtod reads only up to that NUL. The two out-pointers are
    // to live locals of the types the C function writes.
    let value = unsafe { corekv_strtod(c_string.as_ptr().cast(), &mut consumed, &mut erange) };
    debug_assert!(consumed <= bytes.len());
    Strtod { value, consumed, range_error: erange != 0 }
}

/// Why the C INCRBYFLOAT refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IncrFailure {
    CurrentNotFloat,
    IncrementNotFloat,
    NanOrInfinity,
}

/// `current + increment` in long double, printed as Redis's `ld2string(LD_STR_HUMAN)`, into
/// `out`. `increment_first` picks which argument is validated first (HINCRBYFLOAT's order).
pub(super) fn incr_by_float(
    current: &[u8],
    increment: &[u8],
    increment_first: bool,
    out: &mut [u8; MAX_LONG_DOUBLE_CHARS],
) -> Result<usize, IncrFailure> {
    let mut out_len = 0usize;
    // SAFETY: both inputs are passed with their exact lengths and the C side copies at most
    // that many bytes (it refuses lengths >= its own MAX_LONG_DOUBLE_CHARS buffer). `out` is
    // writable for `out.len()` bytes, which is the capacity passed; snprintf never writes
    // past it. `out_len` is a live local.
    let code = unsafe {
        corekv_incr_by_float(
            current.as_ptr().cast(),
            current.len(),
            increment.as_ptr().cast(),
            increment.len(),
            c_int::from(increment_first),
            out.as_mut_ptr().cast(),
            out.len(),
            &mut out_len,
        )
    };
    match code {
        0 => {
            debug_assert!(out_len > 0 && out_len < out.len());
            Ok(out_len)
        }
        1 => Err(IncrFailure::CurrentNotFloat),
        2 => Err(IncrFailure::IncrementNotFloat),
        // 4 (no room) cannot happen: the widest finite long double needs ~4,950 bytes of the
        // 5,120, exactly as Redis sizes it. Treat it as the overflow it would be.
        _ => Err(IncrFailure::NanOrInfinity),
    }
}

/// C's `snprintf("%.17g")`, the reference for the Rust formatter's tests.
#[cfg(test)]
pub(super) fn format_g17(value: f64) -> String {
    let mut out = [0u8; 64];
    // SAFETY: `out` is writable for its full length, which is the capacity passed; snprintf
    // writes at most that many bytes including the NUL.
    let len = unsafe { corekv_format_g17(value, out.as_mut_ptr().cast(), out.len()) };
    assert!(len < out.len());
    String::from_utf8(out[..len].to_vec()).unwrap()
}
