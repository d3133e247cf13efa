//! Hash commands: HSET and friends, HINCRBY/HINCRBYFLOAT, HRANDFIELD, HSCAN.

use crate::engine::access::Access;
use crate::engine::bytes::SmallBytes;
use crate::engine::entry::{Collection, Kind};
use crate::engine::error::{Error, Result};
use crate::engine::glob;
use crate::engine::num;
use crate::engine::types::hash::HashValue;

/// Largest |count| HRANDFIELD, SRANDMEMBER and ZRANDMEMBER accept. Redis has no bound of its
/// own and will try to build ~2^63 replies for a huge negative count; the engine answers in
/// memory, so it refuses counts whose reply could not fit rather than abort on allocation.
pub const MAX_RANDOM_COUNT: u64 = 1 << 24;

/// A field/value pair, owned.
pub type FieldValue = (Vec<u8>, Vec<u8>);

fn hash(collection: &Collection) -> &HashValue {
    match collection {
        Collection::Hash(hash) => hash,
        _ => unreachable!("the keyspace checked the type"),
    }
}

fn hash_mut(collection: &mut Collection) -> &mut HashValue {
    match collection {
        Collection::Hash(hash) => hash,
        _ => unreachable!("the keyspace checked the type"),
    }
}

fn pair((field, value): (&SmallBytes, &SmallBytes)) -> FieldValue {
    (field.to_vec(), value.to_vec())
}

/// Checks a RANDMEMBER-style count against [`MAX_RANDOM_COUNT`].
pub(crate) fn check_random_count(count: i64) -> Result<()> {
    if count.unsigned_abs() > MAX_RANDOM_COUNT {
        return Err(Error::OutOfRange);
    }
    Ok(())
}

/// Hash commands, for every [`Access`].
pub trait HashOps: Access {
    /// HSET: sets the pairs; returns how many fields were new.
    ///
    /// ```
    /// use corekv::{Engine, prelude::*};
    /// let engine = Engine::builder().shards(2).build();
    /// let db = engine.db(0);
    /// assert_eq!(db.hset(b"h", &[(b"f", b"v")]).unwrap(), 1);
    /// assert_eq!(db.hget(b"h", b"f").unwrap(), Some(b"v".to_vec()));
    /// ```
    fn hset(&self, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<usize> {
        let added = self.write_collection(key, Kind::Hash, true, |collection| {
            let hash = hash_mut(collection);
            let added = pairs
                .iter()
                .filter(|(field, value)| hash.set(SmallBytes::new(field), SmallBytes::new(value)))
                .count();
            Ok(added)
        })?;
        Ok(added.unwrap_or(0))
    }

    /// HSETNX: true when the field was new and set.
    fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        let set = self.write_collection(key, Kind::Hash, true, |collection| {
            Ok(hash_mut(collection).set_if_absent(SmallBytes::new(field), SmallBytes::new(value)))
        })?;
        Ok(set.unwrap_or(false))
    }

    /// HGET.
    fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self.read_collection(key, Kind::Hash, |collection| {
            hash(collection).get(field).map(|value| value.to_vec())
        })?;
        Ok(value.flatten())
    }

    /// HMGET.
    fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let values = self.read_collection(key, Kind::Hash, |collection| {
            let hash = hash(collection);
            fields.iter().map(|field| hash.get(field).map(|value| value.to_vec())).collect()
        })?;
        Ok(values.unwrap_or_else(|| vec![None; fields.len()]))
    }

    /// HDEL: how many fields were removed.
    fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
        let removed = self.write_collection(key, Kind::Hash, false, |collection| {
            Ok(hash_mut(collection).remove(fields.iter()))
        })?;
        Ok(removed.unwrap_or(0))
    }

    /// HLEN.
    fn hlen(&self, key: &[u8]) -> Result<usize> {
        Ok(self.read_collection(key, Kind::Hash, |collection| hash(collection).len())?.unwrap_or(0))
    }

    /// HEXISTS.
    fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool> {
        let found =
            self.read_collection(key, Kind::Hash, |collection| hash(collection).contains(field))?;
        Ok(found.unwrap_or(false))
    }

    /// HKEYS.
    fn hkeys(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        let keys = self.read_collection(key, Kind::Hash, |collection| {
            hash(collection).keys().map(|field| field.to_vec()).collect()
        })?;
        Ok(keys.unwrap_or_default())
    }

    /// HVALS.
    fn hvals(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        let values = self.read_collection(key, Kind::Hash, |collection| {
            hash(collection).values().map(|value| value.to_vec()).collect()
        })?;
        Ok(values.unwrap_or_default())
    }

    /// HGETALL.
    fn hgetall(&self, key: &[u8]) -> Result<Vec<FieldValue>> {
        let entries = self.read_collection(key, Kind::Hash, |collection| {
            hash(collection).entries().map(pair).collect()
        })?;
        Ok(entries.unwrap_or_default())
    }

    /// HSTRLEN.
    fn hstrlen(&self, key: &[u8], field: &[u8]) -> Result<usize> {
        let len =
            self.read_collection(key, Kind::Hash, |collection| hash(collection).strlen(field))?;
        Ok(len.unwrap_or(0))
    }

    /// HINCRBY.
    fn hincrby(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64> {
        let value = self.write_collection(key, Kind::Hash, true, |collection| {
            hash_mut(collection).incr_by(field, delta)
        })?;
        Ok(value.expect("created when missing"))
    }

    /// HINCRBYFLOAT: returns the new value as Redis prints it.
    fn hincrbyfloat(&self, key: &[u8], field: &[u8], increment: &[u8]) -> Result<Vec<u8>> {
        // An increment that is not a float fails before the key is touched (and created).
        num::hash_incr_by_float(b"0", increment)?;
        let value = self.write_collection(key, Kind::Hash, true, |collection| {
            hash_mut(collection)
                .incr_by_float(field, |current| num::hash_incr_by_float(current, increment))
        })?;
        Ok(value.expect("created when missing").to_vec())
    }

    /// HRANDFIELD with a count: positive for distinct fields (at most all), negative for
    /// exactly |count| fields that may repeat. Values come along; drop them for a plain reply.
    fn hrandfield(&self, key: &[u8], count: i64) -> Result<Vec<FieldValue>> {
        check_random_count(count)?;
        let fields = self.read_collection(key, Kind::Hash, |collection| {
            hash(collection).random_fields(count).into_iter().map(pair).collect()
        })?;
        Ok(fields.unwrap_or_default())
    }

    /// HRANDFIELD without a count: one random field and its value.
    fn hrandfield_one(&self, key: &[u8]) -> Result<Option<FieldValue>> {
        let field = self.read_collection(key, Kind::Hash, |collection| {
            hash(collection).random_field().map(pair)
        })?;
        Ok(field.flatten())
    }

    /// HSCAN: the next cursor (0 when done) and the field/value pairs of this step.
    fn hscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<FieldValue>)> {
        let page = self.read_collection(key, Kind::Hash, |collection| {
            let matches =
                |field: &[u8]| pattern.is_none_or(|pattern| glob::matches(pattern, field));
            let (next, found) = hash(collection).scan(cursor, count, matches);
            (next, found.into_iter().map(pair).collect())
        })?;
        Ok(page.unwrap_or((0, Vec::new())))
    }
}

impl<A: Access + ?Sized> HashOps for A {}
