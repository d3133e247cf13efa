//! Reply encoding for RESP2 and RESP3, straight into the connection's output buffer.
//!
//! A command writes its reply through an [`Encoder`] built over the output `Vec<u8>` and the
//! connection's [`Protocol`]; each RESP3-only type falls back to what Redis 7.0 sends a RESP2
//! client (`networking.c`, `addReply*`): maps become flat arrays, sets and pushes arrays,
//! doubles and big numbers bulk strings, booleans the integers 1 and 0, nulls `$-1` or `*-1`.
//!
//! Nothing allocates beyond the output buffer's growth: numbers are formatted with `itoa` on
//! the stack, and the commonest replies are constants.

/// `+OK\r\n`.
pub const OK: &[u8] = b"+OK\r\n";
/// `+PONG\r\n`.
pub const PONG: &[u8] = b"+PONG\r\n";
/// `+QUEUED\r\n` (commands inside MULTI).
pub const QUEUED: &[u8] = b"+QUEUED\r\n";
/// The integer 0.
pub const ZERO: &[u8] = b":0\r\n";
/// The integer 1.
pub const ONE: &[u8] = b":1\r\n";
/// RESP2's null bulk string (a missing key's GET).
pub const NULL_BULK: &[u8] = b"$-1\r\n";
/// RESP2's null array (a timed-out BLPOP, EXEC aborted by WATCH).
pub const NULL_ARRAY: &[u8] = b"*-1\r\n";
/// RESP3's null, for both of the above.
pub const NULL: &[u8] = b"_\r\n";
/// The empty array.
pub const EMPTY_ARRAY: &[u8] = b"*0\r\n";
/// The empty bulk string.
pub const EMPTY_BULK: &[u8] = b"$0\r\n\r\n";

/// The protocol a connection speaks: RESP2 until the client sends `HELLO 3`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// RESP2, every connection's start.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

