//! The workload description every target shares: which commands, on which keys, how big.
//!
//! A workload says nothing about how it is driven (connections, rate, duration: that is
//! [`Load`](super::Load)), so the same description runs over TCP and in-process.
//!
//! # Keys
//!
//! Key `i` of `0..keys` is a type tag, `:`, and `i` in decimal, left-padded with `0` to
//! `key_size` bytes: `s:000042`. Each data type has its own tag (`s` strings for
//! GET/SET/MSET/MULTI, `c` counters for INCR, `l` lists, `h` hashes, `z` sorted sets), so a
//! mix of types never meets a WRONGTYPE error. The key choice is uniform or Zipf; a Zipf rank is
//! spread over the key space by a bijection (see [`KeyChooser`]) so the hot keys are not
//! neighbours.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use serde::Serialize;

use super::error::BenchError;
use super::zipf::ZipfSampler;

/// The most keys a workload may name: bounds the key arena and keeps ranks below the
/// scrambling prime.
pub const MAX_KEYS: u64 = 1 << 40;
/// The most keys one MSET or MULTI may carry: bounds a request's size.
pub const MAX_BATCH_KEYS: usize = 100_000;
/// The largest value, in bytes (Redis's `proto-max-bulk-len` is 512 MB; a benchmark needs less).
pub const MAX_VALUE_BYTES: usize = 64 << 20;
/// The largest key, in bytes.
pub const MAX_KEY_BYTES: usize = 64 << 10;
/// The distinct members ZADD draws from and the distinct fields HSET draws from, per key.
pub const MEMBERS_PER_KEY: u64 = 1_000;

/// A command the generator issues. Each is one operation in the counts and histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CommandKind {
    /// `GET s:key`.
    Get,
    /// `SET s:key value`.
    Set,
    /// `INCR c:key`.
    Incr,
    /// `LPUSH l:key value`.
    Lpush,
    /// `LPOP l:key`.
    Lpop,
    /// `ZADD z:key score member`.
    Zadd,
    /// `HSET h:key field value`.
    Hset,
    /// `MSET` of [`Workload::mset_keys`] string keys.
    Mset,
    /// `MULTI`, [`Workload::multi_sets`] × `SET`, `EXEC`: one operation, timed to EXEC's reply.
    Multi,
}

impl CommandKind {
    /// Every command, in report order.
    pub const ALL: [CommandKind; 9] = [
        CommandKind::Get,
        CommandKind::Set,
        CommandKind::Incr,
        CommandKind::Lpush,
        CommandKind::Lpop,
        CommandKind::Zadd,
        CommandKind::Hset,
        CommandKind::Mset,
        CommandKind::Multi,
    ];

    /// The command's name as the report prints it.
    pub fn name(self) -> &'static str {
        match self {
            CommandKind::Get => "GET",
            CommandKind::Set => "SET",
            CommandKind::Incr => "INCR",
            CommandKind::Lpush => "LPUSH",
            CommandKind::Lpop => "LPOP",
            CommandKind::Zadd => "ZADD",
            CommandKind::Hset => "HSET",
            CommandKind::Mset => "MSET",
            CommandKind::Multi => "MULTI",
        }
    }

    /// The position in [`CommandKind::ALL`], for per-command arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The key tag of the type the command works on.
    pub fn key_tag(self) -> u8 {
        match self {
            CommandKind::Get | CommandKind::Set | CommandKind::Mset | CommandKind::Multi => b's',
            CommandKind::Incr => b'c',
            CommandKind::Lpush | CommandKind::Lpop => b'l',
            CommandKind::Zadd => b'z',
            CommandKind::Hset => b'h',
        }
    }
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CommandKind {
    type Err = BenchError;

    fn from_str(text: &str) -> Result<Self, BenchError> {
        let upper = text.to_ascii_uppercase();
        let name = if upper == "EXEC" { "MULTI" } else { upper.as_str() };
        CommandKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| BenchError::config(format!("unknown command {text:?} in --mix")))
    }
}

/// Weighted commands: `get=90,set=10`. Weights are relative, not percentages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mix {
    entries: Vec<MixEntry>,
}

/// One command and its weight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MixEntry {
    /// The command.
    pub command: CommandKind,
    /// Its relative weight (> 0).
    pub weight: u32,
}

