//! Property test: the index against a model of the semantics the index had before it was
//! packed (one record per id, band buckets of ids, a slug map, an eviction queue), written
//! as naively as possible — a `Vec` of records in eviction order — so that the two can only
//! agree by both being right.
//!
//! Ids, fingerprints, slugs, names, times and sources come from small sets, so that random
//! sequences of operations replace, forget, evict and re-use slots, overflow band buckets
//! and share names all the time.

use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use super::super::entry::split_source;
use super::super::record::{NameList, StoryRecord, STATE_SCHEMA};
use super::{band, StoryIndex, BANDED_MAX_BITS, BANDS, BUCKET_CAP, NIL};
use crate::enrich::fingerprint::distance;

/// What the old index did, without any of its optimisations.
struct Model {
    max_entries: usize,
    max_age: Duration,
    /// Remembered records, the next to evict first.
    order: Vec<StoryRecord>,
    /// Per band, per band value: ids, oldest first, at most [`BUCKET_CAP`].
    bands: [HashMap<usize, VecDeque<String>>; BANDS],
    /// Slug → id of the latest story remembered with it.
    slugs: HashMap<String, String>,
}

impl Model {
    fn new(max_entries: usize, max_age_s: u64) -> Self {
        Self {
            max_entries,
            max_age: Duration::seconds(max_age_s as i64),
            order: Vec::new(),
            bands: Default::default(),
            slugs: HashMap::new(),
        }
    }

    fn get(&self, id: &str) -> Option<&StoryRecord> {
        self.order.iter().find(|r| r.id == id)
    }

    /// Takes `id` out of everything; returns where it was in the order.
    fn remove(&mut self, id: &str) -> Option<(usize, StoryRecord)> {
        let at = self.order.iter().position(|r| r.id == id)?;
        let record = self.order.remove(at);
        for bucket in self.bands.iter_mut().flat_map(|b| b.values_mut()) {
            bucket.retain(|other| other != id);
        }
        if let Some(slug) = &record.slug {
            if self.slugs.get(slug).is_some_and(|other| other == id) {
                self.slugs.remove(slug);
            }
        }
        Some((at, record))
    }

    fn remember(&mut self, record: StoryRecord, now: DateTime<Utc>) {
        // Remembered again with the same seen_at (its own record read back): keeps its
        // place; otherwise it becomes the newest.
        match self.remove(&record.id) {
            Some((at, old)) if old.seen_at == record.seen_at => {
                self.order.insert(at, record.clone())
            }
            _ => self.order.push(record.clone()),
        }
        if let Some(fp) = record.fingerprint {
            for (i, buckets) in self.bands.iter_mut().enumerate() {
                let bucket = buckets.entry(band(fp, i)).or_default();
                if bucket.len() == BUCKET_CAP {
                    bucket.pop_front();
                }
                bucket.push_back(record.id.clone());
            }
        }
        if let Some(slug) = &record.slug {
            self.slugs.insert(slug.clone(), record.id.clone());
        }
        let oldest_allowed = now - self.max_age;
        while let Some(oldest) = self.order.first() {
            if self.order.len() <= self.max_entries && oldest.seen_at >= oldest_allowed {
                break;
            }
            let id = oldest.id.clone();
            self.remove(&id);
        }
    }

    fn apply(&mut self, record: StoryRecord, now: DateTime<Utc>) {
        if self
            .get(&record.id)
            .is_some_and(|known| known.seen_at > record.seen_at)
        {
            return;
        }
        self.remember(record, now);
    }

    /// Every answer `nearest` may give: the banded lookup has exactly one (candidates are
    /// considered in bucket order, oldest first, band by band, and a tie goes to the first);
    /// the full scan visits stories in no particular order, so any of the closest ones with
    /// the earliest story time will do.
    fn nearest(&self, probe: &Probe) -> BTreeSet<(String, u32)> {
        let eligible = |other: &StoryRecord| {
            let fp = other.fingerprint?;
            let bits = distance(fp, probe.fingerprint);
            (bits <= probe.max_bits
                && other.id != probe.id
                && (other.story_time - probe.story_time).abs() <= probe.window)
                .then_some(bits)
        };
        if probe.max_bits <= BANDED_MAX_BITS {
            let mut best: Option<(&StoryRecord, u32)> = None;
            for (i, buckets) in self.bands.iter().enumerate() {
                let bucket = buckets.get(&band(probe.fingerprint, i));
                for id in bucket.into_iter().flatten() {
                    let Some(other) = self.get(id) else {
                        panic!("model: {id} in a bucket but not remembered");
                    };
                    let Some(bits) = eligible(other) else {
                        continue;
                    };
                    if best.is_none_or(|(b, bb)| {
                        bits < bb || (bits == bb && other.story_time < b.story_time)
                    }) {
                        best = Some((other, bits));
                    }
                }
            }
            best.map(|(r, bits)| (r.id.clone(), bits))
                .into_iter()
                .collect()
        } else {
            let found: Vec<_> = self
                .order
                .iter()
                .filter_map(|r| eligible(r).map(|bits| (r, bits)))
                .collect();
            let Some(min) = found.iter().map(|(r, bits)| (*bits, r.story_time)).min() else {
                return BTreeSet::new();
            };
            found
                .iter()
                .filter(|(r, bits)| (*bits, r.story_time) == min)
                .map(|(r, bits)| (r.id.clone(), *bits))
                .collect()
        }
    }

