//! Normalise stages: clean the copy the way a copy desk would, before enrich stages read it.
//! One file per concern, each a synchronous, I/O-free [`Stage`](crate::pipeline::Stage):
//!
//! | stage | file | what it does |
//! |---|---|---|
//! | [`Unicode`] | `unicode.rs` | NFC, control characters, odd/zero-width spaces, whitespace and line endings |
//! | [`Layout`] | `layout.rs` | metadata/date/byline/dateline lines → fields, captions and credits → [`Media`](crate::story::Media), crossheads marked, repeated paragraphs removed |
//! | [`Repair`] | `repair.rs` | machine-translation damage: run-together words split, doubled words and likely garbles flagged, quality score |
//!
//! `words.rs` holds the embedded English word table the repair stage consults.
//!
//! # The audit trail
//! Every change is appended to `story.enrichment.normalisation` as
//! [`Normalisation`]`{kind, from, to, at}`. For body changes `at` is the byte offset in
//! [`Story::body_text`](crate::story::Story::body_text) *as the stage left it* where `to`
//! begins (for a removal, where the removed text was). Changes to other fields carry the
//! field name as a prefix of `kind` (`headline:odd_space`) and `at` is the offset inside
//! that field. Problems a stage notices but must not fix go to `story.enrichment.quality`.
//!
//! # Direct quotes
//! Text between double quotes (straight or typographic) is never changed except for
//! whitespace and encoding. Curly quotes stay curly in the output; [`fold_quotes`] is only
//! for matching.

mod layout;
mod repair;
mod unicode;
mod word_tokens;
mod words;

use std::borrow::Cow;
use std::ops::Range;

pub use layout::Layout;
pub use repair::Repair;
pub use unicode::Unicode;
pub use words::Lexicon;

use crate::story::Normalisation;

/// True for the characters wires use as double quotation marks.
pub fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '„' | '‟' | '«' | '»' | '＂')
}

/// Folds typographic quotes and apostrophes to ASCII, for matching only (the output keeps
/// the original characters). Borrows when there is nothing to fold.
pub fn fold_quotes(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| fold_quotes_char(c) != c) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(fold_quotes_char).collect())
}

/// [`fold_quotes`] for one character.
pub fn fold_quotes_char(c: char) -> char {
    if is_double_quote(c) {
        '"'
    } else if matches!(c, '‘' | '’' | '‚' | '‛' | '′') {
        '\''
    } else {
        c
    }
}

/// Byte ranges of direct quotes in one paragraph, delimiters included. Any double-quote
/// character opens a quote when none is open and closes the open one otherwise, so the
/// mismatched `“…“` that translation tools produce still pairs up; an unclosed quote runs to
/// the end of the paragraph (the wire convention for quotes that continue in the next one).
pub fn quote_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut open: Option<usize> = None;
    let bytes = text.as_bytes();
    // Every double quote is `"` or starts with one of the lead bytes C2, E2, EF: only those
    // positions are decoded. memchr looks for three bytes at a time; EF (only `＂`, U+FF02)
    // is rare, so text containing it takes the plain byte loop.
    let fullwidth = memchr::memchr(0xEF, bytes).is_some();
    let next_candidate = |from: usize| {
        let rest = bytes.get(from..)?;
        let found = if fullwidth {
            rest.iter()
                .position(|b| matches!(b, b'"' | 0xC2 | 0xE2 | 0xEF))
        } else {
            memchr::memchr3(b'"', 0xC2, 0xE2, rest)
        };
        found.map(|p| from + p)
    };
    let mut from = 0;
    while let Some(i) = next_candidate(from) {
        from = i + 1;
        let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
            continue;
        };
        if !is_double_quote(c) {
            continue;
        }
        match open.take() {
            None => open = Some(i),
            Some(start) => spans.push(start..i + c.len_utf8()),
        }
    }
    if let Some(start) = open {
        spans.push(start..text.len());
    }
    spans
}

/// True when `range` overlaps any of `spans`.
pub(crate) fn overlaps(spans: &[Range<usize>], range: &Range<usize>) -> bool {
    spans
        .iter()
        .any(|s| s.start < range.end && range.start < s.end)
}

/// Appends one audited change.
pub(crate) fn record(
    log: &mut Vec<Normalisation>,
    kind: &str,
    from: impl Into<String>,
    to: impl Into<String>,
    at: usize,
) {
    log.push(Normalisation {
        kind: kind.to_string(),
        from: from.into(),
        to: to.into(),
        at,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_spans_table() {
        let cases: &[(&str, &[&str])] = &[
            ("no quotes here", &[]),
            ("He said \"yes\" today", &["\"yes\""]),
            ("the “cortine of hiron“ and", &["“cortine of hiron“"]),
            ("“a” and “b”", &["“a”", "“b”"]),
            ("“Unclosed to the end", &["“Unclosed to the end"]),
            ("It’s Kim’s letter", &[]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = quote_spans(text).into_iter().map(|r| &text[r]).collect();
            assert_eq!(&got, want, "{text}");
        }
    }

    #[test]
    fn fold_quotes_table() {
        for (input, want) in [
            ("plain", "plain"),
            ("“Threat” it’s", "\"Threat\" it's"),
            ("«Oui» „ja“", "\"Oui\" \"ja\""),
        ] {
            assert_eq!(fold_quotes(input), want, "{input}");
        }
        assert!(matches!(fold_quotes("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn overlap_table() {
        for (span, range, want) in [(2..5, 4..8, true), (2..5, 5..8, false), (2..5, 0..3, true)] {
            assert_eq!(
                overlaps(std::slice::from_ref(&span), &range),
                want,
                "{span:?} {range:?}"
            );
        }
    }
}
