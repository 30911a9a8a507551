//! Summary: the lede — the first sentences of the body, up to a character budget.
//!
//! News copy puts the essentials first, so the first one to three sentences are the summary
//! an editor would write. Only paragraphs count: crossheads and block quotes are skipped,
//! and so are paragraphs that are not prose but remnants of the wire layout — a byline
//! ("By Jane Doe"), a date line, a caption or picture credit, or any short line without a
//! sentence end. A dateline at the start of the lede ("KYIV, Aug 16 (Reuters) -",
//! "Taipei, Taiwan —") is left out. Sentences come from
//! [`split_sentences`](super::sentences::split_sentences) and are taken whole while they
//! fit the budget; a first sentence longer than the whole budget is cut at a word boundary
//! and ends with `…`.

use crate::pipeline::{Stage, StageError};
use crate::story::{BlockKind, Story};

use super::sentences::split_sentences;

/// Paragraphs shorter than this without a sentence end are not prose.
const SHORT_LINE_CHARS: usize = 80;
/// A dateline is at most this long.
const MAX_DATELINE_CHARS: usize = 60;

/// Markers of a caption or picture credit that ended up in the body.
const CAPTION_MARKERS: &[&str] = &[
    "image:",
    "photo:",
    "picture:",
    "credit:",
    "image source",
    "photo credit",
    "file photo",
    "(photo",
    "caption",
];

/// Whether the paragraph ends like a sentence (closing quotes and brackets aside).
fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | ')' | ']' | '”' | '’' | '»')
    });
    t.ends_with(['.', '!', '?', '…'])
}

/// Whether a body paragraph is a picture caption or credit the layout stage left in the
/// body: it starts with a caption marker, or ends with a credit ("… in 2019. Image: Mark
/// Rathbun.").
pub(crate) fn is_caption(text: &str) -> bool {
    let t = text.trim().as_bytes();
    let starts = |m: &str| {
        t.get(..m.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(m.as_bytes()))
    };
    if CAPTION_MARKERS.iter().any(|m| starts(m)) {
        return true;
    }
    // A credit marker near the end ("… (Photo: Jane Doe)"). Every marker ends in a colon, so
    // only the bytes before each colon are compared: most paragraphs have none there, and
    // this runs for every paragraph of every story (keywords and summary both ask).
    let tail = &t[t.len().saturating_sub(60)..];
    // most have no colon at all: one `memchr` (word-at-a-time) says so
    if !tail.contains(&b':') {
        return false;
    }
    tail.iter()
        .enumerate()
        .filter(|&(_, &b)| b == b':')
        .any(|(colon, _)| {
            TAIL_MARKERS.iter().any(|m| {
                (colon + 1)
                    .checked_sub(m.len())
                    .is_some_and(|from| tail[from..=colon].eq_ignore_ascii_case(m))
            })
        })
}

/// Credit markers found near the end of a caption paragraph.
const TAIL_MARKERS: [&[u8]; 4] = [b"image:", b"photo:", b"picture:", b"credit:"];

/// Whether a paragraph is a layout remnant rather than prose.
fn is_remnant(text: &str, dateline: Option<&str>) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return true;
    }
    if dateline.is_some_and(|d| t == d.trim()) {
        return true;
    }
    if is_caption(t) {
        return true;
    }
    let short = t.chars().count() < SHORT_LINE_CHARS;
    let byline = t.get(..3).is_some_and(|b| b.eq_ignore_ascii_case("by "));
    if short && (byline || !ends_sentence(t)) {
        return true;
    }
    false
}

