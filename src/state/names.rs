//! [`NameTable`]: the index's interned strings — entity names and source topics — each
//! stored once however many stories name it, and freed when the last of them is forgotten.
//!
//! Stories of one news cycle name the same people, places and organisations again and
//! again; the index keeps up to 200,000 stories with up to 64 names each, so a name shared
//! by many of them costs its text once plus a few bytes per story (its id). A name only
//! one story uses costs more than writing it into that story would: about 48 bytes beside
//! its text — its `Box<str>`, holder count, table cell, id in the entry and the vectors'
//! growth slack (see `tests/state_memory.rs`).

use super::slots::{KeyHasher, SlotTable};

/// Id of an interned name: valid while at least one holder has not released it.
pub(super) type NameId = u32;

/// Reference-counted interned strings with reusable ids.
#[derive(Debug, Default)]
pub(super) struct NameTable {
    /// Text per id; empty for a free id (an empty `Box<str>` allocates nothing).
    texts: Vec<Box<str>>,
    /// Holders per id (0 for a free id). A parallel vector rather than a field beside the
    /// text: the pair would be padded to 24 bytes, these are 20.
    holders: Vec<u32>,
    /// Ids whose last holder released them, reused before `texts` grows.
    free: Vec<NameId>,
    /// Live ids, keyed by their text.
    by_text: SlotTable,
    /// Hashes the texts for `by_text`.
    keys: KeyHasher,
}

impl NameTable {
    /// The id of `name`, interning it if new; the caller holds it until [`Self::release`].
    pub fn acquire(&mut self, name: &str) -> NameId {
        let hash = self.keys.hash(name);
        let texts = &self.texts;
        if let Some(id) = self.by_text.find(hash, |id| *texts[id as usize] == *name) {
            // Cannot overflow: every holder is a stored story entry spending at least one
            // byte on the id, so u32::MAX holders would take 4 GB of entries for one name.
            self.holders[id as usize] += 1;
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.texts[id as usize] = name.into();
                self.holders[id as usize] = 1;
                id
            }
            None => {
                // Fewer than u32::MAX live names: each costs well over one byte, so as many
                // would need tens of gigabytes; the index is bounded far below that.
                let id = NameId::try_from(self.texts.len()).unwrap_or(NameId::MAX - 1);
                self.texts.push(name.into());
                self.holders.push(1);
                id
            }
        };
        let (texts, keys) = (&self.texts, &self.keys);
        self.by_text
            .insert(hash, id, |held| keys.hash(&texts[held as usize]));
        id
    }

    /// Drops one hold on `id`; the last release frees the name and lets its id be reused.
    pub fn release(&mut self, id: NameId) {
        let Some(holders) = self.holders.get_mut(id as usize) else {
            debug_assert!(false, "release of unknown name id {id}");
            return;
        };
        debug_assert!(*holders > 0, "release of free name id {id}");
        *holders = holders.saturating_sub(1);
        if *holders > 0 {
            return;
        }
        let (texts, keys) = (&self.texts, &self.keys);
        let hash = keys.hash(&texts[id as usize]);
        self.by_text
            .remove(hash, id, |held| keys.hash(&texts[held as usize]));
        self.texts[id as usize] = Box::default();
        self.free.push(id);
    }

    /// The text of a held id.
    pub fn text(&self, id: NameId) -> &str {
        self.texts.get(id as usize).map_or("", |text| text)
    }

    /// The table of live ids (for tests).
    #[cfg(test)]
    pub fn table(&self) -> &SlotTable {
        &self.by_text
    }

    /// Number of distinct names held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_text.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_name_is_stored_once_and_freed_by_its_last_holder() {
        let mut names = NameTable::default();
        let a = names.acquire("Kim Jong-un");
        let b = names.acquire("Kim Jong-un");
        let other = names.acquire("Pyongyang");
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(names.len(), 2);
        names.release(a);
        assert_eq!(names.text(b), "Kim Jong-un", "still held once");
        assert_eq!(names.len(), 2);
        names.release(b);
        assert_eq!(names.len(), 1, "the last release frees it");
        assert_eq!(names.text(other), "Pyongyang");
    }

    #[test]
    fn a_freed_id_is_reused_for_another_name_without_confusion() {
        let mut names = NameTable::default();
        let first = names.acquire("Vladivostok");
        let kept = names.acquire("Moscow");
        names.release(first);
        let reused = names.acquire("Seoul");
        assert_eq!(reused, first, "the free id is taken before the table grows");
        assert_eq!(names.text(reused), "Seoul");
        // The old text no longer finds the reused id: interning it again gives a new one.
        let again = names.acquire("Vladivostok");
        assert_ne!(again, reused);
        assert_eq!(names.text(again), "Vladivostok");
        assert_eq!(names.text(kept), "Moscow");
        assert_eq!(names.acquire("Seoul"), reused);
        assert_eq!(names.len(), 3);
    }

    #[test]
    fn many_names_come_and_go() {
        let mut names = NameTable::default();
        let mut held = Vec::new();
        for round in 0..5 {
            for i in 0..1_000 {
                held.push((names.acquire(&format!("name {i}")), format!("name {i}")));
            }
            // Each round holds every name once more, then releases all but one hold.
            if round > 0 {
                for (id, text) in held.drain(..1_000) {
                    assert_eq!(names.text(id), text);
                    names.release(id);
                }
            }
            assert_eq!(names.len(), 1_000);
        }
        for (id, _) in held.drain(..) {
            names.release(id);
        }
        assert_eq!(names.len(), 0);
        assert_eq!(names.free.len(), 1_000, "every id is free for reuse");
        assert_eq!(
            names.acquire(""),
            names.acquire(""),
            "even the empty name interns"
        );
    }
}
