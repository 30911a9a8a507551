//! A `Hasher` for keys that already are hashes (xxh3 of words, paragraphs, features): the
//! default SipHash would hash them a second time.

use std::hash::Hasher;

/// Passes a 64-bit key through as its own hash; a 128-bit key gives its low 64 bits.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Keys of other types still hash (to their last eight bytes), not to a constant.
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn write_u128(&mut self, n: u128) {
        // Truncation intended: the low half of a 128-bit hash is a 64-bit hash.
        self.0 = n as u64;
    }
}

/// A quick hasher for small keys that are not hashes yet (names, words, short tuples) in maps
/// that live for one story: one multiply per eight bytes, where the default SipHash runs
/// several rounds (it was ~1 % of the pipeline's instructions in per-story entity and topic
/// maps). Not meant for maps whose keys an attacker could pick in bulk.
#[derive(Debug, Default, Clone, Copy)]
pub struct QuickHasher(u64);

/// An odd constant with well-spread bits (the fractional part of the golden ratio).
const QUICK_K: u64 = 0x9E37_79B9_7F4A_7C15;

impl QuickHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(QUICK_K);
    }
}

impl Hasher for QuickHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // the multiply leaves its entropy in the high bits; fold them into the low bits,
        // which pick the bucket
        self.0 ^ (self.0 >> 29)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        // the length keeps "ab" and "ab\0" apart
        self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

/// A `HashMap` keyed by hashes, with [`IdHasher`].
pub type IdMap<V> = std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

/// A `HashSet` of hashes, with [`IdHasher`].
pub type IdSet = std::collections::HashSet<u64, std::hash::BuildHasherDefault<IdHasher>>;

/// A `HashMap` with [`QuickHasher`].
pub type QuickMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<QuickHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    fn quick<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
        BuildHasherDefault::<QuickHasher>::default().hash_one(value)
    }

    #[test]
    fn quick_hasher_tells_apart_what_maps_need() {
        let words = [
            "",
            "a",
            "ab",
            "ab\0",
            "Putin",
            "putin",
            "Kim Jong-un",
            "Kim Jong-un ",
        ];
        let hashes: std::collections::HashSet<u64> = words.iter().map(|w| quick(*w)).collect();
        assert_eq!(hashes.len(), words.len());
        assert_eq!(quick("Putin"), quick(&String::from("Putin")));
        assert_ne!(quick(&(1u32, 2u32)), quick(&(2u32, 1u32)));
        // keys differing only in their last byte land in different buckets of a small map
        let low: std::collections::HashSet<u64> =
            (b'a'..=b'z').map(|c| quick(&[b'x', c][..]) & 63).collect();
        assert!(
            low.len() > 16,
            "{} distinct low bits for 26 keys",
            low.len()
        );
    }
}
