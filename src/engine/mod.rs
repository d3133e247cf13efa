//! The engine: databases of lock-free shards, Redis's value types, expiry and the typed
//! operations API. It knows nothing of sockets or RESP.
//!
//! ```
//! use corekv::{Engine, prelude::*};
//!
//! let engine = Engine::builder().shards(8).build();
//! let db = engine.db(0);
//! db.set(b"greeting", b"hello").unwrap();
//! assert_eq!(db.get(b"greeting").unwrap().as_deref(), Some(&b"hello"[..]));
//! assert_eq!(db.incr(b"visits").unwrap(), 1);
//! ```

pub mod access;
mod blind_txn;
pub mod bytes;
pub mod clock;
mod db;
mod db_ops;
mod entry;
pub mod error;
pub mod evict;
mod expire;
pub mod glob;
mod lock_wait;
#[cfg(corekv_loom)]
mod loom_map;
pub mod num;
pub mod ops;
mod shard;
#[doc(hidden)]
pub mod slab;
mod txn;
pub mod types;

use std::sync::atomic::AtomicUsize;
use std::thread;
use std::time::Duration;

pub use access::{Access, KeyView, OwnedData, OwnedValue, ValueRef, Write};
pub use bytes::SmallBytes;
pub use db::Db;
pub use db_ops::ScanPage;
pub use entry::{Collection, Kind, StrValue};
pub use error::{Error, Result};
pub use evict::{MemoryLimit, Policy};
pub use txn::Txn;

use std::sync::Arc;

use crate::sync::{AtomicU64, Ordering};

/// Redis's default number of databases (`SELECT 0..15`).
pub const DEFAULT_DATABASES: usize = 16;

/// Shards per core by default: enough that two cores rarely write the same shard's counters,
/// and that one SCAN step (one shard) stays small.
const SHARDS_PER_CORE: usize = 16;

/// Entries a thread retires before seize tries to reclaim them. Each attempt starts with a
/// process-wide heavy barrier (`membarrier`: an interrupt to every core running one of our
/// threads, costly under virtualisation). At seize's default of 32, an MSET of 1,000 keys
/// (2,000 retirements: each key's old entry and its lock marker) spent a sixth of its time
/// there with two threads (`results/mset.md`), and every 32 SETs paid one. The price is
/// reclamation latency: up to this many replaced entries, with their values, wait per thread.
const RETIRE_BATCH: usize = 256;

/// Largest shard count accepted: the shard index uses hash bits 40..57, which papaya's table
/// index (low bits) and tag byte (bits 57..64) leave free (see `db::SHARD_HASH_SHIFT`).
pub const MAX_SHARDS: usize = 1 << 17;

/// How often a maintenance thread runs active expiry (Redis's default `hz 10`).
const MAINTENANCE_INTERVAL: Duration = Duration::from_millis(100);

/// The keyspace: `databases` logical databases, each of `shards` lock-free shards.
///
/// Cloning is cheap (a reference count); every clone is the same engine. It is `Send + Sync`:
/// any thread may call any operation on any database.
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dbs: Box<[Db]>,
    /// Logical database index -> physical `Db`, so SWAPDB is two stores.
    db_map: Box<[AtomicUsize]>,
    swap_lock: parking_lot::Mutex<()>,
    shard_count: usize,
    owners: usize,
    /// `maxmemory`, the policy, and the per-shard-index byte counters (`evict`).
    memory: Arc<evict::MemoryState>,
    /// What surrounds each eviction (the server's persistence), if anything.
    eviction_hook: std::sync::OnceLock<Box<dyn EvictionHook>>,
}

/// Called around every eviction, so an embedder that records writes (the server's AOF and
/// snapshots) can order, record and preserve the deletion like a DEL.
pub trait EvictionHook: Send + Sync + std::fmt::Debug {
    /// Runs `evict`, which deletes `key` and says whether it did. `logical_db` names the
    /// key's database (SELECT index): call it once whatever stops SWAPDB is held.
    fn around_eviction(
        &self,
        key: &[u8],
        logical_db: &dyn Fn() -> Option<usize>,
        evict: &mut dyn FnMut() -> bool,
    ) -> bool;
}

