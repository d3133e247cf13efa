//! corekv embedded as a session store: sessions with TTLs, a per-user hit counter, and an
//! atomic session rotation, all in-process with no network hop.
//!
//! Run: `cargo run --release --example embedded`

use std::time::Duration;

use corekv::engine::ops::{ExpireCondition, Expiry, SetOptions, TimeUnit};
use corekv::{Engine, prelude::*};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> corekv::Result<()> {
    let engine = Engine::builder().build();
    let sessions = engine.db(0);
    println!(
        "corekv {} embedded: {} shards per database",
        env!("CARGO_PKG_VERSION"),
        engine.shards()
    );

    // Log in: a session that lives 30 minutes, created only if the token is new.
    let login = SetOptions {
        condition: corekv::engine::ops::SetCondition::Nx,
        expiry: Some(Expiry::Seconds(30 * 60)),
        ..SetOptions::default()
    };
    let created = sessions.set_with(b"session:9f2c", b"user=alice", login)?.written;
    println!("session created: {created}, ttl {} s", sessions.ttl(b"session:9f2c")?);

    // Each request: read the session and count the hit; the counter expires with the session.
    for _ in 0..3 {
        let user = sessions.get(b"session:9f2c")?.expect("session exists");
        let hits = sessions.incr(b"hits:alice")?;
        println!("request as {} (hit {hits})", String::from_utf8_lossy(&user));
    }
    sessions.expire(
        b"hits:alice",
        30 * 60,
        TimeUnit::Seconds,
        true,
        ExpireCondition::Nx,
        "expire",
    )?;

    // Rotate the token atomically: no reader sees both tokens or neither.
    sessions.rename(b"session:9f2c", b"session:77aa")?;
    println!(
        "after rotation: old token {:?}, new token ttl {} s",
        sessions.get(b"session:9f2c")?,
        sessions.ttl(b"session:77aa")?
    );

    // A short-lived key disappears on its own.
    sessions.set_expiring(b"csrf:1", b"nonce", Expiry::Milliseconds(50), "psetex")?;
    std::thread::sleep(Duration::from_millis(80));
    println!("csrf nonce after 80 ms: {:?}", sessions.get(b"csrf:1")?);

    // Many sessions: bulk load and report what the keyspace holds.
    for index in 0..100_000u32 {
        let key = format!("session:{index:08}");
        sessions.set_expiring(key.as_bytes(), b"user=bulk", Expiry::Seconds(600), "setex")?;
    }
    println!(
        "{} keys ({} with TTL), used_memory {} bytes ({} per key)",
        sessions.len(),
        sessions.volatile_len(),
        engine.used_memory_bytes(),
        engine.used_memory_bytes() / sessions.len() as u64
    );
    Ok(())
}