    /// Distinct entity names and interned source topics of the remembered records.
    fn interned(&self) -> usize {
        let mut names = BTreeSet::new();
        for record in &self.order {
            names.extend(record.entities.iter().map(str::to_string));
            if let Some((topic, _, _)) = split_source(&record.source) {
                names.insert(topic.to_string());
            }
        }
        names.len()
    }
}

#[derive(Debug, Clone)]
struct Probe {
    id: String,
    fingerprint: u64,
    story_time: DateTime<Utc>,
    max_bits: u32,
    window: Duration,
}

#[derive(Debug, Clone)]
enum Op {
    Remember(StoryRecord, DateTime<Utc>),
    Apply(StoryRecord, DateTime<Utc>),
    Forget(String),
    Nearest(Probe),
}

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).expect("small times are valid")
}

/// Fingerprints near a few bases, so that band values are shared a lot; `crowded`: all
/// near one, so that more stories than a bucket holds share band values.
fn fingerprint(crowded: bool) -> impl Strategy<Value = u64> {
    const BASES: [u64; 3] = [0, 0x0123_4567_89AB_CDEF, 0xFFFF_0000_FFFF_0000];
    let bases = if crowded { 1 } else { BASES.len() };
    let flips = if crowded { 2 } else { 4 };
    (
        prop_oneof![4 => Just(0usize), 1 => 0..bases],
        prop::collection::vec(0..64u32, 0..flips),
    )
        .prop_map(|(base, flips)| {
            flips
                .into_iter()
                .fold(BASES[base], |fp, bit| fp ^ (1u64 << bit))
        })
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        8 => (0..40i64).prop_map(at),
        // Off the second, and a leap second (only :59 can hold one).
        1 => (0..40i64, 1..2_000_000_000u32).prop_map(|(s, n)| {
            let n = if n >= 1_000_000_000 { n % 1_000_000_000 } else { n };
            DateTime::from_timestamp(s, n).expect("valid")
        }),
        1 => Just(
            chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
                .expect("valid leap second")
                .and_utc()
        ),
    ]
}

const NAMES: [&str; 6] = ["Seoul", "Kim Jong-un", "", "Île-de-France", "Moscow", "x"];
const SOURCES: [&str; 6] = ["", "raw/01/9", "a/b/3/4", "x", "/0/0", "raw/1/+9"];

fn record(ids: usize, crowded: bool) -> impl Strategy<Value = StoryRecord> {
    let fingerprint = if crowded {
        fingerprint(true).prop_map(Some).boxed()
    } else {
        prop::option::of(fingerprint(false)).boxed()
    };
    (
        (0..ids, fingerprint, time(), 0..30i64),
        (
            prop::option::of(0..4usize),
            prop::collection::vec(0..NAMES.len(), 0..6),
            prop_oneof![
                4 => (0..2usize, -1..3i32, -2..40i64)
                    .prop_map(|(t, p, o)| format!("topic{t}/{p}/{o}")),
                1 => (0..SOURCES.len()).prop_map(|i| SOURCES[i].to_string()),
            ],
        ),
        (
            prop::option::of(prop_oneof![Just(""), Just("2"), Just("v2 — révisé")]),
            prop::option::of(prop_oneof![Just(None), time().prop_map(Some)]),
            any::<bool>(),
            any::<(u64, u64)>(),
        ),
    )
        .prop_map(
            |(
                (id, fingerprint, story_time, seen),
                (slug, names, source),
                (version, version_created, killed, (headline_hash, body_hash)),
            )| StoryRecord {
                schema: STATE_SCHEMA.into(),
                id: if id == 0 {
                    String::new()
                } else {
                    format!("s{id}")
                },
                version: version.map(str::to_string),
                // Some(None): the story time, as `StoryRecord::of` usually makes it.
                version_created: version_created.map(|t| t.unwrap_or(story_time)),
                story_time,
                fingerprint,
                headline_hash,
                body_hash,
                slug: slug.map(|s| format!("SLUG-{s}")),
                entities: NameList::from(names.into_iter().map(|i| NAMES[i]).collect::<Vec<_>>()),
                source,
                seen_at: at(seen),
                killed,
            },
        )
}

