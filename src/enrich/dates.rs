//! Dates: every date expression in the headline and body, normalised against the story's
//! reference date.
//!
//! **Reference date**: `version_created`, else `first_created`, else the input record's
//! timestamp, else none (relative expressions then get no value).
//!
//! **Values** are TIMEX3-like strings: `2022-08-15` (day), `2022-W33` (ISO week), `2022-07`
//! (month), `2022` (year), `200X` (decade: "the 2000s"), `19XX` (century: "the 20th
//! century"). "century after century" is recognised with no value (resolution `none`).
//! `modifier` is early / mid / late ("the early 2000s", "mid-2023", "the end of 2021");
//! `relation` is since / until / before / after, from the preposition before the expression
//! ("since 2014"), which is not part of the expression's text (as in TimeML, where it is a
//! signal).
//!
//! **Relative expressions** (`relative: true`) are resolved against the reference date:
//! `yesterday`, `today`, `tonight`, `tomorrow`, `last night`; `last/this/next week|month|
//! year|decade|century`; `three years ago`; `last July` (the most recent July before the
//! reference month), `next July`, `this July`; a weekday (`Tuesday`, `on Tuesday`, `last
//! Tuesday`, `next Tuesday`); a month or day without a year (`in February`, `Aug 16`).
//!
//! **Past or future** — a bare month, weekday or day without a year could be either. News
//! mostly reports what happened, so they resolve to the nearest *past* occurrence (the
//! reference day itself included: "on Tuesday" in a Tuesday story is that day) unless the
//! clause before the expression has a future cue (`will`, `'ll`, `shall`, `going to`,
//! `due`, `expected`, `scheduled`, `plans`, `set to`, `upcoming`), which selects the nearest
//! occurrence on or after the reference date. A day without a year up to 31 days after the
//! reference date stays in the reference year even without a cue (wires announce events a
//! few weeks ahead).
//!
//! Bare years and bare month names count only after a preposition (`in 2019`, `since 2014`,
//! `in February`), so that "2000 people" and "May" the verb are not dates; years must be
//! 1800–2099. Numeric day/month dates (`08/07/2022`) are ambiguous between US and European
//! order and are not read. One regular expression, compiled once, finds every candidate in a
//! single scan; only the matches are parsed further.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use regex::{Captures, Regex};

use crate::pipeline::{Stage, StageError};
use crate::story::{DateExpr, DateModifier, DateRelation, DateResolution, Story};

const MONTH_FULL: &str =
    "January|February|March|April|May|June|July|August|September|October|November|December";
const MONTH_ANY: &str = "(?:January|February|March|April|May|June|July|August|September|October|\
    November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\\.?";
const ORDINALS: &str = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\
    eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|\
    nineteenth|twentieth|twenty[\\x20-]first|twenty[\\x20-]second";
#[rustfmt::skip]
const NUMBER_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
];

