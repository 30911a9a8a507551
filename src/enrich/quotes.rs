//! Quotes: direct quotes and reported speech, with their speakers.
//!
//! **Direct quotes** are text between double quotation marks: straight (`"`), curly (`“ ”`,
//! including a closing mark mistyped as `“`) and guillemets (`« »`). A paragraph that opens a
//! quote without closing it, followed by a paragraph that opens with a quotation mark, is
//! one multi-paragraph quote (the news convention). Single quotation marks are not read
//! (they cannot be told from apostrophes cheaply); one-word quotes are skipped (scare quotes).
//!
//! **Reported speech**: `X said (that) …`, `X told reporters that …`, `…, X said.`,
//! `according to X, …` and `…, according to X.`, for the speech verbs in [`VERBS`].
//!
//! **Attribution**: a direct quote's speaker is found in its sentence — after the quote
//! (`,” he said`, `,” said Putin`) or before it (`Putin said that … “…”`). A whole-sentence
//! quote with no attribution of its own continues the previous quote of the same or the
//! preceding paragraph. The speaker is kept as written (`he`, `Putin`, `a report by KCNA`)
//! and resolved, when entities ran before this stage, to an entity's canonical name: the
//! entity with a mention inside the speaker span, else the entity whose name ends with the
//! speaker's last word ("Putin" → "Vladimir Putin"), else for `he`/`she` the most recent
//! person and for `it` the most recent organisation, else for `the president`, `the
//! minister` … the most recent person holding that role.
//!
//! Speech verbs are found with one Aho-Corasick scan (built once); quotation marks in one
//! byte pass; sentence spans come from [`super::sentences`].

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::pipeline::{Stage, StageError};
use crate::story::{Entity, EntityKind, Quote, QuoteKind, Span, Story};

use super::byte_scan::find_any;
use super::sentences::split_sentences;

/// How a speech cue introduces reported speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerbClass {
    /// The clause may follow directly: `said the plan failed`.
    Clause,
    /// An object comes first; reported speech only with `that`/`whether`/`if`: `told
    /// reporters that …`.
    Object,
    /// Often a plain transitive verb (`announced a plan`); reported speech only with `that`.
    That,
    /// `according to X`.
    According,
}

/// Speech cues and how each introduces reported speech.
pub const VERBS: &[(&str, VerbClass)] = &[
    ("said", VerbClass::Clause),
    ("says", VerbClass::Clause),
    ("say", VerbClass::Clause),
    ("added", VerbClass::Clause),
    ("adds", VerbClass::Clause),
    ("stated", VerbClass::Clause),
    ("claimed", VerbClass::Clause),
    ("insisted", VerbClass::Clause),
    ("insists", VerbClass::Clause),
    ("noted", VerbClass::Clause),
    ("argued", VerbClass::Clause),
    ("argues", VerbClass::Clause),
    ("warned", VerbClass::Clause),
    ("warns", VerbClass::Clause),
    ("stressed", VerbClass::Clause),
    ("explained", VerbClass::Clause),
    ("explains", VerbClass::Clause),
    ("wrote", VerbClass::Clause),
    ("writes", VerbClass::Clause),
    ("told", VerbClass::Object),
    ("tells", VerbClass::Object),
    ("asked", VerbClass::Object),
    ("asks", VerbClass::Object),
    ("urged", VerbClass::Object),
    ("reminded", VerbClass::Object),
    ("assured", VerbClass::Object),
    ("announced", VerbClass::That),
    ("declared", VerbClass::That),
    ("replied", VerbClass::That),
    ("responded", VerbClass::That),
    ("continued", VerbClass::That),
    ("acknowledged", VerbClass::That),
    ("admitted", VerbClass::That),
    ("emphasised", VerbClass::That),
    ("emphasized", VerbClass::That),
    ("predicted", VerbClass::That),
    ("recalled", VerbClass::That),
    ("suggested", VerbClass::That),
    ("tweeted", VerbClass::That),
    ("reported", VerbClass::That),
    ("promised", VerbClass::That),
    ("pledged", VerbClass::That),
    ("vowed", VerbClass::That),
    ("confirmed", VerbClass::That),
    ("denied", VerbClass::That),
    ("conceded", VerbClass::That),
    ("cautioned", VerbClass::That),
    ("concluded", VerbClass::That),
    ("alleged", VerbClass::That),
    ("complained", VerbClass::That),
    ("according to", VerbClass::According),
    ("According to", VerbClass::According),
];

static MATCHER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    // A fixed list of short literals; building cannot fail short of a bug, caught by tests.
    // a full DFA without prefilter: the verbs share prefixes, so literal prefilters fire often
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .prefilter(false)
        .build(VERBS.iter().map(|(v, _)| v))
        .unwrap_or_else(|err| panic!("speech verb matcher: {err}"))
});

#[rustfmt::skip]
const PRONOUNS: &[&str] = &[
    "he", "she", "they", "it", "we", "I", "He", "She", "They", "It", "We",
];

/// Words skipped between a speaker and the verb: "he also said", "Putin has repeatedly said".
#[rustfmt::skip]
const BETWEEN: &[&str] = &[
    "did", "does", "do", "could", "can", "may", "might", "should", "also", "later", "then",
    "once", "previously", "earlier", "again", "further", "has", "had", "have", "was", "is",
    "would", "will", "had", "never", "not", "recently", "reportedly", "repeatedly",
    "separately", "publicly", "privately", "quickly", "simply", "just", "subsequently",
];

/// Lower-case words inside names and titles ("Council of Europe", "Ambassador to the United
/// States"), optionally followed by "the".
const CONNECTORS: &[&str] = &["of", "for", "to", "and", "on", "in"];

