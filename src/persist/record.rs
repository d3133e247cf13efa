//! The append-only file's record format.
//!
//! An AOF file is a header line, then records. A record is one header line and a payload:
//!
//! ```text
//! #corekv-aof 1\r\n                                       file header (format version 1)
//! #17 1763916000123 0 35 9f2c01ab\r\n                     seq, unix ms, db, payload length, crc
//! *3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n         payload: RESP commands
//! ```
//!
//! - `seq` is the write's place in the global order (records are in increasing `seq`).
//! - `ms` is the instant the write ran at; replay runs it at that same instant
//!   (`engine::clock::with_frozen_time`), so relative TTLs and expiry decisions replay exactly.
//! - `db` is the database the first command runs in; a transaction's payload holds several
//!   commands (its `SELECT`s included) and is applied whole or not at all.
//! - `crc` is the CRC-32 (IEEE) of the header's text before it (`#17 1763916000123 0 35 `)
//!   followed by the payload, in eight lowercase hex digits.
//!
//! The payload is plain RESP, so a record is readable with `cat` and replays through the same
//! command path as a client's request.

/// The first line of every AOF file this version writes.
pub const FILE_HEADER: &[u8] = b"#corekv-aof 1\r\n";
/// The file header's prefix, shared by every format version.
const FILE_MAGIC: &[u8] = b"#corekv-aof ";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// The longest record header line: four decimal u64s, eight hex digits, separators.
pub const MAX_HEADER_LEN: usize = 1 + 4 * 20 + 4 + 8 + 2;

/// One decoded record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Position in the global write order.
    pub seq: u64,
    /// Unix milliseconds the write ran at.
    pub ms: u64,
    /// Database of the payload's first command.
    pub db: u64,
    /// Payload length in bytes.
    pub len: u64,
    /// CRC-32 of the header's fields and the payload.
    pub crc: u32,
}

/// Appends one record to `out`.
///
/// Every write of a persistent server passes here, so the header is built with `itoa` and a
/// hex table rather than `write!` (which took four fifths of the record's cost:
/// `cargo bench --bench aof`, `record-encode`).
pub fn encode(out: &mut Vec<u8>, seq: u64, ms: u64, db: usize, payload: &[u8]) {
    let start = out.len();
    out.reserve(MAX_HEADER_LEN + payload.len());
    let mut number = itoa::Buffer::new();
    out.push(b'#');
    for field in [seq, ms, db as u64, payload.len() as u64] {
        out.extend_from_slice(number.format(field).as_bytes());
        out.push(b' ');
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&out[start..]);
    crc.update(payload);
    out.extend_from_slice(&hex8(crc.finalize()));
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(payload);
}

/// `value` as eight lowercase hex digits.
fn hex8(value: u32) -> [u8; 8] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 8];
    for (i, digit) in text.iter_mut().enumerate() {
        *digit = DIGITS[((value >> (28 - 4 * i)) & 0xf) as usize];
    }
    text
}

/// What is at the start of `bytes` (a position in a file where a record should begin).
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole record whose checksum matches: its header, payload, and total length.
    Record(Header, &'a [u8], usize),
    /// The bytes end before the record does (a torn write at the end of a file).
    Incomplete,
    /// Not a valid record: the reason.
    Invalid(&'static str),
}

/// Decodes the record at the start of `bytes`.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let Some(line_end) = memchr::memchr(b'\n', &bytes[..bytes.len().min(MAX_HEADER_LEN)]) else {
        return if bytes.len() < MAX_HEADER_LEN && !bytes.is_empty() && bytes[0] == b'#' {
            Decoded::Incomplete
        } else {
            Decoded::Invalid("no record header")
        };
    };
    if line_end < 2 || bytes[0] != b'#' || bytes[line_end - 1] != b'\r' {
        return Decoded::Invalid("malformed record header");
    }
    let line = &bytes[1..line_end - 1];
    let mut fields = line.split(|&b| b == b' ');
    let mut number = || fields.next().and_then(parse_u64);
    let (Some(seq), Some(ms), Some(db), Some(len)) = (number(), number(), number(), number())
    else {
        return Decoded::Invalid("malformed record header");
    };
    let crc = fields
        .next()
        .filter(|text| text.len() == 8)
        .and_then(|text| std::str::from_utf8(text).ok())
        .and_then(|text| u32::from_str_radix(text, 16).ok());
    let (Some(crc), None) = (crc, fields.next()) else {
        return Decoded::Invalid("malformed record header");
    };
    let prefix = &bytes[..line.len() + 1 - 8];
    let start = line_end + 1;
    let Some(end) = usize::try_from(len).ok().and_then(|len| start.checked_add(len)) else {
        return Decoded::Invalid("record length out of range");
    };
    if end > bytes.len() {
        return Decoded::Incomplete;
    }
    let payload = &bytes[start..end];
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(prefix);
    hasher.update(payload);
    if hasher.finalize() != crc {
        return Decoded::Invalid("checksum mismatch");
    }
    Decoded::Record(Header { seq, ms, db, len, crc }, payload, end)
}