static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    let sp = "[\\x20\\t]+";
    // prepositions before a date; bare years and month names count only after one
    let cues = format!(
        "(?i:since|until|till|by|before|after|in|on|during|from|through|throughout|to|of|\
         between|and|around|circa|as{sp}of)"
    );
    let pattern = format!(
        r"(?x-u)
        \b
        (?:(?P<cue>{cues}){sp})?
        (?:(?P<the>(?i:the)){sp})?
        (?:
            (?P<iso>\d{{4}}-[01]\d-[0-3]\d)(?:T[0-9:.]+(?:Z|[+-]\d\d:?\d\d)?)?
          | (?P<dmy_d>[0-3]?\d)(?:st|nd|rd|th)?{sp}(?:of{sp})?(?P<dmy_m>{MONTH_ANY})(?:,?{sp}(?P<dmy_y>\d{{4}}))?
          | (?P<mdy_m>{MONTH_ANY}){sp}(?P<mdy_d>[0-3]?\d)(?:st|nd|rd|th)?(?-u:\b)(?:,?{sp}(?P<mdy_y>\d{{4}}))?
          | (?:(?P<my_mod>(?i:early|mid|late))[\x20\t-]+)?(?P<my_m>{MONTH_ANY}),?{sp}(?P<my_y>\d{{4}})
          | (?P<rm_w>(?i:last|next|this|early|mid|late))[\x20\t-]+(?P<rm_m>{MONTH_FULL})
          | (?P<cue_m>{cues}){sp}(?P<bm>{MONTH_FULL})
          | (?P<ym_mod>(?i:early|mid|late))[\x20\t-]+(?P<ym_y>\d{{4}})
          | (?P<yp>(?i:end|start|beginning|middle)){sp}of{sp}(?P<yp_y>\d{{4}})
          | (?:(?P<dec_mod>(?i:early|mid|late))[\x20\t-]+)?(?:(?P<dec4>\d{{3}}0)|(?:'|’)(?P<dec2>\d0))s
          | (?P<cent_n>\d{{1,2}})(?:st|nd|rd|th)[\x20\t-]+(?i:century)
          | (?P<cent_w>(?i:{ORDINALS}))[\x20\t-]+(?i:century)
          | (?P<iter>(?i:century{sp}after{sp}century|decade{sp}after{sp}decade|year{sp}after{sp}year|month{sp}after{sp}month|week{sp}after{sp}week|day{sp}after{sp}day))
          | (?P<rd>(?i:yesterday|today|tonight|tomorrow|last{sp}night|day{sp}before{sp}yesterday|day{sp}after{sp}tomorrow))
          | (?P<rp_w>(?i:last|next|this)){sp}(?P<rp_u>(?i:weekend|week|month|year|decade|century))
          | (?:(?P<wd_w>(?i:last|next|this)){sp})?(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)
          | (?P<ago_n>\d{{1,3}}|(?i:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)){sp}(?P<ago_u>(?i:day|week|month|year|decade))s?{sp}(?i:ago)
          | (?P<cue_y>{cues}){sp}(?P<year>\d{{4}})
        )
        \b"
    );
    // ASCII-only classes and case folding (`-u`) keep the DFA small; every literal is ASCII
    // but the `’` of "’90s".
    // The pattern is a constant; a failure is a programming error caught by every test.
    // A lazy-DFA cache larger than the 2 MiB default: with the default the cache was
    // cleared and rebuilt during scans (measured: 30 % slower). States are built on demand,
    // so the real footprint is what the text needs.
    regex::RegexBuilder::new(&pattern)
        .dfa_size_limit(16 << 20)
        .build()
        .unwrap_or_else(|err| panic!("date pattern: {err}"))
});

/// Declares [`Groups`]: the index of every named group of [`PATTERN`], looked up once, so
/// that reading a match does not hash group names.
macro_rules! groups {
    ($($name:ident),* $(,)?) => {
        /// Capture-group indices of [`PATTERN`] (`usize::MAX` for a name it lacks).
        struct Groups {
            $($name: usize,)*
        }

        #[cfg(test)]
        impl Groups {
            fn all(&self) -> Vec<usize> {
                vec![$(self.$name),*]
            }
        }

        static GROUPS: LazyLock<Groups> = LazyLock::new(|| {
            let index = |name: &str| {
                PATTERN
                    .capture_names()
                    .position(|n| n == Some(name))
                    .unwrap_or(usize::MAX)
            };
            Groups {
                $($name: index(stringify!($name)),)*
            }
        });
    };
}

groups!(
    cue, the, iso, dmy_d, dmy_m, dmy_y, mdy_m, mdy_d, mdy_y, my_mod, my_m, my_y, rm_w, rm_m, cue_m,
    bm, ym_mod, ym_y, yp, yp_y, dec_mod, dec4, dec2, cent_n, cent_w, iter, rd, rp_w, rp_u, wd_w,
    wd, ago_n, ago_u, cue_y, year,
);

/// Words in the clause before a date that make a bare month or weekday point forward.
#[rustfmt::skip]
const FUTURE_CUES: &[&str] = &[
    "will", "ll", "shall", "due", "expected", "scheduled", "upcoming",
];