/// How many connector words start `words` ("of", "for the"): 0, 1 or 2.
fn connector_len(words: &[Word<'_>]) -> usize {
    match words {
        [w, the, ..] if CONNECTORS.contains(&w.text) && the.text == "the" => 2,
        [w, ..] if CONNECTORS.contains(&w.text) => 1,
        _ => 0,
    }
}

/// Words that end a lower-case speaker phrase going backwards.
#[rustfmt::skip]
const CLAUSE_WORDS: &[&str] = &[
    "that", "which", "who", "whom", "and", "but", "or", "when", "while", "as", "because",
    "after", "before", "if", "where", "since", "so", "than", "what", "whether",
];

#[rustfmt::skip]
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "his", "her", "its", "their", "our", "this", "these", "those", "such",
    "The", "A", "An", "His", "Her", "Its", "Their", "Our", "This", "These", "Those",
];

/// Capitalised words that do not start a name (sentence openers, months, weekdays).
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "In", "On", "At", "The", "A", "An", "But", "And", "Or", "So", "After", "Before", "When",
    "While", "As", "If", "Then", "Also", "However", "Meanwhile", "According", "Last", "Next",
    "This", "That", "Earlier", "Later", "For", "From", "With", "By", "Since", "Still", "Yet",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "I",
];

/// Lower-case particles inside names: "Ursula von der Leyen", "Bashar al-Assad".
#[rustfmt::skip]
const PARTICLES: &[&str] = &[
    "de", "del", "der", "van", "von", "bin", "ibn", "al", "da", "di", "du", "la", "le", "dos",
];

/// Role words: "the president said" refers to the last person with that role.
#[rustfmt::skip]
const ROLES: &[&str] = &[
    "president", "minister", "leader", "chancellor", "premier", "spokesman", "spokeswoman",
    "spokesperson", "secretary", "governor", "mayor", "senator", "general", "ambassador",
    "chairman", "chairwoman", "chief", "director", "king", "queen", "pope", "envoy", "official",
    "commander", "prosecutor", "judge", "ceo", "founder",
];

/// A speech cue found in the text.
#[derive(Debug, Clone, Copy)]
struct Cue {
    start: usize,
    end: usize,
    index: usize,
    /// Whether it attributes a direct quote (then it yields no reported speech).
    used: bool,
}

impl Cue {
    fn text(&self) -> &'static str {
        VERBS[self.index].0
    }
    fn class(&self) -> VerbClass {
        VERBS[self.index].1
    }
}

fn find_cues(text: &str) -> Vec<Cue> {
    let bytes = text.as_bytes();
    MATCHER
        .find_iter(text)
        .filter(|m| {
            let before = m.start() == 0 || !is_word_byte(bytes[m.start() - 1]);
            let after = m.end() == bytes.len() || !is_word_byte(bytes[m.end()]);
            before && after
        })
        .map(|m| Cue {
            start: m.start(),
            end: m.end(),
            index: m.pattern().as_usize(),
            used: false,
        })
        .collect()
}

/// ASCII letters and digits, and every byte of a non-ASCII character (letters mostly).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// A word with its byte span.
#[derive(Debug, Clone, Copy)]
struct Word<'a> {
    start: usize,
    end: usize,
    text: &'a str,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '\'' | '’' | '.')
}

/// Words of `text[from..to]` in order, stopping (from the end) at punctuation: only the
/// words after the last comma, semicolon, colon, bracket, dash or quotation mark.
fn words_before(text: &str, from: usize, to: usize) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let segment = &text[from..to];
    let mut iter = segment.char_indices().rev().peekable();
    while let Some(&(i, c)) = iter.peek() {
        if c.is_whitespace() {
            iter.next();
            continue;
        }
        if !is_word_char(c) {
            break;
        }
        let word_end = from + i + c.len_utf8();
        let mut word_start = from + i;
        iter.next();
        while let Some(&(j, d)) = iter.peek() {
            if !is_word_char(d) {
                break;
            }
            word_start = from + j;
            iter.next();
        }
        let mut w = &text[word_start..word_end];
        // a sentence-final period belongs to no word
        let trimmed = w.trim_end_matches('.');
        if trimmed.len() != w.len() && trimmed.len() > 1 {
            w = trimmed;
        }
        out.push(Word {
            start: word_start,
            end: word_start + w.len(),
            text: w,
        });
    }
    out.reverse();
    out
}

/// Up to `max` words of `text[from..to]` from the start, stopping at punctuation.
fn words_after(text: &str, from: usize, to: usize, max: usize) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut i = from;
    while i < to && out.len() < max {
        let Some(c) = text[i..to].chars().next() else {
            break;
        };
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if !is_word_char(c) || c == '.' {
            break;
        }
        let start = i;
        let mut end = i;
        for (j, d) in text[i..to].char_indices() {
            if !is_word_char(d) {
                break;
            }
            end = i + j + d.len_utf8();
        }
        let w = text[start..end].trim_end_matches('.');
        let w = if w.is_empty() { &text[start..end] } else { w };
        out.push(Word {
            start,
            end: start + w.len(),
            text: w,
        });
        if w.len() != end - start {
            break; // the word ended the sentence
        }
        i = end;
    }
    out
}

fn is_capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

fn is_negation(word: &str) -> bool {
    matches!(word, "not" | "never") || word.ends_with("n't") || word.ends_with("n’t")
}

fn is_adverb(word: &str) -> bool {
    BETWEEN.contains(&word)
        || is_negation(word)
        || (word.len() > 4 && word.ends_with("ly") && !is_capitalised(word))
}

