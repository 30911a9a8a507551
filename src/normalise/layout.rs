//! Layout: the lines a wire puts around the story are lifted out of the body into fields.
//!
//! - a metadata line `date 2022-08-16 Drafting` → `version_created` (and `first_created`
//!   when nothing better is known) plus an editor's note `status: Drafting`;
//! - a bare date line (`15 August 2022`, `Monday, August 15, 2022`, `2022-08-15`) →
//!   `first_created`;
//! - a byline (`By Jane Doe`) → `byline`;
//! - a dateline at the head of the first paragraph (`KYIV, Ukraine (AP) —`,
//!   `GENEVA, March 2 (Northwire) -`) → `dateline` and `located` (`Kyiv, Ukraine`);
//! - caption and credit lines anywhere in the body (`image source, Getty Images Caption, …`,
//!   `Image caption, …`, `Photo credit: …`) → a [`Media`] association;
//! - short one-line paragraphs inside the body (a quoted phrase on its own line, or a short
//!   unpunctuated line) → [`BlockKind::Crosshead`];
//! - repeated paragraphs (compared case-, quote- and whitespace-folded) → removed.
//!
//! **Headline.** The plain decoder takes the first non-empty line as the headline. When
//! that line is really a metadata or date line, it is lifted like any header line and the
//! headline becomes `None`; the first remaining paragraph is promoted to headline only if
//! it looks like one (3–20 words, at most 160 bytes, no closing full stop, more text after
//! it). A missing headline is better than a made-up one: the wire sample has none, so its
//! headline stays `None` and consumers fall back to the first paragraph as they would for
//! any headless story.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use chrono::{DateTime, NaiveDate, Utc};

use super::{fold_quotes_char, is_double_quote, record};
use crate::hash::IdHasher;
use crate::pipeline::{Stage, StageError};
use crate::story::{Block, BlockKind, Media, Story};

/// The layout stage (`normalise_layout`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout;

impl Layout {
    /// Builds the stage (it has no tables).
    pub fn new() -> Self {
        Self
    }
}

/// What a header line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Header {
    /// `date 2022-08-16 Drafting`: date and optional status note.
    Metadata(NaiveDate, Option<String>),
    /// A line that is only a date.
    Date(NaiveDate),
    /// `By Jane Doe`.
    Byline,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Month number from a full or abbreviated English month name (`Aug`, `Aug.`, `Sept`).
fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    if w == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| *m == w || (w.len() == 3 && m.starts_with(w.as_str())))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn is_weekday(word: &str) -> bool {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    w.len() >= 3
        && WEEKDAYS
            .iter()
            .any(|d| *d == w || d.starts_with(w.as_str()))
}

