//! ANPA-1312 (the American newspaper wire transmission format) → [`Story`].
//!
//! A transmission as copydesk reads it (Latin-1 / Windows-1252 unless the bytes are UTF-8):
//!
//! ```text
//! SYN SYN SOH                                    0x16 0x16 0x01 (the SYNs are optional)
//! a0123 r a BC-Storm-Coast,1st Ld-Writethru 04-02 0458
//!   │   │ │ │                               │     └ word count
//!   │   │ │ └ keyword (slug) [,version]     └ date MM-DD
//!   │   │ └ category code                  → declared subject `anpa-category:a`
//!   │   └ priority f b u r d a             → urgency 1 2 3 5 6 7
//!   └ service level + selector / story number → guid
//! STX                                            0x02
//! ^BC-Storm-Coast,0458<                          keyword line (skipped)
//! ^Storm batters coast<                          headline (`^…<`)
//! ^By JANE DOE=                                  byline lines (`^…=`)
//! ^Eds: Updates with …=                          editor's notes
//! <TAB>SEASIDE, Ore. (NW) _ First paragraph …    paragraphs start with a tab / indent
//! ETX                                            0x03
//! NW-NY-04-02-26 1523EST<                        agency-desk-MM-DD-YY HHMM zone → provider, times
//! EOT                                            0x04 (optional)
//! ```
//!
//! `KILL` / `WITHHOLD` in the keyword, headline or editor's notes make the story canceled /
//! withheld. A header without STX is a framing error naming the byte offset.

use chrono::{FixedOffset, NaiveDate, TimeZone, Utc};

use super::time::abbreviation_offset;
use super::{is_c1_control_at, squash, Ctx, DecodeError};
use crate::story::{Block, PubStatus, Story};

const FORMAT: &str = "anpa_1312";
const SOH: char = '\u{1}';
const STX: char = '\u{2}';
const ETX: char = '\u{3}';

/// True when the text after SOH starts like an ANPA header (`a0123`, service letter + 4 digits).
pub(crate) fn looks_like_header(after_soh: &str) -> bool {
    let token = after_soh.split_whitespace().next().unwrap_or("");
    let b = token.as_bytes();
    b.len() == 5 && b[0].is_ascii_alphabetic() && b[1..].iter().all(u8::is_ascii_digit)
}

/// The three parts of a framed transmission.
pub(crate) struct Frame<'t> {
    /// Between SOH and STX.
    pub header: &'t str,
    /// Between STX and ETX (or the end).
    pub text: &'t str,
    /// After ETX.
    pub trailer: &'t str,
}

/// Splits SOH / STX / ETX framing; `format` names the wire in errors.
pub(crate) fn frame<'t>(text: &'t str, format: &'static str) -> Result<Frame<'t>, DecodeError> {
    let soh = text.find(SOH).ok_or_else(|| DecodeError::Framing {
        format,
        message: "no SOH (start of header)".into(),
        position: 0,
    })?;
    let after = soh + SOH.len_utf8();
    let stx = text[after..]
        .find(STX)
        .map(|p| p + after)
        .ok_or_else(|| DecodeError::Framing {
            format,
            message: "no STX (start of text) after the header".into(),
            position: soh,
        })?;
    let body_start = stx + STX.len_utf8();
    let (body, trailer) = match text[body_start..].find(ETX) {
        Some(p) => (
            &text[body_start..body_start + p],
            &text[body_start + p + ETX.len_utf8()..],
        ),
        None => (&text[body_start..], ""),
    };
    Ok(Frame {
        header: &text[after..stx],
        text: body,
        trailer,
    })
}

