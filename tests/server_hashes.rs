//! Hash commands over real TCP: replies byte-for-byte against redis-server 7.0 (RESP2, RESP3,
//! inside MULTI/EXEC), and the replies Redis leaves unspecified (HRANDFIELD, HSCAN, field
//! order) checked by shape.

mod common;

use std::collections::BTreeMap;

use common::{Conn, Server, assert_same, start_corekv, start_redis};
use corekv::protocol::Frame;

/// Both servers, or `None` (after saying so) when redis-server is not installed.
fn pair() -> Option<(Server, Server)> {
    let corekv = start_corekv(&[]);
    let Some(redis) = start_redis() else {
        eprintln!("redis-server not installed: skipping the comparison");
        return None;
    };
    Some((redis, corekv))
}

/// Every hash command's success paths and error texts, in Redis's order of checks, on hashes
/// of one field where the reply's order matters. Every key starts missing.
const SCRIPT: &[&[&str]] = &[
    &["HSET", "h", "f", "v"],
    &["HSET", "h", "f", "v2", "g", "1"],
    &["HSET", "h", "f"],
    &["HMSET", "h", "x", "1", "y"],
    &["HMSET", "h", "x", "1", "y", "2"],
    &["HSETNX", "h", "f", "no"],
    &["HSETNX", "h", "new", "yes"],
    &["HGET", "h", "f"],
    &["HGET", "h", "nope"],
    &["HGET", "missing", "f"],
    &["HMGET", "h", "f", "nope", "g"],
    &["HMGET", "missing", "a", "b"],
    &["HLEN", "h"],
    &["HLEN", "missing"],
    &["HEXISTS", "h", "f"],
    &["HEXISTS", "h", "nope"],
    &["HEXISTS", "missing", "f"],
    &["HSTRLEN", "h", "f"],
    &["HSTRLEN", "h", "nope"],
    &["HSTRLEN", "missing", "f"],
    &["HDEL", "h", "x", "y", "nope", "new"],
    &["HDEL", "missing", "x"],
    &["HINCRBY", "h", "g", "5"],
    &["HINCRBY", "h", "g", "-10"],
    &["HINCRBY", "h", "f", "1"],
    &["HINCRBY", "h", "g", "abc"],
    &["HINCRBY", "missing", "g", "abc"],
    &["HINCRBY", "h", "g", "9223372036854775807"],
    &["HINCRBY", "h", "fresh", "0"],
    &["HINCRBYFLOAT", "h", "g", "1.5"],
    &["HINCRBYFLOAT", "h", "g", "abc"],
    &["HINCRBYFLOAT", "h", "g", "inf"],
    &["HINCRBYFLOAT", "h", "g", "-Infinity"],
    &["HINCRBYFLOAT", "h", "g", "nan"],
    &["HINCRBYFLOAT", "h", "f", "1"],
    &["HINCRBYFLOAT", "h", "big", "1e308"],
    &["HINCRBYFLOAT", "h", "big", "1e308"],
    &["HINCRBYFLOAT", "h", "hex", "0x10"],
    &["HINCRBYFLOAT", "missing2", "f", "x"],
    &["HSET", "nul", "a", "\0", "b", "1\0x"],
    &["HINCRBYFLOAT", "nul", "a", "1"],
    &["HINCRBYFLOAT", "nul", "b", "1"],
    &["HINCRBYFLOAT", "nul", "c", "1\0"],
    &["HDEL", "h", "f", "g", "fresh", "big", "hex"],
    &["HGETALL", "h"],
    &["HKEYS", "h"],
    &["HVALS", "h"],
    &["HGETALL", "missing"],
    &["HKEYS", "missing"],
    &["HVALS", "missing"],
    &["HSET", "one", "field", "value"],
    &["HGETALL", "one"],
    &["HKEYS", "one"],
    &["HVALS", "one"],
    // HRANDFIELD on one field is deterministic.
    &["HRANDFIELD", "one"],
    &["HRANDFIELD", "one", "1"],
    &["HRANDFIELD", "one", "5", "WITHVALUES"],
    &["HRANDFIELD", "one", "-3"],
    &["HRANDFIELD", "one", "-2", "withvalues"],
    &["HRANDFIELD", "one", "0"],
    &["HRANDFIELD", "one", "0", "WITHVALUES"],
    &["HRANDFIELD", "missing"],
    &["HRANDFIELD", "missing", "5"],
    &["HRANDFIELD", "missing", "-5", "WITHVALUES"],
    &["HRANDFIELD", "missing", "-9223372036854775808"],
    &["HRANDFIELD", "missing", "-9223372036854775807", "WITHVALUES"],
    &["HRANDFIELD", "one", "4611686018427387904", "WITHVALUES"],
    &["HRANDFIELD", "one", "4611686018427387903", "WITHVALUES"],
    &["HRANDFIELD", "one", "9223372036854775807"],
    &["HRANDFIELD", "missing", "5", "foo"],
    &["HRANDFIELD", "missing", "abc", "foo"],
    &["HRANDFIELD", "one", "5", "WITHVALUES", "x"],
    // HSCAN of one field, and its errors.
    &["HSCAN", "one", "0"],
    &["HSCAN", "one", "0", "MATCH", "f*", "COUNT", "100"],
    &["HSCAN", "one", "0", "match", "x*"],
    &["HSCAN", "one", "0", "MATCH", "*"],
    &["HSCAN", "one", ""],
    &["HSCAN", "one", "abc"],
    &["HSCAN", "one", " 1"],
    &["HSCAN", "one", "+"],
    &["HSCAN", "one", "18446744073709551616"],
    &["HSCAN", "one", "0", "COUNT", "0"],
    &["HSCAN", "one", "0", "COUNT", "abc"],
    &["HSCAN", "one", "0", "COUNT"],
    &["HSCAN", "one", "0", "FOO", "1"],
    &["HSCAN", "one", "0", "NOVALUES"],
    &["HSCAN", "missing", "0"],
    &["HSCAN", "missing", "0", "COUNT", "0"],
    &["HSCAN", "missing", "abc"],
    // Wrong types.
    &["SET", "s", "x"],
    &["HSET", "s", "f", "v"],
    &["HMSET", "s", "f", "v"],
    &["HSETNX", "s", "f", "v"],
    &["HGET", "s", "f"],
    &["HMGET", "s", "f"],
    &["HDEL", "s", "f"],
    &["HLEN", "s"],
    &["HEXISTS", "s", "f"],
    &["HKEYS", "s"],
    &["HVALS", "s"],
    &["HGETALL", "s"],
    &["HSTRLEN", "s", "f"],
    &["HINCRBY", "s", "f", "1"],
    &["HINCRBY", "s", "f", "x"],
    &["HINCRBYFLOAT", "s", "f", "1"],
    &["HINCRBYFLOAT", "s", "f", "x"],
    &["HRANDFIELD", "s"],
    &["HRANDFIELD", "s", "0"],
    &["HRANDFIELD", "s", "-5", "WITHVALUES"],
    &["HSCAN", "s", "0"],
    &["HSCAN", "s", "0", "COUNT", "0"],
];