/// The speaker before a cue: the words between `from` and the cue at `cue_start`.
fn speaker_before(text: &str, from: usize, cue_start: usize) -> Option<Span> {
    let words = words_before(text, from, cue_start);
    let mut n = words.len();
    while n > 0 && is_adverb(words[n - 1].text) {
        if is_negation(words[n - 1].text) {
            return None; // "officials have not said why"
        }
        n -= 1;
    }
    let words = &words[..n];
    let last = *words.last()?;
    if PRONOUNS.contains(&last.text) {
        return Some(Span {
            start: last.start,
            end: last.end,
        });
    }
    if DETERMINERS.contains(&last.text) || CLAUSE_WORDS.contains(&last.text) {
        return None; // "the claims that", "that said"
    }
    let mut first = words.len() - 1;
    if is_capitalised(last.text) {
        if NOT_NAMES.contains(&last.text) {
            return None;
        }
        let is_name = |w: &str| is_capitalised(w) && !NOT_NAMES.contains(&w);
        while first > 0 {
            let w = words[first - 1].text;
            if is_name(w) || PARTICLES.contains(&w) {
                first -= 1;
                continue;
            }
            // "Council of Europe", "Office for the Coordination of Humanitarian Affairs"
            let connectors = [2, 1]
                .into_iter()
                .find(|&k| first > k && connector_len(&words[first - k..first]) == k)
                .unwrap_or(0);
            if connectors > 0 && is_name(words[first - connectors - 1].text) {
                first -= connectors + 1;
                continue;
            }
            break;
        }
        while PARTICLES.contains(&words[first].text) && first < words.len() - 1 {
            first += 1;
        }
        if first > 0 && matches!(words[first - 1].text, "the" | "The") {
            first -= 1;
        }
    } else {
        // a common-noun phrase: back to a determiner, a clause word or six words
        loop {
            if DETERMINERS.contains(&words[first].text) {
                break;
            }
            if first == 0 || words.len() - first >= 6 {
                break;
            }
            if CLAUSE_WORDS.contains(&words[first - 1].text) {
                break;
            }
            first -= 1;
        }
        if words.len() - first > 1 && !DETERMINERS.contains(&words[first].text) {
            // "officials said": keep only the noun
            first = words.len() - 1;
        }
    }
    Some(Span {
        start: words[first].start,
        end: last.end,
    })
}

/// The speaker after a cue (inverted: `said Putin`, `said the minister`, `said he`).
fn speaker_after(text: &str, cue_end: usize, to: usize) -> Option<Span> {
    let words = words_after(text, cue_end, to, 6);
    let first = *words.first()?;
    if PRONOUNS.contains(&first.text) {
        return Some(Span {
            start: first.start,
            end: first.end,
        });
    }
    let mut last = 0;
    if is_capitalised(first.text) || matches!(first.text, "the" | "The") {
        while last + 1 < words.len() {
            let w = words[last + 1].text;
            if is_capitalised(w) || PARTICLES.contains(&w) || (last == 0 && first.text == "the") {
                last += 1;
            } else {
                break;
            }
        }
        if first.text == "the" && last == 0 {
            return None;
        }
        if NOT_NAMES.contains(&first.text) && first.text != "The" {
            return None;
        }
        return Some(Span {
            start: first.start,
            end: words[last].end,
        });
    }
    None
}

/// The `according to X` phrase: up to punctuation, at most eight words.
fn according_speaker(text: &str, cue_end: usize, to: usize) -> Option<Span> {
    let words = words_after(text, cue_end, to, 8);
    let first = words.first()?;
    let the_name = first.text == "the" && words.get(1).is_some_and(|w| is_capitalised(w.text));
    let mut last = 0;
    if is_capitalised(first.text) || the_name {
        // a name: the capitalised run, with "of", "for the" … between capitalised words
        let mut i = usize::from(the_name);
        while i < words.len() {
            if is_capitalised(words[i].text) {
                last = i;
                i += 1;
                continue;
            }
            let connectors = connector_len(&words[i..]);
            match words.get(i + connectors) {
                Some(w) if connectors > 0 && is_capitalised(w.text) => i += connectors,
                _ => break,
            }
        }
        // "the Afghan team's coach," — a short noun phrase up to punctuation is kept whole
        if words.len() < 8
            && words.len() - last <= 3
            && words[last + 1..].iter().all(|w| !is_capitalised(w.text))
        {
            last = words.len() - 1;
        }
    } else {
        // a common-noun phrase; a determiner not after a preposition starts the clause
        // ("according to officials the plan …")
        for i in 1..words.len().min(6) {
            if DETERMINERS.contains(&words[i].text) && !PREPOSITIONS.contains(&words[i - 1].text) {
                break;
            }
            last = i;
        }
        while last > 0
            && (PREPOSITIONS.contains(&words[last].text) || DETERMINERS.contains(&words[last].text))
        {
            last -= 1;
        }
    }
    Some(Span {
        start: first.start,
        end: words[last].end,
    })
}

/// The bytes that can start a quotation mark or a paragraph break: `"`, a newline, and the
/// lead bytes of `«`/`»` (0xC2) and of the curly quotes (0xE2).
const MARK_BYTES: [u8; 4] = [b'"', b'\n', 0xC2, 0xE2];