/// Replaces transmission control characters (other than tab and newlines) with spaces.
pub(crate) fn clean(text: &str) -> String {
    let bytes = text.as_bytes();
    let ascii_control = |b: u8| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f;
    let c1_at = |i: usize| is_c1_control_at(bytes, i);
    if !bytes.iter().fold(false, |any, &b| any | ascii_control(b))
        && !memchr::memchr_iter(0xC2, bytes).any(c1_at)
    {
        return text.to_owned();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if ascii_control(bytes[i]) {
            out.push(b' ');
            i += 1;
        } else if c1_at(i) {
            out.push(b' ');
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // Whole characters were replaced by ASCII spaces, so the bytes are still UTF-8; the
    // lossy fallback is never taken.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The most restrictive status named by kill / withhold markers in these texts.
pub(crate) fn status_from_markers<'a>(texts: impl IntoIterator<Item = &'a str>) -> PubStatus {
    let mut status = PubStatus::Usable;
    for t in texts {
        let upper = t.to_ascii_uppercase();
        let words: Vec<&str> = upper
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty())
            .collect();
        if words.iter().any(|w| {
            matches!(
                *w,
                "KILL" | "KILLED" | "ELIMINATION" | "CANCELED" | "CANCELLED"
            )
        }) {
            return PubStatus::Canceled;
        }
        if words
            .iter()
            .any(|w| matches!(*w, "WITHHOLD" | "WITHHELD" | "WITHDRAWN"))
        {
            status = PubStatus::Withheld;
        }
    }
    status
}

/// Dateline and place from a first paragraph like `SEASIDE, Ore. (NW) _ …`.
pub(crate) fn dateline_of(first: &str) -> Option<(String, String)> {
    let head: String = first.chars().take(120).collect();
    let open = head.find('(')?;
    let close = open + head[open..].find(')')?;
    let after = head[close + 1..].trim_start();
    let separated = ["_", "--", "—", "–", "-"]
        .iter()
        .any(|s| after.starts_with(s));
    let place = head[..open].trim().trim_end_matches(',').trim();
    if !separated || place.is_empty() || place.len() > 60 {
        return None;
    }
    // `LONDON, May 3` → `LONDON`: a trailing date is not part of the place.
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let place = match place.rsplit_once(',') {
        Some((before, date)) if MONTHS.iter().any(|m| date.trim_start().starts_with(m)) => {
            before.trim()
        }
        _ => place,
    };
    Some((head[..=close].trim().to_string(), place.to_string()))
}

/// Paragraphs from wire text: an indented line (tab or 2+ spaces) starts a paragraph,
/// unindented lines continue it; blank lines also separate. Without any indentation, every
/// blank-line-separated chunk is a paragraph.
pub(crate) fn wire_paragraphs(lines: &[&str]) -> Vec<String> {
    let indented = lines
        .iter()
        .any(|l| l.starts_with('\t') || l.starts_with("  "));
    let mut out = Vec::new();
    let mut current = String::new();
    for line in lines {
        let starts_new = indented && (line.starts_with('\t') || line.starts_with("  "));
        let blank = line.trim().is_empty();
        if blank || starts_new {
            if let Some(p) = squash(&std::mem::take(&mut current)) {
                out.push(p);
            }
        }
        if !blank {
            // Trimmed and one space apart, a one-line paragraph is already squashed.
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(line.trim());
        }
    }
    if let Some(p) = squash(&current) {
        out.push(p);
    }
    out
}

fn priority_urgency(p: &str) -> Option<u8> {
    match p {
        "f" => Some(1),
        "b" => Some(2),
        "u" => Some(3),
        "r" => Some(5),
        "d" => Some(6),
        "a" => Some(7),
        _ => None,
    }
}

/// Splits a trailing `MM-DD NNNN` (date and word count) off the keyword part of the header.
fn strip_date_and_count(rest: &str) -> &str {
    let mut tokens: Vec<&str> = rest.split_whitespace().collect();
    while let Some(last) = tokens.last() {
        let is_count = last.len() <= 5 && last.bytes().all(|b| b.is_ascii_digit());
        let is_date = last.len() == 5
            && last.as_bytes()[2] == b'-'
            && last.bytes().filter(u8::is_ascii_digit).count() == 4;
        if is_count || is_date {
            tokens.pop();
        } else {
            break;
        }
    }
    match tokens.last() {
        Some(last) => {
            let end = rest.find(last).map_or(rest.len(), |p| p + last.len());
            &rest[..end]
        }
        None => "",
    }
}

/// Reads `NW-NY-04-02-26 1523EST` (agency-desk-MM-DD-YY HHMM zone).
fn trailer(text: &str, tz: FixedOffset) -> (Option<String>, Option<chrono::DateTime<Utc>>) {
    let cleaned = clean(text);
    let mut tokens = cleaned
        .split(|c: char| c.is_whitespace() || c == '<')
        .filter(|t| !t.is_empty());
    let Some(first) = tokens.next() else {
        return (None, None);
    };
    let parts: Vec<&str> = first.split('-').collect();
    let provider = parts
        .first()
        .filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|a| a.to_string());
    let time = (|| {
        let n = parts.len();
        if n < 4 {
            return None;
        }
        let (m, d, y) = (
            parts[n - 3].parse().ok()?,
            parts[n - 2].parse().ok()?,
            parts[n - 1].parse::<i32>().ok()?,
        );
        let year = if y < 100 { 2000 + y } else { y };
        let hm = tokens.next()?;
        let digits: String = hm.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() != 4 {
            return None;
        }
        let zone = abbreviation_offset(&hm[4..]).unwrap_or(tz);
        let naive = NaiveDate::from_ymd_opt(year, m, d)?.and_hms_opt(
            digits[..2].parse().ok()?,
            digits[2..].parse().ok()?,
            0,
        )?;
        zone.from_local_datetime(&naive)
            .single()
            .map(|t| t.with_timezone(&Utc))
    })();
    (provider, time)
}

