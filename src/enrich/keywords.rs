//! Keywords: the story's keyphrases and the names it is about, best first, with scores.
//!
//! How: the headline and body blocks are split into words; stopwords (function words,
//! reporting verbs, time and number words), lower-case words ending in `-ed` or `-ly`,
//! numbers, possessives and punctuation break the text into runs, and every n-gram of one
//! to three words inside a run is a candidate (noun-phrase-like without a tagger). Case and
//! plural variants share one key (`Ports` = `port`). A candidate's score is
//!
//! ```text
//! weighted frequency × rarity × (1 + 0.5 · (words − 1))
//! ```
//!
//! where each occurrence counts 3 in the headline, 2 in the lede, 1.5 in a crosshead and 1
//! elsewhere, and rarity is the mean over its words of `(7.2 − zipf) / 4.5` clamped to
//! 0.05–1, zipf taken from the shared English word table ([`crate::normalise::Lexicon`],
//! PyPI `wordfreq`); words the table does not know count as rare. Phrases of two or three
//! words need a weighted frequency of at least 2 (twice in the body, or once in the lede or
//! headline). A sub-phrase that occurs mostly inside a longer candidate is dropped in its
//! favour. Named entities found by `enrich::Entities` are candidates too, scored the same
//! way from their mention counts; an entity absorbs the candidates that are part of its
//! name ("Putin" → "Vladimir Putin"). The best `max` candidates that do not contain one
//! another are kept, scores scaled so that the best is 1.0.

use std::hash::BuildHasherDefault;
use std::sync::LazyLock;

use crate::hash::IdMap;
use crate::normalise::Lexicon;
use crate::pipeline::{Stage, StageError};
use crate::story::{BlockKind, Entity, EntityKind, Keyword, KeywordKind, Story};

const HEADLINE_WEIGHT: f32 = 3.0;
const LEDE_WEIGHT: f32 = 2.0;
const CROSSHEAD_WEIGHT: f32 = 1.5;
const BODY_WEIGHT: f32 = 1.0;
/// Multi-word candidates need at least this many occurrences.
const MIN_PHRASE_COUNT: u32 = 2;
/// A sub-phrase is dropped when its frequency is below this multiple of the longer one's.
const SUBSUMED_RATIO: f32 = 1.3;
/// Candidates per wanted keyword whose rarity is computed first (the best by frequency).
const RANKED_PER_KEYWORD: usize = 4;
/// Candidates per wanted keyword that must keep their place: any other candidate is
/// looked at only if its upper-bound score beats the last of them. (Some top candidates
/// are skipped as parts of others, so this is more than one.)
const FLOOR_PER_KEYWORD: usize = 2;
/// Score factor for a candidate that occurs only once.
const SINGLE_MENTION_FACTOR: f32 = 0.5;
/// Keywords scoring below this share of the best are not reported.
const MIN_RELATIVE_SCORE: f32 = 0.05;
const MAX_WORDS: usize = 3;

/// Function words, reporting verbs, time, number and other words that never make a
/// keyword on their own and end a phrase.
const STOPWORDS: &str = "
a about above across after afterwards again against ago all almost alone along already also
although always am among amongst an and another any anybody anyone anything anyway anywhere
are around as ask asked asking asks at away back be became because become becomes becoming
been before beforehand behind being below beside besides best better between beyond both
but by call called came can cannot could come comes coming did do does doing done down
due during each early earlier either else elsewhere end enough even ever every everyone
everything everywhere except far few fifth first five for former formerly forty four from
further gave get gets getting give given gives giving go goes going gone got had has have
having he hence her here hereby herein hers herself him himself his how however hundred i
ie if in indeed instead into is it its itself just keep kept know known largely last late
later latter least less let lets like likely made mainly make makes making many may maybe me
meanwhile might mine more moreover most mostly mr mrs ms dr much must my myself namely near
nearly need needed needs neither never nevertheless new next nine no nobody none noone nor
not nothing now nowhere of off often on once one ones only onto or other others otherwise
our ours ourselves out over own part per perhaps please put quite rather really said same
say saying says see seem seemed seeming seems seen several she should show showed shown
since six sixty so some somehow someone something sometime sometimes somewhere soon still
such take taken takes taking ten than that the their theirs them themselves then thence
there thereafter thereby therefore therein these they third this those though three
through throughout thru thus to today together told tomorrow too took toward towards twelve
twenty two under unless until up upon us use used uses using very via want wanted wants was
way ways we well went were what whatever when whence whenever where whereas wherever whether
which while who whoever whole whom whose why will with within without would yes yesterday
yet you your yours yourself yourselves
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december jan feb mar apr jun jul aug sep sept
oct nov dec week weeks weekend month months year years day days hour hours minute minutes
time times morning afternoon evening night tonight annual
eleven thirteen fourteen fifteen sixteen seventeen eighteen nineteen thirty fifty eighty
ninety thousand thousands million millions billion billions trillion percent cent dozen
dozens half
added adds announce announced according accused asked believe believed claim claimed
confirm confirmed continue continued decide decided describe described expect expected
explain explained feel felt find found help helped hope hoped include included includes
including insist insisted mean means meant note noted plan planned point pointed remain
remained report reported reports say stated suggest suggested tell tells think thought
warn warned wrote
lot lots thing things kind sort number numbers people person percent statement spokesman
spokeswoman spokesperson reporters reporter news conference told
able around certain clear different especially following full good great high important
large less little long major main many new old other possible real recent right small
strong sure top true various whole wide
";

