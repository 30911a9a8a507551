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

use crate::hash::{IdMap, IdSet};
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

static STOP: LazyLock<IdSet> = LazyLock::new(|| {
    STOPWORDS
        .split_whitespace()
        .map(|w| key(w.as_bytes()))
        .collect()
});

/// Length of the matching stem of a word (ASCII compared case-insensitively): plural
/// endings dropped (`ports` → `port`, `boxes` → `box`), and `y` / `ies` folded together
/// (`company`, `companies` → `compan`); words that only look plural (`news`, `crisis`,
/// `bus`) stay whole.
///
/// Runs for every word of a story, so the endings are compared as one integer: the last
/// four bytes with bit 5 set, which lower-cases ASCII letters and turns no other byte into
/// one. (`stem_len_by_suffixes` in the tests is the plain version it must agree with.)
fn stem_len(word: &[u8]) -> usize {
    let n = word.len();
    // Shorter words are never plural and too short for the `y` fold.
    if n < 4 {
        return n;
    }
    let tail = u32::from_be_bytes([word[n - 4], word[n - 3], word[n - 2], word[n - 1]]) | FOLD;
    stem_len_by(word, |suffix| {
        tail & suffix_mask(suffix.len()) == pack_suffix(suffix)
    })
}

/// The stemming rule of [`stem_len`], given `ends(suffix)`: whether the word ends in a
/// lower-case suffix of at most four letters, in any case.
#[inline]
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
    key: u64,
    /// May start or continue a phrase.
    content: bool,
    /// Something other than spaces follows before the next word (punctuation, possessive).
    break_after: bool,
    /// First word of a sentence (its capital letter says nothing).
    initial: bool,
}