/// Phrases with the same effect.
const FUTURE_PHRASES: &[&str] = &["going to", "set to", "plans to", "plan to"];

fn month_number(name: &str) -> Option<u32> {
    let key = name.get(..3)?;
    let n = match key {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    Some(n)
}

fn weekday(name: &str) -> Option<Weekday> {
    name.get(..3)?.parse().ok()
}

fn modifier(word: &str) -> Option<DateModifier> {
    match word.to_ascii_lowercase().as_str() {
        "early" | "start" | "beginning" => Some(DateModifier::Early),
        "mid" | "middle" => Some(DateModifier::Mid),
        "late" | "end" => Some(DateModifier::Late),
        _ => None,
    }
}

fn relation(cue: &str) -> Option<DateRelation> {
    match cue.to_ascii_lowercase().as_str() {
        "since" => Some(DateRelation::Since),
        "until" | "till" | "by" | "through" => Some(DateRelation::Until),
        "before" => Some(DateRelation::Before),
        "after" => Some(DateRelation::After),
        _ => None,
    }
}

fn number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse() {
        return Some(n);
    }
    let lower = word.to_ascii_lowercase();
    if lower == "a" || lower == "an" {
        return Some(1);
    }
    NUMBER_WORDS
        .iter()
        .position(|w| *w == lower)
        .and_then(|n| u32::try_from(n).ok())
}

fn ordinal(word: &str) -> Option<u32> {
    const WORDS: &[&str] = &[
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
        "twentieth",
    ];
    let lower = word.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("twenty") {
        return match rest.trim_start_matches([' ', '-']) {
            "first" => Some(21),
            "second" => Some(22),
            _ => None,
        };
    }
    WORDS
        .iter()
        .position(|w| *w == lower)
        .and_then(|n| u32::try_from(n + 1).ok())
}

/// Whether the clause before `at` (back to the previous sentence punctuation, at most 80
/// bytes) has a future cue.
fn future_before(text: &str, at: usize) -> bool {
    let mut from = at.saturating_sub(80);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let window = &text[from..at];
    let clause = window
        .rfind(['.', '!', '?', '\n', ';'])
        .map_or(window, |i| &window[i + 1..]);
    clause
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| FUTURE_CUES.iter().any(|cue| cue.eq_ignore_ascii_case(w)))
        || FUTURE_PHRASES.iter().any(|p| clause.contains(p))
}

