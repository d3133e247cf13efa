//! A stand-in for `papaya::HashMap` under the loom model checker (`--cfg corekv_loom`).
//!
//! papaya's atomics are not loom's, so loom cannot explore its interleavings; what the models
//! check is corekv's own protocol *on top of* the map (the slot protocol's dead flags and cell
//! mutexes, transaction key locks, waiting). This map gives the same linearizable `get` and
//! `compute` contract as papaya with one loom mutex, so every interleaving of the protocol
//! around those calls is explored. Entries are leaked rather than reclaimed: models are tiny,
//! and a leaked entry can never be freed under a reader, which is the guarantee papaya's
//! epochs give.

use std::collections::HashMap as StdHashMap;
use std::hash::Hash;

use papaya::{Compute, Operation};

use crate::sync::Mutex;

/// The loom model's shard map.
#[derive(Debug)]
pub(crate) struct HashMap<K: 'static, V: 'static> {
    slots: Mutex<StdHashMap<K, (&'static K, &'static V)>>,
}

impl<K: Hash + Eq + Clone + 'static, V: 'static> HashMap<K, V> {
    pub(crate) fn new() -> Self {
        HashMap { slots: Mutex::new(StdHashMap::new()) }
    }

    pub(crate) fn get<Q>(&self, key: &Q, _guard: &impl seize::Guard) -> Option<&'static V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.slots.lock().get(key).map(|(_, value)| *value)
    }

    pub(crate) fn compute<T>(
        &self,
        key: K,
        mut compute: impl FnMut(Option<(&'static K, &'static V)>) -> Operation<V, T>,
        _guard: &impl seize::Guard,
    ) -> Compute<'static, K, V, T> {
        let mut slots = self.slots.lock();
        let current = slots.get(&key).copied();
        match (compute(current), current) {
            (Operation::Abort(value), _) => Compute::Aborted(value),
            (Operation::Insert(value), old) => {
                let new: (&'static K, &'static V) =
                    (Box::leak(Box::new(key.clone())), Box::leak(Box::new(value)));
                slots.insert(key, new);
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

    pub(crate) fn iter(
        &self,
        _guard: &impl seize::Guard,
    ) -> impl Iterator<Item = (&'static K, &'static V)> {
        let snapshot: Vec<_> = self.slots.lock().values().copied().collect();
        snapshot.into_iter()
    }
}
