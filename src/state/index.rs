//! [`StoryIndex`]: the bounded in-memory map of known stories.
//!
//! Bounded twice: at most `max_entries` stories, none last seen more than `max_age` ago —
//! the oldest go first. Near-duplicate lookups use the pigeonhole trick of Manku et al.
//! (2007): split the 64-bit fingerprint into four 16-bit bands; two fingerprints within 3
//! bits agree exactly on at least one band, so only stories sharing a band are compared.
//! Each band value keeps only its [`BUCKET_CAP`] latest stories, so the work per story stays
//! bounded even when thousands of stories look alike (templated copy such as weather or
//! market reports, or a load test built from a few samples — that one made every lookup
//! scan tens of thousands of ids under the index lock: 260 stories/s instead of 930).
//! For larger distances the lookup scans every entry (still only XOR and popcount).
//!
//! # Memory
//!
//! The index holds up to 200,000 stories, so what one costs decides how far the daemon
//! grows with its backlog (issue #6). Each story is one [`Entry`] (its record packed, names
//! interned in a [`NameTable`]) in a slot of a chunked slab; everything else refers to it
//! by its `u32` slot: the id and slug tables ([`SlotTable`]), the eviction order (a doubly
//! linked list through the slots) and the band buckets (singly linked lists through the
//! slots, heads in one flat array per band: 1 MiB for the index, whatever its size).

use chrono::{DateTime, Duration, Utc};
use std::sync::{Mutex, MutexGuard};

use super::entry::Entry;
use super::names::NameTable;
use super::record::StoryRecord;
use super::slots::{KeyHasher, SlotTable};
use crate::enrich::fingerprint::distance;

const BANDS: usize = 4;
/// Values one band takes.
const BAND_VALUES: usize = 1 << 16;
/// Largest distance the band index alone answers exactly.
const BANDED_MAX_BITS: u32 = BANDS as u32 - 1;
/// Stories kept per band value (the latest): a new story is compared with at most
/// `BANDS × BUCKET_CAP` others.
pub const BUCKET_CAP: usize = 32;

/// A slot number: an entry's place in the slab.
type SlotId = u32;
/// End of a list.
const NIL: SlotId = SlotId::MAX;
/// In `band_next`: the entry is in no bucket of that band (it has no fingerprint, or the
/// bucket dropped it for later stories).
const UNLINKED: SlotId = SlotId::MAX - 1;
/// Slots per slab chunk. A chunk is allocated whole and never moved, so a growing index
/// wastes at most one chunk (a doubling vector would waste up to half of itself).
const CHUNK: usize = 1024;
/// Most stories an index holds: slot numbers must stay clear of [`NIL`] and [`UNLINKED`]
/// (and one more story than `max_entries` is held while the oldest is evicted).
const MAX_ENTRIES: usize = UNLINKED as usize - 1;

fn band(fingerprint: u64, i: usize) -> usize {
    // Truncation to the band's 16 bits is the point.
    usize::from((fingerprint >> (16 * i)) as u16)
}

/// A near-duplicate found by [`IndexView::nearest`].
#[derive(Debug, Clone, PartialEq)]
pub struct Near {
    /// The other story's id.
    pub id: String,
    /// Differing fingerprint bits.
    pub bits: u32,
}

/// One remembered story and its links.
#[derive(Debug)]
struct Slot {
    entry: Entry,
    /// Next older story in this story's bucket of each band, [`NIL`] at the end of the
    /// bucket, or [`UNLINKED`].
    band_next: [SlotId; BANDS],
    /// Neighbours in the eviction order: remembered before and after it.
    older: SlotId,
    newer: SlotId,
}

/// The entries, in fixed-size chunks, with a list of free slots.
#[derive(Debug, Default)]
struct Slab {
    chunks: Vec<Vec<Option<Slot>>>,
    free: Vec<SlotId>,
    live: usize,
}

fn split(slot: SlotId) -> (usize, usize) {
    (slot as usize / CHUNK, slot as usize % CHUNK)
}

impl Slab {
    fn get(&self, slot: SlotId) -> Option<&Slot> {
        let (chunk, at) = split(slot);
        self.chunks.get(chunk)?.get(at)?.as_ref()
    }

