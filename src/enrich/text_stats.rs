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
fn count_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

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
