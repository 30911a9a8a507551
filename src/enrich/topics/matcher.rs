//! [`PhraseMatcher`]: finds cue phrases in folded text (see `fold`) one word at a time.
//!
//! Folded text is words (runs of bytes other than a space) between spaces, and a cue's
//! spelling is one or more words joined by single spaces. A match starts at a word and
//! covers whole words, the last one optionally followed by a plural `s` or `es`; at each
//! word the longest spelling wins ("drone strike" over "strike"), matches do not overlap,
//! and the scan resumes at the first word after a match.
//!
//! An Aho-Corasick automaton over the spellings (each after a space) did this before,
//! checking the word end after each match. It read every byte through the automaton; here a
//! word costs one hash and one table probe (two more for a word ending in `s`), and only
//! words that begin a multi-word spelling look further. The topics stage went from 14.75 M
//! to 10.42 M instructions over 60 GUM stories (callgrind), the whole chain from 232.4 M to
//! 229.9 M. The automaton also let a longer spelling that matched as far as the middle of a
//! word ("new york city" in "new york cityscape") hide a shorter one that ends at a word
//! ("new york"); this matcher finds the shorter one.

use crate::hash::IdMap;

fn hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// What a hash stands for in [`PhraseMatcher::table`].
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The first pattern whose spelling has this hash, or [`NO_PATTERN`].
    pattern: u32,
    /// Whether the first one to n − 1 words of some n-word spelling have this hash: a
    /// phrase grows by another word only while it is one of these.
    prefix: bool,
}

const NO_PATTERN: u32 = u32::MAX;

/// Spellings and the multi-word prefixes that may grow into one.
#[derive(Debug, Default)]
pub struct PhraseMatcher {
    /// Hash of a spelling or prefix → what it is. A match is confirmed on the bytes
    /// (`texts`), so a prefix sharing a spelling's hash costs only a longer look; two
    /// spellings sharing one would hide the second (none do:
    /// `tests::no_two_vocabulary_spellings_share_a_hash`).
    table: IdMap<Slot>,
    /// Each pattern's spelling.
    texts: Vec<Box<[u8]>>,
}

impl PhraseMatcher {
    /// A matcher for `spellings` (pattern `i` is `spellings[i]`: words joined by single
    /// spaces, no leading or trailing space). Of identical spellings the first is
    /// reported; an empty spelling never matches.
    pub fn new<S: AsRef<str>>(spellings: &[S]) -> Self {
        let mut matcher = Self::default();
        let empty = Slot {
            pattern: NO_PATTERN,
            prefix: false,
        };
        for (i, spelling) in spellings.iter().enumerate() {
            let bytes = spelling.as_ref().as_bytes();
            // Fits: the vocabulary has a few thousand spellings.
            let id = u32::try_from(i).unwrap_or(NO_PATTERN);
            matcher.texts.push(bytes.into());
            if bytes.is_empty() {
                continue;
            }
            let slot = matcher.table.entry(hash(bytes)).or_insert(empty);
            if slot.pattern == NO_PATTERN {
                slot.pattern = id;
            }
            for (at, _) in bytes.iter().enumerate().filter(|&(_, &b)| b == b' ') {
                matcher
                    .table
                    .entry(hash(&bytes[..at]))
                    .or_insert(empty)
                    .prefix = true;
            }
        }
        matcher
    }

    /// The pattern spelled exactly `phrase`, given the slot of its hash.
    fn spelled(&self, slot: Option<&Slot>, phrase: &[u8]) -> Option<u32> {
        let id = slot?.pattern;
        self.texts
            .get(id as usize)
            .is_some_and(|text| **text == *phrase)
            .then_some(id)
    }

    /// The slot of `phrase` and the pattern matching it, whose last word is whole: the
    /// phrase itself, else without a plural `s`, else without `es`.
    fn look_up(&self, phrase: &[u8]) -> (Option<&Slot>, Option<u32>) {
        let slot = self.table.get(&hash(phrase));
        let mut pattern = self.spelled(slot, phrase);
        if pattern.is_none() {
            if let Some(singular) = phrase.strip_suffix(b"s") {
                pattern = self
                    .spelled(self.table.get(&hash(singular)), singular)
                    .or_else(|| {
                        let stem = singular.strip_suffix(b"e")?;
                        self.spelled(self.table.get(&hash(stem)), stem)
                    });
            }
        }
        (slot, pattern)
    }