/// Wrong arities (outside SCRIPT: inside MULTI they would abort the transaction).
const ARITY: &[&[&str]] = &[
    &["HSET", "h", "f"],
    &["HGET", "h"],
    &["HMGET", "h"],
    &["HGETALL"],
    &["HSCAN", "h"],
    &["HRANDFIELD"],
    &["HINCRBY", "h", "f"],
];

#[test]
fn hash_commands_match_redis_in_resp2() {
    let Some((redis, corekv)) = pair() else { return };
    let (mut reference, mut test) = (Conn::new(&redis), Conn::new(&corekv));
    assert_same(&mut reference, &mut test, SCRIPT);
    assert_same(&mut reference, &mut test, ARITY);
}

#[test]
fn hash_commands_match_redis_in_resp3() {
    let Some((redis, corekv)) = pair() else { return };
    let (mut reference, mut test) = (Conn::new(&redis), Conn::new(&corekv));
    reference.call(&["HELLO", "3"]);
    test.call(&["HELLO", "3"]);
    assert_same(&mut reference, &mut test, SCRIPT);
}

#[test]
fn hash_commands_inside_multi_exec_match_redis() {
    for resp3 in [false, true] {
        let Some((redis, corekv)) = pair() else { return };
        let (mut reference, mut test) = (Conn::new(&redis), Conn::new(&corekv));
        if resp3 {
            reference.call(&["HELLO", "3"]);
            test.call(&["HELLO", "3"]);
        }
        let mut script: Vec<&[&str]> = vec![&["MULTI"]];
        script.extend(SCRIPT.iter().filter(|command| {
            // Wrong pair counts are the commands' own arity errors: queued, then failing.
            command[0] != "HSET" || command.len() % 2 == 0
        }));
        script.push(&["EXEC"]);
        assert_same(&mut reference, &mut test, &script);
    }
}

fn call_frame(conn: &mut Conn, args: &[&str]) -> Frame {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    conn.send(&args);
    conn.read_frame()
}

