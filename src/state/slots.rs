//! [`SlotTable`]: a hash table of `u32` slots whose keys live elsewhere — in the index's
//! entries (story ids, slugs) or in the name table (names).
//!
//! A `HashMap<u64, u32>` keyed by a hash of the key costs 17 bytes a bucket, and the map
//! keeps 1.1 to 2.3 buckets per entry; this table keeps only the slot (4 bytes a cell) and
//! asks its owner for the key's hash and equality. Open addressing with linear probing,
//! load at most 3/4, deletion by backward shift (no tombstones, so lookups never slow down
//! as stories come and go).

use std::hash::{BuildHasher, RandomState};

/// Cells above this share of the table trigger growth (numerator over 4).
const MAX_LOAD_QUARTERS: usize = 3;
/// Cells of a table's first allocation.
const MIN_CELLS: usize = 16;

/// Hashes of the keys of a [`SlotTable`]: std's SipHash under keys drawn at random for
/// each owner. Keys are story ids, slugs and entity names — text from outside — and a
/// table places a key by the low bits of its hash, so with an unkeyed hash (xxh3 before)
/// anyone could compute offline which texts share a probe run and make every lookup and
/// insert walk all of them (the old index's map by id used this same std hasher).
#[derive(Debug, Default)]
pub(super) struct KeyHasher(RandomState);

impl KeyHasher {
    /// The hash of `text` under this owner's keys.
    pub fn hash(&self, text: &str) -> u64 {
        self.0.hash_one(text)
    }
}

/// Slots keyed by their owner: the owner passes each key's hash and a test for "this slot
/// holds the key". Hashes are recomputed on growth and deletion, from `hash_of`.
#[derive(Debug, Default)]
pub(super) struct SlotTable {
    /// `slot + 1` per cell, 0 for an empty cell; the length is 0 or a power of two.
    cells: Vec<u32>,
    /// Occupied cells.
    len: usize,
}

