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

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};

use super::record::StoryRecord;
use crate::enrich::fingerprint::distance;

const BANDS: usize = 4;
/// Largest distance the band index alone answers exactly.
const BANDED_MAX_BITS: u32 = BANDS as u32 - 1;
/// Stories kept per band value (the latest): a new story is compared with at most
/// `BANDS × BUCKET_CAP` others.
pub const BUCKET_CAP: usize = 32;

fn slug_key(slug: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(slug.as_bytes())
}

fn band(fingerprint: u64, i: usize) -> u16 {
    // Truncation to the band's 16 bits is the point.
    (fingerprint >> (16 * i)) as u16
}

/// A near-duplicate found by [`StoryIndex::nearest`].
#[derive(Debug, Clone, PartialEq)]
pub struct Near {
    /// The other story's id.
    pub id: String,
    /// Differing fingerprint bits.
    pub bits: u32,
}

/// The ids sharing one band value, oldest first. Most band values belong to a single story,
/// which is then held inline: a heap-allocated queue per value cost ~100 bytes per story
/// and band.
#[derive(Debug)]
enum Bucket {
    One(Arc<str>),
    Many(VecDeque<Arc<str>>),
}

impl Bucket {
    #[cfg(test)]
    fn len(&self) -> usize {
        match self {
            Self::One(_) => 1,
            Self::Many(ids) => ids.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Arc<str>> {
        let (one, many) = match self {
            Self::One(id) => (Some(id), None),
            Self::Many(ids) => (None, Some(ids.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// Appends `id`, dropping the oldest beyond [`BUCKET_CAP`].
    fn push_capped(&mut self, id: Arc<str>) {
        match self {
            Self::One(first) => {
                let mut ids = VecDeque::with_capacity(2);
                ids.push_back(Arc::clone(first));
                ids.push_back(id);
                *self = Self::Many(ids);
            }
            Self::Many(ids) => {
                if ids.len() >= BUCKET_CAP {
                    ids.pop_front();
                }
                ids.push_back(id);
            }
        }
    }

    /// Removes `id`; true when nothing is left.
    fn remove(&mut self, id: &str) -> bool {
        match self {
            Self::One(only) => **only == *id,
            Self::Many(ids) => {
                ids.retain(|x| **x != *id);
                ids.is_empty()
            }
        }
    }
}

/// The maps share each story id (`Arc<str>`: one allocation per story, not six).
#[derive(Debug, Default)]
struct Inner {
    /// Boxed: a map sized for growth holds up to twice as many slots as records, and an
    /// empty slot then costs a pointer, not a whole record.
    by_id: HashMap<Arc<str>, Box<StoryRecord>>,
    /// Ids in the order they were (last) remembered, with that time; stale entries (the
    /// id was remembered again later, or removed) are skipped on eviction.
    order: VecDeque<(Arc<str>, DateTime<Utc>)>,
    bands: [HashMap<u16, Bucket>; BANDS],
    /// Bare slug → id of the latest story with it.
    /// Keyed by the slug's xxh3 (the record holds the slug itself).
    by_slug: HashMap<u64, Arc<str>>,
}

impl Inner {
    fn unlink(&mut self, record: &StoryRecord) {
        if let Some(fp) = record.fingerprint {
            for (i, table) in self.bands.iter_mut().enumerate() {
                if let Some(ids) = table.get_mut(&band(fp, i)) {
                    if ids.remove(&record.id) {
                        table.remove(&band(fp, i));
                    }
                }
            }
        }
        if let Some(slug) = &record.slug {
            let key = slug_key(slug);
            if self.by_slug.get(&key).is_some_and(|id| **id == *record.id) {
                self.by_slug.remove(&key);
            }
        }
    }

    fn remove(&mut self, id: &str) -> Option<StoryRecord> {
        let record = *self.by_id.remove(id)?;
        self.unlink(&record);
        Some(record)
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
    /// An empty index keeping at most `max_entries` stories for at most `max_age_s`.
    pub fn new(max_entries: usize, max_age_s: u64) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_entries: max_entries.max(1),
            max_age: Duration::seconds(i64::try_from(max_age_s).unwrap_or(i64::MAX / 1000)),
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
        self.lock().by_id.len()
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
                .get(&record.id)
                .is_some_and(|known| known.seen_at > record.seen_at)
            {
                return;
            }
            view.remember(record, now);
        });
    }

    /// Forgets a story (a tombstone in the state topic).
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// Exclusive access to the index, from [`StoryIndex::with`].
pub struct IndexView<'a> {
    inner: &'a mut Inner,
    index: &'a StoryIndex,
}

impl IndexView<'_> {
    /// The record of `id`, if remembered.
    pub fn get(&self, id: &str) -> Option<&StoryRecord> {
        self.inner.by_id.get(id).map(|r| &**r)
    }

    /// Id of the latest story with this bare slug.
    pub fn by_slug(&self, slug: &str) -> Option<&str> {
        self.inner.by_slug.get(&slug_key(slug)).map(|id| &**id)
    }

    /// The closest story with another id whose fingerprint is within `max_bits` and whose
    /// story time is within `window` of `story_time`. Ties go to the earlier story.
    pub fn nearest<'a>(
        &'a self,
        id: &str,
        fingerprint: u64,
        story_time: DateTime<Utc>,
        max_bits: u32,
        window: Duration,
    ) -> Option<Near> {
        let eligible = |other: &StoryRecord| {
            other.id != id
                && other.fingerprint.is_some()
                && (other.story_time - story_time).abs() <= window
        };
        let mut best: Option<(&StoryRecord, u32)> = None;
        let mut consider = |other: &'a StoryRecord| {
            let Some(fp) = other.fingerprint else { return };
            let bits = distance(fp, fingerprint);
            if bits > max_bits || !eligible(other) {
                return;
            }
            let better = best
                .is_none_or(|(b, bb)| bits < bb || (bits == bb && other.story_time < b.story_time));
            if better {
                best = Some((other, bits));
            }
        };
        if max_bits <= BANDED_MAX_BITS {
            for (i, table) in self.inner.bands.iter().enumerate() {
                for other in table
                    .get(&band(fingerprint, i))
                    .into_iter()
                    .flat_map(Bucket::iter)
                    .filter_map(|other_id| self.inner.by_id.get(&**other_id).map(|r| &**r))
                {
                    consider(other);
                }
            }
        } else {
            self.inner.by_id.values().for_each(|r| consider(r));
        }
        best.map(|(record, bits)| Near {
            id: record.id.clone(),
            bits,
        })
    }

    /// Stores `record` (replacing any record of its id), then evicts what exceeds the
    /// entry and age bounds.
    pub fn remember(&mut self, record: StoryRecord, now: DateTime<Utc>) {
        let inner = &mut *self.inner;
        inner.remove(&record.id);
        let id: Arc<str> = Arc::from(record.id.as_str());
        if let Some(fp) = record.fingerprint {
            for (i, table) in inner.bands.iter_mut().enumerate() {
                match table.entry(band(fp, i)) {
                    Entry::Vacant(slot) => {
                        slot.insert(Bucket::One(Arc::clone(&id)));
                    }
                    Entry::Occupied(mut slot) => slot.get_mut().push_capped(Arc::clone(&id)),
                }
            }
        }
        if let Some(slug) = &record.slug {
            inner.by_slug.insert(slug_key(slug), Arc::clone(&id));
        }
        inner.order.push_back((Arc::clone(&id), record.seen_at));
        inner.by_id.insert(id, Box::new(record));
        let oldest_allowed = now - self.index.max_age;
        while let Some((id, seen_at)) = inner.order.front().cloned() {
            let current = inner.by_id.get(&*id).is_some_and(|r| r.seen_at == seen_at);
            let over = inner.by_id.len() > self.index.max_entries || seen_at < oldest_allowed;
            if current && !over {
                break;
            }
            inner.order.pop_front();
            if current {
                inner.remove(&id);
            }
        }
        // Stale queue entries accumulate when the same ids are remembered again and again;
        // compact when the queue is much longer than the map.
        if inner.order.len() > 2 * inner.by_id.len() + 1024 {
            let by_id = &inner.by_id;
            inner
                .order
                .retain(|(id, seen)| by_id.get(&**id).is_some_and(|r| r.seen_at == *seen));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn stale_order_entries_are_compacted() {
        let index = StoryIndex::new(10, 10_000_000);
        for i in 0..5000 {
            index.apply(record("same", 7, 100 + i), at(100 + i));
        }
        assert_eq!(index.len(), 1);
        assert!(index.lock().order.len() <= 1024 + 3);
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
        for table in &inner.bands {
            assert!(table.values().all(|ids| ids.len() <= BUCKET_CAP));
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
}
