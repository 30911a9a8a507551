//! Unicode clean-up: NFC, control characters, odd and zero-width spaces, whitespace and
//! line endings, for the body and every text field.
//!
//! Curly quotes, dashes and apostrophes are kept as they are (they are correct typography);
//! matching code folds them with [`super::fold_quotes`]. Zero-width joiners and non-joiners
//! are kept too: they carry meaning in Persian, Indic scripts and emoji.

use unicode_normalization::{is_nfc, is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::record;
use crate::pipeline::{Stage, StageError};
use crate::story::{Normalisation, Story};

/// The Unicode stage (`normalise_unicode`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unicode;

impl Unicode {
    /// Builds the stage (it has no tables).
    pub fn new() -> Self {
        Self
    }
}

/// One change inside a string: kind, before, after, byte offset in the cleaned string.
type Change = (&'static str, String, String, usize);

/// Characters removed outright, with the kind logged for them.
fn dropped_kind(c: char) -> Option<&'static str> {
    match c {
        '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}' => Some("zero_width"),
        '\u{00AD}' => Some("soft_hyphen"),
        c if c.is_control() && !c.is_whitespace() => Some("control_char"),
        _ => None,
    }
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Cheap check that `text` needs no change; most ASCII copy leaves here without allocating.
fn is_clean(text: &str, single_line: bool) -> bool {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return true;
    };
    if first.is_ascii_whitespace() || last.is_ascii_whitespace() {
        return false;
    }
    // Whole-text folds without early exits, so the compiler vectorises them: copy is clean
    // far more often than not, and a per-byte state machine cost ~10 instructions a byte.
    let ctrl = bytes.iter().fold(false, |acc, &b| {
        acc | ((b < 0x20 && b != b'\n') || b == 0x7F)
    });
    let newline = bytes.iter().fold(false, |acc, &b| acc | (b == b'\n'));
    let non_ascii = bytes.iter().fold(false, |acc, &b| acc | (b >= 0x80));
    let is_space = |b: u8| b == b' ' || b == b'\n';
    let double_space = bytes
        .iter()
        .zip(&bytes[1..])
        .fold(false, |acc, (&a, &b)| acc | (is_space(a) & is_space(b)));
    if ctrl || double_space || (newline && single_line) {
        return false;
    }
    if !non_ascii {
        return true;
    }
    // Only the non-ASCII characters are decoded. Characters below U+0300 and the General
    // Punctuation dashes and quotes (U+2010–U+2027, typical of wire copy) are always NFC,
    // so the normalisation check runs only when something else turns up.
    let mut needs_nfc_check = false;
    let mut rest = text;
    while let Some(at) = rest.bytes().position(|b| b >= 0x80) {
        let Some(c) = rest[at..].chars().next() else {
            break;
        };
        if c.is_whitespace() || dropped_kind(c).is_some() {
            return false;
        }
        needs_nfc_check |= c >= '\u{300}' && !('\u{2010}'..='\u{2027}').contains(&c);
        rest = &rest[at + c.len_utf8()..];
    }
    if !needs_nfc_check {
        return true;
    }
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => true,
        _ => is_nfc(text),
    }
}

/// Cleans one string. Returns `None` when nothing changed; otherwise the new text, with every
/// change appended to `changes`. `single_line` fields (headline, byline, …) turn line breaks
/// into spaces; body blocks keep single line breaks.
pub fn clean(text: &str, single_line: bool, changes: &mut Vec<Change>) -> Option<String> {
    if is_clean(text, single_line) {
        return None;
    }
    Some(rewrite(text, single_line, changes))
}

