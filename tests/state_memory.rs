//! Heap bytes per story remembered by the duplicate-detection index, counted by a global
//! allocator. The index holds up to `dedup.max_entries` (200,000) stories, so its cost per
//! story decides how far the daemon's memory grows between a small and a large backlog
//! (issue #6: RSS flat within 20 % from 10,000 to 100,000 stories). Measured with 30 entity
//! names and 45-byte ids: 1,557 bytes with names joined into one string and ids shared, then
//! 1,182 once single-story band buckets were held inline and records boxed.

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

fn record(i: u64, t: DateTime<Utc>) -> StoryRecord {
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
        entities: NameList::from(NAMES.to_vec()),
        source: format!("raw-stories/3/{i}"),
        seen_at: t,
        killed: false,
    }
}

#[test]
fn a_remembered_story_costs_under_1300_bytes() {
    const STORIES: u64 = 20_000;
    let t = DateTime::from_timestamp(1_660_608_000, 0).expect("valid time");
    let index = StoryIndex::new(200_000, 7 * 86_400);
    let before = LIVE.load(Ordering::Relaxed);
    for i in 0..STORIES {
        let r = record(i, t);
        index.with(|view| view.remember(r, t));
    }
    assert_eq!(index.len(), STORIES as usize);
    let per_story = (LIVE.load(Ordering::Relaxed) - before) / STORIES as isize;
    eprintln!("{per_story} heap bytes per remembered story");
    assert!(
        per_story < 1300,
        "{per_story} bytes per story: 100,000 stories would add {} MB",
        per_story * 100_000 / 1_000_000
    );
}