fn day(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") || digits.len() > 2 {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

fn year(word: &str) -> Option<i32> {
    if word.len() != 4 {
        return None;
    }
    word.parse().ok().filter(|y| (1900..=2200).contains(y))
}

fn iso_date(word: &str) -> Option<NaiveDate> {
    if word.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(word, "%Y-%m-%d").ok()
}

/// A line that is nothing but a date.
fn parse_date_line(text: &str) -> Option<NaiveDate> {
    if text.len() > 40 {
        return None;
    }
    let mut words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    if words.first().is_some_and(|w| is_weekday(w)) {
        words.remove(0);
    }
    match words.as_slice() {
        [iso] => iso_date(iso),
        [a, b, y] => {
            let y = year(y)?;
            let (m, d) = match (month(a), month(b)) {
                (Some(m), None) => (m, day(b)?),
                (None, Some(m)) => (m, day(a)?),
                _ => return None,
            };
            NaiveDate::from_ymd_opt(y, m, d)
        }
        _ => None,
    }
}

/// `date 2022-08-16 Drafting`.
fn parse_metadata_line(text: &str) -> Option<(NaiveDate, Option<String>)> {
    let mut words = text.split_whitespace();
    let key = words.next()?;
    if !key.eq_ignore_ascii_case("date") && !key.eq_ignore_ascii_case("dated") {
        return None;
    }
    let date = iso_date(words.next()?.trim_end_matches(','))?;
    let rest: Vec<&str> = words.collect();
    if rest.len() > 3 || !rest.iter().all(|w| w.chars().all(char::is_alphabetic)) {
        return None;
    }
    let note = (!rest.is_empty()).then(|| rest.join(" "));
    Some((date, note))
}

/// `By Jane Doe`, `By JANE DOE and John Smith, Northwire correspondent`.
fn is_byline(text: &str) -> bool {
    let Some(rest) = strip_prefix_ci(text, "by ") else {
        return false;
    };
    if text.len() > 100 || rest.ends_with(['.', '!', '?', ':']) {
        return false;
    }
    let names = rest.split(',').next().unwrap_or("");
    let words: Vec<&str> = names.split_whitespace().collect();
    (1..=8).contains(&words.len())
        && words.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                || matches!(
                    *w,
                    "and"
                        | "of"
                        | "de"
                        | "dela"
                        | "da"
                        | "do"
                        | "dos"
                        | "di"
                        | "du"
                        | "van"
                        | "von"
                        | "der"
                        | "bin"
                        | "ibn"
                        | "al"
                        | "la"
                        | "le"
                        | "del"
                )
        })
        && !rest
            .chars()
            .any(|c| c.is_ascii_digit() || is_double_quote(c))
}

fn header_kind(text: &str) -> Option<Header> {
    if let Some((date, note)) = parse_metadata_line(text) {
        return Some(Header::Metadata(date, note));
    }
    if let Some(date) = parse_date_line(text) {
        return Some(Header::Date(date));
    }
    is_byline(text).then_some(Header::Byline)
}

/// ASCII-case-insensitive `strip_prefix`.
fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// ASCII-case-insensitive `find`.
fn find_ci(text: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    if n == 0 || text.len() < n {
        return None;
    }
    let hay = text.as_bytes();
    let needle = needle.as_bytes();
    (0..=hay.len() - n).find(|&i| hay[i..i + n].eq_ignore_ascii_case(needle))
}

/// A caption and/or credit line: `(credit, caption)`.
fn parse_media_line(text: &str) -> Option<(Option<String>, Option<String>)> {
    // Every prefix below starts with one of these letters: most paragraphs leave here.
    if text.len() > 800
        || !matches!(
            text.as_bytes().first().map(u8::to_ascii_lowercase),
            Some(b'i' | b'm' | b'p' | b'c')
        )
    {
        return None;
    }
    let clean = |s: &str| {
        let s = s.trim().trim_matches(',').trim();
        (!s.is_empty()).then(|| s.to_string())
    };
    for prefix in [
        "image source,",
        "image source:",
        "media source,",
        "picture source,",
    ] {
        if let Some(rest) = strip_prefix_ci(text, prefix) {
            for marker in [" image caption,", " caption,", " caption:"] {
                if let Some(pos) = find_ci(rest, marker) {
                    return Some((clean(&rest[..pos]), clean(&rest[pos + marker.len()..])));
                }
            }
            return (rest.len() <= 120).then(|| (clean(rest), None));
        }
    }
    for prefix in [
        "image caption,",
        "image caption:",
        "photo caption:",
        "caption:",
        "caption,",
    ] {
        if let Some(rest) = strip_prefix_ci(text, prefix) {
            return Some((None, clean(rest)));
        }
    }
    for prefix in [
        "photo credit:",
        "image credit:",
        "picture credit:",
        "credit:",
        "photo:",
        "picture:",
    ] {
        if let Some(rest) = strip_prefix_ci(text, prefix) {
            return (rest.len() <= 120 && !rest.contains(". ")).then(|| (clean(rest), None));
        }
    }
    None
}

/// A parsed dateline at the head of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dateline {
    /// The dateline as written, dash included.
    text: String,
    /// `Kyiv, Ukraine`.
    located: String,
    /// Bytes of the paragraph it occupies, trailing whitespace included.
    len: usize,
}

