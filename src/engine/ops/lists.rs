//! List commands: pushes and pops, ranges, LSET/LINSERT/LREM/LTRIM/LPOS, LMOVE, LMPOP.

use crate::engine::access::Access;
use crate::engine::bytes::SmallBytes;
use crate::engine::entry::{Collection, Kind};
use crate::engine::error::{Error, Result};
use crate::engine::types::list::ListValue;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (LPUSH, LPOP, LEFT).
    Left,
    /// The tail (RPUSH, RPOP, RIGHT).
    Right,
}

/// LMPOP's reply: the key popped from and its elements.
pub type KeyElements = (Vec<u8>, Vec<Vec<u8>>);

fn list(collection: &Collection) -> &ListValue {
    match collection {
        Collection::List(list) => list,
        _ => unreachable!("the keyspace checked the type"),
    }
}

fn list_mut(collection: &mut Collection) -> &mut ListValue {
    match collection {
        Collection::List(list) => list,
        _ => unreachable!("the keyspace checked the type"),
    }
}

fn owned(elements: Vec<SmallBytes>) -> Vec<Vec<u8>> {
    elements.into_iter().map(|element| element.to_vec()).collect()
}

fn pop_from(list: &mut ListValue, end: End, count: usize) -> Vec<SmallBytes> {
    match end {
        End::Left => list.pop_front(count),
        End::Right => list.pop_back(count),
    }
}

fn push_to(list: &mut ListValue, end: End, elements: &[&[u8]]) -> usize {
    let elements = elements.iter().map(|element| SmallBytes::new(element));
    match end {
        End::Left => list.push_front(elements),
        End::Right => list.push_back(elements),
    }
}

/// List commands, for every [`Access`].
pub trait ListOps: Access {
    /// LPUSH / RPUSH (`create`) and LPUSHX / RPUSHX (`!create`): returns the new length (0 when
    /// the key is missing and `create` is off).
    ///
    /// ```
    /// use corekv::{Engine, prelude::*};
    /// use corekv::engine::ops::End;
    /// let engine = Engine::builder().shards(2).build();
    /// let db = engine.db(0);
    /// assert_eq!(db.push(b"l", End::Left, &[b"a", b"b"], true).unwrap(), 2);
    /// assert_eq!(db.lrange(b"l", 0, -1).unwrap(), vec![b"b".to_vec(), b"a".to_vec()]);
    /// ```
    fn push(&self, key: &[u8], end: End, elements: &[&[u8]], create: bool) -> Result<usize> {
        let pushed = self.write_collection(key, Kind::List, create, |collection| {
            Ok(push_to(list_mut(collection), end, elements))
        })?;
        Ok(pushed.unwrap_or(0))
    }

    /// LPOP / RPOP. `count: None` pops one; `Some(n)` pops up to n. `Ok(None)` for a missing
    /// key (nil); `Some(empty)` for a count of 0 on an existing list, as Redis replies.
    fn pop(&self, key: &[u8], end: End, count: Option<usize>) -> Result<Option<Vec<Vec<u8>>>> {
        if count == Some(0) {
            let exists = self.read_collection(key, Kind::List, |_| ())?;
            return Ok(exists.map(|()| Vec::new()));
        }
        let popped = self.write_collection(key, Kind::List, false, |collection| {
            Ok(pop_from(list_mut(collection), end, count.unwrap_or(1)))
        })?;
        Ok(popped.map(owned))
    }

    /// LLEN.
    fn llen(&self, key: &[u8]) -> Result<usize> {
        Ok(self.read_collection(key, Kind::List, |collection| list(collection).len())?.unwrap_or(0))
    }

    /// LINDEX.
    fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>> {
        let found = self.read_collection(key, Kind::List, |collection| {
            list(collection).index(index).map(|element| element.to_vec())
        })?;
        Ok(found.flatten())
    }