    fn get_mut(&mut self, slot: SlotId) -> Option<&mut Slot> {
        let (chunk, at) = split(slot);
        self.chunks.get_mut(chunk)?.get_mut(at)?.as_mut()
    }

    /// The entry in `slot`, which must be live (every slot a list or table holds is).
    fn entry(&self, slot: SlotId) -> &Entry {
        &self.held(slot).entry
    }

    /// The live `slot`.
    fn held(&self, slot: SlotId) -> &Slot {
        match self.get(slot) {
            Some(held) => held,
            None => unreachable!("slot {slot} is linked but empty"),
        }
    }

    /// The live `slot`, to change its links.
    fn at(&mut self, slot: SlotId) -> &mut Slot {
        match self.get_mut(slot) {
            Some(held) => held,
            None => unreachable!("slot {slot} is linked but empty"),
        }
    }

    fn insert(&mut self, value: Slot) -> SlotId {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let (chunk, at) = split(slot);
            self.chunks[chunk][at] = Some(value);
            return slot;
        }
        if self.chunks.last().is_none_or(|chunk| chunk.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let chunk = self.chunks.len() - 1;
        let at = self.chunks[chunk].len();
        self.chunks[chunk].push(Some(value));
        // Fits: `StoryIndex::new` caps the entries well below u32::MAX slots.
        SlotId::try_from(chunk * CHUNK + at).unwrap_or(UNLINKED)
    }

    fn take(&mut self, slot: SlotId) -> Option<Slot> {
        let (chunk, at) = split(slot);
        let taken = self.chunks.get_mut(chunk)?.get_mut(at)?.take()?;
        self.live -= 1;
        self.free.push(slot);
        Some(taken)
    }

    fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.chunks
            .iter()
            .flatten()
            .filter_map(|held| held.as_ref().map(|held| &held.entry))
    }
}

#[derive(Debug)]
struct Inner {
    slab: Slab,
    /// Entity names and source topics of the entries.
    names: NameTable,
    /// Slot per story id.
    by_id: SlotTable,
    /// Slot of the latest story with each bare slug.
    by_slug: SlotTable,
    /// Hashes ids and slugs for `by_id` and `by_slug`.
    keys: KeyHasher,
    /// Per band, per band value: the newest story of its bucket, or [`NIL`].
    band_heads: [Box<[SlotId]>; BANDS],
    /// Ends of the eviction order.
    oldest: SlotId,
    newest: SlotId,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            slab: Slab::default(),
            names: NameTable::default(),
            by_id: SlotTable::default(),
            by_slug: SlotTable::default(),
            keys: KeyHasher::default(),
            band_heads: std::array::from_fn(|_| vec![NIL; BAND_VALUES].into_boxed_slice()),
            oldest: NIL,
            newest: NIL,
        }
    }
}

impl Inner {
    fn find(&self, id: &str) -> Option<SlotId> {
        let slab = &self.slab;
        self.by_id
            .find(self.keys.hash(id), |slot| &*slab.entry(slot).id() == id)
    }

    fn entry(&self, id: &str) -> Option<&Entry> {
        self.find(id).map(|slot| self.slab.entry(slot))
    }

    /// Appends `slot` to the eviction order as its newest.
    fn push_newest(&mut self, slot: SlotId) {
        let newest = self.newest;
        let links = self.slab.at(slot);
        (links.older, links.newer) = (newest, NIL);
        match newest {
            NIL => self.oldest = slot,
            _ => self.slab.at(newest).newer = slot,
        }
        self.newest = slot;
    }

    fn unlink_order(&mut self, slot: SlotId) {
        let links = self.slab.at(slot);
        let (older, newer) = (links.older, links.newer);
        (links.older, links.newer) = (NIL, NIL);
        match older {
            NIL => self.oldest = newer,
            _ => self.slab.at(older).newer = newer,
        }
        match newer {
            NIL => self.newest = older,
            _ => self.slab.at(newer).older = older,
        }
    }

