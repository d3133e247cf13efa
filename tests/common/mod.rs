//! Shared helpers for the server integration tests: start the real `corekv-server` binary (or
//! Debian's `redis-server` as the reference) on an ephemeral loopback port, and talk to it with
//! raw RESP bytes.

#![allow(dead_code)]

pub mod lincheck;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use corekv::protocol::Frame;

/// A server process stopped (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    /// The loopback port it listens on.
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound then released; the tiny race is acceptable in tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_ready(child: &mut Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early: {status}");
        }
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            if stream.write_all(b"PING\r\n").is_ok() {
                let mut buf = [0u8; 64];
                if let Ok(n) = stream.read(&mut buf)
                    && n > 0
                {
                    return;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("server on port {port} did not become ready");
}

/// The `corekv-server` binary cargo built for these tests.
pub fn corekv_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_corekv-server"))
}

/// Starts corekv on an ephemeral loopback port with extra `--name value` arguments.
pub fn start_corekv(extra: &[&str]) -> Server {
    let port = free_port();
    let mut child = Command::new(corekv_bin())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start corekv-server");
    wait_ready(&mut child, port);
    Server { child, port }
}

/// Starts corekv with `--dir dir` (persistence tests), its log going to `dir/corekv.log`.
pub fn start_corekv_in(dir: &std::path::Path, extra: &[&str]) -> Server {
    let port = free_port();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("corekv.log"))
        .expect("open the server log");
    let mut child = Command::new(corekv_bin())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start corekv-server");
    wait_ready(&mut child, port);
    Server { child, port }
}

/// Runs corekv expecting it to refuse to start; returns what it printed.
pub fn corekv_start_failure(dir: &std::path::Path, extra: &[&str]) -> String {
    let port = free_port();
    let output = Command::new(corekv_bin())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .output()
        .expect("run corekv-server");
    assert!(!output.status.success(), "corekv-server started, but it should have refused");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

impl Server {
    /// Stops the server gracefully (SIGTERM) and waits for it to exit.
    pub fn terminate(mut self) {
        // SAFETY: kill(2) on our own child's pid, which we have not reaped yet.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory named after `name`.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(
            format!("corekv-test-{name}-{}-{:?}", std::process::id(), std::time::SystemTime::now())
                .replace([' ', '{', '}', ':', ','], ""),
        );
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts Debian's `redis-server` 7.0 as the reference, or `None` when it is not installed
/// (the comparison tests then skip, saying so).
pub fn start_redis() -> Option<Server> {
    let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())?;
    let port = free_port();
    let dir = std::env::temp_dir();
    let mut child = Command::new(binary)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    wait_ready(&mut child, port);
    Some(Server { child, port })
}

/// A raw RESP connection.
pub struct Conn {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Conn {
    /// Connects to a server.
    pub fn new(server: &Server) -> Conn {
        Conn::to_port(server.port)
    }

    /// Connects to a loopback port.
    pub fn to_port(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn { stream, buffer: Vec::new() }
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends a command as a multibulk.
    pub fn send(&mut self, args: &[&[u8]]) {
        let mut out = Vec::new();
        corekv::protocol::write_command(&mut out, args);
        self.send_raw(&out);
    }

    /// Reads one reply frame.
    pub fn read_frame(&mut self) -> Frame {
        read_frame_from(&mut self.stream, &mut self.buffer)
    }

    /// Reads one reply and returns its exact bytes.
    pub fn read_raw_reply(&mut self) -> Vec<u8> {
        self.read_frame().to_bytes()
    }

    /// Sends a command and returns the exact bytes of its reply.
    pub fn call(&mut self, args: &[&str]) -> Vec<u8> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&args);
        self.read_raw_reply()
    }

    /// Like [`call`](Self::call), as text (for readable assertion failures).
    pub fn call_str(&mut self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.call(args)).into_owned()
    }

    /// Whether the server closed the connection (reads until EOF or a 2 s timeout).
    pub fn is_closed(&mut self) -> bool {
        self.stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(_) => return false,
            }
        }
    }
}

/// Reads one RESP frame from `stream`, keeping what follows it in `buffer` (plain TCP or a TLS
/// stream alike).
pub fn read_frame_from(stream: &mut impl Read, buffer: &mut Vec<u8>) -> Frame {
    loop {
        if let Some((frame, used)) = Frame::decode(buffer).expect("valid RESP") {
            buffer.drain(..used);
            return frame;
        }
        let mut chunk = [0u8; 64 * 1024];
        let n = stream.read(&mut chunk).expect("read reply");
        assert!(n > 0, "connection closed while waiting for a reply");
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// An `INFO section` field as a number (`evicted_keys`, `expired_keys`, ...).
pub fn info_field(conn: &mut Conn, section: &str, field: &str) -> Option<u64> {
    let info = conn.call_str(&["INFO", section]);
    let prefix = format!("{field}:");
    info.lines().find_map(|line| line.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok())
}

/// Sends the same commands to both servers and asserts byte-identical replies.
pub fn assert_same(reference: &mut Conn, test: &mut Conn, commands: &[&[&str]]) {
    for command in commands {
        let expected = reference.call_str(command);
        let got = test.call_str(command);
        assert_eq!(got, expected, "command {command:?}");
    }
}
