//! Loom model of the slab pool's cross-thread free path (see `src/engine/slab/`): one thread
//! allocates, another frees onto the owner's remote stack while the owner keeps allocating and
//! freeing locally, then the owner reuses. No block may be handed out twice, none may be lost.
//! Built only under `--cfg corekv_loom`, where the pool's atomics and mutexes are loom's. Run
//! with `scripts/loom.sh`.
//!
//! The model runs twice: once with the freeing thread joined before the owner's early
//! allocations (so they must take the remote stack) and once after (so loom interleaves the
//! pushes with the owner's take). A first version had only the second shape, in which loom
//! never scheduled the pushes before the take, and a mutation taking the stack with `load`
//! instead of `swap` passed; the first shape fails on that mutation.
#![cfg(corekv_loom)]

use std::collections::HashSet;

use corekv::engine::slab::{Arena, SLAB_BYTES};
use loom::thread;

/// Blocks of the 32-byte class in one slab (its header takes the first 64 bytes).
const BLOCKS_PER_SLAB: usize = (SLAB_BYTES - 64) / 32;

#[test]
fn remote_free_taken_after_the_pushes_is_reused_once() {
    loom::model(|| remote_free_model(true));
}

#[test]
fn remote_free_racing_the_owner_is_reused_once_and_never_lost() {
    loom::model(|| remote_free_model(false));
}

fn remote_free_model(join_first: bool) {
    {
        // loom has no scoped threads, so the freeing thread borrows the arena as 'static
        // through a raw pointer; the arena is dropped at the end, after every pool and block.
        let arena_ptr = Box::into_raw(Box::new(Arena::new()));
        // SAFETY: `arena_ptr` is valid until the `Box::from_raw` below, which runs after the
        // freeing thread is joined and every pool and block borrowing it has been dropped.
        let arena: &'static Arena = unsafe { &*arena_ptr };
        let mut owner = arena.local();
        // Use up the first slab but two blocks, and send two of them to the other thread.
        let mut mine: Vec<_> =
            (0..BLOCKS_PER_SLAB - 2).map(|_| owner.alloc(32).expect("class")).collect();
        let sent = [mine.pop().expect("block"), mine.pop().expect("block")];
        let sent_addrs: HashSet<usize> = sent.iter().map(|b| b.as_ptr() as usize).collect();
        let mut freer = Some(thread::spawn(move || {
            let mut other = arena.local();
            for block in sent {
                other.free(block);
            }
        }));
        if join_first {
            freer.take().expect("spawned").join().expect("freer");
        }
        // Meanwhile the owner frees one locally and allocates: the two bump blocks, the local
        // free, then whatever the remote stack holds by then.
        let local_free = mine.pop().expect("block");
        let local_addr = local_free.as_ptr() as usize;
        owner.free(local_free);
        let early: Vec<_> = (0..4).map(|_| owner.alloc(32).expect("class")).collect();
        if let Some(freer) = freer {
            freer.join().expect("freer");
        }
        // Exactly what two slabs can give without a third: the two bump blocks of the first,
        // the local free, the two remote frees and the whole second slab. Every one of them
        // must be handed out once (the remote stack taken exactly once, nothing lost).
        let late: Vec<_> =
            (0..BLOCKS_PER_SLAB + 1).map(|_| owner.alloc(32).expect("class")).collect();
        let live: Vec<usize> =
            mine.iter().chain(&early).chain(&late).map(|b| b.as_ptr() as usize).collect();
        let distinct: HashSet<usize> = live.iter().copied().collect();
        assert_eq!(distinct.len(), live.len(), "a block was handed out twice");
        assert!(distinct.contains(&local_addr), "the local free was lost");
        assert!(sent_addrs.is_subset(&distinct), "a remote free was lost");
        assert_eq!(arena.slab_bytes_held(), 2 * SLAB_BYTES, "a free block was not reused");

        drop((mine, early, late, owner));
        // SAFETY: the freeing thread has been joined and every pool and block that borrowed
        // the arena has just been dropped; nothing else holds the pointer.
        drop(unsafe { Box::from_raw(arena_ptr) });
    }
}