/// The direct quotes of `text`: content spans (the parts of a multi-paragraph quote).
fn direct_quotes(text: &str) -> Vec<Vec<(usize, usize)>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut parts: Vec<(usize, usize)> = Vec::new();
    // content start of the open quote
    let mut open: Option<usize> = None;
    let mut i = 0;
    let mut paragraph_start = true;
    while i < bytes.len() {
        // jump to the next byte that can start a mark or a paragraph break
        let Some(skip) = find_any(&bytes[i..], MARK_BYTES) else {
            break;
        };
        if skip > 0 {
            paragraph_start = false;
            i += skip;
        }
        let b = bytes[i];
        if b == b'\n' && bytes.get(i + 1) == Some(&b'\n') {
            // paragraph break: an open quote continues only if the next paragraph opens
            // with a quotation mark
            let next = i + 2 + text[i + 2..].len() - text[i + 2..].trim_start().len();
            if let Some(start) = open {
                push_part(text, &mut parts, start, i);
                let continues = mark_at(text, next).is_some_and(|(kind, _)| kind != Mark::Close);
                if !continues {
                    finish(&mut out, &mut parts);
                    open = None;
                }
            }
            i = next;
            paragraph_start = true;
            continue;
        }
        let Some((kind, len)) = mark_at(text, i) else {
            i += 1;
            paragraph_start = false;
            continue;
        };
        let prev = text[..i].chars().next_back();
        let next = text[i + len..].chars().next();
        let prev_space = prev.is_none_or(|c| c.is_whitespace() || "([—–-:/".contains(c));
        let next_space = next.is_none_or(|c| c.is_whitespace() || ",.;:!?)".contains(c));
        match open {
            Some(start) => {
                let closes = match kind {
                    Mark::Close | Mark::Straight => !prev_space || next_space,
                    // “ mistyped for ”
                    Mark::Open => !prev_space && next_space,
                };
                if paragraph_start && kind != Mark::Close {
                    // the re-opening mark of a continued paragraph
                    open = Some(i + len);
                } else if closes {
                    push_part(text, &mut parts, start, i);
                    finish(&mut out, &mut parts);
                    open = None;
                }
            }
            None => {
                let opens = match kind {
                    Mark::Open => true,
                    Mark::Straight => prev_space && !next_space,
                    Mark::Close => false,
                };
                if opens {
                    open = Some(i + len);
                }
            }
        }
        paragraph_start = false;
        i += len;
    }
    if let Some(start) = open {
        push_part(text, &mut parts, start, bytes.len());
        finish(&mut out, &mut parts);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Open,
    Close,
    Straight,
}

fn mark_at(text: &str, at: usize) -> Option<(Mark, usize)> {
    let rest = text.get(at..)?;
    match rest.as_bytes().first()? {
        b'"' => Some((Mark::Straight, 1)),
        0xE2 if rest.starts_with('“') => Some((Mark::Open, 3)),
        0xE2 if rest.starts_with('”') => Some((Mark::Close, 3)),
        0xC2 if rest.starts_with('«') => Some((Mark::Open, 2)),
        0xC2 if rest.starts_with('»') => Some((Mark::Close, 2)),
        _ => None,
    }
}

fn push_part(text: &str, parts: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    let slice = &text[start..end];
    let s = start + slice.len() - slice.trim_start().len();
    let e = start + slice.trim_end().len();
    if e > s {
        parts.push((s, e));
    }
}

fn finish(out: &mut Vec<Vec<(usize, usize)>>, parts: &mut Vec<(usize, usize)>) {
    if !parts.is_empty() {
        out.push(std::mem::take(parts));
    }
}

/// Number of whitespace-separated pieces of `text` with a letter or digit (see
/// `tests::word_count_reference`). ASCII bytes are classified by a table; other characters
/// are decoded one by one.
fn word_count(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut count = 0;
    // whether the current piece has a letter or digit so far
    let mut alnum = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let class = if b < 0x80 {
            i += 1;
            ASCII_CLASS[usize::from(b)]
        } else {
            // `i` is a character boundary: it moves by whole characters
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            if c.is_whitespace() {
                SPACE
            } else if c.is_alphanumeric() {
                ALNUM
            } else {
                OTHER
            }
        };
        // branch-free on the class: a piece counts when a space ends it
        count += usize::from(alnum & (class == SPACE));
        alnum = (alnum | (class == ALNUM)) & (class != SPACE);
    }
    count + usize::from(alnum)
}

/// Character classes of [`word_count`].
const OTHER: u8 = 0;
const SPACE: u8 = 1;
const ALNUM: u8 = 2;

/// The class of each ASCII byte: whitespace as `char::is_whitespace` (which, unlike
/// `u8::is_ascii_whitespace`, includes the vertical tab), letters and digits.
static ASCII_CLASS: [u8; 128] = {
    let mut table = [OTHER; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') {
            table[b] = SPACE;
        } else if c.is_ascii_alphanumeric() {
            table[b] = ALNUM;
        }
        b += 1;
    }
    table
};

/// Index of the sentence containing byte `at`.
fn sentence_of(sentences: &[(usize, usize)], at: usize) -> Option<usize> {
    let i = sentences.partition_point(|&(s, _)| s <= at);
    (i > 0 && at <= sentences[i - 1].1).then(|| i - 1)
}

