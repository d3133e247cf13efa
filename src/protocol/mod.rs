//! RESP2 and RESP3: bytes into requests, replies into bytes. Knows nothing of the engine.
//!
//! This layer imports nothing from the rest of the crate (Dragonfly's `facade` rule): it can
//! be tested, fuzzed and benchmarked alone, and a command is the only place where a request's
//! arguments meet the engine.
//!
//! # Design
//!
//! - [`RequestParser`] (`parser.rs`): the incremental parser of what clients send, multibulk
//!   and inline, with Redis 7.0's limits ([`ParserLimits`]) and its exact error texts
//!   ([`ProtocolError`]). It is a state machine that resumes where the previous read stopped.
//! - [`Encoder`] (`encoder.rs`): writes replies into the connection's output buffer in its
//!   [`Protocol`], RESP2 or RESP3, each RESP3 type falling back as Redis 7.0 does for RESP2.
//! - [`Frame`] (`frame.rs`): a decoded reply, for clients and byte-exact tests.
//! - `inline.rs` is Redis's `sdssplitargs`; `number.rs` its `string2ll`.
//!
//! # Zero copy
//!
//! A multibulk request's arguments are ranges of the connection's read buffer: parsing
//! `SET key value` copies no byte and allocates nothing once the parser's small vector of
//! ranges has grown to the widest request seen. A command copies only what it stores. Inline
//! arguments need unescaping, so they are written to a scratch buffer the parser reuses.
//! Replies are written straight into one output buffer per connection; integers are formatted
//! on the stack.
//!
//! # Pipelining
//!
//! A server reads what the socket has, then loops over [`RequestParser::parse`], executing
//! each request as it comes and appending its reply, until `Ok(None)`; then it writes all the
//! replies at once and drops the consumed prefix of its read buffer:
//!
//! ```
//! use corekv::protocol::{Encoder, Protocol, RequestParser};
//!
//! let mut parser = RequestParser::default();
//! let read = b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nh";
//! let (mut at, mut out) = (0, Vec::new());
//! while let Some((request, used)) = parser.parse(&read[at..]).unwrap() {
//!     assert_eq!(request.name(), b"PING");
//!     Encoder::new(&mut out, Protocol::Resp2).simple(b"PONG");
//!     at += used;
//! }
//! assert_eq!(out, b"+PONG\r\n+PONG\r\n");
//! assert_eq!(&read[at..], b"*2\r\n$4\r\nECHO\r\n$2\r\nh"); // kept for the next read
//! ```
//!
//! # Limits
//!
//! Every length read from the wire is checked before anything is reserved for it:
//! `proto-max-bulk-len` (512 MB) per argument, `INT_MAX` arguments, 64 KB per inline line or
//! header line, and Redis's 10 arguments of 16 KB before AUTH. A broken limit is a
//! [`ProtocolError`], after which Redis, and so corekv, replies and closes the connection.

#![deny(missing_docs)]

mod encoder;
mod error;
pub mod frame;
mod inline;
mod number;
mod parser;

#[cfg(test)]
mod tests;

pub use encoder::{
    EMPTY_ARRAY, EMPTY_BULK, Encoder, NULL, NULL_ARRAY, NULL_BULK, OK, ONE, PONG, Protocol, QUEUED,
    ZERO, write_command,
};
pub use error::{DecodeError, ProtocolError};
pub use frame::Frame;
/// Redis's `sdssplitargs`, shared with redis.conf parsing (the same quoting rules).
pub(crate) use inline::split_args as split_inline_args;
pub use parser::{
    ARGS_RESERVE_MAX, MAX_MULTIBULK_LEN_DEFAULT, PROTO_INLINE_MAX_SIZE, PROTO_MAX_BULK_LEN_DEFAULT,
    ParserLimits, Request, RequestParser, UNAUTHENTICATED_MAX_ARGS, UNAUTHENTICATED_MAX_BULK_LEN,
};
