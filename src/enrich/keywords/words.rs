//! Keywords' word splitter: the words of a zone with their matching keys (lower-case stem,
//! FNV), whether each may be part of a keyphrase (stopwords, numbers, contractions, `-ed`
//! and `-ly` words may not), and where phrases must end (punctuation, possessives). The
//! stopword list and its exact table live here too.

use std::sync::LazyLock;

use crate::enrich::byte_scan::folded_word;

/// Function words, reporting verbs, time, number and other words that never make a
/// keyword on their own and end a phrase.
pub(super) const STOPWORDS: &str = "
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

pub(super) fn fnv_lower(bytes: &[u8]) -> u64 {
    fnv(bytes, |b| b.to_ascii_lowercase())
}

/// FNV-1a of `bytes`, each through `fold` first, and a final avalanche so that the low bits
/// (the hash map's bucket) depend on every byte.
#[inline(always)]
fn fnv(bytes: &[u8], fold: impl Fn(u8) -> u8) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(fold(b));
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Combines the keys of consecutive words into the key of the phrase.
pub(super) fn combine(a: u64, b: u64) -> u64 {
    (a.rotate_left(23) ^ b).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Longer than any stopword: no need to look it up.
pub(super) const MAX_STOPWORD_LEN: usize = 13;

pub(super) static STOP: LazyLock<StopSet> = LazyLock::new(|| {
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
pub(super) const STOP_SHORT_SLOTS: usize = 1 << 11;
/// Slots of [`StopSet::long`] (stems of nine letters or more are few).
pub(super) const STOP_LONG_SLOTS: usize = 1 << 7;

/// The stopwords' stems (as [`stem_chunks`]), in two open-addressing tables with linear
/// probing: stems of up to eight bytes as one `u64`, longer ones as two. A chunk of a
/// stem is never 0 (words hold no NUL), so 0 marks an empty slot. The stems themselves
/// are compared, not a hash of them: a word is tested before (and often instead of)
/// computing its key.
pub(super) struct StopSet {
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
    pub(super) fn contains(&self, chunks: [u64; 2]) -> bool {
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
pub(super) fn stem_chunks(stem: &[u8]) -> [u64; 2] {
    let mut chunks = [0u64; 2];
    for (i, b) in stem.iter().take(16).enumerate() {
        chunks[i / 8] |= u64::from(b.to_ascii_lowercase()) << (8 * (i % 8));
    }
    chunks
}

/// [`stem_chunks`] of `bytes[start..start + n]` for a word of ASCII letters, digits, `-`
/// and `'` only, where setting bit 5 lower-cases every byte: read as whole words
/// ([`folded_word`]) instead of byte by byte.
#[inline]
pub(super) fn stem_chunks_at(bytes: &[u8], start: usize, n: usize) -> [u64; 2] {
    match n {
        1..=8 => [folded_word(bytes, start, n), 0],
        9..=16 => [
            folded_word(bytes, start, 8),
            folded_word(bytes, start + 8, n - 8),
        ],
        _ => stem_chunks(&bytes[start..start + n]),
    }
}

/// [`fnv_lower`] of a stem of ASCII letters, digits, `-` and `'` only: setting bit 5
/// lower-cases each of them.
pub(super) fn fnv_folded(bytes: &[u8]) -> u64 {
    fnv(bytes, |b| b | 0x20)
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
pub(super) fn stem_len(word: &[u8]) -> usize {
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
pub(super) fn stem_len_by(word: &[u8], ends: impl Fn(&[u8]) -> bool) -> usize {
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
pub(super) fn tail4(word: &[u8]) -> u32 {
    let n = word.len();
    u32::from_be_bytes([word[n - 4], word[n - 3], word[n - 2], word[n - 1]]) | FOLD
}

/// Bit 5 of each of four bytes.
pub(super) const FOLD: u32 = 0x2020_2020;

/// The low `len` bytes of a [`stem_len`] tail.
#[inline]
pub(super) const fn suffix_mask(len: usize) -> u32 {
    if len >= 4 {
        u32::MAX
    } else {
        (1 << (8 * len)) - 1
    }
}

/// A lower-case suffix of at most four letters as the low bytes of a tail.
#[inline]
pub(super) const fn pack_suffix(suffix: &[u8]) -> u32 {
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
pub(super) fn key(word: &[u8]) -> u64 {
    fnv_lower(&word[..stem_len(word)])
}

/// The lower-case bytes of a word into `buf`.
pub(super) fn lower(word: &str, buf: &mut Vec<u8>) {
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
pub(super) struct Word {
    pub(super) start: u32,
    pub(super) end: u32,
    /// Index of the zone (headline, body block) the offsets refer to.
    pub(super) zone: u32,
    /// [`key`] of the word.
    pub(super) key: u64,
    /// May start or continue a phrase.
    pub(super) content: bool,
    /// Something other than spaces follows before the next word (punctuation, possessive).
    pub(super) break_after: bool,
    /// First word of a sentence (its capital letter says nothing).
    pub(super) initial: bool,
}

/// Byte class bits for [`words`]: one table lookup tells whether a byte continues a word
/// and what it says about the word, so the letter loop only ORs them together.
/// An ASCII letter or digit.
pub(super) const WORD: u8 = 1;
/// A letter (ASCII or, set by hand, not).
pub(super) const ALPHA: u8 = 2;
/// A lower-case letter.
pub(super) const LOWER: u8 = 4;
/// An upper-case letter.
pub(super) const UPPER: u8 = 8;
/// An ASCII digit.
pub(super) const DIGIT: u8 = 16;
/// Space, tab or line break: ends a word but not a phrase.
pub(super) const SPACE: u8 = 32;
/// `.`, `!`, `?`, `:`, `;`: the next word starts a sentence.
pub(super) const FULL_STOP: u8 = 64;
/// A byte of a multi-byte character: decoded on the slow path.
pub(super) const NON_ASCII: u8 = 128;
pub(super) static CLASS: [u8; 256] = {
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
pub(super) fn char_at(text: &str, i: usize) -> Option<(char, usize)> {
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
pub(super) fn words(
    text: &str,
    zone: u32,
    all_keys: bool,
    out: &mut Vec<Word>,
    buf: &mut Vec<u8>,
) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