/// Byte length of a dateline opening the paragraph, including the dash and the space after
/// it; 0 when there is none. A dateline is a short prefix before a spaced dash whose words
/// all start with a capital or a digit (parenthesised agency names aside) and that has a
/// comma or parentheses or is all capitals: `SAO PAULO, March 3 (Northwire) - `,
/// `WASHINGTON (AP) — `, `Taipei, Taiwan — `.
fn dateline_len(text: &str, dateline: Option<&str>) -> usize {
    if let Some(d) = dateline.map(str::trim).filter(|d| !d.is_empty()) {
        if let Some(rest) = text.strip_prefix(d) {
            let skipped = rest.trim_start_matches(|c: char| {
                c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':')
            });
            return text.len() - skipped.len();
        }
    }
    for dash in [" - ", " – ", " — ", " -- "] {
        let Some(at) = text.find(dash) else {
            continue;
        };
        let prefix = &text[..at];
        if prefix.chars().count() > MAX_DATELINE_CHARS || prefix.is_empty() {
            continue;
        }
        let mut depth = 0usize;
        let mut words_ok = true;
        for word in prefix.split_whitespace() {
            let opens = word.starts_with('(');
            if opens {
                depth += 1;
            }
            if depth == 0
                && !word
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
            {
                words_ok = false;
                break;
            }
            if word.ends_with(')') || word.ends_with("),") {
                depth = depth.saturating_sub(1);
            }
        }
        let all_caps = prefix
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(char::is_uppercase);
        let marked = prefix.contains(',') || prefix.contains('(') || all_caps;
        if words_ok && marked {
            return at + dash.len();
        }
    }
    0
}

/// Cuts `text` at the last word boundary within `budget` characters and adds `…`.
fn cut_words(text: &str, budget: usize) -> String {
    let limit = text
        .char_indices()
        .nth(budget.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..limit];
    let cut = head
        .rfind(char::is_whitespace)
        .filter(|&i| i > 0)
        .unwrap_or(limit);
    let mut out = head[..cut]
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-'))
        .to_string();
    out.push('…');
    out
}

/// The summary stage.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    max_chars: usize,
    max_sentences: usize,
}

impl Summary {
    /// A stage writing at most `max_sentences` sentences and `max_chars` characters.
    pub fn new(max_chars: usize, max_sentences: usize) -> Self {
        Self {
            max_chars: max_chars.max(1),
            max_sentences: max_sentences.max(1),
        }
    }