/// Byte classes for the ASCII fast path of [`words`].
const SEP: u8 = 0;
const LOWER: u8 = 1;
const UPPER: u8 = 2;
const DIGIT: u8 = 3;
static CLASS: [u8; 128] = {
    let mut t = [SEP; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_lowercase() {
            LOWER
        } else if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_digit() {
            DIGIT
        } else {
            SEP
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

/// Splits `text` into words, appending to `out`.
fn words(text: &str, zone: u32, out: &mut Vec<Word>, buf: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut initial = true;
    while i < bytes.len() {
        let b = bytes[i];
        let (first, len) = if b < 0x80 {
            (CLASS[usize::from(b)], 1)
        } else {
            match char_at(text, i) {
                Some((c, l)) if c.is_alphanumeric() => {
                    (if c.is_uppercase() { UPPER } else { LOWER }, l)
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
        if first == SEP {
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
        let (mut alpha, upper_first) = (first != DIGIT, first == UPPER);
        let mut all_upper = first != LOWER;
        let mut apostrophe = false;
        // what the word's tests below would otherwise scan it again for
        let mut ascii = len == 1;
        let mut hyphen = false;
        while let Some(&nb) = bytes.get(end) {
            if nb < 0x80 {
                let class = CLASS[usize::from(nb)];
                if class != SEP {
                    alpha |= class != DIGIT;
                    all_upper &= class != LOWER;
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
            && first != DIGIT
            && !contraction
            && long_enough
            && !lower_verbish
            && !(w.len() <= MAX_STOPWORD_LEN && STOP.contains(&k));
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

/// A candidate keyword.
#[derive(Debug, Clone)]
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

/// Rarity of a word: `((7.2 − zipf) / 4.5)²` clamped to 0.01–1 (squared so that specific
/// words outrank everyday ones); 1 for words the table does not know.
fn rarity_of(zipf: Option<u16>) -> f32 {
    zipf.map_or(1.0, |z| {
        let r = ((7.2 - f32::from(z) / 100.0) / 4.5).clamp(0.1, 1.0);
        r * r
    })
}

/// Counts one occurrence of the phrase `words` (key `key`) with zone weight `weight`.
fn add(cands: &mut IdMap<Candidate>, key: u64, words: &[Word], weight: f32) {
    let (first, last) = (words[0], words[words.len() - 1]);
    let quality = match (first.zone, first.initial) {
        (0, _) => 0,
        (_, true) => 1,
        (_, false) => 2,
    };
    let at = (first.zone, first.start, last.end);
    let c = cands.entry(key).or_insert_with(|| {
        let mut keys = [0u64; MAX_WORDS];
        for (k, w) in keys.iter_mut().zip(words) {
            *k = w.key;
        }
        Candidate {
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
        }
    });
    c.freq += weight;
    c.count += 1;
    if quality > c.at_quality {
        c.at = at;
        c.at_quality = quality;
        c.at_initial = first.initial;
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
        for (z, (text, _)) in zones.iter().enumerate() {
            // zones are few; a u32 index cannot overflow
            words(text, z as u32, &mut ws, &mut buf);
            if let Some(last) = ws.last_mut() {
                last.break_after = true; // phrases end with the zone
            }
        }
        let mut cands: IdMap<Candidate> =
            IdMap::with_capacity_and_hasher(ws.len() + 16, BuildHasherDefault::default());
        // Pass 1: single words.
        for w in ws.iter().filter(|w| w.content) {
            let weight = zones[w.zone as usize].1;
            add(&mut cands, w.key, &[*w], weight);
        }
        // Pass 2: phrases of two and three words, only where every word occurs at least
        // MIN_PHRASE_COUNT times (otherwise the phrase cannot either).
        let repeated: Vec<bool> = ws
            .iter()
            .map(|w| {
                w.content
                    && cands
                        .get(&w.key)
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
                add(&mut cands, key, &ws[i..=last], weight);
            }
        }
        // Rare phrases are noise; sub-phrases mostly inside a longer phrase give way to it.
        cands.retain(|_, c| c.len == 1 || c.count >= MIN_PHRASE_COUNT);
        let longer: Vec<([u64; MAX_WORDS], u8, f32)> = cands
            .values()
            .filter(|c| c.len > 1)
            .map(|c| (c.keys, c.len, c.freq))
            .collect();
        for (keys, len, freq) in &longer {
            let keys = &keys[..usize::from(*len)];
            for n in 1..keys.len() {
                for sub in keys.windows(n) {
                    let k = sub.iter().skip(1).fold(sub[0], |h, x| combine(h, *x));
                    if let Some(c) = cands.get_mut(&k) {
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
        let mut all: Vec<Candidate> = Vec::with_capacity(cands.len() + entities.len());
        let mut name_words: Vec<Word> = Vec::new();
        for (idx, e) in entities.iter().enumerate() {
            name_words.clear();
            words(&e.name, 0, &mut name_words, &mut buf);
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
            if let Some(c) = cands.get_mut(&full) {
                freq = freq.max(c.freq);
                count = count.max(c.count);
                c.suppressed = true;
            }
            if e.kind == EntityKind::Person {
                for n in 1..keys.len().min(MAX_WORDS + 1) {
                    for sub in keys.windows(n) {
                        let k = sub.iter().skip(1).fold(sub[0], |h, x| combine(h, *x));
                        if let Some(c) = cands.get_mut(&k) {
                            c.suppressed = true;
                        }
                    }
                }
            }
            let mut ck = [0u64; MAX_WORDS];
            let len = keys.len().min(MAX_WORDS);
            ck[..len].copy_from_slice(&keys[..len]);
            all.push(Candidate {
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
            });
        }
        all.extend(cands.into_values().filter(|c| !c.suppressed));
        // Rarity needs a word-table lookup per word: compute it only for candidates that
        // can still rank. Scores with rarity 1.0 are upper bounds, so once `wanted`
        // candidates have real scores, any candidate whose bound is below the lowest of
        // them cannot displace them.
        let wanted = self.max.saturating_mul(RANKED_PER_KEYWORD).min(all.len());
        if wanted == 0 {
            return Vec::new();
        }
        let order = |a: &Candidate, b: &Candidate| {
            b.score()
                .total_cmp(&a.score())
                .then(a.at.cmp(&b.at))
                .then(a.entity.cmp(&b.entity))
        };
        let mut memo: IdMap<f32> = IdMap::default();
        let (head, tail) = if all.len() > wanted {
            all.select_nth_unstable_by(wanted - 1, order);
            let (head, tail) = all.split_at_mut(wanted);
            (head, tail)
        } else {
            (&mut all[..], &mut [][..])
        };
        for c in head.iter_mut() {
            c.rarity = self.candidate_rarity(c, &zones, &entities, &mut memo);
        }
        // the bar: the score of the `max`·FLOOR_PER_KEYWORD-th best candidate computed so far
        head.sort_unstable_by(order);
        let floor = head
            .get(self.max.saturating_mul(FLOOR_PER_KEYWORD).min(head.len()) - 1)
            .map_or(0.0, Candidate::score);
        let mut ranked: Vec<&Candidate> = head.iter().collect();
        let mut extra: Vec<&mut Candidate> =
            tail.iter_mut().filter(|c| c.score() > floor).collect();
        for c in &mut extra {
            c.rarity = self.candidate_rarity(c, &zones, &entities, &mut memo);
        }
        ranked.extend(extra.into_iter().map(|c| &*c));
        ranked.sort_unstable_by(|a, b| order(a, b));
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
        let text = match c.entity {
            Some(i) => entities[i].name.as_str(),
            None => {
                let (z, start, end) = c.at;
                zones
                    .get(z as usize)
                    .and_then(|(t, _)| t.get(start as usize..end as usize))
                    .unwrap_or("")
            }
        };
        let mut sum = 0.0;
        let mut n = 0u32;
        let mut buf = Vec::new();
        for word in text
            .split(|ch: char| ch.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            let k = if word.is_ascii() {
                key(word.as_bytes())
            } else {
                lower(word, &mut buf);
                key(&buf)
            };
            let r = *memo.entry(k).or_insert_with(|| self.rarity(word));
            sum += r;
            n += 1;
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
            words(text, 0, &mut out, &mut buf);
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