/// Resolves a speaker span to an entity's canonical name.
fn resolve_speaker(text: &str, span: Span, entities: &[Entity]) -> Option<String> {
    let speaker = &text[span.start..span.end];
    let rank = |k: EntityKind| match k {
        EntityKind::Person => 0,
        EntityKind::Organisation => 1,
        EntityKind::Place => 2,
    };
    // a mention inside the speaker span: the last, most person-like one
    let inside = entities
        .iter()
        .flat_map(|e| e.mentions.iter().map(move |m| (e, m)))
        .filter(|(e, m)| m.start < span.end && m.end > span.start && e.named)
        // a place counts only as the head ("Russia said"), not as a modifier ("the Afghan
        // team's coach")
        .filter(|(e, m)| e.kind != EntityKind::Place || m.end == span.end)
        .min_by_key(|(e, m)| (rank(e.kind), std::cmp::Reverse(m.start)));
    if let Some((e, _)) = inside {
        return Some(e.name.clone());
    }
    let lower = speaker.to_lowercase();
    let last_word = speaker.rsplit(' ').next().unwrap_or(speaker);
    let before = |kind: EntityKind, role: Option<&str>| {
        entities
            .iter()
            .filter(|e| e.kind == kind)
            .filter(|e| role.is_none_or(|r| e.roles.iter().any(|x| x.to_lowercase().contains(r))))
            .filter_map(|e| {
                e.mentions
                    .iter()
                    .filter(|m| m.end <= span.start)
                    .map(|m| m.start)
                    .max()
                    .map(|at| (at, e))
            })
            .max_by_key(|(at, _)| *at)
            .map(|(_, e)| e.name.clone())
    };
    match lower.as_str() {
        "he" | "she" => return before(EntityKind::Person, None),
        "it" => return before(EntityKind::Organisation, None),
        "they" | "we" | "i" => return None,
        _ => {}
    }
    if is_capitalised(last_word) {
        let by_name = entities.iter().find(|e| {
            e.name == speaker
                || e.name
                    .strip_suffix(last_word)
                    .is_some_and(|rest| rest.is_empty() || rest.ends_with(' '))
        });
        if let Some(e) = by_name {
            return Some(e.name.clone());
        }
    }
    let role = ROLES.iter().find(|r| {
        lower.ends_with(*r) && (lower.starts_with("the ") || lower.starts_with("his "))
    })?;
    before(EntityKind::Person, Some(role))
}

/// Extracts the quotes of a body text, given its sentence spans and (possibly empty)
/// entities with mentions in the same text.
pub fn extract(text: &str, sentences: &[(usize, usize)], entities: &[Entity]) -> Vec<Quote> {
    let mut cues = find_cues(text);
    let mut quotes: Vec<Quote> = Vec::new();
    // direct quotes
    for parts in direct_quotes(text) {
        let (Some(&(start, _)), Some(&(_, end))) = (parts.first(), parts.last()) else {
            continue;
        };
        let joined: String = if parts.len() == 1 {
            text[start..end].to_string()
        } else {
            parts
                .iter()
                .map(|&(s, e)| &text[s..e])
                .collect::<Vec<_>>()
                .join("\n\n")
        };
        if word_count(&joined) < 2 {
            continue;
        }
        let mut quote = Quote {
            kind: QuoteKind::Direct,
            text: joined,
            start,
            end,
            speaker: None,
            speaker_span: None,
            speaker_entity: None,
            cue: None,
        };
        attribute_direct(text, sentences, &mut cues, &mut quote);
        quotes.push(quote);
    }
    inherit_speakers(text, &mut quotes);
    // reported speech
    for (i, cue) in cues.iter().enumerate().filter(|(_, c)| !c.used) {
        if let Some(q) = reported(text, sentences, cue, &cues[i + 1..], &quotes) {
            quotes.push(q);
        }
    }
    quotes.sort_by_key(|q| q.start);
    for q in &mut quotes {
        if let Some(span) = q.speaker_span {
            q.speaker_entity = resolve_speaker(text, span, entities);
        }
    }
    quotes
}

/// Finds the cue and speaker of a direct quote in its sentence.
fn attribute_direct(text: &str, sentences: &[(usize, usize)], cues: &mut [Cue], quote: &mut Quote) {
    let sentence_start = sentence_of(sentences, quote.start).map_or(0, |i| sentences[i].0);
    let sentence_end = sentence_of(sentences, quote.end).map_or(text.len(), |i| sentences[i].1);
    // past the closing mark and its punctuation
    let after = text[quote.end..sentence_end]
        .char_indices()
        .find(|&(_, c)| {
            !(c == ',' || c == '.' || c == '!' || c == '?' || c == ' ' || "”“\"»".contains(c))
        })
        .map_or(sentence_end, |(i, _)| quote.end + i);
    // 1. right after the quote: ,” he said / ,” said Putin / ,” the Kremlin spokesman said
    let next_open = text[after..sentence_end]
        .find(['“', '"', '«'])
        .map_or(sentence_end, |i| after + i);
    let limit = next_open.min(after + 80).min(sentence_end);
    if let Some(i) = cues
        .iter()
        .position(|c| c.start >= after && c.end <= limit && c.class() != VerbClass::According)
    {
        let cue = cues[i];
        let speaker = if cue.start > after {
            speaker_before(text, after, cue.start)
        } else {
            speaker_after(text, cue.end, sentence_end)
        };
        if speaker.is_some() {
            cues[i].used = true;
            set_speaker(text, quote, speaker, cue.text());
            return;
        }
    }
    // 2. before the quote in the sentence: the last cue with a speaker
    let open_mark = text[..quote.start]
        .char_indices()
        .next_back()
        .map_or(quote.start, |(i, _)| i);
    for i in (0..cues.len()).rev() {
        let cue = cues[i];
        if cue.end > open_mark || cue.start < sentence_start {
            continue;
        }
        let speaker = if cue.class() == VerbClass::According {
            according_speaker(text, cue.end, open_mark)
        } else {
            speaker_before(text, sentence_start, cue.start)
                .or_else(|| speaker_after(text, cue.end, open_mark))
        };
        if speaker.is_some() {
            cues[i].used = true;
            set_speaker(text, quote, speaker, cue.text());
            return;
        }
    }
}

fn set_speaker(text: &str, quote: &mut Quote, speaker: Option<Span>, cue: &str) {
    if let Some(span) = speaker {
        quote.speaker = Some(text[span.start..span.end].to_string());
        quote.speaker_span = Some(span);
        quote.cue = Some(cue.to_string());
    }
}

