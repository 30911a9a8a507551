//! Word count and reading time.

use crate::pipeline::{Stage, StageError};
use crate::story::Story;

/// Counts words in the headline-less body and estimates reading time.
#[derive(Debug, Clone)]
pub struct TextStats {
    words_per_minute: u32,
}

impl TextStats {
    /// A stage assuming `words_per_minute` reading speed (clamped to at least 1).
    pub fn new(words_per_minute: u32) -> Self {
        Self {
            words_per_minute: words_per_minute.max(1),
        }
    }
}

/// Words are runs of characters containing at least one alphanumeric character, so that
/// "—" or a lone "-" do not count.
///
/// One pass over the bytes: ASCII (nearly every byte of English copy) is classified by
/// table, and only other characters are decoded. The same count as
/// `text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()`
/// (a proptest holds it to that), at about a third of the instructions.
fn count_words(text: &str) -> usize {
    let bytes = text.as_bytes();
    if bytes.is_ascii() {
        return count_ascii_words(bytes);
    }
    let mut count = 0;
    // Inside a word, and whether it has had a letter or digit yet.
    let (mut in_word, mut alnum) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (space, letter, len) = if b < 0x80 {
            let class = ASCII_CLASS[usize::from(b)];
            (class == SPACE, class == ALNUM, 1)
        } else {
            // `i` is at a character boundary: the loop steps by whole characters.
            match text.get(i..).and_then(|rest| rest.chars().next()) {
                Some(c) => (c.is_whitespace(), c.is_alphanumeric(), c.len_utf8()),
                None => break,
            }
        };
        if space {
            count += usize::from(in_word && alnum);
            (in_word, alnum) = (false, false);
        } else {
            in_word = true;
            alnum |= letter;
        }
        i += len;
    }
    count + usize::from(in_word && alnum)
}

/// [`count_words`] for ASCII text (nearly every story): the same rule without a branch per
/// byte, whose outcome (space or not) changes at every word boundary.
fn count_ascii_words(bytes: &[u8]) -> usize {
    let mut count = 0;
    // whether the current run of non-space bytes has a letter or digit
    let mut alnum = false;
    for &b in bytes {
        let class = ASCII_CLASS[usize::from(b & 0x7F)];
        let space = class == SPACE;
        count += usize::from(space & alnum);
        alnum = (alnum | (class == ALNUM)) & !space;
    }
    count + usize::from(alnum)
}

const OTHER: u8 = 0;
const SPACE: u8 = 1;
const ALNUM: u8 = 2;

/// Class of each ASCII byte: white space as `char::is_whitespace` has it (space, tab, line
/// feed, vertical tab, form feed, carriage return), letters and digits, the rest.
const ASCII_CLASS: [u8; 128] = {
    let mut table = [OTHER; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r') {
            SPACE
        } else if c.is_ascii_alphanumeric() {
            ALNUM
        } else {
            OTHER
        };
        b += 1;
    }
    table
};

impl Stage for TextStats {
    fn name(&self) -> &'static str {
        "text_stats"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        let words: usize = story.body.iter().map(|b| count_words(&b.text)).sum();
        story.enrichment.word_count = words;
        // Round up: a 10-word story still takes a few seconds to read.
        let words = u64::try_from(words).unwrap_or(u64::MAX);
        story.enrichment.reading_time_s =
            (words.saturating_mul(60)).div_ceil(u64::from(self.words_per_minute));
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::Block;

    proptest::proptest! {
        #[test]
        fn count_matches_split_whitespace(text in "[a-zA-Z0-9 \t\n\r\x0B\x0C.,'\"—–-]{0,60}|\\PC{0,40}|[ a\u{85}\u{A0}\u{2003}\u{3000}é’]{0,30}") {
            let want = text
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .count();
            proptest::prop_assert_eq!(count_words(&text), want);
        }
    }

    #[test]
    fn counts_and_reading_time() {
        for (body, words, secs) in [
            (vec![], 0, 0),
            (vec!["one two — three"], 3, 1),
            (vec!["a b c", "d e"], 5, 2),
        ] {
            let story = Story {
                body: body.into_iter().map(Block::paragraph).collect(),
                ..Story::default()
            };
            let out = TextStats::new(200).process(story).unwrap();
            assert_eq!(out.enrichment.word_count, words);
            assert_eq!(out.enrichment.reading_time_s, secs);
        }
    }
}
