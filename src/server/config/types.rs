//! The typed values behind the enumerated and structured options.

/// Declares an option enum whose variants map one-to-one to Redis's names, with `as_str`,
/// case-insensitive `parse`, and `NAMES` in the order Redis lists them in its error text.
macro_rules! config_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order Redis lists them.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];
            /// Every name, in the order Redis lists them (its error text joins these).
            pub const NAMES: &'static [&'static str] = &[$($text,)+];

            /// The name used in configuration files and CONFIG GET.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// Parses a name in any letter case, as Redis's `configEnumGetValue`.
            pub fn parse(text: &[u8]) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str().as_bytes().eq_ignore_ascii_case(text))
            }
        }
    };
}

config_enum! {
    /// `maxmemory-policy`: what to do when a write would pass `maxmemory`.
    ///
    /// A corekv-specific policy is added as one more variant here (with its name); the table,
    /// error text and parser follow from this list.
    MaxmemoryPolicy {
        /// Evict the least recently used key among those with an expiry.
        VolatileLru => "volatile-lru",
        /// Evict the least frequently used key among those with an expiry.
        VolatileLfu => "volatile-lfu",
        /// Evict a random key among those with an expiry.
        VolatileRandom => "volatile-random",
        /// Evict the key with the nearest expiry.
        VolatileTtl => "volatile-ttl",
        /// Evict the least recently used key.
        AllkeysLru => "allkeys-lru",
        /// Evict the least frequently used key.
        AllkeysLfu => "allkeys-lfu",
        /// Evict a random key.
        AllkeysRandom => "allkeys-random",
        /// Evict nothing; refuse writes that need memory (`-OOM`).
        #[default]
        Noeviction => "noeviction",
        /// corekv's own: evict the key a TinyLFU sketch finds requested least often, and
        /// admit new keys only if requested at least as often as the victim
        /// (`engine::evict`; measured in `results/hit-ratio.md`).
        AllkeysTinylfu => "allkeys-tinylfu",
    }
}

impl MaxmemoryPolicy {
    /// The engine's policy of the same name.
    pub fn engine_policy(self) -> crate::engine::Policy {
        use crate::engine::Policy;
        match self {
            MaxmemoryPolicy::VolatileLru => Policy::VolatileLru,
            MaxmemoryPolicy::VolatileLfu => Policy::VolatileLfu,
            MaxmemoryPolicy::VolatileRandom => Policy::VolatileRandom,
            MaxmemoryPolicy::VolatileTtl => Policy::VolatileTtl,
            MaxmemoryPolicy::AllkeysLru => Policy::AllKeysLru,
            MaxmemoryPolicy::AllkeysLfu => Policy::AllKeysLfu,
            MaxmemoryPolicy::AllkeysRandom => Policy::AllKeysRandom,
            MaxmemoryPolicy::Noeviction => Policy::NoEviction,
            MaxmemoryPolicy::AllkeysTinylfu => Policy::AllKeysTinyLfu,
        }
    }
}

config_enum! {
    /// `appendfsync`: when the append-only file is flushed to stable storage.
    AppendFsync {
        /// Once a second, by the writer: at most about a second of writes is lost on a crash.
        #[default]
        Everysec => "everysec",
        /// Before a write's reply is sent: nothing acknowledged is lost.
        Always => "always",
        /// Never explicitly: the kernel decides; a crash may lose tens of seconds.
        No => "no",
    }
}

config_enum! {
    /// `loglevel`: the least severe message that is logged.
    LogLevel {
        /// Everything, for development.
        Debug => "debug",
        /// Rarely useful detail, less noisy than debug.
        Verbose => "verbose",
        /// Moderately verbose, what production wants.
        #[default]
        Notice => "notice",
        /// Only important or critical messages.
        Warning => "warning",
    }
}

config_enum! {
    /// `supervised`: accepted for compatibility; corekv does not talk to a supervisor yet.
    Supervised {
        /// Upstart's SIGSTOP protocol.
        Upstart => "upstart",
        /// systemd's `READY=1` notification.
        Systemd => "systemd",
        /// Detect from the environment.
        Auto => "auto",
        /// No supervision interaction.
        #[default]
        No => "no",
    }
}

/// One client class's output buffer limit (`client-output-buffer-limit`).
///
/// A client is disconnected when its pending output reaches `hard_bytes`, or stays at or
/// above `soft_bytes` for `soft_seconds`. Zero disables a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OutputBufferLimit {
    /// Disconnect at once at this many pending bytes (0: no hard limit).
    pub hard_bytes: u64,
    /// Disconnect when over this many bytes for `soft_seconds` (0: no soft limit).
    pub soft_bytes: u64,
    /// How long the soft limit may be exceeded.
    pub soft_seconds: u64,
}

/// Output buffer limits per client class. Redis's `master` class cannot be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputBufferLimits {
    /// Ordinary clients (default: no limits).
    pub normal: OutputBufferLimit,
    /// Replicas (`replica` or `slave`; default 256mb hard, 64mb for 60 s soft).
    pub replica: OutputBufferLimit,
    /// Pub/Sub subscribers (default 32mb hard, 8mb for 60 s soft).
    pub pubsub: OutputBufferLimit,
}

impl Default for OutputBufferLimits {
    fn default() -> Self {
        const MB: u64 = 1024 * 1024;
        Self {
            normal: OutputBufferLimit::default(),
            replica: OutputBufferLimit {
                hard_bytes: 256 * MB,
                soft_bytes: 64 * MB,
                soft_seconds: 60,
            },
            pubsub: OutputBufferLimit { hard_bytes: 32 * MB, soft_bytes: 8 * MB, soft_seconds: 60 },
        }
    }
}

impl OutputBufferLimits {
    /// The classes in Redis's order, with the names CONFIG GET prints (`slave`, as Redis 7.0
    /// does) and CONFIG REWRITE writes (`replica`).
    pub(super) fn classes(&self) -> [(&'static str, &'static str, OutputBufferLimit); 3] {
        [
            ("normal", "normal", self.normal),
            ("slave", "replica", self.replica),
            ("pubsub", "pubsub", self.pubsub),
        ]
    }

    /// The limit for a class name as `getClientTypeByName` reads it (any case; `slave` and
    /// `replica` are the same class; `master` and anything else are refused).
    pub(super) fn class_mut(&mut self, name: &[u8]) -> Option<&mut OutputBufferLimit> {
        let name = name.to_ascii_lowercase();
        match name.as_slice() {
            b"normal" => Some(&mut self.normal),
            b"slave" | b"replica" => Some(&mut self.replica),
            b"pubsub" => Some(&mut self.pubsub),
            _ => None,
        }
    }
}