/// Checks a file's first line; returns its length.
pub fn check_file_header(bytes: &[u8]) -> Result<usize, String> {
    if !bytes.starts_with(FILE_MAGIC) {
        return Err("not a corekv append-only file (wrong magic)".to_owned());
    }
    let Some(end) = memchr::memchr(b'\n', &bytes[..bytes.len().min(64)]) else {
        return Err("truncated file header".to_owned());
    };
    let version = std::str::from_utf8(&bytes[FILE_MAGIC.len()..end])
        .ok()
        .map(|text| text.trim_end_matches('\r'))
        .and_then(|text| text.parse::<u32>().ok())
        .ok_or_else(|| "malformed file header".to_owned())?;
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, but this corekv reads version {FORMAT_VERSION} \
             (written by a newer corekv?)"
        ));
    }
    Ok(end + 1)
}

fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out, seq, 1_763_916_000_123, 3, payload);
        out
    }

    #[test]
    fn round_trip() {
        let payload = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let bytes = record(17, payload);
        assert_eq!(payload.len(), 27);
        assert!(bytes.starts_with(b"#17 1763916000123 3 27 "));
        let Decoded::Record(header, decoded, used) = decode(&bytes) else { panic!() };
        assert_eq!((header.seq, header.ms, header.db, header.len), (17, 1_763_916_000_123, 3, 27));
        assert_eq!(decoded, payload);
        assert_eq!(used, bytes.len());
    }

    /// The header as the format describes it, built the slow, obvious way.
    fn reference(seq: u64, ms: u64, db: usize, payload: &[u8]) -> Vec<u8> {
        let prefix = format!("#{seq} {ms} {db} {} ", payload.len());
        let mut crc = crc32fast::Hasher::new();
        crc.update(prefix.as_bytes());
        crc.update(payload);
        let mut out = format!("{prefix}{:08x}\r\n", crc.finalize()).into_bytes();
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn encoding_matches_the_format_text() {
        let payloads: [&[u8]; 3] = [b"", b"*1\r\n$4\r\nPING\r\n", &[0xffu8; 300]];
        for seq in [0, 1, 9, 10, 99, 100, 123_456_789, u64::MAX] {
            for (ms, db) in [(0, 0), (1_763_916_000_123, 15), (u64::MAX, usize::MAX)] {
                for payload in payloads {
                    let mut out = b"earlier bytes".to_vec();
                    encode(&mut out, seq, ms, db, payload);
                    assert_eq!(&out[..13], b"earlier bytes");
                    assert_eq!(out[13..], reference(seq, ms, db, payload), "seq {seq} ms {ms}");
                }
            }
        }
        // The hex digits of every nibble value, in order.
        assert_eq!(&hex8(0x0123_4567), b"01234567");
        assert_eq!(&hex8(0x89ab_cdef), b"89abcdef");
    }

    #[test]
    fn every_truncation_is_incomplete_and_every_flip_is_caught() {
        let bytes = record(5, b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n");
        for cut in 1..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), Decoded::Incomplete, "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x01;
            assert!(
                !matches!(decode(&flipped), Decoded::Record(_, _, n) if n == bytes.len()
                    && flipped[..n] != bytes[..n]),
                "flip at {at} decoded as a valid record"
            );
        }
    }

    #[test]
    fn file_header_versions() {
        assert_eq!(check_file_header(FILE_HEADER), Ok(FILE_HEADER.len()));
        assert!(check_file_header(b"#corekv-aof 2\r\n").unwrap_err().contains("version 2"));
        assert!(check_file_header(b"*2\r\n$6\r\nSELECT\r\n").unwrap_err().contains("magic"));
        assert!(check_file_header(b"REDIS0011").unwrap_err().contains("magic"));
    }
}
