//! Memory per key: loads N keys (default 1M; 16-byte keys, 32-byte values, the same keys and
//! values as `scripts/memory-per-key.sh` loads into redis-server and valkey-server) into an
//! engine built with the server's defaults, and prints one JSON object: the engine's
//! accounted bytes per key (`used_memory`) and the process's RSS growth per key (VmRSS from
//! `/proc/self/status` after the load minus before it, with the engine already built).
//!
//! Runs with mimalloc as the global allocator, as the server will.
//!
//! `cargo run --release --example memory_per_key -- [keys]`

use corekv::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// VmRSS of this process in bytes.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS line");
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("VmRSS value");
    kib * 1024
}

fn main() {
    let keys: usize = std::env::args().nth(1).map_or(1_000_000, |arg| arg.parse().expect("keys"));
    let engine = corekv::Engine::builder().maintenance_threads(0).build();
    let db = engine.db(0);
    let used_before = engine.used_memory_bytes();
    let rss_before = rss_bytes();
    let mut key = Vec::with_capacity(16);
    let mut value = Vec::with_capacity(32);
    for index in 0..keys {
        key.clear();
        value.clear();
        // Exactly 16 and 32 bytes (for up to 10^12 keys); the script generates the same.
        key.extend_from_slice(format!("key:{index:012}").as_bytes());
        value.extend_from_slice(format!("value:{index:026}").as_bytes());
        db.set(&key, &value).expect("SET");
    }
    let used = engine.used_memory_bytes() - used_before;
    let rss = rss_bytes().saturating_sub(rss_before);
    let shards = engine.shards();
    let per_key = |bytes: u64| bytes as f64 / keys as f64;
    println!(
        "{{\"server\":\"corekv\",\"keys\":{keys},\"key_bytes\":16,\"value_bytes\":32,\
         \"shards\":{shards},\"allocator\":\"mimalloc\",\"used_memory_bytes\":{used},\
         \"rss_bytes\":{rss},\"used_memory_per_key\":{:.1},\"rss_per_key\":{:.1}}}",
        per_key(used),
        per_key(rss)
    );
}
