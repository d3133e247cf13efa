//! The server: pinned workers, each with its own event loop and connections, over one engine.
//!
//! # Threads
//!
//! `run` builds the engine and one [`worker`] per core (or `workers N`). Each worker owns a
//! `mio` poll (epoll), its connections and their buffers; it is pinned to its core. Worker 0
//! also owns the listening sockets: it accepts and hands each connection round-robin to a
//! worker through that worker's inbox (a lock-free queue plus a `mio::Waker`), so connections
//! spread evenly and no other server on the port can steal them (as `SO_REUSEPORT` would let
//! any process of the same user do).
//!
//! A command runs on its connection's worker, straight against the engine's lock-free maps: no
//! hop, no global lock. What crosses workers goes through inboxes: published messages, a key a
//! blocked client waits on became ready, CLIENT KILL, shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_queue::SegQueue;
use parking_lot::{Mutex, RwLock};

use crate::commands::CommandTable;
use crate::engine::Engine;

pub mod acl;
pub mod blocking;
pub mod client;
pub mod config;
mod conn;
pub mod dispatch;
pub mod persistence;
pub mod pubsub;
pub mod stats;
pub mod tls;
mod worker;

pub use config::Config;
pub use worker::Message;

use client::ClientInfo;
use stats::{SlowLog, WorkerStats};

/// The Redis version corekv's commands and replies follow (HELLO, INFO `redis_version`):
/// clients use it to decide which commands they may send.
pub const REDIS_COMPAT_VERSION: &str = "7.0.15";

/// A worker's mailbox, for messages from other workers.
#[derive(Debug)]
pub struct Inbox {
    queue: SegQueue<Message>,
    waker: mio::Waker,
}

impl Inbox {
    /// Queues `message` and wakes the worker.
    pub fn send(&self, message: Message) {
        self.queue.push(message);
        // A failed wake means the worker's poll is gone (shutting down): nothing to do.
        let _ = self.waker.wake();
    }
}

/// The TLS side of the listeners.
#[derive(Debug)]
pub struct TlsListeners {
    /// The certificate and protocol settings every TLS session starts from.
    pub config: Arc<rustls::ServerConfig>,
    /// Listener indexes from this one on accept TLS connections.
    pub first_listener: usize,
}

/// What every worker shares.
#[derive(Debug)]
pub struct Shared {
    /// The keyspace.
    pub engine: Engine,
    /// The configuration (CONFIG SET writes it; workers re-read what they cache when
    /// `config_epoch` moves).
    pub config: RwLock<Config>,
    /// Bumped by every CONFIG SET.
    pub config_epoch: AtomicU64,
    /// The commands.
    pub commands: CommandTable,
    /// Users and their permissions (ACL SETUSER, AUTH, `requirepass`).
    pub acl: acl::Acl,
    /// `tls-port`'s listeners and certificate, when TLS is on.
    pub tls: Option<TlsListeners>,
    /// Every connection's shared part, by id.
    pub clients: Mutex<std::collections::BTreeMap<u64, Arc<ClientInfo>>>,
    /// Channel and pattern subscriptions.
    pub pubsub: pubsub::PubSub,
    /// Clients blocked on keys.
    pub blocking: blocking::Blocking,
    /// Each worker's inbox.
    pub inboxes: Vec<Inbox>,
    /// Each worker's counters.
    pub stats: Vec<Arc<WorkerStats>>,
    /// SLOWLOG.
    pub slowlog: Mutex<SlowLog>,
    /// CLIENT ID source.
    pub next_client_id: AtomicU64,
    /// Set once shutdown has started.
    pub shutting_down: AtomicBool,
    /// Start time (uptime).
    pub started: Instant,
    /// The port actually bound (6379, or what `port 0` got).
    pub port: u16,
    /// INFO's run_id.
    pub run_id: String,
    /// Unix seconds of the last successful save (LASTSAVE); start time until persistence runs.
    pub last_save: AtomicU64,
    /// Config file path, for CONFIG REWRITE and INFO.
    pub config_file: Option<std::path::PathBuf>,
    /// The append-only file, when `appendonly yes` (set once, before the workers start).
    pub aof: std::sync::OnceLock<Arc<crate::persist::Aof>>,
    /// Stripe locks and the write sequence (used with the AOF on or a snapshot running).
    pub order: Arc<crate::persist::order::Order>,
    /// Point-in-time snapshots (SAVE, BGSAVE, `save` rules).
    pub snapshots: crate::persist::snapshot::Snapshots,
    /// This state's own `Arc` (BGSAVE hands it to its thread).
    pub this: std::sync::OnceLock<std::sync::Weak<Shared>>,
    /// SHUTDOWN NOSAVE (1) or SAVE (2) asked for; 0: save if `save` rules are configured.
    pub shutdown_save: std::sync::atomic::AtomicU8,
}

impl Shared {
    /// Asks every worker to stop.
    pub fn shutdown(&self) {
        if !self.shutting_down.swap(true, Ordering::SeqCst) {
            for inbox in &self.inboxes {
                inbox.send(Message::Shutdown);
            }
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }
}

pub use worker::{ServerHandle, start};
