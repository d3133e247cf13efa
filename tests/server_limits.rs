//! Limits and hostile input: the offending client gets an error and/or is disconnected; other
//! clients and the data are unaffected; nothing panics the server.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Conn, start_corekv};

#[test]
fn oversized_bulk_header_is_refused_before_anything_is_allocated() {
    let server = start_corekv(&[]);
    let mut healthy = Conn::new(&server);
    healthy.call(&["SET", "kept", "yes"]);
    let mut bad = Conn::new(&server);
    // A 4 GB bulk header: refused as soon as the line is complete.
    bad.send_raw(b"*2\r\n$3\r\nGET\r\n$4294967296\r\n");
    assert_eq!(bad.read_raw_reply(), b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(bad.is_closed());
    assert_eq!(healthy.call_str(&["GET", "kept"]), "$3\r\nyes\r\n");
}

#[test]
fn huge_multibulk_count_reserves_nothing_and_is_refused_when_invalid() {
    let server = start_corekv(&[]);
    let mut bad = Conn::new(&server);
    bad.send_raw(b"*4294967296\r\n");
    assert_eq!(bad.read_raw_reply(), b"-ERR Protocol error: invalid multibulk length\r\n");
    assert!(bad.is_closed());
    // A large but valid count waits for its arguments without reserving them.
    let mut slow = Conn::new(&server);
    slow.send_raw(b"*1000000\r\n$3\r\nSET\r\n");
    let mut other = Conn::new(&server);
    assert_eq!(other.call_str(&["PING"]), "+PONG\r\n");
}

#[test]
fn proto_max_bulk_len_is_configurable() {
    let server = start_corekv(&["--proto-max-bulk-len", "1mb"]);
    let mut conn = Conn::new(&server);
    conn.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n");
    assert_eq!(conn.read_raw_reply(), b"-ERR Protocol error: invalid bulk length\r\n");
}

#[test]
fn a_request_sent_one_byte_at_a_time_is_parsed() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let request = b"*3\r\n$3\r\nSET\r\n$5\r\nslow!\r\n$5\r\nvalue\r\n";
    for byte in request {
        conn.send_raw(&[*byte]);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(conn.read_raw_reply(), b"+OK\r\n");
    assert_eq!(conn.call_str(&["GET", "slow!"]), "$5\r\nvalue\r\n");
}

#[test]
fn inline_commands_work_like_telnet() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    conn.send_raw(b"SET greeting \"hello world\"\r\nGET greeting\n");
    assert_eq!(conn.read_raw_reply(), b"+OK\r\n");
    assert_eq!(conn.read_raw_reply(), b"$11\r\nhello world\r\n");
    conn.send_raw(b"SET a \"unbalanced\r\n");
    assert_eq!(conn.read_raw_reply(), b"-ERR Protocol error: unbalanced quotes in request\r\n");
    assert!(conn.is_closed());
}

#[test]
fn maxclients_refuses_the_extra_connection() {
    let server = start_corekv(&["--maxclients", "3"]);
    let mut kept: Vec<Conn> = (0..3).map(|_| Conn::new(&server)).collect();
    for conn in &mut kept {
        assert_eq!(conn.call_str(&["PING"]), "+PONG\r\n");
    }
    let mut extra = Conn::new(&server);
    assert_eq!(extra.read_raw_reply(), b"-ERR max number of clients reached\r\n");
    assert!(extra.is_closed());
    drop(kept);
    // Closed connections free their slots.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut again = Conn::new(&server);
        again.send_raw(b"PING\r\n");
        if again.read_raw_reply() == b"+PONG\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "slots were not freed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let server = start_corekv(&["--timeout", "1"]);
    let mut idle = Conn::new(&server);
    assert_eq!(idle.call_str(&["PING"]), "+PONG\r\n");
    std::thread::sleep(Duration::from_millis(2600));
    assert!(idle.is_closed());
}

#[test]
fn a_client_that_never_reads_hits_the_output_limit_alone() {
    let server = start_corekv(&["--client-output-buffer-limit", "normal 1mb 0 0"]);
    let mut healthy = Conn::new(&server);
    healthy.call(&["SET", "big", &"x".repeat(100_000)]);
    let mut greedy = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    greedy.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut batch = Vec::new();
    for _ in 0..200 {
        corekv::protocol::write_command(&mut batch, &[&b"GET"[..], b"big"]);
    }
    // 200 x 100 KB of replies: the server must not buffer them all for a client that never
    // reads. It either pauses reading from it or disconnects it; either way others are served.
    let _ = greedy.write_all(&batch);
    for _ in 0..20 {
        assert_eq!(healthy.call_str(&["PING"]), "+PONG\r\n");
    }
}

#[test]
fn many_connections_are_served() {
    let server = start_corekv(&[]);
    let mut conns: Vec<Conn> = (0..500).map(|_| Conn::new(&server)).collect();
    for (i, conn) in conns.iter_mut().enumerate() {
        conn.send(&[b"SET", format!("k{i}").as_bytes(), b"v"]);
    }
    for conn in conns.iter_mut() {
        assert_eq!(conn.read_raw_reply(), b"+OK\r\n");
    }
    let mut check = Conn::new(&server);
    assert_eq!(check.call_str(&["DBSIZE"]), ":500\r\n");
}

#[test]
fn resp3_replies_use_resp3_types() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let hello = conn.call(&["HELLO", "3"]);
    assert!(hello.starts_with(b"%7\r\n"), "{}", String::from_utf8_lossy(&hello));
    assert_eq!(conn.call_str(&["GET", "missing"]), "_\r\n");
    conn.call(&["SUBSCRIBE", "c"]);
    // RESP3 clients may run any command while subscribed.
    assert_eq!(conn.call_str(&["GET", "missing"]), "_\r\n");
    assert_eq!(conn.call_str(&["HELLO", "4"]), "-NOPROTO unsupported protocol version\r\n");
}

/// A client that writes a whole pipeline before reading any reply (redis-py's pipelines do)
/// is served: the server keeps reading while it holds back output, so neither side waits on
/// the other.
#[test]
fn a_pipeline_written_before_any_read_completes() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let mut batch = Vec::new();
    for i in 0..300_000 {
        corekv::protocol::write_command(
            &mut batch,
            &[&b"SET"[..], format!("k{i}").as_bytes(), b"v"],
        );
    }
    conn.send_raw(&batch);
    for _ in 0..300_000 {
        assert_eq!(conn.read_raw_reply(), b"+OK\r\n");
    }
    assert_eq!(conn.call_str(&["DBSIZE"]), ":300000\r\n");
}
