//! A RESP2/RESP3 reply skipper: finds where a reply ends and whether it is (or holds) an error,
//! without building a [`Frame`](crate::protocol::Frame).
//!
//! The generator needs only two facts per reply, so skipping instead of decoding saves an
//! allocation per bulk and keeps the client's cost below the server's. The tests check it
//! against `Frame::decode` on every reply type.

use memchr::memchr;

/// Aggregates nest at most this deep (EXEC's array of replies is depth 2).
pub const MAX_REPLY_DEPTH: usize = 32;

/// One skipped reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// Bytes the reply took.
    pub len: usize,
    /// Whether the reply is an error or an aggregate holding one (EXEC with a failed command).
    pub error: bool,
}

/// Skips the reply at the start of `buffer`: `Ok(None)` when it is incomplete, `Err` with a
/// description when the bytes are not RESP.
pub fn skip_reply(buffer: &[u8]) -> Result<Option<Skipped>, String> {
    let mut pos = 0;
    let mut error = false;
    match skip_at(buffer, &mut pos, 0, &mut error)? {
        Some(()) => Ok(Some(Skipped { len: pos, error })),
        None => Ok(None),
    }
}

/// The error text of the reply at the start of `buffer`, if it is a simple error line.
pub fn error_text(buffer: &[u8]) -> Option<String> {
    let rest = buffer.strip_prefix(b"-")?;
    let end = memchr(b'\r', rest)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// The line at `*pos` (without `\r\n`); advances past it.
fn line<'b>(buffer: &'b [u8], pos: &mut usize) -> Option<&'b [u8]> {
    let rest = &buffer[*pos..];
    let end = memchr(b'\n', rest)?;
    *pos += end + 1;
    Some(rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]))
}

fn length(text: &[u8]) -> Result<i64, String> {
    let (negative, digits) = match text.strip_prefix(b"-") {
        Some(digits) => (true, digits),
        None => (false, text),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(format!("bad length {:?}", String::from_utf8_lossy(text)));
    }
    let value = digits.iter().fold(0i64, |acc, digit| acc * 10 + i64::from(digit - b'0'));
    Ok(if negative { -value } else { value })
}

fn skip_at(
    buffer: &[u8],
    pos: &mut usize,
    depth: usize,
    error: &mut bool,
) -> Result<Option<()>, String> {
    if depth > MAX_REPLY_DEPTH {
        return Err(format!("replies nested deeper than {MAX_REPLY_DEPTH}"));
    }
    let Some(&kind) = buffer.get(*pos) else { return Ok(None) };
    *pos += 1;
    let Some(header) = line(buffer, pos) else { return Ok(None) };
    let items = match kind {
        b'+' | b':' | b',' | b'(' | b'_' | b'#' => return Ok(Some(())),
        b'-' => {
            *error = true;
            return Ok(Some(()));
        }
        b'$' | b'!' | b'=' => {
            *error |= kind == b'!';
            let len = length(header)?;
            if len < 0 {
                return Ok(Some(()));
            }
            let end = *pos + len as usize + 2;
            if buffer.len() < end {
                return Ok(None);
            }
            if &buffer[end - 2..end] != b"\r\n" {
                return Err("a bulk reply does not end with CRLF".to_owned());
            }
            *pos = end;
            return Ok(Some(()));
        }
        b'*' | b'~' | b'>' => length(header)?,
        b'%' | b'|' => length(header)?.saturating_mul(2),
        other => return Err(format!("unknown reply type byte 0x{other:02x}")),
    };
    for _ in 0..items.max(0) {
        if skip_at(buffer, pos, depth + 1, error)?.is_none() {
            return Ok(None);
        }
    }
    if kind == b'|' {
        // An attribute precedes the reply it annotates: skip that too.
        return skip_at(buffer, pos, depth, error);
    }
    Ok(Some(()))
}

#[cfg(test)]
mod tests {
    use super::{Skipped, error_text, skip_reply};
    use crate::protocol::Frame;

    fn frames() -> Vec<Frame> {
        vec![
            Frame::simple("OK"),
            Frame::error("ERR wrong"),
            Frame::Integer(-42),
            Frame::bulk(b"hello\r\nworld"),
            Frame::bulk(b""),
            Frame::NullBulk,
            Frame::NullArray,
            Frame::Null,
            Frame::Boolean(true),
            Frame::Double(b"1.5".to_vec()),
            Frame::Array(vec![Frame::simple("OK"), Frame::Integer(1)]),
            Frame::Array(vec![Frame::simple("OK"), Frame::error("WRONGTYPE x")]),
            Frame::Map(vec![(Frame::bulk("a"), Frame::Array(vec![Frame::bulk("b")]))]),
            Frame::Set(vec![Frame::Integer(1)]),
        ]
    }

    #[test]
    fn agrees_with_frame_decode_on_every_prefix() {
        for frame in frames() {
            let bytes = frame.to_bytes();
            let error = matches!(&frame, Frame::Error(_))
                || matches!(&frame, Frame::Array(items) if items.iter().any(|item| matches!(item, Frame::Error(_))));
            assert_eq!(skip_reply(&bytes), Ok(Some(Skipped { len: bytes.len(), error })));
            for cut in 0..bytes.len() {
                assert_eq!(skip_reply(&bytes[..cut]), Ok(None), "{frame:?} cut at {cut}");
                assert!(Frame::decode(&bytes[..cut]).unwrap().is_none());
            }
        }
    }

    #[test]
    fn skips_a_pipelined_stream() {
        let mut stream = Vec::new();
        for frame in frames() {
            frame.encode(&mut stream);
        }
        let (mut at, mut count) = (0, 0);
        while let Some(skipped) = skip_reply(&stream[at..]).unwrap() {
            at += skipped.len;
            count += 1;
        }
        assert_eq!((at, count), (stream.len(), frames().len()));
    }

    #[test]
    fn rejects_garbage_and_reads_errors() {
        assert!(skip_reply(b"?what\r\n").is_err());
        assert!(skip_reply(b"$3\r\nabcde\r\n").is_err());
        assert!(skip_reply(b"*x\r\n").is_err());
        assert_eq!(error_text(b"-ERR unknown command\r\n").unwrap(), "ERR unknown command");
        assert_eq!(error_text(b"+OK\r\n"), None);
    }
}
