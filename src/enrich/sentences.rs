//! Sentences: news-aware sentence splitting of the body text.
//!
//! One pass over the bytes. A sentence ends at `.`, `!`, `?` or an ellipsis (`…`, `...`),
//! after any closing quotes and brackets that follow it (`."` ends after the quote), when
//! whitespace follows and the next word does not start with a lower-case letter. A blank
//! line (a block break) always ends a sentence, so punctuation-less crossheads stand alone.
//!
//! A period does not end a sentence after:
//! - a title (`Mr.`, `Dr.`, `Gen.`, `Sen.`, `Gov.` …);
//! - an initial (`J. R. R. Tolkien`), an abbreviation (`Jan.`, `Inc.`, `St.`, `Calif.`) or a
//!   dotted acronym (`U.S.`, `a.m.`), unless the next word is one that typically opens a
//!   sentence ("… in the U.S. The company …");
//! - `No.`, `Art.`, `Vol.`, `pp.` before a number;
//! - anything not followed by whitespace (`3.5`, `$1.2bn`, `U.S.-led`, `example.com`).
//!
//! Datelines (`KYIV, Aug 16 (Reuters) -`, `WASHINGTON, Aug. 16 (AP) —`) have no sentence end
//! in them and stay with the first sentence.

use super::byte_scan::find_any;
use crate::pipeline::{Stage, StageError};
use crate::story::{Span, Story};

/// Titles before a name: a period after one never ends a sentence.
#[rustfmt::skip]
const TITLES: &[&str] = &[
    "Adm", "Brig", "Capt", "Cdr", "Cmdr", "Col", "Cpl", "Dr", "Fr", "Gen", "Gov", "Hon", "Insp",
    "Lieut", "Lt", "Maj", "Messrs", "Mlle", "Mme", "Mr", "Mrs", "Ms", "Msgr", "Pres", "Prof",
    "Pvt", "Rep", "Rev", "Sen", "Sgt", "Supt",
];

/// Abbreviations that are usually followed by a number.
#[rustfmt::skip]
const BEFORE_NUMBER: &[&str] = &[
    "No", "Nos", "no", "Art", "art", "Vol", "vol", "pp", "p", "Fig", "fig", "Ch", "ch", "Sec",
    "sec", "Op", "ca", "c", "approx", "Approx", "Ex", "Para", "para",
];

/// Other abbreviations: they end a sentence only before a typical sentence opener.
#[rustfmt::skip]
const ABBREVIATIONS: &[&str] = &[
    // months
    "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
    // weekdays
    "Mon", "Tue", "Tues", "Wed", "Thu", "Thur", "Thurs", "Fri", "Sat", "Sun",
    // companies, places, addresses
    "Inc", "Ltd", "Jr", "Sr", "Corp", "Co", "Cos", "Bros", "Plc", "LLC", "Dept", "Govt", "Univ",
    "Assn", "Ave", "Blvd", "Rd", "St", "Mt", "Ft", "Pt", "Sq", "Hwy",
    // US states (AP style)
    "Ala", "Ariz", "Ark", "Calif", "Colo", "Conn", "Del", "Fla", "Ga", "Ill", "Ind", "Kan",
    "Ky", "La", "Md", "Mass", "Mich", "Minn", "Miss", "Mo", "Mont", "Neb", "Nev", "Okla", "Ore",
    "Pa", "Tenn", "Tex", "Va", "Vt", "Wash", "Wis", "Wyo", "vs", "etc", "al", "cf", "est",
    "approx", "viz", "ibid", "Esq",
];