/// Title-cases an upper-case place name: `SAO PAULO` → `Sao Paulo`.
fn title_case(place: &str) -> String {
    let mut out = String::with_capacity(place.len());
    for (i, word) in place.split(' ').filter(|w| !w.is_empty()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.to_lowercase();
        if i > 0
            && matches!(
                lower.as_str(),
                "de" | "da" | "do" | "of" | "the" | "la" | "el"
            )
        {
            out.push_str(&lower);
            continue;
        }
        let mut start = true;
        for c in lower.chars() {
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.push(c);
            }
            start = c == '-' || c == '\'' || c == '.';
        }
    }
    out
}

/// Parses the part before the dash: `KYIV, Ukraine (AP)` → located `Kyiv, Ukraine`.
fn parse_dateline_prefix(prefix: &str) -> Option<String> {
    let prefix = prefix.trim();
    if prefix.len() > 100 || prefix.chars().any(is_double_quote) {
        return None;
    }
    let (body, agency) = match prefix.rfind('(') {
        Some(open) if prefix.ends_with(')') => (prefix[..open].trim(), true),
        _ => (prefix, false),
    };
    let (city, rest) = match body.split_once(',') {
        Some((city, rest)) => (city.trim(), Some(rest.trim())),
        None => (body, None),
    };
    let letters = city.chars().filter(|c| c.is_alphabetic()).count();
    let city_ok = letters >= 2
        && city.len() <= 40
        && city
            .chars()
            .all(|c| c.is_uppercase() || matches!(c, ' ' | '.' | '-' | '\''))
        && (agency || rest.is_some() || letters >= 4);
    if !city_ok {
        return None;
    }
    let mut located = title_case(city);
    if let Some(rest) = rest {
        let first = rest.split_whitespace().next().unwrap_or("");
        let is_date = month(first).is_some()
            || first.starts_with(|c: char| c.is_ascii_digit())
            || is_weekday(first);
        if !rest.is_empty() && !is_date && rest.len() <= 40 {
            located.push_str(", ");
            located.push_str(rest.trim_end_matches(','));
        }
    }
    Some(located)
}

/// A dateline at the start of `text`: the prefix ends at the first dash (`—`, `–`, ` - `,
/// ` -- `, or a trailing ` -`) within the first 120 bytes.
fn parse_dateline(text: &str) -> Option<Dateline> {
    let window = &text[..text.floor_char_boundary(120)];
    let mut sep: Option<(usize, usize)> = None;
    for (i, c) in window.char_indices() {
        match c {
            '—' | '–' => {
                sep = Some((i, i + c.len_utf8()));
                break;
            }
            '-' if i > 0 && window.as_bytes()[i - 1] == b' ' => {
                let mut end = i + 1;
                if window.as_bytes().get(end) == Some(&b'-') {
                    end += 1;
                }
                if end == text.len() || window.as_bytes().get(end) == Some(&b' ') {
                    sep = Some((i, end));
                    break;
                }
            }
            _ => {}
        }
    }
    let (start, end) = sep?;
    let located = parse_dateline_prefix(&text[..start])?;
    let rest = &text[end..];
    let len = end + (rest.len() - rest.trim_start().len());
    Some(Dateline {
        text: text[..end].trim().to_string(),
        located,
        len,
    })
}

/// A quoted phrase alone on its line, or a short unpunctuated line: a crosshead.
fn is_crosshead(text: &str) -> bool {
    if text.len() > 130 {
        return false;
    }
    let quotes = text.chars().filter(|&c| is_double_quote(c)).count();
    let first = text.chars().next();
    let last = text.chars().next_back();
    if quotes == 2 && first.is_some_and(is_double_quote) && last.is_some_and(is_double_quote) {
        let inner = text.trim_matches(|c: char| is_double_quote(c)).trim();
        let words = inner.split_whitespace().count();
        return (1..=12).contains(&words)
            && inner.len() <= 120
            && !inner.ends_with(['.', ',', ';', ':'])
            && !inner.contains(". ");
    }
    let words = text.split_whitespace().count();
    quotes == 0
        && (2..=10).contains(&words)
        && text.len() <= 80
        && first.is_some_and(char::is_uppercase)
        && last.is_some_and(char::is_alphanumeric)
}

