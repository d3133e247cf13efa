//! Faults from clients (bounded, loopback only): connections that vanish mid-frame,
//! mid-pipeline, mid-MULTI, while blocked and while subscribed, and ten thousand idle
//! connections beside active ones. The server keeps serving everyone else with bounded
//! latency and loses nothing it acknowledged.

mod common;

use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::{Conn, start_corekv};

/// Idle connections held open at once (the figure), fewer if the file limit is lower.
const IDLE_CONNECTIONS: usize = 10_000;
/// File descriptors left for everything else in this process.
const FD_HEADROOM: usize = 300;
/// GETs timed while the idle connections are open.
const TIMED_REQUESTS: usize = 2_000;
/// Generous on a shared 2-core machine; a server that walked every connection per request
/// (or stalled on them) would be far above it.
const P99_LIMIT: Duration = Duration::from_millis(50);

/// Connects, sends `bytes`, and hangs up at once.
fn vanish_after(port: u16, bytes: &[u8]) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(&mut stream, bytes).unwrap();
    // Shutdown before close, so the peer sees the hang-up even with unread replies pending.
    let _ = stream.shutdown(Shutdown::Both);
}

#[test]
fn clients_that_vanish_at_any_point_leave_no_trace() {
    let server = start_corekv(&[]);
    let mut healthy = Conn::new(&server);
    assert_eq!(healthy.call_str(&["SET", "kept", "yes"]), "+OK\r\n");
    // Mid-frame: half of a SET.
    vanish_after(server.port, b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nonly");
    // Mid-pipeline: two whole SETs then part of a third; the whole ones are applied (Redis
    // executes every complete request it read).
    vanish_after(
        server.port,
        b"*3\r\n$3\r\nSET\r\n$2\r\np1\r\n$1\r\nx\r\n*3\r\n$3\r\nSET\r\n$2\r\np2\r\n$1\r\nx\r\n*3\r\n$3",
    );
    // Mid-MULTI: queued writes never run.
    vanish_after(server.port, b"MULTI\r\nSET txn 1\r\nINCR counter\r\n");
    // While blocked in BLPOP, and while subscribed.
    vanish_after(server.port, b"BLPOP queue 0\r\n");
    vanish_after(server.port, b"SUBSCRIBE news\r\n");
    // The hang-ups are processed asynchronously; wait until the blocked and subscribed
    // clients are gone.
    wait_for_clients(&mut healthy, &["connected_clients:1\r\n", "blocked_clients:0\r\n"]);
    assert_eq!(healthy.call_str(&["GET", "kept"]), "$3\r\nyes\r\n");
    assert_eq!(healthy.call_str(&["EXISTS", "half"]), ":0\r\n");
    assert_eq!(healthy.call_str(&["MGET", "p1", "p2"]), "*2\r\n$1\r\nx\r\n$1\r\nx\r\n");
    assert_eq!(healthy.call_str(&["EXISTS", "txn", "counter"]), ":0\r\n");
    // A push to the list the vanished client waited on stays in the list.
    assert_eq!(healthy.call_str(&["RPUSH", "queue", "job"]), ":1\r\n");
    assert_eq!(healthy.call_str(&["LRANGE", "queue", "0", "-1"]), "*1\r\n$3\r\njob\r\n");
    assert_eq!(healthy.call_str(&["PUBLISH", "news", "hello"]), ":0\r\n");
    assert_eq!(healthy.call_str(&["PUBSUB", "NUMSUB", "news"]), "*2\r\n$4\r\nnews\r\n:0\r\n");
}

/// A hang-up that arrives with the last bytes (one edge-triggered event for both) must still
/// close the connection: a read shorter than the buffer does not prove the peer is still
/// there. Many connections, so that the data and the FIN often meet in one event.
#[test]
fn hang_ups_that_arrive_with_the_last_bytes_are_noticed() {
    let server = start_corekv(&[]);
    let mut healthy = Conn::new(&server);
    for _ in 0..HANG_UPS {
        vanish_after(server.port, b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nonly");
        vanish_after(server.port, b"PING\r\n");
    }
    wait_for_clients(&mut healthy, &["connected_clients:1\r\n"]);
    assert_eq!(healthy.call_str(&["EXISTS", "half"]), ":0\r\n");
}

/// Connections of [`hang_ups_that_arrive_with_the_last_bytes_are_noticed`] (two per round).
const HANG_UPS: usize = 300;

/// How long connection changes may take to show in INFO clients.
const CLIENTS_SETTLE: Duration = Duration::from_secs(20);

/// Waits until `INFO clients` holds every one of `lines` (connections are adopted and
/// released asynchronously by their workers).
fn wait_for_clients(conn: &mut Conn, lines: &[&str]) {
    let deadline = Instant::now() + CLIENTS_SETTLE;
    loop {
        let info = conn.call_str(&["INFO", "clients"]);
        if lines.iter().all(|line| info.contains(line)) {
            return;
        }
        if Instant::now() >= deadline {
            let list = conn.call_str(&["CLIENT", "LIST"]);
            panic!("INFO clients never showed {lines:?}: {info}\nCLIENT LIST: {list}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The soft `Max open files` limit of this process, from /proc (no libc in the tests).
fn open_files_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(1024)
}

#[test]
fn ten_thousand_idle_connections_do_not_slow_the_active_ones() {
    let idle_count = IDLE_CONNECTIONS.min(open_files_limit().saturating_sub(FD_HEADROOM));
    eprintln!("holding {idle_count} idle connections");
    let maxclients = (idle_count + 100).to_string();
    let server = start_corekv(&["--maxclients", &maxclients]);
    let mut idle = Vec::with_capacity(idle_count);
    for index in 0..idle_count {
        match TcpStream::connect(("127.0.0.1", server.port)) {
            Ok(stream) => idle.push(stream),
            Err(error) => panic!("connection {index} of {idle_count} failed: {error}"),
        }
    }
    let mut active = Conn::new(&server);
    // Every idle connection was adopted: the server counts them all.
    wait_for_clients(&mut active, &[&format!("connected_clients:{}\r\n", idle_count + 1)]);
    assert_eq!(active.call_str(&["SET", "k", "v"]), "+OK\r\n");
    let mut latencies = Vec::with_capacity(TIMED_REQUESTS);
    for _ in 0..TIMED_REQUESTS {
        let start = Instant::now();
        assert_eq!(active.call_str(&["GET", "k"]), "$1\r\nv\r\n");
        latencies.push(start.elapsed());
    }
    latencies.sort();
    let p99 = latencies[TIMED_REQUESTS * 99 / 100];
    eprintln!("GET p99 with {idle_count} idle connections: {p99:?}");
    assert!(p99 < P99_LIMIT, "p99 {p99:?} with {idle_count} idle connections");
    // Closing them all at once is handled too.
    drop(idle);
    wait_for_clients(&mut active, &["connected_clients:1\r\n"]);
    assert_eq!(active.call_str(&["GET", "k"]), "$1\r\nv\r\n");
}