fn ymd(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

fn ym(year: i32, month: u32) -> String {
    format!("{year:04}-{month:02}")
}

fn week(date: NaiveDate) -> String {
    let w = date.iso_week();
    format!("{:04}-W{:02}", w.year(), w.week())
}

fn decade(year: i32) -> String {
    format!("{:03}X", year.div_euclid(10))
}

fn century(first_year: i32) -> String {
    format!("{:02}XX", first_year.div_euclid(100))
}

/// `year-month` moved by `delta` months.
fn add_months(year: i32, month: u32, delta: i32) -> (i32, u32) {
    let index = year * 12 + i32::try_from(month).unwrap_or(1) - 1 + delta;
    // rem_euclid(12) is 0..=11
    (
        index.div_euclid(12),
        u32::try_from(index.rem_euclid(12) + 1).unwrap_or(1),
    )
}

/// The year of a month name with no year: nearest past (this year if the month is not
/// after the reference month), or nearest future with a future cue.
fn month_year(reference: NaiveDate, month: u32, future: bool) -> i32 {
    let ref_month = reference.month();
    match (future, month.cmp(&ref_month)) {
        (false, std::cmp::Ordering::Greater) => reference.year() - 1,
        (true, std::cmp::Ordering::Less) => reference.year() + 1,
        _ => reference.year(),
    }
}

/// A day and month with no year.
fn day_without_year(reference: NaiveDate, month: u32, day: u32, future: bool) -> Option<NaiveDate> {
    let this_year = NaiveDate::from_ymd_opt(reference.year(), month, day)?;
    if future && this_year < reference {
        return NaiveDate::from_ymd_opt(reference.year() + 1, month, day);
    }
    if !future && this_year > reference.checked_add_days(Days::new(31))? {
        return NaiveDate::from_ymd_opt(reference.year() - 1, month, day);
    }
    Some(this_year)
}

/// A weekday relative to the reference day (`None` only at the ends of the calendar).
fn weekday_date(
    reference: NaiveDate,
    day: Weekday,
    which: Option<&str>,
    future: bool,
) -> Option<NaiveDate> {
    let shift = |days: i64| reference.checked_add_signed(chrono::TimeDelta::days(days));
    let (today, wanted) = (
        i64::from(reference.weekday().num_days_from_monday()),
        i64::from(day.num_days_from_monday()),
    );
    let back = (7 + today - wanted) % 7;
    let forward = (7 - back) % 7;
    match which.map(str::to_ascii_lowercase).as_deref() {
        Some("last") if back == 0 => shift(-7),
        Some("last") => shift(-back),
        Some("next") if forward == 0 => shift(7),
        Some("next") => shift(forward),
        Some("this") => shift(wanted - today),
        _ if future => shift(forward),
        _ => shift(-back),
    }
}

/// What one match resolves to.
struct Resolved {
    value: Option<String>,
    resolution: DateResolution,
    relative: bool,
    modifier: Option<DateModifier>,
}

impl Resolved {
    fn fixed(value: String, resolution: DateResolution) -> Option<Self> {
        Some(Self {
            value: Some(value),
            resolution,
            relative: false,
            modifier: None,
        })
    }

    fn relative(value: Option<String>, resolution: DateResolution) -> Option<Self> {
        Some(Self {
            value,
            resolution,
            relative: true,
            modifier: None,
        })
    }

    fn with_modifier(mut self, modifier: Option<DateModifier>) -> Self {
        self.modifier = modifier;
        self
    }
}

fn year_in_range(text: &str) -> Option<i32> {
    text.parse::<i32>()
        .ok()
        .filter(|y| (1800..=2099).contains(y))
}

/// Resolves one match. `None`: not a date after all (an impossible day, a year out of range).
fn resolve(
    caps: &Captures<'_>,
    text: &str,
    start: usize,
    reference: Option<NaiveDate>,
) -> Option<Resolved> {
    let g = &*GROUPS;
    let get = |index: usize| caps.get(index).map(|m| m.as_str());
    let future = || future_before(text, start);
    if let Some(iso) = get(g.iso) {
        let date = NaiveDate::parse_from_str(iso, "%Y-%m-%d").ok()?;
        return Resolved::fixed(ymd(date), DateResolution::Day);
    }
    for (d, m, y) in [(g.dmy_d, g.dmy_m, g.dmy_y), (g.mdy_d, g.mdy_m, g.mdy_y)] {
        let (Some(day), Some(month)) = (get(d), get(m)) else {
            continue;
        };
        let day: u32 = day.parse().ok()?;
        let month = month_number(month)?;
        if let Some(year) = get(y) {
            let date = NaiveDate::from_ymd_opt(year.parse().ok()?, month, day)?;
            return Resolved::fixed(ymd(date), DateResolution::Day);
        }
        // validate the day against a leap year, then resolve
        NaiveDate::from_ymd_opt(2000, month, day)?;
        let value = reference
            .and_then(|r| day_without_year(r, month, day, future()))
            .map(ymd);
        return Resolved::relative(value, DateResolution::Day);
    }
    if let (Some(month), Some(year)) = (get(g.my_m), get(g.my_y)) {
        let month = month_number(month)?;
        let year = year_in_range(year)?;
        return Resolved::fixed(ym(year, month), DateResolution::Month)
            .map(|r| r.with_modifier(get(g.my_mod).and_then(modifier)));
    }
    if let (Some(which), Some(month)) = (get(g.rm_w), get(g.rm_m)) {
        let month = month_number(month)?;
        let lower = which.to_ascii_lowercase();
        let value = reference.map(|r| {
            let year = match lower.as_str() {
                "last" if month < r.month() => r.year(),
                "last" => r.year() - 1,
                "next" if month > r.month() => r.year(),
                "next" => r.year() + 1,
                "this" => r.year(),
                _ => month_year(r, month, future()),
            };
            ym(year, month)
        });
        return Resolved::relative(value, DateResolution::Month)
            .map(|r| r.with_modifier(modifier(which)));
    }
    if let Some(month) = get(g.bm) {
        let month = month_number(month)?;
        let value = reference.map(|r| ym(month_year(r, month, future()), month));
        return Resolved::relative(value, DateResolution::Month);
    }
    if let (Some(m), Some(year)) = (get(g.ym_mod), get(g.ym_y)) {
        let year = year_in_range(year)?;
        return Resolved::fixed(year.to_string(), DateResolution::Year)
            .map(|r| r.with_modifier(modifier(m)));
    }
    if let (Some(m), Some(year)) = (get(g.yp), get(g.yp_y)) {
        let year = year_in_range(year)?;
        return Resolved::fixed(year.to_string(), DateResolution::Year)
            .map(|r| r.with_modifier(modifier(m)));
    }
    if let Some(dec) = get(g.dec4) {
        let year: i32 = dec.parse().ok()?;
        return Resolved::fixed(decade(year), DateResolution::Decade)
            .map(|r| r.with_modifier(get(g.dec_mod).and_then(modifier)));
    }
    if let Some(dec) = get(g.dec2) {
        // "'90s": the latest such decade not after the reference year
        let two: i32 = dec.parse().ok()?;
        let value = reference.map(|r| {
            let mut year = r.year() - r.year().rem_euclid(100) + two;
            if year > r.year() {
                year -= 100;
            }
            decade(year)
        });
        return Resolved::relative(value, DateResolution::Decade)
            .map(|r| r.with_modifier(get(g.dec_mod).and_then(modifier)));
    }
    if let Some(n) = get(g.cent_n).and_then(|n| n.parse::<i32>().ok()) {
        if !(1..=30).contains(&n) {
            return None;
        }
        return Resolved::fixed(century((n - 1) * 100), DateResolution::Century);
    }
    if let Some(n) = get(g.cent_w).and_then(ordinal) {
        return Resolved::fixed(
            century((i32::try_from(n).ok()? - 1) * 100),
            DateResolution::Century,
        );
    }
    if get(g.iter).is_some() {
        return Some(Resolved {
            value: None,
            resolution: DateResolution::None,
            relative: false,
            modifier: None,
        });
    }
    if let Some(word) = get(g.rd) {
        let lower = word.to_ascii_lowercase();
        let offset: i64 = if lower.starts_with("yesterday") || lower.starts_with("last") {
            -1
        } else if lower.starts_with("tomorrow") {
            1
        } else if lower.starts_with("day") && lower.ends_with("yesterday") {
            -2
        } else if lower.starts_with("day") {
            2
        } else {
            0
        };
        let value = reference
            .and_then(|r| r.checked_add_signed(chrono::TimeDelta::days(offset)))
            .map(ymd);
        return Resolved::relative(value, DateResolution::Day);
    }
    if let (Some(which), Some(unit)) = (get(g.rp_w), get(g.rp_u)) {
        let delta: i32 = match which.to_ascii_lowercase().as_str() {
            "last" => -1,
            "next" => 1,
            _ => 0,
        };
        return relative_period(reference, &unit.to_ascii_lowercase(), delta);
    }
    if let Some(day) = get(g.wd).and_then(weekday) {
        let value = reference
            .and_then(|r| weekday_date(r, day, get(g.wd_w), future()))
            .map(ymd);
        return Resolved::relative(value, DateResolution::Day);
    }
    if let (Some(n), Some(unit)) = (get(g.ago_n), get(g.ago_u)) {
        let n = i32::try_from(number(n)?).ok()?;
        return relative_period(reference, &unit.to_ascii_lowercase(), -n);
    }
    if let Some(year) = get(g.year) {
        let year = year_in_range(year)?;
        return Resolved::fixed(year.to_string(), DateResolution::Year);
    }
    None
}

/// `this/last/next <unit>` and `<n> <unit>s ago`: the reference moved by `delta` units.
fn relative_period(reference: Option<NaiveDate>, unit: &str, delta: i32) -> Option<Resolved> {
    let resolution = match unit {
        "day" => DateResolution::Day,
        "week" | "weekend" => DateResolution::Week,
        "month" => DateResolution::Month,
        "year" => DateResolution::Year,
        "decade" => DateResolution::Decade,
        _ => DateResolution::Century,
    };
    let value = reference.and_then(|r| {
        let days = |n: i64| r.checked_add_signed(chrono::TimeDelta::days(n));
        Some(match resolution {
            DateResolution::Day => ymd(days(i64::from(delta))?),
            DateResolution::Week => week(days(i64::from(delta) * 7)?),
            DateResolution::Month => {
                let (y, m) = add_months(r.year(), r.month(), delta);
                ym(y, m)
            }
            DateResolution::Year => format!("{:04}", r.year() + delta),
            DateResolution::Decade => decade(r.year() + 10 * delta),
            _ => century(r.year() + 100 * delta),
        })
    });
    Resolved::relative(value, resolution)
}

/// Finds and resolves the date expressions of `text` (`in_headline` marks headline spans).
pub fn extract(text: &str, reference: Option<NaiveDate>, in_headline: bool) -> Vec<DateExpr> {
    let mut out = Vec::new();
    let g = &*GROUPS;
    for caps in PATTERN.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        // the expression starts after the cue word, at "the" for decades and centuries
        let keeps_the = [g.dec4, g.dec2, g.cent_n, g.cent_w, g.yp]
            .iter()
            .any(|&i| caps.get(i).is_some());
        let cue = caps
            .get(g.cue)
            .or_else(|| caps.get(g.cue_m))
            .or_else(|| caps.get(g.cue_y));
        let start = match (caps.get(g.the), cue) {
            (Some(the), _) if keeps_the => the.start(),
            (Some(the), _) => the.end() + skip_blank(&text[the.end()..]),
            (None, Some(cue)) => cue.end() + skip_blank(&text[cue.end()..]),
            (None, None) => whole.start(),
        };
        let Some(resolved) = resolve(&caps, text, start, reference) else {
            continue;
        };
        let end = whole.end();
        out.push(DateExpr {
            text: text[start..end].to_string(),
            start,
            end,
            in_headline,
            value: resolved.value,
            resolution: resolved.resolution,
            relative: resolved.relative,
            modifier: resolved.modifier,
            relation: cue.and_then(|c| relation(c.as_str())),
        });
    }
    out
}

