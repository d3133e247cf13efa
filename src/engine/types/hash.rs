//! The hash type: HSET, HINCRBY, HRANDFIELD, HSCAN and friends over an `IndexMap`.
//!
//! An insertion-ordered map gives O(1) lookups like Redis's dict and, through its dense
//! `0..len` positions, O(1) uniform random picks (HRANDFIELD) and a simple scan cursor (see
//! `types::indexed` for why HSCAN walks from the end). Removal is always `swap_remove`: O(1),
//! and the scan guarantee depends on it. HGETALL therefore replies in insertion order, except
//! where a removal moved the last field into the gap, which Redis's unordered dict permits.

use indexmap::IndexMap;

use crate::engine::types::indexed;
use crate::engine::{Error, Result, SmallBytes};

#[cfg(test)]
mod tests;

type FieldMap = IndexMap<SmallBytes, SmallBytes, foldhash::fast::RandomState>;

/// A Redis hash value: fields mapped to values, both binary-safe strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HashValue {
    fields: FieldMap,
    /// Heap bytes owned by the fields and values, kept up to date on every mutation so that
    /// [`HashValue::memory_bytes`] is O(1) for maxmemory accounting.
    element_heap_bytes: usize,
}

impl HashValue {
    /// An empty hash.
    pub fn new() -> HashValue {
        HashValue::default()
    }

    /// The number of fields (HLEN).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the hash has no fields; the engine deletes the key when it becomes empty.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Estimated heap bytes held by this value: per slot of capacity, the entry (cached hash,
    /// field, value) plus the index table's `usize` and control byte, and the strings' own
    /// heap bytes. O(1).
    pub fn memory_bytes(&self) -> usize {
        let slot_bytes = size_of::<(u64, SmallBytes, SmallBytes)>() + size_of::<usize>() + 1;
        self.fields.capacity() * slot_bytes + self.element_heap_bytes
    }

    /// Sets `field` to `value` (HSET). Returns whether the field is new (HSET counts these).
    pub fn set(&mut self, field: SmallBytes, value: SmallBytes) -> bool {
        let added_heap_bytes = value.heap_bytes();
        match self.fields.get_mut(field.as_slice()) {
            Some(slot) => {
                self.element_heap_bytes -= slot.heap_bytes();
                *slot = value;
                self.element_heap_bytes += added_heap_bytes;
                false
            }
            None => {
                self.element_heap_bytes += field.heap_bytes() + added_heap_bytes;
                self.fields.insert(field, value);
                true
            }
        }
    }

    /// Sets `field` to `value` only when the field is absent (HSETNX). Returns whether it was
    /// set.
    pub fn set_if_absent(&mut self, field: SmallBytes, value: SmallBytes) -> bool {
        if self.fields.contains_key(field.as_slice()) {
            return false;
        }
        self.set(field, value)
    }

    /// The value of `field` (HGET).
    pub fn get(&self, field: &[u8]) -> Option<&SmallBytes> {
        self.fields.get(field)
    }

    /// The values of `fields`, in order, `None` for each absent one (HMGET).
    pub fn get_many<F: AsRef<[u8]>>(
        &self,
        fields: impl IntoIterator<Item = F>,
    ) -> Vec<Option<&SmallBytes>> {
        fields.into_iter().map(|field| self.fields.get(field.as_ref())).collect()
    }

    /// Removes `fields` (HDEL). Returns how many existed; a field named twice counts once.
    pub fn remove<F: AsRef<[u8]>>(&mut self, fields: impl IntoIterator<Item = F>) -> usize {
        let mut removed = 0;
        for field in fields {
            // swap_remove, never shift_remove: O(1), and HSCAN's guarantee relies on it.
            if let Some((field, value)) = self.fields.swap_remove_entry(field.as_ref()) {
                self.element_heap_bytes -= field.heap_bytes() + value.heap_bytes();
                removed += 1;
            }
        }
        removed
    }

    /// Whether `field` exists (HEXISTS).
    pub fn contains(&self, field: &[u8]) -> bool {
        self.fields.contains_key(field)
    }

    /// The fields (HKEYS).
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &SmallBytes> {
        self.fields.keys()
    }

    /// The values (HVALS), in the same order as [`HashValue::keys`].
    pub fn values(&self) -> impl ExactSizeIterator<Item = &SmallBytes> {
        self.fields.values()
    }

