//! The list type: LPUSH, LRANGE, LPOS and friends over a `VecDeque`.
//!
//! Redis keeps lists in a quicklist of listpacks to save memory; a ring buffer of
//! [`SmallBytes`] gives the same O(1) pushes and pops at both ends and O(1) indexing (which
//! the quicklist does not have), and elements of up to 22 bytes cost no allocation.
//!
//! Indexes follow Redis: negative ones count from the tail (-1 is the last element), and
//! range commands clamp out-of-range bounds instead of failing.

use std::collections::VecDeque;

use crate::engine::{Error, Result, SmallBytes};

#[cfg(test)]
mod tests;

/// LPOS's reply to `RANK 0`, word for word.
const RANK_ZERO_ERROR: &str = "ERR RANK can't be zero: use 1 to start from the first match, \
                               2 from the second ... or use negative to start from the end of \
                               the list";

/// LPOS's reply to `RANK -9223372036854775808`, whose absolute value is no `i64`. Redis 7.0.15
/// accepts it through an overflowing negation; later versions refuse it with this text.
const RANK_RANGE_ERROR: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// A Redis list value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListValue {
    elements: VecDeque<SmallBytes>,
    /// Heap bytes owned by the elements, kept up to date on every mutation so that
    /// [`ListValue::memory_bytes`] is O(1) for maxmemory accounting.
    element_heap_bytes: usize,
}

impl ListValue {
    /// An empty list.
    pub fn new() -> ListValue {
        ListValue::default()
    }

    /// The number of elements (LLEN).
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether the list has no elements; the engine deletes the key when it becomes empty.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Estimated heap bytes held by this value: the ring buffer's capacity plus the elements'
    /// own heap bytes. O(1).
    pub fn memory_bytes(&self) -> usize {
        self.elements.capacity() * size_of::<SmallBytes>() + self.element_heap_bytes
    }