fn skip_blank(text: &str) -> usize {
    text.len() - text.trim_start_matches([' ', '\t']).len()
}

/// The date relative expressions are resolved against: `version_created`, else
/// `first_created`, else the record timestamp.
pub fn reference_date(story: &Story) -> Option<NaiveDate> {
    story
        .version_created
        .or(story.first_created)
        .or(story.record_timestamp)
        .map(|t: DateTime<Utc>| t.date_naive())
}

/// The dates stage: fills [`crate::story::Enrichment::dates`].
#[derive(Debug, Clone, Copy)]
pub struct Dates;

impl Dates {
    /// Builds the stage, compiling the pattern if this is the first use.
    pub fn new() -> Self {
        LazyLock::force(&GROUPS);
        Self
    }
}

impl Default for Dates {
    fn default() -> Self {
        Self::new()
    }
}

impl Stage for Dates {
    fn name(&self) -> &'static str {
        "dates"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        let reference = reference_date(&story);
        let mut dates = match &story.headline {
            Some(h) => extract(h, reference, true),
            None => Vec::new(),
        };
        dates.extend(extract(&story.body_text(), reference, false));
        story.enrichment.dates = dates;
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DateResolution as R;

    fn reference() -> Option<NaiveDate> {
        // a Tuesday
        NaiveDate::from_ymd_opt(2022, 8, 16)
    }