fn fnv_lower(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // final avalanche so that the low bits (the hash map's bucket) depend on every byte
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Combines the keys of consecutive words into the key of the phrase.
fn combine(a: u64, b: u64) -> u64 {
    (a.rotate_left(23) ^ b).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Longer than any stopword: no need to look it up.
const MAX_STOPWORD_LEN: usize = 13;

static STOP: LazyLock<StopSet> = LazyLock::new(|| {
    let mut set = StopSet {
        short: [0; STOP_SHORT_SLOTS],
        long: [[0; 2]; STOP_LONG_SLOTS],
    };
    for w in STOPWORDS.split_whitespace() {
        let w = w.as_bytes();
        set.insert(stem_chunks(&w[..stem_len(w)]));
    }
    set
});

/// Slots of [`StopSet::short`]: a power of two, about four times the stopwords so that
/// most probes end at the first slot (16 KB).
const STOP_SHORT_SLOTS: usize = 1 << 11;
/// Slots of [`StopSet::long`] (stems of nine letters or more are few).
const STOP_LONG_SLOTS: usize = 1 << 7;

/// The stopwords' stems (as [`stem_chunks`]), in two open-addressing tables with linear
/// probing: stems of up to eight bytes as one `u64`, longer ones as two. A chunk of a
/// stem is never 0 (words hold no NUL), so 0 marks an empty slot. The stems themselves
/// are compared, not a hash of them: a word is tested before (and often instead of)
/// computing its key.
struct StopSet {
    short: [u64; STOP_SHORT_SLOTS],
    long: [[u64; 2]; STOP_LONG_SLOTS],
}

impl StopSet {
    /// The slot a probe for `chunks` starts at in a table of `slots` (a power of two).
    #[inline]
    fn slot(chunks: [u64; 2], slots: usize) -> usize {
        let h = (chunks[0] ^ chunks[1].rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // the high bits, which the multiply mixed best; a slot index fits usize
        (h >> (64 - slots.trailing_zeros())) as usize
    }

    fn insert(&mut self, chunks: [u64; 2]) {
        if chunks[1] == 0 {
            let mask = self.short.len() - 1;
            let mut i = Self::slot(chunks, self.short.len());
            while self.short[i] != 0 && self.short[i] != chunks[0] {
                i = (i + 1) & mask;
            }
            self.short[i] = chunks[0];
        } else {
            let mask = self.long.len() - 1;
            let mut i = Self::slot(chunks, self.long.len());
            while self.long[i] != [0; 2] && self.long[i] != chunks {
                i = (i + 1) & mask;
            }
            self.long[i] = chunks;
        }
    }

    /// Whether a stem (as [`stem_chunks`]) is a stopword's. The tables are never full,
    /// so every probe ends at an empty slot.
    #[inline]
    fn contains(&self, chunks: [u64; 2]) -> bool {
        if chunks[1] == 0 {
            let mask = self.short.len() - 1;
            let mut i = Self::slot(chunks, self.short.len());
            loop {
                match self.short[i] {
                    0 => return false,
                    c if c == chunks[0] => return true,
                    _ => i = (i + 1) & mask,
                }
            }
        } else {
            let mask = self.long.len() - 1;
            let mut i = Self::slot(chunks, self.long.len());
            loop {
                match self.long[i] {
                    [0, 0] => return false,
                    c if c == chunks => return true,
                    _ => i = (i + 1) & mask,
                }
            }
        }
    }
}

/// A stem of at most 16 bytes, ASCII lower-cased, as two little-endian words padded with
/// zeros: a different stem gives different words. (Stopwords are shorter; longer stems
/// give their first 16 bytes, which the caller must not test.)
fn stem_chunks(stem: &[u8]) -> [u64; 2] {
    let mut chunks = [0u64; 2];
    for (i, b) in stem.iter().take(16).enumerate() {
        chunks[i / 8] |= u64::from(b.to_ascii_lowercase()) << (8 * (i % 8));
    }
    chunks
}

/// Bit 5 of each of eight bytes.
const FOLD8: u64 = 0x2020_2020_2020_2020;

/// [`stem_chunks`] of `bytes[start..start + n]` for a word of ASCII letters, digits, `-`
/// and `'` only, where setting bit 5 lower-cases every byte: read as whole words (the
/// bytes after the stem masked off) when the text goes on far enough.
#[inline]
fn stem_chunks_at(bytes: &[u8], start: usize, n: usize) -> [u64; 2] {
    let load = |at: usize| -> Option<u64> {
        let b: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
        Some(u64::from_le_bytes(b) | FOLD8)
    };
    // the low `k` bytes, 1 ≤ k ≤ 8
    let mask = |k: usize| u64::MAX >> (8 * (8 - k));
    let fast = match n {
        1..=8 => load(start).map(|a| [a & mask(n), 0]),
        9..=16 => load(start)
            .zip(load(start + 8))
            .map(|(a, b)| [a, b & mask(n - 8)]),
        _ => None,
    };
    fast.unwrap_or_else(|| stem_chunks(&bytes[start..start + n]))
}

/// [`fnv_lower`] of a stem of ASCII letters, digits, `-` and `'` only: setting bit 5
/// lower-cases each of them.
fn fnv_folded(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b | 0x20);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Length of the matching stem of a word (ASCII compared case-insensitively): plural
/// endings dropped (`ports` → `port`, `boxes` → `box`), and `y` / `ies` folded together
/// (`company`, `companies` → `compan`); words that only look plural (`news`, `crisis`,
/// `bus`) stay whole.
///
/// Runs for every word of a story, so the endings are compared as one integer: the last
/// four bytes with bit 5 set, which lower-cases ASCII letters and turns no other byte into
/// one. (`stem_len_by_suffixes` in the tests is the plain version it must agree with.)
#[inline]
fn stem_len(word: &[u8]) -> usize {
    let n = word.len();
    // Shorter words are never plural and too short for the `y` fold.
    if n < 4 {
        return n;
    }
    let tail = tail4(word);
    stem_len_by(word, |suffix| {
        tail & suffix_mask(suffix.len()) == pack_suffix(suffix)
    })
}

/// The stemming rule of [`stem_len`], given `ends(suffix)`: whether the word ends in a
/// lower-case suffix of at most four letters, in any case.
#[inline(always)]
fn stem_len_by(word: &[u8], ends: impl Fn(&[u8]) -> bool) -> usize {
    let n = word.len();
    let plural = n > 3
        && ends(b"s")
        && !ends(b"ss")
        && !ends(b"us")
        && !ends(b"is")
        && !ends(b"ics")
        && !word.eq_ignore_ascii_case(b"news")
        && !word.eq_ignore_ascii_case(b"series")
        && !word.eq_ignore_ascii_case(b"species");
    let len = if !plural {
        n
    } else if ends(b"ies") && n > 4 {
        return n - 3;
    } else if ends(b"sses") || ends(b"xes") || ends(b"ches") || ends(b"shes") || ends(b"zes") {
        n - 2
    } else {
        n - 1
    };
    let lc = |i: usize| word[i].to_ascii_lowercase();
    if len > 3 && lc(len - 1) == b'y' && !matches!(lc(len - 2), b'a' | b'e') {
        len - 1
    } else {
        len
    }
}

/// The last four bytes of a word of at least four, big-endian, with bit 5 set: matches
/// [`pack_suffix`] of a lower-case ending in any case.
#[inline]
fn tail4(word: &[u8]) -> u32 {
    let n = word.len();
    u32::from_be_bytes([word[n - 4], word[n - 3], word[n - 2], word[n - 1]]) | FOLD
}

/// Bit 5 of each of four bytes.
const FOLD: u32 = 0x2020_2020;

/// The low `len` bytes of a [`stem_len`] tail.
#[inline]
const fn suffix_mask(len: usize) -> u32 {
    if len >= 4 {
        u32::MAX
    } else {
        (1 << (8 * len)) - 1
    }
}

/// A lower-case suffix of at most four letters as the low bytes of a tail.
#[inline]
const fn pack_suffix(suffix: &[u8]) -> u32 {
    let mut packed = 0u32;
    let mut i = 0;
    while i < suffix.len() {
        packed = (packed << 8) | suffix[i] as u32;
        i += 1;
    }
    packed
}

/// The matching key of a word: FNV-1a of the lower-case stem ([`stem_len`]), so that case
/// and plural variants share it. Non-ASCII letters must be lower-cased by the caller.
fn key(word: &[u8]) -> u64 {
    fnv_lower(&word[..stem_len(word)])
}

/// The lower-case bytes of a word into `buf`.
fn lower(word: &str, buf: &mut Vec<u8>) {
    buf.clear();
    for c in word.chars() {
        let mut tmp = [0u8; 4];
        for l in c.to_lowercase() {
            buf.extend_from_slice(l.encode_utf8(&mut tmp).as_bytes());
        }
    }
}

/// One word of a zone.
#[derive(Debug, Clone, Copy)]
struct Word {
    start: u32,
    end: u32,
    /// Index of the zone (headline, body block) the offsets refer to.
    zone: u32,
    /// [`key`] of the word.
    key: u64,
    /// May start or continue a phrase.
    content: bool,
    /// Something other than spaces follows before the next word (punctuation, possessive).
    break_after: bool,
    /// First word of a sentence (its capital letter says nothing).
    initial: bool,
}

/// Byte class bits for [`words`]: one table lookup tells whether a byte continues a word
/// and what it says about the word, so the letter loop only ORs them together.
/// An ASCII letter or digit.
const WORD: u8 = 1;
/// A letter (ASCII or, set by hand, not).
const ALPHA: u8 = 2;
/// A lower-case letter.
const LOWER: u8 = 4;
/// An upper-case letter.
const UPPER: u8 = 8;
/// An ASCII digit.
const DIGIT: u8 = 16;
/// Space, tab or line break: ends a word but not a phrase.
const SPACE: u8 = 32;
/// `.`, `!`, `?`, `:`, `;`: the next word starts a sentence.
const FULL_STOP: u8 = 64;
/// A byte of a multi-byte character: decoded on the slow path.
const NON_ASCII: u8 = 128;
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_lowercase() {
            WORD | ALPHA | LOWER
        } else if c.is_ascii_uppercase() {
            WORD | ALPHA | UPPER
        } else if c.is_ascii_digit() {
            WORD | DIGIT
        } else if matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
            SPACE
        } else if matches!(c, b'.' | b'!' | b'?' | b':' | b';') {
            FULL_STOP
        } else if c >= 0x80 {
            NON_ASCII
        } else {
            0
        };
        b += 1;
    }
    t
};

