//! List commands over real TCP: replies byte-for-byte against redis-server 7.0 (RESP2, RESP3,
//! inside MULTI/EXEC) and the blocking commands across connections.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use corekv::protocol::Frame;

use common::{Conn, Server, assert_same, start_corekv, start_redis};

/// Both servers, or `None` (after saying so) when redis-server is not installed.
fn pair() -> Option<(Server, Server)> {
    let corekv = start_corekv(&[]);
    let Some(redis) = start_redis() else {
        eprintln!("redis-server not installed: skipping the comparison");
        return None;
    };
    Some((redis, corekv))
}

/// Commands covering every list command's success paths and error texts, in Redis's order of
/// checks. Every key starts missing.
const SCRIPT: &[&[&str]] = &[
    &["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a"],
    &["LPUSH", "l", "z"],
    &["LPUSHX", "missing", "x"],
    &["RPUSHX", "missing", "x"],
    &["RPUSHX", "l", "y"],
    &["LPUSHX", "l", "w", "v"],
    &["LLEN", "l"],
    &["LLEN", "missing"],
    &["LRANGE", "l", "0", "-1"],
    &["LRANGE", "l", "-100", "100"],
    &["LRANGE", "l", "5", "2"],
    &["LRANGE", "missing", "0", "-1"],
    &["LRANGE", "missing", "a", "1"],
    &["LRANGE", "l", "0", "b"],
    &["LINDEX", "l", "0"],
    &["LINDEX", "l", "-1"],
    &["LINDEX", "l", "100"],
    &["LINDEX", "l", "abc"],
    &["LINDEX", "missing", "abc"],
    &["LSET", "l", "0", "first"],
    &["LSET", "l", "-1", "last"],
    &["LSET", "l", "100", "x"],
    &["LSET", "l", "-9223372036854775808", "x"],
    &["LSET", "l", "abc", "x"],
    &["LSET", "missing", "abc", "x"],
    &["LSET", "missing", "0", "x"],
    &["LINSERT", "l", "BEFORE", "b", "B"],
    &["LINSERT", "l", "after", "c", "C"],
    &["LINSERT", "l", "after", "nope", "C"],
    &["LINSERT", "l", "middle", "b", "C"],
    &["LINSERT", "missing", "before", "b", "C"],
    &["LINSERT", "missing", "middle", "b", "C"],
    &["LRANGE", "l", "0", "-1"],
    &["LPOS", "l", "a"],
    &["LPOS", "l", "a", "RANK", "2"],
    &["LPOS", "l", "a", "RANK", "-1"],
    &["LPOS", "l", "a", "COUNT", "0"],
    &["LPOS", "l", "a", "rank", "-1", "count", "2"],
    &["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "4"],
    &["LPOS", "l", "a", "RANK", "-9223372036854775808", "COUNT", "0"],
    &["LPOS", "l", "a", "RANK", "9223372036854775807"],
    &["LPOS", "l", "nope"],
    &["LPOS", "l", "nope", "COUNT", "3"],
    &["LPOS", "missing", "a"],
    &["LPOS", "missing", "a", "COUNT", "1"],
    &["LPOS", "missing", "a", "RANK", "0"],
    &["LPOS", "l", "a", "RANK", "0", "COUNT", "-1"],
    &["LPOS", "l", "a", "COUNT", "-1", "RANK", "0"],
    &["LPOS", "l", "a", "COUNT", "abc"],
    &["LPOS", "l", "a", "MAXLEN", "-1"],
    &["LPOS", "l", "a", "RANK", "x"],
    &["LPOS", "l", "a", "RANK"],
    &["LPOS", "l", "a", "FOO", "1"],
    &["LREM", "l", "1", "a"],
    &["LREM", "l", "-1", "a"],
    &["LREM", "l", "0", "b"],
    &["LREM", "l", "x", "b"],
    &["LREM", "missing", "0", "b"],
    &["LTRIM", "l", "1", "-2"],
    &["LTRIM", "l", "a", "1"],
    &["LTRIM", "missing", "0", "1"],
    &["LRANGE", "l", "0", "-1"],
    &["LPOP", "l"],
    &["RPOP", "l"],
    &["LPOP", "l", "2"],
    &["RPOP", "l", "1"],
    &["LPOP", "l", "0"],
    &["LPOP", "l", "-1"],
    &["LPOP", "l", "abc"],
    &["LPOP", "l", "1", "2"],
    &["LPOP", "missing"],
    &["LPOP", "missing", "0"],
    &["LPOP", "missing", "2"],
    &["RPOP", "l", "100"],
    &["LLEN", "l"],
    &["RPUSH", "src", "1", "2", "3"],
    &["LMOVE", "src", "dst", "LEFT", "RIGHT"],
    &["LMOVE", "src", "dst", "right", "left"],
    &["LMOVE", "src", "src", "LEFT", "RIGHT"],
    &["LMOVE", "src", "dst", "up", "left"],
    &["LMOVE", "src", "dst", "left", "down"],
    &["LMOVE", "missing", "dst", "LEFT", "RIGHT"],
    &["RPOPLPUSH", "src", "dst"],
    &["RPOPLPUSH", "missing", "dst"],
    &["LRANGE", "dst", "0", "-1"],
    &["RPUSH", "m1", "a", "b", "c"],
    &["LMPOP", "2", "missing", "m1", "LEFT"],
    &["LMPOP", "2", "missing", "m1", "right", "COUNT", "10"],
    &["LMPOP", "1", "missing", "LEFT"],
    &["LMPOP", "0", "m1", "LEFT"],
    &["LMPOP", "abc", "m1", "LEFT"],
    &["LMPOP", "-1", "m1", "LEFT"],
    &["LMPOP", "2", "m1", "LEFT"],
    &["LMPOP", "9223372036854775807", "m1", "LEFT"],
    &["LMPOP", "1", "m1", "MIDDLE"],
    &["LMPOP", "1", "m1", "LEFT", "COUNT", "0"],
    &["LMPOP", "1", "m1", "LEFT", "COUNT", "x"],
    &["LMPOP", "1", "m1", "LEFT", "COUNT", "1", "COUNT", "1"],
    &["LMPOP", "1", "m1", "LEFT", "COUNT"],
    // Wrong types, each command once.
    &["SET", "s", "x"],
    &["LPUSH", "s", "a"],
    &["RPUSHX", "s", "a"],
    &["LPOP", "s"],
    &["LPOP", "s", "0"],
    &["LLEN", "s"],
    &["LINDEX", "s", "abc"],
    &["LRANGE", "s", "0", "1"],
    &["LSET", "s", "abc", "x"],
    &["LINSERT", "s", "before", "a", "b"],
    &["LREM", "s", "0", "a"],
    &["LTRIM", "s", "0", "1"],
    &["LPOS", "s", "a"],
    &["LPOS", "s", "a", "RANK", "0"],
    &["RPUSH", "full", "x"],
    &["LMOVE", "s", "full", "LEFT", "LEFT"],
    &["LMOVE", "full", "s", "LEFT", "LEFT"],
    &["LMOVE", "missing", "s", "LEFT", "LEFT"],
    &["RPOPLPUSH", "full", "s"],
    &["LMPOP", "2", "missing", "s", "LEFT"],
    &["LMPOP", "2", "full", "s", "LEFT"],
    &["LRANGE", "full", "0", "-1"],
    // Blocking commands with data (or errors) reply at once.
    &["RPUSH", "b1", "x", "y", "z"],
    &["BLPOP", "missing", "b1", "0"],
    &["BRPOP", "missing", "b1", "0.5"],
    &["BLMOVE", "b1", "b2", "LEFT", "RIGHT", "0"],
    &["BRPOPLPUSH", "b2", "b1", "0"],
    &["BLMPOP", "0", "2", "missing", "b1", "RIGHT", "COUNT", "5"],
    &["BLPOP", "missing", "x"],
    &["BLPOP", "missing", "-1"],
    &["BLPOP", "missing", ""],
    &["BLPOP", "missing", "inf"],
    &["BLPOP", "missing", "1e300"],
    &["BLPOP", "missing", "9223372036854775807"],
    &["BLPOP", "missing", "0.0001"],
    &["BLPOP", "s", "0"],
    &["BLPOP", "missing", "s", "0"],
    &["BLMOVE", "b1", "b2", "LEFT", "UP", "0"],
    &["BLMOVE", "b1", "b2", "LEFT", "LEFT", "abc"],
    &["BLMOVE", "s", "b2", "LEFT", "LEFT", "0"],
    &["BRPOPLPUSH", "b1", "b2", "-2"],
    &["BLMPOP", "abc", "1", "b1", "LEFT"],
    &["BLMPOP", "0", "0", "b1", "LEFT"],
    &["BLMPOP", "abc", "1", "b1", "LEFT", "COUNT", "0"],
    &["BLMPOP", "0", "1", "s", "LEFT"],
    // Short timeouts on missing keys: the null of each command.
    &["BLPOP", "missing", "0.01"],
    &["BRPOP", "missing", "missing2", "0.01"],
    &["BLMOVE", "missing", "dst", "LEFT", "LEFT", "0.01"],
    &["BRPOPLPUSH", "missing", "dst", "0.01"],
    &["BLMPOP", "0.01", "1", "missing", "LEFT"],
];

/// Wrong arities (outside SCRIPT: inside MULTI they would abort the transaction).
const ARITY: &[&[&str]] = &[
    &["LPUSH", "l"],
    &["LPOP"],
    &["LINSERT", "l", "before", "a"],
    &["LMOVE", "a", "b", "LEFT"],
    &["LMPOP", "1", "a"],
    &["BLPOP", "a"],
    &["BLMPOP", "0", "1", "a"],
    &["LLEN", "a", "b"],
];

#[test]
fn list_commands_match_redis_in_resp2() {
    let Some((redis, corekv)) = pair() else { return };
    let (mut reference, mut test) = (Conn::new(&redis), Conn::new(&corekv));
    assert_same(&mut reference, &mut test, SCRIPT);
    assert_same(&mut reference, &mut test, ARITY);
}

#[test]
fn list_commands_match_redis_in_resp3() {
    let Some((redis, corekv)) = pair() else { return };
    let (mut reference, mut test) = (Conn::new(&redis), Conn::new(&corekv));
    reference.call(&["HELLO", "3"]);
    test.call(&["HELLO", "3"]);
    assert_same(&mut reference, &mut test, SCRIPT);
}

#[test]
fn list_commands_inside_multi_exec_match_redis() {
    for resp3 in [false, true] {
        let Some((redis, corekv)) = pair() else { return };
        let (mut reference, mut test) = (Conn::new(&redis), Conn::new(&corekv));
        if resp3 {
            reference.call(&["HELLO", "3"]);
            test.call(&["HELLO", "3"]);
        }
        let mut script: Vec<&[&str]> = vec![&["MULTI"]];
        // Every command of SCRIPT queued, then EXEC: the locks must cover the keys each names.
        script.extend(SCRIPT);
        script.push(&["EXEC"]);
        // Blocking commands inside EXEC never wait: BLPOP/BLMPOP reply a null array, the moves
        // a null bulk.
        script.extend([
            &["MULTI"][..],
            &["BLPOP", "none", "0"],
            &["BRPOP", "none", "none2", "0"],
            &["BLMOVE", "none", "dst", "LEFT", "LEFT", "0"],
            &["BRPOPLPUSH", "none", "dst", "0"],
            &["BLMPOP", "0", "2", "none", "none2", "LEFT"],
            &["RPUSH", "none", "v"],
            &["BLPOP", "none", "0"],
            &["EXEC"],
        ]);
        assert_same(&mut reference, &mut test, &script);
    }
}

/// A raw connection for the blocking tests: it can tell that no reply has come yet.
struct Waiter {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Waiter {
    fn new(server: &Server) -> Waiter {
        let stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        stream.set_nodelay(true).unwrap();
        Waiter { stream, buffer: Vec::new() }
    }

    fn send(&mut self, args: &[&str]) {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let mut out = Vec::new();
        corekv::protocol::write_command(&mut out, &args);
        self.stream.write_all(&out).unwrap();
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next reply's bytes, or `None` when none is complete within `wait`.
    fn reply_within(&mut self, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some((frame, used)) = Frame::decode(&self.buffer).expect("valid RESP") {
                self.buffer.drain(..used);
                return Some(String::from_utf8_lossy(&frame.to_bytes()).into_owned());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            self.stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("connection closed"),
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(_) => return None,
            }
        }
    }

    fn reply(&mut self) -> String {
        self.reply_within(Duration::from_secs(10)).expect("a reply")
    }

    fn call(&mut self, args: &[&str]) -> String {
        self.send(args);
        self.reply()
    }

    /// Asserts that no reply comes for a while: the client is parked.
    fn assert_waiting(&mut self) {
        assert_eq!(self.reply_within(Duration::from_millis(150)), None, "expected a wait");
    }
}

#[test]
fn a_blocked_pop_is_served_by_a_push_from_another_connection() {
    let server = start_corekv(&[]);
    let mut waiter = Waiter::new(&server);
    let mut pusher = Conn::new(&server);
    waiter.send(&["BLPOP", "q1", "q2", "0"]);
    waiter.assert_waiting();
    assert_eq!(pusher.call_str(&["RPUSH", "q2", "hello", "world"]), ":2\r\n");
    assert_eq!(waiter.reply(), "*2\r\n$2\r\nq2\r\n$5\r\nhello\r\n");
    assert_eq!(pusher.call_str(&["LRANGE", "q2", "0", "-1"]), "*1\r\n$5\r\nworld\r\n");
    // BRPOP and BLMPOP likewise, in RESP3.
    waiter.call(&["HELLO", "3"]);
    waiter.send(&["BLMPOP", "0", "1", "q3", "RIGHT", "COUNT", "2"]);
    waiter.assert_waiting();
    pusher.call(&["RPUSH", "q3", "a", "b", "c"]);
    assert_eq!(waiter.reply(), "*2\r\n$2\r\nq3\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n");
    waiter.send(&["BRPOP", "q4", "5"]);
    waiter.assert_waiting();
    pusher.call(&["LPUSH", "q4", "x"]);
    assert_eq!(waiter.reply(), "*2\r\n$2\r\nq4\r\n$1\r\nx\r\n");
}

#[test]
fn blocked_clients_time_out_with_their_null() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let cases: &[(&[&str], &str)] = &[
        (&["BLPOP", "none", "0.2"], "*-1\r\n"),
        (&["BRPOP", "none", "none2", "0.2"], "*-1\r\n"),
        (&["BLMPOP", "0.2", "1", "none", "LEFT"], "*-1\r\n"),
        // Redis 7.0 times BLMOVE and BRPOPLPUSH out with a null array too.
        (&["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.2"], "*-1\r\n"),
        (&["BRPOPLPUSH", "none", "dst", "0.2"], "*-1\r\n"),
    ];
    for (command, null) in cases {
        let started = Instant::now();
        assert_eq!(conn.call_str(command), *null, "{command:?}");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(180), "{command:?} waited only {waited:?}");
        assert!(waited < Duration::from_secs(2), "{command:?} waited {waited:?}");
    }
    conn.call(&["HELLO", "3"]);
    assert_eq!(conn.call_str(&["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"]), "_\r\n");
    assert_eq!(conn.call_str(&["BLPOP", "none", "0.05"]), "_\r\n");
}

