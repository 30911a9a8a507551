//! A 64-bit SimHash of the normalised body, for duplicate and near-duplicate detection.
//!
//! Features are the lowercased content words of the body, hashed with xxh3 — a hash whose output is fixed
//! by its specification, so fingerprints stored in the state topic stay comparable across
//! copydesk versions and machines. Two rewrites of one story differ in a few bits; unrelated
//! stories differ in about 32 (Charikar 2002; Manku et al. 2007 use ≤ 3 of 64 bits for
//! near-duplicate web pages).

use std::sync::LazyLock;

use super::byte_scan::folded_word;
use crate::pipeline::{Stage, StageError};
use crate::story::Story;

/// Function words carry no content: two unrelated stories share them all, and counting
/// them would pull every fingerprint towards the same pattern.
const STOPWORDS: &[&str] = &[
    "about", "after", "also", "and", "are", "been", "but", "can", "for", "from", "had", "has",
    "have", "her", "his", "its", "more", "not", "one", "our", "over", "said", "says", "she",
    "than", "that", "the", "their", "them", "there", "they", "this", "two", "was", "were", "when",
    "which", "who", "will", "with", "would", "you",
];

/// Length in bytes of the longest stop word: longer words skip the list.
const MAX_STOPWORD_LEN: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < STOPWORDS.len() {
        if STOPWORDS[i].len() > max {
            max = STOPWORDS[i].len();
        }
        i += 1;
    }
    max
};

/// Every stop word packed into a `u64` (its bytes, little-endian, zero-padded), in a table
/// without collisions: a lower-cased ASCII word is a stop word exactly when its packing is
/// in its place, so the check is a multiply, a load and a compare (the binary search it
/// replaced branched six times a word).
static STOPWORDS_PACKED: LazyLock<StopTable> = LazyLock::new(StopTable::new);

/// Places in [`StopTable`]: with 512 for 42 words a multiplier without collisions turns up
/// within a few dozen tries.
const STOP_PLACES: usize = 512;

/// Packed stop words by `(packed * mul) >> 55`, 0 in the empty places (no word packs to 0).
struct StopTable {
    /// The multiplier that spreads the stop words over distinct places.
    mul: u64,
    /// Each stop word's packing in its place.
    places: Box<[u64; STOP_PLACES]>,
}

impl StopTable {
    /// Finds a multiplier and fills the table.
    fn new() -> Self {
        let packed: Vec<u64> = STOPWORDS.iter().map(|w| pack(w.as_bytes())).collect();
        // odd multipliers from a fixed sequence (splitmix64 steps), the first without
        // collisions; the words are constant, so this always ends at the same one
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        loop {
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            let mul = (z ^ (z >> 31)) | 1;
            let mut places = Box::new([0u64; STOP_PLACES]);
            let placed = packed.iter().all(|&p| {
                let place = &mut places[Self::place(mul, p)];
                let free = *place == 0;
                *place = p;
                free
            });
            if placed {
                return Self { mul, places };
            }
        }
    }

    /// The place of packing `p` (below [`STOP_PLACES`]: the top nine bits of a `u64`).
    fn place(mul: u64, p: u64) -> usize {
        (p.wrapping_mul(mul) >> 55) as usize
    }

    /// Whether `p` is the packing of a stop word. The index cannot be out of bounds:
    /// [`Self::place`] is below [`STOP_PLACES`].
    fn contains(&self, p: u64) -> bool {
        self.places[Self::place(self.mul, p)] == p
    }
}

const _: () = assert!(STOP_PLACES == 1 << (64 - 55));

// Packing is exact only for words of at most eight bytes.
const _: () = assert!(MAX_STOPWORD_LEN <= 8);

/// Up to eight bytes as one integer (zero-padded; words hold no NUL byte, so the packing of
/// words of different lengths differs).
fn pack(word: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = word.len().min(8);
    bytes[..n].copy_from_slice(&word[..n]);
    u64::from_le_bytes(bytes)
}

/// `u8::is_ascii_alphanumeric` as a table: a load instead of three range checks a byte.
static ASCII_ALNUM: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    table
};

/// Longest ASCII word lower-cased on the stack; longer ones go through a `String`.
const STACK_WORD: usize = 32;