/// The character at byte `i` of `text` and its length (ASCII without decoding).
fn char_at(text: &str, i: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b < 0x80 {
        return Some((char::from(b), 1));
    }
    let c = text.get(i..)?.chars().next()?;
    Some((c, c.len_utf8()))
}

/// Splits `text` into words, appending to `out`: only the content words (each marked
/// `break_after` when a function word follows it), or with `all_keys` every word. Returns
/// the number of words, kept or not.
fn words(text: &str, zone: u32, all_keys: bool, out: &mut Vec<Word>, buf: &mut Vec<u8>) -> usize {
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut i = 0;
    let mut initial = true;
    while let Some(&b) = bytes.get(i) {
        let class = CLASS[usize::from(b)];
        // the first character's class bits, and its length
        let (first, len) = if class & WORD != 0 {
            (class, 1)
        } else if class & NON_ASCII == 0 {
            // ASCII space or punctuation
            if class & FULL_STOP != 0 {
                initial = true;
            }
            if class & SPACE == 0 {
                if let Some(last) = out.last_mut() {
                    last.break_after = true;
                }
            }
            i += 1;
            continue;
        } else {
            match char_at(text, i) {
                Some((c, l)) if c.is_alphanumeric() => {
                    (ALPHA | if c.is_uppercase() { UPPER } else { LOWER }, l)
                }
                Some((c, l)) => {
                    // typographic punctuation ends a phrase, as ASCII punctuation does
                    if c == '…' {
                        initial = true;
                    }
                    if !c.is_whitespace() {
                        if let Some(last) = out.last_mut() {
                            last.break_after = true;
                        }
                    }
                    i += l;
                    continue;
                }
                None => break,
            }
        };
        // the word: letters and digits, with inner hyphens and apostrophes
        let start = i;
        let mut end = i + len;
        let mut possessive = false;
        // the class bits of all its characters
        let mut seen = first;
        let mut apostrophe = false;
        // what the word's tests below would otherwise scan it again for
        let mut ascii = len == 1;
        let mut hyphen = false;
        loop {
            // ASCII letters and digits, the bulk of a word, in a loop of their own
            while let Some(&nb) = bytes.get(end) {
                let class = CLASS[usize::from(nb)];
                if class & WORD == 0 {
                    break;
                }
                seen |= class;
                end += 1;
            }
            let Some(&nb) = bytes.get(end) else {
                break;
            };
            // a space or punctuation ends the word, except an inner hyphen or apostrophe
            if CLASS[usize::from(nb)] & NON_ASCII == 0 && !matches!(nb, b'-' | b'\'') {
                break;
            }
            let Some((ch, l)) = char_at(text, end) else {
                break;
            };
            if ch.is_alphanumeric() {
                if ch.is_alphabetic() {
                    seen |= ALPHA;
                }
                if ch.is_lowercase() {
                    seen |= LOWER;
                }
                ascii &= ch.is_ascii();
                end += l;
                continue;
            }
            if !matches!(ch, '-' | '\'' | '\u{2019}') {
                break;
            }
            let Some((next, nl)) = char_at(text, end + l) else {
                break;
            };
            if !next.is_alphanumeric() {
                break;
            }
            if ch != '-' {
                // a possessive 's ends the word ("Nigeria's")
                let after = char_at(text, end + l + nl).map(|(a, _)| a);
                if matches!(next, 's' | 'S') && !after.is_some_and(char::is_alphanumeric) {
                    possessive = true;
                    break;
                }
                apostrophe = true;
            }
            hyphen |= ch == '-';
            ascii &= ch.is_ascii();
            end += l;
        }
        let alpha = seen & ALPHA != 0;
        let all_upper = seen & LOWER == 0;
        let upper_first = first & UPPER != 0;
        let digit_first = first & DIGIT != 0;
        debug_assert_eq!(ascii, text[start..end].is_ascii(), "{}", &text[start..end]);
        debug_assert_eq!(hyphen, text[start..end].contains('-'));
        // ASCII words are keyed as they are (case-insensitively); others lower-cased first
        let w: &[u8] = if ascii {
            &bytes[start..end]
        } else {
            lower(&text[start..end], buf);
            buf
        };
        // "won't", "we've": contractions are function words
        let contraction = apostrophe && !upper_first;
        // past tenses and adverbs ("reopened", "quickly") but not "speed" or compounds
        // such as "high-speed", "state-owned"
        let lower_verbish = !upper_first && w.len() > 4 && !hyphen && {
            let tail = tail4(w);
            let ends = |suffix: &[u8]| tail & suffix_mask(suffix.len()) == pack_suffix(suffix);
            (ends(b"ed") && !ends(b"eed")) || ends(b"ly")
        };
        let long_enough = w.len() >= 3 || (all_upper && w.len() == 2);
        let content = alpha && !digit_first && !contraction && long_enough && !lower_verbish;
        // Only content words become candidates; the keys (and stems) of the others are
        // wanted only for entity names (a name's key covers all its words).
        let stem = if content || all_keys {
            stem_len(w)
        } else {
            w.len()
        };
        let content = content
            && !(w.len() <= MAX_STOPWORD_LEN
                && STOP.contains(if ascii {
                    stem_chunks_at(bytes, start, stem)
                } else {
                    stem_chunks(&w[..stem])
                }));
        count += 1;
        if content || all_keys {
            let key = if ascii {
                fnv_folded(&w[..stem])
            } else {
                fnv_lower(&w[..stem])
            };
            // Offsets fit u32: stories are bounded far below 4 GB by max_story_bytes.
            out.push(Word {
                start: start as u32,
                end: end as u32,
                zone,
                key,
                content,
                break_after: possessive,
                initial,
            });
        } else if let Some(last) = out.last_mut() {
            // A function word is not kept: all it does is end a phrase, so the word before
            // it ends one.
            last.break_after = true;
        }
        initial = false;
        i = end;
        if possessive {
            // skip the apostrophe and the s
            i += text[end..]
                .chars()
                .take(2)
                .map(char::len_utf8)
                .sum::<usize>();
        }
        // the usual single space to the next word, without the loop's tests (a space
        // neither ends a phrase nor starts a sentence)
        if bytes.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    count
}

/// A candidate keyword.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Keys of its words.
    keys: [u64; MAX_WORDS],
    len: u8,
    /// Weighted frequency.
    freq: f32,
    /// Plain count.
    count: u32,
    /// Mean rarity of its words; computed only for candidates that may rank.
    rarity: f32,
    /// (zone, start, end) of the preferred spelling: first non-initial body occurrence,
    /// else the first occurrence.
    at: (u32, u32, u32),
    /// 2 = body, not sentence-initial; 1 = body, sentence-initial; 0 = headline.
    at_quality: u8,
    /// Whether the preferred occurrence starts a sentence (or the headline).
    at_initial: bool,
    suppressed: bool,
    entity: Option<usize>,
}

impl Candidate {
    fn keys(&self) -> &[u64] {
        &self.keys[..usize::from(self.len)]
    }

    /// Whether it survives the counting: a phrase said once is noise.
    fn kept(&self) -> bool {
        self.len == 1 || self.count >= MIN_PHRASE_COUNT
    }

    /// The score with its rarity as it is (1.0 before it is computed: an upper bound).
    fn score(&self) -> f32 {
        // Longer phrases are rarer by count; names are not more important for being long.
        let words = if self.entity.is_some() { 1 } else { self.len };
        // Said once, it is rarely what the story is about.
        let once = if self.count < 2 {
            SINGLE_MENTION_FACTOR
        } else {
            1.0
        };
        self.freq * self.rarity * once * (1.0 + 0.5 * f32::from(words.saturating_sub(1)))
    }
}

/// A candidate in the ranking: what the ranking order compares, and its index in
/// [`Candidates::list`]. Sorting these small records moves less than sorting the candidates
/// and gives the same permutation (the same comparisons).
#[derive(Debug, Clone, Copy)]
struct Ranked {
    /// [`Candidate::score`] as [`rank_of`] gives it, as the score is now.
    rank: i32,
    /// [`Candidate::at`].
    at: (u32, u32, u32),
    /// The entity's index for an entity, else 0. Only entities share an `at` ((0, 0, 0);
    /// a phrase's span is never empty), so this breaks ties as `Candidate::entity` would.
    entity: usize,
    index: usize,
}

