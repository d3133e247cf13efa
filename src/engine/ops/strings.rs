//! String commands: GET, SET and its options, the INCR family, APPEND, ranges, MGET/MSET.

use crate::engine::access::{Access, KeyView, ValueRef, Write};
use crate::engine::bytes::SmallBytes;
use crate::engine::entry::{NO_DEADLINE, StrValue};
use crate::engine::error::{Error, Result};
use crate::engine::num;
use crate::engine::ops::expiry::Expiry;

/// Redis's `proto-max-bulk-len` default: the longest string SETRANGE/APPEND may build.
pub const MAX_STRING_BYTES: usize = 512 * 1024 * 1024;

/// SET's NX / XX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetCondition {
    /// Always set.
    #[default]
    Always,
    /// Only if the key does not exist.
    Nx,
    /// Only if the key exists.
    Xx,
}

/// SET's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetOptions {
    /// NX / XX.
    pub condition: SetCondition,
    /// EX / PX / EXAT / PXAT.
    pub expiry: Option<Expiry>,
    /// KEEPTTL: keep the key's current TTL.
    pub keep_ttl: bool,
    /// GET: return the previous value.
    pub get: bool,
}

/// What SET did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOutcome {
    /// Whether the value was stored (false when NX/XX refused it).
    pub written: bool,
    /// The previous value, when `get` was asked for (`None`: the key did not exist).
    pub previous: Option<Vec<u8>>,
}

/// GETEX's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetExOption {
    /// Set a new TTL.
    Expire(Expiry),
    /// PERSIST: remove the TTL.
    Persist,
}

/// The string behind a view, or `WrongType`.
fn string_of<'a>(view: Option<KeyView<'a>>) -> Result<Option<&'a StrValue>> {
    match view.map(|view| view.value) {
        None => Ok(None),
        Some(ValueRef::Str(value)) => Ok(Some(value)),
        Some(ValueRef::Collection(_)) => Err(Error::WrongType),
    }
}

fn raw(bytes: &[u8]) -> StrValue {
    StrValue::Raw(SmallBytes::new(bytes))
}