    /// LRANGE.
    fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
        let range = self.read_collection(key, Kind::List, |collection| {
            owned(list(collection).range(start, stop))
        })?;
        Ok(range.unwrap_or_default())
    }

    /// LSET: `Error::NoSuchKey` on a missing key, `Error::IndexOutOfRange` past the ends.
    fn lset(&self, key: &[u8], index: i64, value: &[u8]) -> Result<()> {
        self.write_collection(key, Kind::List, false, |collection| {
            list_mut(collection).set(index, SmallBytes::new(value))
        })?
        .ok_or(Error::NoSuchKey)
    }

    /// LINSERT: the new length, -1 when the pivot is missing, 0 when the key is.
    fn linsert(&self, key: &[u8], before: bool, pivot: &[u8], value: &[u8]) -> Result<i64> {
        let inserted = self.write_collection(key, Kind::List, false, |collection| {
            Ok(list_mut(collection).insert(before, pivot, SmallBytes::new(value)))
        })?;
        Ok(match inserted {
            None => 0,
            Some(None) => -1,
            Some(Some(len)) => len as i64,
        })
    }

    /// LREM: how many were removed.
    fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<usize> {
        let removed = self.write_collection(key, Kind::List, false, |collection| {
            Ok(list_mut(collection).remove(count, value))
        })?;
        Ok(removed.unwrap_or(0))
    }

    /// LTRIM.
    fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()> {
        self.write_collection(key, Kind::List, false, |collection| {
            list_mut(collection).trim(start, stop);
            Ok(())
        })?;
        Ok(())
    }

    /// LPOS: positions of `element` (RANK, COUNT with 0 = all, MAXLEN with 0 = whole list).
    fn lpos(
        &self,
        key: &[u8],
        element: &[u8],
        rank: i64,
        count: usize,
        maxlen: usize,
    ) -> Result<Vec<usize>> {
        if rank == 0 || rank == i64::MIN {
            // Checked before the key, as Redis does, so a missing key gets the same error.
            return ListValue::new().position(element, rank, count, maxlen);
        }
        let found = self.read_collection(key, Kind::List, |collection| {
            list(collection).position(element, rank, count, maxlen)
        })?;
        found.unwrap_or(Ok(Vec::new()))
    }

    /// LMOVE (RPOPLPUSH is `Right, Left`): pops from `source`'s `from` end and pushes onto
    /// `destination`'s `to` end, atomically. `Ok(None)` when `source` is missing.
    fn lmove(
        &self,
        source: &[u8],
        destination: &[u8],
        from: End,
        to: End,
    ) -> Result<Option<Vec<u8>>> {
        if source == destination {
            // A rotation: pop and push inside one change of the list, so a one-element list
            // is never empty in between (which would delete the key and drop its TTL).
            let moved = self.write_collection(source, Kind::List, false, |collection| {
                let list = list_mut(collection);
                let Some(element) = pop_from(list, from, 1).pop() else { return Ok(None) };
                push_to(list, to, &[&element]);
                Ok(Some(element.to_vec()))
            })?;
            return Ok(moved.flatten());
        }
        self.atomically(&[source, destination], |txn| {
            // Redis checks the destination's type before popping anything.
            txn.read_collection(destination, Kind::List, |_| ())?;
            let popped = txn.write_collection(source, Kind::List, false, |collection| {
                Ok(pop_from(list_mut(collection), from, 1))
            })?;
            let Some(element) = popped.and_then(|mut popped| popped.pop()) else {
                return Ok(None);
            };
            txn.push(destination, to, &[&element], true)?;
            Ok(Some(element.to_vec()))
        })
    }

    /// LMPOP: pops up to `count` from the first non-empty list among `keys`; returns its key
    /// and the elements, or `None` when all are empty.
    fn lmpop(&self, keys: &[&[u8]], end: End, count: usize) -> Result<Option<KeyElements>> {
        self.atomically(keys, |txn| {
            for key in keys {
                if let Some(popped) = txn.pop(key, end, Some(count.max(1)))? {
                    return Ok(Some((key.to_vec(), popped)));
                }
            }
            Ok(None)
        })
    }
}

impl<A: Access + ?Sized> ListOps for A {}