impl Ranked {
    fn new(c: &Candidate, index: usize) -> Self {
        Self {
            rank: rank_of(c.score()),
            at: c.at,
            entity: c.entity.unwrap_or(0),
            index,
        }
    }

    /// Best score first (as `b.score().total_cmp(&a.score())`), then first place, then
    /// first entity.
    fn order(a: &Self, b: &Self) -> std::cmp::Ordering {
        b.rank
            .cmp(&a.rank)
            .then(a.at.cmp(&b.at))
            .then(a.entity.cmp(&b.entity))
    }
}

/// A score as an integer in [`f32::total_cmp`] order (the same transformation of the bits):
/// comparing two ranks is comparing the scores.
fn rank_of(score: f32) -> i32 {
    // reinterpreting the bits is the point
    let bits = score.to_bits() as i32;
    bits ^ ((((bits >> 31) as u32) >> 1) as i32)
}

/// Rarity of a word: `((7.2 − zipf) / 4.5)²` clamped to 0.01–1 (squared so that specific
/// words outrank everyday ones); 1 for words the table does not know.
fn rarity_of(zipf: Option<u16>) -> f32 {
    zipf.map_or(1.0, |z| {
        let r = ((7.2 - f32::from(z) / 100.0) / 4.5).clamp(0.1, 1.0);
        r * r
    })
}

/// The candidates of a story: a vector, and a map from key to index in it. The map's
/// entries stay small (no 80-byte candidates moved into and probed in it); its iteration
/// order, which is the order candidates go into ranking (and ties in the rarity memo
/// depend on), is that of a map of the candidates themselves: the same keys inserted in
/// the same order into a table of the same capacity.
struct Candidates {
    index: IdMap<usize>,
    list: Vec<Candidate>,
}

impl Candidates {
    fn with_capacity(n: usize) -> Self {
        Self {
            index: IdMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            list: Vec::with_capacity(n),
        }
    }

    /// Counts one occurrence of the phrase `words` (key `key`) with zone weight `weight`;
    /// returns the candidate's index.
    // two call sites, one of them run for every content word
    #[inline(always)]
    fn add(&mut self, key: u64, words: &[Word], weight: f32) -> usize {
        let (first, last) = (words[0], words[words.len() - 1]);
        let quality = match (first.zone, first.initial) {
            (0, _) => 0,
            (_, true) => 1,
            (_, false) => 2,
        };
        let at = (first.zone, first.start, last.end);
        let list = &mut self.list;
        let i = *self.index.entry(key).or_insert_with(|| {
            let mut keys = [0u64; MAX_WORDS];
            for (k, w) in keys.iter_mut().zip(words) {
                *k = w.key;
            }
            list.push(Candidate {
                keys,
                // at most MAX_WORDS
                len: words.len() as u8,
                freq: 0.0,
                count: 0,
                rarity: 1.0,
                at,
                at_quality: quality,
                at_initial: first.initial,
                suppressed: false,
                entity: None,
            });
            list.len() - 1
        });
        let c = &mut self.list[i];
        c.freq += weight;
        c.count += 1;
        if quality > c.at_quality {
            c.at = at;
            c.at_quality = quality;
            c.at_initial = first.initial;
        }
        i
    }

    /// The candidate with key `key` if it is [`Candidate::kept`].
    fn get_mut(&mut self, key: u64) -> Option<&mut Candidate> {
        let &i = self.index.get(&key)?;
        self.list.get_mut(i).filter(|c| c.kept())
    }
}

/// Whether `inner` is a contiguous part of `outer`.
fn contains(outer: &[u64], inner: &[u64]) -> bool {
    inner.len() <= outer.len() && outer.windows(inner.len()).any(|w| w == inner)
}

/// The keywords stage.
#[derive(Debug, Clone, Copy)]
pub struct Keywords {
    max: usize,
    lexicon: &'static Lexicon,
}

impl Keywords {
    /// A stage keeping at most `max` keywords.
    pub fn new(max: usize) -> Self {
        LazyLock::force(&STOP);
        Self {
            max,
            lexicon: Lexicon::get(),
        }
    }