/// String commands, for every [`Access`].
pub trait StringOps: Access {
    /// GET: the value, or `None`.
    ///
    /// ```
    /// use corekv::{Engine, prelude::*};
    /// let engine = Engine::builder().shards(2).build();
    /// let db = engine.db(0);
    /// assert_eq!(db.get(b"k").unwrap(), None);
    /// db.set(b"k", b"v").unwrap();
    /// assert_eq!(db.get(b"k").unwrap(), Some(b"v".to_vec()));
    /// ```
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.view(key, |view| Ok(string_of(view)?.map(StrValue::to_vec)))?
    }

    /// GET into a caller's buffer (no allocation when it has room). Returns false for a
    /// missing key.
    fn get_into(&self, key: &[u8], out: &mut Vec<u8>) -> Result<bool> {
        self.view(key, |view| Ok(string_of(view)?.map(|value| value.write_to(out)).is_some()))?
    }

    /// SET key value, without options.
    fn set(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let value = raw(value);
        self.update(key, |_| {
            Ok((Write::Put { value: value.clone(), deadline_ms: NO_DEADLINE }, ()))
        })
    }

    /// SET with NX/XX, EX/PX/EXAT/PXAT, KEEPTTL and GET.
    fn set_with(&self, key: &[u8], value: &[u8], options: SetOptions) -> Result<SetOutcome> {
        let now = self.now_ms();
        let new_deadline = match options.expiry {
            Some(expiry) => Some(expiry.deadline_ms(now, "set")?),
            None => None,
        };
        let value = raw(value);
        self.update(key, |view| {
            let previous = if options.get { string_of(view)?.map(StrValue::to_vec) } else { None };
            let exists = view.is_some();
            let allowed = match options.condition {
                SetCondition::Always => true,
                SetCondition::Nx => !exists,
                SetCondition::Xx => exists,
            };
            if !allowed {
                return Ok((Write::Keep, SetOutcome { written: false, previous }));
            }
            let deadline_ms = match (new_deadline, options.keep_ttl, view) {
                (Some(deadline), _, _) => deadline,
                (None, true, Some(view)) => view.deadline_ms,
                _ => NO_DEADLINE,
            };
            let write = Write::Put { value: value.clone(), deadline_ms };
            Ok((write, SetOutcome { written: true, previous }))
        })
    }

    /// SETNX: set only if missing; true when set.
    fn setnx(&self, key: &[u8], value: &[u8]) -> Result<bool> {
        let options = SetOptions { condition: SetCondition::Nx, ..SetOptions::default() };
        Ok(self.set_with(key, value, options)?.written)
    }

    /// SETEX / PSETEX: set with a relative TTL (`command` names the error's command).
    fn set_expiring(
        &self,
        key: &[u8],
        value: &[u8],
        expiry: Expiry,
        command: &'static str,
    ) -> Result<()> {
        let deadline_ms = expiry.deadline_ms(self.now_ms(), command)?;
        let value = raw(value);
        self.update(key, |_| Ok((Write::Put { value: value.clone(), deadline_ms }, ())))
    }

    /// GETSET: set and return the previous value.
    fn getset(&self, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>> {
        let options = SetOptions { get: true, ..SetOptions::default() };
        Ok(self.set_with(key, value, options)?.previous)
    }

    /// GETDEL: return the value and delete the key.
    fn getdel(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.update(key, |view| match string_of(view)? {
            None => Ok((Write::Keep, None)),
            Some(value) => Ok((Write::Delete, Some(value.to_vec()))),
        })
    }

    /// GETEX: return the value and optionally change its TTL.
    fn getex(&self, key: &[u8], option: Option<GetExOption>) -> Result<Option<Vec<u8>>> {
        let now = self.now_ms();
        let deadline = match option {
            Some(GetExOption::Expire(expiry)) => Some(expiry.deadline_ms(now, "getex")?),
            Some(GetExOption::Persist) => Some(NO_DEADLINE),
            None => None,
        };
        self.update(key, |view| {
            let Some(value) = string_of(view)? else { return Ok((Write::Keep, None)) };
            let write = match deadline {
                Some(deadline) if deadline != NO_DEADLINE && deadline <= now => Write::Delete,
                Some(deadline) if Some(deadline) != view.map(|view| view.deadline_ms) => {
                    Write::SetDeadline(deadline)
                }
                _ => Write::Keep,
            };
            Ok((write, Some(value.to_vec())))
        })
    }

    /// STRLEN.
    fn strlen(&self, key: &[u8]) -> Result<usize> {
        self.view(key, |view| Ok(string_of(view)?.map_or(0, StrValue::len)))?
    }

    /// APPEND: returns the new length.
    fn append(&self, key: &[u8], suffix: &[u8]) -> Result<usize> {
        self.update(key, |view| {
            let current = string_of(view)?;
            let mut bytes = current.map(StrValue::to_vec).unwrap_or_default();
            if bytes.len() + suffix.len() > MAX_STRING_BYTES {
                return Err(Error::StringTooLong);
            }
            bytes.extend_from_slice(suffix);
            let len = bytes.len();
            let deadline_ms = view.map_or(NO_DEADLINE, |view| view.deadline_ms);
            Ok((Write::Put { value: StrValue::Raw(bytes.into()), deadline_ms }, len))
        })
    }

    /// GETRANGE with Redis's index rules (negative from the end, clamped, inclusive).
    fn getrange(&self, key: &[u8], start: i64, end: i64) -> Result<Vec<u8>> {
        self.view(key, |view| {
            let Some(value) = string_of(view)? else { return Ok(Vec::new()) };
            let bytes = value.to_vec();
            Ok(substring(&bytes, start, end).to_vec())
        })?
    }

    /// SETRANGE: overwrite from `offset`, zero-padding; returns the new length.
    fn setrange(&self, key: &[u8], offset: i64, patch: &[u8]) -> Result<usize> {
        if offset < 0 {
            return Err(Error::Other("ERR offset is out of range"));
        }
        let offset = offset as usize;
        self.update(key, |view| {
            let current = string_of(view)?;
            if patch.is_empty() {
                return Ok((Write::Keep, current.map_or(0, StrValue::len)));
            }
            if offset.saturating_add(patch.len()) > MAX_STRING_BYTES {
                return Err(Error::StringTooLong);
            }
            let mut bytes = current.map(StrValue::to_vec).unwrap_or_default();
            if bytes.len() < offset + patch.len() {
                bytes.resize(offset + patch.len(), 0);
            }
            bytes[offset..offset + patch.len()].copy_from_slice(patch);
            let len = bytes.len();
            let deadline_ms = view.map_or(NO_DEADLINE, |view| view.deadline_ms);
            Ok((Write::Put { value: StrValue::Raw(bytes.into()), deadline_ms }, len))
        })
    }

    /// INCRBY (INCR, DECR and DECRBY are this with 1, -1 and a negated amount).
    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        self.update(key, |view| {
            let current = match string_of(view)? {
                None => 0,
                Some(value) => value.as_i64().ok_or(Error::NotInteger)?,
            };
            let next = current.checked_add(delta).ok_or(Error::IncrOverflow)?;
            let deadline_ms = view.map_or(NO_DEADLINE, |view| view.deadline_ms);
            Ok((Write::Put { value: StrValue::Int(next), deadline_ms }, next))
        })
    }

    /// INCR.
    fn incr(&self, key: &[u8]) -> Result<i64> {
        self.incr_by(key, 1)
    }

    /// DECR.
    fn decr(&self, key: &[u8]) -> Result<i64> {
        self.incr_by(key, -1)
    }

    /// DECRBY (refuses `i64::MIN`, whose negation overflows, as Redis does).
    fn decr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        let negated = delta.checked_neg().ok_or(Error::Other("ERR decrement would overflow"))?;
        self.incr_by(key, negated)
    }

    /// INCRBYFLOAT: computed in long double and printed as Redis does; returns the new value.
    fn incr_by_float(&self, key: &[u8], increment: &[u8]) -> Result<Vec<u8>> {
        self.update(key, |view| {
            let current = string_of(view)?.map(StrValue::to_vec);
            let next = num::incr_by_float(current.as_deref().unwrap_or(b"0"), increment)?;
            let deadline_ms = view.map_or(NO_DEADLINE, |view| view.deadline_ms);
            let reply = next.to_vec();
            Ok((Write::Put { value: StrValue::Raw(next), deadline_ms }, reply))
        })
    }

    /// MGET: every value (`None` for missing keys and non-strings), read atomically.
    fn mget(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        // A non-string value reads as nil in MGET, not as an error.
        fn read_all<A: Access + ?Sized>(
            access: &A,
            keys: &[&[u8]],
        ) -> Result<Vec<Option<Vec<u8>>>> {
            keys.iter().map(|key| Ok(access.get(key).unwrap_or(None))).collect()
        }
        if keys.len() == 1 {
            return read_all(self, keys);
        }
        self.atomically(keys, |txn| read_all(txn, keys))
    }

    /// MSET: set every pair, atomically.
    fn mset(&self, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        match pairs {
            // One key needs no transaction: a single SET is atomic.
            [(key, value)] => self.set(key, value),
            _ => self.set_strings(pairs),
        }
    }

    /// MSETNX: set every pair only if none of the keys exists; true when set.
    fn msetnx(&self, pairs: &[(&[u8], &[u8])]) -> Result<bool> {
        let keys: Vec<&[u8]> = pairs.iter().map(|(key, _)| *key).collect();
        self.atomically(&keys, |txn| {
            for key in &keys {
                if txn.view(key, |view| view.is_some())? {
                    return Ok(false);
                }
            }
            for (key, value) in pairs {
                txn.set(key, value)?;
            }
            Ok(true)
        })
    }
}