    /// The lede summary of a story, `None` when the body has no prose.
    pub fn summarise(&self, story: &Story) -> Option<String> {
        let dateline = story.dateline.as_deref();
        let mut out = String::new();
        let mut chars = 0;
        let mut sentences = 0;
        for block in &story.body {
            if block.kind != BlockKind::Paragraph || is_remnant(&block.text, dateline) {
                continue;
            }
            let skip = if sentences == 0 {
                dateline_len(&block.text, dateline)
            } else {
                0
            };
            let text = &block.text[skip..];
            for (start, end) in split_sentences(text) {
                let sentence = &text[start..end];
                let n = sentence.chars().count();
                let sep = usize::from(!out.is_empty());
                if sentences == 0 && n > self.max_chars {
                    return Some(cut_words(sentence, self.max_chars));
                }
                if chars + sep + n > self.max_chars {
                    return Some(out);
                }
                if sep == 1 {
                    out.push(' ');
                }
                out.push_str(sentence);
                chars += sep + n;
                sentences += 1;
                if sentences >= self.max_sentences {
                    return Some(out);
                }
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

impl Default for Summary {
    fn default() -> Self {
        Self::new(300, 3)
    }
}

impl Stage for Summary {
    fn name(&self) -> &'static str {
        "summary"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        story.enrichment.summary = self.summarise(&story);
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::Block;

    proptest::proptest! {
        /// Regression for the colon-anchored tail search: the same answers as comparing
        /// every window of the last 60 bytes with every marker.
        #[test]
        fn caption_tail_search_matches_every_window(
            text in "[ a-zA-Z:()]{0,80}(image|Photo|PICTURE|credit|x)?:?[ a-zA-Z]{0,20}|\\PC{0,40}"
        ) {
            let t = text.trim().as_bytes();
            let tail = &t[t.len().saturating_sub(60)..];
            let windows = TAIL_MARKERS.iter().any(|m| {
                tail.windows(m.len()).any(|w| w.eq_ignore_ascii_case(m))
            });
            let starts = CAPTION_MARKERS.iter().any(|m| {
                t.get(..m.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(m.as_bytes()))
            });
            proptest::prop_assert_eq!(is_caption(&text), starts || windows);
        }
    }

    fn story(blocks: &[(BlockKind, &str)]) -> Story {
        Story {
            body: blocks
                .iter()
                .map(|(kind, text)| Block {
                    kind: *kind,
                    text: (*text).to_string(),
                })
                .collect(),
            ..Story::default()
        }
    }

    const P: BlockKind = BlockKind::Paragraph;

    /// (blocks, max_chars, max_sentences, expected summary)
    type Case<'a> = (&'a [(BlockKind, &'a str)], usize, usize, Option<&'a str>);

    #[test]
    fn lede_sentences_table() {
        let cases: &[Case<'_>] = &[
            (&[], 300, 3, None),
            (
                &[(P, "One. Two. Three. Four.")],
                300,
                3,
                Some("One. Two. Three."),
            ),
            (&[(P, "One. Two. Three.")], 300, 1, Some("One.")),
            // the budget stops before a sentence that does not fit
            (
                &[(P, "First sentence here. Second sentence is longer.")],
                25,
                3,
                Some("First sentence here."),
            ),
            // sentences continue into the next paragraph
            (
                &[(P, "Short lede."), (P, "Then more.")],
                300,
                3,
                Some("Short lede. Then more."),
            ),
            // crossheads, quotes, bylines, dates and captions are skipped
            (
                &[
                    (P, "By Jane Doe"),
                    (P, "Friday, July 21, 2017"),
                    (P, "image source, Getty Images Caption, A man walks."),
                    (BlockKind::Crosshead, "A crosshead"),
                    (BlockKind::Quote, "\"A quote.\""),
                    (P, "The real lede is here."),
                ],
                300,
                3,
                Some("The real lede is here."),
            ),
            // a dateline at the start of the lede is left out
            (
                &[(P, "KYIV, Aug 16 (Reuters) - Power was restored on Monday.")],
                300,
                3,
                Some("Power was restored on Monday."),
            ),
            (
                &[(P, "WASHINGTON (AP) — Congress passed the bill.")],
                300,
                3,
                Some("Congress passed the bill."),
            ),
            (
                &[(P, "Taipei, Taiwan — The festival opened.")],
                300,
                3,
                Some("The festival opened."),
            ),
            // not a dateline: lower-case words before the dash
            (
                &[(P, "The plan - which failed - was dropped.")],
                300,
                3,
                Some("The plan - which failed - was dropped."),
            ),
        ];
        for (blocks, chars, sentences, want) in cases {
            let got = Summary::new(*chars, *sentences).summarise(&story(blocks));
            assert_eq!(got.as_deref(), *want, "{blocks:?}");
        }
    }

    #[test]
    fn long_first_sentence_is_cut_at_a_word() {
        let long = "word ".repeat(100) + "end.";
        let got = Summary::new(50, 3)
            .summarise(&story(&[(P, &long)]))
            .expect("summary");
        assert!(got.ends_with('…'), "{got}");
        assert!(got.chars().count() <= 50, "{got}");
        assert!(!got.contains("wor…"), "{got}");
    }

    #[test]
    fn declared_dateline_is_stripped() {
        let mut s = story(&[(
            P,
            "SAO PAULO, March 3 (Northwire) - Commuters faced delays.",
        )]);
        s.dateline = Some("SAO PAULO, March 3 (Northwire)".into());
        assert_eq!(
            Summary::default().summarise(&s).as_deref(),
            Some("Commuters faced delays.")
        );
    }

    /// Regression: a picture caption with its credit at the end ("… Image: Mark
    /// Rathbun.") was taken as the second sentence of the summary.
    #[test]
    fn caption_with_trailing_credit_is_skipped() {
        let s = story(&[
            (P, "A defector was arrested after leaving the group."),
            (
                P,
                "Daniel Montalvo in September 2010, after having left. Image: Mark Rathbun.",
            ),
            (P, "He was held for two days."),
        ]);
        assert_eq!(
            Summary::default().summarise(&s).as_deref(),
            Some("A defector was arrested after leaving the group. He was held for two days.")
        );
    }
}
