//! The engine's typed errors. Their `Display` text is exactly Redis 7's error line (without the
//! leading `-`), so the server writes `-{error}\r\n` and clients see what Redis would send.

use std::fmt;

/// Why an engine operation was refused. Nothing is changed when an operation returns an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The key holds a value of another type than the operation needs.
    WrongType,
    /// A string value or argument is not a 64-bit signed integer.
    NotInteger,
    /// A string value or argument is not a valid float.
    NotFloat,
    /// An increment would overflow a 64-bit integer.
    IncrOverflow,
    /// An increment would produce NaN or infinity.
    NanOrInfinity,
    /// A hash field's value is not an integer (HINCRBY).
    HashNotInteger,
    /// A hash field's value is not a float (HINCRBYFLOAT).
    HashNotFloat,
    /// SETRANGE or APPEND would make a string longer than `proto-max-bulk-len` (512 MB).
    StringTooLong,
    /// The key does not exist (RENAME, LSET, ...).
    NoSuchKey,
    /// An index is outside a list (LSET).
    IndexOutOfRange,
    /// A generic out-of-range argument (offsets, counts).
    OutOfRange,
    /// An expire time is out of the representable range.
    InvalidExpireTime(&'static str),
    /// A generic syntax error in the arguments.
    Syntax,
    /// A score in ZADD/ZINCRBY produced NaN.
    ScoreNan,
    /// The database index is not in `0..databases`.
    DbIndexOutOfRange,
    /// A value was negative where it must not be (counts).
    MustBePositive,
    /// The write needs memory that `maxmemory` does not leave and nothing can be evicted.
    OutOfMemory,
    /// A free-form error, already in Redis's text (used for rare argument errors).
    Other(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            Error::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            Error::NotFloat => f.write_str("ERR value is not a valid float"),
            Error::IncrOverflow => f.write_str("ERR increment or decrement would overflow"),
            Error::NanOrInfinity => f.write_str("ERR increment would produce NaN or Infinity"),
            Error::HashNotInteger => f.write_str("ERR hash value is not an integer"),
            Error::HashNotFloat => f.write_str("ERR hash value is not a float"),
            Error::StringTooLong => {
                f.write_str("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            Error::NoSuchKey => f.write_str("ERR no such key"),
            Error::IndexOutOfRange => f.write_str("ERR index out of range"),
            Error::OutOfRange => f.write_str("ERR value is out of range"),
            Error::InvalidExpireTime(command) => {
                write!(f, "ERR invalid expire time in '{command}' command")
            }
            Error::Syntax => f.write_str("ERR syntax error"),
            Error::ScoreNan => f.write_str("ERR resulting score is not a number (NaN)"),
            Error::DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            Error::MustBePositive => f.write_str("ERR value is out of range, must be positive"),
            Error::OutOfMemory => {
                f.write_str("OOM command not allowed when used memory > 'maxmemory'.")
            }
            Error::Other(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for Error {}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