impl Mix {
    /// A mix from `(command, weight)` pairs; zero weights are dropped, duplicates summed.
    pub fn new(pairs: &[(CommandKind, u32)]) -> Result<Mix, BenchError> {
        let mut entries: Vec<MixEntry> = Vec::new();
        for &(command, weight) in pairs.iter().filter(|(_, weight)| *weight > 0) {
            match entries.iter_mut().find(|entry| entry.command == command) {
                Some(entry) => entry.weight = entry.weight.saturating_add(weight),
                None => entries.push(MixEntry { command, weight }),
            }
        }
        let total: u64 = entries.iter().map(|entry| u64::from(entry.weight)).sum();
        if total == 0 {
            return Err(BenchError::config("--mix needs at least one command with weight > 0"));
        }
        if total > u64::from(u32::MAX) {
            return Err(BenchError::config("--mix weights sum to more than 2^32"));
        }
        entries.sort_by_key(|entry| entry.command);
        Ok(Mix { entries })
    }

    /// The commands with their weights, in report order.
    pub fn entries(&self) -> &[MixEntry] {
        &self.entries
    }

    /// Whether the mix issues `command`.
    pub fn contains(&self, command: CommandKind) -> bool {
        self.entries.iter().any(|entry| entry.command == command)
    }

    /// Draws a command by weight.
    pub fn choose<R: Rng + ?Sized>(&self, rng: &mut R) -> CommandKind {
        let total: u32 = self.entries.iter().map(|entry| entry.weight).sum();
        let mut pick = rng.random_range(0..total);
        for entry in &self.entries {
            if pick < entry.weight {
                return entry.command;
            }
            pick -= entry.weight;
        }
        unreachable!("the pick is below the sum of the weights")
    }
}

impl FromStr for Mix {
    type Err = BenchError;

    /// `get=90,set=10` (a bare `get` is weight 1).
    fn from_str(text: &str) -> Result<Mix, BenchError> {
        let mut pairs = Vec::new();
        for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
            let (name, weight) = match part.split_once('=') {
                Some((name, weight)) => {
                    let weight = weight.trim().parse::<u32>().map_err(|_| {
                        BenchError::config(format!("bad weight {weight:?} in --mix"))
                    })?;
                    (name.trim(), weight)
                }
                None => (part, 1),
            };
            pairs.push((name.parse()?, weight));
        }
        Mix::new(&pairs)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            let separator = if i == 0 { "" } else { "," };
            write!(f, "{separator}{}={}", entry.command.name().to_lowercase(), entry.weight)?;
        }
        Ok(())
    }
}

/// How keys are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum KeyDistribution {
    /// Every key equally likely.
    Uniform,
    /// Zipf with this exponent (> 0): the k-th hottest key is chosen ∝ k^-exponent.
    Zipf {
        /// The exponent `s`.
        exponent: f64,
    },
}

impl fmt::Display for KeyDistribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDistribution::Uniform => f.write_str("uniform"),
            KeyDistribution::Zipf { exponent } => write!(f, "zipf({exponent})"),
        }
    }
}

/// What the generator sends: commands, keys and sizes. The same for every target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// The command mix.
    pub mix: Mix,
    /// Keys per type (`0..keys`).
    pub keys: u64,
    /// Bytes per key, tag included.
    pub key_size: usize,
    /// Bytes per value (SET, MSET, LPUSH, HSET).
    pub value_size: usize,
    /// How keys are chosen.
    pub distribution: KeyDistribution,
    /// Keys per MSET.
    pub mset_keys: usize,
    /// SETs per MULTI/EXEC.
    pub multi_sets: usize,
    /// Write every string key once before the run, so GETs hit.
    pub preload: bool,
    /// Seed for every random choice; connection `i` uses `seed + i`.
    pub seed: u64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            mix: Mix::new(&[(CommandKind::Get, 90), (CommandKind::Set, 10)]).expect("valid mix"),
            keys: 100_000,
            key_size: 16,
            value_size: 64,
            distribution: KeyDistribution::Uniform,
            mset_keys: 10,
            multi_sets: 10,
            preload: false,
            seed: 1,
        }
    }
}

impl Workload {
    /// Checks the sizes against each other and the limits.
    pub fn validate(&self) -> Result<(), BenchError> {
        if self.keys == 0 || self.keys > MAX_KEYS {
            return Err(BenchError::config(format!("--keys must be in 1..={MAX_KEYS}")));
        }
        let needed = min_key_size(self.keys);
        if self.key_size < needed || self.key_size > MAX_KEY_BYTES {
            return Err(BenchError::config(format!(
                "--key-size {} cannot name {} keys: it must be in {needed}..={MAX_KEY_BYTES}",
                self.key_size, self.keys
            )));
        }
        if self.value_size > MAX_VALUE_BYTES {
            return Err(BenchError::config(format!("--value-size must be <= {MAX_VALUE_BYTES}")));
        }
        for (name, count) in [("--mset-keys", self.mset_keys), ("--multi-sets", self.multi_sets)] {
            if count == 0 || count > MAX_BATCH_KEYS {
                return Err(BenchError::config(format!("{name} must be in 1..={MAX_BATCH_KEYS}")));
            }
        }
        if let KeyDistribution::Zipf { exponent } = self.distribution
            && !(exponent > 0.0 && exponent.is_finite())
        {
            return Err(BenchError::config("--zipf needs a finite exponent > 0"));
        }
        Ok(())
    }
}