impl<A: Access + ?Sized> StringOps for A {}

/// Redis's GETRANGE slice of `bytes` (shared with the list and bit commands' index rules).
pub(crate) fn substring(bytes: &[u8], start: i64, end: i64) -> &[u8] {
    let len = bytes.len() as i64;
    if len == 0 || (start < 0 && end < 0 && start > end) {
        return &[];
    }
    let mut start = if start < 0 { (len + start).max(0) } else { start };
    let mut end = if end < 0 { (len + end).max(0) } else { end };
    end = end.min(len - 1);
    if start > end || start >= len {
        return &[];
    }
    start = start.max(0);
    &bytes[start as usize..=end as usize]
}

#[cfg(test)]
mod tests {
    use super::substring;

    #[test]
    fn substring_follows_getrange() {
        let text = b"This is a string";
        assert_eq!(substring(text, 0, 3), b"This");
        assert_eq!(substring(text, -3, -1), b"ing");
        assert_eq!(substring(text, 0, -1), text);
        assert_eq!(substring(text, 10, 100), b"string");
        assert_eq!(substring(text, 5, 3), b"");
        assert_eq!(substring(text, -1, -5), b"");
        assert_eq!(substring(b"", 0, -1), b"");
        assert_eq!(substring(text, -100, 2), b"Thi");
    }
}
