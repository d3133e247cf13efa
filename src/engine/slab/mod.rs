//! A per-core slab pool for fixed-size blocks (DESIGN.md, "Threads and shards").
//!
//! **Not used by the engine yet.** In `benches/slab.rs` it beat mimalloc (the binaries' global
//! allocator) on one thread: alloc+free pairs in about half the time, and a churn of 1M live
//! blocks with random replacement 3-5x faster, also with frees deferred as seize defers them;
//! the two-thread handoff row is within noise of mimalloc, and it holds 32 bytes per live
//! 32-byte block by its own accounting (RSS a little above mimalloc's at 1M blocks, from the
//! unused tail of the last chunk). `results/slab-vs-mimalloc.md` has the figures. The one engine
//! allocation it can serve is a string value longer than 22 bytes (`SmallBytes::Heap`); papaya
//! allocates its 64-byte nodes itself. Wiring it into `SmallBytes` (a class-tagged handle
//! instead of `Box<[u8]>`, a thread-local pool, frees from seize's reclaimer on any thread) is
//! the follow-up, to be measured through the engine bench, not only here. It is
//! `#[doc(hidden)] pub` so that the bench and the loom model in `loom-tests/tests/slab.rs` can
//! reach it (the model fails on a mutation that takes the remote stack with `load` instead of
//! `swap`).
//!
//! # Layout
//!
//! An [`Arena`] owns every slab: `SLAB_BYTES`-sized pieces aligned to their size, carved from
//! `CHUNK_BYTES` chunks (asking the global allocator for each 64 KiB-aligned slab on its own
//! doubled the resident memory: mimalloc over-allocates aligned blocks). Each slab serves
//! one size class ([`CLASS_BYTES`]) for one owner. A slab starts with a header naming its owner
//! and class, so a block's slab (and so its owner) is found by masking the block's address.
//! Each thread takes a [`LocalPool`] from the arena; it owns, per class, a plain (non-atomic)
//! free list and a bump range in its newest slab.
//!
//! # Frees
//!
//! - On the owner's thread (the header names this pool): pushed on the local free list, no
//!   atomic at all.
//! - On any other thread: pushed on the owner's per-class *remote* stack, a Treiber stack that
//!   only ever receives pushes. The owner takes the whole stack at once with a `swap(null)`
//!   when its local list and bump range are empty, before it carves a new slab. With push-only
//!   stacks and take-all pops there is no ABA problem and so no tag: a pusher's CAS succeeds
//!   only if the head is still the pointer it linked its block to, whatever happened to that
//!   head in between, and the link it wrote is then exactly right.
//!
//! # Invariants
//!
//! - A block is in at most one place: handed out (a [`Block`]), on one local free list, on one
//!   remote stack, or not yet carved (beyond the bump pointer).
//! - Slabs are freed only when the arena drops; every [`Block`] and [`LocalPool`] borrows the
//!   arena, so no block outlives its memory. A block never freed is simply reclaimed then.

use std::marker::PhantomData;
use std::ptr::NonNull;

use self::raw::{OwnerShared, PoolState};
use crate::sync::Mutex;

mod raw;

/// Block sizes served, in bytes. Each is a multiple of 16 so every block is 16-aligned.
pub const CLASS_BYTES: [usize; 6] = [16, 32, 48, 64, 96, 128];

/// Bytes in one slab; slabs are aligned to this so a block's header is one mask away.
pub const SLAB_BYTES: usize = 64 * 1024;

/// Bytes the arena asks the global allocator for at a time (a huge allocation, which mimalloc
/// maps straight from the OS; pages are resident only once a slab in them is used).
pub const CHUNK_BYTES: usize = 4 * 1024 * 1024;

const _: () = assert!(CHUNK_BYTES.is_multiple_of(SLAB_BYTES));

const _: () = assert!(SLAB_BYTES.is_power_of_two());
// A free block holds its free-list link in its first word.
const _: () = assert!(CLASS_BYTES[0] >= std::mem::size_of::<usize>());

