//! `SmallBytes`: the binary-safe byte string used for keys, string values and collection
//! elements.
//!
//! Most keys and many values are short (the canonical benchmark uses 16-byte keys), so a byte
//! string of up to [`INLINE_CAPACITY`] bytes is stored inline in the 24-byte value itself and
//! costs no allocation and no pointer chase; a longer one is a boxed slice (pointer + length,
//! no spare capacity). The type is safe code only: an enum whose inline arm is a length and an
//! array.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Bytes stored inline, without an allocation. 22 keeps `SmallBytes` at 24 bytes: one tag
/// byte, one length byte, 22 data bytes.
pub const INLINE_CAPACITY: usize = 22;

const _: () = assert!(std::mem::size_of::<SmallBytes>() == 24);

/// An immutable, binary-safe byte string, inline when short.
#[derive(Clone)]
pub enum SmallBytes {
    /// Up to [`INLINE_CAPACITY`] bytes held in place; `len` of `data` are meaningful.
    #[doc(hidden)]
    Inline { len: u8, data: [u8; INLINE_CAPACITY] },
    /// A longer string on the heap.
    #[doc(hidden)]
    Heap(Box<[u8]>),
}

impl SmallBytes {
    /// The empty string.
    pub const EMPTY: SmallBytes = SmallBytes::Inline { len: 0, data: [0; INLINE_CAPACITY] };

    /// Copies `bytes` into a new string.
    ///
    /// ```
    /// use corekv::SmallBytes;
    /// let s = SmallBytes::new(b"hello");
    /// assert_eq!(&*s, b"hello");
    /// ```
    pub fn new(bytes: &[u8]) -> SmallBytes {
        if bytes.len() <= INLINE_CAPACITY {
            let mut data = [0; INLINE_CAPACITY];
            data[..bytes.len()].copy_from_slice(bytes);
            SmallBytes::Inline { len: bytes.len() as u8, data }
        } else {
            SmallBytes::Heap(bytes.into())
        }
    }

    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, data } => &data[..*len as usize],
            SmallBytes::Heap(boxed) => boxed,
        }
    }

    /// Heap bytes this string owns beyond its own 24 bytes (for memory accounting).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        match self {
            SmallBytes::Inline { .. } => 0,
            SmallBytes::Heap(boxed) => boxed.len(),
        }
    }
}

impl Default for SmallBytes {
    fn default() -> Self {
        SmallBytes::EMPTY
    }
}

impl Deref for SmallBytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for SmallBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

// Hash, Eq and Ord must agree with `[u8]`'s, because maps keyed by `SmallBytes` are queried
// with `&[u8]` through `Borrow`.
impl Hash for SmallBytes {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl PartialEq for SmallBytes {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SmallBytes {}

impl PartialOrd for SmallBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(bytes: &[u8]) -> Self {
        SmallBytes::new(bytes)
    }
}

impl<const N: usize> From<&[u8; N]> for SmallBytes {
    fn from(bytes: &[u8; N]) -> Self {
        SmallBytes::new(bytes)
    }
}

impl From<&str> for SmallBytes {
    fn from(text: &str) -> Self {
        SmallBytes::new(text.as_bytes())
    }
}

impl From<Vec<u8>> for SmallBytes {
    fn from(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE_CAPACITY {
            SmallBytes::new(&bytes)
        } else {
            SmallBytes::Heap(bytes.into_boxed_slice())
        }
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.as_slice().escape_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap_round_trip() {
        for len in [0, 1, INLINE_CAPACITY, INLINE_CAPACITY + 1, 1000] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let small = SmallBytes::new(&bytes);
            assert_eq!(small.as_slice(), &bytes[..]);
            assert_eq!(SmallBytes::from(bytes.clone()), small);
            let expect_heap = if len > INLINE_CAPACITY { len } else { 0 };
            assert_eq!(small.heap_bytes(), expect_heap);
        }
    }

    #[test]
    fn hash_matches_slice_hash() {
        use std::hash::BuildHasher;
        let state = foldhash::fast::FixedState::with_seed(7);
        for text in [&b"k"[..], b"a-rather-long-key-beyond-inline"] {
            assert_eq!(state.hash_one(SmallBytes::new(text)), state.hash_one(text));
        }
    }

    #[test]
    fn orders_like_slices() {
        let mut values = vec![SmallBytes::from("b"), SmallBytes::from("a"), SmallBytes::from("")];
        values.sort();
        assert_eq!(values, vec![SmallBytes::from(""), SmallBytes::from("a"), "b".into()]);
    }
}
