//! The unsafe core of the slab pool: slab headers, intrusive free lists, remote stacks.
//!
//! Everything here assumes the protocol in the parent module's docs; the safe API in
//! `super` is the only caller.

use crate::sync::{AtomicPtr, Ordering};
use std::alloc::Layout;
use std::ptr::{self, NonNull};

use super::{CHUNK_BYTES, CLASS_BYTES, SLAB_BYTES};

/// Bytes reserved at the start of every slab for its header (one cache line).
const HEADER_BYTES: usize = 64;

const _: () = assert!(std::mem::size_of::<SlabHeader>() <= HEADER_BYTES);

/// A free block's first word: the next free block.
#[repr(C)]
struct FreeBlock {
    next: *mut FreeBlock,
}

#[repr(C)]
struct SlabHeader {
    owner: *const OwnerShared,
    class: usize,
}

/// What other threads may touch of a pool: its remote stacks, one per class.
#[derive(Debug)]
pub(super) struct OwnerShared {
    remote: [AtomicPtr<FreeBlock>; CLASS_BYTES.len()],
}

impl std::fmt::Debug for FreeBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FreeBlock")
    }
}

impl OwnerShared {
    pub(super) fn new() -> Self {
        Self { remote: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())) }
    }
}

#[derive(Debug, Clone, Copy)]
struct ClassState {
    free: *mut FreeBlock,
    bump: *mut u8,
    bump_end: *mut u8,
}

/// A pool's private state; only its owning `LocalPool` touches it.
#[derive(Debug)]
pub(super) struct PoolState {
    shared: *const OwnerShared,
    classes: [ClassState; CLASS_BYTES.len()],
}

fn chunk_layout() -> Layout {
    Layout::from_size_align(CHUNK_BYTES, SLAB_BYTES).expect("chunk layout")
}

pub(super) fn alloc_chunk() -> NonNull<u8> {
    // SAFETY: the layout has a non-zero size.
    let chunk = unsafe { std::alloc::alloc(chunk_layout()) };
    NonNull::new(chunk).unwrap_or_else(|| std::alloc::handle_alloc_error(chunk_layout()))
}

/// # Safety
///
/// `chunk` came from [`alloc_chunk`] and no block of it is used afterwards.
pub(super) unsafe fn free_chunk(chunk: NonNull<u8>) {
    // SAFETY: per the contract, allocated with this layout and no longer used.
    unsafe { std::alloc::dealloc(chunk.as_ptr(), chunk_layout()) };
}

impl PoolState {
    pub(super) fn new(shared: &OwnerShared) -> Self {
        let empty =
            ClassState { free: ptr::null_mut(), bump: ptr::null_mut(), bump_end: ptr::null_mut() };
        Self { shared, classes: [empty; CLASS_BYTES.len()] }
    }

    /// A block of `class` from the local list, the bump range, or the remote stack, in that
    /// order; `None` if all three are empty.
    #[inline]
    pub(super) fn pop(&mut self, class: usize) -> Option<NonNull<u8>> {
        let state = &mut self.classes[class];
        if state.free.is_null() {
            if state.bump < state.bump_end {
                let block = state.bump;
                // SAFETY: `bump + size <= bump_end` (the range is a whole number of blocks),
                // so the result stays inside the slab.
                state.bump = unsafe { block.add(CLASS_BYTES[class]) };
                return NonNull::new(block);
            }
            // SAFETY: `shared` points into the arena's owner list, alive while this pool is.
            let remote = unsafe { &(*self.shared).remote[class] };
            // Acquire: pairs with the Release CAS of every remote push, so each pusher's
            // link write (and its last use of the block) happens before this thread walks
            // the list and reuses the blocks.
            state.free = remote.swap(ptr::null_mut(), Ordering::Acquire);
            if state.free.is_null() {
                return None;
            }
        }
        let block = state.free;
        // SAFETY: `block` heads this pool's private free list, so it is a free block of
        // this class whose first word is a valid link (written by `free` or by a remote
        // push made visible by the Acquire above).
        state.free = unsafe { (*block).next };
        NonNull::new(block.cast())
    }

    /// Makes `slab` this pool's current slab for `class`.
    ///
    /// # Safety
    ///
    /// `slab` is a fresh `SLAB_BYTES`-aligned slab of an arena chunk, owned by nobody, alive while blocks of it
    /// may be used.
    pub(super) unsafe fn adopt_slab(&mut self, slab: NonNull<u8>, class: usize) {
        let header = SlabHeader { owner: self.shared, class };
        // SAFETY: a fresh slab is `SLAB_BYTES >= HEADER_BYTES` writable bytes, aligned for
        // the header (the slab is `SLAB_BYTES`-aligned).
        unsafe { slab.as_ptr().cast::<SlabHeader>().write(header) };
        let size = CLASS_BYTES[class];
        let blocks = (SLAB_BYTES - HEADER_BYTES) / size;
        let state = &mut self.classes[class];
        // SAFETY: both offsets are inside the slab (`HEADER_BYTES + blocks * size <=
        // SLAB_BYTES`).
        unsafe {
            state.bump = slab.as_ptr().add(HEADER_BYTES);
            state.bump_end = state.bump.add(blocks * size);
        }
    }

    /// # Safety
    ///
    /// `block` was handed out by a pool of a live arena, for `class`, and is not used again
    /// (not even read) by the caller.
    #[inline]
    pub(super) unsafe fn free(&mut self, block: NonNull<u8>, class: usize) {
        let slab = (block.as_ptr() as usize & !(SLAB_BYTES - 1)) as *const SlabHeader;
        // SAFETY: every block lies in a slab whose first bytes are its header, written
        // before the slab's first block was handed out (and published to other threads by
        // whatever handed them the block).
        let header = unsafe { &*slab };
        debug_assert_eq!(header.class, class, "block freed with the wrong class");
        let block = block.as_ptr().cast::<FreeBlock>();
        if ptr::eq(header.owner, self.shared) {
            let state = &mut self.classes[class];
            // SAFETY: the block is ours and no longer used, so its first word may hold the
            // link (blocks are 16-aligned and at least 16 bytes).
            unsafe { (*block).next = state.free };
            state.free = block;
            return;
        }
        // SAFETY: the owner's shared state lives in the arena, alive because the block
        // (which borrows it) was alive at this call.
        let remote = unsafe { &(*header.owner).remote[class] };
        // Relaxed: the loaded head is only a guess that the CAS checks.
        let mut head = remote.load(Ordering::Relaxed);
        loop {
            // SAFETY: the block is no longer used by anyone but this push; the owner reads
            // the link only after taking the stack with an Acquire swap.
            unsafe { (*block).next = head };
            // Release on success: publishes the link written above (and this thread's last
            // writes to the block) to the owner's Acquire swap. Relaxed on failure: nothing
            // was published, the loop retries with the fresh head.
            match remote.compare_exchange_weak(head, block, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
    }
}
