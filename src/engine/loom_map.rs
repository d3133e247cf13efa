//! A stand-in for `papaya::HashMap` under the loom model checker (`--cfg corekv_loom`).
//!
//! papaya's atomics are not loom's, so loom cannot explore its interleavings; what the models
//! check is corekv's own protocol *on top of* the map (the slot protocol's dead flags and cell
//! mutexes, transaction key locks, waiting). This map gives the same linearizable `get` and
//! `compute` contract as papaya with one loom mutex, so every interleaving of the protocol
//! around those calls is explored. Entries are kept in an arena until the map itself is
//! dropped rather than reclaimed: models are tiny, and an entry that is never freed while the
//! map lives can never be freed under a reader, which is the guarantee papaya's epochs give.

use std::collections::HashMap as StdHashMap;
use std::hash::Hash;

use papaya::{Compute, Operation};

use crate::sync::Mutex;

/// The loom model's shard map: key -> index of the current entry in `arena`.
#[derive(Debug)]
pub(crate) struct HashMap<K, V> {
    slots: Mutex<StdHashMap<K, usize>>,
    /// Every entry ever published, boxed so it never moves, freed only with the map.
    arena: std::sync::Mutex<Vec<Box<(K, V)>>>,
}

impl<K: Hash + Eq + Clone, V> HashMap<K, V> {
    pub(crate) fn new() -> Self {
        HashMap { slots: Mutex::new(StdHashMap::new()), arena: std::sync::Mutex::new(Vec::new()) }
    }

    fn entry(&self, index: usize) -> (&K, &V) {
        let arena = self.arena.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry: *const (K, V) = &*arena[index];
        // SAFETY: the entry is boxed, so it does not move when the arena grows, and it is only
        // freed when the map is dropped; the returned references borrow `self`, so they cannot
        // outlive it.
        let entry = unsafe { &*entry };
        (&entry.0, &entry.1)
    }

    fn publish(&self, key: K, value: V) -> usize {
        let mut arena = self.arena.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        arena.push(Box::new((key, value)));
        arena.len() - 1
    }

    pub(crate) fn get<Q>(&self, key: &Q, _guard: &impl seize::Guard) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let index = self.slots.lock().get(key).copied()?;
        Some(self.entry(index).1)
    }

    pub(crate) fn compute<'a, T>(
        &'a self,
        key: K,
        mut compute: impl FnMut(Option<(&'a K, &'a V)>) -> Operation<V, T>,
        _guard: &impl seize::Guard,
    ) -> Compute<'a, K, V, T> {
        let mut slots = self.slots.lock();
        let current = slots.get(&key).map(|index| self.entry(*index));
        match (compute(current), current) {
            (Operation::Abort(value), _) => Compute::Aborted(value),
            (Operation::Insert(value), old) => {
                let index = self.publish(key.clone(), value);
                slots.insert(key, index);
                let new = self.entry(index);
                match old {
                    Some(old) => Compute::Updated { old, new },
                    None => Compute::Inserted(new.0, new.1),
                }
            }
            (Operation::Remove, Some(old)) => {
                slots.remove(&key);
                Compute::Removed(old.0, old.1)
            }
            (Operation::Remove, None) => panic!("cannot remove a missing entry"),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.lock().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn iter(&self, _guard: &impl seize::Guard) -> impl Iterator<Item = (&K, &V)> {
        let indexes: Vec<usize> = self.slots.lock().values().copied().collect();
        indexes.into_iter().map(|index| self.entry(index))
    }

    /// papaya's `iter_from` (vendor/papaya/PATCHES.md): the model map has no slots, so it
    /// starts at an arbitrary entry.
    pub(crate) fn iter_from(
        &self,
        start: usize,
        guard: &impl seize::Guard,
    ) -> impl Iterator<Item = (&K, &V)> {
        let len = self.len().max(1);
        self.iter(guard).skip(start % len)
    }
}