/// A whole-sentence quote without attribution continues the previous attributed quote of the
/// same or the preceding paragraph ("“…,” he said. “…”").
fn inherit_speakers(text: &str, quotes: &mut [Quote]) {
    for i in 1..quotes.len() {
        if quotes[i].speaker.is_some() {
            continue;
        }
        let q = &quotes[i];
        let full_sentence = q.text.chars().next().is_some_and(char::is_uppercase)
            && q.text.trim_end().ends_with(['.', '!', '?', '…']);
        let prev = &quotes[i - 1];
        let gap = &text[prev.end..q.start];
        let near = gap.matches("\n\n").count() <= 1;
        if full_sentence && near && prev.speaker.is_some() {
            let (speaker, span, cue) = (prev.speaker.clone(), prev.speaker_span, prev.cue.clone());
            let q = &mut quotes[i];
            q.speaker = speaker;
            q.speaker_span = span;
            q.cue = cue;
        }
    }
}

/// Reported speech introduced by `cue`, if it has a speaker and a clause.
/// `later` are the cues after this one: a clause ends where the next speaker starts.
fn reported(
    text: &str,
    sentences: &[(usize, usize)],
    cue: &Cue,
    later: &[Cue],
    direct: &[Quote],
) -> Option<Quote> {
    let (s_start, s_end) = sentences[sentence_of(sentences, cue.start)?];
    // a sentence holding a direct quote is covered by it
    if direct
        .iter()
        .any(|q| q.kind == QuoteKind::Direct && q.start < s_end && q.end > s_start)
    {
        return None;
    }
    let body_end = s_start
        + text[s_start..s_end]
            .trim_end_matches(['.', '!', '?', ' '])
            .len();
    let clause_span = |from: usize, to: usize| -> Option<(usize, usize)> {
        let slice = text.get(from..to)?;
        let s = from + slice.len() - slice.trim_start_matches([' ', ',', ':']).len();
        let e = from + slice.trim_end_matches([' ', ',']).len();
        (e > s && word_count(&text[s..e]) >= 3).then_some((s, e))
    };
    let (speaker, (start, end)) = if cue.class() == VerbClass::According {
        let speaker = according_speaker(text, cue.end, s_end)?;
        if text[s_start..cue.start].trim().is_empty() {
            // According to X, CLAUSE.
            (speaker, clause_span(speaker.end, body_end)?)
        } else {
            // CLAUSE, according to X.
            (speaker, clause_span(s_start, cue.start)?)
        }
    } else if let Some(speaker) = speaker_before(text, s_start, cue.start) {
        let after = words_after(text, cue.end, s_end, 6);
        let that = after
            .iter()
            .position(|w| matches!(w.text, "that" | "whether" | "if"));
        // CLAUSE, X said (on Monday).
        let tail_words = text[cue.end..body_end].split_whitespace().count();
        let head = text[s_start..speaker.start].trim_end();
        if let (None, true, Some(comma)) = (that, tail_words <= 4, head.strip_suffix(',')) {
            return Some(reported_quote(
                text,
                speaker,
                cue,
                clause_span(s_start, s_start + comma.len())?,
            ));
        }
        // X said (that) CLAUSE
        let clause_from = match (cue.class(), that) {
            (_, Some(i)) => after[i].end,
            (VerbClass::Clause, None) => {
                let next = after.first()?;
                if PREPOSITIONS.contains(&next.text) {
                    return None;
                }
                cue.end
            }
            _ => return None,
        };
        // "…, but the ambassador says …": the clause stops before the next speaker
        let clause_end = later
            .iter()
            .take_while(|c| c.start < body_end)
            .find_map(|c| speaker_before(text, clause_from, c.start))
            .map_or(body_end, |next| {
                let head = text[clause_from..next.start].trim_end();
                let head = head
                    .strip_suffix(" but")
                    .or_else(|| head.strip_suffix(" and"))
                    .unwrap_or(head);
                clause_from + head.trim_end_matches([',', ';', ' ']).len()
            });
        (speaker, clause_span(clause_from, clause_end)?)
    } else {
        // CLAUSE, said X. / CLAUSE, X said.
        let speaker = speaker_after(text, cue.end, s_end)?;
        let tail = &text[speaker.end..body_end];
        if tail.split_whitespace().count() > 4 {
            return None;
        }
        let comma = text[s_start..cue.start].rfind(',')? + s_start;
        (speaker, clause_span(s_start, comma)?)
    };
    Some(reported_quote(text, speaker, cue, (start, end)))
}

fn reported_quote(text: &str, speaker: Span, cue: &Cue, (start, end): (usize, usize)) -> Quote {
    Quote {
        kind: QuoteKind::Reported,
        text: text[start..end].to_string(),
        start,
        end,
        speaker: Some(text[speaker.start..speaker.end].to_string()),
        speaker_span: Some(speaker),
        speaker_entity: None,
        cue: Some(cue.text().to_string()),
    }
}

/// Words after a speech verb that show it is not introducing speech ("warned of a crisis").
#[rustfmt::skip]
const PREPOSITIONS: &[&str] = &[
    "of", "about", "against", "with", "for", "in", "on", "at", "by", "to", "from", "into", "so",
    "yes", "no", "nothing", "goodbye", "sorry", "thanks",
];

/// The quotes stage: fills [`crate::story::Enrichment::quotes`]. Runs after entities so
/// speakers resolve to them.
#[derive(Debug, Clone, Copy)]
pub struct Quotes;

impl Quotes {
    /// Builds the stage, compiling the verb matcher if this is the first use.
    pub fn new() -> Self {
        LazyLock::force(&MATCHER);
        Self
    }
}

