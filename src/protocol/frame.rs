//! [`Frame`]: a whole RESP2/RESP3 value, for the client side and for tests.
//!
//! The server never builds frames (it encodes replies as it goes, see
//! [`Encoder`](super::Encoder)). Tests decode the server's reply bytes into frames and compare
//! them, or encode an expected frame and compare bytes: [`Frame::encode`] writes the one
//! canonical form, so `decode` then `encode` gives back the same bytes for any reply Redis or
//! corekv sends.
//!
//! Decoding is strict (every line ends in `\r\n`, lengths follow Redis's `string2ll`) and
//! total: any input gives a frame, `Ok(None)` (incomplete) or an error, never a panic.
//! It re-parses from the frame's start on each call, which suits test clients; nesting is
//! bounded by [`MAX_NESTING`] and no declared length is allocated before its bytes arrived.

use memchr::memchr;

use super::error::DecodeError;
use super::number::parse_i64;

/// The deepest nesting of aggregates [`Frame::decode`] accepts (Redis itself never sends more
/// than a few levels); deeper input is refused rather than risking the stack.
pub const MAX_NESTING: usize = 128;
/// The most elements reserved from a declared count before they arrive.
const RESERVE_MAX: usize = 1024;

/// One RESP value. Text-like payloads keep their bytes exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Frame {
    /// `+text`
    Simple(Vec<u8>),
    /// `-CODE text`
    Error(Vec<u8>),
    /// `:n`
    Integer(i64),
    /// `$len` and the bytes.
    Bulk(Vec<u8>),
    /// RESP2's null bulk, `$-1`.
    NullBulk,
    /// RESP2's null array, `*-1`.
    NullArray,
    /// `*len` and its elements.
    Array(Vec<Frame>),
    /// RESP3's null, `_`.
    Null,
    /// RESP3 `%len`: key-value pairs, in order.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~len`.
    Set(Vec<Frame>),
    /// RESP3 `>len`: an out-of-band message (pub/sub).
    Push(Vec<Frame>),
    /// RESP3 `,text`: the double's text as sent (`1.5`, `inf`, `-inf`, `nan`).
    Double(Vec<u8>),
    /// RESP3 `#t` / `#f`.
    Boolean(bool),
    /// RESP3 `=len`: a three-byte format (`txt`, `mkd`) and the text after `fmt:`.
    Verbatim {
        /// The format, e.g. `txt`.
        format: [u8; 3],
        /// The text after the `fmt:` prefix.
        text: Vec<u8>,
    },
    /// RESP3 `(digits`.
    BigNumber(Vec<u8>),
    /// RESP3 `!len`: an error with a length, like a bulk string.
    BulkError(Vec<u8>),
}

impl Frame {
    /// A bulk string frame from anything byte-like (test convenience).
    pub fn bulk(bytes: impl AsRef<[u8]>) -> Self {
        Self::Bulk(bytes.as_ref().to_vec())
    }

    /// A simple string frame (test convenience).
    pub fn simple(text: impl AsRef<[u8]>) -> Self {
        Self::Simple(text.as_ref().to_vec())
    }

    /// An error frame (test convenience).
    pub fn error(text: impl AsRef<[u8]>) -> Self {
        Self::Error(text.as_ref().to_vec())
    }