    /// Field/value pairs (HGETALL).
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&SmallBytes, &SmallBytes)> {
        self.fields.iter()
    }

    /// The length of `field`'s value, 0 when absent (HSTRLEN).
    pub fn strlen(&self, field: &[u8]) -> usize {
        self.fields.get(field).map_or(0, |value| value.len())
    }

    /// Adds `delta` to the integer stored at `field`, an absent field counting as 0, and
    /// stores the sum as decimal text (HINCRBY). Returns the sum.
    ///
    /// # Errors
    ///
    /// [`Error::HashNotInteger`] when the value is not an integer by Redis's strict rules (no
    /// sign `+`, no leading zeros or spaces, within `i64`); [`Error::IncrOverflow`] when the sum
    /// leaves `i64`. The hash is unchanged on error.
    pub fn incr_by(&mut self, field: &[u8], delta: i64) -> Result<i64> {
        let current = match self.fields.get(field) {
            Some(value) => parse_i64_strict(value).ok_or(Error::HashNotInteger)?,
            None => 0,
        };
        let sum = current.checked_add(delta).ok_or(Error::IncrOverflow)?;
        self.set(SmallBytes::new(field), SmallBytes::new(sum.to_string().as_bytes()));
        Ok(sum)
    }

    /// Replaces `field`'s value with what `add` computes from it (HINCRBYFLOAT), and returns
    /// the stored value.
    ///
    /// `add` receives the current value's bytes (`b"0"` when the field is absent) and returns
    /// the new value's text; the engine passes its long-double adder, so float parsing and
    /// formatting live in one place (`engine::num`).
    ///
    /// # Errors
    ///
    /// Whatever `add` returns, except that [`Error::NotFloat`] (the stored value is no float)
    /// becomes [`Error::HashNotFloat`], HINCRBYFLOAT's wording. The hash is unchanged on error.
    pub fn incr_by_float(
        &mut self,
        field: &[u8],
        add: impl FnOnce(&[u8]) -> Result<SmallBytes>,
    ) -> Result<SmallBytes> {
        let current = self.fields.get(field).map_or(&b"0"[..], SmallBytes::as_slice);
        let sum = add(current).map_err(|error| match error {
            Error::NotFloat => Error::HashNotFloat,
            other => other,
        })?;
        self.set(SmallBytes::new(field), sum.clone());
        Ok(sum)
    }

    /// One random field and its value (HRANDFIELD without a count).
    pub fn random_field(&self) -> Option<(&SmallBytes, &SmallBytes)> {
        self.fields.get_index(indexed::random_position(self.fields.len())?)
    }

    /// Random field/value pairs (HRANDFIELD with a count): `min(count, len)` distinct ones when
    /// `count` is non-negative, exactly `|count|` possibly repeated ones when negative. The
    /// reply carries the values only WITHVALUES; they come along here because they cost
    /// nothing to borrow.
    ///
    /// The result holds `|count|` pairs, so the command layer bounds `count` first (Redis
    /// refuses `i64::MIN`, and a count below `-i64::MAX / 2` WITHVALUES).
    pub fn random_fields(&self, count: i64) -> Vec<(&SmallBytes, &SmallBytes)> {
        let positions = indexed::random_positions(self.fields.len(), count);
        positions.into_iter().filter_map(|position| self.fields.get_index(position)).collect()
    }

    /// One HSCAN step: visits about `count` fields from `cursor` (0 starts a scan) and returns
    /// the next cursor (0 when the scan is complete) with the visited pairs whose field
    /// `matches` (the engine passes its MATCH glob, or accepts everything).
    ///
    /// Every field present for the whole scan is returned at least once; a field may be
    /// returned twice when others are removed meanwhile (see `types::indexed`).
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        matches: impl Fn(&[u8]) -> bool,
    ) -> (u64, Vec<(&SmallBytes, &SmallBytes)>) {
        let (next_cursor, window) = indexed::scan_window(cursor, count, self.fields.len());
        let visited = self.fields.get_range(window).into_iter().flat_map(|slice| slice.iter());
        (next_cursor, visited.filter(|(field, _)| matches(field)).collect())
    }

    /// The element heap bytes recounted from scratch, to check the running counter.
    #[cfg(test)]
    fn element_heap_bytes_recounted(&self) -> usize {
        self.fields.iter().map(|(field, value)| field.heap_bytes() + value.heap_bytes()).sum()
    }
}

impl FromIterator<(SmallBytes, SmallBytes)> for HashValue {
    /// A hash of the pairs, a later value for a field replacing an earlier one (as HSET).
    fn from_iter<I: IntoIterator<Item = (SmallBytes, SmallBytes)>>(pairs: I) -> HashValue {
        let mut hash = HashValue::new();
        for (field, value) in pairs {
            hash.set(field, value);
        }
        hash
    }
}

/// Parses a stored value as Redis's `string2ll` does for HINCRBY: optional `-`, then digits
/// with no leading zero (so "-0", "+1", "01", " 1" and "" are refused), within `i64`.
fn parse_i64_strict(text: &[u8]) -> Option<i64> {
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text.split_first()? {
        (b'-', digits) => (true, digits),
        _ => (false, text),
    };
    if !matches!(digits.first()?, b'1'..=b'9') {
        return None;
    }
    // Accumulate negatively so that i64::MIN, whose magnitude is no i64, parses too.
    let mut accumulated: i64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        accumulated = accumulated.checked_mul(10)?.checked_sub(i64::from(digit - b'0'))?;
    }
    if negative { Some(accumulated) } else { accumulated.checked_neg() }
}
