//! A minimal pipelining RESP client over a nonblocking socket, driven by the runner's `mio`
//! poll loop.
//!
//! Requests are appended to a write buffer and flushed as far as the socket takes them; every
//! request's timing is queued in order (`in_flight`), and replies, which come back in the same
//! order, are matched to it front first. An operation of several requests (MULTI … EXEC)
//! completes at its last reply. Replies are skipped, not decoded ([`super::reply`]).

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::error::BenchError;
use super::ops::OpGen;
use super::reply::{error_text, skip_reply};
use super::workload::CommandKind;

/// Bytes asked of each `read`.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// One operation awaiting its replies.
#[derive(Debug, Clone)]
pub struct InFlight {
    /// The command.
    pub command: CommandKind,
    /// When the schedule meant it to be sent (= `sent` in closed loop).
    pub intended: Instant,
    /// When it was written to the socket buffer.
    pub sent: Instant,
    /// Replies still to come.
    pub replies_left: u32,
    /// The first error reply among its replies.
    pub error: Option<String>,
}

/// One connection to a RESP server.
#[derive(Debug)]
pub struct Connection {
    target: String,
    stream: mio::net::TcpStream,
    write_buffer: Vec<u8>,
    written: usize,
    read_buffer: Vec<u8>,
    read_start: usize,
    in_flight: VecDeque<InFlight>,
}

/// Opens a blocking connection with `TCP_NODELAY`, naming `target` in the error.
pub fn connect_blocking(
    address: SocketAddr,
    target: &str,
    timeout: Duration,
) -> Result<TcpStream, BenchError> {
    let connect_error = |source| BenchError::Connect { target: target.to_owned(), source };
    let stream = TcpStream::connect_timeout(&address, timeout).map_err(connect_error)?;
    stream.set_nodelay(true).map_err(connect_error)?;
    Ok(stream)
}

impl Connection {
    /// Connects (blocking, bounded by `timeout`) and switches the socket to nonblocking.
    pub fn connect(
        address: SocketAddr,
        target: &str,
        timeout: Duration,
    ) -> Result<Connection, BenchError> {
        let stream = connect_blocking(address, target, timeout)?;
        stream
            .set_nonblocking(true)
            .map_err(|source| BenchError::Connect { target: target.to_owned(), source })?;
        Ok(Connection {
            target: target.to_owned(),
            stream: mio::net::TcpStream::from_std(stream),
            write_buffer: Vec::with_capacity(READ_CHUNK_BYTES),
            written: 0,
            read_buffer: Vec::with_capacity(2 * READ_CHUNK_BYTES),
            read_start: 0,
            in_flight: VecDeque::new(),
        })
    }

    /// The socket, to register with a poll.
    pub fn source(&mut self) -> &mut mio::net::TcpStream {
        &mut self.stream
    }

    /// Operations sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Appends the next operation of `command` to the write buffer (call [`Self::flush`]).
    pub fn queue(&mut self, generator: &mut OpGen, command: CommandKind, intended: Instant) {
        let replies_left = generator.write_request(command, &mut self.write_buffer);
        let sent = Instant::now();
        self.in_flight.push_back(InFlight { command, intended, sent, replies_left, error: None });
    }

    /// Writes as much of the buffer as the socket takes.
    pub fn flush(&mut self) -> Result<(), BenchError> {
        while self.written < self.write_buffer.len() {
            match self.stream.write(&self.write_buffer[self.written..]) {
                Ok(0) => return Err(self.lost(ErrorKind::WriteZero.into())),
                Ok(n) => self.written += n,
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(self.lost(error)),
            }
        }
        self.write_buffer.clear();
        self.written = 0;
        Ok(())
    }

    /// Reads what the socket has and hands each completed operation, with its completion
    /// time, to `complete`. Returns when the socket would block.
    pub fn read(&mut self, mut complete: impl FnMut(InFlight, Instant)) -> Result<(), BenchError> {
        loop {
            let filled = self.read_buffer.len();
            self.read_buffer.resize(filled + READ_CHUNK_BYTES, 0);
            let result = self.stream.read(&mut self.read_buffer[filled..]);
            let now = Instant::now();
            let n = match result {
                Ok(0) => {
                    self.read_buffer.truncate(filled);
                    return Err(self.lost(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    )));
                }
                Ok(n) => n,
                Err(error) => {
                    self.read_buffer.truncate(filled);
                    match error.kind() {
                        ErrorKind::WouldBlock => return Ok(()),
                        ErrorKind::Interrupted => continue,
                        _ => return Err(self.lost(error)),
                    }
                }
            };
            self.read_buffer.truncate(filled + n);
            self.consume_replies(now, &mut complete)?;
        }
    }

    fn consume_replies(
        &mut self,
        now: Instant,
        complete: &mut impl FnMut(InFlight, Instant),
    ) -> Result<(), BenchError> {
        loop {
            let rest = &self.read_buffer[self.read_start..];
            let skipped = match skip_reply(rest) {
                Ok(Some(skipped)) => skipped,
                Ok(None) => break,
                Err(detail) => return Err(self.protocol(detail)),
            };
            let error = skipped.error.then(|| {
                error_text(rest).unwrap_or_else(|| "an error inside an aggregate reply".to_owned())
            });
            self.read_start += skipped.len;
            let Some(front) = self.in_flight.front_mut() else {
                return Err(self.protocol("a reply to no request".to_owned()));
            };
            if front.error.is_none() {
                front.error = error;
            }
            front.replies_left -= 1;
            if front.replies_left == 0 {
                let done = self.in_flight.pop_front().expect("front exists");
                complete(done, now);
            }
        }
        // Keep the unparsed tail at the front, so the buffer stays near one chunk.
        if self.read_start == self.read_buffer.len() {
            self.read_buffer.clear();
        } else {
            self.read_buffer.drain(..self.read_start);
        }
        self.read_start = 0;
        Ok(())
    }

    fn lost(&self, source: io::Error) -> BenchError {
        BenchError::ConnectionLost { target: self.target.clone(), source }
    }

    fn protocol(&self, detail: String) -> BenchError {
        BenchError::Protocol { target: self.target.clone(), detail }
    }
}

/// Sends `request` on a blocking stream and reads `replies` replies; returns the error
/// replies among them. For set-up work (preload), not for measurement.
pub fn round_trip(
    stream: &mut TcpStream,
    target: &str,
    request: &[u8],
    replies: u32,
) -> Result<u64, BenchError> {
    let lost = |source| BenchError::ConnectionLost { target: target.to_owned(), source };
    stream.write_all(request).map_err(lost)?;
    let (mut buffer, mut start, mut left, mut errors) = (Vec::new(), 0, replies, 0);
    let mut chunk = vec![0; READ_CHUNK_BYTES];
    while left > 0 {
        let n = stream.read(&mut chunk).map_err(lost)?;
        if n == 0 {
            return Err(lost(ErrorKind::UnexpectedEof.into()));
        }
        buffer.extend_from_slice(&chunk[..n]);
        while left > 0 {
            match skip_reply(&buffer[start..]) {
                Ok(Some(skipped)) => {
                    start += skipped.len;
                    left -= 1;
                    errors += u64::from(skipped.error);
                }
                Ok(None) => break,
                Err(detail) => {
                    return Err(BenchError::Protocol { target: target.to_owned(), detail });
                }
            }
        }
        buffer.drain(..start);
        start = 0;
    }
    Ok(errors)
}
