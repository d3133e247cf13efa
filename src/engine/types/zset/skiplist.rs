//! The ordered half of a sorted set: Redis's skiplist with spans, in safe Rust.
//!
//! # Arena
//!
//! Nodes live in one `Vec` and link to each other by `u32` slot index ([`NIL`] = none), so the
//! structure needs no `unsafe` and no per-link pointer. Slot 0 is the head, which has all
//! [`MAX_LEVEL`] levels and no element. A removed node's slot goes on a free list (threaded
//! through `level0.forward`) and is reused by the next insert. A live element never changes
//! slot, not even when its score changes: the member index in `mod.rs` stores slots, and SCAN
//! uses them as a stable cursor.
//!
//! # Order and spans
//!
//! Elements are ordered by `(score, member bytes)`, as Redis's `zslInsert` orders them.
//! `span` on a link counts how many level-0 steps it jumps, so summing spans along a search
//! path gives an element's 1-based rank in O(log n) (Redis's `zslGetRank`). A link to [`NIL`]
//! spans the steps to the last element, as Redis's arithmetic keeps it.
//!
//! # Levels
//!
//! A node's height is 1 plus one more level with probability 1/4 each (Redis's
//! `ZSKIPLIST_P = 0.25`), capped at [`MAX_LEVEL`] (`ZSKIPLIST_MAXLEVEL = 32`).

use crate::engine::SmallBytes;

/// "No node": the end of a level, or no backward neighbour.
pub(super) const NIL: u32 = u32::MAX;
/// The head node's slot.
const HEAD: u32 = 0;
/// Redis's `ZSKIPLIST_MAXLEVEL`: enough levels for 4^32 elements.
pub(super) const MAX_LEVEL: usize = 32;

/// One forward link of a node.
#[derive(Clone, Copy, Debug)]
struct Level {
    forward: u32,
    /// Level-0 steps from this node to `forward`.
    span: u32,
}

const UNLINKED: Level = Level { forward: NIL, span: 0 };

/// A skiplist node. The first level is inline because three nodes in four have only that
/// one; higher levels are a boxed slice (empty boxes do not allocate).
#[derive(Clone, Debug)]
struct Node {
    member: SmallBytes,
    /// NaN marks a free slot: no live score is NaN (`add` refuses NaN).
    score: f64,
    backward: u32,
    level0: Level,
    upper: Box<[Level]>,
}

impl Node {
    fn new(member: SmallBytes, score: f64, height: usize) -> Node {
        Node {
            member,
            score,
            backward: NIL,
            level0: UNLINKED,
            upper: vec![UNLINKED; height - 1].into_boxed_slice(),
        }
    }

    fn height(&self) -> usize {
        1 + self.upper.len()
    }

    fn level(&self, i: usize) -> &Level {
        if i == 0 { &self.level0 } else { &self.upper[i - 1] }
    }

    fn level_mut(&mut self, i: usize) -> &mut Level {
        if i == 0 { &mut self.level0 } else { &mut self.upper[i - 1] }
    }

    fn is_free(&self) -> bool {
        self.score.is_nan()
    }
}

/// `(score, member)` strictly before `(other_score, other_member)`: the sorted-set order.
fn precedes(score: f64, member: &[u8], other_score: f64, other_member: &[u8]) -> bool {
    score < other_score || (score == other_score && member < other_member)
}

/// Bytes of one level in a node's boxed upper levels.
const LEVEL_BYTES: usize = std::mem::size_of::<Level>();

/// An arena skiplist of `(member, score)` ordered by score, then member.
#[derive(Clone, Debug)]
pub(super) struct SkipList {
    nodes: Vec<Node>,
    free_head: u32,
    tail: u32,
    len: u32,
    /// Levels in use: the head's links at `level..` are all NIL.
    level: usize,
    /// xorshift64 state for node heights; its own generator keeps inserts cheap and `Clone`
    /// deterministic.
    level_rng: u64,
    /// Heap bytes of all boxed upper levels (head included), for `heap_bytes`.
    upper_level_bytes: usize,
    /// Heap bytes owned by live members, for `heap_bytes`.
    member_heap_bytes: usize,
}

impl Default for SkipList {
    fn default() -> Self {
        SkipList::new()
    }
}