#[test]
fn a_blocked_move_is_atomic_and_its_pipeline_runs_after_it() {
    let server = start_corekv(&[]);
    let mut waiter = Waiter::new(&server);
    let mut pusher = Conn::new(&server);
    // A blocking command followed by pipelined commands: they wait for it.
    let mut batch = Vec::new();
    let commands: [&[&[u8]]; 3] = [
        &[b"BLMOVE", b"src", b"dst", b"LEFT", b"RIGHT", b"0"],
        &[b"LRANGE", b"dst", b"0", b"-1"],
        &[b"LLEN", b"src"],
    ];
    for command in commands {
        corekv::protocol::write_command(&mut batch, command);
    }
    waiter.send_raw(&batch);
    waiter.assert_waiting();
    assert_eq!(pusher.call_str(&["RPUSH", "dst", "old"]), ":1\r\n");
    waiter.assert_waiting();
    assert_eq!(pusher.call_str(&["RPUSH", "src", "a", "b"]), ":2\r\n");
    assert_eq!(waiter.reply(), "$1\r\na\r\n");
    assert_eq!(waiter.reply(), "*2\r\n$3\r\nold\r\n$1\r\na\r\n");
    assert_eq!(waiter.reply(), ":1\r\n");
    // The element is in exactly one place.
    assert_eq!(pusher.call_str(&["LRANGE", "src", "0", "-1"]), "*1\r\n$1\r\nb\r\n");
    // Commands sent while the client waits run after it is served, in order.
    waiter.send(&["BLPOP", "later", "0"]);
    waiter.assert_waiting();
    waiter.send(&["ECHO", "after"]);
    waiter.assert_waiting();
    pusher.call(&["RPUSH", "later", "v"]);
    assert_eq!(waiter.reply(), "*2\r\n$5\r\nlater\r\n$1\r\nv\r\n");
    assert_eq!(waiter.reply(), "$5\r\nafter\r\n");
    // BRPOPLPUSH onto a destination of another type: served with WRONGTYPE, nothing popped.
    pusher.call(&["SET", "str", "x"]);
    waiter.send(&["BRPOPLPUSH", "src2", "str", "0"]);
    waiter.assert_waiting();
    pusher.call(&["RPUSH", "src2", "v"]);
    assert!(waiter.reply().starts_with("-WRONGTYPE"));
    assert_eq!(pusher.call_str(&["LRANGE", "src2", "0", "-1"]), "*1\r\n$1\r\nv\r\n");
}