/// The bulk strings of an array reply (panics on anything else).
fn bulks(frame: &Frame) -> Vec<Vec<u8>> {
    let Frame::Array(items) = frame else { panic!("not an array: {frame:?}") };
    items
        .iter()
        .map(|item| match item {
            Frame::Bulk(bytes) => bytes.to_vec(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect()
}

fn filled(conn: &mut Conn, key: &str, fields: usize) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut expected = BTreeMap::new();
    for i in 0..fields {
        let (field, value) = (format!("f{i}"), format!("v{i}"));
        conn.call(&["HSET", key, &field, &value]);
        expected.insert(field.into_bytes(), value.into_bytes());
    }
    expected
}

#[test]
fn whole_hash_replies_hold_every_field_once() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let expected = filled(&mut conn, "h", 50);
    let all = bulks(&call_frame(&mut conn, &["HGETALL", "h"]));
    let pairs: BTreeMap<Vec<u8>, Vec<u8>> =
        all.chunks_exact(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect();
    assert_eq!((pairs, all.len()), (expected.clone(), 100));
    let mut keys = bulks(&call_frame(&mut conn, &["HKEYS", "h"]));
    keys.sort();
    assert_eq!(keys, expected.keys().cloned().collect::<Vec<_>>());
    let mut values = bulks(&call_frame(&mut conn, &["HVALS", "h"]));
    values.sort();
    let mut expected_values: Vec<Vec<u8>> = expected.values().cloned().collect();
    expected_values.sort();
    assert_eq!(values, expected_values);
    // RESP3: a map.
    conn.call(&["HELLO", "3"]);
    let Frame::Map(map) = call_frame(&mut conn, &["HGETALL", "h"]) else { panic!("not a map") };
    assert_eq!(map.len(), 50);
}

#[test]
fn hrandfield_counts_and_shapes() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let expected = filled(&mut conn, "h", 10);
    let one = call_frame(&mut conn, &["HRANDFIELD", "h"]);
    let Frame::Bulk(field) = one else { panic!("not a bulk: {one:?}") };
    assert!(expected.contains_key(&field[..]));
    // A positive count: distinct fields, at most all of them.
    for (count, len) in [("3", 3), ("10", 10), ("100", 10)] {
        let mut fields = bulks(&call_frame(&mut conn, &["HRANDFIELD", "h", count]));
        fields.sort();
        fields.dedup();
        assert_eq!(fields.len(), len);
        assert!(fields.iter().all(|f| expected.contains_key(f)));
    }
    // A negative count: exactly |count| fields, repeats allowed.
    let fields = bulks(&call_frame(&mut conn, &["HRANDFIELD", "h", "-25"]));
    assert_eq!(fields.len(), 25);
    assert!(fields.iter().all(|f| expected.contains_key(f)));
    // WITHVALUES: flat pairs in RESP2, each value its field's.
    let flat = bulks(&call_frame(&mut conn, &["HRANDFIELD", "h", "-7", "WITHVALUES"]));
    assert_eq!(flat.len(), 14);
    for pair in flat.chunks_exact(2) {
        assert_eq!(expected.get(&pair[0]), Some(&pair[1]));
    }
    // RESP3: nested two-element arrays.
    conn.call(&["HELLO", "3"]);
    let Frame::Array(nested) = call_frame(&mut conn, &["HRANDFIELD", "h", "4", "WITHVALUES"])
    else {
        panic!("not an array")
    };
    assert_eq!(nested.len(), 4);
    for pair in &nested {
        let pair = bulks(pair);
        assert_eq!(expected.get(&pair[0]), Some(&pair[1]));
    }
    // A negative count beyond what the server builds is refused; a missing key is still
    // an empty array.
    let refused = conn.call_str(&["HRANDFIELD", "h", "-100000000"]);
    assert_eq!(refused, "-ERR value is out of range\r\n");
    assert_eq!(conn.call_str(&["HRANDFIELD", "missing", "-100000000"]), "*0\r\n");
}

#[test]
fn hscan_visits_every_field_and_honours_match() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let expected = filled(&mut conn, "h", 300);
    let mut seen = BTreeMap::new();
    let mut cursor = "0".to_string();
    for step in 0.. {
        assert!(step < 1000, "HSCAN did not finish");
        let reply = call_frame(&mut conn, &["HSCAN", "h", &cursor, "COUNT", "7"]);
        let Frame::Array(parts) = reply else { panic!("not an array") };
        let [Frame::Bulk(next), page] = &parts[..] else { panic!("not [cursor, page]") };
        for pair in bulks(page).chunks_exact(2) {
            seen.insert(pair[0].clone(), pair[1].clone());
        }
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen, expected);
    // MATCH filters the fields (f1, f10..f19, f100..f199).
    let mut matched = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = call_frame(&mut conn, &["HSCAN", "h", &cursor, "MATCH", "f1*", "COUNT", "50"]);
        let Frame::Array(parts) = reply else { panic!("not an array") };
        let [Frame::Bulk(next), page] = &parts[..] else { panic!("not [cursor, page]") };
        matched.extend(bulks(page).chunks_exact(2).map(|pair| pair[0].clone()));
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    matched.sort();
    matched.dedup();
    assert_eq!(matched.len(), 111);
    assert!(matched.iter().all(|field| field.starts_with(b"f1")));
}