    /// The elements from head to tail.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &SmallBytes> + DoubleEndedIterator {
        self.elements.iter()
    }

    /// Pushes each element at the head in turn, so `LPUSH a b c` leaves `c b a`. Returns the
    /// new length (LPUSH's reply).
    pub fn push_front(&mut self, elements: impl IntoIterator<Item = SmallBytes>) -> usize {
        for element in elements {
            self.element_heap_bytes += element.heap_bytes();
            self.elements.push_front(element);
        }
        self.elements.len()
    }

    /// Appends each element at the tail (RPUSH). Returns the new length.
    pub fn push_back(&mut self, elements: impl IntoIterator<Item = SmallBytes>) -> usize {
        for element in elements {
            self.element_heap_bytes += element.heap_bytes();
            self.elements.push_back(element);
        }
        self.elements.len()
    }

    /// Removes and returns the head element (LPOP without a count, LMOVE's source side).
    pub fn pop_front_one(&mut self) -> Option<SmallBytes> {
        let element = self.elements.pop_front()?;
        self.element_heap_bytes -= element.heap_bytes();
        Some(element)
    }

    /// Removes and returns the tail element (RPOP without a count).
    pub fn pop_back_one(&mut self) -> Option<SmallBytes> {
        let element = self.elements.pop_back()?;
        self.element_heap_bytes -= element.heap_bytes();
        Some(element)
    }

    /// Removes up to `count` elements from the head, in head-to-tail order (LPOP with a count).
    pub fn pop_front(&mut self, count: usize) -> Vec<SmallBytes> {
        let count = count.min(self.elements.len());
        let popped: Vec<SmallBytes> = self.elements.drain(..count).collect();
        self.element_heap_bytes -= heap_bytes_of(&popped);
        popped
    }

    /// Removes up to `count` elements from the tail, tail first (RPOP with a count).
    pub fn pop_back(&mut self, count: usize) -> Vec<SmallBytes> {
        let count = count.min(self.elements.len());
        let kept = self.elements.len() - count;
        let popped: Vec<SmallBytes> = self.elements.drain(kept..).rev().collect();
        self.element_heap_bytes -= heap_bytes_of(&popped);
        popped
    }

    /// The elements between `start` and `stop`, both inclusive (LRANGE). Out-of-range bounds
    /// are clamped; an empty range gives an empty vector.
    pub fn range(&self, start: i64, stop: i64) -> Vec<SmallBytes> {
        match self.clamp_range(start, stop) {
            Some((first, last)) => self.elements.range(first..=last).cloned().collect(),
            None => Vec::new(),
        }
    }

    /// The element at `index` (LINDEX), negative indexes counting from the tail.
    pub fn index(&self, index: i64) -> Option<&SmallBytes> {
        self.position_of(index).map(|position| &self.elements[position])
    }

    /// Replaces the element at `index` (LSET).
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] when no element is at `index`.
    pub fn set(&mut self, index: i64, value: SmallBytes) -> Result<()> {
        let position = self.position_of(index).ok_or(Error::IndexOutOfRange)?;
        let slot = &mut self.elements[position];
        self.element_heap_bytes = self.element_heap_bytes - slot.heap_bytes() + value.heap_bytes();
        *slot = value;
        Ok(())
    }

    /// Inserts `value` before or after the first element equal to `pivot`, searching from the
    /// head (LINSERT). Returns the new length, or `None` when `pivot` is absent (LINSERT
    /// replies -1 then).
    pub fn insert(&mut self, before: bool, pivot: &[u8], value: SmallBytes) -> Option<usize> {
        let found = self.elements.iter().position(|element| element.as_slice() == pivot)?;
        let position = if before { found } else { found + 1 };
        self.element_heap_bytes += value.heap_bytes();
        self.elements.insert(position, value);
        Some(self.elements.len())
    }

    /// Removes elements equal to `value` (LREM): the first `count` from the head when `count`
    /// is positive, the last `|count|` from the tail when negative, all of them when zero.
    /// Returns how many were removed.
    pub fn remove(&mut self, count: i64, value: &[u8]) -> usize {
        // 0 means no limit; usize::MAX is never reached by a real list.
        let limit = match count.unsigned_abs() {
            0 => usize::MAX,
            limit => usize::try_from(limit).unwrap_or(usize::MAX),
        };
        let mut removed = 0;
        let mut freed_heap_bytes = 0;
        if count >= 0 {
            self.elements.retain(|element| {
                let drop = removed < limit && element.as_slice() == value;
                if drop {
                    removed += 1;
                    freed_heap_bytes += element.heap_bytes();
                }
                !drop
            });
        } else {
            // `retain` walks from the head, so for the tail case mark positions first.
            let mut doomed = vec![false; self.elements.len()];
            for (position, element) in self.elements.iter().enumerate().rev() {
                if removed == limit {
                    break;
                }
                if element.as_slice() == value {
                    doomed[position] = true;
                    removed += 1;
                    freed_heap_bytes += element.heap_bytes();
                }
            }
            let mut position = 0;
            self.elements.retain(|_| {
                position += 1;
                !doomed[position - 1]
            });
        }
        self.element_heap_bytes -= freed_heap_bytes;
        removed
    }

    /// Keeps only the elements between `start` and `stop`, both inclusive, with LRANGE's
    /// clamping (LTRIM). An empty range empties the list.
    pub fn trim(&mut self, start: i64, stop: i64) {
        match self.clamp_range(start, stop) {
            Some((first, last)) => {
                let tail_removed = self.elements.drain(last + 1..).map(|e| e.heap_bytes());
                self.element_heap_bytes -= tail_removed.sum::<usize>();
                let head_removed = self.elements.drain(..first).map(|e| e.heap_bytes());
                self.element_heap_bytes -= head_removed.sum::<usize>();
            }
            None => {
                self.elements.clear();
                self.element_heap_bytes = 0;
            }
        }
    }

    /// The positions of elements equal to `element` (LPOS), as head-based indexes.
    ///
    /// `rank` picks the first match to report: 1 is the first from the head, 2 the second,
    /// -1 the first from the tail (and then matches are reported tail first). `count` is the
    /// most positions to return, 0 meaning all. `maxlen` is the most elements to compare, 0
    /// meaning the whole list. Without COUNT the command replies with the first position (or
    /// nil), so the caller passes `count` 1.
    ///
    /// # Errors
    ///
    /// `rank` 0 and `i64::MIN` are refused with Redis's error lines.
    pub fn position(
        &self,
        element: &[u8],
        rank: i64,
        count: usize,
        maxlen: usize,
    ) -> Result<Vec<usize>> {
        if rank == 0 {
            return Err(Error::Other(RANK_ZERO_ERROR));
        }
        if rank == i64::MIN {
            return Err(Error::Other(RANK_RANGE_ERROR));
        }
        let skip = usize::try_from(rank.unsigned_abs() - 1).unwrap_or(usize::MAX);
        let compared = if maxlen == 0 { self.elements.len() } else { maxlen };
        let wanted = if count == 0 { usize::MAX } else { count };
        let matches = |(_, candidate): &(usize, &SmallBytes)| candidate.as_slice() == element;
        let enumerated = self.elements.iter().enumerate();
        let positions = if rank > 0 {
            let found = enumerated.take(compared).filter(matches);
            found.skip(skip).take(wanted).map(|(position, _)| position).collect()
        } else {
            let found = enumerated.rev().take(compared).filter(matches);
            found.skip(skip).take(wanted).map(|(position, _)| position).collect()
        };
        Ok(positions)
    }

    /// The head-based position of `index`, negative indexes counting from the tail.
    fn position_of(&self, index: i64) -> Option<usize> {
        let len = self.elements.len() as i64;
        let position = if index < 0 { index.checked_add(len)? } else { index };
        (0..len).contains(&position).then_some(position as usize)
    }

    /// LRANGE/LTRIM bounds as inclusive head-based positions, or `None` for an empty range.
    fn clamp_range(&self, start: i64, stop: i64) -> Option<(usize, usize)> {
        // A list never holds i64::MAX elements, so `start + len` cannot overflow.
        let len = self.elements.len() as i64;
        let start = if start < 0 { (start + len).max(0) } else { start };
        let stop = if stop < 0 { stop + len } else { stop };
        if start > stop || start >= len {
            return None;
        }
        Some((start as usize, stop.min(len - 1) as usize))
    }

    /// The element heap bytes recounted from scratch, to check the running counter.
    #[cfg(test)]
    fn element_heap_bytes_recounted(&self) -> usize {
        self.elements.iter().map(SmallBytes::heap_bytes).sum()
    }
}

impl FromIterator<SmallBytes> for ListValue {
    /// A list of the elements in order, head first (as RPUSH would build it).
    fn from_iter<I: IntoIterator<Item = SmallBytes>>(elements: I) -> ListValue {
        let mut list = ListValue::new();
        list.push_back(elements);
        list
    }
}

fn heap_bytes_of(elements: &[SmallBytes]) -> usize {
    elements.iter().map(SmallBytes::heap_bytes).sum()
}
