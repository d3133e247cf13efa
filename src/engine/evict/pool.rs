//! The eviction pool (Redis's `evictionPoolEntry[EVPOOL_SIZE]`): the best eviction candidates
//! seen by recent samplings of one shard index, kept across evictions so that a handful of
//! random samples per eviction still converges on the keyspace's true worst keys.

use crate::engine::bytes::SmallBytes;

/// Candidates kept (`EVPOOL_SIZE`).
pub(crate) const POOL_SIZE: usize = 16;

/// A key that may be evicted, with its score: higher is a better victim (idle seconds for
/// LRU, `255 - counter` for LFU).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) score: u64,
    /// The physical database (index into the engine's databases, not the SELECT number).
    pub(crate) db: usize,
    pub(crate) key: SmallBytes,
}

/// At most [`POOL_SIZE`] candidates, in ascending score order (the best victim last).
#[derive(Debug, Default)]
pub(crate) struct Pool {
    candidates: Vec<Candidate>,
}

impl Pool {
    /// Offers a sampled key: kept if the pool has room or it beats the worst candidate; a key
    /// already in the pool only has its score refreshed.
    pub(crate) fn offer(&mut self, candidate: Candidate) {
        if let Some(existing) =
            self.candidates.iter().position(|c| c.db == candidate.db && c.key == candidate.key)
        {
            self.candidates.remove(existing);
        }
        if self.candidates.len() == POOL_SIZE {
            if candidate.score <= self.candidates[0].score {
                return;
            }
            self.candidates.remove(0);
        }
        let at = self.candidates.partition_point(|c| c.score <= candidate.score);
        self.candidates.insert(at, candidate);
        debug_assert!(self.candidates.len() <= POOL_SIZE);
        debug_assert!(self.candidates.windows(2).all(|pair| pair[0].score <= pair[1].score));
    }

    /// The best victim, left in place.
    pub(crate) fn peek_best(&self) -> Option<&Candidate> {
        self.candidates.last()
    }

    /// Takes the best victim.
    pub(crate) fn pop_best(&mut self) -> Option<Candidate> {
        self.candidates.pop()
    }

    /// Forgets every candidate (the policy changed, so the scores mean something else).
    pub(crate) fn clear(&mut self) {
        self.candidates.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(score: u64, key: &str) -> Candidate {
        Candidate { score, db: 0, key: SmallBytes::new(key.as_bytes()) }
    }

    #[test]
    fn keeps_the_best_candidates_in_order() {
        let mut pool = Pool::default();
        for score in 0..40u64 {
            // Scores arrive out of order.
            let score = (score * 7) % 40;
            pool.offer(candidate(score, &format!("k{score}")));
        }
        let mut popped = Vec::new();
        while let Some(best) = pool.pop_best() {
            popped.push(best.score);
        }
        assert_eq!(popped, (24..40).rev().collect::<Vec<_>>());
    }

    #[test]
    fn a_key_offered_twice_is_kept_once_with_its_new_score() {
        let mut pool = Pool::default();
        pool.offer(candidate(5, "a"));
        pool.offer(candidate(1, "b"));
        pool.offer(candidate(0, "a"));
        assert_eq!(pool.pop_best(), Some(candidate(1, "b")));
        assert_eq!(pool.pop_best(), Some(candidate(0, "a")));
        assert_eq!(pool.pop_best(), None);
    }
}
