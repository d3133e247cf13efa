//! The server's core over real TCP: strings, connection commands, pipelining, transactions.

mod common;

use common::{Conn, assert_same, start_corekv, start_redis};

#[test]
fn strings_and_errors_match_redis_byte_for_byte() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    assert_eq!(conn.call_str(&["PING"]), "+PONG\r\n");
    assert_eq!(conn.call_str(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(conn.call_str(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(conn.call_str(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(conn.call_str(&["GET"]), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(
        conn.call_str(&["NOPE", "a"]),
        "-ERR unknown command 'NOPE', with args beginning with: 'a' \r\n"
    );
    let Some(redis) = start_redis() else {
        eprintln!("redis-server not installed: skipping the comparison");
        return;
    };
    let mut reference = Conn::new(&redis);
    assert_same(
        &mut reference,
        &mut conn,
        &[
            &["SET", "n", "10"],
            &["INCRBY", "n", "5"],
            &["INCRBYFLOAT", "n", "0.5"],
            &["SET", "x", "1", "EX", "0"],
            &["SET", "x", "1", "NX", "XX"],
            &["SET", "x", "1", "EX", "abc"],
            &["GETEX", "n", "PERSIST"],
            &["MSET", "a", "1", "b"],
            &["SETRANGE", "s", "-1", "x"],
            &["SELECT", "99"],
            &["SELECT", "x"],
            &["ECHO", "hi"],
            &["PING", "a", "b"],
        ],
    );
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let mut batch = Vec::new();
    for i in 0..1000 {
        corekv::protocol::write_command(&mut batch, &[&b"INCR"[..], b"counter"]);
        if i % 100 == 0 {
            batch.extend_from_slice(b"PING\r\n");
        }
    }
    conn.send_raw(&batch);
    for i in 0..1000 {
        assert_eq!(conn.read_raw_reply(), format!(":{}\r\n", i + 1).into_bytes());
        if i % 100 == 0 {
            assert_eq!(conn.read_raw_reply(), b"+PONG\r\n");
        }
    }
}

#[test]
fn multi_exec_and_watch_conflicts() {
    let server = start_corekv(&[]);
    let mut a = Conn::new(&server);
    let mut b = Conn::new(&server);
    assert_eq!(a.call_str(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.call_str(&["SET", "k", "1"]), "+QUEUED\r\n");
    assert_eq!(a.call_str(&["INCR", "k"]), "+QUEUED\r\n");
    assert_eq!(a.call_str(&["EXEC"]), "*2\r\n+OK\r\n:2\r\n");
    // A watched key changed by another client aborts EXEC with a null array.
    assert_eq!(a.call_str(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(b.call_str(&["SET", "k", "changed"]), "+OK\r\n");
    a.call(&["MULTI"]);
    a.call(&["SET", "k", "mine"]);
    assert_eq!(a.call_str(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.call_str(&["GET", "k"]), "$7\r\nchanged\r\n");
    // Errors while queueing abort the transaction.
    a.call(&["MULTI"]);
    assert_eq!(a.call_str(&["GET"]), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(
        a.call_str(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(a.call_str(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(a.call_str(&["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
}

#[test]
fn pubsub_delivers_across_connections() {
    let server = start_corekv(&[]);
    let mut subscriber = Conn::new(&server);
    let mut publisher = Conn::new(&server);
    assert_eq!(
        subscriber.call_str(&["SUBSCRIBE", "news"]),
        "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    assert_eq!(
        subscriber.call_str(&["GET", "x"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(publisher.call_str(&["PUBLISH", "news", "hello"]), ":1\r\n");
    assert_eq!(
        subscriber.read_raw_reply(),
        b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
    );
    assert_eq!(publisher.call_str(&["PUBLISH", "other", "x"]), ":0\r\n");
}

#[test]
fn auth_is_required_when_a_password_is_set() {
    let server = start_corekv(&["--requirepass", "secret"]);
    let mut conn = Conn::new(&server);
    assert_eq!(conn.call_str(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        conn.call_str(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(conn.call_str(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(conn.call_str(&["GET", "k"]), "$-1\r\n");
}

#[test]
fn protocol_errors_close_the_connection_and_spare_others() {
    let server = start_corekv(&[]);
    let mut other = Conn::new(&server);
    other.call(&["SET", "kept", "1"]);
    let mut bad = Conn::new(&server);
    bad.send_raw(b"*1\r\n$999999999999\r\n");
    assert_eq!(bad.read_raw_reply(), b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(bad.is_closed());
    assert_eq!(other.call_str(&["GET", "kept"]), "$1\r\n1\r\n");
}