    /// Appends the frame's canonical encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Simple(text) => line(out, b'+', text),
            Self::Error(text) => line(out, b'-', text),
            Self::Integer(value) => line(out, b':', itoa::Buffer::new().format(*value).as_bytes()),
            Self::Bulk(bytes) => blob(out, b'$', bytes),
            Self::NullBulk => out.extend_from_slice(b"$-1\r\n"),
            Self::NullArray => out.extend_from_slice(b"*-1\r\n"),
            Self::Array(items) => aggregate(out, b'*', items),
            Self::Null => out.extend_from_slice(b"_\r\n"),
            Self::Map(pairs) => {
                header(out, b'%', pairs.len());
                for (key, value) in pairs {
                    key.encode(out);
                    value.encode(out);
                }
            }
            Self::Set(items) => aggregate(out, b'~', items),
            Self::Push(items) => aggregate(out, b'>', items),
            Self::Double(text) => line(out, b',', text),
            Self::Boolean(value) => {
                out.extend_from_slice(if *value { b"#t\r\n" } else { b"#f\r\n" })
            }
            Self::Verbatim { format, text } => {
                header(out, b'=', text.len() + 4);
                out.extend_from_slice(format);
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Self::BigNumber(text) => line(out, b'(', text),
            Self::BulkError(bytes) => blob(out, b'!', bytes),
        }
    }

    /// The canonical encoding as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes one frame from the start of `buffer`: the frame and the bytes it took,
    /// `Ok(None)` if `buffer` holds only part of a frame, or an error.
    pub fn decode(buffer: &[u8]) -> Result<Option<(Frame, usize)>, DecodeError> {
        let mut pos = 0;
        match decode_at(buffer, &mut pos, 0)? {
            Some(frame) => Ok(Some((frame, pos))),
            None => Ok(None),
        }
    }

    /// Decodes every frame in `buffer`; an incomplete tail is an error here
    /// ([`DecodeError::MissingCrlf`]), since a test has read the whole reply.
    pub fn decode_all(mut buffer: &[u8]) -> Result<Vec<Frame>, DecodeError> {
        let mut frames = Vec::new();
        while !buffer.is_empty() {
            let (frame, used) = Self::decode(buffer)?.ok_or(DecodeError::MissingCrlf)?;
            frames.push(frame);
            buffer = &buffer[used..];
        }
        Ok(frames)
    }
}

fn line(out: &mut Vec<u8>, prefix: u8, text: &[u8]) {
    out.push(prefix);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

fn header(out: &mut Vec<u8>, prefix: u8, len: usize) {
    line(out, prefix, itoa::Buffer::new().format(len).as_bytes());
}

fn blob(out: &mut Vec<u8>, prefix: u8, bytes: &[u8]) {
    header(out, prefix, bytes.len());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

fn aggregate(out: &mut Vec<u8>, prefix: u8, items: &[Frame]) {
    header(out, prefix, items.len());
    for item in items {
        item.encode(out);
    }
}

/// The line starting at `*pos` up to its `\r\n`; advances past it. A `\r` not followed by `\n`
/// is an error (RESP lines cannot hold one).
fn read_line<'b>(buffer: &'b [u8], pos: &mut usize) -> Result<Option<&'b [u8]>, DecodeError> {
    let rest = buffer.get(*pos..).unwrap_or_default();
    let Some(cr) = memchr(b'\r', rest) else { return Ok(None) };
    match rest.get(cr + 1) {
        None => Ok(None),
        Some(b'\n') => {
            *pos += cr + 2;
            Ok(Some(&rest[..cr]))
        }
        Some(_) => Err(DecodeError::MissingCrlf),
    }
}

/// A length line: `-1` gives `None` when `nullable`, other negatives are errors.
fn read_len(
    buffer: &[u8],
    pos: &mut usize,
    nullable: bool,
) -> Result<Option<Option<usize>>, DecodeError> {
    let Some(text) = read_line(buffer, pos)? else { return Ok(None) };
    match parse_i64(text) {
        Some(-1) if nullable => Ok(Some(None)),
        Some(len) => {
            usize::try_from(len).map(|len| Some(Some(len))).map_err(|_| DecodeError::InvalidLength)
        }
        None => Err(DecodeError::InvalidLength),
    }
}

/// `len` payload bytes and their `\r\n`.
fn read_blob(buffer: &[u8], pos: &mut usize, len: usize) -> Result<Option<Vec<u8>>, DecodeError> {
    let rest = buffer.get(*pos..).unwrap_or_default();
    if rest.len() < len || rest.len() - len < 2 {
        return Ok(None);
    }
    if &rest[len..len + 2] != b"\r\n" {
        return Err(DecodeError::MissingCrlf);
    }
    *pos += len + 2;
    Ok(Some(rest[..len].to_vec()))
}