/// Configures an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineBuilder {
    shards: Option<usize>,
    databases: usize,
    maintenance_threads: Option<usize>,
    pin_threads: bool,
    seed: Option<u64>,
}

impl Engine {
    /// A builder with the defaults: 16 databases, `16 x cores` shards (a power of two), and one
    /// pinned maintenance thread per core running active expiry.
    pub fn builder() -> EngineBuilder {
        EngineBuilder {
            shards: None,
            databases: DEFAULT_DATABASES,
            maintenance_threads: None,
            pin_threads: true,
            seed: None,
        }
    }

    /// Database `index` (`SELECT index`).
    ///
    /// # Panics
    ///
    /// When `index >= self.databases()`; use [`Engine::try_db`] for input from users.
    pub fn db(&self, index: usize) -> &Db {
        self.try_db(index).expect("database index out of range")
    }

    /// Database `index`, or `Error::DbIndexOutOfRange`.
    pub fn try_db(&self, index: usize) -> Result<&Db> {
        let slot = self.inner.db_map.get(index).ok_or(Error::DbIndexOutOfRange)?;
        // Acquire: pairs with SWAPDB's Release stores, so the swapped database is seen whole.
        Ok(&self.inner.dbs[slot.load(Ordering::Acquire)])
    }

    /// The number of databases.
    pub fn databases(&self) -> usize {
        self.inner.dbs.len()
    }

    /// Shards per database.
    pub fn shards(&self) -> usize {
        self.inner.shard_count
    }

    /// Installs the hook run around every eviction (once; later calls are ignored).
    pub fn set_eviction_hook(&self, hook: Box<dyn EvictionHook>) {
        let _ = self.inner.eviction_hook.set(hook);
    }

    /// The SELECT index of physical database `physical` right now.
    fn logical_db(&self, physical: usize) -> Option<usize> {
        // Acquire: pairs with SWAPDB's Release stores.
        self.inner.db_map.iter().position(|slot| slot.load(Ordering::Acquire) == physical)
    }

    /// The shard `key` belongs to: the same index in every database (they share one hasher).
    /// The append-only file orders writes per shard with it.
    pub fn shard_index(&self, key: &[u8]) -> usize {
        self.inner.dbs[0].shard_index(key)
    }

    /// Swaps two databases' contents (SWAPDB). Operations already running finish on the
    /// database they started on.
    pub fn swap_db(&self, first: usize, second: usize) -> Result<()> {
        let map = &self.inner.db_map;
        if first >= map.len() || second >= map.len() {
            return Err(Error::Other("ERR DB index is out of range"));
        }
        let _serialised = self.inner.swap_lock.lock();
        // Relaxed loads: the swap lock orders SWAPDBs among themselves.
        let (a, b) = (map[first].load(Ordering::Relaxed), map[second].load(Ordering::Relaxed));
        // Release: pairs with the Acquire in `try_db`.
        map[first].store(b, Ordering::Release);
        map[second].store(a, Ordering::Release);
        Ok(())
    }

    /// Deletes every key of every database (FLUSHALL).
    pub fn flush_all(&self) {
        for db in self.inner.dbs.iter() {
            db.flush();
        }
    }

    /// Runs one bounded step of active expiry on the shards owned by `owner` (of
    /// [`Engine::owners`] owners): pops keys whose deadline passed and deletes them, then
    /// evicts from groups over their memory budget ([`Engine::run_eviction_cycle`]). Returns
    /// the number of keys expired. Maintenance threads call this every 100 ms; a server that
    /// runs its own pinned workers calls it from each worker's loop instead.
    pub fn run_expiry_cycle(&self, owner: usize) -> usize {
        clock::refresh_lru_clock();
        let expired = self
            .inner
            .dbs
            .iter()
            .map(|db| expire::run_cycle(db, owner, self.inner.owners, clock::now_ms()))
            .sum();
        self.run_eviction_cycle(owner);
        expired
    }