/// Writes replies to an output buffer in one connection's protocol.
#[derive(Debug)]
pub struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    protocol: Protocol,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`.
    pub fn new(out: &'a mut Vec<u8>, protocol: Protocol) -> Self {
        Self { out, protocol }
    }

    /// The protocol replies are written in.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The output buffer, for callers that write raw bytes.
    pub fn out(&mut self) -> &mut Vec<u8> {
        self.out
    }

    /// Appends pre-encoded bytes, such as the constants of this module.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.raw(OK);
    }

    /// A simple string, `+text`. A `\r` or `\n` in `text` is written as a space, so the reply
    /// stays one line.
    pub fn simple(&mut self, text: &[u8]) {
        self.out.push(b'+');
        self.line(text);
    }

    /// An error, `-text`, where `text` starts with the error code: `ERR syntax error`,
    /// `WRONGTYPE Operation against ...`. `\r` and `\n` become spaces, as in Redis's
    /// `addReplyErrorFormat`.
    pub fn error(&mut self, text: &[u8]) {
        self.out.push(b'-');
        self.line(text);
    }

    fn line(&mut self, text: &[u8]) {
        if memchr::memchr2(b'\r', b'\n', text).is_none() {
            self.out.extend_from_slice(text);
        } else {
            self.out.extend(text.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        }
        self.out.extend_from_slice(b"\r\n");
    }

    /// An integer, `:n`.
    pub fn integer(&mut self, value: i64) {
        match value {
            0 => self.raw(ZERO),
            1 => self.raw(ONE),
            _ => self.prefixed(b':', value),
        }
    }

    /// `<prefix><n>\r\n`, the shape of integers and of every length header.
    fn prefixed(&mut self, prefix: u8, value: i64) {
        let mut digits = itoa::Buffer::new();
        self.out.push(prefix);
        self.out.extend_from_slice(digits.format(value).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    fn header(&mut self, prefix: u8, len: usize) {
        let mut digits = itoa::Buffer::new();
        self.out.push(prefix);
        self.out.extend_from_slice(digits.format(len).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// A bulk string, `$len\r\nbytes\r\n`.
    pub fn bulk(&mut self, bytes: &[u8]) {
        self.out.reserve(bytes.len() + 16);
        self.header(b'$', bytes.len());
        self.out.extend_from_slice(bytes);
        self.out.extend_from_slice(b"\r\n");
    }

    /// An integer as a bulk string (`addReplyBulkLongLong`: INCRBYFLOAT-style replies, keys).
    pub fn bulk_integer(&mut self, value: i64) {
        let mut digits = itoa::Buffer::new();
        self.bulk(digits.format(value).as_bytes());
    }

    /// A bulk string or, for `None`, the null bulk.
    pub fn bulk_or_null(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            Some(bytes) => self.bulk(bytes),
            None => self.null(),
        }
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3 (`addReplyNull`).
    pub fn null(&mut self) {
        self.raw(match self.protocol {
            Protocol::Resp2 => NULL_BULK,
            Protocol::Resp3 => NULL,
        });
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3 (`addReplyNullArray`).
    pub fn null_array(&mut self) {
        self.raw(match self.protocol {
            Protocol::Resp2 => NULL_ARRAY,
            Protocol::Resp3 => NULL,
        });
    }

    /// An array header, `*len`; `len` elements follow.
    pub fn array(&mut self, len: usize) {
        self.header(b'*', len);
    }

    /// A map header for `len` key-value pairs: `%len` in RESP3, `*<2 len>` in RESP2; `2 len`
    /// elements follow, key then value.
    pub fn map(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len.saturating_mul(2)),
            Protocol::Resp3 => self.header(b'%', len),
        }
    }

    /// A set header, `~len` in RESP3, `*len` in RESP2.
    pub fn set(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len),
            Protocol::Resp3 => self.header(b'~', len),
        }
    }

    /// A push header (pub/sub messages), `>len` in RESP3, `*len` in RESP2.
    pub fn push(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len),
            Protocol::Resp3 => self.header(b'>', len),
        }
    }

    /// A double given as its text, already formatted by the caller the way Redis does
    /// (`%.17g`, `inf`, `-inf`): `,text` in RESP3, a bulk string in RESP2.
    pub fn double(&mut self, text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.out.push(b',');
                self.out.extend_from_slice(text);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, value: bool) {
        self.raw(match (self.protocol, value) {
            (Protocol::Resp2, true) => ONE,
            (Protocol::Resp2, false) => ZERO,
            (Protocol::Resp3, true) => b"#t\r\n",
            (Protocol::Resp3, false) => b"#f\r\n",
        });
    }

    /// A verbatim string with a three-byte format (`txt`, `mkd`): `=len\r\nfmt:text` in
    /// RESP3, a plain bulk of `text` in RESP2 (`addReplyVerbatim`).
    pub fn verbatim(&mut self, format: [u8; 3], text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.header(b'=', text.len() + 4);
                self.out.extend_from_slice(&format);
                self.out.push(b':');
                self.out.extend_from_slice(text);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A big number given as its decimal text: `(text` in RESP3, a bulk string in RESP2.
    pub fn big_number(&mut self, text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.out.push(b'(');
                self.out.extend_from_slice(text);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }
}

/// Appends a request as a client sends it: a multibulk of bulk strings.
pub fn write_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    let mut encoder = Encoder::new(out, Protocol::Resp2);
    encoder.array(args.len());
    for arg in args {
        encoder.bulk(arg.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::{Encoder, Protocol, write_command};

    fn both(write: impl Fn(&mut Encoder<'_>)) -> (Vec<u8>, Vec<u8>) {
        let (mut two, mut three) = (Vec::new(), Vec::new());
        write(&mut Encoder::new(&mut two, Protocol::Resp2));
        write(&mut Encoder::new(&mut three, Protocol::Resp3));
        (two, three)
    }

    fn check(write: impl Fn(&mut Encoder<'_>), resp2: &[u8], resp3: &[u8]) {
        let (two, three) = both(write);
        assert_eq!(two.escape_ascii().to_string(), resp2.escape_ascii().to_string());
        assert_eq!(three.escape_ascii().to_string(), resp3.escape_ascii().to_string());
    }

    #[test]
    fn scalars() {
        check(|e| e.ok(), b"+OK\r\n", b"+OK\r\n");
        check(|e| e.simple(b"a\r\nb"), b"+a  b\r\n", b"+a  b\r\n");
        check(|e| e.error(b"ERR x\ny"), b"-ERR x y\r\n", b"-ERR x y\r\n");
        check(|e| e.integer(0), b":0\r\n", b":0\r\n");
        check(|e| e.integer(1), b":1\r\n", b":1\r\n");
        check(|e| e.integer(-42), b":-42\r\n", b":-42\r\n");
        check(|e| e.integer(i64::MIN), b":-9223372036854775808\r\n", b":-9223372036854775808\r\n");
        check(|e| e.bulk(b""), b"$0\r\n\r\n", b"$0\r\n\r\n");
        check(|e| e.bulk(b"a\r\nb"), b"$4\r\na\r\nb\r\n", b"$4\r\na\r\nb\r\n");
        check(|e| e.bulk_integer(-7), b"$2\r\n-7\r\n", b"$2\r\n-7\r\n");
        check(|e| e.bulk_or_null(None), b"$-1\r\n", b"_\r\n");
        check(|e| e.null_array(), b"*-1\r\n", b"_\r\n");
        check(|e| e.double(b"3.5"), b"$3\r\n3.5\r\n", b",3.5\r\n");
        check(|e| e.double(b"-inf"), b"$4\r\n-inf\r\n", b",-inf\r\n");
        check(|e| e.boolean(true), b":1\r\n", b"#t\r\n");
        check(|e| e.boolean(false), b":0\r\n", b"#f\r\n");
        check(|e| e.verbatim(*b"txt", b"hi"), b"$2\r\nhi\r\n", b"=6\r\ntxt:hi\r\n");
        check(|e| e.big_number(b"123"), b"$3\r\n123\r\n", b"(123\r\n");
    }

    #[test]
    fn aggregates() {
        check(|e| e.array(3), b"*3\r\n", b"*3\r\n");
        check(|e| e.map(2), b"*4\r\n", b"%2\r\n");
        check(|e| e.set(2), b"*2\r\n", b"~2\r\n");
        check(|e| e.push(3), b"*3\r\n", b">3\r\n");
    }

    #[test]
    fn command() {
        let mut out = Vec::new();
        write_command(&mut out, &["SET", "k", ""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }
}
