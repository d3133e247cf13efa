//! The settings: [`Policy`] (`maxmemory-policy`) and [`MemoryLimit`].

/// What to do when a write needs memory the limit does not leave (`maxmemory-policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Policy {
    /// Evict nothing; refuse writes that need memory.
    #[default]
    NoEviction,
    /// Evict the least recently used key (sampled).
    AllKeysLru,
    /// Evict the least recently used key among those with a TTL.
    VolatileLru,
    /// Evict the least frequently used key (sampled; Redis's logarithmic counter).
    AllKeysLfu,
    /// Evict the least frequently used key among those with a TTL.
    VolatileLfu,
    /// Evict a random key.
    AllKeysRandom,
    /// Evict a random key among those with a TTL.
    VolatileRandom,
    /// Evict the key with the nearest deadline.
    VolatileTtl,
    /// corekv's own (`allkeys-tinylfu`): `allkeys-lfu`'s victims, and a TinyLFU admission
    /// filter: a frequency sketch that also counts requests for missing and evicted keys
    /// keeps a new key only if it was requested at least as often as the victim (see the
    /// module docs).
    AllKeysTinyLfu,
}

impl Policy {
    const ALL: [Policy; 9] = [
        Policy::NoEviction,
        Policy::AllKeysLru,
        Policy::VolatileLru,
        Policy::AllKeysLfu,
        Policy::VolatileLfu,
        Policy::AllKeysRandom,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllKeysTinyLfu,
    ];

    /// Whether only keys with a TTL may be evicted.
    pub fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    /// Whether entries' access bits hold an LFU counter (else the LRU clock).
    pub fn uses_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu | Policy::AllKeysTinyLfu)
    }

    /// Whether requests (hits, misses, writes) are counted in the groups' frequency sketches.
    pub fn uses_sketch(self) -> bool {
        self == Policy::AllKeysTinyLfu
    }

    pub(super) fn code(self) -> u8 {
        Self::ALL.iter().position(|policy| *policy == self).unwrap_or(0) as u8
    }

    pub(super) fn from_code(code: u8) -> Policy {
        Self::ALL.get(usize::from(code)).copied().unwrap_or_default()
    }
}

/// The memory limit and how it is enforced (`maxmemory`, `maxmemory-policy`,
/// `maxmemory-samples`, `lfu-log-factor`, `lfu-decay-time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryLimit {
    /// The limit on [`Engine::used_memory_bytes`]; 0 means none.
    pub maxmemory_bytes: u64,
    /// What to evict.
    pub policy: Policy,
    /// Keys sampled per database per eviction (Redis's default 5).
    pub samples: u32,
    /// How slowly LFU counters grow (default 10).
    pub lfu_log_factor: u32,
    /// Minutes for an LFU counter to lose one (default 1; 0 never decays).
    pub lfu_decay_minutes: u32,
}

impl Default for MemoryLimit {
    fn default() -> Self {
        MemoryLimit {
            maxmemory_bytes: 0,
            policy: Policy::NoEviction,
            samples: 5,
            lfu_log_factor: 10,
            lfu_decay_minutes: 1,
        }
    }
}