    /// Calls `hit` with the pattern of every match in `folded`, in text order (`edges` is
    /// scratch space).
    pub fn find(&self, folded: &[u8], edges: &mut Vec<usize>, mut hit: impl FnMut(u32)) {
        // Word `i` is `edges[2i]..edges[2i + 1]`: where each run of non-spaces starts and
        // ends. One pass over the bytes (words are short: a search call per word cost
        // more), and no branch per byte: every position is written, and the count moves on
        // only where a space meets a non-space (a branch there was mispredicted at about
        // every word edge).
        edges.clear();
        edges.resize(folded.len() + 2, 0);
        let mut n = 0;
        let mut prev_space = true;
        for (at, &b) in folded.iter().enumerate() {
            let space = b == b' ';
            edges[n] = at;
            n += usize::from(space != prev_space);
            prev_space = space;
        }
        if !prev_space {
            edges[n] = folded.len();
            n += 1;
        }
        edges.truncate(n);
        let word = |i: usize| Some((*edges.get(2 * i)?, *edges.get(2 * i + 1)?));
        let mut i = 0;
        while let Some((start, end)) = word(i) {
            let (mut slot, pattern) = self.look_up(&folded[start..end]);
            let mut best = pattern.map(|id| (id, i));
            // Grow the phrase word by word while it is the beginning of a longer spelling
            // and the next word follows after one space, as in spellings.
            let (mut last, mut phrase_end) = (i, end);
            while let Some((next_start, next_end)) = word(last + 1) {
                if next_start != phrase_end + 1 || !slot.is_some_and(|s| s.prefix) {
                    break;
                }
                (last, phrase_end) = (last + 1, next_end);
                let pattern;
                (slot, pattern) = self.look_up(&folded[start..phrase_end]);
                if let Some(id) = pattern {
                    best = Some((id, last));
                }
            }
            match best {
                Some((id, through)) => {
                    hit(id);
                    i = through + 1;
                }
                None => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPELLINGS: &[&str] = &[
        "war",
        "tax",
        "ware",
        "new york",
        "new york city",
        "video game",
        "gamer",
        "drone",
        "drone strike",
        "strike",
        "a b c",
        "b",
        "war",
        "",
    ];

    fn spelled(matcher: &PhraseMatcher, folded: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        matcher.find(folded.as_bytes(), &mut Vec::new(), |p| {
            out.push(SPELLINGS[p as usize])
        });
        out
    }

    /// The rule the matcher implements, spelled out: at each word, the longest spelling
    /// that is followed by a space, `s ` or `es ` (so its last word is whole, or a plural
    /// of it); then the word after the match.
    fn reference(folded: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < folded.len() {
            let word_start = folded[i] != b' ' && (i == 0 || folded[i - 1] == b' ');
            if !word_start {
                i += 1;
                continue;
            }
            let ends_word = |end: usize| {
                matches!(
                    folded.get(end..),
                    Some([b' ', ..] | [b's', b' ', ..] | [b'e', b's', b' ', ..])
                        | Some([] | [b's'] | [b'e', b's'])
                )
            };
            let best = SPELLINGS
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.is_empty())
                .filter(|(_, s)| folded[i..].starts_with(s.as_bytes()) && ends_word(i + s.len()))
                .max_by_key(|&(p, s)| (s.len(), std::cmp::Reverse(p)));
            match best {
                Some((p, s)) => {
                    out.push(p as u32);
                    i += s.len();
                    while i < folded.len() && folded[i] != b' ' {
                        i += 1;
                    }
                }
                None => i += 1,
            }
        }
        out
    }

    #[test]
    fn no_two_vocabulary_spellings_share_a_hash() {
        let spellings = &super::super::Vocabulary::get().matcher.texts;
        assert!(spellings.len() > 1000, "{} spellings", spellings.len());
        let mut seen: std::collections::HashMap<u64, &[u8]> = std::collections::HashMap::new();
        for s in spellings {
            assert!(!s.is_empty());
            if let Some(other) = seen.insert(hash(s), s) {
                assert_eq!(other, &**s, "two spellings share a hash");
            }
        }
    }

    #[test]
    fn table() {
        let matcher = PhraseMatcher::new(SPELLINGS);
        for (folded, expected) in [
            (" war ", vec!["war"]),
            (" wars ", vec!["war"]),
            (" taxes ", vec!["tax"]),
            (" warning ", vec![]),
            (" wares ", vec!["ware"]),
            (" drone strike ", vec!["drone strike"]),
            (" drone strikes ", vec!["drone strike"]),
            (" drone  strike ", vec!["drone", "strike"]),
            (" drones strike ", vec!["drone", "strike"]),
            (" new york city ", vec!["new york city"]),
            (" new york cityscape ", vec!["new york"]),
            (" a b d ", vec!["b"]),
            (" a b c b ", vec!["a b c", "b"]),
            ("war", vec!["war"]),
            ("", vec![]),
            ("   ", vec![]),
        ] {
            assert_eq!(spelled(&matcher, folded), expected, "{folded:?}");
        }
    }

    /// Regression: the Aho-Corasick matcher reported "video game" in "video gamers",
    /// discarded it for ending mid-word, and so missed "gamer" (GUM dev, the expo story).
    #[test]
    fn a_longer_spelling_ending_mid_word_does_not_hide_a_shorter_one() {
        let matcher = PhraseMatcher::new(SPELLINGS);
        assert_eq!(spelled(&matcher, " of video gamers in "), vec!["gamer"]);
    }

    proptest::proptest! {
        #[test]
        fn matches_the_rule(words in proptest::collection::vec(
            "war|wars|ware|tax|taxes|new|york|city|cityscape|video|game|gamers|drone|strike|a|b|c|x|s|es| ",
            0..12,
        ), doubled in proptest::collection::vec(proptest::bool::ANY, 12)) {
            let mut folded = String::from(" ");
            for (w, d) in words.iter().zip(&doubled) {
                folded.push_str(w);
                folded.push(' ');
                if *d {
                    folded.push(' ');
                }
            }
            let matcher = PhraseMatcher::new(SPELLINGS);
            let mut found = Vec::new();
            matcher.find(folded.as_bytes(), &mut Vec::new(), |p| found.push(p));
            proptest::prop_assert_eq!(found, reference(folded.as_bytes()), "{:?}", folded);
        }
    }
}
