//! The RESP layer alone: parsing pipelines of 16 requests and encoding 16 bulk replies.
//!
//! Run: `cargo bench --bench parser`. Throughput is reported in bytes; commands per second are
//! 16 times the iterations per second criterion prints as `time`.

use std::hint::black_box;

use corekv::protocol::{Encoder, Protocol, RequestParser, write_command};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

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
        group.bench_function(name, |b| b.iter(|| parse_all(&mut parser, black_box(input))));
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let value = [b'v'; 32];
    let mut out = Vec::with_capacity(4096);
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes(PIPELINE as u64 * (32 + 9)));
    group.bench_function("bulk32_x16", |b| {
        b.iter(|| {
            out.clear();
            let mut encoder = Encoder::new(&mut out, Protocol::Resp2);
            for _ in 0..PIPELINE {
                encoder.bulk(black_box(&value));
            }
            black_box(out.len())
        })
    });
    group.bench_function("integer_x16", |b| {
        b.iter(|| {
            out.clear();
            let mut encoder = Encoder::new(&mut out, Protocol::Resp2);
            for i in 0..PIPELINE as i64 {
                encoder.integer(black_box(1000 + i));
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, parse, encode);
criterion_main!(benches);
