//! Hit ratio of a read-through cache under a memory limit, against any RESP server (corekv or
//! redis-server), so eviction policies can be compared in the same run
//! (`scripts/hit-ratio.sh` drives it; results in `results/hit-ratio.md`).
//!
//! 1. Measures what `keys` keys of `value_bytes` bytes cost in the server's own `used_memory`
//!    (load them all without a limit, read the growth, FLUSHALL).
//! 2. Sets `maxmemory` to the server's base plus `fraction` of that, and the policy.
//! 3. Runs a read-through cache: draw a key from Zipf(`exponent`) over `keys` ranks, GET it,
//!    and on a miss SET it. Requests go in pipelined batches of `batch` GETs, then one batch of
//!    the SETs for that batch's misses. `warmup` requests fill the cache first; the next
//!    `requests` are counted.
//!
//! Prints one JSON object per run.
//!
//! `cargo run --release --example hit_ratio -- PORT POLICY EXPONENT FRACTION [KEYS REQUESTS]`

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use corekv::bench::zipf::ZipfSampler;
use corekv::protocol::{Frame, write_command};
use rand::SeedableRng;

const VALUE_BYTES: usize = 100;
const BATCH: usize = 64;

struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Client { stream, buffer: Vec::new() }
    }

    fn send(&mut self, commands: &[Vec<Vec<u8>>]) -> Vec<Frame> {
        let mut out = Vec::new();
        for command in commands {
            write_command(&mut out, command);
        }
        self.stream.write_all(&out).expect("write");
        commands.iter().map(|_| self.read()).collect()
    }

    fn read(&mut self) -> Frame {
        loop {
            if let Some((frame, used)) = Frame::decode(&self.buffer).expect("valid RESP") {
                self.buffer.drain(..used);
                return frame;
            }
            let mut chunk = [0u8; 64 * 1024];
            let read = self.stream.read(&mut chunk).expect("read");
            assert!(read > 0, "server closed the connection");
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    fn call(&mut self, args: &[&str]) -> Frame {
        let command = args.iter().map(|arg| arg.as_bytes().to_vec()).collect();
        self.send(&[command]).remove(0)
    }

    fn used_memory(&mut self) -> u64 {
        let text = match self.call(&["INFO", "memory"]) {
            Frame::Bulk(bytes) => String::from_utf8(bytes).expect("utf-8"),
            Frame::Verbatim { text, .. } => String::from_utf8(text).expect("utf-8"),
            other => panic!("INFO replied {other:?}"),
        };
        let line = text.lines().find(|line| line.starts_with("used_memory:")).expect("field");
        line["used_memory:".len()..].trim().parse().expect("number")
    }
}

fn key(rank: u64) -> Vec<u8> {
    format!("key:{rank:010}").into_bytes()
}

fn set(rank: u64, value: &[u8]) -> Vec<Vec<u8>> {
    vec![b"SET".to_vec(), key(rank), value.to_vec()]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: hit_ratio PORT POLICY EXPONENT FRACTION [KEYS REQUESTS]");
        std::process::exit(2);
    }
    let port: u16 = args[0].parse().expect("port");
    let policy = &args[1];
    let exponent: f64 = args[2].parse().expect("exponent");
    let fraction: f64 = args[3].parse().expect("fraction");
    let keys: u64 = args.get(4).map_or(100_000, |arg| arg.parse().expect("keys"));
    let requests: u64 = args.get(5).map_or(1_000_000, |arg| arg.parse().expect("requests"));
    let warmup = requests / 2;
    let value = vec![b'v'; VALUE_BYTES];
    let mut client = Client::connect(port);

    client.call(&["CONFIG", "SET", "maxmemory", "0"]);
    client.call(&["FLUSHALL"]);
    let base = client.used_memory();
    let ranks: Vec<u64> = (1..=keys).collect();
    for chunk in ranks.chunks(1000) {
        let commands: Vec<_> = chunk.iter().map(|&rank| set(rank, &value)).collect();
        client.send(&commands);
    }
    let dataset = client.used_memory().saturating_sub(base);
    client.call(&["FLUSHALL"]);
    let base = client.used_memory();
    let maxmemory = base + (dataset as f64 * fraction) as u64;
    let limit = maxmemory.to_string();
    let reply = client.call(&["CONFIG", "SET", "maxmemory-policy", policy]);
    assert_eq!(reply, Frame::Simple(b"OK".to_vec()), "policy {policy}");
    client.call(&["CONFIG", "SET", "maxmemory", &limit]);

    let zipf = ZipfSampler::new(keys, exponent);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(42);
    let (mut hits, mut counted) = (0u64, 0u64);
    let mut started = Instant::now();
    let mut done = 0;
    while done < warmup + requests {
        if done == warmup {
            started = Instant::now();
        }
        let batch: Vec<u64> = (0..BATCH).map(|_| zipf.sample(&mut rng)).collect();
        let gets: Vec<_> = batch.iter().map(|&rank| vec![b"GET".to_vec(), key(rank)]).collect();
        let replies = client.send(&gets);
        let mut sets = Vec::new();
        for (&rank, reply) in batch.iter().zip(&replies) {
            let hit = matches!(reply, Frame::Bulk(_));
            if !hit {
                sets.push(set(rank, &value));
            }
            if done >= warmup {
                counted += 1;
                hits += u64::from(hit);
            }
        }
        for reply in client.send(&sets) {
            assert_eq!(reply, Frame::Simple(b"OK".to_vec()), "SET refused");
        }
        done += BATCH as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    let used = client.used_memory();
    println!(
        "{{\"policy\":\"{policy}\",\"exponent\":{exponent},\"fraction\":{fraction},\
         \"keys\":{keys},\"requests\":{counted},\"hit_ratio\":{:.4},\"requests_per_sec\":{:.0},\
         \"maxmemory\":{maxmemory},\"used_memory_end\":{used},\"dataset_bytes\":{dataset}}}",
        hits as f64 / counted as f64,
        counted as f64 / seconds,
    );
}