    /// Puts `slot` at the head of its band buckets (and in the slug table), dropping the
    /// oldest of a bucket beyond [`BUCKET_CAP`].
    fn link(&mut self, slot: SlotId) {
        if let Some(fp) = self.slab.entry(slot).fingerprint() {
            for i in 0..BANDS {
                let head = &mut self.band_heads[i][band(fp, i)];
                let next = std::mem::replace(head, slot);
                self.slab.at(slot).band_next[i] = next;
                // Walk to the bucket's BUCKET_CAP-th story; what follows it (at most one,
                // as the bucket held at most BUCKET_CAP) leaves the bucket.
                let mut last = slot;
                for _ in 1..BUCKET_CAP {
                    match self.slab.at(last).band_next[i] {
                        NIL => break,
                        next => last = next,
                    }
                }
                let dropped = std::mem::replace(&mut self.slab.at(last).band_next[i], NIL);
                if dropped != NIL {
                    debug_assert_eq!(self.slab.at(dropped).band_next[i], NIL);
                    self.slab.at(dropped).band_next[i] = UNLINKED;
                }
            }
        }
        if let Some(slug) = self.slab.entry(slot).slug() {
            let hash = self.keys.hash(slug);
            let (slab, keys) = (&self.slab, &self.keys);
            let same_slug = |other: SlotId| slab.entry(other).slug() == Some(slug);
            if self.by_slug.replace(hash, same_slug, slot).is_none() {
                let hash_of = |other: SlotId| keys.hash(slab.entry(other).slug().unwrap_or(""));
                self.by_slug.insert(hash, slot, hash_of);
            }
        }
    }

    /// Takes `slot` out of its band buckets, and out of the slug table if it is the latest
    /// story with its slug.
    fn unlink(&mut self, slot: SlotId) {
        let fingerprint = self.slab.entry(slot).fingerprint();
        for i in 0..BANDS {
            let next = std::mem::replace(&mut self.slab.at(slot).band_next[i], UNLINKED);
            let Some(fp) = fingerprint.filter(|_| next != UNLINKED) else {
                continue;
            };
            let head = &mut self.band_heads[i][band(fp, i)];
            if *head == slot {
                *head = next;
                continue;
            }
            let mut before = *head;
            while before != NIL {
                let links = self.slab.at(before);
                if links.band_next[i] == slot {
                    links.band_next[i] = next;
                    break;
                }
                before = links.band_next[i];
            }
        }
        if let Some(slug) = self.slab.entry(slot).slug() {
            let (slab, keys) = (&self.slab, &self.keys);
            let hash_of = |other: SlotId| keys.hash(slab.entry(other).slug().unwrap_or(""));
            // Removes nothing when a later story with this slug took the table's place.
            self.by_slug.remove(keys.hash(slug), slot, hash_of);
        }
    }

    /// Forgets the story in `slot` entirely.
    fn remove_slot(&mut self, slot: SlotId) {
        self.unlink(slot);
        self.unlink_order(slot);
        let (slab, keys) = (&self.slab, &self.keys);
        let hash = keys.hash(&slab.entry(slot).id());
        self.by_id
            .remove(hash, slot, |other| keys.hash(&slab.entry(other).id()));
        if let Some(held) = self.slab.take(slot) {
            held.entry.release(&mut self.names);
        }
    }

    /// The stories of the bucket of band `i` that `fingerprint` falls in, oldest first
    /// (ties between near-duplicates go to the first one considered).
    fn bucket(&self, fingerprint: u64, i: usize, into: &mut Vec<SlotId>) {
        into.clear();
        let mut slot = self.band_heads[i][band(fingerprint, i)];
        while slot != NIL && into.len() < BUCKET_CAP {
            into.push(slot);
            slot = self.slab.held(slot).band_next[i];
        }
        into.reverse();
    }
}

/// Known stories, shared by the pipeline workers and the state topic follower.
#[derive(Debug)]
pub struct StoryIndex {
    inner: Mutex<Inner>,
    max_entries: usize,
    max_age: Duration,
}