fn op(ids: usize, crowded: bool) -> impl Strategy<Value = Op> {
    let now = || (0..60i64).prop_map(at);
    prop_oneof![
        4 => (record(ids, crowded), now()).prop_map(|(r, now)| Op::Remember(r, now)),
        4 => (record(ids, crowded), now()).prop_map(|(r, now)| Op::Apply(r, now)),
        1 => (0..ids).prop_map(|id| Op::Forget(if id == 0 { String::new() } else { format!("s{id}") })),
        2 => (0..ids, fingerprint(crowded), time(), 0..8u32, 0..30i64).prop_map(
            |(id, fingerprint, story_time, max_bits, window)| Op::Nearest(Probe {
                id: format!("s{id}"),
                fingerprint,
                story_time,
                max_bits,
                window: Duration::seconds(window),
            })
        ),
    ]
}

/// Ids, index bounds, and the operations: mostly few ids in a small index (every slot is
/// replaced, forgotten and re-used again and again), sometimes more ids than a band bucket
/// holds in an index large enough to keep them (buckets overflow and drop their oldest).
fn case() -> impl Strategy<Value = (usize, usize, u64, Vec<Op>)> {
    prop_oneof![
        3 => (1..8usize, 1..10usize, 1..60u64, 1..150usize, Just(false)),
        1 => (50..80usize, 40..80usize, 40..100u64, 150..300usize, Just(true)),
    ]
    .prop_flat_map(|(ids, max_entries, max_age_s, ops, crowded)| {
        (
            Just(ids),
            Just(max_entries),
            Just(max_age_s),
            prop::collection::vec(op(ids, crowded), ops),
        )
    })
}

/// Everything the index can be asked, compared with the model's answers; and its links
/// (eviction order, buckets, interned names) against the model's state.
fn agree(index: &StoryIndex, model: &Model, ids: usize, band_values: &BTreeSet<(usize, usize)>) {
    assert_eq!(index.len(), model.order.len(), "number of stories");
    index.with(|view| {
        for id in (0..ids).map(|i| {
            if i == 0 {
                String::new()
            } else {
                format!("s{i}")
            }
        }) {
            assert_eq!(view.get(&id).as_ref(), model.get(&id), "get({id:?})");
        }
        for slug in (0..4).map(|s| format!("SLUG-{s}")) {
            assert_eq!(
                view.by_slug(&slug).as_deref(),
                model.slugs.get(&slug).map(String::as_str),
                "by_slug({slug})"
            );
        }
    });
    let inner = index.lock();
    let mut order = Vec::new();
    let mut slot = inner.oldest;
    while slot != NIL {
        let held = inner.slab.held(slot);
        order.push(held.entry.id().to_string());
        assert!(
            order.len() <= model.order.len(),
            "eviction order has a cycle"
        );
        slot = held.newer;
    }
    let expected: Vec<_> = model.order.iter().map(|r| r.id.clone()).collect();
    assert_eq!(order, expected, "eviction order, oldest first");
    for &(i, value) in band_values {
        let mut bucket = Vec::new();
        let mut slot = inner.band_heads[i][value];
        while slot != NIL {
            bucket.push(inner.slab.entry(slot).id().to_string());
            assert!(
                bucket.len() <= BUCKET_CAP,
                "band {i} bucket {value:#x} over cap"
            );
            slot = inner.slab.held(slot).band_next[i];
        }
        bucket.reverse();
        let expected: Vec<_> = model.bands[i]
            .get(&value)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        assert_eq!(bucket, expected, "band {i} bucket {value:#x}, oldest first");
    }
    assert_eq!(inner.names.len(), model.interned(), "interned names");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn index_agrees_with_the_model((ids, max_entries, max_age_s, ops) in case()) {
        let index = StoryIndex::new(max_entries, max_age_s);
        let mut model = Model::new(max_entries, max_age_s);
        let mut band_values = BTreeSet::new();
        for op in ops {
            match op {
                Op::Remember(record, now) => {
                    if let Some(fp) = record.fingerprint {
                        band_values.extend((0..BANDS).map(|i| (i, band(fp, i))));
                    }
                    model.remember(record.clone(), now);
                    index.with(|view| view.remember(record, now));
                }
                Op::Apply(record, now) => {
                    if let Some(fp) = record.fingerprint {
                        band_values.extend((0..BANDS).map(|i| (i, band(fp, i))));
                    }
                    model.apply(record.clone(), now);
                    index.apply(record, now);
                }
                Op::Forget(id) => {
                    model.remove(&id);
                    index.forget(&id);
                }
                Op::Nearest(probe) => {
                    let found = index.with(|view| {
                        view.nearest(
                            &probe.id,
                            probe.fingerprint,
                            probe.story_time,
                            probe.max_bits,
                            probe.window,
                        )
                    });
                    let allowed = model.nearest(&probe);
                    match found {
                        None => prop_assert!(allowed.is_empty(), "{probe:?}: none, not {allowed:?}"),
                        Some(near) => prop_assert!(
                            allowed.contains(&(near.id.clone(), near.bits)),
                            "{probe:?}: {near:?}, not one of {allowed:?}"
                        ),
                    }
                }
            }
            agree(&index, &model, ids, &band_values);
        }
    }
}