    /// Extracts the keywords of a story (entities from `story.enrichment.entities`).
    pub fn extract(&self, story: &Story) -> Vec<Keyword> {
        if self.max == 0 {
            return Vec::new();
        }
        // Zones: 0 = headline, 1.. = body blocks.
        let mut zones: Vec<(&str, f32)> = Vec::with_capacity(story.body.len() + 1);
        zones.push((story.headline.as_deref().unwrap_or(""), HEADLINE_WEIGHT));
        let mut lede_done = false;
        for block in &story.body {
            if super::summary::is_caption(&block.text) {
                continue;
            }
            let w = match block.kind {
                BlockKind::Crosshead => CROSSHEAD_WEIGHT,
                BlockKind::Paragraph if !lede_done => {
                    lede_done = true;
                    LEDE_WEIGHT
                }
                _ => BODY_WEIGHT,
            };
            zones.push((&block.text, w));
        }
        let mut buf = Vec::with_capacity(32);
        let bytes: usize = zones.iter().map(|(t, _)| t.len()).sum();
        let mut ws: Vec<Word> = Vec::with_capacity(bytes / 5 + 8);
        // all the words, function words too: the candidate map's capacity (see below)
        let mut n_words = 0;
        for (z, (text, _)) in zones.iter().enumerate() {
            // zones are few; a u32 index cannot overflow
            n_words += words(text, z as u32, false, &mut ws, &mut buf);
            if let Some(last) = ws.last_mut() {
                last.break_after = true; // phrases end with the zone
            }
        }
        // Sized by all the words, as it always was: the capacity decides the map's layout,
        // and so its iteration order (see `Candidates`).
        let mut cands = Candidates::with_capacity(n_words + 16);
        // Pass 1: single words (`ws` holds content words only); each one's candidate, by
        // index.
        debug_assert!(ws.iter().all(|w| w.content));
        let mut single = Vec::with_capacity(ws.len());
        for w in &ws {
            let weight = zones[w.zone as usize].1;
            single.push(cands.add(w.key, &[*w], weight));
        }
        // Pass 2: phrases of two and three words, only where every word occurs at least
        // MIN_PHRASE_COUNT times (otherwise the phrase cannot either).
        let repeated: Vec<bool> = single
            .iter()
            .map(|&c| {
                cands
                    .list
                    .get(c)
                    .is_some_and(|c| c.count >= MIN_PHRASE_COUNT)
            })
            .collect();
        for i in 0..ws.len() {
            let mut key = ws[i].key;
            if !repeated[i] {
                continue;
            }
            for n in 2..=MAX_WORDS {
                let last = i + n - 1;
                if last >= ws.len() || ws[last - 1].break_after || !repeated[last] {
                    break;
                }
                key = combine(key, ws[last].key);
                let weight = zones[ws[i].zone as usize].1;
                cands.add(key, &ws[i..=last], weight);
            }
        }
        // Rare phrases are noise (not `kept`); sub-phrases mostly inside a longer phrase
        // give way to it.
        let longer: Vec<([u64; MAX_WORDS], u8, f32)> = cands
            .list
            .iter()
            .filter(|c| c.len > 1 && c.kept())
            .map(|c| (c.keys, c.len, c.freq))
            .collect();
        for (keys, len, freq) in &longer {
            let keys = &keys[..usize::from(*len)];
            for n in 1..keys.len() {
                for sub in keys.windows(n) {
                    let k = sub.iter().skip(1).fold(sub[0], |h, x| combine(h, *x));
                    if let Some(c) = cands.get_mut(k) {
                        if c.freq < SUBSUMED_RATIO * freq {
                            c.suppressed = true;
                        }
                    }
                }
            }
        }
        // Entities: candidates of their own. One spelled exactly like a phrase candidate
        // takes its place; the parts of a person's name ("Putin") give way to the full name
        // (the entity's mention count already includes them).
        let entities: Vec<&Entity> = story
            .enrichment
            .entities
            .iter()
            .filter(|e| e.named)
            .collect();
        let mut all: Vec<Ranked> = Vec::with_capacity(cands.list.len() + entities.len());
        let mut name_words: Vec<Word> = Vec::new();
        for (idx, e) in entities.iter().enumerate() {
            name_words.clear();
            words(&e.name, 0, true, &mut name_words, &mut buf);
            let keys: Vec<u64> = name_words.iter().map(|w| w.key).collect();
            if keys.is_empty() {
                continue;
            }
            let mut freq = e.mention_count as f32
                + if e.in_headline {
                    HEADLINE_WEIGHT - 1.0
                } else {
                    0.0
                };
            let full = keys.iter().skip(1).fold(keys[0], |h, x| combine(h, *x));
            let mut count = u32::try_from(e.mention_count).unwrap_or(u32::MAX);
            if let Some(c) = cands.get_mut(full) {
                freq = freq.max(c.freq);
                count = count.max(c.count);
                c.suppressed = true;
            }
            if e.kind == EntityKind::Person {
                for n in 1..keys.len().min(MAX_WORDS + 1) {
                    for sub in keys.windows(n) {
                        let k = sub.iter().skip(1).fold(sub[0], |h, x| combine(h, *x));
                        if let Some(c) = cands.get_mut(k) {
                            c.suppressed = true;
                        }
                    }
                }
            }
            let mut ck = [0u64; MAX_WORDS];
            let len = keys.len().min(MAX_WORDS);
            ck[..len].copy_from_slice(&keys[..len]);
            // after the phrases in the list, and not in its map: no phrase finds one
            let c = Candidate {
                keys: ck,
                len: len as u8,
                freq,
                count,
                rarity: 1.0,
                at: (0, 0, 0),
                at_quality: 3,
                at_initial: false,
                suppressed: false,
                entity: Some(idx),
            };
            all.push(Ranked::new(&c, cands.list.len()));
            cands.list.push(c);
        }
        // in the map's order (see `Candidates`)
        all.extend(cands.index.values().filter_map(|&i| {
            let c = cands.list.get(i)?;
            (c.kept() && !c.suppressed).then(|| Ranked::new(c, i))
        }));
        // Rarity needs a word-table lookup per word: compute it only for candidates that
        // can still rank. Scores with rarity 1.0 are upper bounds, so once `wanted`
        // candidates have real scores, any candidate whose bound is below the lowest of
        // them cannot displace them.
        let wanted = self.max.saturating_mul(RANKED_PER_KEYWORD).min(all.len());
        if wanted == 0 {
            return Vec::new();
        }
        let list = &mut cands.list;
        // a word or two per candidate whose rarity is computed: no need to grow
        let mut memo: IdMap<f32> =
            IdMap::with_capacity_and_hasher(2 * wanted, BuildHasherDefault::default());
        let (head, tail) = if all.len() > wanted {
            all.select_nth_unstable_by(wanted - 1, Ranked::order);
            let (head, tail) = all.split_at_mut(wanted);
            (head, tail)
        } else {
            (&mut all[..], &mut [][..])
        };
        // the rarity of a candidate into it, and its new rank
        let rate = |list: &mut [Candidate], memo: &mut IdMap<f32>, r: &mut Ranked| {
            let rarity = self.candidate_rarity(&list[r.index], &zones, &entities, memo);
            list[r.index].rarity = rarity;
            r.rank = rank_of(list[r.index].score());
        };
        for r in head.iter_mut() {
            rate(list, &mut memo, r);
        }
        // the bar: the score of the `max`·FLOOR_PER_KEYWORD-th best candidate computed so far
        head.sort_unstable_by(Ranked::order);
        let floor = head
            .get(self.max.saturating_mul(FLOOR_PER_KEYWORD).min(head.len()) - 1)
            .map_or(0.0, |r| list[r.index].score());
        let mut ranked: Vec<Ranked> = head.to_vec();
        for r in tail.iter_mut() {
            if list[r.index].score() > floor {
                rate(list, &mut memo, r);
                ranked.push(*r);
            }
        }
        ranked.sort_unstable_by(Ranked::order);
        let ranked: Vec<&Candidate> = ranked.iter().map(|r| &list[r.index]).collect();
        let best = ranked.first().map_or(0.0, |c| c.score());
        if best <= 0.0 {
            return Vec::new();
        }
        let mut chosen: Vec<&Candidate> = Vec::with_capacity(self.max);
        for &c in &ranked {
            if chosen.len() >= self.max || c.score() < MIN_RELATIVE_SCORE * best {
                break;
            }
            if chosen
                .iter()
                .any(|k| contains(k.keys(), c.keys()) || contains(c.keys(), k.keys()))
            {
                continue;
            }
            chosen.push(c);
        }
        chosen
            .into_iter()
            .map(|c| {
                let (text, kind) = match c.entity {
                    Some(i) => (entities[i].name.clone(), KeywordKind::Entity),
                    None => (self.spelling(c, &zones), KeywordKind::Phrase),
                };
                Keyword {
                    text,
                    score: (f64::from(c.score() / best) * 1000.0).round() / 1000.0,
                    count: c.count as usize,
                    kind,
                }
            })
            .collect()
    }

    /// Mean rarity of a candidate's words (entity names: at least 0.6, names are specific).
    fn candidate_rarity(
        &self,
        c: &Candidate,
        zones: &[(&str, f32)],
        entities: &[&Entity],
        memo: &mut IdMap<f32>,
    ) -> f32 {
        let mut sum = 0.0;
        let mut n = 0u32;
        let mut add = |word: &str, k: u64| {
            sum += *memo.entry(k).or_insert_with(|| self.rarity(word));
            n += 1;
        };
        match c.entity {
            Some(i) => {
                let mut buf = Vec::new();
                for word in entities[i]
                    .name
                    .split(|ch: char| ch.is_whitespace())
                    .filter(|w| !w.is_empty())
                {
                    let k = if word.is_ascii() {
                        key(word.as_bytes())
                    } else {
                        lower(word, &mut buf);
                        key(&buf)
                    };
                    add(word, k);
                }
            }
            None => {
                let (z, start, end) = c.at;
                let text = zones
                    .get(z as usize)
                    .and_then(|(t, _)| t.get(start as usize..end as usize))
                    .unwrap_or("");
                // The words of a phrase are separated by whitespace only (anything else
                // ends a phrase in `words`), one per key of the candidate: their keys need
                // not be computed again. Whitespace inside ASCII text is ASCII whitespace.
                if text.is_ascii() {
                    for (word, &k) in text.split_ascii_whitespace().zip(c.keys()) {
                        add(word, k);
                    }
                } else {
                    for (word, &k) in text
                        .split(|ch: char| ch.is_whitespace())
                        .filter(|w| !w.is_empty())
                        .zip(c.keys())
                    {
                        add(word, k);
                    }
                }
                debug_assert_eq!(n, u32::from(c.len), "{text}");
            }
        }
        let mean = if n == 0 { 1.0 } else { sum / n as f32 };
        if c.entity.is_some() {
            mean.max(0.6)
        } else {
            mean
        }
    }

    /// Rarity of a word; a hyphenated compound the table does not know ("north-eastern")
    /// is as rare as its parts on average.
    fn rarity(&self, word: &str) -> f32 {
        match self.lexicon.zipf(word) {
            Some(z) => rarity_of(Some(z)),
            None if word.contains('-') => {
                let (sum, n) = word
                    .split('-')
                    .filter(|p| !p.is_empty())
                    .fold((0.0, 0u32), |(s, n), p| {
                        (s + rarity_of(self.lexicon.zipf(p)), n + 1)
                    });
                if n == 0 {
                    1.0
                } else {
                    sum / n as f32
                }
            }
            None => 1.0,
        }
    }

