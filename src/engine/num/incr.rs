//! INCRBYFLOAT and HINCRBYFLOAT: a long double sum printed the way Redis stores it.

use super::MAX_LONG_DOUBLE_CHARS;
use super::ffi::{self, IncrFailure};
use crate::engine::{Error, SmallBytes};

/// INCRBYFLOAT: parses `current` and `increment` as C `long double` with Redis's `string2ld`
/// rules, adds them in 80-bit precision and prints the sum as `ld2string(LD_STR_HUMAN)` does
/// (`%.17Lf` with trailing zeros and dot stripped, `-0` printed as `0`). A missing key is
/// `current = b"0"`.
///
/// Errors: either argument not a float -> [`Error::NotFloat`] (`current` is checked first);
/// a NaN or infinite sum -> [`Error::NanOrInfinity`].
///
/// ```
/// use corekv::engine::num::incr_by_float;
/// assert_eq!(&*incr_by_float(b"10.5", b"0.1").unwrap(), b"10.6");
/// ```
pub fn incr_by_float(current: &[u8], increment: &[u8]) -> Result<SmallBytes, Error> {
    let mut out = [0u8; MAX_LONG_DOUBLE_CHARS];
    match ffi::incr_by_float(current, increment, false, &mut out) {
        Ok(len) => Ok(SmallBytes::new(&out[..len])),
        Err(IncrFailure::CurrentNotFloat | IncrFailure::IncrementNotFloat) => Err(Error::NotFloat),
        Err(IncrFailure::NanOrInfinity) => Err(Error::NanOrInfinity),
    }
}

/// HINCRBYFLOAT: as [`incr_by_float`], but in HINCRBYFLOAT's order and texts: the increment
/// is validated first ([`Error::NotFloat`]), then the field's value
/// ([`Error::HashNotFloat`]). A missing field is `current = b"0"`.
pub fn hash_incr_by_float(current: &[u8], increment: &[u8]) -> Result<SmallBytes, Error> {
    let mut out = [0u8; MAX_LONG_DOUBLE_CHARS];
    match ffi::incr_by_float(current, increment, true, &mut out) {
        Ok(len) => Ok(SmallBytes::new(&out[..len])),
        Err(IncrFailure::IncrementNotFloat) => Err(Error::NotFloat),
        Err(IncrFailure::CurrentNotFloat) => Err(Error::HashNotFloat),
        Err(IncrFailure::NanOrInfinity) => Err(Error::NanOrInfinity),
    }
}
