//! One connection's buffers and socket I/O.

use std::io::{self, Read, Write};
use std::time::Instant;

use mio::net::TcpStream;

use crate::protocol::RequestParser;
use crate::server::client::Client;

/// The read buffer grows in steps of at least this (Redis's PROTO_IOBUF_LEN).
pub const READ_CHUNK: usize = 16 * 1024;
/// Stop executing a client's pipeline while this much output waits for the socket, so a
/// client that writes without reading cannot grow the output buffer without bound.
pub const OUTPUT_PAUSE: usize = 256 * 1024;
/// Buffers larger than this shrink back when emptied.
const KEEP_CAPACITY: usize = 256 * 1024;

/// A blocked command waiting for its keys.
#[derive(Debug)]
pub struct Blocked {
    /// The command's arguments, retried when a key is ready.
    pub args: Vec<Vec<u8>>,
    /// The keys it waits on.
    pub keys: Vec<Vec<u8>>,
    /// The database of the keys.
    pub db: usize,
    /// When it times out.
    pub deadline: Option<Instant>,
    /// Timeout reply: null array (true) or null bulk.
    pub null_array: bool,
}

/// A connection.
#[derive(Debug)]
pub struct Conn {
    /// The socket.
    pub stream: TcpStream,
    /// The TLS session of a connection accepted on `tls-port`.
    pub tls: Option<Box<crate::server::tls::TlsSession>>,
    /// Command-visible state.
    pub client: Client,
    /// The request parser (keeps partial-frame state between reads).
    pub parser: RequestParser,
    /// Read buffer: every byte is initialised; `rbuf[rstart..rend]` is unconsumed input.
    pub rbuf: Vec<u8>,
    /// First unconsumed byte.
    pub rstart: usize,
    /// End of the bytes read.
    pub rend: usize,
    /// Output waiting for the socket, from `wpos`.
    pub wbuf: Vec<u8>,
    /// First unwritten byte of `wbuf`.
    pub wpos: usize,
    /// Set while blocked in BLPOP and friends.
    pub blocked: Option<Blocked>,
    /// When the output buffer went over the soft limit (cleared when it drops under).
    pub soft_limit_since: Option<Instant>,
    /// The peer closed its side (or the socket failed): close once the output is written.
    pub eof: bool,
    /// Complete requests may wait in the input because output reached [`OUTPUT_PAUSE`]: the
    /// worker resumes them once the output drains. Edge-triggered polling raises no event for
    /// input already read, and the drain may not raise one either (the socket can take every
    /// byte, or the replies were held for an fsync), so whoever flushes must resume.
    pub paused: bool,
    /// The poller reported the peer's hang-up (or a socket error). The FIN can come in the
    /// same edge-triggered event as the last bytes, and then no later event announces it: a
    /// short read no longer proves the socket drained, so the worker reads on until it sees
    /// the end.
    pub hung_up: bool,
}

/// What a read did.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Read this many bytes; `full` when they filled the buffer's free space, so more may be
    /// waiting. A short read drained the socket: with edge-triggered polling, bytes that arrive
    /// later raise a new event, so the next read can wait for it (one syscall saved per
    /// request at pipeline depth 1).
    Data {
        /// Bytes read.
        bytes: usize,
        /// The read filled the space offered.
        full: bool,
    },
    /// Nothing more for now.
    WouldBlock,
    /// The peer closed or the socket failed.
    Closed,
}

impl Conn {
    /// A new connection.
    pub fn new(
        stream: TcpStream,
        tls: Option<Box<crate::server::tls::TlsSession>>,
        client: Client,
        parser: RequestParser,
    ) -> Conn {
        Conn {
            stream,
            tls,
            client,
            parser,
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            wbuf: Vec::new(),
            wpos: 0,
            blocked: None,
            soft_limit_since: None,
            eof: false,
            paused: false,
            hung_up: false,
        }
    }

    /// Unconsumed input bytes (the query buffer).
    pub fn pending_input(&self) -> usize {
        self.rend - self.rstart
    }

    /// Unwritten output bytes.
    pub fn pending_output(&self) -> usize {
        self.wbuf.len() - self.wpos
    }

    /// Reads once from the socket into the buffer.
    pub fn read(&mut self) -> ReadOutcome {
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        }
        let wanted = self
            .parser
            .needed_len()
            .map_or(READ_CHUNK, |needed| needed.saturating_sub(self.pending_input()))
            .clamp(READ_CHUNK, 64 * 1024 * 1024);
        if self.rbuf.len() - self.rend < READ_CHUNK {
            if self.rstart > 0 {
                // Move the partial request to the front: the parser resumes from offsets
                // relative to its first byte.
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            }
            if self.rbuf.len() - self.rend < READ_CHUNK {
                let size = (self.rend + wanted).max(self.rbuf.len());
                self.rbuf.resize(size, 0);
            }
        }
        if let Some(tls) = &mut self.tls {
            use crate::server::tls::TlsRead;
            return match tls.read(&mut self.stream, &mut self.rbuf[self.rend..]) {
                TlsRead::Data { bytes, more } => {
                    self.rend += bytes;
                    ReadOutcome::Data { bytes, full: more }
                }
                TlsRead::WouldBlock => ReadOutcome::WouldBlock,
                TlsRead::Closed => ReadOutcome::Closed,
            };
        }
        loop {
            let space = self.rbuf.len() - self.rend;
            match self.stream.read(&mut self.rbuf[self.rend..]) {
                Ok(0) => return ReadOutcome::Closed,
                Ok(n) => {
                    self.rend += n;
                    return ReadOutcome::Data { bytes: n, full: n == space };
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return ReadOutcome::WouldBlock;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return ReadOutcome::Closed,
            }
        }
    }

    /// Drops an oversized read buffer once it is empty.
    pub fn shrink_input(&mut self) {
        if self.rstart == self.rend && self.rbuf.len() > KEEP_CAPACITY {
            self.rbuf = Vec::new();
            self.rstart = 0;
            self.rend = 0;
        }
    }

    /// Writes what the socket takes. `Ok(true)` when everything is written; bytes written are
    /// added to `written`.
    pub fn flush(&mut self, written: &mut u64) -> io::Result<bool> {
        if let Some(tls) = &mut self.tls
            && !tls.flush(&mut self.stream, &self.wbuf, &mut self.wpos, written)?
        {
            return Ok(false);
        }
        while self.wpos < self.wbuf.len() {
            match self.stream.write(&self.wbuf[self.wpos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.wpos += n;
                    *written += n as u64;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
        self.wbuf.clear();
        self.wpos = 0;
        if self.wbuf.capacity() > KEEP_CAPACITY {
            self.wbuf = Vec::new();
        }
        Ok(true)
    }
}