    /// (text, expression, value, resolution, relative)
    #[test]
    fn table() {
        let cases: &[(&str, &str, Option<&str>, R, bool)] = &[
            (
                "It was signed on 15 August 2022.",
                "15 August 2022",
                Some("2022-08-15"),
                R::Day,
                false,
            ),
            (
                "It was signed on August 15, 2022.",
                "August 15, 2022",
                Some("2022-08-15"),
                R::Day,
                false,
            ),
            ("He met Kim in 2019.", "2019", Some("2019"), R::Year, false),
            (
                "Last July, North Korea recognised them.",
                "Last July",
                Some("2022-07"),
                R::Month,
                true,
            ),
            (
                "In February, Moscow signed a decree.",
                "February",
                Some("2022-02"),
                R::Month,
                true,
            ),
            (
                "In October, talks collapsed.",
                "October",
                Some("2021-10"),
                R::Month,
                true,
            ),
            (
                "Talks will resume in October.",
                "October",
                Some("2022-10"),
                R::Month,
                true,
            ),
            (
                "occupied by separatists since 2014.",
                "2014",
                Some("2014"),
                R::Year,
                false,
            ),
            (
                "estranged since the early 2000s.",
                "the early 2000s",
                Some("200X"),
                R::Decade,
                false,
            ),
            (
                "consolidated century after century.",
                "century after century",
                None,
                R::None,
                false,
            ),
            (
                "The minister spoke on Tuesday.",
                "Tuesday",
                Some("2022-08-16"),
                R::Day,
                true,
            ),
            (
                "The minister spoke on Monday.",
                "Monday",
                Some("2022-08-15"),
                R::Day,
                true,
            ),
            (
                "The minister spoke on Wednesday.",
                "Wednesday",
                Some("2022-08-10"),
                R::Day,
                true,
            ),
            (
                "The minister will speak on Wednesday.",
                "Wednesday",
                Some("2022-08-17"),
                R::Day,
                true,
            ),
            (
                "She left yesterday.",
                "yesterday",
                Some("2022-08-15"),
                R::Day,
                true,
            ),
            (
                "Markets fell today.",
                "today",
                Some("2022-08-16"),
                R::Day,
                true,
            ),
            (
                "Prices rose last week.",
                "last week",
                Some("2022-W32"),
                R::Week,
                true,
            ),
            (
                "It opens next month.",
                "next month",
                Some("2022-09"),
                R::Month,
                true,
            ),
            (
                "The report was dated 2022-08-15T10:00Z.",
                "2022-08-15T10:00Z",
                Some("2022-08-15"),
                R::Day,
                false,
            ),
            (
                "Growth is expected by mid-2023.",
                "mid-2023",
                Some("2023"),
                R::Year,
                false,
            ),
            (
                "The 1990s were different.",
                "The 1990s",
                Some("199X"),
                R::Decade,
                false,
            ),
            (
                "KYIV, Aug 16 (Reuters) - Shelling",
                "Aug 16",
                Some("2022-08-16"),
                R::Day,
                true,
            ),
            (
                "Prices in March 2020 fell.",
                "March 2020",
                Some("2020-03"),
                R::Month,
                false,
            ),
            (
                "It happened three years ago.",
                "three years ago",
                Some("2019"),
                R::Year,
                true,
            ),
            (
                "the 20th century",
                "the 20th century",
                Some("19XX"),
                R::Century,
                false,
            ),
            (
                "in the nineteenth century",
                "the nineteenth century",
                Some("18XX"),
                R::Century,
                false,
            ),
            (
                "Music of the '80s",
                "the '80s",
                Some("198X"),
                R::Decade,
                true,
            ),
            (
                "The vote is on Jan. 5.",
                "Jan. 5",
                Some("2022-01-05"),
                R::Day,
                true,
            ),
            (
                "The summit opens on 2 September.",
                "2 September",
                Some("2022-09-02"),
                R::Day,
                true,
            ),
            (
                "The summit was on 2 December.",
                "2 December",
                Some("2021-12-02"),
                R::Day,
                true,
            ),
        ];
        for &(text, expr, value, resolution, relative) in cases {
            let got = extract(text, reference(), false);
            let d = got
                .iter()
                .find(|d| d.text == expr)
                .unwrap_or_else(|| panic!("{expr:?} not found in {text:?}: {got:#?}"));
            assert_eq!(&text[d.start..d.end], expr);
            assert_eq!(d.value.as_deref(), value, "{text:?}");
            assert_eq!(d.resolution, resolution, "{text:?}");
            assert_eq!(d.relative, relative, "{text:?}");
        }
    }

