//! Story state: what copydesk remembers about stories it has published, so that a new
//! version, a re-send, a near-duplicate from another agency or a kill notice can be
//! recognised.
//!
//! - [`record`]: one [`StoryRecord`] per story id — the value of the compacted state topic.
//! - [`index`]: the bounded in-memory [`StoryIndex`] (entries and age), with a banded
//!   fingerprint index for near-duplicate lookups. It holds each record packed
//!   (`entry`), entity names interned once for all stories (`names`), and finds stories
//!   by id and slug through tables of slot numbers (`slots`).
//! - [`identity`]: the [`Identity`] step the pipeline runs after the enrich stages; it
//!   classifies a story against the index and fills `enrichment.identity`.
//! - [`topic`]: rebuilding the index from the compacted Kafka topic at start-up and
//!   following what the other instances of the group write to it.

mod entry;
pub mod identity;
pub mod index;
mod names;
pub mod record;
mod slots;
pub mod topic;

use chrono::Duration;
use serde::{Deserialize, Serialize};

pub use identity::{Identity, Outcome};
pub use index::StoryIndex;
pub use record::StoryRecord;

/// `[dedup]`: versions, duplicates, kill notices and the state behind them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupConfig {
    /// Track story identity at all. Off: every event says `status = "unknown"` and no
    /// state topic is read or written.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Identical or older re-sends of a known story produce no output at all (their offset
    /// is still stored and they are counted in `copydesk_duplicates_dropped_total`). Off:
    /// they are published, marked `duplicate_of`.
    #[serde(default)]
    pub drop_exact: bool,
    /// Two stories with different ids are near-duplicates when their 64-bit fingerprints
    /// differ in at most this many bits (0–16; 3 is the usual SimHash setting).
    #[serde(default = "default_near_duplicate_max_bits")]
    pub near_duplicate_max_bits: u32,
    /// Near-duplicates are looked for only among stories dated within this many seconds
    /// of the new one.
    #[serde(default = "default_window_s")]
    pub window_s: u64,
    /// Most stories remembered; the oldest are forgotten first.
    #[serde(default = "default_max_entries")]
    pub max_entries: usize,
    /// Stories last seen longer ago than this are forgotten (also the state topic's
    /// `retention.ms` when copydesk creates it).
    #[serde(default = "default_max_age_s")]
    pub max_age_s: u64,
    /// How long start-up may spend reading the state topic before consuming input.
    #[serde(default = "default_rebuild_timeout_ms")]
    pub rebuild_timeout_ms: u64,
}

/// `seconds` as a duration, the longest chrono has when it is longer (a configured
/// "forever"): `Duration::seconds` panics beyond about 290 million years.
fn seconds(seconds: u64) -> Duration {
    i64::try_from(seconds)
        .ok()
        .and_then(Duration::try_seconds)
        .unwrap_or(Duration::MAX)
}

fn default_enabled() -> bool {
    true
}
fn default_near_duplicate_max_bits() -> u32 {
    3
}
fn default_window_s() -> u64 {
    2 * 24 * 3600
}
fn default_max_entries() -> usize {
    200_000
}
fn default_max_age_s() -> u64 {
    7 * 24 * 3600
}
fn default_rebuild_timeout_ms() -> u64 {
    60_000
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            enabled: default_enabled(),
            drop_exact: false,
            near_duplicate_max_bits: default_near_duplicate_max_bits(),
            window_s: default_window_s(),
            max_entries: default_max_entries(),
            max_age_s: default_max_age_s(),
            rebuild_timeout_ms: default_rebuild_timeout_ms(),
        }
    }
}

impl DedupConfig {
    /// Checks ranges; on error returns the offending key and why.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if self.near_duplicate_max_bits > 16 {
            return Err((
                "dedup.near_duplicate_max_bits",
                "must be at most 16 (beyond that unrelated stories match)",
            ));
        }
        if self.max_entries == 0 {
            return Err(("dedup.max_entries", "must be at least 1"));
        }
        if self.max_age_s == 0 {
            return Err(("dedup.max_age_s", "must be at least 1"));
        }
        Ok(())
    }
}
