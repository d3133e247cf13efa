//! The RESP layer alone: parsing pipelines of 16 requests and encoding 16 bulk replies, with
//! the `redis` crate (the most used Rust client) as the peer in the same run.
//!
//! - `parse/corekv/*`: the server's `RequestParser`, borrowing every argument from the input.
//! - `parse/redis-crate/*`: `redis::Parser::parse_value` over the same bytes (RESP arrays of
//!   bulk strings are the same frames whichever side sends them); it builds an owned
//!   `redis::Value` per request. It has no inline-command form, so that row is corekv's alone.
//! - `encode/*`: corekv's reply `Encoder` (bulk and integer replies); `encode/*/set_x16`
//!   encodes 16 SET commands with `write_command` (the AOF's payloads, and corekv-bench's
//!   requests) against `redis::Cmd::write_packed_command`.
//!
//! Run: `cargo bench --bench parser`. Throughput is reported in bytes; commands per second are
//! 16 times the iterations per second criterion prints as `time`.

use std::hint::black_box;

use corekv::protocol::{Encoder, Protocol, RequestParser, write_command};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const PIPELINE: usize = 16;

fn pipeline(args: impl Fn(usize) -> Vec<Vec<u8>>) -> Vec<u8> {
    let mut input = Vec::new();
    for i in 0..PIPELINE {
        write_command(&mut input, &args(i));
    }
    input
}

/// Parses every request of `input`, returning the number of arguments seen.
fn parse_all(parser: &mut RequestParser, input: &[u8]) -> usize {
    let (mut at, mut args) = (0, 0);
    while let Ok(Some((request, used))) = parser.parse(&input[at..]) {
        args += request.args().map(|arg| black_box(arg).len().min(1)).sum::<usize>();
        at += used;
    }
    assert_eq!(at, input.len());
    args
}

/// The same as [`parse_all`] with the `redis` crate's parser, for an input of [`PIPELINE`]
/// requests. Its decoder buffers what it reads ahead, so it is asked for each request in turn
/// rather than until the reader is empty.
fn parse_all_redis(input: &[u8]) -> usize {
    let mut reader = input;
    let mut parser = redis::Parser::new();
    let mut args = 0;
    for _ in 0..PIPELINE {
        match parser.parse_value(&mut reader) {
            Ok(redis::Value::Array(items)) => {
                args += items
                    .iter()
                    .map(|item| match black_box(item) {
                        redis::Value::BulkString(bytes) => bytes.len().min(1),
                        _ => 0,
                    })
                    .sum::<usize>()
            }
            other => panic!("not a request: {other:?}"),
        }
    }
    assert!(reader.is_empty(), "the input holds more than {PIPELINE} requests");
    args
}

fn parse(c: &mut Criterion) {
    let value = [b'v'; 32];
    let set = pipeline(|i| {
        vec![b"SET".to_vec(), format!("key:{:06}", 123 + i).into_bytes(), value.to_vec()]
    });
    let get = pipeline(|i| vec![b"GET".to_vec(), format!("key:{:06}", 123 + i).into_bytes()]);
    let mut inline = Vec::new();
    for i in 0..PIPELINE {
        inline.extend_from_slice(format!("GET key:{:06}\r\n", 123 + i).as_bytes());
    }
    let mut group = c.benchmark_group("parse");
    for (name, input) in [("set_x16", &set), ("get_x16", &get), ("inline_get_x16", &inline)] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        let mut parser = RequestParser::default();
        group.bench_function(BenchmarkId::new("corekv", name), |b| {
            b.iter(|| parse_all(&mut parser, black_box(input)))
        });
    }
    for (name, input) in [("set_x16", &set), ("get_x16", &get)] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        assert_eq!(parse_all_redis(input), parse_all(&mut RequestParser::default(), input));
        group.bench_function(BenchmarkId::new("redis-crate", name), |b| {
            b.iter(|| parse_all_redis(black_box(input)))
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let value = [b'v'; 32];
    let mut out = Vec::with_capacity(4096);
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes(PIPELINE as u64 * (32 + 9)));
    group.bench_function(BenchmarkId::new("corekv", "bulk32_x16"), |b| {
        b.iter(|| {
            out.clear();
            let mut encoder = Encoder::new(&mut out, Protocol::Resp2);
            for _ in 0..PIPELINE {
                encoder.bulk(black_box(&value));
            }
            black_box(out.len())
        })
    });
    group.bench_function(BenchmarkId::new("corekv", "integer_x16"), |b| {
        b.iter(|| {
            out.clear();
            let mut encoder = Encoder::new(&mut out, Protocol::Resp2);
            for i in 0..PIPELINE as i64 {
                encoder.integer(black_box(1000 + i));
            }
            black_box(out.len())
        })
    });
    let value = [b'v'; 32];
    let commands: Vec<[Vec<u8>; 3]> = (0..PIPELINE)
        .map(|i| [b"SET".to_vec(), format!("key:{:06}", 123 + i).into_bytes(), value.to_vec()])
        .collect();
    let mut packed_bytes = Vec::new();
    for args in &commands {
        write_command(&mut packed_bytes, args);
    }
    group.throughput(Throughput::Bytes(packed_bytes.len() as u64));
    group.bench_function(BenchmarkId::new("corekv", "set_x16"), |b| {
        b.iter(|| {
            out.clear();
            for args in &commands {
                write_command(&mut out, black_box(args));
            }
            black_box(out.len())
        })
    });
    let packed: Vec<redis::Cmd> = commands
        .iter()
        .map(|[_, key, value]| {
            let mut cmd = redis::cmd("SET");
            cmd.arg(key.as_slice()).arg(value.as_slice());
            cmd
        })
        .collect();
    out.clear();
    for cmd in &packed {
        cmd.write_packed_command(&mut out);
    }
    assert_eq!(out, packed_bytes, "the two encoders write the same bytes");
    group.bench_function(BenchmarkId::new("redis-crate", "set_x16"), |b| {
        b.iter(|| {
            out.clear();
            for cmd in black_box(&packed) {
                cmd.write_packed_command(&mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, parse, encode);
criterion_main!(benches);
