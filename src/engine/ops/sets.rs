//! Set commands: SADD and friends, SPOP/SRANDMEMBER, SMOVE, set algebra and its STORE forms.

use crate::engine::access::{Access, OwnedData, OwnedValue};
use crate::engine::bytes::SmallBytes;
use crate::engine::entry::{Collection, Kind, NO_DEADLINE};
use crate::engine::error::Result;
use crate::engine::glob;
use crate::engine::ops::hashes::check_random_count;
use crate::engine::types::set::SetValue;

/// SINTER, SUNION or SDIFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAlgebra {
    /// Members in every set.
    Intersection,
    /// Members in any set.
    Union,
    /// Members of the first set in none of the others.
    Difference,
}

fn set(collection: &Collection) -> &SetValue {
    match collection {
        Collection::Set(set) => set,
        _ => unreachable!("the keyspace checked the type"),
    }
}

fn set_mut(collection: &mut Collection) -> &mut SetValue {
    match collection {
        Collection::Set(set) => set,
        _ => unreachable!("the keyspace checked the type"),
    }
}

fn owned<'a>(members: impl IntoIterator<Item = &'a SmallBytes>) -> Vec<Vec<u8>> {
    members.into_iter().map(|member| member.to_vec()).collect()
}

fn compute(operation: SetAlgebra, sets: &[Option<&Collection>]) -> SetValue {
    let sets: Vec<Option<&SetValue>> = sets.iter().map(|found| found.map(set)).collect();
    match operation {
        SetAlgebra::Intersection => SetValue::intersection(&sets),
        SetAlgebra::Union => SetValue::union(&sets),
        SetAlgebra::Difference => SetValue::difference(&sets),
    }
}

/// Set commands, for every [`Access`].
pub trait SetOps: Access {
    /// SADD: how many members were new.
    ///
    /// ```
    /// use corekv::{Engine, prelude::*};
    /// let engine = Engine::builder().shards(2).build();
    /// let db = engine.db(0);
    /// assert_eq!(db.sadd(b"s", &[b"a", b"b", b"a"]).unwrap(), 2);
    /// assert!(db.sismember(b"s", b"a").unwrap());
    /// ```
    fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        let added = self.write_collection(key, Kind::Set, true, |collection| {
            Ok(set_mut(collection).add(members.iter().map(|member| SmallBytes::new(member))))
        })?;
        Ok(added.unwrap_or(0))
    }

    /// SREM: how many members were removed.
    fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        let removed = self.write_collection(key, Kind::Set, false, |collection| {
            Ok(set_mut(collection).remove(members.iter()))
        })?;
        Ok(removed.unwrap_or(0))
    }

    /// SISMEMBER.
    fn sismember(&self, key: &[u8], member: &[u8]) -> Result<bool> {
        let found =
            self.read_collection(key, Kind::Set, |collection| set(collection).contains(member))?;
        Ok(found.unwrap_or(false))
    }

    /// SMISMEMBER.
    fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
        let found = self.read_collection(key, Kind::Set, |collection| {
            members.iter().map(|member| set(collection).contains(member)).collect()
        })?;
        Ok(found.unwrap_or_else(|| vec![false; members.len()]))
    }

    /// SMEMBERS.
    fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        let members =
            self.read_collection(key, Kind::Set, |collection| owned(set(collection).members()))?;
        Ok(members.unwrap_or_default())
    }

    /// SCARD.
    fn scard(&self, key: &[u8]) -> Result<usize> {
        Ok(self.read_collection(key, Kind::Set, |collection| set(collection).len())?.unwrap_or(0))
    }

    /// SPOP with a count: removes and returns up to `count` random members.
    fn spop(&self, key: &[u8], count: usize) -> Result<Vec<Vec<u8>>> {
        let popped = self.write_collection(key, Kind::Set, false, |collection| {
            Ok(owned(&set_mut(collection).pop(count)))
        })?;
        Ok(popped.unwrap_or_default())
    }

    /// SPOP without a count: one random member, or `None`.
    fn spop_one(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let popped = self.write_collection(key, Kind::Set, false, |collection| {
            Ok(set_mut(collection).pop_one().map(|member| member.to_vec()))
        })?;
        Ok(popped.flatten())
    }

    /// SRANDMEMBER with a count (positive: distinct; negative: exactly |count|, may repeat).
    fn srandmember(&self, key: &[u8], count: i64) -> Result<Vec<Vec<u8>>> {
        check_random_count(count)?;
        let members = self.read_collection(key, Kind::Set, |collection| {
            owned(set(collection).random_members(count))
        })?;
        Ok(members.unwrap_or_default())
    }

    /// SRANDMEMBER without a count.
    fn srandmember_one(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let member = self.read_collection(key, Kind::Set, |collection| {
            set(collection).random_member().map(|member| member.to_vec())
        })?;
        Ok(member.flatten())
    }

    /// SMOVE: moves `member` from `source` to `destination` atomically; true when moved.
    fn smove(&self, source: &[u8], destination: &[u8], member: &[u8]) -> Result<bool> {
        self.atomically(&[source, destination], |txn| {
            // Redis (`smoveCommand`): a missing source is 0 whatever the destination holds;
            // then the source's type and the destination's are checked before anything moves.
            if txn.read_collection(source, Kind::Set, |_| ())?.is_none() {
                return Ok(false);
            }
            txn.read_collection(destination, Kind::Set, |_| ())?;
            if !txn.sismember(source, member)? {
                return Ok(false);
            }
            if source != destination {
                txn.srem(source, &[member])?;
                txn.sadd(destination, &[member])?;
            }
            Ok(true)
        })
    }

    /// SINTER / SUNION / SDIFF, read atomically over all keys.
    fn set_algebra(&self, operation: SetAlgebra, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        self.atomically(keys, |txn| {
            txn.read_collections(keys, &[Kind::Set], |sets| {
                owned(compute(operation, sets).members())
            })
        })
    }

    /// SINTERSTORE / SUNIONSTORE / SDIFFSTORE: stores the result at `destination` (deleting
    /// it when empty); returns the result's size.
    fn set_algebra_store(
        &self,
        operation: SetAlgebra,
        destination: &[u8],
        keys: &[&[u8]],
    ) -> Result<usize> {
        let mut all = vec![destination];
        all.extend_from_slice(keys);
        self.atomically(&all, |txn| {
            let result =
                txn.read_collections(keys, &[Kind::Set], |sets| compute(operation, sets))?;
            let len = result.len();
            let data = OwnedData::Collection(Collection::Set(result));
            txn.put(destination, OwnedValue { data, deadline_ms: NO_DEADLINE })?;
            Ok(len)
        })
    }

    /// SINTERCARD: the intersection's size, counting at most `limit` (0 = no limit).
    fn sintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        self.atomically(keys, |txn| {
            txn.read_collections(keys, &[Kind::Set], |sets| {
                let sets: Vec<Option<&SetValue>> =
                    sets.iter().map(|found| found.map(set)).collect();
                SetValue::intersection_cardinality(&sets, limit)
            })
        })
    }

    /// SSCAN: the next cursor (0 when done) and this step's members.
    fn sscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<Vec<u8>>)> {
        let page = self.read_collection(key, Kind::Set, |collection| {
            let matches =
                |member: &[u8]| pattern.is_none_or(|pattern| glob::matches(pattern, member));
            let (next, found) = set(collection).scan(cursor, count, matches);
            (next, owned(found))
        })?;
        Ok(page.unwrap_or((0, Vec::new())))
    }
}

impl<A: Access + ?Sized> SetOps for A {}