/// A paragraph that could be a headline (used only when the wire gave none).
fn is_headline_like(text: &str) -> bool {
    let words = text.split_whitespace().count();
    (3..=20).contains(&words)
        && text.len() <= 160
        && !text.ends_with(['.', ',', ';', ':'])
        && text.chars().next().is_some_and(char::is_uppercase)
        && parse_dateline(text).is_none()
        && parse_media_line(text).is_none()
}

/// Case-, quote- and whitespace-folded 128-bit hash for duplicate detection (`buf` is
/// scratch space reused across paragraphs; a collision between two different paragraphs of
/// one story is astronomically unlikely).
fn paragraph_key(text: &str, buf: &mut Vec<u8>) -> u128 {
    fold_paragraph(text, buf);
    xxhash_rust::xxh3::xxh3_128(buf)
}

/// The text [`paragraph_key`] hashes: lower case, curly quotes straightened, each run of
/// whitespace one space, none at either end.
fn fold_paragraph(text: &str, buf: &mut Vec<u8>) {
    buf.clear();
    buf.reserve(text.len());
    let bytes = text.as_bytes();
    // Most paragraphs are printable ASCII with single spaces: then the folded text is the
    // text lower-cased. Both checks and the copy are whole-slice passes the compiler
    // vectorises.
    let printable = bytes
        .iter()
        .fold(true, |acc, &b| acc & (0x20..0x7F).contains(&b));
    let double_space = bytes
        .iter()
        .zip(bytes.iter().skip(1))
        .fold(false, |acc, (&a, &b)| acc | ((a == b' ') & (b == b' ')));
    if printable && !double_space && bytes.first() != Some(&b' ') && bytes.last() != Some(&b' ') {
        buf.extend(bytes.iter().map(u8::to_ascii_lowercase));
    } else {
        fold_paragraph_bytewise(text, buf);
    }
}

/// [`fold_paragraph`] for any text, a byte at a time (non-ASCII characters decoded).
fn fold_paragraph_bytewise(text: &str, buf: &mut Vec<u8>) {
    buf.clear();
    let bytes = text.as_bytes();
    let mut pending_space = false;
    let mut utf8 = [0u8; 4];
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            i += 1;
            if b.is_ascii_whitespace() {
                pending_space = !buf.is_empty();
                continue;
            }
            if pending_space {
                buf.push(b' ');
                pending_space = false;
            }
            buf.push(b.to_ascii_lowercase());
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        i += c.len_utf8();
        if c.is_whitespace() {
            pending_space = !buf.is_empty();
            continue;
        }
        if pending_space {
            buf.push(b' ');
            pending_space = false;
        }
        for l in fold_quotes_char(c).to_lowercase() {
            buf.extend_from_slice(l.encode_utf8(&mut utf8).as_bytes());
        }
    }
}