fn decode_items(
    buffer: &[u8],
    pos: &mut usize,
    count: usize,
    depth: usize,
) -> Result<Option<Vec<Frame>>, DecodeError> {
    let mut items = Vec::with_capacity(count.min(RESERVE_MAX));
    for _ in 0..count {
        let Some(item) = decode_at(buffer, pos, depth + 1)? else { return Ok(None) };
        items.push(item);
    }
    Ok(Some(items))
}

/// Decodes the frame at `*pos`, `depth` aggregates deep.
fn decode_at(buffer: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Frame>, DecodeError> {
    if depth > MAX_NESTING {
        return Err(DecodeError::TooDeep);
    }
    let Some(&kind) = buffer.get(*pos) else { return Ok(None) };
    *pos += 1;
    // Each arm yields `None` (incomplete) through `?`-free early returns.
    macro_rules! ready {
        ($e:expr) => {
            match $e? {
                Some(value) => value,
                None => return Ok(None),
            }
        };
    }
    let frame = match kind {
        b'+' => Frame::Simple(ready!(read_line(buffer, pos)).to_vec()),
        b'-' => Frame::Error(ready!(read_line(buffer, pos)).to_vec()),
        b':' => {
            let text = ready!(read_line(buffer, pos));
            Frame::Integer(parse_i64(text).ok_or(DecodeError::InvalidInteger)?)
        }
        b',' => Frame::Double(ready!(read_line(buffer, pos)).to_vec()),
        b'(' => Frame::BigNumber(ready!(read_line(buffer, pos)).to_vec()),
        b'_' => {
            let text = ready!(read_line(buffer, pos));
            if !text.is_empty() {
                return Err(DecodeError::MissingCrlf);
            }
            Frame::Null
        }
        b'#' => match ready!(read_line(buffer, pos)) {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return Err(DecodeError::InvalidBoolean),
        },
        b'$' => match ready!(read_len(buffer, pos, true)) {
            None => Frame::NullBulk,
            Some(len) => Frame::Bulk(ready!(read_blob(buffer, pos, len))),
        },
        b'!' => {
            let len = ready!(read_len(buffer, pos, false)).ok_or(DecodeError::InvalidLength)?;
            Frame::BulkError(ready!(read_blob(buffer, pos, len)))
        }
        b'=' => {
            let len = ready!(read_len(buffer, pos, false)).ok_or(DecodeError::InvalidLength)?;
            let bytes = ready!(read_blob(buffer, pos, len));
            match bytes.get(..4) {
                Some(&[a, b, c, b':']) => {
                    Frame::Verbatim { format: [a, b, c], text: bytes[4..].to_vec() }
                }
                _ => return Err(DecodeError::InvalidVerbatim),
            }
        }
        b'*' => match ready!(read_len(buffer, pos, true)) {
            None => Frame::NullArray,
            Some(count) => Frame::Array(ready!(decode_items(buffer, pos, count, depth))),
        },
        b'~' | b'>' => {
            let count = ready!(read_len(buffer, pos, false)).ok_or(DecodeError::InvalidLength)?;
            let items = ready!(decode_items(buffer, pos, count, depth));
            if kind == b'~' { Frame::Set(items) } else { Frame::Push(items) }
        }
        b'%' => {
            let count = ready!(read_len(buffer, pos, false)).ok_or(DecodeError::InvalidLength)?;
            let pairs = count.checked_mul(2).ok_or(DecodeError::InvalidLength)?;
            let mut flat = ready!(decode_items(buffer, pos, pairs, depth)).into_iter();
            let mut map = Vec::with_capacity(count);
            while let (Some(key), Some(value)) = (flat.next(), flat.next()) {
                map.push((key, value));
            }
            Frame::Map(map)
        }
        other => return Err(DecodeError::UnknownType(other)),
    };
    Ok(Some(frame))
}
