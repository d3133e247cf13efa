//! Sorted-set commands over real TCP, byte for byte against redis-server 7.0 where it is
//! installed: scores in RESP2 and RESP3, every argument error in Redis's order, MULTI/EXEC,
//! blocking pops served by another connection or timing out, and the random commands'
//! contracts.

mod common;

use std::time::{Duration, Instant};

use common::{Conn, Server, start_corekv, start_redis};
use corekv::protocol::Frame;

/// corekv, and redis-server when installed (comparisons are skipped otherwise).
fn servers() -> (Server, Option<Server>) {
    let reference = start_redis();
    if reference.is_none() {
        eprintln!("redis-server not installed: skipping the comparisons");
    }
    (start_corekv(&[]), reference)
}

/// A connection, after HELLO 3 with `resp3`, on the database of that protocol's run (so each
/// run starts empty on a fresh server).
fn connect(server: &Server, resp3: bool) -> Conn {
    let mut conn = Conn::new(server);
    if resp3 {
        conn.call(&["HELLO", "3"]);
    }
    assert_eq!(conn.call_str(&["SELECT", if resp3 { "1" } else { "0" }]), "+OK\r\n");
    conn
}

/// Runs `commands` on both servers and compares every reply byte for byte.
fn compare(reference: Option<&Server>, test: &Server, resp3: bool, commands: &[&[&str]]) {
    let mut test = connect(test, resp3);
    let mut reference = reference.map(|server| connect(server, resp3));
    for command in commands {
        let got = test.call_str(command);
        if let Some(reference) = reference.as_mut() {
            assert_eq!(got, reference.call_str(command), "command {command:?} (resp3: {resp3})");
        }
    }
}