/// Capitalised words that typically open a sentence: after an abbreviation, one of these
/// means the abbreviation also ended the sentence.
#[rustfmt::skip]
const OPENERS: &[&str] = &[
    "A", "According", "After", "Also", "Although", "An", "And", "Another", "As", "At", "Before",
    "Both", "But", "By", "Despite", "During", "Each", "Earlier", "Even", "Every", "For", "From",
    "He", "Her", "Here", "His", "How", "However", "I", "If", "In", "It", "Its", "Last", "Later",
    "Many", "Meanwhile", "Most", "My", "No", "Not", "Now", "On", "One", "Only", "Other", "Our",
    "She", "Since", "So", "Some", "Still", "Such", "That", "The", "Their", "Then", "There",
    "These", "They", "This", "Those", "Thus", "Today", "Under", "Until", "We", "What", "When",
    "Where", "Which", "While", "Who", "Why", "With", "Yesterday", "Yet", "You",
];

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Closing punctuation that belongs to the sentence it follows.
fn closer_len(rest: &str) -> usize {
    match rest.as_bytes().first() {
        Some(b'"' | b'\'' | b')' | b']') => 1,
        _ => ['”', '’', '»', '“']
            .iter()
            .find(|c| rest.starts_with(**c))
            .map_or(0, |c| c.len_utf8()),
    }
}

/// Opening punctuation before the first word of a sentence.
fn opener_len(rest: &str) -> usize {
    match rest.as_bytes().first() {
        Some(b'"' | b'\'' | b'(' | b'[' | b'-') => 1,
        _ => ['“', '‘', '«', '—', '–', '¿', '¡']
            .iter()
            .find(|c| rest.starts_with(**c))
            .map_or(0, |c| c.len_utf8()),
    }
}

/// The word starting at `at` (letters, digits, apostrophes, hyphens and inner periods).
fn word_at(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    let end = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-'))
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

/// What the word before a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Before {
    /// A title: never a sentence end.
    Title,
    /// `No.`, `pp.`: not a sentence end before a number.
    NumberAbbrev,
    /// An initial, abbreviation or dotted acronym: a sentence end only before an opener.
    Abbrev,
    /// An ordinary word.
    Word,
}

fn classify(token: &str) -> Before {
    // every listed abbreviation is at most six bytes; longer dot-free tokens are words
    if token.is_empty() || (token.len() > 6 && !token.contains('.')) {
        return Before::Word;
    }
    if TITLES.contains(&token) {
        return Before::Title;
    }
    if BEFORE_NUMBER.contains(&token) {
        return Before::NumberAbbrev;
    }
    let mut chars = token.chars();
    let single_capital =
        matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase());
    // "U.S", "a.m", "e.g", "Ph.D": a dotted acronym (its last period is the one we are at)
    let dotted = token.contains('.')
        && token
            .split('.')
            .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(char::is_alphabetic));
    if single_capital || dotted || ABBREVIATIONS.contains(&token) {
        return Before::Abbrev;
    }
    // "ST. LOUIS": upper-case forms of titles and abbreviations in datelines
    if token.len() <= 5 && token.bytes().all(|b| b.is_ascii_uppercase()) {
        let mut title = [0u8; 5];
        for (i, b) in token.bytes().enumerate() {
            title[i] = if i == 0 { b } else { b.to_ascii_lowercase() };
        }
        // ASCII only, so the bytes are valid UTF-8.
        let title = std::str::from_utf8(&title[..token.len()]).unwrap_or("");
        if TITLES.contains(&title) || ABBREVIATIONS.contains(&title) {
            return Before::Abbrev;
        }
    }
    Before::Word
}

