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
