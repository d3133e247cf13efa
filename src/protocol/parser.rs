//! The incremental request parser: what a server reads from its clients.
//!
//! The algorithm, the resume contract and Redis's quirks are documented on [`RequestParser`].

use std::ops::Range;

use memchr::memchr2;

use super::error::ProtocolError;
use super::inline::split_args;
use super::number::parse_i64;

/// Redis's `PROTO_INLINE_MAX_SIZE`: the longest inline line or `*`/`$` header line (64 KB).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Redis's default `proto-max-bulk-len`: the longest argument (512 MB).
pub const PROTO_MAX_BULK_LEN_DEFAULT: u64 = 512 * 1024 * 1024;
/// Redis 7.0 refuses a multibulk count above `INT_MAX` (it was 1024 * 1024 before 6.0).
pub const MAX_MULTIBULK_LEN_DEFAULT: u64 = i32::MAX as u64;
/// Before AUTH (when a password is required) at most this many arguments (Redis 7.0).
pub const UNAUTHENTICATED_MAX_ARGS: u64 = 10;
/// Before AUTH (when a password is required) at most this many bytes per argument.
pub const UNAUTHENTICATED_MAX_BULK_LEN: u64 = 16384;
/// The most argument slots reserved from a request's declared count (Redis: `min(N, 1024)`);
/// more grow as arguments actually arrive.
pub const ARGS_RESERVE_MAX: usize = 1024;

/// The parser's limits, with Redis's names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParserLimits {
    /// `proto-max-bulk-len`: the longest argument in bytes. Default 512 MB.
    pub proto_max_bulk_len: u64,
    /// The largest multibulk count (`*N`). Default `INT_MAX`, as Redis 7.0 hard-codes it.
    pub max_multibulk_len: u64,
    /// `PROTO_INLINE_MAX_SIZE`: the longest inline request line, and the longest `*N`/`$len`
    /// line. Default 64 KB.
    pub max_inline_len: usize,
}

impl Default for ParserLimits {
    fn default() -> Self {
        Self {
            proto_max_bulk_len: PROTO_MAX_BULK_LEN_DEFAULT,
            max_multibulk_len: MAX_MULTIBULK_LEN_DEFAULT,
            max_inline_len: PROTO_INLINE_MAX_SIZE,
        }
    }
}

/// One parsed request: its arguments, borrowed from the read buffer (multibulk) or from the
/// parser's scratch buffer (inline). Always has at least one argument.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    data: &'a [u8],
    spans: &'a [Range<usize>],
    inline: bool,
}

impl<'a> Request<'a> {
    /// The number of arguments, the command name included (`argc`).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Always false: empty requests are skipped by the parser. Here for the usual pairing
    /// with [`Request::len`].
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `index` (0 is the command name), if there is one.
    pub fn arg(&self, index: usize) -> Option<&'a [u8]> {
        self.spans.get(index).and_then(|span| self.data.get(span.clone()))
    }

    /// The command name, as sent (not case-folded).
    pub fn name(&self) -> &'a [u8] {
        self.arg(0).unwrap_or_default()
    }

    /// The arguments in order, the command name first.
    pub fn args(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + use<'a> {
        let data = self.data;
        self.spans.iter().map(move |span| data.get(span.clone()).unwrap_or_default())
    }

    /// Whether the request came as an inline line rather than a multibulk.
    pub fn is_inline(&self) -> bool {
        self.inline
    }

    /// Copies the arguments out (tests, and callers that keep a request past the next parse).
    pub fn to_vec(&self) -> Vec<Vec<u8>> {
        self.args().map(<[u8]>::to_vec).collect()
    }
}

/// Where the parser is inside the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between requests: the next byte decides multibulk or inline.
    Idle,
    /// Waiting for the `*N` line to end.
    MultibulkCount,
    /// Reading arguments: `remaining` still to come; `bulk_len` is known once the `$len` line
    /// of the next one was read.
    Multibulk { remaining: u64, bulk_len: Option<usize> },
    /// Waiting for the inline line's `\n`.
    Inline,
}