impl Default for Quotes {
    fn default() -> Self {
        Self::new()
    }
}

impl Stage for Quotes {
    fn name(&self) -> &'static str {
        "quotes"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        let body = story.body_text();
        let computed;
        let sentences: Vec<(usize, usize)> = if story.enrichment.sentences.is_empty() {
            computed = split_sentences(&body);
            computed
        } else {
            story
                .enrichment
                .sentences
                .iter()
                .map(|s| (s.start, s.end))
                .collect()
        };
        story.enrichment.quotes = extract(&body, &sentences, &story.enrichment.entities);
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::Mention;

    fn entity(kind: EntityKind, name: &str, text: &str, mentions: &[&str]) -> Entity {
        let mut found = Vec::new();
        for m in mentions {
            let mut from = 0;
            while let Some(i) = text[from..].find(m) {
                found.push(Mention {
                    start: from + i,
                    end: from + i + m.len(),
                });
                from += i + m.len();
            }
        }
        found.sort_by_key(|m| m.start);
        Entity {
            kind,
            name: name.into(),
            mention_count: found.len(),
            mentions: found,
            in_headline: false,
            named: true,
            relevance: 50,
            confidence: 50,
            roles: vec![],
            affiliation: None,
            geonames_id: None,
        }
    }

    fn quotes(text: &str, entities: &[Entity]) -> Vec<Quote> {
        let sentences = split_sentences(text);
        let out = extract(text, &sentences, entities);
        for q in &out {
            assert!(text.is_char_boundary(q.start) && text.is_char_boundary(q.end));
            if !q.text.contains("\n\n") {
                assert_eq!(&text[q.start..q.end], q.text);
            }
        }
        out
    }

    /// (text, quote text, kind, speaker as written)
    #[test]
    fn table() {
        use QuoteKind::{Direct, Reported};
        let cases: &[(&str, &str, QuoteKind, Option<&str>)] = &[
            (
                "“We will not retreat,” he said.",
                "We will not retreat,",
                Direct,
                Some("he"),
            ),
            (
                "\"The talks failed,\" said Dmitry Peskov, the Kremlin spokesman.",
                "The talks failed,",
                Direct,
                Some("Dmitry Peskov"),
            ),
            (
                "“Prices will rise,” the central bank governor told reporters on Monday.",
                "Prices will rise,",
                Direct,
                Some("the central bank governor"),
            ),
            (
                "Putin said that the expansion “would fit the interests of both countries.”",
                "would fit the interests of both countries.",
                Direct,
                Some("Putin"),
            ),
            (
                "Foreign Minister Sergei Lavrov said: \"We are ready to talk.\"",
                "We are ready to talk.",
                Direct,
                Some("Foreign Minister Sergei Lavrov"),
            ),
            (
                "the collapse of the “cortine of hiron“ and only gradually",
                "cortine of hiron",
                Direct,
                None,
            ),
            (
                "Putin said this step would be in the interests of both countries.",
                "this step would be in the interests of both countries",
                Reported,
                Some("Putin"),
            ),
            (
                "Kim replied with a letter in which he said that the friendship was forged in war.",
                "the friendship was forged in war",
                Reported,
                Some("he"),
            ),
            (
                "According to KCNA, the letter was delivered on Monday.",
                "the letter was delivered on Monday",
                Reported,
                Some("KCNA"),
            ),
            (
                "The economy shrank by 3 percent, according to official data.",
                "The economy shrank by 3 percent",
                Reported,
                Some("official data"),
            ),
            (
                "The ceasefire will hold until Friday, the minister said.",
                "The ceasefire will hold until Friday",
                Reported,
                Some("the minister"),
            ),
            (
                "She told reporters that the vote would go ahead.",
                "the vote would go ahead",
                Reported,
                Some("She"),
            ),
            (
                "Officials have repeatedly warned that the dam could fail.",
                "the dam could fail",
                Reported,
                Some("Officials"),
            ),
        ];
        for &(text, quote, kind, speaker) in cases {
            let got = quotes(text, &[]);
            let q = got
                .iter()
                .find(|q| q.text == quote)
                .unwrap_or_else(|| panic!("{quote:?} not found in {text:?}: {got:#?}"));
            assert_eq!(q.kind, kind, "{text:?}");
            assert_eq!(q.speaker.as_deref(), speaker, "{text:?}");
        }
    }

    #[test]
    fn not_quotes() {
        for text in [
            "He warned of a crisis in the region.",
            "Kim replied with another letter.",
            "The so-called \"experts\" disagreed.",
            "The announced plan was welcomed by all sides.",
            "",
        ] {
            let got = quotes(text, &[]);
            assert!(got.is_empty(), "{text:?}: {got:#?}");
        }
    }

    #[test]
    fn multi_paragraph_quote() {
        let text = "The minister said: “We have done everything we could.\n\n\
                    “Now it is up to them to respond.”\n\nTalks resume on Monday.";
        let got = quotes(text, &[]);
        assert_eq!(got.len(), 1, "{got:#?}");
        let q = &got[0];
        assert_eq!(
            q.text,
            "We have done everything we could.\n\nNow it is up to them to respond."
        );
        assert_eq!(q.speaker.as_deref(), Some("The minister"));
        assert!(text[q.start..q.end].starts_with("We have"));
        assert!(text[q.start..q.end].ends_with("respond."));
    }

    #[test]
    fn unclosed_quote_ends_with_its_paragraph() {
        let text = "He said: “We will stay\n\nThe next paragraph is narrative.";
        let got = quotes(text, &[]);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert_eq!(got[0].text, "We will stay");
    }

