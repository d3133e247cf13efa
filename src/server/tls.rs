//! TLS on `tls-port`: a rustls session between a connection's socket and its buffers.
//!
//! The worker's I/O contract stays the one plain connections have (see `server::conn`):
//! `read` returns plaintext and says whether more may be pending, and `flush` reports whether
//! everything was written. Both work on non-blocking sockets with edge-triggered polling,
//! so neither may stop while the socket still holds bytes nobody will be told about:
//!
//! - `read` keeps feeding ciphertext into rustls until the caller's buffer is full (more may
//!   be pending: the worker reads again) or the socket would block (drained). Handshake
//!   replies that reading produces are written at once, as far as the socket takes them.
//! - `flush` first writes rustls's pending ciphertext, then hands it plaintext in record-sized
//!   pieces, so at most one record's worth sits inside rustls while the socket is full and
//!   the connection's own buffer stays the measure of unwritten output (the output limits
//!   and the pipeline pause keep working).
//!
//! Client certificates are not verified (`tls-auth-clients no`).

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Plaintext handed to rustls per step of `flush` (one TLS record's worth).
const PLAINTEXT_STEP: usize = 16 * 1024;

/// Loads `tls-cert-file` and `tls-key-file` into a server configuration.
pub fn server_config(cert_file: &str, key_file: &str) -> Result<Arc<rustls::ServerConfig>, String> {
    if cert_file.is_empty() || key_file.is_empty() {
        return Err("tls-port needs tls-cert-file and tls-key-file".to_owned());
    }
    let certs = CertificateDer::pem_file_iter(Path::new(cert_file))
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| format!("can't read tls-cert-file '{cert_file}': {error}"))?;
    if certs.is_empty() {
        return Err(format!("tls-cert-file '{cert_file}' holds no certificate"));
    }
    let key = PrivateKeyDer::from_pem_file(Path::new(key_file))
        .map_err(|error| format!("can't read tls-key-file '{key_file}': {error}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS setup: {error}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|error| format!("tls-cert-file and tls-key-file do not fit together: {error}"))?;
    Ok(Arc::new(config))
}

/// One connection's TLS session.
#[derive(Debug)]
pub struct TlsSession {
    session: rustls::ServerConnection,
    /// The peer's side is closed; reported to the reader once the plaintext is consumed.
    peer_closed: bool,
}

/// What a `read` produced.
#[derive(Debug, PartialEq, Eq)]
pub enum TlsRead {
    /// Plaintext bytes; `more` when the caller should read again without waiting for an event.
    Data { bytes: usize, more: bool },
    /// Nothing now; the socket is drained.
    WouldBlock,
    /// The peer closed, or the session failed.
    Closed,
}

impl TlsSession {
    /// A session for a newly accepted connection.
    pub fn new(config: &Arc<rustls::ServerConfig>) -> io::Result<TlsSession> {
        let session = rustls::ServerConnection::new(config.clone()).map_err(io::Error::other)?;
        Ok(TlsSession { session, peer_closed: false })
    }

    /// Reads plaintext into `buffer` (see the module docs for when it stops).
    pub fn read(&mut self, stream: &mut TcpStream, buffer: &mut [u8]) -> TlsRead {
        let mut filled = 0;
        loop {
            if filled == buffer.len() {
                return TlsRead::Data { bytes: filled, more: true };
            }
            match self.session.reader().read(&mut buffer[filled..]) {
                // A clean close_notify.
                Ok(0) => self.peer_closed = true,
                Ok(n) => {
                    filled += n;
                    continue;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed without close_notify, or the session broke.
                Err(_) => self.peer_closed = true,
            }
            if self.peer_closed {
                return match filled {
                    0 => TlsRead::Closed,
                    bytes => TlsRead::Data { bytes, more: true },
                };
            }
            match self.session.read_tls(stream) {
                Ok(0) => self.peer_closed = true,
                Ok(_) => {
                    if let Err(error) = self.session.process_new_packets() {
                        tracing::debug!(%error, "TLS session failed");
                        // Send the alert rustls queued, best effort, then close.
                        let _ = self.write_pending(stream, &mut 0);
                        return TlsRead::Closed;
                    }
                    // Handshake messages go out now; what the socket refuses waits for the
                    // next flush (a writable event).
                    if self.write_pending(stream, &mut 0).is_err() {
                        return TlsRead::Closed;
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return match filled {
                        0 => TlsRead::WouldBlock,
                        bytes => TlsRead::Data { bytes, more: false },
                    };
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.peer_closed = true,
            }
        }
    }

    /// Writes rustls's pending ciphertext. `Ok(true)` when none is left.
    fn write_pending(&mut self, stream: &mut TcpStream, written: &mut u64) -> io::Result<bool> {
        while self.session.wants_write() {
            match self.session.write_tls(stream) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => *written += n as u64,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(true)
    }

    /// Encrypts and writes `output[*position..]` as far as the socket takes it, advancing
    /// `position`. `Ok(true)` when everything, rustls's own buffer included, is written.
    pub fn flush(
        &mut self,
        stream: &mut TcpStream,
        output: &[u8],
        position: &mut usize,
        written: &mut u64,
    ) -> io::Result<bool> {
        loop {
            if !self.write_pending(stream, written)? {
                return Ok(false);
            }
            if *position == output.len() {
                return Ok(true);
            }
            let end = output.len().min(*position + PLAINTEXT_STEP);
            let taken = self.session.writer().write(&output[*position..end])?;
            if taken == 0 {
                // Before the handshake completes rustls may take no more plaintext; the
                // handshake's progress (a readable event) resumes the flush.
                return Ok(false);
            }
            *position += taken;
        }
    }
}