/// SimHash of `text`: lowercase words of three or more characters, function words left
/// out, each occurrence one vote. Word features (not shingles) keep a light rewrite — a few
/// words changed in a 500-word story — within a few bits. `None` when no word counts.
pub fn simhash(text: &str) -> Option<u64> {
    let mut votes = BitVotes::default();
    let mut lower = String::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    // Words are the maximal runs of alphanumeric characters (what
    // `text.split(|c: char| !c.is_alphanumeric())` yields, without the empty pieces). ASCII
    // runs (nearly all of an English story) are found, measured and lower-cased byte by
    // byte; only a run that a non-ASCII letter or digit continues is read again by
    // characters.
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            if !ASCII_ALNUM[usize::from(b)] {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && ASCII_ALNUM[usize::from(bytes[i])] {
                i += 1;
            }
            // `i` is a character boundary: the loop moves by ASCII bytes or whole characters
            let continued = i < bytes.len()
                && bytes[i] >= 0x80
                && text[i..].chars().next().is_some_and(char::is_alphanumeric);
            if !continued {
                vote_ascii(bytes, start, i, &mut votes, &mut lower);
                continue;
            }
            // a non-ASCII letter or digit continues the word: read it by characters
            i = start;
        }
        // a word with a non-ASCII letter or digit, or a non-ASCII character to skip
        let rest = &text[i..];
        let end = rest
            .char_indices()
            .find(|&(_, c)| !c.is_alphanumeric())
            .map_or(rest.len(), |(k, _)| k);
        if end == 0 {
            // a non-ASCII character that is no letter or digit
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let word = &rest[..end];
        i += end;
        if word.chars().count() < 3 {
            continue;
        }
        lower.clear();
        lower.extend(word.chars().flat_map(char::to_lowercase));
        // lower-casing can make a non-ASCII word ASCII (the Kelvin sign becomes `k`)
        if STOPWORDS.binary_search(&lower.as_str()).is_ok() {
            continue;
        }
        votes.add(xxhash_rust::xxh3::xxh3_64(lower.as_bytes()));
    }
    votes.majority()
}

/// Votes for the ASCII word `bytes[start..end]` (ASCII letters and digits only): words
/// under three letters and stop words do not vote.
#[inline]
fn vote_ascii(bytes: &[u8], start: usize, end: usize, votes: &mut BitVotes, spill: &mut String) {
    let word = &bytes[start..end];
    if word.len() < 3 {
        return;
    }
    if word.len() <= 8 {
        // The word in one integer, lower-cased at once (ASCII letters and digits only).
        let packed = folded_word(bytes, start, word.len());
        if word.len() <= MAX_STOPWORD_LEN && STOPWORDS_PACKED.contains(packed) {
            return;
        }
        let lower = packed.to_le_bytes();
        votes.add(xxhash_rust::xxh3::xxh3_64(&lower[..word.len()]));
        return;
    }
    let mut stack = [0u8; STACK_WORD];
    let lower: &[u8] = if word.len() <= STACK_WORD {
        for (l, b) in stack.iter_mut().zip(word) {
            *l = b.to_ascii_lowercase();
        }
        &stack[..word.len()]
    } else {
        spill.clear();
        spill.extend(word.iter().map(|b| char::from(b.to_ascii_lowercase())));
        spill.as_bytes()
    };
    if lower.len() <= MAX_STOPWORD_LEN && STOPWORDS_PACKED.contains(pack(lower)) {
        return;
    }
    votes.add(xxhash_rust::xxh3::xxh3_64(lower));
}

/// Byte `b` spread over the eight bytes of a `u64`: byte `j` is bit `j` of `b`.
const fn spread_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut j = 0;
        while j < 8 {
            table[b] |= ((b as u64 >> j) & 1) << (8 * j);
            j += 1;
        }
        b += 1;
    }
    table
}

static SPREAD: [u64; 256] = spread_table();

/// Per-bit vote counts: how many hashes had each bit set, counted eight bits at a time in
/// byte-wide lanes (flushed before a lane can overflow).
struct BitVotes {
    lanes: [u64; 8],
    in_lanes: u32,
    ones: [u32; 64],
    total: u32,
}

impl Default for BitVotes {
    fn default() -> Self {
        Self {
            lanes: [0; 8],
            in_lanes: 0,
            ones: [0; 64],
            total: 0,
        }
    }
}

impl BitVotes {
    fn add(&mut self, hash: u64) {
        for (k, lane) in self.lanes.iter_mut().enumerate() {
            *lane += SPREAD[(hash >> (8 * k)) as usize & 0xff];
        }
        self.in_lanes += 1;
        self.total += 1;
        if self.in_lanes == 255 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for (k, lane) in self.lanes.iter_mut().enumerate() {
            for j in 0..8 {
                self.ones[8 * k + j] += (*lane >> (8 * j)) as u32 & 0xff;
            }
            *lane = 0;
        }
        self.in_lanes = 0;
    }

    /// The bits set by more than half of the hashes (`None` when there were none).
    fn majority(mut self) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        self.flush();
        let total = u64::from(self.total);
        Some(
            (0..64)
                .filter(|&bit| 2 * u64::from(self.ones[bit]) > total)
                .fold(0u64, |acc, bit| acc | 1 << bit),
        )
    }
}

/// Number of differing bits between two fingerprints.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Similarity in 0.0–1.0: the share of equal bits.
pub fn similarity(a: u64, b: u64) -> f64 {
    1.0 - f64::from(distance(a, b)) / 64.0
}

/// Fills `enrichment.fingerprint` from the body text.
#[derive(Debug, Clone, Default)]
pub struct Fingerprint;

