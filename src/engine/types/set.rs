//! The set type: SADD, SPOP, SRANDMEMBER, SSCAN and the set algebra (SINTER, SUNION, SDIFF,
//! SINTERCARD) over an `IndexSet`.
//!
//! As for the hash, the dense `0..len` positions of an `IndexSet` make random picks O(1)
//! (SPOP and SRANDMEMBER are the reason this is not a `HashSet`) and give SSCAN a cursor that
//! walks from the end (see `types::indexed`). Removal is always `swap_remove`. Redis's intset
//! encoding for all-integer sets is not reproduced: it saves memory, not semantics.

use indexmap::IndexSet;

use crate::engine::SmallBytes;
use crate::engine::types::indexed;

#[cfg(test)]
mod tests;

type MemberSet = IndexSet<SmallBytes, foldhash::fast::RandomState>;

/// A Redis set value: distinct binary-safe strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetValue {
    members: MemberSet,
    /// Heap bytes owned by the members, kept up to date on every mutation so that
    /// [`SetValue::memory_bytes`] is O(1) for maxmemory accounting.
    element_heap_bytes: usize,
}

impl SetValue {
    /// An empty set.
    pub fn new() -> SetValue {
        SetValue::default()
    }

    /// The number of members (SCARD).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the set has no members; the engine deletes the key when it becomes empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Estimated heap bytes held by this value: per slot of capacity, the entry (cached hash
    /// and member) plus the index table's `usize` and control byte, and the members' own heap
    /// bytes. O(1).
    pub fn memory_bytes(&self) -> usize {
        let slot_bytes = size_of::<(u64, SmallBytes)>() + size_of::<usize>() + 1;
        self.members.capacity() * slot_bytes + self.element_heap_bytes
    }

    /// Adds `members` (SADD). Returns how many were not already present.
    pub fn add(&mut self, members: impl IntoIterator<Item = SmallBytes>) -> usize {
        let mut added = 0;
        for member in members {
            let heap_bytes = member.heap_bytes();
            if self.members.insert(member) {
                self.element_heap_bytes += heap_bytes;
                added += 1;
            }
        }
        added
    }

    /// Removes `members` (SREM). Returns how many were present; a member named twice counts
    /// once.
    pub fn remove<M: AsRef<[u8]>>(&mut self, members: impl IntoIterator<Item = M>) -> usize {
        let mut removed = 0;
        for member in members {
            // swap_remove, never shift_remove: O(1), and SSCAN's guarantee relies on it.
            if let Some(member) = self.members.swap_take(member.as_ref()) {
                self.element_heap_bytes -= member.heap_bytes();
                removed += 1;
            }
        }
        removed
    }

    /// Whether `member` is in the set (SISMEMBER).
    pub fn contains(&self, member: &[u8]) -> bool {
        self.members.contains(member)
    }

    /// The members (SMEMBERS), in no meaningful order.
    pub fn members(&self) -> impl ExactSizeIterator<Item = &SmallBytes> {
        self.members.iter()
    }

    /// Removes and returns one random member (SPOP without a count).
    pub fn pop_one(&mut self) -> Option<SmallBytes> {
        let position = indexed::random_position(self.members.len())?;
        let member = self.members.swap_remove_index(position)?;
        self.element_heap_bytes -= member.heap_bytes();
        Some(member)
    }

    /// Removes and returns `min(count, len)` distinct random members (SPOP with a count).
    pub fn pop(&mut self, count: usize) -> Vec<SmallBytes> {
        if count >= self.members.len() {
            // Redis hands over the whole set when asked for at least all of it.
            self.element_heap_bytes = 0;
            return std::mem::take(&mut self.members).into_iter().collect();
        }
        (0..count).filter_map(|_| self.pop_one()).collect()
    }

    /// One random member (SRANDMEMBER without a count).
    pub fn random_member(&self) -> Option<&SmallBytes> {
        self.members.get_index(indexed::random_position(self.members.len())?)
    }