    /// The phrase as written; a common word capitalised only because it starts a sentence
    /// or the headline is lower-cased ("Traffic jams" → "traffic jams").
    fn spelling(&self, c: &Candidate, zones: &[(&str, f32)]) -> String {
        let (z, start, end) = c.at;
        let text = zones
            .get(z as usize)
            .and_then(|(t, _)| t.get(start as usize..end as usize))
            .unwrap_or("");
        if !c.at_initial {
            return text.to_string();
        }
        let first = text.split([' ', '-']).next().unwrap_or("");
        let common = self.lexicon.zipf(first).is_some_and(|z| z >= 450);
        let rest_lower = first.chars().skip(1).all(|ch| !ch.is_uppercase());
        let mut chars = text.chars();
        match chars.next() {
            Some(f) if common && rest_lower && f.is_uppercase() => {
                f.to_lowercase().chain(chars).collect()
            }
            _ => text.to_string(),
        }
    }
}

impl Default for Keywords {
    fn default() -> Self {
        Self::new(10)
    }
}

impl Stage for Keywords {
    fn name(&self) -> &'static str {
        "keywords"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        story.enrichment.keywords = self.extract(&story);
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::{Block, Mention};

    fn story(headline: &str, body: &[&str]) -> Story {
        Story {
            headline: Some(headline.into()),
            body: body.iter().map(|p| Block::paragraph(*p)).collect(),
            ..Story::default()
        }
    }

    /// The stopwords' keys, as the stopword test was before [`StopSet`].
    static STOP_KEYS: LazyLock<crate::hash::IdSet> = LazyLock::new(|| {
        STOPWORDS
            .split_whitespace()
            .map(|w| key(w.as_bytes()))
            .collect()
    });

    /// Byte classes of [`words_reference`].
    const REF_SEP: u8 = 0;
    const REF_LOWER: u8 = 1;
    const REF_UPPER: u8 = 2;
    const REF_DIGIT: u8 = 3;
    static REF_CLASS: [u8; 128] = {
        let mut t = [REF_SEP; 128];
        let mut b = 0;
        while b < 128 {
            let c = b as u8;
            t[b] = if c.is_ascii_lowercase() {
                REF_LOWER
            } else if c.is_ascii_uppercase() {
                REF_UPPER
            } else if c.is_ascii_digit() {
                REF_DIGIT
            } else {
                REF_SEP
            };
            b += 1;
        }
        t
    };

    /// [`words`] as it was before the class bits, the stopword table and the dropped
    /// function words (with `all_keys`, [`words`] must give the same).
    fn words_reference(text: &str, zone: u32, out: &mut Vec<Word>, buf: &mut Vec<u8>) {
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut initial = true;
        while i < bytes.len() {
            let b = bytes[i];
            let (first, len) = if b < 0x80 {
                (REF_CLASS[usize::from(b)], 1)
            } else {
                match char_at(text, i) {
                    Some((c, l)) if c.is_alphanumeric() => (
                        if c.is_uppercase() {
                            REF_UPPER
                        } else {
                            REF_LOWER
                        },
                        l,
                    ),
                    Some((c, l)) => {
                        // typographic punctuation ends a phrase, as ASCII punctuation does
                        if c == '…' {
                            initial = true;
                        }
                        if !c.is_whitespace() {
                            if let Some(last) = out.last_mut() {
                                last.break_after = true;
                            }
                        }
                        i += l;
                        continue;
                    }
                    None => break,
                }
            };
            if first == REF_SEP {
                if matches!(b, b'.' | b'!' | b'?' | b':' | b';') {
                    initial = true;
                }
                if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                    if let Some(last) = out.last_mut() {
                        last.break_after = true;
                    }
                }
                i += 1;
                continue;
            }
            // the word: letters and digits, with inner hyphens and apostrophes
            let start = i;
            let mut end = i + len;
            let mut possessive = false;
            let (mut alpha, upper_first) = (first != REF_DIGIT, first == REF_UPPER);
            let mut all_upper = first != REF_LOWER;
            let mut apostrophe = false;
            // what the word's tests below would otherwise scan it again for
            let mut ascii = len == 1;
            let mut hyphen = false;
            while let Some(&nb) = bytes.get(end) {
                if nb < 0x80 {
                    let class = REF_CLASS[usize::from(nb)];
                    if class != REF_SEP {
                        alpha |= class != REF_DIGIT;
                        all_upper &= class != REF_LOWER;
                        end += 1;
                        continue;
                    }
                    // a space or punctuation ends the word, except an inner hyphen or apostrophe
                    if !matches!(nb, b'-' | b'\'') {
                        break;
                    }
                }
                let Some((ch, l)) = char_at(text, end) else {
                    break;
                };
                if ch.is_alphanumeric() {
                    alpha |= ch.is_alphabetic();
                    all_upper &= !ch.is_lowercase();
                    ascii &= ch.is_ascii();
                    end += l;
                    continue;
                }
                if !matches!(ch, '-' | '\'' | '\u{2019}') {
                    break;
                }
                let Some((next, nl)) = char_at(text, end + l) else {
                    break;
                };
                if !next.is_alphanumeric() {
                    break;
                }
                if ch != '-' {
                    // a possessive 's ends the word ("Nigeria's")
                    let after = char_at(text, end + l + nl).map(|(a, _)| a);
                    if matches!(next, 's' | 'S') && !after.is_some_and(char::is_alphanumeric) {
                        possessive = true;
                        break;
                    }
                    apostrophe = true;
                }
                hyphen |= ch == '-';
                ascii &= ch.is_ascii();
                end += l;
            }
            let word = &text[start..end];
            debug_assert_eq!(ascii, word.is_ascii(), "{word}");
            debug_assert_eq!(hyphen, word.contains('-'), "{word}");
            // ASCII words are keyed as they are (case-insensitively); others lower-cased first
            let w: &[u8] = if ascii {
                word.as_bytes()
            } else {
                lower(word, buf);
                buf
            };
            let k = key(w);
            // "won't", "we've": contractions are function words
            let contraction = apostrophe && !upper_first;
            // past tenses and adverbs ("reopened", "quickly") but not "speed" or compounds
            // such as "high-speed", "state-owned"
            let ends = |suffix: &[u8]| {
                w.len() >= suffix.len() && w[w.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            };
            let lower_verbish = !upper_first
                && w.len() > 4
                && ((ends(b"ed") && !ends(b"eed")) || ends(b"ly"))
                && !hyphen;
            let long_enough = w.len() >= 3 || (all_upper && w.len() == 2);
            let content = alpha
                && first != REF_DIGIT
                && !contraction
                && long_enough
                && !lower_verbish
                && !(w.len() <= MAX_STOPWORD_LEN && STOP_KEYS.contains(&k));
            // Offsets fit u32: stories are bounded far below 4 GB by max_story_bytes.
            out.push(Word {
                start: start as u32,
                end: end as u32,
                zone,
                key: k,
                content,
                break_after: possessive,
                initial,
            });
            initial = false;
            i = end;
            if possessive {
                // skip the apostrophe and the s
                i += text[end..]
                    .chars()
                    .take(2)
                    .map(char::len_utf8)
                    .sum::<usize>();
            }
        }
    }

    fn texts(keywords: &[Keyword]) -> Vec<&str> {
        keywords.iter().map(|k| k.text.as_str()).collect()
    }

    fn entity(kind: EntityKind, name: &str, mentions: usize, in_headline: bool) -> Entity {
        Entity {
            kind,
            name: name.into(),
            mentions: vec![Mention { start: 0, end: 0 }; mentions],
            mention_count: mentions,
            in_headline,
            named: true,
            relevance: 50,
            confidence: 80,
            roles: Vec::new(),
            affiliation: None,
            geonames_id: None,
        }
    }

    #[test]
    fn word_splitting_table() {
        // (text, words as (text, content))
        let cases: &[(&str, &[(&str, bool)])] = &[
            (
                "The metro strike",
                &[("The", false), ("metro", true), ("strike", true)],
            ),
            ("Nigeria's ports", &[("Nigeria", true), ("ports", true)]),
            (
                "Nigeria\u{2019}s ports",
                &[("Nigeria", true), ("ports", true)],
            ),
            ("high-speed rail", &[("high-speed", true), ("rail", true)]),
            (
                "we won't go",
                &[("we", false), ("won't", false), ("go", false)],
            ),
            (
                "in 2023 the G7 met",
                &[
                    ("in", false),
                    ("2023", false),
                    ("the", false),
                    ("G7", true),
                    ("met", true),
                ],
            ),
            ("EU and UN", &[("EU", true), ("and", false), ("UN", true)]),
            (
                "they quickly reopened",
                &[("they", false), ("quickly", false), ("reopened", false)],
            ),
            ("Zürich café", &[("Zürich", true), ("café", true)]),
        ];
        let mut buf = Vec::new();
        for (text, want) in cases {
            let mut out = Vec::new();
            words(text, 0, true, &mut out, &mut buf);
            let got: Vec<(&str, bool)> = out
                .iter()
                .map(|w| (&text[w.start as usize..w.end as usize], w.content))
                .collect();
            assert_eq!(&got, want, "{text}");
        }
    }