impl StoryIndex {
    /// An empty index keeping at most `max_entries` stories (at most about 4 billion) for
    /// at most `max_age_s`.
    pub fn new(max_entries: usize, max_age_s: u64) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_entries: max_entries.clamp(1, MAX_ENTRIES),
            max_age: super::seconds(max_age_s),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The index is a cache: state left by a panicking holder is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with exclusive access, so a lookup and the following update are atomic.
    pub fn with<R>(&self, f: impl FnOnce(&mut IndexView<'_>) -> R) -> R {
        let mut inner = self.lock();
        let mut view = IndexView {
            inner: &mut inner,
            index: self,
        };
        f(&mut view)
    }

    /// Number of stories remembered.
    pub fn len(&self) -> usize {
        self.lock().slab.live
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies a record read from the state topic: kept unless the index already holds a
    /// record of that id seen later (records arrive from several instances, in any order).
    pub fn apply(&self, record: StoryRecord, now: DateTime<Utc>) {
        self.with(|view| {
            if view
                .inner
                .entry(&record.id)
                .is_some_and(|known| known.seen_at() > record.seen_at)
            {
                return;
            }
            view.remember(record, now);
        });
    }

    /// Forgets a story (a tombstone in the state topic).
    pub fn forget(&self, id: &str) {
        let mut inner = self.lock();
        if let Some(slot) = inner.find(id) {
            inner.remove_slot(slot);
        }
    }
}

/// Exclusive access to the index, from [`StoryIndex::with`].
pub struct IndexView<'a> {
    inner: &'a mut Inner,
    index: &'a StoryIndex,
}

impl IndexView<'_> {
    /// The record of `id`, if remembered (unpacked from the index's compact entry).
    pub fn get(&self, id: &str) -> Option<StoryRecord> {
        self.inner
            .entry(id)
            .map(|entry| entry.unpack(&self.inner.names))
    }

    /// Id of the latest story with this bare slug.
    pub fn by_slug(&self, slug: &str) -> Option<String> {
        let slab = &self.inner.slab;
        self.inner
            .by_slug
            .find(self.inner.keys.hash(slug), |slot| {
                slab.entry(slot).slug() == Some(slug)
            })
            .map(|slot| slab.entry(slot).id().to_string())
    }

    /// The closest story with another id whose fingerprint is within `max_bits` and whose
    /// story time is within `window` of `story_time`. Ties go to the earlier story.
    pub fn nearest<'s>(
        &'s self,
        id: &str,
        fingerprint: u64,
        story_time: DateTime<Utc>,
        max_bits: u32,
        window: Duration,
    ) -> Option<Near> {
        let mut best: Option<(&Entry, u32)> = None;
        let mut consider = |other: &'s Entry| {
            let Some(fp) = other.fingerprint() else {
                return;
            };
            let bits = distance(fp, fingerprint);
            if bits > max_bits
                || &*other.id() == id
                || (other.story_time() - story_time).abs() > window
            {
                return;
            }
            let better = best.is_none_or(|(b, bb)| {
                bits < bb || (bits == bb && other.story_time() < b.story_time())
            });
            if better {
                best = Some((other, bits));
            }
        };
        let inner: &'s Inner = self.inner;
        if max_bits <= BANDED_MAX_BITS {
            let mut bucket = Vec::with_capacity(BUCKET_CAP);
            for i in 0..BANDS {
                inner.bucket(fingerprint, i, &mut bucket);
                for &slot in &bucket {
                    consider(inner.slab.entry(slot));
                }
            }
        } else {
            inner.slab.iter().for_each(&mut consider);
        }
        best.map(|(entry, bits)| Near {
            id: entry.id().to_string(),
            bits,
        })
    }

    /// Stores `record` (replacing any record of its id), then evicts what exceeds the
    /// entry and age bounds.
    ///
    /// A story's place in the eviction order is where it was first remembered with its
    /// current `seen_at`: remembering it again with the same `seen_at` (this instance's
    /// own record read back from the state topic) keeps its place, another `seen_at`
    /// makes it the newest.
    pub fn remember(&mut self, record: StoryRecord, now: DateTime<Utc>) {
        let inner = &mut *self.inner;
        // Packed before the old entry is released, so names both share stay interned.
        let entry = Entry::pack(&record, &mut inner.names);
        let slot = match inner.find(&record.id) {
            Some(slot) => {
                inner.unlink(slot);
                let same_place = inner.slab.entry(slot).seen_at() == record.seen_at;
                let old = std::mem::replace(&mut inner.slab.at(slot).entry, entry);
                old.release(&mut inner.names);
                if !same_place {
                    inner.unlink_order(slot);
                    inner.push_newest(slot);
                }
                slot
            }
            None => {
                let slot = inner.slab.insert(Slot {
                    entry,
                    band_next: [UNLINKED; BANDS],
                    older: NIL,
                    newer: NIL,
                });
                let (slab, keys) = (&inner.slab, &inner.keys);
                inner.by_id.insert(keys.hash(&record.id), slot, |other| {
                    keys.hash(&slab.entry(other).id())
                });
                inner.push_newest(slot);
                slot
            }
        };
        inner.link(slot);
        // None: the age bound reaches back before chrono's first day, so nothing is too old.
        let oldest_allowed = now
            .checked_sub_signed(self.index.max_age)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        while inner.oldest != NIL {
            let oldest = inner.oldest;
            let over = inner.slab.live > self.index.max_entries
                || inner.slab.entry(oldest).seen_at() < oldest_allowed;
            if !over {
                break;
            }
            inner.remove_slot(oldest);
        }
    }
}