/// The incremental request parser of one connection.
///
/// # Algorithm
///
/// This is Redis 7.0's `processInputBuffer` as a state machine over the connection's read
/// buffer. A request starting with `*` is a multibulk (`*N\r\n` then `N` times `$len\r\n`
/// `<len bytes>\r\n`); anything else is an inline line. Multibulk arguments are returned as
/// ranges of the caller's buffer (no copy); inline arguments are unescaped into a scratch
/// buffer the parser reuses.
///
/// # Resuming
///
/// When a request is incomplete the parser returns `Ok(None)` and keeps its progress: the
/// arguments already read, the length of the bulk it waits for, and how far it searched for a
/// line terminator. The next call resumes there, so a request that arrives a byte at a time
/// costs linear, not quadratic, work. The caller's contract: after `Ok(None)`, call again with
/// the *same* bytes extended by what was read since; drop a prefix of the buffer only when a
/// call returned `Some((_, consumed))`, and then exactly `consumed` bytes. (A buffer shorter
/// than what was already parsed breaks the contract; the parser then starts over from byte 0.)
///
/// # Redis's quirks, kept on purpose
///
/// - Header lines end at the first `\r`, and the byte after it is skipped unchecked; a bulk's
///   payload is followed by two bytes that are skipped unchecked (`$4\r\nPINGxx` is `PING`).
/// - The search for a line terminator stops at a NUL byte, as Redis's `strchr` does: a request
///   line with a NUL in it never completes and ends, once more than `max_inline_len` bytes are
///   buffered, in a "too big" error.
/// - `*0`, `*-1` (any count ≤ 0) and blank inline lines are skipped without a reply.
/// - The "too big" errors are decided on the line's length alone (a terminator found more than
///   `max_inline_len` bytes after the line's start also counts, and an inline line's length
///   includes the `\r` before its `\n`), not, as in Redis, on how the bytes happened to be
///   split into 16 KB reads; so the outcome never depends on read sizes. Redis accepts an
///   inline line of 64-80 KB when its newline arrives in the read that crosses 64 KB; corekv
///   refuses every line over 64 KB.
///
/// # Limits
///
/// No length read from the wire is allocated up front: a `$4294967296` header is refused as
/// soon as its line is complete, and a count of a million reserves at most
/// [`ARGS_RESERVE_MAX`] slots.
#[derive(Debug)]
pub struct RequestParser {
    limits: ParserLimits,
    auth_required: bool,
    state: State,
    /// Offset in the caller's buffer where the current request (or line) starts; past any
    /// skipped empty requests.
    start: usize,
    /// The next byte to parse.
    pos: usize,
    /// The search for the current line's terminator resumes here (everything between `pos`
    /// and `scanned` is known not to hold one).
    scanned: usize,
    /// The arguments of the current request, as ranges of the caller's buffer (multibulk) or
    /// of `scratch` (inline).
    spans: Vec<Range<usize>>,
    scratch: Vec<u8>,
    /// The previous call returned a request: the caller has since dropped its bytes, so
    /// offsets restart at 0.
    returned: bool,
    /// The error already returned; every later call returns it again.
    failed: Option<ProtocolError>,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::new(ParserLimits::default())
    }
}

/// What the search for a line terminator found.
enum Line {
    /// The terminator is at this offset.
    End(usize),
    /// Not there yet (or hidden behind a NUL byte).
    Incomplete,
}

