//! Key commands: DEL, EXISTS, TYPE, RENAME, COPY, the EXPIRE and TTL families, PERSIST.

use crate::engine::access::{Access, Write};
use crate::engine::entry::{Kind, NO_DEADLINE};
use crate::engine::error::{Error, Result};
use crate::engine::ops::expiry::{ExpireCondition, TimeUnit, expire_deadline_ms};

/// Key commands, for every [`Access`].
pub trait KeyOps: Access {
    /// DEL / UNLINK: deletes the keys; returns how many existed. Atomic over all keys.
    ///
    /// ```
    /// use corekv::{Engine, prelude::*};
    /// let engine = Engine::builder().shards(2).build();
    /// let db = engine.db(0);
    /// db.set(b"a", b"1").unwrap();
    /// assert_eq!(db.del(&[b"a", b"b"]).unwrap(), 1);
    /// ```
    fn del(&self, keys: &[&[u8]]) -> Result<usize> {
        let delete_one = |access: &dyn Fn(&[u8]) -> Result<bool>| -> Result<usize> {
            keys.iter().try_fold(0, |count, key| Ok(count + usize::from(access(key)?)))
        };
        if keys.len() == 1 {
            return delete_one(&|key| self.delete(key));
        }
        self.atomically(keys, |txn| delete_one(&|key| txn.delete(key)))
    }

    /// Deletes one key; true when it existed.
    fn delete(&self, key: &[u8]) -> Result<bool> {
        self.update(key, |view| match view {
            Some(_) => Ok((Write::Delete, true)),
            None => Ok((Write::Keep, false)),
        })
    }

    /// EXISTS: how many of `keys` exist (a key named twice counts twice).
    fn exists(&self, keys: &[&[u8]]) -> Result<usize> {
        let count = |access: &dyn Fn(&[u8]) -> Result<bool>| -> Result<usize> {
            keys.iter().try_fold(0, |count, key| Ok(count + usize::from(access(key)?)))
        };
        if keys.len() == 1 {
            return count(&|key| self.view(key, |view| view.is_some()));
        }
        self.atomically(keys, |txn| count(&|key| txn.view(key, |view| view.is_some())))
    }

    /// TYPE: the key's type, or `None` when missing.
    fn key_type(&self, key: &[u8]) -> Result<Option<Kind>> {
        self.view(key, |view| view.map(|view| view.value.kind()))
    }

    /// RENAME: moves `source`'s value (and TTL) to `destination`, replacing it.
    fn rename(&self, source: &[u8], destination: &[u8]) -> Result<()> {
        self.atomically(&[source, destination], |txn| {
            let value = txn.take(source)?.ok_or(Error::NoSuchKey)?;
            txn.put(destination, value)
        })
    }

    /// RENAMENX: like RENAME, only when `destination` does not exist; true when renamed.
    fn renamenx(&self, source: &[u8], destination: &[u8]) -> Result<bool> {
        self.atomically(&[source, destination], |txn| {
            if txn.view(source, |view| view.is_none())? {
                return Err(Error::NoSuchKey);
            }
            if source == destination || txn.view(destination, |view| view.is_some())? {
                return Ok(false);
            }
            let value = txn.take(source)?.ok_or(Error::NoSuchKey)?;
            txn.put(destination, value)?;
            Ok(true)
        })
    }

    /// COPY within one database: true when copied (false when `destination` exists and
    /// `replace` is off, or `source` is missing).
    fn copy(&self, source: &[u8], destination: &[u8], replace: bool) -> Result<bool> {
        if source == destination {
            return Err(Error::Other("ERR source and destination objects are the same"));
        }
        self.atomically(&[source, destination], |txn| {
            let Some(value) = txn.copy_value(source)? else { return Ok(false) };
            if !replace && txn.view(destination, |view| view.is_some())? {
                return Ok(false);
            }
            txn.put(destination, value)?;
            Ok(true)
        })
    }

    /// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT with NX/XX/GT/LT. True when the TTL was set (or
    /// the key deleted because the deadline has passed). `command` names the error's command.
    fn expire(
        &self,
        key: &[u8],
        amount: i64,
        unit: TimeUnit,
        relative: bool,
        condition: ExpireCondition,
        command: &'static str,
    ) -> Result<bool> {
        let now = self.now_ms();
        let when = expire_deadline_ms(amount, unit, relative, now, command)?;
        self.update(key, |view| {
            let Some(view) = view else { return Ok((Write::Keep, false)) };
            let current = (view.deadline_ms != NO_DEADLINE).then_some(view.deadline_ms as i64);
            let allowed = match condition {
                ExpireCondition::Always => true,
                ExpireCondition::Nx => current.is_none(),
                ExpireCondition::Xx => current.is_some(),
                // A key without TTL counts as an infinite TTL.
                ExpireCondition::Gt => current.is_some_and(|current| when > current),
                ExpireCondition::Lt => current.is_none_or(|current| when < current),
                ExpireCondition::XxLt => current.is_some_and(|current| when < current),
            };
            if !allowed {
                return Ok((Write::Keep, false));
            }
            if when <= now as i64 {
                return Ok((Write::Delete, true));
            }
            Ok((Write::SetDeadline(when as u64), true))
        })
    }

    /// PTTL: milliseconds left; -1 without TTL, -2 when missing.
    fn pttl(&self, key: &[u8]) -> Result<i64> {
        let now = self.now_ms();
        self.view(key, |view| match view {
            None => -2,
            Some(view) if view.deadline_ms == NO_DEADLINE => -1,
            Some(view) => view.deadline_ms.saturating_sub(now) as i64,
        })
    }

    /// TTL: seconds left, rounded as Redis rounds; -1 without TTL, -2 when missing.
    fn ttl(&self, key: &[u8]) -> Result<i64> {
        let pttl = self.pttl(key)?;
        Ok(if pttl < 0 { pttl } else { (pttl + 500) / 1000 })
    }

    /// PEXPIRETIME: the absolute deadline in ms; -1 without TTL, -2 when missing.
    fn pexpiretime(&self, key: &[u8]) -> Result<i64> {
        self.view(key, |view| match view {
            None => -2,
            Some(view) if view.deadline_ms == NO_DEADLINE => -1,
            Some(view) => view.deadline_ms as i64,
        })
    }

    /// EXPIRETIME: the absolute deadline in seconds, rounded to the nearest second as Redis's
    /// `ttlGenericCommand` rounds; -1 without TTL, -2 when missing.
    fn expiretime(&self, key: &[u8]) -> Result<i64> {
        let at = self.pexpiretime(key)?;
        Ok(if at < 0 { at } else { (at + 500) / 1000 })
    }

    /// PERSIST: removes the TTL; true when there was one.
    fn persist(&self, key: &[u8]) -> Result<bool> {
        self.update(key, |view| match view {
            Some(view) if view.deadline_ms != NO_DEADLINE => {
                Ok((Write::SetDeadline(NO_DEADLINE), true))
            }
            _ => Ok((Write::Keep, false)),
        })
    }
}

impl<A: Access + ?Sized> KeyOps for A {}
