//! Heap bytes per story remembered by the duplicate-detection index, counted by a global
//! allocator (requested sizes; the allocator's own rounding and headers come on top). The
//! index holds up to `dedup.max_entries` (200,000) stories, so its cost per story decides
//! how far the daemon's memory grows between a small and a large backlog (issue #6: RSS
//! flat within 20 % from 10,000 to 100,000 stories, which needs under ~240 bytes a story).
//!
//! Measured as what each story from the 10,000th to the 100,000th adds, with 45-byte ids
//! and 30 entity names per story, in two cases: (a) every story names the same 30 (a news
//! cycle: the same people, places and organisations again and again), (b) every name is
//! unique to its story (the 30 with the story number appended, 16 bytes on average).
//!
//! - Records in a map by id, names joined into one string per story: (a) 1,019, (b) 1,199
//!   bytes (1,182 on average over 20,000 stories with shared names, the earlier measure).
//! - Records packed into one slab entry each, found through tables of `u32` slots, names
//!   interned once for the whole index: (a) 233, (b) 1,744 bytes. A name only one story
//!   uses costs its text plus ~48 bytes (pointer, holder count, table cell, id, growth
//!   slack) instead of one separator byte, so (b) got dearer than before.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use chrono::{DateTime, Utc};
use copydesk::state::record::{NameList, STATE_SCHEMA};
use copydesk::state::{StoryIndex, StoryRecord};

/// The system allocator, counting live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is
// updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Entity names of a typical wire story (30, as many as a 600-word story names).
const NAMES: [&str; 30] = [
    "Vladimir Putin",
    "Kim Jong-un",
    "Russia",
    "North Korea",
    "Vladivostok",
    "Pyongyang",
    "Japan",
    "Ukraine",
    "Donetsk",
    "Luhansk",
    "Donbas",
    "KCNA",
    "Moscow",
    "Kremlin",
    "United Nations",
    "Security Council",
    "Seoul",
    "South Korea",
    "United States",
    "Washington",
    "Joe Biden",
    "Antony Blinken",
    "Sergei Lavrov",
    "China",
    "Beijing",
    "Xi Jinping",
    "Reuters",
    "Kyiv",
    "Volodymyr Zelenskiy",
    "European Union",
];

fn record(i: u64, t: DateTime<Utc>, names: Vec<String>) -> StoryRecord {
    StoryRecord {
        schema: STATE_SCHEMA.into(),
        id: format!("reuters:tag:reuters.com,2022:newsml_L1N2ZS{i:08}"),
        version: Some("3".into()),
        version_created: Some(t),
        story_time: t,
        fingerprint: Some(xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())),
        headline_hash: i,
        body_hash: i,
        slug: Some(format!("UKRAINE-CRISIS/KOREA-{i}")),
        entities: NameList::from(names),
        source: format!("raw-stories/3/{i}"),
        seen_at: t,
        killed: false,
    }
}

/// Heap bytes the index holds after `small` and after `large` stories, each named by
/// `names_of(story number)`.
fn live_bytes(small: u64, large: u64, names_of: impl Fn(u64) -> Vec<String>) -> (isize, isize) {
    let t = DateTime::from_timestamp(1_660_608_000, 0).expect("valid time");
    let before = LIVE.load(Ordering::Relaxed);
    let index = StoryIndex::new(200_000, 7 * 86_400);
    let mut at_small = 0;
    for i in 0..large {
        if i == small {
            at_small = LIVE.load(Ordering::Relaxed) - before;
        }
        let r = record(i, t, names_of(i));
        index.with(|view| view.remember(r, t));
    }
    assert_eq!(index.len(), large as usize);
    (at_small, LIVE.load(Ordering::Relaxed) - before)
}

/// Issue #6 compares a 10,000-story with a 100,000-story backlog: what matters is what each
/// story between the two adds. Prints it, and the average over all stories.
fn bytes_per_story(case: &str, names_of: impl Fn(u64) -> Vec<String>) -> isize {
    const SMALL: u64 = 10_000;
    const LARGE: u64 = 100_000;
    let (at_small, at_large) = live_bytes(SMALL, LARGE, names_of);
    let added = (at_large - at_small) / (LARGE - SMALL) as isize;
    eprintln!(
        "{case}: {added} heap bytes per story from {SMALL} to {LARGE} stories \
         ({} per story on average, {} KB at {SMALL})",
        at_large / LARGE as isize,
        at_small / 1000
    );
    added
}

/// One test for both cases: the allocation counter is global, and tests running in
/// parallel would count each other's allocations.
#[test]
fn a_remembered_story_costs_under_240_bytes_with_shared_names_and_1850_with_unique_ones() {
    let shared = bytes_per_story("shared names", |_| {
        NAMES.iter().map(|n| (*n).to_string()).collect()
    });
    let unique = bytes_per_story("unique names", |i| {
        NAMES.iter().map(|n| format!("{n} {i}")).collect()
    });
    assert!(
        shared < 240,
        "{shared} bytes per story sharing its names: 100,000 stories would add {} MB",
        shared * 100_000 / 1_000_000
    );
    assert!(
        unique < 1850,
        "{unique} bytes per story with unique names: 100,000 stories would add {} MB",
        unique * 100_000 / 1_000_000
    );
}