/// The full clean-up behind [`clean`], run when [`is_clean`] finds something to change.
fn rewrite(text: &str, single_line: bool, changes: &mut Vec<Change>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let at_start = rest.len() == text.len();
        let ws_len = rest
            .char_indices()
            .find(|&(_, c)| !c.is_whitespace())
            .map_or(rest.len(), |(i, _)| i);
        if ws_len > 0 {
            let run = &rest[..ws_len];
            rest = &rest[ws_len..];
            let replacement = if at_start || rest.is_empty() {
                ""
            } else if !single_line && run.chars().any(is_line_break) {
                "\n"
            } else {
                " "
            };
            if run != replacement {
                let kind = if run.chars().any(|c| !matches!(c, ' ' | '\n' | '\r' | '\t')) {
                    "odd_space"
                } else if run.contains('\r') {
                    "line_ending"
                } else {
                    "whitespace"
                };
                changes.push((kind, run.to_string(), replacement.to_string(), out.len()));
            }
            out.push_str(replacement);
            continue;
        }
        let word_len = rest
            .char_indices()
            .find(|&(_, c)| c.is_whitespace())
            .map_or(rest.len(), |(i, _)| i);
        let word = &rest[..word_len];
        rest = &rest[word_len..];
        if word.is_ascii() && !word.bytes().any(|b| b < 0x20 || b == 0x7F) {
            out.push_str(word);
            continue;
        }
        let mut kept = String::with_capacity(word.len());
        for c in word.chars() {
            match dropped_kind(c) {
                Some(kind) => {
                    changes.push((kind, c.to_string(), String::new(), out.len() + kept.len()))
                }
                None => kept.push(c),
            }
        }
        if !kept.is_ascii() && !is_nfc(&kept) {
            let composed: String = kept.nfc().collect();
            changes.push(("nfc", kept, composed.clone(), out.len()));
            out.push_str(&composed);
        } else {
            out.push_str(&kept);
        }
    }
    out
}

/// Cleans a single-line field in place, logging under `field:kind`.
fn clean_field(value: &mut Option<String>, field: &str, log: &mut Vec<Normalisation>) {
    let Some(text) = value.as_deref() else {
        return;
    };
    let mut changes = Vec::new();
    if let Some(new) = clean(text, true, &mut changes) {
        for (kind, from, to, at) in changes {
            record(log, &format!("{field}:{kind}"), from, to, at);
        }
        *value = if new.is_empty() { None } else { Some(new) };
    }
}

impl Stage for Unicode {
    fn name(&self) -> &'static str {
        "normalise_unicode"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        let mut log = std::mem::take(&mut story.enrichment.normalisation);
        clean_field(&mut story.headline, "headline", &mut log);
        clean_field(&mut story.slugline, "slugline", &mut log);
        clean_field(&mut story.byline, "byline", &mut log);
        clean_field(&mut story.dateline, "dateline", &mut log);
        clean_field(&mut story.located, "located", &mut log);
        for media in &mut story.media {
            clean_field(&mut media.caption, "media.caption", &mut log);
            clean_field(&mut media.credit, "media.credit", &mut log);
        }
        let notes = std::mem::take(&mut story.ed_notes);
        for note in notes {
            let mut note = Some(note);
            clean_field(&mut note, "ed_note", &mut log);
            story.ed_notes.extend(note);
        }

        let blocks = std::mem::take(&mut story.body);
        let mut offset = 0;
        let mut changes = Vec::new();
        for mut block in blocks {
            changes.clear();
            if let Some(new) = clean(&block.text, false, &mut changes) {
                if new.is_empty() {
                    record(&mut log, "empty_block", block.text, "", offset);
                    continue;
                }
                for (kind, from, to, at) in changes.drain(..) {
                    record(&mut log, kind, from, to, offset + at);
                }
                block.text = new;
            } else if block.text.is_empty() {
                record(&mut log, "empty_block", "", "", offset);
                continue;
            }
            offset += block.text.len() + 2;
            story.body.push(block);
        }
        story.enrichment.normalisation = log;
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::Block;