    #[test]
    fn every_group_name_is_in_the_pattern() {
        assert!(GROUPS.all().iter().all(|&i| i != usize::MAX));
    }

    #[test]
    fn modifiers_and_relations() {
        let got = extract("since the early 2000s", reference(), false);
        assert_eq!(got[0].modifier, Some(DateModifier::Early));
        assert_eq!(got[0].relation, Some(DateRelation::Since));
        let got = extract("until late 2021", reference(), false);
        assert_eq!(got[0].modifier, Some(DateModifier::Late));
        assert_eq!(got[0].relation, Some(DateRelation::Until));
        let got = extract("by the end of 2024", reference(), false);
        assert_eq!(got[0].value.as_deref(), Some("2024"));
        assert_eq!(got[0].modifier, Some(DateModifier::Late));
    }

    #[test]
    fn not_dates() {
        for text in [
            "2000 people marched.",
            "You may go now.",
            "Troops march on.",
            "Jan Kowalski said so.",
            "He scored 3.5 points in 40 minutes.",
            "The year 12000 is far.",
        ] {
            let got = extract(text, reference(), false);
            assert!(got.is_empty(), "{text:?}: {got:#?}");
        }
    }

    #[test]
    fn without_reference_relative_dates_have_no_value() {
        let got = extract("Last July and in 2019 and yesterday", None, false);
        let values: Vec<_> = got.iter().map(|d| d.value.as_deref()).collect();
        assert_eq!(values, vec![None, Some("2019"), None]);
    }