const POINT: &[&[&str]] = &[
    &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    &["ZADD", "z", "1.5", "a", "0.1", "d", "-0", "e"],
    &["ZADD", "z", "NX", "9", "a", "9", "f"],
    &["ZADD", "z", "XX", "CH", "8", "a", "8", "g"],
    &["ZADD", "z", "GT", "CH", "1", "a", "10", "b"],
    &["ZADD", "z", "LT", "ch", "1", "a"],
    &["ZADD", "z", "XX", "GT", "20", "b"],
    &["ZADD", "z", "INCR", "2.5", "a"],
    &["ZADD", "z", "NX", "INCR", "1", "a"],
    &["ZADD", "z", "GT", "INCR", "-1", "a"],
    &["ZADD", "nokey", "XX", "1", "a"],
    &["ZADD", "nokey", "XX", "INCR", "1", "a"],
    &["ZCARD", "nokey"],
    &["ZADD", "z", "NX", "XX", "1", "a"],
    &["ZADD", "z", "GT", "LT", "1", "a"],
    &["ZADD", "z", "NX", "GT", "1", "a"],
    &["ZADD", "z", "NX", "XX", "1"],
    &["ZADD", "z", "INCR", "1", "a", "2", "b"],
    &["ZADD", "z", "abc", "a"],
    &["ZADD", "z", "nan", "a"],
    &["ZADD", "z", "1", "a", "2"],
    &["ZADD", "z", "0x10", "hex", "1e3", "exp", "inf", "top", "-inf", "bottom"],
    &["ZADD", "z", "0.30000000000000004", "tiny", "123456789012345678", "huge"],
    &["SET", "str", "x"],
    &["ZADD", "str", "1", "a"],
    &["ZADD", "str", "nan", "a"],
    &["ZINCRBY", "z", "1", "a"],
    &["ZINCRBY", "z", "-inf", "top"],
    &["ZINCRBY", "z", "abc", "a"],
    &["ZINCRBY", "z", "nx", "a"],
    &["ZINCRBY", "str", "1", "a"],
    &["ZINCRBY", "new", "2.5", "m"],
    &["ZSCORE", "z", "a"],
    &["ZSCORE", "z", "tiny"],
    &["ZSCORE", "z", "huge"],
    &["ZSCORE", "z", "top"],
    &["ZSCORE", "z", "e"],
    &["ZSCORE", "z", "nope"],
    &["ZSCORE", "nokey", "a"],
    &["ZSCORE", "str", "a"],
    &["ZMSCORE", "z", "a", "nope", "bottom"],
    &["ZMSCORE", "nokey", "a", "b"],
    &["ZMSCORE", "str", "a"],
    &["ZCARD", "z"],
    &["ZCARD", "nokey"],
    &["ZCARD", "str"],
    &["ZREM", "z", "g", "nope", "g"],
    &["ZREM", "nokey", "a"],
    &["ZREM", "str", "a"],
    &["ZCOUNT", "z", "-inf", "+inf"],
    &["ZCOUNT", "z", "(1", "3"],
    &["ZCOUNT", "z", "abc", "3"],
    &["ZCOUNT", "nokey", "abc", "3"],
    &["ZCOUNT", "str", "0", "1"],
    &["ZRANK", "z", "a"],
    &["ZRANK", "z", "nope"],
    &["ZRANK", "nokey", "a"],
    &["ZREVRANK", "z", "a"],
    &["ZREVRANK", "str", "a"],
    &["ZRANK", "z", "a", "WITHSCORE"],
    &["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"],
    &["ZLEXCOUNT", "lex", "-", "+"],
    &["ZLEXCOUNT", "lex", "(a", "[c"],
    &["ZLEXCOUNT", "lex", "a", "c"],
    &["ZLEXCOUNT", "str", "-", "+"],
    &["ZRANDMEMBER", "nokey"],
    &["ZRANDMEMBER", "nokey", "3"],
    &["ZRANDMEMBER", "nokey", "3", "WITHSCORES"],
    &["ZRANDMEMBER", "new", "1", "WITHSCORES"],
    &["ZRANDMEMBER", "new", "-3", "WITHSCORES"],
    &["ZRANDMEMBER", "new"],
    &["ZRANDMEMBER", "new", "0"],
    &["ZRANDMEMBER", "z", "abc"],
    &["ZRANDMEMBER", "z", "1", "foo"],
    &["ZRANDMEMBER", "nokey", "1", "foo"],
    &["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"],
    &["ZRANDMEMBER", "z", "-9223372036854775808"],
    &["ZRANDMEMBER", "str"],
    &["ZRANDMEMBER", "str", "1"],
    &["ZSCAN", "new", "0"],
    &["ZSCAN", "new", "0", "MATCH", "m*", "COUNT", "5"],
    &["ZSCAN", "new", "0", "MATCH", "x*"],
    &["ZSCAN", "new", "abc"],
    &["ZSCAN", "new", "0", "COUNT", "0"],
    &["ZSCAN", "nokey", "0", "COUNT", "abc"],
    &["ZSCAN", "str", "0", "COUNT", "abc"],
    &["ZSCAN", "str", "0"],
];

