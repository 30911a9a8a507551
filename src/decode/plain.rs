//! Plain wire text: the first non-empty line is the headline, the rest is the body.
//!
//! This is the minimal reading; header, dateline and byline lifting belong to the normalise
//! stages, which see every format.

use super::{paragraphs, DecodeError};
use crate::story::{Block, Story};

/// Decodes plain text.
pub fn decode(text: &str) -> Result<Story, DecodeError> {
    let trimmed = text.trim_start();
    let (headline, rest) = match trimmed.split_once('\n') {
        Some((first, rest)) => (first.trim(), rest),
        None => (trimmed.trim(), ""),
    };
    if headline.is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(Story {
        headline: Some(headline.to_string()),
        body: paragraphs(rest).into_iter().map(Block::paragraph).collect(),
        ..Story::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_and_paragraphs() {
        let story =
            decode("\n  Quake hits coast \r\n\r\nFirst para\r\ncontinues.\r\n\r\nSecond.").unwrap();
        assert_eq!(story.headline.as_deref(), Some("Quake hits coast"));
        assert_eq!(story.body_text(), "First para continues.\n\nSecond.");
    }

    #[test]
    fn headline_only() {
        let story = decode("Only a headline").unwrap();
        assert_eq!(story.headline.as_deref(), Some("Only a headline"));
        assert!(story.body.is_empty());
    }
}