impl RequestParser {
    /// A parser for a new connection.
    pub fn new(limits: ParserLimits) -> Self {
        Self {
            limits,
            auth_required: false,
            state: State::Idle,
            start: 0,
            pos: 0,
            scanned: 0,
            spans: Vec::new(),
            scratch: Vec::new(),
            returned: false,
            failed: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> ParserLimits {
        self.limits
    }

    /// Changes the limits (`CONFIG SET proto-max-bulk-len`); applies from the next line read.
    pub fn set_limits(&mut self, limits: ParserLimits) {
        self.limits = limits;
    }

    /// Whether the client still has to authenticate: while true, Redis's stricter limits apply
    /// (at most [`UNAUTHENTICATED_MAX_ARGS`] arguments of [`UNAUTHENTICATED_MAX_BULK_LEN`]
    /// bytes). False for a new parser.
    pub fn set_auth_required(&mut self, required: bool) {
        self.auth_required = required;
    }

    /// Forgets any partial request and a past error, as for a fresh connection.
    pub fn reset(&mut self) {
        self.state = State::Idle;
        self.start = 0;
        self.pos = 0;
        self.scanned = 0;
        self.spans.clear();
        self.returned = false;
        self.failed = None;
    }

    /// How many bytes the buffer must hold before the pending request can make progress, when
    /// the parser waits for a bulk payload: a hint to reserve read-buffer space for a big
    /// argument at once. `None` when waiting for a line.
    pub fn needed_len(&self) -> Option<usize> {
        match self.state {
            State::Multibulk { bulk_len: Some(len), .. } if !self.returned => {
                self.pos.checked_add(len)?.checked_add(2)
            }
            _ => None,
        }
    }

    /// Parses the next complete request from `buffer`, which starts at the first byte not yet
    /// consumed. Returns the request and the number of bytes it took (counting any empty
    /// requests skipped before it), `Ok(None)` when more bytes are needed, or the protocol
    /// error the client must be sent before the connection is closed. Pipelining: call again
    /// on the rest of the buffer until `Ok(None)`.
    pub fn parse<'p>(
        &'p mut self,
        buffer: &'p [u8],
    ) -> Result<Option<(Request<'p>, usize)>, ProtocolError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        if self.returned || buffer.len() < self.pos {
            self.reset();
        }
        match self.advance(buffer) {
            Ok(true) => {
                self.returned = true;
                let inline = self.state == State::Inline;
                self.state = State::Idle;
                let data = if inline { &self.scratch[..] } else { buffer };
                Ok(Some((Request { data, spans: &self.spans, inline }, self.pos)))
            }
            Ok(false) => Ok(None),
            Err(error) => {
                self.failed = Some(error);
                Err(error)
            }
        }
    }

    /// Argument slots reserved (tests: a huge count must not reserve much).
    #[cfg(test)]
    pub(super) fn reserved_args(&self) -> usize {
        self.spans.capacity()
    }