const RANGES: &[&[&str]] = &[
    &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
    &["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"],
    &["SET", "str", "x"],
    &["ZRANGE", "z", "0", "-1"],
    &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    &["ZRANGE", "z", "-2", "100", "withscores"],
    &["ZRANGE", "z", "0", "-1", "REV", "WITHSCORES"],
    &["ZRANGE", "z", "(1", "4", "BYSCORE", "WITHSCORES"],
    &["ZRANGE", "z", "4", "(1", "BYSCORE", "REV", "LIMIT", "1", "2"],
    &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"],
    &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-5"],
    &["ZRANGE", "lex", "(a", "[c", "BYLEX"],
    &["ZRANGE", "lex", "+", "-", "BYLEX", "REV", "LIMIT", "1", "2"],
    &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"],
    &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
    &["ZRANGE", "lex", "-", "+", "BYLEX", "WITHSCORES"],
    &["ZRANGE", "z", "0", "-1", "LIMIT", "0"],
    &["ZRANGE", "z", "0", "-1", "REV", "REV"],
    &["ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"],
    &["ZRANGE", "z", "a", "b"],
    &["ZRANGE", "z", "a", "b", "BYSCORE"],
    &["ZRANGE", "z", "a", "b", "BYLEX"],
    &["ZRANGE", "z", "0", "1", "LIMIT", "a", "b", "WITHSCORES"],
    &["ZRANGE", "str", "0", "-1"],
    &["ZRANGE", "str", "0", "-1", "foo"],
    &["ZRANGE", "nokey", "0", "-1", "WITHSCORES"],
    &["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "1", "2"],
    &["ZRANGEBYSCORE", "z", "(2", "(5"],
    &["ZRANGEBYSCORE", "z", "0", "10", "REV"],
    &["ZRANGEBYSCORE", "z", "0", "10", "BYLEX"],
    &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES"],
    &["ZREVRANGEBYSCORE", "z", "(4", "2", "LIMIT", "0", "1"],
    &["ZRANGEBYLEX", "lex", "[b", "+"],
    &["ZRANGEBYLEX", "lex", "-", "+", "LIMIT", "1", "1"],
    &["ZRANGEBYLEX", "lex", "-", "+", "WITHSCORES"],
    &["ZRANGEBYLEX", "lex", "a", "+"],
    &["ZREVRANGEBYLEX", "lex", "+", "(b"],
    &["ZREVRANGEBYLEX", "lex", "(b", "+"],
    &["ZREVRANGE", "z", "0", "1", "WITHSCORES"],
    &["ZREVRANGE", "z", "0", "1", "REV"],
    &["ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"],
    &["ZRANGESTORE", "dst", "z", "0", "1"],
    &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
    &["ZRANGESTORE", "dst", "z", "+inf", "(3", "BYSCORE", "REV"],
    &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
    &["ZRANGESTORE", "dst", "lex", "[c", "(a", "BYLEX", "REV", "LIMIT", "0", "5"],
    &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
    &["ZRANGESTORE", "dst", "nokey", "0", "-1"],
    &["ZCARD", "dst"],
    &["ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"],
    &["ZRANGESTORE", "dst", "str", "0", "-1"],
    &["ZRANGESTORE", "str", "z", "0", "0"],
    &["GET", "str"],
    &["SET", "str", "x"],
    &["ZREMRANGEBYRANK", "z", "0", "0"],
    &["ZREMRANGEBYRANK", "z", "a", "0"],
    &["ZREMRANGEBYRANK", "str", "0", "0"],
    &["ZREMRANGEBYSCORE", "z", "(2", "3"],
    &["ZREMRANGEBYSCORE", "z", "x", "3"],
    &["ZREMRANGEBYLEX", "lex", "[b", "(d"],
    &["ZREMRANGEBYLEX", "lex", "b", "(d"],
    &["ZREMRANGEBYLEX", "nokey", "b", "(d"],
    &["ZRANGE", "lex", "0", "-1"],
    &["ZREMRANGEBYRANK", "lex", "0", "-1"],
    &["ZCARD", "lex"],
];

const POPS_AND_ALGEBRA: &[&[&str]] = &[
    &["ZADD", "z", "1", "a", "2", "b", "3", "c", "0.1", "d"],
    &["ZADD", "y", "10", "b", "20", "x"],
    &["SADD", "s", "a", "x"],
    &["SET", "str", "x"],
    &["ZPOPMIN", "z"],
    &["ZPOPMAX", "z"],
    &["ZPOPMIN", "z", "1"],
    &["ZPOPMIN", "z", "0"],
    &["ZPOPMIN", "z", "abc"],
    &["ZPOPMIN", "z", "-1"],
    &["ZPOPMIN", "z", "1", "2"],
    &["ZPOPMIN", "nokey"],
    &["ZPOPMAX", "nokey", "3"],
    &["ZPOPMIN", "str"],
    &["ZPOPMIN", "str", "0"],
    &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    &["ZPOPMAX", "z", "10"],
    &["ZCARD", "z"],
    &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    &["ZMPOP", "2", "nokey", "z", "MIN"],
    &["ZMPOP", "2", "nokey", "z", "max", "COUNT", "10"],
    &["ZMPOP", "1", "z", "MIN"],
    &["ZMPOP", "2", "nokey", "str", "MIN"],
    &["ZMPOP", "2", "y", "str", "MIN"],
    &["ZMPOP", "abc", "z", "MIN"],
    &["ZMPOP", "0", "z", "MIN"],
    &["ZMPOP", "1", "z"],
    &["ZMPOP", "1", "z", "foo"],
    &["ZMPOP", "2", "z", "MIN"],
    &["ZMPOP", "1", "z", "MIN", "COUNT", "0"],
    &["ZMPOP", "1", "z", "MIN", "COUNT", "abc"],
    &["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"],
    &["ZMPOP", "1", "z", "MIN", "COUNT"],
    &["ZMPOP", "9223372036854775807", "z", "MIN"],
    &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    &["BZPOPMIN", "nokey", "z", "0"],
    &["BZPOPMAX", "z", "0.5"],
    &["BZPOPMIN", "str", "z", "0"],
    &["BZPOPMIN", "z", "abc"],
    &["BZPOPMIN", "z", "-1"],
    &["BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "2"],
    &["BZMPOP", "abc", "1", "z", "MIN"],
    &["BZMPOP", "-1", "1", "z", "MIN"],
    &["BZMPOP", "abc", "0", "z", "MIN"],
    &["BZMPOP", "0", "1", "nokey", "MIN", "COUNT", "0"],
    &["BZMPOP", "0", "1", "str", "MIN"],
    // ZUNION / ZINTER / ZDIFF and their forms.
    &["ZADD", "z", "1", "a", "2", "b", "3", "c", "inf", "i", "-inf", "j"],
    &["ZADD", "y", "inf", "i", "inf", "j"],
    &["ZUNION", "2", "z", "y"],
    &["ZUNION", "2", "z", "y", "WITHSCORES"],
    &["ZUNION", "3", "z", "y", "s", "WEIGHTS", "2", "0.5", "3", "WITHSCORES"],
    &["ZUNION", "2", "z", "y", "WEIGHTS", "0", "1", "AGGREGATE", "MIN", "WITHSCORES"],
    &["ZUNION", "2", "z", "y", "aggregate", "max", "withscores"],
    &["ZUNION", "2", "z", "nokey", "WITHSCORES"],
    &["ZINTER", "2", "z", "y", "WITHSCORES"],
    &["ZINTER", "2", "z", "s", "WEIGHTS", "1", "5", "WITHSCORES"],
    &["ZINTER", "2", "z", "nokey"],
    &["ZDIFF", "2", "z", "y", "WITHSCORES"],
    &["ZDIFF", "2", "z", "z"],
    &["ZDIFF", "1", "nokey"],
    &["ZDIFF", "1", "z", "WEIGHTS", "1"],
    &["ZDIFF", "1", "z", "AGGREGATE", "SUM"],
    &["ZUNION", "2", "z", "str"],
    &["ZUNION", "2", "z", "str", "foo"],
    &["ZUNION", "1", "z", "WEIGHTS", "abc"],
    &["ZUNION", "1", "z", "WEIGHTS", "1", "2"],
    &["ZUNION", "2", "z", "y", "WEIGHTS", "1"],
    &["ZUNION", "1", "z", "AGGREGATE", "foo"],
    &["ZUNION", "1", "z", "AGGREGATE"],
    &["ZUNION", "0", "z"],
    &["ZUNION", "-1", "z"],
    &["ZUNION", "abc", "z"],
    &["ZUNION", "3", "z", "y"],
    &["ZUNION", "1", "z", "LIMIT", "1"],
    &["ZUNIONSTORE", "d", "2", "z", "y", "WEIGHTS", "2", "3"],
    &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    &["ZINTERSTORE", "d", "2", "z", "s", "AGGREGATE", "MAX"],
    &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    &["ZDIFFSTORE", "d", "2", "z", "s"],
    &["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    &["ZINTERSTORE", "d", "2", "z", "nokey"],
    &["ZCARD", "d"],
    &["ZUNIONSTORE", "d", "1", "z", "WITHSCORES"],
    &["ZUNIONSTORE", "d", "0", "z"],
    &["ZDIFFSTORE", "d", "1", "z", "WEIGHTS", "1"],
    &["ZUNIONSTORE", "z", "2", "z", "z", "WEIGHTS", "2", "3"],
    &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    &["ZUNIONSTORE", "str", "1", "y"],
    &["GET", "str"],
    &["SET", "str", "x"],
    &["ZINTERCARD", "2", "z", "y"],
    &["ZINTERCARD", "2", "z", "y", "LIMIT", "1"],
    &["ZINTERCARD", "2", "z", "s", "limit", "0"],
    &["ZINTERCARD", "1", "nokey"],
    &["ZINTERCARD", "abc", "z"],
    &["ZINTERCARD", "0", "z"],
    &["ZINTERCARD", "2", "z"],
    &["ZINTERCARD", "1", "z", "LIMIT", "-1"],
    &["ZINTERCARD", "1", "z", "LIMIT", "abc"],
    &["ZINTERCARD", "1", "z", "WITHSCORES"],
    &["ZINTERCARD", "2", "z", "str", "LIMIT", "-1"],
];

#[test]
fn point_commands_match_redis() {
    let (test, reference) = servers();
    compare(reference.as_ref(), &test, false, POINT);
    compare(reference.as_ref(), &test, true, POINT);
}

#[test]
fn range_commands_match_redis() {
    let (test, reference) = servers();
    compare(reference.as_ref(), &test, false, RANGES);
    compare(reference.as_ref(), &test, true, RANGES);
}

#[test]
fn pops_and_algebra_match_redis() {
    let (test, reference) = servers();
    compare(reference.as_ref(), &test, false, POPS_AND_ALGEBRA);
    compare(reference.as_ref(), &test, true, POPS_AND_ALGEBRA);
}

#[test]
fn every_zset_command_runs_inside_multi_exec() {
    let (test, reference) = servers();
    let script: &[&[&str]] = &[
        &["SET", "str", "x"],
        &["SADD", "s", "a"],
        &["ZADD", "one", "1.5", "m"],
        &["MULTI"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        &["ZADD", "z", "XX", "CH", "GT", "5", "a", "0", "b"],
        &["ZADD", "z", "INCR", "1", "e"],
        &["ZINCRBY", "z", "2.5", "e"],
        &["ZREM", "z", "nope"],
        &["ZSCORE", "z", "e"],
        &["ZMSCORE", "z", "a", "nope"],
        &["ZCARD", "z"],
        &["ZCOUNT", "z", "(1", "+inf"],
        &["ZLEXCOUNT", "z", "-", "+"],
        &["ZRANK", "z", "c"],
        &["ZREVRANK", "z", "c"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2", "WITHSCORES"],
        &["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "0", "2"],
        &["ZREVRANGEBYSCORE", "z", "+inf", "-inf"],
        &["ZRANGEBYLEX", "z", "-", "[c"],
        &["ZREVRANGEBYLEX", "z", "+", "-"],
        &["ZREVRANGE", "z", "0", "1", "WITHSCORES"],
        &["ZRANGESTORE", "d2", "z", "0", "1"],
        &["ZPOPMIN", "z"],
        &["ZPOPMAX", "z", "2"],
        &["ZMPOP", "3", "nokey", "z", "z", "MIN", "COUNT", "1"],
        &["BZPOPMIN", "nokey", "z", "0"],
        &["BZPOPMAX", "nokey", "0"],
        &["BZMPOP", "0", "2", "nokey", "z", "MAX"],
        &["BZMPOP", "0", "1", "nokey", "MAX"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZREMRANGEBYRANK", "z", "0", "0"],
        &["ZREMRANGEBYSCORE", "z", "-inf", "2"],
        &["ZREMRANGEBYLEX", "z", "-", "(a"],
        &["ZRANDMEMBER", "nokey"],
        &["ZRANDMEMBER", "one", "-2", "WITHSCORES"],
        &["ZSCAN", "nokey", "0"],
        &["ZUNION", "2", "d2", "s", "WITHSCORES"],
        &["ZINTER", "2", "d2", "s", "WEIGHTS", "2", "3", "AGGREGATE", "MAX", "WITHSCORES"],
        &["ZDIFF", "2", "d2", "s", "WITHSCORES"],
        &["ZUNIONSTORE", "d3", "2", "d2", "s"],
        &["ZINTERSTORE", "d3", "2", "d2", "s"],
        &["ZDIFFSTORE", "d3", "2", "d2", "s"],
        &["ZINTERCARD", "2", "d2", "s", "LIMIT", "0"],
        &["ZUNION", "2", "d2", "str"],
        &["ZPOPMIN", "str"],
        &["EXEC"],
        &["MULTI"],
        &["ZADD", "z", "NX", "XX", "1", "a"],
        &["ZUNION", "0", "z"],
        &["ZMPOP", "0", "z", "MIN"],
        &["EXEC"],
    ];
    compare(reference.as_ref(), &test, false, script);
    compare(reference.as_ref(), &test, true, script);
}

/// Sends a command without reading its reply.
fn send(conn: &mut Conn, command: &[&str]) {
    let args: Vec<&[u8]> = command.iter().map(|a| a.as_bytes()).collect();
    conn.send(&args);
}

/// A blocked BZPOPMIN/BZPOPMAX/BZMPOP is served by another connection's write, with the reply
/// Redis sends, and the rest of the blocked client's pipeline runs after it.
fn blocking_pops_are_served(server: &Server, resp3: bool) -> Vec<String> {
    let mut waiter = connect(server, resp3);
    let mut writer = connect(server, false);
    writer.call(&["SELECT", if resp3 { "1" } else { "0" }]);
    let mut replies = Vec::new();
    let cases: &[(&[&str], &[&str])] = &[
        (&["BZPOPMIN", "k1", "k2", "0"], &["ZADD", "k2", "1", "a", "2", "b"]),
        (&["BZPOPMAX", "k3", "5"], &["ZADD", "k3", "1.5", "a", "2.5", "b"]),
        (
            &["BZMPOP", "0", "2", "k4", "k5", "MAX", "COUNT", "5"],
            &["ZADD", "k5", "1", "x", "2", "y"],
        ),
    ];
    for (blocking, write) in cases {
        send(&mut waiter, blocking);
        send(&mut waiter, &["PING"]);
        // Let the command block before the write arrives.
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(writer.call_str(write).chars().next(), Some(':'));
        replies.push(String::from_utf8_lossy(&waiter.read_raw_reply()).into_owned());
        replies.push(String::from_utf8_lossy(&waiter.read_raw_reply()).into_owned());
    }
    // A write of another type does not serve a sorted-set waiter; a ZADD then does.
    send(&mut waiter, &["BZPOPMIN", "k6", "0"]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(writer.call_str(&["SADD", "other", "a"]), ":1\r\n");
    assert_eq!(writer.call_str(&["ZADD", "k6", "7", "m"]), ":1\r\n");
    replies.push(String::from_utf8_lossy(&waiter.read_raw_reply()).into_owned());
    replies
}

#[test]
fn blocking_pops_are_served_by_another_connection() {
    let (test, reference) = servers();
    for resp3 in [false, true] {
        let got = blocking_pops_are_served(&test, resp3);
        let expected = if resp3 {
            [
                "*3\r\n$2\r\nk2\r\n$1\r\na\r\n,1\r\n",
                "+PONG\r\n",
                "*3\r\n$2\r\nk3\r\n$1\r\nb\r\n,2.5\r\n",
                "+PONG\r\n",
                "*2\r\n$2\r\nk5\r\n*2\r\n*2\r\n$1\r\ny\r\n,2\r\n*2\r\n$1\r\nx\r\n,1\r\n",
                "+PONG\r\n",
                "*3\r\n$2\r\nk6\r\n$1\r\nm\r\n,7\r\n",
            ]
        } else {
            [
                "*3\r\n$2\r\nk2\r\n$1\r\na\r\n$1\r\n1\r\n",
                "+PONG\r\n",
                "*3\r\n$2\r\nk3\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
                "+PONG\r\n",
                "*2\r\n$2\r\nk5\r\n*2\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n",
                "+PONG\r\n",
                "*3\r\n$2\r\nk6\r\n$1\r\nm\r\n$1\r\n7\r\n",
            ]
        };
        assert_eq!(got, expected, "resp3: {resp3}");
        if let Some(reference) = reference.as_ref() {
            assert_eq!(blocking_pops_are_served(reference, resp3), got, "resp3: {resp3}");
        }
    }
}

#[test]
fn blocking_pops_time_out_with_the_null_array() {
    let server = start_corekv(&[]);
    for (resp3, null) in [(false, "*-1\r\n"), (true, "_\r\n")] {
        let mut conn = connect(&server, resp3);
        for command in [
            &["BZPOPMIN", "nokey", "0.1"][..],
            &["BZPOPMAX", "a", "b", "0.1"],
            &["BZMPOP", "0.1", "1", "nokey", "MIN"],
        ] {
            let started = Instant::now();
            assert_eq!(conn.call_str(command), null, "{command:?}");
            let waited = started.elapsed();
            assert!(waited >= Duration::from_millis(90), "{command:?} returned after {waited:?}");
            assert!(waited < Duration::from_secs(5), "{command:?} returned after {waited:?}");
        }
        // Inside MULTI nothing blocks: the null array at once.
        assert_eq!(conn.call_str(&["MULTI"]), "+OK\r\n");
        assert_eq!(conn.call_str(&["BZPOPMIN", "nokey", "0"]), "+QUEUED\r\n");
        assert_eq!(conn.call_str(&["BZMPOP", "0", "1", "nokey", "MIN"]), "+QUEUED\r\n");
        assert_eq!(conn.call_str(&["EXEC"]), format!("*2\r\n{null}{null}"));
    }
}

/// Decodes a flat RESP2 WITHSCORES reply into (member, score text) pairs.
fn scored(conn: &mut Conn, command: &[&str]) -> Vec<(Vec<u8>, Vec<u8>)> {
    send(conn, command);
    let Frame::Array(items) = conn.read_frame() else { panic!("not an array") };
    items
        .chunks(2)
        .map(|pair| match pair {
            [Frame::Bulk(member), Frame::Bulk(score)] => (member.clone(), score.clone()),
            other => panic!("not a pair: {other:?}"),
        })
        .collect()
}

#[test]
fn random_members_and_scan_keep_their_contracts() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let mut zadd = vec!["ZADD".to_string(), "z".to_string()];
    for i in 0..300 {
        zadd.push(format!("{i}.5"));
        zadd.push(format!("m{i}"));
    }
    let zadd: Vec<&str> = zadd.iter().map(String::as_str).collect();
    assert_eq!(conn.call_str(&zadd), ":300\r\n");

    let sample = scored(&mut conn, &["ZRANDMEMBER", "z", "40", "WITHSCORES"]);
    let mut members: Vec<_> = sample.iter().map(|(member, _)| member.clone()).collect();
    members.sort();
    members.dedup();
    assert_eq!((sample.len(), members.len()), (40, 40));
    for (member, score) in &sample {
        let index = std::str::from_utf8(&member[1..]).unwrap();
        assert_eq!(score, format!("{index}.5").as_bytes());
    }
    assert_eq!(scored(&mut conn, &["ZRANDMEMBER", "z", "-500", "WITHSCORES"]).len(), 500);
    assert_eq!(
        scored(&mut conn, &["ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"]).len(),
        300
    );

    // ZSCAN visits every member, with its score.
    let mut seen = Vec::new();
    let mut cursor = b"0".to_vec();
    for _ in 0..1000 {
        conn.send(&[b"ZSCAN", b"z", &cursor, b"COUNT", b"9"]);
        let Frame::Array(mut page) = conn.read_frame() else { panic!("not an array") };
        let Frame::Array(found) = page.pop().unwrap() else { panic!("no members") };
        let Frame::Bulk(next) = page.pop().unwrap() else { panic!("no cursor") };
        for pair in found.chunks(2) {
            let [Frame::Bulk(member), Frame::Bulk(score)] = pair else { panic!("not a pair") };
            let index = std::str::from_utf8(&member[1..]).unwrap();
            assert_eq!(score, format!("{index}.5").as_bytes());
            seen.push(member.clone());
        }
        cursor = next;
        if cursor == b"0" {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 300);
}

/// Every set and sorted-set command's arity, flags and legacy key range are those
/// `COMMAND INFO` reports on Redis 7.0 (EXEC locks the keys the table names).
#[test]
fn command_metadata_matches_redis() {
    let Some(redis) = start_redis() else {
        eprintln!("redis-server not installed: skipping the comparison");
        return;
    };
    let table = corekv::commands::CommandTable::new(&[]);
    let mut reference = Conn::new(&redis);
    let names = [
        "sadd",
        "srem",
        "sismember",
        "smismember",
        "smembers",
        "scard",
        "spop",
        "srandmember",
        "smove",
        "sinter",
        "sunion",
        "sdiff",
        "sinterstore",
        "sunionstore",
        "sdiffstore",
        "sintercard",
        "sscan",
        "zadd",
        "zincrby",
        "zrem",
        "zscore",
        "zmscore",
        "zcard",
        "zcount",
        "zlexcount",
        "zrank",
        "zrevrank",
        "zrange",
        "zrangebyscore",
        "zrevrangebyscore",
        "zrangebylex",
        "zrevrangebylex",
        "zrevrange",
        "zrangestore",
        "zpopmin",
        "zpopmax",
        "zmpop",
        "bzpopmin",
        "bzpopmax",
        "bzmpop",
        "zremrangebyrank",
        "zremrangebyscore",
        "zremrangebylex",
        "zrandmember",
        "zscan",
        "zunion",
        "zinter",
        "zdiff",
        "zunionstore",
        "zinterstore",
        "zdiffstore",
        "zintercard",
    ];
    for name in names {
        send(&mut reference, &["COMMAND", "INFO", name]);
        let Frame::Array(mut infos) = reference.read_frame() else { panic!("not an array") };
        let Some(Frame::Array(info)) = infos.pop() else { panic!("no info for {name}") };
        let integer = |frame: &Frame| match frame {
            Frame::Integer(value) => *value as i32,
            other => panic!("not an integer: {other:?}"),
        };
        let Frame::Array(flags) = &info[2] else { panic!("no flags") };
        let flags: Vec<String> = flags
            .iter()
            .map(|flag| match flag {
                Frame::Simple(text) | Frame::Bulk(text) => String::from_utf8_lossy(text).into(),
                other => panic!("not a flag: {other:?}"),
            })
            .collect();
        let command = table.lookup(name.as_bytes()).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(command.arity, integer(&info[1]), "{name} arity");
        assert_eq!(command.flags.names().collect::<Vec<_>>(), flags, "{name} flags");
        let range = (integer(&info[3]), integer(&info[4]), integer(&info[5]));
        assert_eq!(command.key_range(), range, "{name} key range");
    }
}