impl SlotTable {
    /// Number of slots held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    fn mask(&self) -> usize {
        self.cells.len() - 1
    }

    fn home(&self, hash: u64) -> usize {
        // Truncation intended: the low bits of the hash pick the cell.
        hash as usize & self.mask()
    }

    /// The held slot for which `holds_key` is true, probing from `hash`.
    pub fn find(&self, hash: u64, holds_key: impl FnMut(u32) -> bool) -> Option<u32> {
        self.cell_of(hash, holds_key)
            .map(|cell| self.cells[cell] - 1)
    }

    fn cell_of(&self, hash: u64, mut holds_key: impl FnMut(u32) -> bool) -> Option<usize> {
        if self.cells.is_empty() {
            return None;
        }
        let mut cell = self.home(hash);
        loop {
            match self.cells[cell] {
                0 => return None,
                stored if holds_key(stored - 1) => return Some(cell),
                _ => cell = (cell + 1) & self.mask(),
            }
        }
    }

    /// Adds `slot`, whose key hashes to `hash` and is not held yet. `hash_of` gives the
    /// hash of any held slot's key (growing rehashes them all).
    pub fn insert(&mut self, hash: u64, slot: u32, hash_of: impl Fn(u32) -> u64) {
        debug_assert!(slot < u32::MAX, "slot + 1 must fit a cell");
        if (self.len + 1) * 4 > self.cells.len() * MAX_LOAD_QUARTERS {
            self.grow(&hash_of);
        }
        self.place(hash, slot + 1);
        self.len += 1;
    }

    fn place(&mut self, hash: u64, stored: u32) {
        let mut cell = self.home(hash);
        while self.cells[cell] != 0 {
            cell = (cell + 1) & self.mask();
        }
        self.cells[cell] = stored;
    }

    fn grow(&mut self, hash_of: &impl Fn(u32) -> u64) {
        let size = (self.cells.len() * 2).max(MIN_CELLS);
        let old = std::mem::replace(&mut self.cells, vec![0; size]);
        for stored in old.into_iter().filter(|&s| s != 0) {
            self.place(hash_of(stored - 1), stored);
        }
    }

    /// Puts `new` in the cell of the held slot for which `holds_key` is true; returns the
    /// slot it replaced, or `None` (and changes nothing) when no slot holds the key.
    pub fn replace(
        &mut self,
        hash: u64,
        holds_key: impl FnMut(u32) -> bool,
        new: u32,
    ) -> Option<u32> {
        let cell = self.cell_of(hash, holds_key)?;
        Some(std::mem::replace(&mut self.cells[cell], new + 1) - 1)
    }

    /// Removes `slot`, whose key hashes to `hash`; false when it was not held. `hash_of`
    /// gives the hash of any held slot's key.
    pub fn remove(&mut self, hash: u64, slot: u32, hash_of: impl Fn(u32) -> u64) -> bool {
        let Some(mut gap) = self.cell_of(hash, |held| held == slot) else {
            return false;
        };
        // Backward shift: move each later cell of the probe run into the gap when its home
        // does not lie between the gap and itself, so every held key stays reachable.
        let mask = self.mask();
        let mut cell = gap;
        loop {
            cell = (cell + 1) & mask;
            let stored = self.cells[cell];
            if stored == 0 {
                break;
            }
            let home = self.home(hash_of(stored - 1));
            if cell.wrapping_sub(home) & mask >= cell.wrapping_sub(gap) & mask {
                self.cells[gap] = stored;
                gap = cell;
            }
        }
        self.cells[gap] = 0;
        self.len -= 1;
        true
    }

    /// Most consecutive occupied cells: what a lookup may have to probe.
    #[cfg(test)]
    pub fn longest_run(&self) -> usize {
        let (mut longest, mut run) = (0, 0);
        // Twice round, for a run that wraps past the end.
        for &cell in self.cells.iter().chain(&self.cells) {
            run = if cell == 0 { 0 } else { run + 1 };
            longest = longest.max(run);
        }
        longest.min(self.len)
    }

    /// Heap bytes held (for tests and estimates).
    #[cfg(test)]
    pub fn capacity_bytes(&self) -> usize {
        self.cells.len() * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Keys by slot, with a hash function chosen by the test.
    struct Keys {
        keys: HashMap<u32, u64>,
        hash: fn(u64) -> u64,
    }

    impl Keys {
        fn hash_of(&self, slot: u32) -> u64 {
            (self.hash)(self.keys[&slot])
        }
    }

    fn exercise(hash: fn(u64) -> u64) {
        let mut keys = Keys {
            keys: HashMap::new(),
            hash,
        };
        let mut table = SlotTable::default();
        // Insert 2,000 keys, remove every third, check all, then reinsert.
        for slot in 0..2_000u32 {
            let key = u64::from(slot) * 7919;
            keys.keys.insert(slot, key);
            table.insert(hash(key), slot, |s| keys.hash_of(s));
        }
        for slot in (0..2_000u32).step_by(3) {
            let key = keys.keys[&slot];
            assert!(table.remove(hash(key), slot, |s| keys.hash_of(s)));
            assert!(!table.remove(hash(key), slot, |s| keys.hash_of(s)));
        }
        for slot in 0..2_000u32 {
            let key = keys.keys[&slot];
            let found = table.find(hash(key), |s| keys.keys[&s] == key);
            assert_eq!(found, (slot % 3 != 0).then_some(slot), "slot {slot}");
        }
        assert_eq!(table.len(), 2_000 - 667);
        // A slot number may be reused for another key once removed.
        keys.keys.insert(0, 1);
        table.insert(hash(1), 0, |s| keys.hash_of(s));
        assert_eq!(table.find(hash(1), |s| keys.keys[&s] == 1), Some(0));
        assert_eq!(
            table.replace(hash(1), |s| keys.keys[&s] == 1, 5_000),
            Some(0)
        );
        keys.keys.insert(5_000, 1);
        assert_eq!(table.find(hash(1), |s| keys.keys[&s] == 1), Some(5_000));
        assert_eq!(table.replace(hash(2), |s| keys.keys[&s] == 2, 9), None);
    }

    #[test]
    fn finds_what_was_inserted_and_not_what_was_removed() {
        exercise(|k| xxhash_rust::xxh3::xxh3_64(&k.to_le_bytes()));
    }

    #[test]
    fn colliding_hashes_still_work() {
        // Every key in one probe run, and keys in few runs that wrap around the end.
        exercise(|_| 0);
        exercise(|k| u64::MAX - (k % 3));
    }

    #[test]
    fn load_stays_under_three_quarters() {
        let mut table = SlotTable::default();
        let hash = |s: u32| u64::from(s).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for slot in 0..10_000 {
            table.insert(hash(slot), slot, hash);
            assert!(table.len() * 4 <= table.cells.len() * 3);
        }
        assert_eq!(table.capacity_bytes(), 16_384 * 4);
    }
}