#[cfg(test)]
impl Inner {
    /// Stories in the eviction order, walked from the oldest.
    fn order_len(&self) -> usize {
        let mut len = 0;
        let mut slot = self.oldest;
        while slot != NIL {
            len += 1;
            slot = self.slab.held(slot).newer;
        }
        len
    }

    /// Length of every non-empty bucket of band `i`.
    fn bucket_lens(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.band_heads[i]
            .iter()
            .filter(|&&head| head != NIL)
            .map(move |&head| {
                let mut len = 0;
                let mut slot = head;
                while slot != NIL {
                    len += 1;
                    slot = self.slab.held(slot).band_next[i];
                }
                len
            })
    }
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::record::NameList;

    fn record(id: &str, fp: u64, seen: i64) -> StoryRecord {
        let t = DateTime::from_timestamp(seen, 0).unwrap();
        StoryRecord {
            schema: super::super::record::STATE_SCHEMA.into(),
            id: id.into(),
            version: None,
            version_created: None,
            story_time: t,
            fingerprint: Some(fp),
            headline_hash: 0,
            body_hash: 0,
            slug: Some(format!("SLUG-{id}")),
            entities: Default::default(),
            source: format!("t/0/{seen}"),
            seen_at: t,
            killed: false,
        }
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    #[test]
    fn nearest_finds_within_bits_and_window() {
        let index = StoryIndex::new(100, 1_000_000);
        index.apply(record("a", 0xFFFF_0000_FFFF_0000, 100), at(100));
        index.apply(record("b", 0x1234_5678_9ABC_DEF0, 100), at(100));
        let window = Duration::seconds(3600);
        index.with(|v| {
            // Three bits off "a", spread over three bands: still one band agrees.
            let probe = 0xFFFF_0000_FFFF_0000 ^ 0b1 ^ (1 << 20) ^ (1 << 40);
            let near = v.nearest("x", probe, at(200), 3, window).unwrap();
            assert_eq!(
                near,
                Near {
                    id: "a".into(),
                    bits: 3
                }
            );
            // Its own id never matches; too far in bits or in time does not either.
            assert_eq!(v.nearest("a", probe, at(200), 3, window), None);
            assert_eq!(v.nearest("x", probe, at(200), 2, window), None);
            assert_eq!(v.nearest("x", probe, at(100_000), 3, window), None);
            // Beyond the banded range the full scan answers.
            let far = 0xFFFF_0000_FFFF_0000 ^ 0xF0F0;
            assert_eq!(v.nearest("x", far, at(200), 8, window).unwrap().bits, 8);
        });
    }

    #[test]
    fn bounded_by_entries_and_age() {
        let index = StoryIndex::new(3, 1000);
        for i in 0..5 {
            index.apply(record(&format!("s{i}"), i as u64, 10 + i), at(10 + i));
        }
        assert_eq!(index.len(), 3);
        index.with(|v| {
            assert!(v.get("s0").is_none() && v.get("s1").is_none());
            assert!(v.get("s4").is_some());
            assert_eq!(v.by_slug("SLUG-s0"), None);
        });
        // Much later: everything but the new one is too old.
        index.apply(record("late", 99, 5000), at(5000));
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn replacing_keeps_one_entry_and_older_records_lose() {
        let index = StoryIndex::new(10, 1_000_000);
        index.apply(record("a", 1, 100), at(100));
        index.apply(record("a", 2, 200), at(200));
        index.apply(record("a", 3, 150), at(200)); // an older record arriving late
        assert_eq!(index.len(), 1);
        index.with(|v| assert_eq!(v.get("a").unwrap().fingerprint, Some(2)));
        index.forget("a");
        assert!(index.is_empty());
        index.with(|v| assert_eq!(v.nearest("x", 2, at(200), 3, Duration::days(1)), None));
    }

    /// The old queue gained a stale entry each time a story was remembered again and had
    /// to be compacted; the linked order holds each story once.
    #[test]
    fn a_story_remembered_again_and_again_is_in_the_order_once() {
        let index = StoryIndex::new(10, 10_000_000);
        for i in 0..5000 {
            index.apply(record("same", 7, 100 + i), at(100 + i));
        }
        assert_eq!(index.len(), 1);
        assert_eq!(index.lock().order_len(), 1);
    }

    /// Regression: a forgotten story remembered again with the `seen_at` it had before was
    /// evicted from its old place in the order (an entry of the old queue, still current by
    /// id and time) ahead of stories remembered between the two.
    #[test]
    fn a_story_forgotten_and_remembered_again_is_the_newest() {
        let index = StoryIndex::new(3, 1_000_000);
        index.apply(record("x", 1, 10), at(10));
        index.apply(record("a", 2, 20), at(20));
        index.forget("a");
        index.apply(record("b", 3, 30), at(30));
        index.apply(record("a", 2, 20), at(30));
        index.apply(record("c", 4, 40), at(40));
        index.with(|v| assert!(v.get("x").is_none() && v.get("a").is_some()));
        index.apply(record("d", 5, 50), at(50));
        index.with(|v| {
            assert!(v.get("b").is_none(), "b was remembered before a came back");
            assert!(v.get("a").is_some() && v.get("c").is_some() && v.get("d").is_some());
        });
    }

    /// The state topic hands this instance its own records back: remembering a story again
    /// with the same `seen_at` keeps its place, as the old queue did.
    #[test]
    fn own_record_read_back_keeps_its_place() {
        let index = StoryIndex::new(2, 1_000_000);
        index.apply(record("a", 1, 10), at(10));
        index.apply(record("b", 2, 20), at(20));
        index.apply(record("a", 1, 10), at(20));
        index.apply(record("c", 3, 30), at(30));
        index.with(|v| assert!(v.get("a").is_none() && v.get("b").is_some()));
        // A later seen_at makes it the newest.
        index.apply(record("b", 2, 40), at(40));
        index.apply(record("d", 4, 50), at(50));
        index.with(|v| assert!(v.get("c").is_none() && v.get("b").is_some()));
        assert_eq!(index.lock().order_len(), 2);
    }

    #[test]
    fn records_come_back_as_remembered_and_names_are_freed() {
        let index = StoryIndex::new(2, 1_000_000);
        let mut first = record("a", 1, 10);
        first.entities = vec!["Seoul", "Kim Jong-un"].into();
        first.fingerprint = None;
        index.apply(first.clone(), at(10));
        index.with(|v| assert_eq!(v.get("a"), Some(first.clone())));
        let mut second = record("b", 2, 20);
        second.entities = vec!["Seoul"].into();
        index.apply(second, at(20));
        // "t" (the topic), "Seoul", "Kim Jong-un"
        assert_eq!(index.lock().names.len(), 3);
        index.apply(record("c", 3, 30), at(30));
        assert_eq!(index.lock().names.len(), 2, "Kim Jong-un left with a");
        index.forget("b");
        index.forget("c");
        assert_eq!(index.lock().names.len(), 0);
        assert!(index.is_empty());
        // Slots freed by eviction are reused by later stories without mixing them up.
        for i in 0..50 {
            index.apply(record(&format!("s{i}"), i as u64, 100 + i), at(100 + i));
        }
        index.with(|v| {
            assert_eq!(v.get("s49").unwrap().fingerprint, Some(49));
            assert_eq!(v.by_slug("SLUG-s48").as_deref(), Some("s48"));
            assert_eq!(v.by_slug("SLUG-s47"), None);
        });
        assert_eq!(index.lock().slab.chunks.len(), 1);
    }

    /// Regression: a bench built from ten samples made every band bucket hold thousands of
    /// ids, and every lookup scanned them all under the index lock.
    #[test]
    fn look_alike_stories_keep_buckets_bounded() {
        let index = StoryIndex::new(100_000, 1_000_000);
        let fp = 0x0123_4567_89AB_CDEF;
        for i in 0..5_000 {
            index.apply(record(&format!("s{i}"), fp, 100 + i), at(100 + i));
        }
        assert_eq!(index.len(), 5_000, "every story is still known by id");
        let inner = index.lock();
        for i in 0..BANDS {
            assert!(inner.bucket_lens(i).all(|len| len <= BUCKET_CAP));
        }
        drop(inner);
        let near = index.with(|v| {
            v.nearest("new", fp, at(6_000), 3, Duration::seconds(1_000_000))
                .expect("a look-alike is found")
        });
        // Among the latest BUCKET_CAP look-alikes, ties go to the earliest of them.
        assert_eq!(near.id, format!("s{}", 5_000 - BUCKET_CAP));
        assert_eq!(near.bits, 0);
    }

    /// `count` texts `prefix0`, `prefix1`, … whose unseeded xxh3 agrees in the low 7 bits:
    /// what anyone can compute offline, for ids or entity names of stories they send.
    fn xxh3_colliding(prefix: &str, count: usize) -> Vec<String> {
        (0..)
            .map(|i| format!("{prefix}{i}"))
            .filter(|text| xxhash_rust::xxh3::xxh3_64(text.as_bytes()) & 127 == 0)
            .take(count)
            .collect()
    }

    /// Regression: the id, slug and name tables placed keys by the low bits of unseeded
    /// xxh3 (the old index's map by id used std's randomly keyed SipHash), so crafted ids
    /// or entity names all fell into one probe run, and every lookup and insert walked it
    /// (quadratic in the number of crafted keys). 64 keys in a 128-cell table at random
    /// make runs of about ten; one run of 32 or more is all but impossible.
    #[test]
    fn crafted_keys_do_not_share_one_probe_run() {
        let index = StoryIndex::new(1_000, 1_000_000);
        let ids = xxh3_colliding("id", 64);
        let names = xxh3_colliding("name", 63);
        for (i, id) in ids.iter().enumerate() {
            let mut r = record(id, i as u64, 100);
            r.slug = Some(id.clone());
            r.entities = NameList::from(vec![names.get(i).map_or("", String::as_str)]);
            index.apply(r, at(100));
        }
        let inner = index.lock();
        assert_eq!(inner.by_id.len(), 64);
        assert_eq!(inner.names.len(), 64, "63 names and the topic");
        for (table, what) in [
            (&inner.by_id, "ids"),
            (&inner.by_slug, "slugs"),
            (inner.names.table(), "names"),
        ] {
            let run = table.longest_run();
            assert!(run < 32, "{what}: {run} keys in one probe run");
        }
    }

    /// Regression (older than the packed index): `dedup.max_age_s` beyond chrono's range
    /// (more than ~290 million years, or `now - max_age` before year -262,143) panicked
    /// in `Duration::seconds` or in the subtraction on the first story remembered.
    #[test]
    fn a_huge_max_age_keeps_everything() {
        for max_age_s in [u64::MAX, i64::MAX as u64 / 1000 + 1, 10_000_000_000_000] {
            let index = StoryIndex::new(10, max_age_s);
            index.apply(record("a", 1, 0), at(1_700_000_000));
            index.apply(record("b", 2, 1_700_000_000), at(1_700_000_000));
            assert_eq!(index.len(), 2, "max_age_s = {max_age_s}");
        }
    }
}