/// Decodes an ANPA-1312 transmission.
pub(crate) fn decode(text: &str, ctx: &Ctx) -> Result<Story, DecodeError> {
    let frame = frame(text, FORMAT)?;
    let header = clean(frame.header);
    let mut tokens = header.split_whitespace();
    let mut story = Story {
        guid: tokens.next().map(str::to_string),
        ..Story::default()
    };
    let priority = tokens.next().unwrap_or("");
    story.urgency = priority_urgency(priority);
    if let Some(cat) = tokens.next() {
        story.declared_subjects.push(format!("anpa-category:{cat}"));
    }
    let rest: Vec<&str> = tokens.collect();
    let keyword = strip_date_and_count(&rest.join(" ")).to_string();
    let (slug, qualifier) = match keyword.split_once(',') {
        Some((s, q)) => (squash(s), squash(q)),
        None => (squash(&keyword), None),
    };
    story.slugline = slug;
    story.version = qualifier.clone();

    let body_text = clean(frame.text);
    let mut headline = None;
    let mut byline: Vec<String> = Vec::new();
    let mut body_lines: Vec<&str> = Vec::new();
    for line in body_text.lines() {
        let trimmed = line.trim();
        if let Some(caret) = trimmed.strip_prefix('^') {
            let content = caret.trim_end_matches(['<', '=']).trim();
            let upper = content.to_ascii_uppercase();
            if upper.starts_with("EDS:")
                || upper.starts_with("EDITOR'S NOTE")
                || upper.starts_with("EDITORS:")
            {
                story.ed_notes.push(content.to_string());
            } else if story
                .slugline
                .as_deref()
                .is_some_and(|s| content.starts_with(s))
            {
                // keyword line repeated in the text
            } else if headline.is_none() && caret.trim_end().ends_with('<') {
                headline = squash(content);
            } else if let Some(c) = squash(content) {
                byline.push(c);
            }
        } else if body_lines.is_empty() && {
            let upper = trimmed.to_ascii_uppercase();
            upper.starts_with("EDS:") || upper.starts_with("EDITOR'S NOTE")
        } {
            story.ed_notes.push(trimmed.to_string());
        } else {
            body_lines.push(line);
        }
    }
    // Without `^` markers, a first unindented line is the headline.
    if headline.is_none() {
        if let Some(pos) = body_lines.iter().position(|l| !l.trim().is_empty()) {
            let first = body_lines[pos];
            if !(first.starts_with('\t') || first.starts_with("  ")) {
                headline = squash(first);
                body_lines.remove(pos);
            }
        }
    }
    story.headline = headline.or_else(|| story.slugline.clone());
    if story.headline.is_none() {
        return Err(DecodeError::Invalid {
            format: FORMAT,
            message: "no headline and no keyword".into(),
        });
    }
    story.byline = (!byline.is_empty()).then(|| byline.join(", "));
    let paras = wire_paragraphs(&body_lines);
    if let Some((dateline, located)) = paras.first().and_then(|p| dateline_of(p)) {
        story.dateline = Some(dateline);
        story.located = Some(located);
    }
    story.body = paras.into_iter().map(Block::paragraph).collect();
    story.pub_status = status_from_markers(
        [keyword.as_str(), story.headline.as_deref().unwrap_or("")]
            .into_iter()
            .chain(story.ed_notes.iter().map(String::as_str)),
    );
    let (provider, time) = trailer(frame.trailer, ctx.tz);
    story.provider = provider;
    story.version_created = time;
    story.first_created = time;
    Ok(story)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn clean_matches_the_character_map(text in "[a é\t\n\r\x00\x01\x16\x7f\u{80}\u{85}\u{9f}\u{a0}\u{2028}]{0,30}") {
            let want: String = text
                .chars()
                .map(|c| if c.is_control() && !matches!(c, '\t' | '\n' | '\r') { ' ' } else { c })
                .collect();
            proptest::prop_assert_eq!(clean(&text), want);
        }
    }
    use chrono::Offset;

    fn ctx() -> Ctx {
        Ctx {
            tz: Utc.fix(),
            max_depth: 256,
            max_nodes: 1000,
        }
    }

    #[test]
    fn framing_errors_name_position() {
        let err = decode("xx\u{1}a0001 r a BC-X 04-02 0100\nno stx", &ctx()).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Framing {
                format: FORMAT,
                message: "no STX (start of text) after the header".into(),
                position: 2
            }
        );
    }

    #[test]
    fn reads_header_text_and_trailer() {
        let story = decode(
            "\u{16}\u{16}\u{1}a0042 u a BC-Flood-Town,2nd Ld-Writethru 04-02 0120\n\u{2}^BC-Flood-Town,0120<\n^Flood hits town<\n^By Ann Lee=\n\tRIVERTON, Ore. (NW) _ Water rose.\n\tMore.\n\u{3}NW-NY-04-02-26 1523EST<\u{4}",
            &ctx(),
        )
        .unwrap();
        assert_eq!(story.guid.as_deref(), Some("a0042"));
        assert_eq!(story.urgency, Some(3));
        assert_eq!(story.slugline.as_deref(), Some("BC-Flood-Town"));
        assert_eq!(story.version.as_deref(), Some("2nd Ld-Writethru"));
        assert_eq!(story.headline.as_deref(), Some("Flood hits town"));
        assert_eq!(story.byline.as_deref(), Some("By Ann Lee"));
        assert_eq!(story.located.as_deref(), Some("RIVERTON, Ore."));
        assert_eq!(story.body.len(), 2);
        assert_eq!(story.provider.as_deref(), Some("NW"));
        assert_eq!(
            story.version_created.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-04-02T20:23:00+00:00")
        );
    }
}