#[test]
fn a_key_overwritten_with_another_type_keeps_the_client_waiting() {
    // Redis 7.0 serves a blocked client only from a key that holds a list.
    let server = start_corekv(&[]);
    let mut waiter = Waiter::new(&server);
    let mut writer = Conn::new(&server);
    waiter.send(&["BLPOP", "k1", "k2", "0"]);
    waiter.assert_waiting();
    writer.call(&["SET", "k1", "string"]);
    waiter.assert_waiting();
    writer.call(&["RPUSH", "k2", "v"]);
    assert_eq!(waiter.reply(), "*2\r\n$2\r\nk2\r\n$1\r\nv\r\n");
    // A fresh BLPOP on the string key fails at once.
    assert!(waiter.call(&["BLPOP", "k1", "0"]).starts_with("-WRONGTYPE"));
}

#[test]
fn disconnecting_while_blocked_leaves_the_server_healthy() {
    let server = start_corekv(&[]);
    for _ in 0..5 {
        let mut waiter = Waiter::new(&server);
        waiter.send(&["BLPOP", "gone", "0"]);
        waiter.assert_waiting();
        drop(waiter);
    }
    // Give the server a moment to see the hang-ups (a parked client's socket is still read).
    std::thread::sleep(Duration::from_millis(50));
    let mut conn = Conn::new(&server);
    // Nobody is left to take the element: it stays in the list.
    assert_eq!(conn.call_str(&["RPUSH", "gone", "v"]), ":1\r\n");
    assert_eq!(conn.call_str(&["LLEN", "gone"]), ":1\r\n");
    // A new waiter is still served.
    let mut waiter = Waiter::new(&server);
    waiter.send(&["BLPOP", "gone2", "0"]);
    waiter.assert_waiting();
    conn.call(&["RPUSH", "gone2", "w"]);
    assert_eq!(waiter.reply(), "*2\r\n$5\r\ngone2\r\n$1\r\nw\r\n");
    assert_eq!(conn.call_str(&["PING"]), "+PONG\r\n");
}

/// resp-diff seed 203: LMOVE of a one-element list onto itself rotated it through an empty
/// list, which deleted the key and dropped its TTL. Redis keeps both.
#[test]
fn lmove_onto_itself_keeps_the_key_and_its_ttl() {
    let Some((redis, corekv)) = pair() else { return };
    let (mut reference, mut test) = (Conn::new(&redis), Conn::new(&corekv));
    assert_same(
        &mut reference,
        &mut test,
        &[
            &["RPUSH", "l", "only"],
            &["EXPIREAT", "l", "4102444800"],
            &["LMOVE", "l", "l", "RIGHT", "LEFT"],
            &["RPOPLPUSH", "l", "l"],
            &["EXPIRETIME", "l"],
            &["LRANGE", "l", "0", "-1"],
            &["LMOVE", "missing", "missing", "LEFT", "LEFT"],
        ],
    );
}
