//! Redis 7.0's number rules, byte for byte: which strings are integers and floats, how doubles
//! are printed in replies, and INCRBYFLOAT's long double arithmetic.
//!
//! Clients depend on these exact texts (a score printed as `0.10000000000000001`, an
//! INCRBYFLOAT result of `3.3`), so each function mirrors a named Redis 7.0 function:
//!
//! | here | Redis 7.0 |
//! |---|---|
//! | [`parse_i64`] | `string2ll` (util.c) |
//! | [`parse_f64`] | `string2d` (util.c), used by `getDoubleFromObject` |
//! | [`parse_f64_prefix`] | the bare `strtod` of `zslParseRange` (t_zset.c) |
//! | [`write_f64`] | `addReplyDouble` (networking.c): `%.17g`, `inf`, `-inf` |
//! | [`incr_by_float`] | `incrbyfloatCommand`: `string2ld`, `long double` sum, `ld2string` |
//!
//! Float parsing and the long double sum go through libc (`strtod`, `strtold`, `snprintf`) in
//! `num.c`, because Rust has no 80-bit float and C's `strtod` grammar (hex floats,
//! `infinity`, range errors) is what Redis accepts. Printing doubles is done in Rust and
//! tested against `snprintf("%.17g")`.

mod ffi;
mod format;
mod incr;
mod parse;

#[cfg(test)]
mod tests;

pub use format::{format_f64, write_f64, write_i64};
pub use incr::{hash_incr_by_float, incr_by_float};
pub use parse::{parse_f64, parse_f64_prefix, parse_i64};

/// Redis's `MAX_LONG_DOUBLE_CHARS` (util.h): the longest float text INCRBYFLOAT reads or
/// writes. The largest finite long double printed with `%.17Lf` is about 4,950 bytes.
pub const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Redis's `LONG_STR_SIZE`: an integer argument of this many bytes or more is refused.
pub const LONG_STR_SIZE: usize = 21;