impl SkipList {
    /// An empty list: only the head.
    pub(super) fn new() -> SkipList {
        SkipList {
            nodes: vec![Node::new(SmallBytes::EMPTY, 0.0, MAX_LEVEL)],
            free_head: NIL,
            tail: NIL,
            len: 0,
            level: 1,
            // Any non-zero seed; heights only need to be independent of the elements.
            level_rng: rand::random::<u64>() | 1,
            upper_level_bytes: (MAX_LEVEL - 1) * LEVEL_BYTES,
            member_heap_bytes: 0,
        }
    }

    pub(super) fn len(&self) -> u64 {
        u64::from(self.len)
    }

    /// Heap bytes held: the arena's capacity, boxed levels and long members.
    pub(super) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.upper_level_bytes
            + self.member_heap_bytes
    }

    pub(super) fn member(&self, slot: u32) -> &SmallBytes {
        &self.nodes[slot as usize].member
    }

    pub(super) fn score(&self, slot: u32) -> f64 {
        self.nodes[slot as usize].score
    }

    /// The first element's slot, or NIL.
    pub(super) fn first(&self) -> u32 {
        self.nodes[HEAD as usize].level0.forward
    }

    /// The last element's slot, or NIL.
    pub(super) fn last(&self) -> u32 {
        self.tail
    }

    pub(super) fn next(&self, slot: u32) -> u32 {
        self.nodes[slot as usize].level0.forward
    }

    pub(super) fn prev(&self, slot: u32) -> u32 {
        self.nodes[slot as usize].backward
    }

    /// Number of arena slots, the bound of a SCAN cursor.
    pub(super) fn slot_count(&self) -> usize {
        self.nodes.len()
    }

    /// The element in `slot` if the slot holds one (not the head, not free).
    pub(super) fn live_slot(&self, slot: usize) -> Option<(&SmallBytes, f64)> {
        let node = self.nodes.get(slot).filter(|node| slot != HEAD as usize && !node.is_free())?;
        Some((&node.member, node.score))
    }

    fn random_height(&mut self) -> usize {
        let mut x = self.level_rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.level_rng = x;
        // Each pair of low bits is zero with probability 1/4: one more level per such pair.
        (1 + (x.trailing_zeros() / 2) as usize).min(MAX_LEVEL)
    }

    /// Inserts a new element (the member must not be present) and returns its slot.
    pub(super) fn insert(&mut self, member: SmallBytes, score: f64) -> u32 {
        debug_assert!(!score.is_nan());
        let height = self.random_height();
        self.member_heap_bytes += member.heap_bytes();
        self.upper_level_bytes += (height - 1) * LEVEL_BYTES;
        let node = Node::new(member, score, height);
        let slot = if self.free_head == NIL {
            assert!(self.nodes.len() < NIL as usize, "sorted set exceeds 2^32 - 1 elements");
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        } else {
            let slot = self.free_head;
            self.free_head = self.nodes[slot as usize].level0.forward;
            self.nodes[slot as usize] = node;
            slot
        };
        self.link(slot);
        slot
    }

    /// Removes the element in `slot`, frees the slot and returns the member and score.
    pub(super) fn remove(&mut self, slot: u32) -> (SmallBytes, f64) {
        self.unlink(slot);
        let free_head = self.free_head;
        let node = &mut self.nodes[slot as usize];
        let member = std::mem::take(&mut node.member);
        let score = std::mem::replace(&mut node.score, f64::NAN);
        self.upper_level_bytes -= node.upper.len() * LEVEL_BYTES;
        node.upper = Box::default();
        node.level0 = Level { forward: free_head, span: 0 };
        node.backward = NIL;
        self.free_head = slot;
        self.member_heap_bytes -= member.heap_bytes();
        (member, score)
    }

    /// Changes the score of the element in `slot`, keeping its slot (Redis's
    /// `zslUpdateScore`: in place when the order does not change, else unlink and relink).
    pub(super) fn update_score(&mut self, slot: u32, new_score: f64) {
        debug_assert!(!new_score.is_nan());
        let node = &self.nodes[slot as usize];
        let backward_ok = node.backward == NIL || self.score(node.backward) < new_score;
        let forward_ok = node.level0.forward == NIL || self.score(node.level0.forward) > new_score;
        if backward_ok && forward_ok {
            self.nodes[slot as usize].score = new_score;
            return;
        }
        self.unlink(slot);
        self.nodes[slot as usize].score = new_score;
        self.link(slot);
    }

    /// The last node before `(score, member)` at every level: where an element with that key
    /// is linked, and the rank of each of those nodes.
    fn search_path(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i + 1 == self.level { 0 } else { rank[i + 1] };
            loop {
                let link = *self.nodes[x as usize].level(i);
                if link.forward == NIL {
                    break;
                }
                let next = &self.nodes[link.forward as usize];
                if !precedes(next.score, &next.member, score, member) {
                    break;
                }
                rank[i] += link.span;
                x = link.forward;
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// Links the detached node in `slot` at its key's position (Redis's `zslInsert`).
    fn link(&mut self, slot: u32) {
        let node = &self.nodes[slot as usize];
        let (score, height) = (node.score, node.height());
        let (mut update, mut rank) = self.search_path(score, node.member.as_slice());
        if height > self.level {
            for i in self.level..height {
                rank[i] = 0;
                update[i] = HEAD;
                self.nodes[HEAD as usize].level_mut(i).span = self.len;
            }
            self.level = height;
        }
        for i in 0..height {
            let before = *self.nodes[update[i] as usize].level(i);
            let steps_before = rank[0] - rank[i];
            *self.nodes[slot as usize].level_mut(i) =
                Level { forward: before.forward, span: before.span - steps_before };
            *self.nodes[update[i] as usize].level_mut(i) =
                Level { forward: slot, span: steps_before + 1 };
        }
        for (i, &node) in update.iter().enumerate().take(self.level).skip(height) {
            self.nodes[node as usize].level_mut(i).span += 1;
        }
        self.nodes[slot as usize].backward = if update[0] == HEAD { NIL } else { update[0] };
        match self.nodes[slot as usize].level0.forward {
            NIL => self.tail = slot,
            next => self.nodes[next as usize].backward = slot,
        }
        self.len += 1;
    }

    /// Detaches the node in `slot` from every level (Redis's `zslDeleteNode`), leaving its
    /// contents in place.
    fn unlink(&mut self, slot: u32) {
        let node = &self.nodes[slot as usize];
        let (update, _) = self.search_path(node.score, node.member.as_slice());
        debug_assert_eq!(self.nodes[update[0] as usize].level0.forward, slot);
        for (i, &before) in update.iter().enumerate().take(self.level) {
            if self.nodes[before as usize].level(i).forward == slot {
                // Only levels the removed node has point at it.
                let removed = *self.nodes[slot as usize].level(i);
                let link = self.nodes[before as usize].level_mut(i);
                link.span = link.span - 1 + removed.span;
                link.forward = removed.forward;
            } else {
                self.nodes[before as usize].level_mut(i).span -= 1;
            }
        }
        let node = &self.nodes[slot as usize];
        let (forward, backward) = (node.level0.forward, node.backward);
        match forward {
            NIL => self.tail = backward,
            next => self.nodes[next as usize].backward = backward,
        }
        while self.level > 1 && self.nodes[HEAD as usize].level(self.level - 1).forward == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// 1-based rank of the element in `slot` (Redis's `zslGetRank`).
    pub(super) fn rank_of(&self, slot: u32) -> u64 {
        let node = &self.nodes[slot as usize];
        let (score, member) = (node.score, node.member.as_slice());
        // Walk while next <= (score, member): the descent ends on the element itself.
        let (x, rank) = self.descend_while(|next_score, next_member| {
            !precedes(score, member, next_score, next_member)
        });
        assert_eq!(x, slot, "slot {slot} is not linked");
        rank
    }

    /// The element with 1-based `rank` (`1..=len`), or NIL (Redis's `zslGetElementByRank`).
    pub(super) fn at_rank(&self, rank: u64) -> u32 {
        if rank == 0 || rank > self.len() {
            return NIL;
        }
        let mut traversed = 0u64;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let link = *self.nodes[x as usize].level(i);
                if link.forward == NIL || traversed + u64::from(link.span) > rank {
                    break;
                }
                traversed += u64::from(link.span);
                x = link.forward;
            }
            if traversed == rank {
                return x;
            }
        }
        unreachable!("spans do not add up to rank {rank}")
    }

    /// Walks down from the head, moving forward while `advance` holds for the next element:
    /// returns the last element passed (`HEAD` when none) and its 1-based rank.
    fn descend_while(&self, advance: impl Fn(f64, &[u8]) -> bool) -> (u32, u64) {
        let mut rank = 0u64;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let link = *self.nodes[x as usize].level(i);
                if link.forward == NIL {
                    break;
                }
                let next = &self.nodes[link.forward as usize];
                if !advance(next.score, &next.member) {
                    break;
                }
                rank += u64::from(link.span);
                x = link.forward;
            }
        }
        (x, rank)
    }

    /// The first element for which `below_min` is false, with its 1-based rank; `(NIL, 0)`
    /// when there is none. `below_min` must hold for a prefix of the order.
    pub(super) fn first_not(&self, below_min: impl Fn(f64, &[u8]) -> bool) -> (u32, u64) {
        let (x, rank) = self.descend_while(below_min);
        match self.next(x) {
            NIL => (NIL, 0),
            slot => (slot, rank + 1),
        }
    }

    /// The last element for which `within_max` holds, with its 1-based rank; `(NIL, 0)` when
    /// there is none. `within_max` must hold for a prefix of the order.
    pub(super) fn last_where(&self, within_max: impl Fn(f64, &[u8]) -> bool) -> (u32, u64) {
        let (x, rank) = self.descend_while(within_max);
        if x == HEAD { (NIL, 0) } else { (x, rank) }
    }

    /// Checks every structural invariant; panics on the first broken one. O(n · levels).
    #[cfg(any(test, debug_assertions))]
    pub(super) fn check_invariants(&self) {
        let head = &self.nodes[HEAD as usize];
        assert_eq!(head.height(), MAX_LEVEL);
        assert!((1..=MAX_LEVEL).contains(&self.level));
        for i in self.level..MAX_LEVEL {
            assert_eq!(head.level(i).forward, NIL, "head link above level {}", self.level);
        }
        if self.level > 1 {
            assert_ne!(head.level(self.level - 1).forward, NIL, "level not trimmed");
        }
        // Level 0: order, backward links, tail, ranks.
        let mut rank_of_slot = vec![0u64; self.nodes.len()];
        let (mut x, mut previous, mut count) = (head.level0.forward, NIL, 0u64);
        let (mut member_bytes, mut upper_bytes) = (0, head.upper.len() * LEVEL_BYTES);
        while x != NIL {
            let node = &self.nodes[x as usize];
            assert!(!node.is_free(), "free slot {x} is linked");
            assert_eq!(node.backward, previous, "backward link of slot {x}");
            if previous != NIL {
                let before = &self.nodes[previous as usize];
                assert!(
                    precedes(before.score, &before.member, node.score, &node.member),
                    "order broken at slot {x}"
                );
            }
            count += 1;
            rank_of_slot[x as usize] = count;
            member_bytes += node.member.heap_bytes();
            upper_bytes += node.upper.len() * LEVEL_BYTES;
            previous = x;
            x = node.level0.forward;
        }
        assert_eq!(self.tail, previous, "tail");
        assert_eq!(count, self.len());
        assert_eq!(member_bytes, self.member_heap_bytes, "member byte accounting");
        assert_eq!(upper_bytes, self.upper_level_bytes, "level byte accounting");
        // Every level: links skip forward in order, only through tall enough nodes, and each
        // span is the rank difference.
        for i in 0..self.level {
            let mut x = HEAD;
            loop {
                let link = *self.nodes[x as usize].level(i);
                let from_rank = if x == HEAD { 0 } else { rank_of_slot[x as usize] };
                if link.forward == NIL {
                    // Redis keeps a link to the end spanning the steps to the last element.
                    assert_eq!(u64::from(link.span), count - from_rank, "end span at level {i}");
                    break;
                }
                let next = &self.nodes[link.forward as usize];
                assert!(next.height() > i, "slot {} linked above its height", link.forward);
                let to_rank = rank_of_slot[link.forward as usize];
                assert!(to_rank > from_rank, "level {i} goes backwards");
                assert_eq!(u64::from(link.span), to_rank - from_rank, "span at level {i}");
                x = link.forward;
            }
        }
        // Every slot is the head, linked, or on the free list.
        let mut free = 0u64;
        let mut slot = self.free_head;
        while slot != NIL {
            assert!(self.nodes[slot as usize].is_free(), "free list holds a live slot");
            free += 1;
            assert!(free <= self.nodes.len() as u64, "free list cycles");
            slot = self.nodes[slot as usize].level0.forward;
        }
        assert_eq!(1 + count + free, self.nodes.len() as u64, "leaked slots");
    }
}