fn midnight(date: NaiveDate) -> Option<DateTime<Utc>> {
    date.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

fn attach_media(media: &mut Vec<Media>, credit: Option<String>, caption: Option<String>) {
    if let Some(last) = media.last_mut() {
        let fits = (credit.is_none() || last.credit.is_none())
            && (caption.is_none() || last.caption.is_none())
            && (credit.is_none() != caption.is_none());
        if fits {
            last.credit = last.credit.take().or(credit);
            last.caption = last.caption.take().or(caption);
            return;
        }
    }
    media.push(Media {
        name: format!("image{}", media.len() + 1),
        kind: "picture".into(),
        uri: None,
        caption,
        credit,
    });
}

impl Stage for Layout {
    fn name(&self) -> &'static str {
        "normalise_layout"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        let mut log = std::mem::take(&mut story.enrichment.normalisation);
        let mut blocks = std::mem::take(&mut story.body);

        // A headline that is really a header line goes back to the head of the body, to be
        // lifted like the others.
        let mut headline_checked = true;
        if let Some(headline) = story.headline.take() {
            if header_kind(&headline).is_some() || parse_media_line(&headline).is_some() {
                record(&mut log, "headline:not_a_headline", headline.clone(), "", 0);
                blocks.insert(0, Block::paragraph(headline));
                headline_checked = false;
            } else {
                story.headline = Some(headline);
            }
        } else {
            headline_checked = false;
        }

        let (mut meta_date, mut bare_date) = (None, None);
        let mut in_header = true;
        let mut dateline_checked = story.dateline.is_some();
        let mut seen: HashSet<u128, BuildHasherDefault<IdHasher>> = HashSet::default();
        let mut key_buf = Vec::new();
        let mut offset = 0;
        let total = blocks.len();
        for (index, mut block) in blocks.into_iter().enumerate() {
            if let Some((credit, caption)) = parse_media_line(&block.text) {
                record(&mut log, "lift_media", block.text, "", offset);
                attach_media(&mut story.media, credit, caption);
                continue;
            }
            if in_header {
                match header_kind(&block.text) {
                    Some(Header::Metadata(date, note)) => {
                        meta_date = meta_date.or(Some(date));
                        if let Some(note) = note {
                            story.ed_notes.push(format!("status: {note}"));
                        }
                        record(&mut log, "lift_metadata", block.text, "", offset);
                        continue;
                    }
                    Some(Header::Date(date)) => {
                        bare_date = bare_date.or(Some(date));
                        record(&mut log, "lift_date", block.text, "", offset);
                        continue;
                    }
                    Some(Header::Byline) if story.byline.is_none() => {
                        record(&mut log, "lift_byline", block.text.clone(), "", offset);
                        story.byline = Some(block.text);
                        continue;
                    }
                    _ => {}
                }
                if !headline_checked {
                    headline_checked = true;
                    if story.headline.is_none()
                        && index + 1 < total
                        && is_headline_like(&block.text)
                    {
                        record(&mut log, "promote_headline", block.text.clone(), "", offset);
                        story.headline = Some(block.text);
                        continue;
                    }
                }
                in_header = false;
            }
            if !dateline_checked {
                dateline_checked = true;
                if let Some(dateline) = parse_dateline(&block.text) {
                    record(&mut log, "lift_dateline", dateline.text.clone(), "", offset);
                    block.text.drain(..dateline.len);
                    story.dateline = Some(dateline.text);
                    if story.located.is_none() {
                        story.located = Some(dateline.located);
                    }
                    if block.text.is_empty() {
                        continue;
                    }
                }
            }
            if !seen.insert(paragraph_key(&block.text, &mut key_buf)) {
                record(&mut log, "remove_duplicate", block.text, "", offset);
                continue;
            }
            if block.kind == BlockKind::Paragraph
                && !story.body.is_empty()
                && index + 1 < total
                && is_crosshead(&block.text)
            {
                block.kind = BlockKind::Crosshead;
                record(
                    &mut log,
                    "mark_crosshead",
                    block.text.clone(),
                    block.text.clone(),
                    offset,
                );
            } else if block.kind == BlockKind::Paragraph
                && !story.body.is_empty()
                && index + 1 == total
                && is_crosshead(&block.text)
                && block.text.starts_with(is_double_quote)
            {
                // A quoted phrase alone on the last line is still a crosshead; an
                // unquoted short last line is more often a sign-off, so it stays a paragraph.
                block.kind = BlockKind::Crosshead;
                record(
                    &mut log,
                    "mark_crosshead",
                    block.text.clone(),
                    block.text.clone(),
                    offset,
                );
            }
            offset += block.text.len() + 2;
            story.body.push(block);
        }

        if story.located.is_none() {
            if let Some(dateline) = &story.dateline {
                let prefix = dateline.trim_end_matches(['-', '—', '–', ' ']);
                story.located = parse_dateline_prefix(prefix);
            }
        }
        if story.first_created.is_none() {
            story.first_created = bare_date.or(meta_date).and_then(midnight);
        }
        if story.version_created.is_none() {
            story.version_created = meta_date.or(bare_date).and_then(midnight);
        }
        if let (Some(first), Some(version)) = (story.first_created, story.version_created) {
            if version < first {
                story.version_created = Some(first);
            }
        }
        story.enrichment.normalisation = log;
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn date_lines_table() {
        for (input, want) in [
            ("15 August 2022", Some(date(2022, 8, 15))),
            ("August 15, 2022", Some(date(2022, 8, 15))),
            ("Monday, 15 Aug 2022", Some(date(2022, 8, 15))),
            ("2 March 2026", Some(date(2026, 3, 2))),
            ("2026-03-02", Some(date(2026, 3, 2))),
            ("1st Sept. 2024", Some(date(2024, 9, 1))),
            ("31 February 2022", None),
            ("March 2 (Northwire)", None),
            ("15 August 2022 was a Monday and nothing happened", None),
            ("May I say 2022", None),
        ] {
            assert_eq!(parse_date_line(input), want, "{input}");
        }
    }

    #[test]
    fn metadata_lines_table() {
        for (input, want) in [
            (
                "date 2022-08-16 Drafting",
                Some((date(2022, 8, 16), Some("Drafting".to_string()))),
            ),
            ("Date 2026-03-02", Some((date(2026, 3, 2), None))),
            ("date 2022-13-16 Drafting", None),
            ("date night in Paris", None),
            ("date 2022-08-16 was when 12 things happened", None),
        ] {
            assert_eq!(parse_metadata_line(input), want, "{input}");
        }
    }

    #[test]
    fn bylines_table() {
        for (input, want) in [
            ("By Jane Doe", true),
            ("BY JANE DOE", true),
            ("By Ramon dela Cruz and Anna Lindqvist", true),
            ("By Jane Doe, Northwire correspondent", true),
            ("By the end of the year prices rose.", false),
            ("By 2030 the line will run to Surabaya", false),
            ("Bypass opens", false),
        ] {
            assert_eq!(is_byline(input), want, "{input}");
        }
    }

    /// Regression: a byline whose name has a lower-case particle (`dela`) was refused.
    #[test]
    fn regression_byline_with_lower_case_particle() {
        assert!(is_byline("By Ramon dela Cruz"));
    }

    #[test]
    fn media_lines_table() {
        let s = |x: &str| Some(x.to_string());
        for (input, want) in [
            (
                "image source, Getty Images Caption, North Korean leader Kim Jong-un (left)",
                Some((
                    s("Getty Images"),
                    s("North Korean leader Kim Jong-un (left)"),
                )),
            ),
            (
                "Image source, Reuters, Image caption, Crowds in Kyiv",
                Some((s("Reuters"), s("Crowds in Kyiv"))),
            ),
            ("image source, EPA", Some((s("EPA"), None))),
            (
                "Image caption, A flooded street",
                Some((None, s("A flooded street"))),
            ),
            (
                "Photo credit: Jane Doe/Northwire",
                Some((s("Jane Doe/Northwire"), None)),
            ),
            ("Photos of the flood spread online.", None),
            ("The image source was not identified, police said.", None),
        ] {
            assert_eq!(parse_media_line(input), want, "{input}");
        }
    }

    #[test]
    fn datelines_table() {
        for (input, want) in [
            (
                "KYIV, Ukraine (AP) — Russian forces shelled",
                Some(("KYIV, Ukraine (AP) —", "Kyiv, Ukraine")),
            ),
            (
                "GENEVA, March 2 (Northwire) - Kazakhstan and",
                Some(("GENEVA, March 2 (Northwire) -", "Geneva")),
            ),
            (
                "SAO PAULO, March 3 (Northwire) - Millions",
                Some(("SAO PAULO, March 3 (Northwire) -", "Sao Paulo")),
            ),
            ("LONDON - Prices rose", Some(("LONDON -", "London"))),
            (
                "KYIV, Ukraine (AP) —",
                Some(("KYIV, Ukraine (AP) —", "Kyiv, Ukraine")),
            ),
            ("Russia promised to “expand” ties - officials said", None),
            ("UN - led talks resumed", None),
            ("The Jakarta-Bandung line - opened in 2023", None),
        ] {
            let got = parse_dateline(input);
            assert_eq!(
                got.as_ref().map(|d| (d.text.as_str(), d.located.as_str())),
                want,
                "{input}"
            );
        }
        let d = parse_dateline("KYIV (AP) — Text").expect("dateline");
        assert_eq!(&"KYIV (AP) — Text"[d.len..], "Text");
    }

    #[test]
    fn crossheads_table() {
        for (input, want) in [
            ("“Threat threats from hostile forces”", true),
            ("\"Five hours to get to work\"", true),
            ("A fair share for the fjords", true),
            ("“We will win,” he said.", false),
            ("“It is over. We go home.”", false),
            (
                "Residents described long nights without heat or water.",
                false,
            ),
            ("Short", false),
        ] {
            assert_eq!(is_crosshead(input), want, "{input}");
        }
    }

    #[test]
    fn paragraph_keys_fold_case_quotes_and_spaces() {
        let mut buf = Vec::new();
        let mut key = |t: &str| paragraph_key(t, &mut buf);
        let base = key("He said “yes” to Kyiv’s plan.");
        for same in [
            "he said \"yes\" to kyiv's plan.",
            "  HE SAID  “YES”\nTO KYIV’S PLAN. ",
        ] {
            assert_eq!(key(same), base, "{same}");
        }
        for different in [
            "He said “no” to Kyiv’s plan.",
            "He said yes to Kyiv’s plan.",
        ] {
            assert_ne!(key(different), base, "{different}");
        }
    }

    #[test]
    fn title_case_table() {
        for (input, want) in [
            ("KYIV", "Kyiv"),
            ("SAO PAULO", "Sao Paulo"),
            ("RIO DE JANEIRO", "Rio de Janeiro"),
            ("PORT-AU-PRINCE", "Port-Au-Prince"),
        ] {
            assert_eq!(title_case(input), want);
        }
    }

    fn story(headline: &str, paras: &[&str]) -> Story {
        Story {
            headline: Some(headline.into()),
            body: paras.iter().map(|p| Block::paragraph(*p)).collect(),
            ..Story::default()
        }
    }

    #[test]
    fn lifts_byline_and_dateline() {
        let s = story(
            "Talks resume",
            &[
                "By Jane Doe",
                "GENEVA, March 2 (Northwire) - Talks resumed on Monday.",
                "More text.",
            ],
        );
        let s = Layout::new().process(s).expect("infallible");
        assert_eq!(s.headline.as_deref(), Some("Talks resume"));
        assert_eq!(s.byline.as_deref(), Some("By Jane Doe"));
        assert_eq!(s.dateline.as_deref(), Some("GENEVA, March 2 (Northwire) -"));
        assert_eq!(s.located.as_deref(), Some("Geneva"));
        assert_eq!(s.body_text(), "Talks resumed on Monday.\n\nMore text.");
    }

    #[test]
    fn metadata_headline_is_lifted_and_not_replaced_by_a_sentence() {
        let s = story(
            "date 2022-08-16 Drafting",
            &[
                "15 August 2022",
                "image source, Getty Images Caption, Leaders meet.",
                "Russia promised closer ties with North Korea.",
                "More text.",
            ],
        );
        let s = Layout::new().process(s).expect("infallible");
        assert_eq!(s.headline, None);
        assert_eq!(s.ed_notes, vec!["status: Drafting".to_string()]);
        assert_eq!(s.first_created, midnight(date(2022, 8, 15)));
        assert_eq!(s.version_created, midnight(date(2022, 8, 16)));
        assert_eq!(s.media.len(), 1);
        assert_eq!(s.media[0].credit.as_deref(), Some("Getty Images"));
        assert_eq!(s.media[0].caption.as_deref(), Some("Leaders meet."));
        assert_eq!(s.body.len(), 2);
        let kinds: Vec<&str> = s
            .enrichment
            .normalisation
            .iter()
            .map(|n| n.kind.as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                "headline:not_a_headline",
                "lift_metadata",
                "lift_date",
                "lift_media"
            ]
        );
    }

    #[test]
    fn headline_like_paragraph_is_promoted() {
        let s = story(
            "date 2026-03-03 Drafting",
            &[
                "Metro strike paralyses Sao Paulo",
                "By Rafael Monteiro",
                "Text.",
            ],
        );
        let s = Layout::new().process(s).expect("infallible");
        assert_eq!(
            s.headline.as_deref(),
            Some("Metro strike paralyses Sao Paulo")
        );
        assert_eq!(s.byline.as_deref(), Some("By Rafael Monteiro"));
        assert_eq!(s.first_created, s.version_created);
    }

    #[test]
    fn duplicates_removed_and_crossheads_marked() {
        let s = story(
            "Head",
            &[
                "First paragraph here.",
                "“A quoted crosshead”",
                "Second paragraph.",
                "Second  paragraph.",
                "SECOND PARAGRAPH.",
            ],
        );
        let s = Layout::new().process(s).expect("infallible");
        assert_eq!(s.body.len(), 3);
        assert_eq!(s.body[1].kind, BlockKind::Crosshead);
        assert_eq!(s.body[0].kind, BlockKind::Paragraph);
        let removed: Vec<usize> = s
            .enrichment
            .normalisation
            .iter()
            .filter(|n| n.kind == "remove_duplicate")
            .map(|n| n.at)
            .collect();
        let end = s.body_text().len() + 2;
        assert_eq!(removed, vec![end, end]);
    }

    #[test]
    fn separate_credit_and_caption_lines_merge() {
        let s = story(
            "Head",
            &[
                "Text.",
                "Image source, Reuters",
                "Image caption, Crowds",
                "More.",
            ],
        );
        let s = Layout::new().process(s).expect("infallible");
        assert_eq!(s.media.len(), 1);
        assert_eq!(s.media[0].credit.as_deref(), Some("Reuters"));
        assert_eq!(s.media[0].caption.as_deref(), Some("Crowds"));
        assert_eq!(s.body_text(), "Text.\n\nMore.");
    }

    #[test]
    fn located_from_decoded_dateline() {
        let s = Story {
            dateline: Some("JAKARTA, March 2 (Northwire)".into()),
            body: vec![Block::paragraph("Text.")],
            ..Story::default()
        };
        let s = Layout::new().process(s).expect("infallible");
        assert_eq!(s.located.as_deref(), Some("Jakarta"));
        assert_eq!(s.body_text(), "Text.");
    }

    proptest::proptest! {
        #[test]
        fn paragraph_folding_matches_the_reference(text in "[a-zA-Z0-9 .,\"'\n\t\r\u{7}\u{7F}\u{A0}\u{C9}\u{130}\u{2009}\u{2019}\u{201C}\u{201D}\u{4E2D}]{0,50}") {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            fold_paragraph(&text, &mut got);
            fold_paragraph_bytewise(&text, &mut want);
            proptest::prop_assert_eq!(got, want);
        }

        /// Printable ASCII, where the one-pass fast path applies unless spaces are doubled
        /// or at an end.
        #[test]
        fn ascii_paragraph_folding_matches_the_reference(text in "[ -~]{0,80}") {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            fold_paragraph(&text, &mut got);
            fold_paragraph_bytewise(&text, &mut want);
            proptest::prop_assert_eq!(got, want);
        }
    }
}