impl Stage for Fingerprint {
    fn name(&self) -> &'static str {
        "fingerprint"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        story.enrichment.fingerprint = simhash(&story.body_text());
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "Ukrainian forces shelled a bridge near Kherson on Tuesday, \
        cutting a supply route used by Russian troops, officials said. The strike was the \
        third on the crossing this month. Residents reported loud explosions overnight and \
        power cuts across the southern city, which has been occupied since March.";

    #[test]
    fn identical_text_identical_fingerprint() {
        assert_eq!(simhash(STORY), simhash(STORY));
        assert!(simhash(STORY).is_some());
    }

    #[test]
    fn case_and_punctuation_do_not_matter() {
        let shouted = STORY.to_uppercase().replace(',', " ;");
        assert_eq!(simhash(STORY), simhash(&shouted));
    }

    #[test]
    fn a_light_edit_is_near_an_unrelated_story_is_far() {
        let edited = STORY
            .replace("third", "fourth")
            .replace("Tuesday", "Monday");
        let other = "The central bank raised interest rates by half a point on Thursday, \
            its biggest increase in two decades, as inflation hit a forty-year high and \
            markets braced for slower growth across the euro zone next year.";
        let (a, b, c) = (
            simhash(STORY).unwrap(),
            simhash(&edited).unwrap(),
            simhash(other).unwrap(),
        );
        assert!(distance(a, b) <= 12, "edit distance {}", distance(a, b));
        assert!(
            distance(a, c) >= 16,
            "unrelated distance {}",
            distance(a, c)
        );
        assert!(similarity(a, b) > similarity(a, c));
    }

    #[test]
    fn empty_and_short_texts() {
        assert_eq!(simhash(""), None);
        assert_eq!(simhash(" — … "), None);
        assert_eq!(simhash("the and of"), None);
        assert!(simhash("Breaking").is_some());
        assert!(simhash("Two words").is_some());
    }

    #[test]
    fn stopword_list_is_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    proptest::proptest! {
        /// The stop-word table holds exactly the stop words (the binary search over the
        /// sorted list is the plain check).
        #[test]
        fn stop_table_as_the_list(word in "[a-z]{1,5}|about|after|their|which|you|yo|th|the") {
            let packed = pack(word.as_bytes());
            proptest::prop_assert_eq!(
                STOPWORDS_PACKED.contains(packed),
                STOPWORDS.binary_search(&word.as_str()).is_ok()
            );
        }
    }

    #[test]
    fn every_stop_word_is_in_the_table() {
        for w in STOPWORDS {
            assert!(STOPWORDS_PACKED.contains(pack(w.as_bytes())), "{w}");
        }
        assert!(!STOPWORDS_PACKED.contains(pack(b"war")));
    }

    /// The first implementation, kept as the specification of the stored fingerprint.
    fn reference_simhash(text: &str) -> Option<u64> {
        let mut counts = [0i32; 64];
        let mut any = false;
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if word.chars().count() < 3 {
                continue;
            }
            let lower: String = word.chars().flat_map(char::to_lowercase).collect();
            if STOPWORDS.binary_search(&lower.as_str()).is_ok() {
                continue;
            }
            any = true;
            let hash = xxhash_rust::xxh3::xxh3_64(lower.as_bytes());
            for (bit, count) in counts.iter_mut().enumerate() {
                *count += if hash >> bit & 1 == 1 { 1 } else { -1 };
            }
        }
        any.then(|| {
            (0..64)
                .filter(|&b| counts[b] > 0)
                .fold(0u64, |acc, b| acc | 1 << b)
        })
    }

    proptest::proptest! {
        /// The fast path (ASCII words) gives the stored fingerprint bit for bit.
        #[test]
        fn same_fingerprint_as_the_reference(text in "(?s)[a-zA-Z0-9 ,.İıßÉé\u{0130}\u{00DF}ǅ\u{212A}’—\n-]{0,300}") {
            proptest::prop_assert_eq!(simhash(&text), reference_simhash(&text));
        }

        /// Long texts (more than 255 counted words: the vote lanes are flushed).
        #[test]
        fn same_fingerprint_on_long_texts(words in proptest::collection::vec("[a-zA-Zé]{2,7}|[a-zA-Z]{30,40}|[tT][hH][eE]", 200..1200)) {
            let text = words.join(" ");
            proptest::prop_assert_eq!(simhash(&text), reference_simhash(&text));
        }
    }

    #[test]
    fn fingerprint_is_stable_across_releases() {
        assert_eq!(simhash(STORY), reference_simhash(STORY));
        // Stored in the state topic: a change here breaks comparisons with stored records.
        assert_eq!(simhash("one two three four"), Some(0x8101_114a_81a2_0101));
        assert_eq!(
            simhash("one two three four"),
            simhash("One, two; three. Four!")
        );
        assert_eq!(distance(0, u64::MAX), 64);
        assert_eq!(similarity(7, 7), 1.0);
    }
}