    /// [`stem_len`] with the suffixes compared as byte slices, as it did before the packed
    /// tail: compared with it below.
    fn stem_len_by_suffixes(word: &[u8]) -> usize {
        let n = word.len();
        stem_len_by(word, |suffix| {
            n >= suffix.len() && word[n - suffix.len()..].eq_ignore_ascii_case(suffix)
        })
    }

    proptest::proptest! {
        #[test]
        fn stem_len_agrees_with_the_suffix_comparisons(
            word in "[a-zA-Z@\\[\\]^_`{|}~0-9'-]{0,9}(s|S|es|ES|ies|IES|ys|y|ss|us|is|ics|ches|sses|xes|zes|shes)?|\\PC{0,8}"
        ) {
            proptest::prop_assert_eq!(stem_len(word.as_bytes()), stem_len_by_suffixes(word.as_bytes()));
        }
    }

    /// Text for the word splitter: words of ASCII letters, digits, hyphens and apostrophes
    /// (stopwords and their variants among them), other characters, and separators.
    fn text_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let word = prop_oneof![
            proptest::sample::select(vec![
                "the",
                "The",
                "THE",
                "weeks",
                "Weeks",
                "ports",
                "Ports",
                "companies",
                "news",
                "reopened",
                "quickly",
                "speed",
                "high-speed",
                "won't",
                "Nigeria's",
                "Nigeria\u{2019}s",
                "G7",
                "EU",
                "2023",
                "spokesperson",
                "Spokespersons",
                "yourselves",
                "Zürich",
                "café",
                "\u{212a}now",
                "ÉTÉ",
                "naïve",
                "s",
                "'s",
            ])
            .prop_map(String::from),
            "[a-zA-Z0-9'-]{1,18}",
            "\\PC{1,4}",
        ];
        let sep = prop_oneof![
            Just(" ".to_string()),
            "[ .,;:!?()\"'\n\t\r-]{1,3}",
            proptest::sample::select(vec!["\u{2026}", "\u{a0}", "\u{2019}", "\u{201c}", ""])
                .prop_map(String::from),
        ];
        proptest::collection::vec((word, sep), 0..24)
            .prop_map(|parts| parts.into_iter().map(|(w, s)| w + &s).collect())
    }

    /// A word's fields, to compare.
    fn fields(w: &Word) -> (u32, u32, u32, u64, bool, bool, bool) {
        (
            w.start,
            w.end,
            w.zone,
            w.key,
            w.content,
            w.break_after,
            w.initial,
        )
    }

    proptest::proptest! {
        /// With `all_keys`, the splitter gives what it gave before; without, the content
        /// words only, each ending a phrase where a function word followed it.
        #[test]
        fn words_agree_with_the_reference(text in text_strategy()) {
            let mut buf = Vec::new();
            let mut want = Vec::new();
            words_reference(&text, 1, &mut want, &mut buf);
            let mut all = Vec::new();
            let n = words(&text, 1, true, &mut all, &mut buf);
            proptest::prop_assert_eq!(n, want.len());
            let got: Vec<_> = all.iter().map(fields).collect();
            let expected: Vec<_> = want.iter().map(fields).collect();
            proptest::prop_assert_eq!(got, expected);
            let mut content = Vec::new();
            let n = words(&text, 1, false, &mut content, &mut buf);
            proptest::prop_assert_eq!(n, want.len());
            let expected: Vec<_> = want
                .iter()
                .enumerate()
                .filter(|(_, w)| w.content)
                .map(|(i, w)| {
                    let next_function = want.get(i + 1).is_some_and(|n| !n.content);
                    fields(&Word {
                        break_after: w.break_after || next_function,
                        ..*w
                    })
                })
                .collect();
            let got: Vec<_> = content.iter().map(fields).collect();
            proptest::prop_assert_eq!(got, expected);
        }

        /// The words of a phrase (content words with no break between them) are its text
        /// split at whitespace, with the same keys: what `candidate_rarity` relies on.
        #[test]
        fn phrase_text_splits_into_its_words(text in text_strategy()) {
            let mut buf = Vec::new();
            let mut ws = Vec::new();
            words(&text, 0, false, &mut ws, &mut buf);
            let mut i = 0;
            while i < ws.len() {
                let mut j = i;
                while !ws[j].break_after && j + 1 < ws.len() {
                    j += 1;
                }
                let span = &text[ws[i].start as usize..ws[j].end as usize];
                let pieces: Vec<&str> = if span.is_ascii() {
                    span.split_ascii_whitespace().collect()
                } else {
                    span.split(char::is_whitespace).filter(|w| !w.is_empty()).collect()
                };
                proptest::prop_assert_eq!(pieces.len(), j - i + 1, "{}", span);
                for (piece, w) in pieces.iter().zip(&ws[i..=j]) {
                    lower(piece, &mut buf);
                    proptest::prop_assert_eq!(key(&buf), w.key, "{}", piece);
                }
                i = j + 1;
            }
        }

        /// In-place chunks and the folded FNV agree with the plain versions on the words
        /// they are used for, wherever the word sits in the text.
        #[test]
        fn in_place_stem_reads_agree(
            before in "\\PC{0,9}",
            word in "[a-zA-Z0-9'-]{1,17}",
            after in "[ .a-z]{0,9}",
        ) {
            let text = format!("{before}{word}{after}");
            let start = before.len();
            for n in 1..=word.len() {
                let stem = &text.as_bytes()[start..start + n];
                proptest::prop_assert_eq!(
                    stem_chunks_at(text.as_bytes(), start, n),
                    stem_chunks(stem)
                );
                proptest::prop_assert_eq!(fnv_folded(stem), fnv_lower(stem));
            }
        }

        /// The stopword table says what the set of stopword keys said.
        #[test]
        fn stop_set_agrees_with_the_keys(
            word in "[a-zA-Z'-]{1,14}|\\PC{1,6}",
            pick in 0usize..600,
            variant in 0u8..4,
        ) {
            let stop: Vec<&str> = STOPWORDS.split_whitespace().collect();
            let listed = stop[pick % stop.len()];
            let listed = match variant {
                0 => listed.to_string(),
                1 => listed.to_uppercase(),
                2 => format!("{listed}s"),
                _ => format!("{listed}es"),
            };
            let mut buf = Vec::new();
            for w in [word.as_str(), listed.as_str()] {
                lower(w, &mut buf);
                if buf.len() <= MAX_STOPWORD_LEN {
                    let stem = &buf[..stem_len(&buf)];
                    proptest::prop_assert_eq!(
                        STOP.contains(stem_chunks(stem)),
                        STOP_KEYS.contains(&key(&buf)),
                        "{}", w
                    );
                }
            }
        }

        /// Ranks compare as the scores' `total_cmp`.
        #[test]
        fn ranks_compare_as_total_cmp(a in proptest::num::u32::ANY, b in proptest::num::u32::ANY) {
            let (a, b) = (f32::from_bits(a), f32::from_bits(b));
            proptest::prop_assert_eq!(rank_of(a).cmp(&rank_of(b)), a.total_cmp(&b));
        }

        /// Selecting and sorting `Ranked` records permutes them as selecting and sorting the
        /// candidates themselves did (the rarity memo depends on the order).
        #[test]
        fn ranked_records_permute_as_candidates(
            specs in proptest::collection::vec(
                (0u8..40, 1u32..4, 1u8..4, 1u8..=10, proptest::bool::weighted(0.2)),
                1..60,
            ),
            nth in 0usize..60,
        ) {
            let list: Vec<Candidate> = specs
                .iter()
                .enumerate()
                .map(|(i, &(freq, count, len, rarity, entity))| Candidate {
                    keys: [0; MAX_WORDS],
                    len,
                    freq: f32::from(freq) / 4.0,
                    count,
                    rarity: f32::from(rarity) / 10.0,
                    // phrases: distinct non-empty spans; entities: none
                    at: if entity { (0, 0, 0) } else { (i as u32 % 3, i as u32, i as u32 + 1) },
                    at_quality: 2,
                    at_initial: false,
                    suppressed: false,
                    entity: entity.then_some(i),
                })
                .collect();
            let nth = nth % list.len();
            let order = |a: &Candidate, b: &Candidate| {
                b.score()
                    .total_cmp(&a.score())
                    .then(a.at.cmp(&b.at))
                    .then(a.entity.cmp(&b.entity))
            };
            let mut old = list.clone();
            old.select_nth_unstable_by(nth, order);
            let old_selected: Vec<_> = old.iter().map(|c| (c.at, c.entity)).collect();
            old[..=nth].sort_unstable_by(order);
            let old_sorted: Vec<_> = old.iter().map(|c| (c.at, c.entity)).collect();
            let mut new: Vec<Ranked> =
                list.iter().enumerate().map(|(i, c)| Ranked::new(c, i)).collect();
            new.select_nth_unstable_by(nth, Ranked::order);
            let at = |r: &Ranked| (list[r.index].at, list[r.index].entity);
            proptest::prop_assert_eq!(new.iter().map(at).collect::<Vec<_>>(), old_selected);
            new[..=nth].sort_unstable_by(Ranked::order);
            proptest::prop_assert_eq!(new.iter().map(at).collect::<Vec<_>>(), old_sorted);
        }

        /// A map of indices iterates in the order a map of candidates did, given the same
        /// capacity, keys and insertions, and after the same removals.
        #[test]
        fn candidate_index_iterates_as_a_map_of_candidates(
            names in proptest::collection::vec("[a-f]{1,3}", 0..300),
            extra_capacity in 0usize..200,
        ) {
            let capacity = names.len() / 2 + extra_capacity + 16;
            let mut old: IdMap<Candidate> =
                IdMap::with_capacity_and_hasher(capacity, BuildHasherDefault::default());
            let mut new = Candidates::with_capacity(capacity);
            let word = |k: u64| Word {
                start: 0,
                end: 1,
                zone: 1,
                key: k,
                content: true,
                break_after: false,
                initial: false,
            };
            for name in &names {
                let k = key(name.as_bytes());
                let w = word(k);
                // a phrase of one or two words, as `len` decides what is kept
                let words = if name.len() == 3 { vec![w, w] } else { vec![w] };
                new.add(k, &words, 1.0);
                old.entry(k)
                    .or_insert(Candidate {
                        count: 0,
                        len: words.len() as u8,
                        ..new.list[new.index[&k]]
                    })
                    .count += 1;
            }
            old.retain(|_, c| c.kept());
            let old_keys: Vec<u64> = old.keys().copied().collect();
            let new_keys: Vec<u64> = new
                .index
                .iter()
                .filter(|(_, &i)| new.list[i].kept())
                .map(|(&k, _)| k)
                .collect();
            proptest::prop_assert_eq!(new_keys, old_keys);
        }
    }

    #[test]
    fn stem_len_of_bytes_next_to_letters() {
        // bytes one bit-5 flip from a letter, and every length up to the word lists'
        for word in [
            "news",
            "NEWS",
            "series",
            "species",
            "bus",
            "crisis",
            "physics",
            "ays",
            "a",
            "",
            "boxes",
            "BOXES",
            "compan",
            "companies",
            "days",
            "keys",
            "ye",
            "toys",
            "@S",
            "x@s",
            "a[s",
            "ab^s",
            "abc\u{7f}",
            "abc\u{d3}s",
            "caf\u{e9}s",
        ] {
            assert_eq!(
                stem_len(word.as_bytes()),
                stem_len_by_suffixes(word.as_bytes()),
                "{word}"
            );
        }
    }

    #[test]
    fn plural_and_case_variants_share_a_key() {
        let mut buf = Vec::new();
        // the ASCII path keys words as they are, case-insensitively: the same key as the
        // lower-cased word
        let key_of = |w: &str, buf: &mut Vec<u8>| {
            lower(w, buf);
            assert_eq!(key(buf), key(w.as_bytes()), "{w}");
            key(buf)
        };
        for (a, b, same) in [
            ("port", "Ports", true),
            ("company", "companies", true),
            ("Crisis", "crisis", true),
            ("news", "new", false),
            ("bus", "buses", false),
            ("strike", "strikes", true),
            ("box", "boxes", true),
            ("PARTIES", "party", true),
            ("Series", "series", true),
            ("Days", "day", true),
        ] {
            assert_eq!(
                key_of(a, &mut buf) == key_of(b, &mut buf),
                same,
                "{a} / {b}"
            );
        }
    }

    #[test]
    fn repeated_specific_phrases_rank_first() {
        let s = story(
            "Metro workers strike over privatisation",
            &[
                "Metro workers walked out on Tuesday over the planned privatisation of three lines.",
                "The metro workers' union said privatisation would cost jobs.",
                "Commuters queued for buses as the metro strike went on.",
                "The union said the privatisation plan had to be dropped.",
            ],
        );
        let got = Keywords::new(5).extract(&s);
        let t = texts(&got);
        assert!(t.contains(&"privatisation"), "{t:?}");
        assert!(t.iter().any(|k| k.starts_with("metro")), "{t:?}");
        assert_eq!(got[0].score, 1.0);
        assert!(got.windows(2).all(|w| w[0].score >= w[1].score), "{got:?}");
        assert!(!t.contains(&"said") && !t.contains(&"Tuesday"), "{t:?}");
        assert!(got.len() <= 5);
    }

    #[test]
    fn entities_replace_their_parts_and_variants_merge() {
        let mut s = story(
            "Putin writes to Kim",
            &[
                "Vladimir Putin wrote to Kim Jong-un about bilateral relations.",
                "Putin said bilateral relations would grow. Kim replied.",
                "Bilateral relations were forged in war, Putin said.",
            ],
        );
        s.enrichment.entities = vec![
            entity(EntityKind::Person, "Vladimir Putin", 4, true),
            entity(EntityKind::Person, "Kim Jong-un", 3, true),
        ];
        let got = Keywords::new(10).extract(&s);
        let t = texts(&got);
        assert!(t.contains(&"Vladimir Putin"), "{t:?}");
        assert!(!t.contains(&"Putin"), "{t:?}");
        assert!(t.contains(&"bilateral relations"), "{t:?}");
        // "Bilateral relations" at a sentence start is the same keyword
        assert_eq!(
            t.iter()
                .filter(|k| k.to_lowercase() == "bilateral relations")
                .count(),
            1
        );
        let putin = got
            .iter()
            .find(|k| k.text == "Vladimir Putin")
            .expect("Putin");
        assert_eq!(putin.kind, KeywordKind::Entity);
    }

    #[test]
    fn empty_and_zero_max() {
        assert!(Keywords::new(10).extract(&Story::default()).is_empty());
        let s = story("Metro strike", &["The metro strike goes on."]);
        assert!(Keywords::new(0).extract(&s).is_empty());
    }

    /// Regression: a photo credit left in the body ("… Image: Nick Moreau.") made the
    /// photographer's name and "Image" top keywords.
    #[test]
    fn captions_are_not_keywords() {
        let s = story(
            "Fans gather for comic convention",
            &[
                "Thousands of comic fans gathered at the convention centre.",
                "The convention floor shortly after opening. Image: Nick Moreau.",
                "Cosplay fans filled the convention halls with costumes.",
                "A group of cosplay fans posed for photos. Image: Nick Moreau.",
            ],
        );
        let t = texts(&Keywords::new(10).extract(&s)).join("|");
        assert!(!t.contains("Image") && !t.contains("Moreau"), "{t}");
    }
}