/// The class serving `bytes`, or `None` if it is larger than the largest class.
fn class_for(bytes: usize) -> Option<usize> {
    CLASS_BYTES.iter().position(|&class| bytes <= class)
}

/// Owns every slab and every pool's shared state; dropping it returns all of it.
#[derive(Debug)]
pub struct Arena {
    /// Chunks and the next free slab; touched only when a pool carves a new slab (once per
    /// `SLAB_BYTES` of blocks), so a mutex costs nothing on the block path.
    chunks: Mutex<Chunks>,
    /// Boxed so each owner's remote stacks keep their address while the vector grows.
    #[allow(clippy::vec_box, reason = "pools hold pointers to the boxes while the Vec grows")]
    owners: Mutex<Vec<Box<OwnerShared>>>,
}

// SAFETY: the raw slab pointers are only dereferenced through pools and blocks that borrow the
// arena, under the protocol in `raw`; the vectors themselves are behind mutexes.
unsafe impl Send for Arena {}
// SAFETY: as above; every shared mutation goes through a mutex or an atomic.
unsafe impl Sync for Arena {}

impl Default for Arena {
    fn default() -> Self {
        Self::new()
    }
}

impl Arena {
    pub fn new() -> Self {
        Self { chunks: Mutex::new(Chunks::default()), owners: Mutex::new(Vec::new()) }
    }

    /// A pool for the calling thread (it may move to another thread, but only one thread uses
    /// it at a time, which `&mut self` on every method enforces).
    pub fn local(&self) -> LocalPool<'_> {
        let shared = Box::new(OwnerShared::new());
        let shared_ptr: *const OwnerShared = &*shared;
        self.owners.lock().push(shared);
        // SAFETY: the box now lives in `self.owners` until the arena drops, which the
        // returned pool's borrow of `self` outlasts; it is never moved out or mutated.
        let shared = unsafe { &*shared_ptr };
        LocalPool { arena: self, state: PoolState::new(shared) }
    }

    /// Bytes of slabs handed to pools (the pool's own accounting of its footprint; the rest of
    /// the last chunk is address space, not resident memory, until carved).
    pub fn slab_bytes_held(&self) -> usize {
        self.chunks.lock().slabs * SLAB_BYTES
    }

    fn new_slab(&self) -> NonNull<u8> {
        let mut chunks = self.chunks.lock();
        if chunks.next_slab == CHUNK_BYTES / SLAB_BYTES || chunks.bases.is_empty() {
            chunks.bases.push(raw::alloc_chunk());
            chunks.next_slab = 0;
        }
        let base = *chunks.bases.last().expect("a chunk was just ensured");
        // SAFETY: `next_slab < CHUNK_BYTES / SLAB_BYTES`, so the slab lies inside the chunk.
        let slab = unsafe { base.add(chunks.next_slab * SLAB_BYTES) };
        chunks.next_slab += 1;
        chunks.slabs += 1;
        slab
    }
}

/// The arena's chunks and its carving position.
#[derive(Debug, Default)]
struct Chunks {
    bases: Vec<NonNull<u8>>,
    /// Index of the next slab to carve in the last chunk.
    next_slab: usize,
    /// Slabs carved so far, all chunks together.
    slabs: usize,
}

impl Drop for Arena {
    fn drop(&mut self) {
        let chunks = std::mem::take(&mut *self.chunks.lock());
        for chunk in chunks.bases {
            // SAFETY: every chunk came from `alloc_chunk`; no block or pool can be alive since
            // they borrow the arena, which is being dropped.
            unsafe { raw::free_chunk(chunk) };
        }
    }
}

/// One thread's allocation front: per-class free lists and bump ranges.
#[derive(Debug)]
pub struct LocalPool<'a> {
    arena: &'a Arena,
    state: PoolState,
}

