//! IPTC 7901 (the IPTC recommended message format for news agency text) → [`Story`].
//!
//! A message as copydesk reads it:
//!
//! ```text
//! SOH                                      0x01
//! AFP0123 3 POL 0412 KILL                  source + message number → guid, provider
//!                                          priority 1–6 → urgency, category → subject,
//!                                          word count, optional information (kill, …)
//! Storm-Coast                              keyword / slug line(s), before STX
//! STX                                      0x02
//! Storm batters coast                      heading (headline)
//! By Jane Doe                              optional byline
//!    SEASIDE, March 2 (AFP) - First …      text: indented lines or blank lines start paragraphs
//! ETX                                      0x03
//! 021523 MAR 26                            date-time: DDHHMM MON YY [zone] → version time
//! EOT                                      0x04 (optional)
//! ```
//!
//! `KILL` / `WITHHOLD` in the optional information, keyword, heading or an `EDS:` line make
//! the story canceled / withheld. Missing framing is an error naming the byte offset.

use chrono::{NaiveDate, TimeZone, Utc};

use super::anpa::{clean, dateline_of, frame, status_from_markers, wire_paragraphs};
use super::time::abbreviation_offset;
use super::{squash, Ctx, DecodeError};
use crate::story::{Block, Story};

const FORMAT: &str = "iptc_7901";

/// Decodes an IPTC 7901 message.
pub(crate) fn decode(text: &str, ctx: &Ctx) -> Result<Story, DecodeError> {
    let frame = frame(text, FORMAT)?;
    let header = clean(frame.header);
    let mut lines = header.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().ok_or_else(|| DecodeError::Framing {
        format: FORMAT,
        message: "empty message header".into(),
        position: text.find('\u{1}').unwrap_or(0),
    })?;
    let keyword: Vec<&str> = lines.collect();
    let mut tokens = first.split_whitespace();
    let mut story = Story::default();
    if let Some(id) = tokens.next() {
        story.guid = Some(id.to_string());
        let source: String = id.chars().take_while(char::is_ascii_alphabetic).collect();
        story.provider = (!source.is_empty()).then_some(source);
    }
    story.urgency = tokens
        .next()
        .and_then(|p| p.parse::<u8>().ok())
        .filter(|p| (1..=9).contains(p));
    if let Some(cat) = tokens.next() {
        story
            .declared_subjects
            .push(format!("iptc7901-category:{cat}"));
    }
    let _word_count = tokens.next();
    let optional: Vec<&str> = tokens.collect();
    let optional = optional.join(" ");
    story.slugline = squash(&keyword.join(" "));

    let text_part = clean(frame.text);
    let mut heading = None;
    let mut byline = None;
    let mut body_lines: Vec<&str> = Vec::new();
    for line in text_part.lines() {
        let trimmed = line.trim();
        let upper = trimmed.to_ascii_uppercase();
        if body_lines.iter().all(|l| l.trim().is_empty())
            && (upper.starts_with("EDS:") || upper.starts_with("EDITOR'S NOTE"))
        {
            story.ed_notes.push(trimmed.to_string());
        } else if heading.is_none() && trimmed.is_empty() {
            // blank lines before the heading
        } else if heading.is_none() && body_lines.is_empty() {
            heading = squash(trimmed);
        } else if byline.is_none()
            && body_lines.iter().all(|l| l.trim().is_empty())
            && (trimmed.starts_with("By ") || trimmed.starts_with("BY "))
        {
            byline = squash(trimmed);
        } else {
            body_lines.push(line);
        }
    }
    story.headline = heading.or_else(|| story.slugline.clone());
    if story.headline.is_none() {
        return Err(DecodeError::Invalid {
            format: FORMAT,
            message: "no heading and no keyword line".into(),
        });
    }
    story.byline = byline;
    let paras = wire_paragraphs(&body_lines);
    if let Some((dateline, located)) = paras.first().and_then(|p| dateline_of(p)) {
        story.dateline = Some(dateline);
        story.located = Some(located);
    }
    story.body = paras.into_iter().map(Block::paragraph).collect();
    story.pub_status = status_from_markers(
        [
            optional.as_str(),
            story.slugline.as_deref().unwrap_or(""),
            story.headline.as_deref().unwrap_or(""),
        ]
        .into_iter()
        .chain(story.ed_notes.iter().map(String::as_str)),
    );
    if !optional.is_empty() {
        story.ed_notes.push(optional);
    }
    let time = trailer_time(frame.trailer, ctx);
    story.version_created = time;
    story.first_created = time;
    Ok(story)
}

/// `DDHHMM MON YY [zone]` after ETX.
fn trailer_time(trailer: &str, ctx: &Ctx) -> Option<chrono::DateTime<Utc>> {
    let cleaned = clean(trailer);
    let tokens: Vec<&str> = cleaned.split_whitespace().collect();
    let (dhm, mon, yy) = (tokens.first()?, tokens.get(1)?, tokens.get(2)?);
    if dhm.len() != 6 || !dhm.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let month = MONTHS.iter().position(|m| mon.eq_ignore_ascii_case(m))?;
    let year: i32 = yy.parse().ok()?;
    let year = if year < 100 { 2000 + year } else { year };
    let zone = tokens
        .get(3)
        .and_then(|z| abbreviation_offset(z))
        .unwrap_or(ctx.tz);
    let naive =
        NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()? + 1, dhm[..2].parse().ok()?)?
            .and_hms_opt(dhm[2..4].parse().ok()?, dhm[4..].parse().ok()?, 0)?;
    zone.from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Offset;

    #[test]
    fn reads_a_message() {
        let ctx = Ctx {
            tz: Utc.fix(),
            max_depth: 256,
            max_nodes: 1000,
        };
        let story = decode(
            "\u{1}XNA0007 2 ECO 0050\r\nRates-Cut\r\n\u{2}Bank cuts rates\r\n   LONDON, May 3 (XNA) - The bank cut.\r\n   It said.\r\n\u{3}031015 MAY 26\u{4}",
            &ctx,
        )
        .unwrap();
        assert_eq!(story.guid.as_deref(), Some("XNA0007"));
        assert_eq!(story.provider.as_deref(), Some("XNA"));
        assert_eq!(story.urgency, Some(2));
        assert_eq!(story.slugline.as_deref(), Some("Rates-Cut"));
        assert_eq!(story.headline.as_deref(), Some("Bank cuts rates"));
        assert_eq!(story.located.as_deref(), Some("LONDON"));
        assert_eq!(story.body.len(), 2);
        assert_eq!(
            story.version_created.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-05-03T10:15:00+00:00")
        );
    }
}
