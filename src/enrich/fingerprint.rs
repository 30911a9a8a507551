//! A 64-bit SimHash of the normalised body, for duplicate and near-duplicate detection.
//!
//! Features are the lowercased content words of the body, hashed with xxh3 — a hash whose output is fixed
//! by its specification, so fingerprints stored in the state topic stay comparable across
//! copydesk versions and machines. Two rewrites of one story differ in a few bits; unrelated
//! stories differ in about 32 (Charikar 2002; Manku et al. 2007 use ≤ 3 of 64 bits for
//! near-duplicate web pages).

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

/// SimHash of `text`: lowercase words of three or more characters, function words left
/// out, each occurrence one vote. Word features (not shingles) keep a light rewrite — a few
/// words changed in a 500-word story — within a few bits. `None` when no word counts.
pub fn simhash(text: &str) -> Option<u64> {
    let mut counts = [0i32; 64];
    let mut any = false;
    let mut lower = String::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.chars().count() < 3 {
            continue;
        }
        lower.clear();
        lower.extend(word.chars().flat_map(char::to_lowercase));
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
        counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .fold(0u64, |acc, (bit, _)| acc | 1 << bit)
    })
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

    #[test]
    fn fingerprint_is_stable_across_releases() {
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