impl<'a> LocalPool<'a> {
    /// A block of at least `bytes` bytes (contents unspecified), or `None` if `bytes` is larger
    /// than the largest class.
    #[inline]
    pub fn alloc(&mut self, bytes: usize) -> Option<Block<'a>> {
        let class = class_for(bytes)?;
        let ptr = match self.state.pop(class) {
            Some(ptr) => ptr,
            None => {
                let slab = self.arena.new_slab();
                // SAFETY: `slab` is freshly carved from an arena chunk, owned by no pool yet, and lives
                // until the arena (which this pool borrows) drops.
                unsafe { self.state.adopt_slab(slab, class) };
                self.state.pop(class).expect("a fresh slab has blocks")
            }
        };
        Some(Block { ptr, class: class as u8, _arena: PhantomData })
    }

    /// Returns `block` to its owner: onto this pool's free list if this pool owns its slab,
    /// otherwise onto the owner's remote stack.
    #[inline]
    pub fn free(&mut self, block: Block<'a>) {
        // SAFETY: `block` was handed out by a pool of a live arena (it borrows it) and is
        // consumed here, so it is in no list; `raw::free` puts it in exactly one.
        unsafe { self.state.free(block.ptr, usize::from(block.class)) };
    }
}

/// A block handed out by a [`LocalPool`]; free it with [`LocalPool::free`] on any thread
/// (dropping it instead leaks it until the arena drops).
#[derive(Debug)]
pub struct Block<'a> {
    ptr: NonNull<u8>,
    class: u8,
    _arena: PhantomData<&'a Arena>,
}

// SAFETY: a block is exclusively owned memory; freeing it from another thread is the remote
// path the pool is built for.
unsafe impl Send for Block<'_> {}

impl Block<'_> {
    /// Usable bytes (the class size).
    pub fn capacity_bytes(&self) -> usize {
        CLASS_BYTES[usize::from(self.class)]
    }

    /// Copies `bytes` to the start of the block.
    #[inline]
    pub fn write(&mut self, bytes: &[u8]) {
        assert!(
            bytes.len() <= self.capacity_bytes(),
            "{} bytes into a {}-byte block",
            bytes.len(),
            self.capacity_bytes()
        );
        // SAFETY: the block is `capacity_bytes()` bytes of memory owned only by this handle, and the
        // assertion keeps the copy inside it; a caller's slice cannot overlap it.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.as_ptr(), bytes.len()) };
    }

    /// The block's address, to keep writes observable (`black_box`) or compare blocks.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }
}

#[cfg(all(test, not(corekv_loom)))]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn classes_round_up() {
        let arena = Arena::new();
        let mut pool = arena.local();
        for (bytes, class_bytes) in [(1, 16), (16, 16), (17, 32), (33, 48), (100, 128)] {
            let block = pool.alloc(bytes).expect("fits a class");
            assert_eq!(block.capacity_bytes(), class_bytes);
            pool.free(block);
        }
        assert!(pool.alloc(129).is_none());
    }

    #[test]
    fn remote_frees_are_reused_once_and_never_lost() {
        // Whole slabs, so the second round cannot come from a bump range.
        const BLOCKS: usize = 3 * ((SLAB_BYTES - 64) / 32);
        let arena = Arena::new();
        let mut owner = arena.local();
        let mut blocks: Vec<Block<'_>> = (0..BLOCKS).map(|_| owner.alloc(32).unwrap()).collect();
        for (i, block) in blocks.iter_mut().enumerate() {
            block.write(&[i as u8; 32]);
        }
        let first: HashSet<*const u8> = blocks.iter().map(Block::as_ptr).collect();
        assert_eq!(first.len(), BLOCKS, "a block was handed out twice");
        let held = arena.slab_bytes_held();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut other = arena.local();
                blocks.into_iter().for_each(|block| other.free(block));
            });
        });
        let again: Vec<Block<'_>> = (0..BLOCKS).map(|_| owner.alloc(32).unwrap()).collect();
        assert_eq!(arena.slab_bytes_held(), held, "remote frees were not reused");
        let second: HashSet<*const u8> = again.iter().map(Block::as_ptr).collect();
        assert_eq!(second, first, "blocks were lost or handed out twice");
    }
}