    /// Runs the state machine; `Ok(true)` when a request is complete in `spans`.
    fn advance(&mut self, buffer: &[u8]) -> Result<bool, ProtocolError> {
        loop {
            match self.state {
                State::Idle => {
                    let Some(&first) = buffer.get(self.pos) else { return Ok(false) };
                    self.start = self.pos;
                    self.scanned = self.pos;
                    self.spans.clear();
                    self.state = if first == b'*' { State::MultibulkCount } else { State::Inline };
                }
                State::MultibulkCount => {
                    let Line::End(end) =
                        self.find_line(buffer, b'\r', ProtocolError::TooBigMultibulkCount)?
                    else {
                        return Ok(false);
                    };
                    let count = buffer
                        .get(self.pos + 1..end)
                        .and_then(parse_i64)
                        .filter(|&count| {
                            count <= 0 || count as u64 <= self.limits.max_multibulk_len
                        })
                        .ok_or(ProtocolError::InvalidMultibulkLength)?;
                    if count > 0 && count as u64 > UNAUTHENTICATED_MAX_ARGS && self.auth_required {
                        return Err(ProtocolError::UnauthenticatedMultibulkLength);
                    }
                    self.pos = end + 2;
                    self.scanned = self.pos;
                    if count <= 0 {
                        // Redis resets the client and goes on with the next request.
                        self.state = State::Idle;
                        continue;
                    }
                    self.spans.reserve((count as u64).min(ARGS_RESERVE_MAX as u64) as usize);
                    self.state = State::Multibulk { remaining: count as u64, bulk_len: None };
                }
                State::Multibulk { remaining: 0, .. } => return Ok(true),
                State::Multibulk { remaining, bulk_len: None } => {
                    let Line::End(end) =
                        self.find_line(buffer, b'\r', ProtocolError::TooBigBulkCount)?
                    else {
                        return Ok(false);
                    };
                    let first = buffer.get(self.pos).copied().unwrap_or(b'\r');
                    if first != b'$' {
                        let shown = if first == b'\r' || first == b'\n' { b' ' } else { first };
                        return Err(ProtocolError::ExpectedDollar(shown));
                    }
                    let len = buffer
                        .get(self.pos + 1..end)
                        .and_then(parse_i64)
                        .and_then(|len| u64::try_from(len).ok())
                        .filter(|&len| len <= self.limits.proto_max_bulk_len)
                        .and_then(|len| usize::try_from(len).ok())
                        .ok_or(ProtocolError::InvalidBulkLength)?;
                    if len as u64 > UNAUTHENTICATED_MAX_BULK_LEN && self.auth_required {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    self.pos = end + 2;
                    self.state = State::Multibulk { remaining, bulk_len: Some(len) };
                }
                State::Multibulk { remaining, bulk_len: Some(len) } => {
                    // The payload and the two bytes after it (Redis skips them unchecked).
                    let available = buffer.len() - self.pos;
                    if available < len || available - len < 2 {
                        return Ok(false);
                    }
                    self.spans.push(self.pos..self.pos + len);
                    self.pos += len + 2;
                    self.scanned = self.pos;
                    self.state = State::Multibulk { remaining: remaining - 1, bulk_len: None };
                }
                State::Inline => {
                    let Line::End(newline) =
                        self.find_line(buffer, b'\n', ProtocolError::TooBigInlineRequest)?
                    else {
                        return Ok(false);
                    };
                    let mut line_end = newline;
                    if newline > self.pos && buffer[newline - 1] == b'\r' {
                        line_end -= 1;
                    }
                    self.scratch.clear();
                    split_args(&buffer[self.pos..line_end], &mut self.scratch, &mut self.spans)
                        .map_err(|()| ProtocolError::UnbalancedQuotes)?;
                    self.pos = newline + 1;
                    self.scanned = self.pos;
                    if self.spans.is_empty() {
                        self.state = State::Idle;
                        continue;
                    }
                    return Ok(true);
                }
            }
        }
    }

    /// Finds the terminator of the line starting at `pos`, resuming at `scanned`. A `\r`
    /// terminator also needs the byte after it to be buffered. Stops at NUL like `strchr`.
    /// A line longer than `max_inline_len` is refused with `too_big`.
    fn find_line(
        &mut self,
        buffer: &[u8],
        terminator: u8,
        too_big: ProtocolError,
    ) -> Result<Line, ProtocolError> {
        let rest = buffer.get(self.scanned..).unwrap_or_default();
        let found = find_terminator(rest, terminator).map(|offset| self.scanned + offset);
        let line = match found {
            Some(end) if buffer[end] == terminator => {
                self.scanned = end;
                if end - self.pos > self.limits.max_inline_len {
                    return Err(too_big);
                }
                let needs_next = terminator == b'\r';
                if needs_next && end + 1 >= buffer.len() {
                    Line::Incomplete
                } else {
                    Line::End(end)
                }
            }
            Some(nul) => {
                // Behind a NUL nothing is ever seen again: stay there.
                self.scanned = nul;
                return self.no_terminator(buffer, too_big);
            }
            None => {
                self.scanned = buffer.len();
                return self.no_terminator(buffer, too_big);
            }
        };
        Ok(line)
    }

    /// No terminator in sight: wait, unless more than a line's worth is already buffered.
    fn no_terminator(&self, buffer: &[u8], too_big: ProtocolError) -> Result<Line, ProtocolError> {
        if buffer.len() - self.pos > self.limits.max_inline_len {
            return Err(too_big);
        }
        Ok(Line::Incomplete)
    }
}

/// How many bytes are scanned one by one before handing over to `memchr2`: header lines
/// (`$3`, `*2`) are a few bytes long, and `memchr2`'s set-up costs more than such a scan.
const SHORT_SCAN_LEN: usize = 16;

/// The offset of the first `terminator` or NUL byte in `bytes`.
fn find_terminator(bytes: &[u8], terminator: u8) -> Option<usize> {
    let short = bytes.len().min(SHORT_SCAN_LEN);
    match bytes[..short].iter().position(|&byte| byte == terminator || byte == 0) {
        Some(offset) => Some(offset),
        None => memchr2(terminator, 0, &bytes[short..]).map(|offset| short + offset),
    }
}
