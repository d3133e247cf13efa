//! The protocol layer's typed errors.
//!
//! [`ProtocolError`] is what a *client* did wrong: its reply text is Redis 7.0's byte for byte
//! (`networking.c`, `processInlineBuffer` and `processMultibulkBuffer`), and after sending it
//! the server closes the connection, as Redis does. [`DecodeError`] is what a *server* did
//! wrong, seen by the reply decoder that tests and clients use.

use std::fmt;

/// A request that breaks the protocol. The server answers with [`ProtocolError::write_reply`]
/// and closes the connection; the parser that returned it keeps returning it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An inline request's line is longer than `max_inline_len` (64 KB).
    TooBigInlineRequest,
    /// A multibulk `*<count>` line is longer than `max_inline_len`.
    TooBigMultibulkCount,
    /// A bulk `$<len>` line is longer than `max_inline_len`.
    TooBigBulkCount,
    /// An inline request has an unterminated quote, or a closing quote not followed by a space.
    UnbalancedQuotes,
    /// The `*<count>` is not a number by Redis's `string2ll` rules, or exceeds the limit.
    InvalidMultibulkLength,
    /// More than 10 arguments from a client that still has to authenticate.
    UnauthenticatedMultibulkLength,
    /// The `$<len>` is not a number, is negative, or exceeds `proto-max-bulk-len`.
    InvalidBulkLength,
    /// An argument over 16384 bytes from a client that still has to authenticate.
    UnauthenticatedBulkLength,
    /// An argument line of a multibulk did not start with `$`; holds the byte it started with
    /// (`\r` and `\n` already mapped to a space, as Redis's `addReplyErrorFormat` does).
    ExpectedDollar(u8),
}

impl ProtocolError {
    /// The text after `ERR ` as bytes, without the byte of [`ProtocolError::ExpectedDollar`].
    fn message(&self) -> &'static str {
        match self {
            Self::TooBigInlineRequest => "Protocol error: too big inline request",
            Self::TooBigMultibulkCount => "Protocol error: too big mbulk count string",
            Self::TooBigBulkCount => "Protocol error: too big bulk count string",
            Self::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
            Self::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            Self::UnauthenticatedMultibulkLength => {
                "Protocol error: unauthenticated multibulk length"
            }
            Self::InvalidBulkLength => "Protocol error: invalid bulk length",
            Self::UnauthenticatedBulkLength => "Protocol error: unauthenticated bulk length",
            Self::ExpectedDollar(_) => "Protocol error: expected '$', got '",
        }
    }

    /// Appends the exact reply Redis sends, e.g. `-ERR Protocol error: invalid bulk length\r\n`.
    ///
    /// The byte in `expected '$', got 'x'` is written raw, as Redis's `%c` does, so the reply
    /// may not be UTF-8.
    pub fn write_reply(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"-ERR ");
        out.extend_from_slice(self.message().as_bytes());
        if let Self::ExpectedDollar(byte) = *self {
            out.push(byte);
            out.push(b'\'');
        }
        out.extend_from_slice(b"\r\n");
    }
}

impl fmt::Display for ProtocolError {
    /// The reply line without `-` and CRLF; a non-printable byte is shown as `\xNN` here
    /// (logs), while [`ProtocolError::write_reply`] writes it raw.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ERR {}", self.message())?;
        if let Self::ExpectedDollar(byte) = *self {
            write!(f, "{}'", std::ascii::escape_default(byte))?;
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolError {}

/// A reply that is not valid RESP2/RESP3, found by [`Frame::decode`](super::Frame::decode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The first byte of a frame is not a RESP2 or RESP3 type byte (holds it).
    UnknownType(u8),
    /// A length or count is not a number, is negative where `-1` is not allowed, or is too big.
    InvalidLength,
    /// An integer frame (`:`) is not a 64-bit signed integer.
    InvalidInteger,
    /// A boolean frame is not `#t` or `#f`.
    InvalidBoolean,
    /// A line or a payload is not followed by `\r\n`.
    MissingCrlf,
    /// A verbatim string is shorter than its `xxx:` format prefix.
    InvalidVerbatim,
    /// Aggregates nest deeper than [`MAX_NESTING`](super::frame::MAX_NESTING).
    TooDeep,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownType(byte) => {
                write!(f, "unknown RESP type byte '{}'", std::ascii::escape_default(*byte))
            }
            Self::InvalidLength => f.write_str("invalid length or count"),
            Self::InvalidInteger => f.write_str("invalid integer"),
            Self::InvalidBoolean => f.write_str("invalid boolean"),
            Self::MissingCrlf => f.write_str("missing CRLF terminator"),
            Self::InvalidVerbatim => f.write_str("verbatim string without a format prefix"),
            Self::TooDeep => f.write_str("aggregates nested too deep"),
        }
    }
}

impl std::error::Error for DecodeError {}