    #[test]
    fn follow_up_quote_inherits_the_speaker() {
        let text = "“We will fight,” Zelensky said. “We will never surrender.”";
        let got = quotes(text, &[]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].speaker.as_deref(), Some("Zelensky"));
        // a quoted crosshead (no sentence punctuation) does not inherit
        let text = "“We will fight,” Zelensky said.\n\n“Threats from hostile forces”";
        let got = quotes(text, &[]);
        assert_eq!(got[1].speaker, None);
    }

    #[test]
    fn speakers_resolve_to_entities() {
        let text = "Russian President Vladimir Putin sent a letter. Kim Jong-un replied. \
                    In the letter, Putin said the step would help both countries. \
                    He added that ties would be “strengthened and deepened.” \
                    According to a report by KCNA, the letter was warm. \
                    The president said the talks were useful.";
        let mut putin = entity(
            EntityKind::Person,
            "Vladimir Putin",
            text,
            &["Vladimir Putin"],
        );
        putin.roles = vec!["Russian President".into()];
        let kim = entity(EntityKind::Person, "Kim Jong-un", text, &["Kim Jong-un"]);
        let kcna = entity(EntityKind::Organisation, "KCNA", text, &["KCNA"]);
        let entities = [putin, kim, kcna];
        let got = quotes(text, &entities);
        let by_speaker = |s: &str| {
            got.iter()
                .find(|q| q.speaker.as_deref() == Some(s))
                .unwrap_or_else(|| panic!("no quote by {s:?}: {got:#?}"))
                .speaker_entity
                .clone()
        };
        // "Putin" by name suffix
        assert_eq!(by_speaker("Putin").as_deref(), Some("Vladimir Putin"));
        // "He" → the most recent person: Kim (mentioned after Putin's first mention)… but
        // "Putin" is not a mention here, so the last person mention before "He" is Kim.
        assert_eq!(by_speaker("He").as_deref(), Some("Kim Jong-un"));
        // a mention inside the speaker phrase
        assert_eq!(by_speaker("a report by KCNA").as_deref(), Some("KCNA"));
        // a role
        assert_eq!(
            by_speaker("The president").as_deref(),
            Some("Vladimir Putin")
        );
    }

    #[test]
    fn regression_negated_verb_is_no_attribution() {
        let got = quotes(
            "U.S. officials have not said why the team was initially denied visas.",
            &[],
        );
        assert!(got.is_empty(), "{got:#?}");
    }

    #[test]
    fn regression_reported_clause_stops_before_the_next_speaker() {
        let text = "Officials said the visas were delayed, but Ambassador Hamdullah Mohib says \
                    there were concerns about the trip.";
        let got = quotes(text, &[]);
        let texts: Vec<_> = got.iter().map(|q| q.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "the visas were delayed",
                "there were concerns about the trip"
            ]
        );
        assert_eq!(
            got[1].speaker.as_deref(),
            Some("Ambassador Hamdullah Mohib")
        );
    }

    #[test]
    fn regression_according_to_a_name_without_a_comma() {
        let got = quotes(
            "According to Rathbun the property was returned by mail.",
            &[],
        );
        assert_eq!(got[0].speaker.as_deref(), Some("Rathbun"));
        assert_eq!(got[0].text, "the property was returned by mail");
        let got = quotes(
            "According to the Afghan team's coach, the robot worked well.",
            &[],
        );
        assert_eq!(got[0].speaker.as_deref(), Some("the Afghan team's coach"));
        let got = quotes(
            "According to Afghan Ambassador to the United States Hamdullah Mohib, the \
             team showed real progress.",
            &[],
        );
        assert_eq!(
            got[0].speaker.as_deref(),
            Some("Afghan Ambassador to the United States Hamdullah Mohib")
        );
    }

    #[test]
    fn regression_organisation_names_with_connectors() {
        let got = quotes(
            "The National Disaster Risk Reduction and Management Council said 47 people died.",
            &[],
        );
        assert_eq!(
            got[0].speaker.as_deref(),
            Some("The National Disaster Risk Reduction and Management Council")
        );
    }

    #[test]
    fn regression_demonym_inside_a_speaker_is_not_the_speaker() {
        let text = "According to the Afghan team's coach, the robot worked well.";
        let mut afghan = entity(EntityKind::Place, "Afghanistan", text, &["Afghan"]);
        afghan.named = false;
        let got = quotes(text, &[afghan]);
        assert_eq!(got[0].speaker_entity, None);
    }

    #[test]
    fn without_entities_the_speaker_stays_text() {
        let got = quotes("“It is over,” he said.", &[]);
        assert_eq!(got[0].speaker.as_deref(), Some("he"));
        assert_eq!(got[0].speaker_entity, None);
    }

    /// The original word count.
    fn word_count_reference(text: &str) -> usize {
        text.split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count()
    }

    #[test]
    fn word_count_table() {
        assert_eq!(word_count(" a\u{a0}b \u{b}c — d\u{2003}, "), 4);
        assert_eq!(word_count("“It is over,” he said."), 5);
        assert_eq!(word_count(""), 0);
    }

    proptest::proptest! {
        /// The table-driven count is the original's.
        #[test]
        fn word_count_as_the_reference(text in "(?s)[a-z0-9 ,.\t\n\u{b}\u{c}\r\u{85}\u{a0}\u{2003}\u{3000}é—’ǅ]{0,60}") {
            proptest::prop_assert_eq!(word_count(&text), word_count_reference(&text));
        }

        #[test]
        fn word_count_on_any_text(text in "(?s).{0,60}") {
            proptest::prop_assert_eq!(word_count(&text), word_count_reference(&text));
        }
    }
}