    /// How many owners the shards are divided among (one per core by default).
    pub fn owners(&self) -> usize {
        self.inner.owners
    }
}

impl EngineBuilder {
    /// Shards per database (rounded up to a power of two, at least 1).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards.clamp(1, MAX_SHARDS).next_power_of_two());
        self
    }

    /// Number of logical databases (at least 1).
    pub fn databases(mut self, databases: usize) -> Self {
        self.databases = databases.max(1);
        self
    }

    /// Maintenance threads (active expiry); 0 starts none, and the embedding program (or the
    /// server's workers) calls [`Engine::run_expiry_cycle`] itself.
    pub fn maintenance_threads(mut self, threads: usize) -> Self {
        self.maintenance_threads = Some(threads);
        self
    }

    /// Whether maintenance threads pin themselves to cores (default on).
    pub fn pin_threads(mut self, pin: bool) -> Self {
        self.pin_threads = pin;
        self
    }

    /// A fixed hash seed (for reproducible tests); random by default.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Builds the engine and starts its maintenance threads.
    pub fn build(self) -> Engine {
        let cores = thread::available_parallelism().map_or(1, |cores| cores.get());
        let shard_count = self.shards.unwrap_or((cores * SHARDS_PER_CORE).next_power_of_two());
        let threads = self.maintenance_threads.unwrap_or(cores);
        let owners = threads.max(1);
        let seed = self.seed.unwrap_or_else(rand::random);
        let hasher = foldhash::fast::FixedState::with_seed(seed);
        let collector = Arc::new(seize::Collector::new().batch_size(RETIRE_BATCH));
        let txn_ids = Arc::new(AtomicU64::new(1));
        let lock_waiters = Arc::new(lock_wait::LockWaiters::default());
        let memory = Arc::new(evict::MemoryState::new(shard_count));
        let dbs: Box<[Db]> = (0..self.databases)
            .map(|_| {
                let (collector, txn_ids) = (collector.clone(), txn_ids.clone());
                let locks = db::TxnLocks { ids: txn_ids, waiters: lock_waiters.clone() };
                Db::new(shard_count, hasher.clone(), collector, locks, memory.clone())
            })
            .collect();
        let db_map = (0..self.databases).map(AtomicUsize::new).collect();
        let inner = Arc::new(Inner {
            dbs,
            db_map,
            swap_lock: parking_lot::Mutex::new(()),
            shard_count,
            owners,
            memory,
            eviction_hook: std::sync::OnceLock::new(),
        });
        for owner in 0..threads {
            spawn_maintenance(Arc::downgrade(&inner), owner, self.pin_threads);
        }
        Engine { inner }
    }
}

/// A maintenance thread: pinned to core `owner`, it runs active expiry for the shards that
/// core owns every [`MAINTENANCE_INTERVAL`], and exits once the engine is dropped.
fn spawn_maintenance(inner: std::sync::Weak<Inner>, owner: usize, pin: bool) {
    let spawned = thread::Builder::new().name(format!("corekv-maint-{owner}")).spawn(move || {
        let core = core_affinity::get_core_ids().and_then(|ids| ids.get(owner).copied());
        if let (true, Some(core)) = (pin, core) {
            core_affinity::set_for_current(core);
        }
        loop {
            thread::sleep(MAINTENANCE_INTERVAL);
            let Some(inner) = inner.upgrade() else { return };
            let engine = Engine { inner };
            engine.run_expiry_cycle(owner);
        }
    });
    // Without the thread, expired keys are still never returned (lazy expiry); they are only
    // reclaimed later. Not worth failing the build over.
    if let Err(error) = spawned {
        eprintln!("corekv: could not start maintenance thread {owner}: {error}");
    }
}