/// The shortest key that names `0..keys`: a tag, `:`, and the digits of `keys - 1`.
pub fn min_key_size(keys: u64) -> usize {
    2 + keys.saturating_sub(1).max(1).ilog10() as usize + 1
}

/// Draws key indices in `0..keys` by the workload's distribution.
///
/// A Zipf rank `r` maps to key `(r - 1) * P mod keys` with `P = 2^61 - 1`, a prime larger than
/// [`MAX_KEYS`], so the map is a bijection (P is invertible mod `keys`) and the hot keys land
/// on unrelated shards instead of the first few.
#[derive(Debug, Clone)]
pub struct KeyChooser {
    keys: u64,
    zipf: Option<ZipfSampler>,
}

/// The scrambling prime (Mersenne, 2^61 - 1).
const SCRAMBLE_PRIME: u64 = (1 << 61) - 1;
const _: () = assert!(SCRAMBLE_PRIME > MAX_KEYS);

impl KeyChooser {
    /// A chooser for `keys` keys (> 0) and a validated distribution.
    pub fn new(keys: u64, distribution: KeyDistribution) -> Self {
        let zipf = match distribution {
            KeyDistribution::Uniform => None,
            KeyDistribution::Zipf { exponent } => Some(ZipfSampler::new(keys, exponent)),
        };
        KeyChooser { keys, zipf }
    }

    /// One key index.
    pub fn next<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match &self.zipf {
            None => rng.random_range(0..self.keys),
            Some(zipf) => {
                let rank = zipf.sample(rng) - 1;
                ((u128::from(rank) * u128::from(SCRAMBLE_PRIME)) % u128::from(self.keys)) as u64
            }
        }
    }
}

/// Writes key `index` of type `tag`, `key_size` bytes long, to the end of `out`.
pub fn write_key(out: &mut Vec<u8>, tag: u8, index: u64, key_size: usize) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(index).as_bytes();
    debug_assert!(key_size >= 2 + digits.len(), "the workload validated the key size");
    out.push(tag);
    out.push(b':');
    out.resize(out.len() + key_size - 2 - digits.len(), b'0');
    out.extend_from_slice(digits);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn mix_parses_and_prints() {
        let mix: Mix = "get=90, set=10,multi=2,exec=1,incr".parse().unwrap();
        assert_eq!(mix.to_string(), "get=90,set=10,incr=1,multi=3");
        assert!("get=0".parse::<Mix>().is_err());
        assert!("fetch=1".parse::<Mix>().is_err());
        assert!("get=x".parse::<Mix>().is_err());
    }

    #[test]
    fn mix_choice_follows_weights() {
        let mix: Mix = "get=3,set=1".parse().unwrap();
        let mut rng = SmallRng::seed_from_u64(3);
        let gets = (0..100_000).filter(|_| mix.choose(&mut rng) == CommandKind::Get).count();
        assert!((74_000..76_000).contains(&gets), "{gets}");
    }

    #[test]
    fn keys_are_padded_and_validated() {
        let mut key = Vec::new();
        write_key(&mut key, b's', 42, 8);
        assert_eq!(key, b"s:000042");
        assert_eq!(min_key_size(1), 3);
        assert_eq!(min_key_size(10), 3);
        assert_eq!(min_key_size(11), 4);
        let workload = Workload { keys: 1_000_001, key_size: 8, ..Workload::default() };
        assert!(workload.validate().is_err());
        assert!(Workload { key_size: 9, ..workload.clone() }.validate().is_ok());
        assert!(Workload { keys: 1_000_000, ..workload }.validate().is_ok());
    }

    #[test]
    fn zipf_keys_are_a_permutation_of_ranks() {
        let keys = 1000;
        let mut seen = vec![false; keys as usize];
        for rank in 0..keys {
            let index = ((u128::from(rank) * u128::from(SCRAMBLE_PRIME)) % u128::from(keys)) as u64;
            assert!(!std::mem::replace(&mut seen[index as usize], true));
        }
        let chooser = KeyChooser::new(keys, KeyDistribution::Zipf { exponent: 0.99 });
        let mut rng = SmallRng::seed_from_u64(1);
        assert!((0..10_000).all(|_| chooser.next(&mut rng) < keys));
    }
}