    fn run(text: &str) -> (String, Vec<(&'static str, String, String, usize)>) {
        let mut changes = Vec::new();
        let out = clean(text, false, &mut changes).unwrap_or_else(|| text.to_string());
        (out, changes)
    }

    #[test]
    fn clean_table() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("already clean.", "already clean.", &[]),
            (
                "“Curly” stays — and it’s fine",
                "“Curly” stays — and it’s fine",
                &[],
            ),
            ("two  spaces", "two spaces", &["whitespace"]),
            ("  padded  ", "padded", &["whitespace", "whitespace"]),
            ("tab\there", "tab here", &["whitespace"]),
            ("nbsp\u{A0}here", "nbsp here", &["odd_space"]),
            (
                "thin\u{2009}and\u{202F}narrow",
                "thin and narrow",
                &["odd_space", "odd_space"],
            ),
            ("zero\u{200B}width", "zerowidth", &["zero_width"]),
            ("soft\u{AD}hyphen", "softhyphen", &["soft_hyphen"]),
            ("bell\u{7}char", "bellchar", &["control_char"]),
            ("crlf\r\nline", "crlf\nline", &["line_ending"]),
            ("blank\n\n\nlines", "blank\nlines", &["whitespace"]),
            ("Cafe\u{301} Zu\u{308}rich", "Café Zürich", &["nfc", "nfc"]),
            ("joiner\u{200D}kept", "joiner\u{200D}kept", &[]),
        ];
        for (input, want, kinds) in cases {
            let (out, changes) = run(input);
            assert_eq!(&out, want, "{input:?}");
            let got: Vec<&str> = changes.iter().map(|c| c.0).collect();
            assert_eq!(&got, kinds, "{input:?}");
        }
    }

    #[test]
    fn change_offsets_point_into_the_output() {
        let (out, changes) = run("a  b\u{A0}\u{A0}c");
        assert_eq!(out, "a b c");
        assert_eq!(changes[0].3, 1);
        assert_eq!(changes[1].3, 3);
        assert_eq!(&out[changes[1].3..changes[1].3 + 1], " ");
    }

    #[test]
    fn single_line_fields_lose_line_breaks() {
        let mut changes = Vec::new();
        assert_eq!(
            clean("Head\nline", true, &mut changes).as_deref(),
            Some("Head line")
        );
    }

    #[test]
    fn stage_cleans_fields_and_drops_empty_blocks() {
        let story = Story {
            headline: Some("Quake\u{A0}hits".into()),
            body: vec![
                Block::paragraph("First\u{200B} para."),
                Block::paragraph(" \u{A0} "),
                Block::paragraph("Second  para."),
            ],
            ..Story::default()
        };
        let story = Unicode::new().process(story).expect("infallible");
        assert_eq!(story.headline.as_deref(), Some("Quake hits"));
        assert_eq!(story.body_text(), "First para.\n\nSecond para.");
        let kinds: Vec<(&str, usize)> = story
            .enrichment
            .normalisation
            .iter()
            .map(|n| (n.kind.as_str(), n.at))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("headline:odd_space", 5),
                ("zero_width", 5),
                ("empty_block", 13),
                ("whitespace", 19),
            ]
        );
        let body = story.body_text();
        assert_eq!(&body[19..20], " ");
    }

    /// Regression: a whitespace-only headline must become `None`, not `Some("")`.
    #[test]
    fn blank_headline_becomes_none() {
        let story = Story {
            headline: Some("\u{A0}".into()),
            ..Story::default()
        };
        let story = Unicode::new().process(story).expect("infallible");
        assert_eq!(story.headline, None);
    }

    proptest::proptest! {
        /// `is_clean` says "nothing to do" exactly when the full clean-up changes nothing
        /// (regression guard for its vectorised fast path).
        #[test]
        fn is_clean_agrees_with_the_full_clean_up(
            text in "[a-z .\n\t\r\u{7}\u{7F}\u{A0}\u{AD}\u{E9}\u{301}\u{2009}\u{200B}\u{2014}\u{2019}\u{201C}\u{2028}\u{FEFF}\u{4E2D}]{0,40}",
            single_line in proptest::bool::ANY,
        ) {
            let mut changes = Vec::new();
            let out = rewrite(&text, single_line, &mut changes);
            let unchanged = changes.is_empty() && out == text;
            proptest::prop_assert_eq!(is_clean(&text, single_line), unchanged, "{:?}", text);
        }
    }
}