    /// Random members (SRANDMEMBER with a count): `min(count, len)` distinct ones when `count`
    /// is non-negative, exactly `|count|` possibly repeated ones when negative.
    ///
    /// The result holds `|count|` members, so the command layer bounds `count` first (Redis
    /// refuses `i64::MIN`).
    pub fn random_members(&self, count: i64) -> Vec<&SmallBytes> {
        let positions = indexed::random_positions(self.members.len(), count);
        positions.into_iter().filter_map(|position| self.members.get_index(position)).collect()
    }

    /// One SSCAN step: visits about `count` members from `cursor` (0 starts a scan) and
    /// returns the next cursor (0 when the scan is complete) with the visited members that
    /// `matches` accepts (the engine passes its MATCH glob, or accepts everything).
    ///
    /// Every member present for the whole scan is returned at least once; a member may be
    /// returned twice when others are removed meanwhile (see `types::indexed`).
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        matches: impl Fn(&[u8]) -> bool,
    ) -> (u64, Vec<&SmallBytes>) {
        let (next_cursor, window) = indexed::scan_window(cursor, count, self.members.len());
        let visited = self.members.get_range(window).into_iter().flat_map(|slice| slice.iter());
        (next_cursor, visited.filter(|member| matches(member)).collect())
    }

    /// The members of every set (SINTER). `None` stands for a missing key, an empty set, so
    /// any `None` makes the result empty; no sets at all give an empty set too.
    pub fn intersection(sets: &[Option<&SetValue>]) -> SetValue {
        match smallest_first(sets) {
            Some((smallest, others)) => smallest
                .members
                .iter()
                .filter(|member| others.iter().all(|set| set.contains(member)))
                .cloned()
                .collect(),
            None => SetValue::new(),
        }
    }

    /// How many members every set shares (SINTERCARD), counting no further than `limit`
    /// (0 meaning no limit), so a large intersection can be cut short.
    pub fn intersection_cardinality(sets: &[Option<&SetValue>], limit: usize) -> usize {
        let Some((smallest, others)) = smallest_first(sets) else {
            return 0;
        };
        let limit = if limit == 0 { usize::MAX } else { limit };
        let shared = smallest.members.iter().filter(|m| others.iter().all(|set| set.contains(m)));
        shared.take(limit).count()
    }

    /// The members of any set (SUNION); `None`s (missing keys) add nothing.
    pub fn union(sets: &[Option<&SetValue>]) -> SetValue {
        let mut union = SetValue::new();
        for set in sets.iter().flatten() {
            union.add(set.members.iter().cloned());
        }
        union
    }

    /// The members of the first set that are in none of the others (SDIFF); a `None` first set
    /// (a missing key) gives an empty result.
    pub fn difference(sets: &[Option<&SetValue>]) -> SetValue {
        let Some((Some(first), others)) = sets.split_first() else {
            return SetValue::new();
        };
        first
            .members
            .iter()
            .filter(|member| !others.iter().flatten().any(|set| set.contains(member)))
            .cloned()
            .collect()
    }

    /// The element heap bytes recounted from scratch, to check the running counter.
    #[cfg(test)]
    fn element_heap_bytes_recounted(&self) -> usize {
        self.members.iter().map(SmallBytes::heap_bytes).sum()
    }
}

impl FromIterator<SmallBytes> for SetValue {
    /// A set of the distinct members (as SADD would build it).
    fn from_iter<I: IntoIterator<Item = SmallBytes>>(members: I) -> SetValue {
        let mut set = SetValue::new();
        set.add(members);
        set
    }
}

/// For an intersection: the smallest set, whose members are the only candidates (as Redis
/// does, it bounds the work), and the other sets. `None` when the intersection is surely
/// empty: no sets, or a missing one.
fn smallest_first<'a>(sets: &[Option<&'a SetValue>]) -> Option<(&'a SetValue, Vec<&'a SetValue>)> {
    let mut others: Vec<&SetValue> = sets.iter().copied().collect::<Option<_>>()?;
    let smallest_index = (0..others.len()).min_by_key(|&index| others[index].len())?;
    let smallest = others.swap_remove(smallest_index);
    Some((smallest, others))
}