/// The token that ends at `end` (the period's offset): back to whitespace, without leading
/// opening punctuation.
fn token_before(text: &str, end: usize) -> &str {
    let head = &text[..end];
    let start = head
        .char_indices()
        .rev()
        .find(|&(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let mut token = &head[start..];
    loop {
        let n = opener_len(token);
        if n == 0 {
            break;
        }
        token = &token[n..];
    }
    token
}

/// Whether the blank-line gap starting at `at` (a `\n`) is a paragraph break; returns the
/// offset after the gap.
fn blank_line(bytes: &[u8], at: usize) -> Option<usize> {
    let mut j = at + 1;
    while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\r') {
        j += 1;
    }
    (j < bytes.len() && bytes[j] == b'\n').then_some(j + 1)
}

fn push(out: &mut Vec<(usize, usize)>, bytes: &[u8], start: usize, mut end: usize) {
    while end > start && is_space(bytes[end - 1]) {
        end -= 1;
    }
    if end > start {
        out.push((start, end));
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && is_space(bytes[at]) {
        at += 1;
    }
    at
}

/// Splits `text` into sentences: byte spans `(start, end)` without surrounding whitespace,
/// in order, non-overlapping, on char boundaries.
pub fn split_sentences(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 100 + 1);
    let mut start = skip_space(bytes, 0);
    let mut i = start;
    while i < bytes.len() {
        // jump to the next byte that can end a sentence
        let Some(skip) = find_any(&bytes[i..], [b'.', b'!', b'?', b'\n', 0xE2]) else {
            break;
        };
        i += skip;
        let b = bytes[i];
        let is_ellipsis_char = b == 0xE2 && text[i..].starts_with('…');
        if b == b'\n' {
            if let Some(next) = blank_line(bytes, i) {
                push(&mut out, bytes, start, i);
                start = skip_space(bytes, next);
                i = start;
                continue;
            }
            i += 1;
            continue;
        }
        if !(matches!(b, b'.' | b'!' | b'?') || is_ellipsis_char) {
            i += 1;
            continue;
        }
        // the run of terminators
        let term_start = i;
        let (mut dots, mut ellipsis, mut strong) = (0usize, false, false);
        let mut j = i;
        while j < bytes.len() {
            match bytes[j] {
                b'.' => {
                    dots += 1;
                    j += 1;
                }
                b'!' | b'?' => {
                    strong = true;
                    j += 1;
                }
                0xE2 if text[j..].starts_with('…') => {
                    ellipsis = true;
                    j += '…'.len_utf8();
                }
                _ => break,
            }
        }
        ellipsis |= dots >= 2;
        // closing quotes and brackets
        let mut k = j;
        loop {
            let n = closer_len(&text[k..]);
            if n == 0 {
                break;
            }
            k += n;
        }
        i = j;
        if k < bytes.len() && !is_space(bytes[k]) {
            continue; // "3.5", "U.S.-led", "e.g.,"
        }
        let next = skip_space(bytes, k);
        if next >= bytes.len() {
            break;
        }
        // the first word of what follows, past opening quotes
        let mut w = next;
        loop {
            let n = opener_len(&text[w..]);
            if n == 0 {
                break;
            }
            w += n;
        }
        let Some(first) = text[w..].chars().next() else {
            break;
        };
        if first.is_lowercase() {
            continue;
        }
        if !strong && !ellipsis {
            let token = token_before(text, term_start);
            let ends = match classify(token) {
                Before::Title => false,
                Before::NumberAbbrev => !first.is_ascii_digit(),
                Before::Abbrev => {
                    let next_word = word_at(text, w);
                    let next_is_initial = next_word.chars().count() == 1
                        && text.as_bytes().get(w + next_word.len()) == Some(&b'.');
                    OPENERS.contains(&next_word) && !next_is_initial
                }
                Before::Word => true,
            };
            if !ends {
                continue;
            }
        }
        push(&mut out, bytes, start, k);
        start = next;
        i = next;
    }
    if start < bytes.len() {
        push(&mut out, bytes, start, bytes.len());
    }
    out
}

/// The sentences stage: fills [`crate::story::Enrichment::sentences`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Sentences;

impl Sentences {
    /// Builds the stage (it has no tables to load).
    pub fn new() -> Self {
        Self
    }
}

impl Stage for Sentences {
    fn name(&self) -> &'static str {
        "sentences"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        let body = story.body_text();
        story.enrichment.sentences = split_sentences(&body)
            .into_iter()
            .map(|(start, end)| Span { start, end })
            .collect();
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        split_sentences(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   \n\n  ", &[]),
            ("One. Two.", &["One.", "Two."]),
            (
                "Mr. Smith met Dr. Jones. They talked.",
                &["Mr. Smith met Dr. Jones.", "They talked."],
            ),
            (
                "Gen. Mark Milley and Sen. Warren spoke. It was brief.",
                &["Gen. Mark Milley and Sen. Warren spoke.", "It was brief."],
            ),
            (
                "The U.S. Senate voted. It passed.",
                &["The U.S. Senate voted.", "It passed."],
            ),
            (
                "The firm moved to the U.S. The move cost $1.2bn.",
                &["The firm moved to the U.S.", "The move cost $1.2bn."],
            ),
            (
                "J. R. R. Tolkien wrote it. He was British.",
                &["J. R. R. Tolkien wrote it.", "He was British."],
            ),
            (
                "Inflation rose 3.5 percent in Jan. 2023 and fell later.",
                &["Inflation rose 3.5 percent in Jan. 2023 and fell later."],
            ),
            (
                "\"We will win.\" The crowd cheered.",
                &["\"We will win.\"", "The crowd cheered."],
            ),
            (
                "He said: “We will not retreat.” Then he left.",
                &["He said: “We will not retreat.”", "Then he left."],
            ),
            (
                "“Why?” he asked. Nobody answered.",
                &["“Why?” he asked.", "Nobody answered."],
            ),
            (
                "KYIV, Aug 16 (Reuters) - Russian forces shelled the city. Two died.",
                &[
                    "KYIV, Aug 16 (Reuters) - Russian forces shelled the city.",
                    "Two died.",
                ],
            ),
            (
                "WASHINGTON, Aug. 16 (AP) — The U.S. Senate met. It adjourned.",
                &[
                    "WASHINGTON, Aug. 16 (AP) — The U.S. Senate met.",
                    "It adjourned.",
                ],
            ),
            (
                "ST. LOUIS (AP) — Floods hit. Roads closed.",
                &["ST. LOUIS (AP) — Floods hit.", "Roads closed."],
            ),
            (
                "He paused... and then went on. Wait… What?",
                &["He paused... and then went on.", "Wait…", "What?"],
            ),
            (
                "The meeting ended at 5 p.m. Monday in St. Petersburg. Talks resume.",
                &[
                    "The meeting ended at 5 p.m. Monday in St. Petersburg.",
                    "Talks resume.",
                ],
            ),
            (
                "He is ranked No. 1 in the world. Really!",
                &["He is ranked No. 1 in the world.", "Really!"],
            ),
            (
                "Shares of Microsoft Corp. fell. Apple Inc. rose.",
                &["Shares of Microsoft Corp. fell.", "Apple Inc. rose."],
            ),
            (
                "“Threat threats from hostile forces”\n\nIn his reply, Kim insisted.",
                &[
                    "“Threat threats from hostile forces”",
                    "In his reply, Kim insisted.",
                ],
            ),
            (
                "It was “consolidated century after century.” In February, Moscow signed.",
                &[
                    "It was “consolidated century after century.”",
                    "In February, Moscow signed.",
                ],
            ),
            (
                "Visit example.com for details. Or not.",
                &["Visit example.com for details.", "Or not."],
            ),
            ("No terminal punctuation", &["No terminal punctuation"]),
            (
                "(This is in brackets.) This is not.",
                &["(This is in brackets.)", "This is not."],
            ),
            (
                "Plan B. The alternative failed.",
                &["Plan B.", "The alternative failed."],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(pieces(text), *want, "{text:?}");
        }
    }

    #[test]
    fn spans_are_trimmed_and_ordered() {
        let text = "  First one.   Second one.\n\n Third ";
        let spans = split_sentences(text);
        assert_eq!(spans, vec![(2, 12), (15, 26), (29, 34)]);
    }

    #[test]
    fn regression_closing_quote_written_as_opening_mark() {
        // the sample story closes a quote with “ instead of ”
        assert_eq!(
            pieces("the “cortine of hiron.“ And then more."),
            vec!["the “cortine of hiron.“", "And then more."]
        );
    }

    #[test]
    fn stage_fills_spans() {
        let story = Story {
            body: vec![
                crate::story::Block::paragraph("One. Two."),
                crate::story::Block::paragraph("Three"),
            ],
            ..Story::default()
        };
        let out = Sentences::new().process(story).expect("ok");
        assert_eq!(out.enrichment.sentences.len(), 3);
        assert_eq!(out.enrichment.sentences[2], Span { start: 11, end: 16 });
    }
}