    #[test]
    fn weekday_words() {
        let r = NaiveDate::from_ymd_opt(2022, 8, 16).expect("date");
        let tue = Weekday::Tue;
        for (which, future, want) in [
            (None, false, 16),
            (Some("last"), false, 9),
            (Some("next"), false, 23),
            (Some("this"), false, 16),
            (None, true, 16),
        ] {
            let got = weekday_date(r, tue, which, future).map(|d| d.day());
            assert_eq!(got, Some(want), "{which:?}");
        }
        let sunday = weekday_date(r, Weekday::Sun, Some("this"), false);
        assert_eq!(sunday.map(|d| d.day()), Some(21));
        let saturday = weekday_date(r, Weekday::Sat, None, false);
        assert_eq!(saturday.map(|d| d.day()), Some(13));
    }

    #[test]
    fn reference_prefers_version_created() {
        let t = |d: u32| {
            NaiveDate::from_ymd_opt(2022, 8, d)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        };
        let mut story = Story {
            record_timestamp: t(20),
            ..Story::default()
        };
        assert_eq!(reference_date(&story).map(|d| d.day()), Some(20));
        story.first_created = t(15);
        assert_eq!(reference_date(&story).map(|d| d.day()), Some(15));
        story.version_created = t(16);
        assert_eq!(reference_date(&story).map(|d| d.day()), Some(16));
    }

    #[test]
    fn headline_dates_are_marked() {
        let story = Story {
            headline: Some("Talks resume on Monday".into()),
            body: vec![crate::story::Block::paragraph("They met in 2019.")],
            version_created: reference()
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .map(|d| d.and_utc()),
            ..Story::default()
        };
        let out = Dates::new().process(story).expect("ok");
        let dates = &out.enrichment.dates;
        assert_eq!(dates.len(), 2);
        assert!(dates[0].in_headline && !dates[1].in_headline);
        assert_eq!(dates[1].value.as_deref(), Some("2019"));
    }
}
