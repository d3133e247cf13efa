//! TLS on `tls-port`: redis-cli --tls and a rustls client against the real server, pipelines
//! and large values through the session, plaintext on the TLS port, bad certificate files.
//! Certificates are made by `openssl` for each test (skipped, saying so, without it).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{
    Conn, Server, TempDir, corekv_bin, corekv_start_failure, free_port, read_frame_from,
    start_corekv,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// A test CA and a server certificate it signed for localhost and 127.0.0.1 (webpki refuses
/// a self-signed CA as the server's own certificate): (server certificate, server key, CA
/// certificate), or `None` without openssl.
fn make_certificate(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .ok()?;
    let ca = "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=corekv-ca -keyout ca.key \
              -out ca.pem";
    let request = "req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout key.pem -out server.csr";
    let sign = "x509 -req -days 1 -CAcreateserial -in server.csr -CA ca.pem -CAkey ca.key \
                -extfile server.ext -out cert.pem";
    let steps = [ca, request, sign].map(|step| step.split_whitespace().collect::<Vec<_>>());
    for args in steps {
        let output = Command::new("openssl").current_dir(dir).args(args).output().ok()?;
        if !output.status.success() {
            return None;
        }
    }
    Some((dir.join("cert.pem"), dir.join("key.pem"), dir.join("ca.pem")))
}

fn start_tls(dir: &Path) -> Option<(Server, u16, PathBuf)> {
    let Some((cert, key, ca)) = make_certificate(dir) else {
        eprintln!("openssl not installed: skipping the TLS test");
        return None;
    };
    let tls_port = free_port();
    let server = start_corekv(&[
        "--tls-port",
        &tls_port.to_string(),
        "--tls-cert-file",
        cert.to_str().unwrap(),
        "--tls-key-file",
        key.to_str().unwrap(),
    ]);
    Some((server, tls_port, ca))
}

/// A RESP connection over rustls, trusting only the test's certificate.
struct TlsConn {
    stream: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    buffer: Vec<u8>,
}

impl TlsConn {
    fn new(port: u16, cert: &Path) -> TlsConn {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(cert).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").unwrap();
        let session = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        TlsConn { stream: rustls::StreamOwned::new(session, socket), buffer: Vec::new() }
    }

    fn send(&mut self, args: &[&[u8]]) {
        let mut out = Vec::new();
        corekv::protocol::write_command(&mut out, args);
        self.stream.write_all(&out).unwrap();
    }

    fn read_reply(&mut self) -> Vec<u8> {
        read_frame_from(&mut self.stream, &mut self.buffer).to_bytes()
    }

    fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(args);
        self.read_reply()
    }
}

#[test]
fn a_tls_client_is_served_like_a_plain_one() {
    let dir = TempDir::new("tls-basic");
    let Some((server, tls_port, cert)) = start_tls(&dir.0) else { return };
    let mut tls = TlsConn::new(tls_port, &cert);
    assert_eq!(tls.call(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(tls.call(&[b"SET", b"k", b"over tls"]), b"+OK\r\n");
    // One keyspace behind both ports.
    assert_eq!(Conn::new(&server).call_str(&["GET", "k"]), "$8\r\nover tls\r\n");
    // A 4 MB value crosses many TLS records each way.
    let big = vec![b'x'; 4 << 20];
    assert_eq!(tls.call(&[b"SET", b"big", &big]), b"+OK\r\n");
    let reply = tls.call(&[b"GET", b"big"]);
    assert_eq!(reply.len(), big.len() + b"$4194304\r\n\r\n".len());
    // A pipeline written whole before any reply is read (more output than the pause mark).
    for i in 0..50_000 {
        tls.send(&[b"SET", format!("p{i}").as_bytes(), b"0123456789abcdef0123456789abcdef"]);
    }
    for _ in 0..50_000 {
        assert_eq!(tls.read_reply(), b"+OK\r\n");
    }
    assert_eq!(tls.call(&[b"DBSIZE"]), b":50002\r\n");
}

#[test]
fn redis_cli_speaks_tls_to_corekv() {
    let dir = TempDir::new("tls-cli");
    let Some((_server, tls_port, cert)) = start_tls(&dir.0) else { return };
    let cli = |args: &[&str]| {
        Command::new("redis-cli")
            .args(["-p", &tls_port.to_string(), "--tls", "--cacert", cert.to_str().unwrap()])
            .args(args)
            .output()
    };
    let Ok(output) = cli(&["SET", "from", "redis-cli"]) else {
        eprintln!("redis-cli not installed: skipping");
        return;
    };
    assert_eq!(String::from_utf8_lossy(&output.stdout), "OK\n", "{output:?}");
    let output = cli(&["GET", "from"]).unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "redis-cli\n");
}

#[test]
fn plaintext_on_the_tls_port_is_refused_and_harms_no_one() {
    let dir = TempDir::new("tls-plain");
    let Some((server, tls_port, cert)) = start_tls(&dir.0) else { return };
    let mut tls = TlsConn::new(tls_port, &cert);
    assert_eq!(tls.call(&[b"SET", b"kept", b"yes"]), b"+OK\r\n");
    let mut plain = TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    plain.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    // rustls answers with an alert record (content type 21) and the server closes.
    let mut reply = Vec::new();
    let _ = plain.read_to_end(&mut reply);
    assert_eq!(reply.first(), Some(&0x15), "expected a TLS alert, got {reply:?}");
    assert_eq!(tls.call(&[b"GET", b"kept"]), b"$3\r\nyes\r\n");
    assert_eq!(Conn::new(&server).call_str(&["GET", "kept"]), "$3\r\nyes\r\n");
}

#[test]
fn bad_certificate_files_refuse_to_start() {
    let dir = TempDir::new("tls-bad");
    let port = free_port().to_string();
    let missing = corekv_start_failure(&dir.0, &["--tls-port", &port]);
    assert!(missing.contains("tls-port needs tls-cert-file and tls-key-file"), "{missing}");
    let junk = dir.0.join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let junk = junk.to_str().unwrap();
    let refused = corekv_start_failure(
        &dir.0,
        &["--tls-port", &port, "--tls-cert-file", junk, "--tls-key-file", junk],
    );
    assert!(refused.contains("holds no certificate"), "{refused}");
    let unsupported = corekv_start_failure(&dir.0, &["--tls-auth-clients", "yes"]);
    assert!(unsupported.contains("client certificates are not supported"), "{unsupported}");
}

#[test]
fn port_0_with_a_tls_port_serves_tls_only() {
    let dir = TempDir::new("tls-only");
    let Some((cert, key, ca)) = make_certificate(&dir.0) else { return };
    let tls_port = free_port();
    let _server = KillOnDrop(
        Command::new(corekv_bin())
            .args(["--port", "0", "--bind", "127.0.0.1", "--tls-port", &tls_port.to_string()])
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--dir")
            .arg(&dir.0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", tls_port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "the TLS port never opened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut tls = TlsConn::new(tls_port, &ca);
    assert_eq!(tls.call(&[b"PING"]), b"+PONG\r\n");
    // No plain listener: INFO reports no TCP port.
    let info = String::from_utf8(tls.call(&[b"INFO", b"server"])).unwrap();
    assert!(info.contains("tcp_port:0\r\n"), "{info}");
}

/// A server process killed when the test ends, passing or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
