//! Feature extraction for the tagger. Nothing here builds strings per token: every distinct
//! word of a document is analysed once into a [`WordType`] (hashes of the word, its lower
//! case, shape and affixes, word-list flags, frequency class), and a token's features are
//! 64-bit keys mixed from its own and its neighbours' types. Keys below [`DENSE`] are
//! *dense* features (bias, gazetteer flags, document statistics, frequency class, previous
//! tags) that the model keeps in a small array instead of its hash table.
//!
//! The features of a token come in three parts, so that the tagger can cache what repeats:
//! - *type features* ([`role_features`]): functions of one neighbour's type and its offset
//!   (the word itself, the words and shapes one and two to the left and right); the model
//!   sums them once per type and document;
//! - *context features* ([`DocFeatures::context`]): word and shape bigrams, flags around the
//!   token, position, document statistics;
//! - *history features* ([`history`]): the two previous tags, alone and with the word.

use std::ops::Range;

use super::gazetteer::{flag, Gazetteer};
use crate::normalise::Lexicon;

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Mixes two hashes into one (order-sensitive).
#[inline]
pub fn mix(a: u64, b: u64) -> u64 {
    (a.rotate_left(23) ^ b).wrapping_mul(K).rotate_left(31)
}

#[inline]
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A fast, fixed (seedless, so reproducible) hash of a byte string: eight bytes at a time,
/// then a murmur finaliser.
#[inline]
pub fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let mut w = [0u8; 8];
        w[..rem.len()].copy_from_slice(rem);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    fmix(h)
}

/// Hash of a string.
#[inline]
pub fn hash_str(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

/// Seed of [`seq_hash`].
pub const SEQ_SEED: u64 = 0x5EC0_0000_0000_0001;

/// Extends a token-sequence hash by one token's [`hash_str`].
#[inline]
pub fn seq_push(h: u64, token: u64) -> u64 {
    mix(h, token)
}

/// Hash of a sequence of tokens written joined by single spaces (`"North Korea"`).
pub fn seq_hash(key: &str) -> u64 {
    key.split(' ')
        .fold(SEQ_SEED, |h, t| seq_push(h, hash_str(t)))
}

/// Word shape with runs capped at three: `Putin` → `Xxxx`, `KCNA` → `XXXX`→`XXX`, `2019` → `ddd`.
pub fn shape(word: &str) -> String {
    let mut out = String::with_capacity(8);
    shape_into(word, &mut out);
    out
}

/// [`shape`] into a reused buffer.
fn shape_into(word: &str, out: &mut String) {
    out.clear();
    let mut last = '\0';
    let mut run = 0;
    for c in word.chars() {
        let s = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_ascii_digit() {
            'd'
        } else {
            c
        };
        if s == last {
            run += 1;
        } else {
            run = 1;
            last = s;
        }
        if run <= 3 {
            out.push(s);
        }
    }
}

/// Lower-cases `w` into a reused buffer (no allocation for ASCII words).
pub fn lower_into<'b>(w: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    if w.is_ascii() {
        buf.push_str(w);
        buf.make_ascii_lowercase();
    } else {
        buf.push_str(&w.to_lowercase());
    }
    buf
}

fn prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn suffix(s: &str, n: usize) -> &str {
    if s.is_ascii() {
        return &s[s.len().saturating_sub(n)..];
    }
    let count = s.chars().count();
    if count <= n {
        return s;
    }
    match s.char_indices().nth(count - n) {
        Some((i, _)) => &s[i..],
        None => s,
    }
}

fn is_open_punct(w: &str) -> bool {
    matches!(
        w,
        "\"" | "“" | "'" | "‘" | "(" | "[" | "-" | "–" | "—" | ":"
    )
}

/// Keys below this are dense features (see the module documentation).
pub const DENSE: u64 = 288;
/// The bias feature.
const D_BIAS: u64 = 1;
/// Gazetteer flag `bit` of the neighbour in role `r` (0..5): `D_FLAG + 16 r + bit`.
const D_FLAG: u64 = 16;
/// Document statistics of a capitalised word (8 values).
const D_DOC: u64 = 96;
/// Frequency class (16) × capitalisation class (4).
const D_FREQ: u64 = 104;
/// Position in a run of capitalised words (16 values), or a lower-case word between two.
const D_RUN: u64 = 268;
/// Previous tag (9 values).
pub const D_HIST1: u64 = 168;
/// Previous two tags (81 values).
pub const D_HIST2: u64 = 184;

/// What the features need to know about one distinct word (exact spelling) of a document.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordType {
    /// Hash of the word as written.
    pub word: u64,
    /// Hash of its lower case.
    pub lower: u64,
    /// Hash of its shape.
    pub shape: u64,
    /// Hashes of the lower-cased prefix of 3 and suffixes of 2, 3 and 4 characters.
    affix: [u64; 4],
    /// Context-free flags: titles, organisation and place words, given names, surnames.
    pub flags: u16,
    /// Frequency class: 0 unknown word, else 1 + (Zipf − 1.5) × 2, at most 15.
    freq: u8,
    /// First character: 0 other, 1 upper case, 2 lower case.
    first: u8,
    /// An opening quote, bracket, dash or colon (the next word starts a phrase).
    open: bool,
}

impl WordType {
    /// Whether the word starts with an upper-case letter.
    pub fn is_cap(&self) -> bool {
        self.first == 1
    }

    fn pseudo(lower: u64, shape: u64) -> Self {
        Self {
            lower,
            shape,
            ..Self::default()
        }
    }
}

/// One distinct (word type, flags) pair of a document: a token's features that depend only
/// on a neighbour at a fixed offset are functions of that neighbour's unit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unit {
    /// Index into [`DocFeatures::types`].
    pub ty: u32,
    /// Gazetteer and word-list flags.
    pub flags: u16,
}

/// Roles of a neighbour unit: the token itself, one and two to the left, one and two to the
/// right.
pub const ROLES: usize = 5;
/// Calls `f` with each feature of a unit (type `t` with `flags`) in role `role` (see
/// [`ROLES`]).
#[inline]
pub fn role_features(t: &WordType, flags: u16, role: usize, mut f: impl FnMut(u64)) {
    match role {
        0 => {
            f(D_BIAS);
            f(mix(2, t.word));
            f(mix(3, t.lower));
            f(mix(4, t.shape));
            f(mix(5, t.affix[0]));
            f(mix(6, t.affix[1]));
            f(mix(7, t.affix[2]));
            f(mix(8, t.affix[3]));
        }
        1 => {
            f(mix(9, t.lower));
            f(mix(13, t.shape));
        }
        2 => f(mix(10, t.lower)),
        3 => {
            f(mix(11, t.lower));
            f(mix(14, t.shape));
        }
        _ => f(mix(12, t.lower)),
    }
    let mut bits = flags;
    while bits != 0 {
        f(D_FLAG + 16 * role as u64 + u64::from(bits.trailing_zeros()));
        bits &= bits - 1;
    }
}

/// History features of a token given the two previous tags.
#[inline]
pub fn history(prev: usize, prev2: usize, t: &WordType) -> [u64; 4] {
    let p = prev as u64;
    [
        D_HIST1 + p,
        D_HIST2 + p * 9 + prev2 as u64,
        mix(52, mix(p, t.lower)),
        mix(53, mix(p, t.shape)),
    ]
}

/// Pseudo types for positions outside a sentence (indices into [`DocFeatures::types`]).
const BOS1: u32 = 0;
const BOS2: u32 = 1;
const EOS1: u32 = 2;
const EOS2: u32 = 3;
const BOS: u64 = 0x5151_5151;
const EOS: u64 = 0x7272_7272;

/// Static features of every token of a document, stored flat (one allocation each).
#[derive(Debug, Default)]
pub struct DocFeatures {
    /// Distinct words, after four pseudo types for positions before and after a sentence.
    pub types: Vec<WordType>,
    /// Distinct (type, flags) pairs; the first four are the pseudo types without flags.
    pub units: Vec<Unit>,
    /// Per token (document order): index into `types`.
    pub tok_type: Vec<u32>,
    /// Per token: index into `units`.
    pub tok_unit: Vec<u32>,
    /// Per token: gazetteer and word-list flags.
    pub flags: Vec<u16>,
    ctx: Vec<u64>,
    ctx_off: Vec<u32>,
    sents: Vec<Range<usize>>,
}

impl DocFeatures {
    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.sents.len()
    }

    /// Whether there are no sentences.
    pub fn is_empty(&self) -> bool {
        self.sents.is_empty()
    }

    /// Number of tokens.
    pub fn tokens(&self) -> usize {
        self.tok_type.len()
    }

    /// The tokens of sentence `si`.
    pub fn sentence(&self, si: usize) -> Range<usize> {
        self.sents[si].clone()
    }

    /// The units of token `tok` (in sentence `sent`) and of its neighbours, in role order.
    #[inline]
    pub fn neighbours(&self, sent: &Range<usize>, tok: usize) -> [u32; ROLES] {
        let at = |d: isize| -> u32 {
            let j = tok as isize + d;
            let (start, end) = (sent.start as isize, sent.end as isize);
            if j < start {
                if start - j == 1 {
                    BOS1
                } else {
                    BOS2
                }
            } else if j >= end {
                if j == end {
                    EOS1
                } else {
                    EOS2
                }
            } else {
                self.tok_unit[j as usize]
            }
        };
        [self.tok_unit[tok], at(-1), at(-2), at(1), at(2)]
    }

    /// Calls `f` with each feature of unit `u` in role `role`.
    #[inline]
    pub fn unit_features(&self, u: u32, role: usize, f: impl FnMut(u64)) {
        let unit = self.units[u as usize];
        role_features(&self.types[unit.ty as usize], unit.flags, role, f);
    }

    /// Context features of token `tok`.
    #[inline]
    pub fn context(&self, tok: usize) -> &[u64] {
        &self.ctx[self.ctx_off[tok] as usize..self.ctx_off[tok + 1] as usize]
    }

    /// Every static feature (unit and context) of token `tok` in sentence `sent`, appended
    /// to `out` (for training).
    pub fn static_features(&self, sent: &Range<usize>, tok: usize, out: &mut Vec<u64>) {
        for (role, u) in self.neighbours(sent, tok).into_iter().enumerate() {
            self.unit_features(u, role, |x| out.push(x));
        }
        out.extend_from_slice(self.context(tok));
    }
}

/// A small open-addressing map from 64-bit keys to `u32`, reused from document to document
/// (a generation stamp marks the live slots, so starting over clears nothing).
#[derive(Default)]
struct Interner {
    keys: Vec<u64>,
    vals: Vec<u32>,
    stamps: Vec<u32>,
    generation: u32,
    mask: usize,
}

impl Interner {
    /// Empties the map and makes room for `n` keys.
    fn reset(&mut self, n: usize) {
        let cap = (n * 2).next_power_of_two().max(16);
        if cap > self.keys.len() {
            self.keys = vec![0; cap];
            self.vals = vec![0; cap];
            self.stamps = vec![0; cap];
            self.generation = 0;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamps.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        self.mask = cap - 1;
    }

    /// The value of `key`, if present.
    #[inline]
    fn get(&self, key: u64) -> Option<u32> {
        let mut i = (key.wrapping_mul(K) >> 40) as usize & self.mask;
        loop {
            if self.stamps[i] != self.generation {
                return None;
            }
            if self.keys[i] == key {
                return Some(self.vals[i]);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts `key` (known to be absent).
    #[inline]
    fn insert(&mut self, key: u64, v: u32) {
        let mut i = (key.wrapping_mul(K) >> 40) as usize & self.mask;
        while self.stamps[i] == self.generation {
            i = (i + 1) & self.mask;
        }
        self.stamps[i] = self.generation;
        self.keys[i] = key;
        self.vals[i] = v;
    }

    /// The value of `key`, inserting `make()` when absent.
    #[inline]
    fn get_or(&mut self, key: u64, make: impl FnOnce() -> u32) -> u32 {
        let mut i = (key.wrapping_mul(K) >> 40) as usize & self.mask;
        loop {
            if self.stamps[i] != self.generation {
                let v = make();
                self.stamps[i] = self.generation;
                self.keys[i] = key;
                self.vals[i] = v;
                return v;
            }
            if self.keys[i] == key {
                return self.vals[i];
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// Per-thread scratch tables of [`doc_features`], and a cache of word analyses across
/// documents (direct-mapped by word hash; valid for one gazetteer).
#[derive(Default)]
struct Scratch {
    types: Interner,
    units: Interner,
    lowers: Interner,
    words: Vec<WordType>,
    words_gaz: usize,
}

const WORD_CACHE_BITS: u32 = 12;

impl Scratch {
    /// The analysis of word `w` (hash `word`), from the cache when there.
    #[inline]
    fn analyse(&mut self, w: &str, word: u64, gaz: &Gazetteer, lex: &Lexicon) -> WordType {
        let gaz_id = std::ptr::from_ref(gaz) as usize;
        if self.words.is_empty() || self.words_gaz != gaz_id {
            self.words.clear();
            self.words.resize(1 << WORD_CACHE_BITS, WordType::default());
            self.words_gaz = gaz_id;
        }
        let slot = &mut self.words[(word >> (64 - WORD_CACHE_BITS)) as usize];
        if slot.word != word || word == 0 {
            *slot = analyse(w, word, gaz, lex);
        }
        *slot
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Hash of the shape of `w` ([`shape`]), built on the stack (shapes longer than 64 bytes
/// are cut there).
fn shape_hash(w: &str) -> u64 {
    let mut buf = [0u8; 64];
    let mut n = 0;
    let mut last = '\0';
    let mut run = 0;
    for c in w.chars() {
        let s = match c {
            'A'..='Z' => 'X',
            'a'..='z' => 'x',
            '0'..='9' => 'd',
            c if c.is_ascii() => c,
            c if c.is_uppercase() => 'X',
            c if c.is_lowercase() => 'x',
            c => c,
        };
        if s == last {
            run += 1;
        } else {
            run = 1;
            last = s;
        }
        if run <= 3 {
            let len = s.len_utf8();
            if n + len > buf.len() {
                break;
            }
            s.encode_utf8(&mut buf[n..n + len]);
            n += len;
        }
    }
    hash_bytes(&buf[..n])
}

/// Longest ASCII word lower-cased on the stack.
const STACK_WORD: usize = 48;

/// Analyses one distinct word.
fn analyse(w: &str, word: u64, gaz: &Gazetteer, lex: &Lexicon) -> WordType {
    let first = match w.chars().next() {
        Some(c) if c.is_uppercase() => 1,
        Some(c) if c.is_lowercase() => 2,
        _ => 0,
    };
    let (lower, affix) = if w.is_ascii() && w.len() <= STACK_WORD {
        let mut buf = [0u8; STACK_WORD];
        let lb = &mut buf[..w.len()];
        lb.copy_from_slice(w.as_bytes());
        lb.make_ascii_lowercase();
        let n = lb.len();
        (
            hash_bytes(lb),
            [
                hash_bytes(&lb[..n.min(3)]),
                hash_bytes(&lb[n - n.min(2)..]),
                hash_bytes(&lb[n - n.min(3)..]),
                hash_bytes(&lb[n - n.min(4)..]),
            ],
        )
    } else {
        let l = w.to_lowercase();
        (
            hash_str(&l),
            [
                hash_str(prefix(&l, 3)),
                hash_str(suffix(&l, 2)),
                hash_str(suffix(&l, 3)),
                hash_str(suffix(&l, 4)),
            ],
        )
    };
    let flags = gaz.word_flags(word, lower, first == 1);
    // how common the word is in English, for capitalised words (a capitalised common word
    // is less likely a name)
    let freq = match (first == 1).then(|| lex.zipf(w)).flatten() {
        Some(z) => (1 + z.saturating_sub(150) / 50).min(15) as u8,
        None => 0,
    };
    WordType {
        word,
        lower,
        shape: shape_hash(w),
        affix,
        flags,
        freq,
        first,
        open: is_open_punct(w),
    }
}

/// Builds the static features of a document: `words` are its tokens in order and `sents`
/// its sentences as token ranges (covering `words` in order).
pub fn doc_features(words: &[&str], sents: &[Range<usize>], gaz: &Gazetteer) -> DocFeatures {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut scratch) => build(words, sents, gaz, &mut scratch),
        Err(_) => build(words, sents, gaz, &mut Scratch::default()),
    })
}

fn build(words: &[&str], sents: &[Range<usize>], gaz: &Gazetteer, sc: &mut Scratch) -> DocFeatures {
    let lex = Lexicon::get();
    let n = words.len();
    let mut out = DocFeatures {
        types: Vec::with_capacity(n / 2 + 8),
        units: Vec::with_capacity(n / 2 + 8),
        tok_type: Vec::with_capacity(n),
        tok_unit: Vec::with_capacity(n),
        flags: vec![0; n],
        ctx: Vec::with_capacity(n * 12),
        ctx_off: Vec::with_capacity(n + 1),
        sents: sents.to_vec(),
    };
    out.types.extend([
        WordType::pseudo(BOS.wrapping_add(1), BOS),
        WordType::pseudo(BOS.wrapping_add(2), BOS),
        WordType::pseudo(EOS, EOS),
        WordType::pseudo(EOS.wrapping_add(1), EOS),
    ]);
    out.units.extend((0..4).map(|ty| Unit { ty, flags: 0 }));
    // 1. types
    sc.types.reset(n);
    for w in words {
        let word = hash_str(w);
        let known = sc.types.get(word);
        let ty = match known {
            Some(ty) => ty,
            None => {
                let t = sc.analyse(w, word, gaz, lex);
                out.types.push(t);
                let ty = u32::try_from(out.types.len() - 1).unwrap_or(u32::MAX);
                sc.types.insert(word, ty);
                ty
            }
        };
        out.tok_type.push(ty);
    }
    // 2. flags: context-free word flags, then gazetteer places over each sentence
    for (f, &ty) in out.flags.iter_mut().zip(&out.tok_type) {
        *f = out.types[ty as usize].flags;
    }
    let mut hashes: Vec<u64> = Vec::with_capacity(64);
    for r in sents {
        hashes.clear();
        hashes.extend(
            out.tok_type[r.clone()]
                .iter()
                .map(|&t| out.types[t as usize].word),
        );
        let types = &out.types;
        let tt = &out.tok_type[r.clone()];
        gaz.place_flags(
            &hashes,
            |k| types[tt[k] as usize].is_cap(),
            &mut out.flags[r.clone()],
        );
    }
    // 3. units
    sc.units.reset(n);
    for (&ty, &flags) in out.tok_type.iter().zip(&out.flags) {
        let units = &mut out.units;
        let u = sc.units.get_or(u64::from(ty) << 16 | u64::from(flags), || {
            units.push(Unit { ty, flags });
            u32::try_from(units.len() - 1).unwrap_or(u32::MAX)
        });
        out.tok_unit.push(u);
    }
    // 4. document statistics per lower-cased form: seen in lower case, seen capitalised
    //    mid-sentence
    sc.lowers.reset(out.types.len());
    let mut stats: Vec<u8> = Vec::with_capacity(out.types.len());
    let lower_of: Vec<u32> = out
        .types
        .iter()
        .map(|t| {
            sc.lowers.get_or(t.lower, || {
                stats.push(0);
                u32::try_from(stats.len() - 1).unwrap_or(u32::MAX)
            })
        })
        .collect();
    let initial_at = |r: &Range<usize>, i: usize, out: &DocFeatures| {
        i == r.start || out.types[out.tok_type[i - 1] as usize].open
    };
    for r in sents {
        for i in r.clone() {
            let ty = out.tok_type[i] as usize;
            let t = &out.types[ty];
            if t.first == 2 {
                stats[lower_of[ty] as usize] |= 1;
            } else if t.first == 1 && !initial_at(r, i, &out) {
                stats[lower_of[ty] as usize] |= 2;
            }
        }
    }
    // 5. context features
    out.ctx_off.push(0);
    let cap = |out: &DocFeatures, i: usize| out.types[out.tok_type[i] as usize].first == 1;
    for r in sents {
        let mut run = r.start..r.start;
        for i in r.clone() {
            if i >= run.end && cap(&out, i) {
                let mut e = i + 1;
                while e < r.end && cap(&out, e) {
                    e += 1;
                }
                run = i..e;
            }
            let ty = out.tok_type[i] as usize;
            let t = &out.types[ty];
            let p = &out.types[if i > r.start {
                out.tok_type[i - 1] as usize
            } else {
                BOS1 as usize
            }];
            let x = &out.types[if i + 1 < r.end {
                out.tok_type[i + 1] as usize
            } else {
                EOS1 as usize
            }];
            let initial = i == r.start || p.open;
            let run_feat = if run.contains(&i) {
                let len = (run.end - run.start).min(4) as u64 - 1;
                let pos = if run.end - run.start == 1 {
                    3
                } else if i == run.start {
                    0
                } else if i + 1 == run.end {
                    2
                } else {
                    1
                };
                Some(D_RUN + len * 4 + pos)
            } else if i > r.start && i + 1 < r.end && cap(&out, i - 1) && cap(&out, i + 1) {
                Some(D_RUN + 16)
            } else {
                None
            };
            let f = &mut out.ctx;
            f.extend_from_slice(&[
                mix(15, mix(p.lower, t.lower)),
                mix(16, mix(t.lower, x.lower)),
                mix(17, mix(p.shape, t.shape)),
                mix(18, mix(t.shape, x.shape)),
                mix(19, mix(t.shape, u64::from(initial))),
                mix(20, mix(p.lower, t.shape)),
                mix(21, mix(t.shape, x.lower)),
            ]);
            // gazetteer flags combined with sentence position
            let own = out.flags[i];
            if own & flag::PLACE_B != 0 {
                f.push(mix(35, mix(u64::from(own), u64::from(initial))));
            }
            let cap_class = match t.first {
                1 if initial => 1,
                1 => 2,
                2 => 0,
                _ => 3,
            };
            f.push(D_FREQ + u64::from(t.freq) * 4 + cap_class);
            if let Some(x) = run_feat {
                f.push(x);
            }
            if t.first == 1 {
                let s = stats[lower_of[ty] as usize];
                let seen_lower = u64::from(s & 1);
                let seen_mid = u64::from(s >> 1 & 1);
                f.push(D_DOC + seen_lower * 4 + seen_mid * 2 + u64::from(initial));
            }
            out.ctx_off
                .push(u32::try_from(out.ctx.len()).unwrap_or(u32::MAX));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for (w, s) in [
            ("Putin", "Xxxx"),
            ("KCNA", "XXX"),
            ("2019", "ddd"),
            ("U.S.", "X.X."),
            ("Jong-un", "Xxxx-xx"),
        ] {
            assert_eq!(shape(w), s, "{w}");
        }
        assert_eq!(suffix("Putin", 3), "tin");
        assert_eq!(suffix("ab", 3), "ab");
        assert_eq!(suffix("Müller", 3), "ler");
        assert_eq!(suffix("ßé", 3), "ßé");
        assert_eq!(prefix("Pu", 3), "Pu");
        for w in ["Putin", "KCNA", "Jong-un", "Müller", "“", "ÉTÉ", "2019"] {
            assert_eq!(shape_hash(w), hash_str(&shape(w)), "{w}");
        }
    }

    #[test]
    fn hashes_are_stable_and_distinct() {
        assert_eq!(hash_str("Putin"), hash_str("Putin"));
        assert_ne!(hash_str("Putin"), hash_str("putin"));
        assert_ne!(hash_str(""), hash_str("a"));
        assert_ne!(hash_str("abcdefgh"), hash_str("abcdefgh\0"));
        assert_eq!(
            seq_hash("North Korea"),
            seq_push(seq_push(SEQ_SEED, hash_str("North")), hash_str("Korea"))
        );
    }

    #[test]
    fn features_of_a_document() {
        let gaz = Gazetteer::load();
        let words = [
            "Putin", "met", "Kim", "in", "Moscow", ".", "Kim", "left", ".",
        ];
        let doc = doc_features(&words, &[0..6, 6..9], &gaz);
        assert_eq!(doc.tokens(), 9);
        assert_eq!(doc.len(), 2);
        // "Kim" and "." are one type each, and one unit
        assert_eq!(doc.tok_type[2], doc.tok_type[6]);
        assert_eq!(doc.tok_unit[2], doc.tok_unit[6]);
        assert_eq!(doc.tok_type[5], doc.tok_type[8]);
        assert_eq!(doc.types.len(), 4 + 7);
        assert!(doc.flags[4] & flag::PLACE_B != 0);
        // neighbours outside the sentence are the pseudo types
        let nb = doc.neighbours(&(6..9), 6);
        assert_eq!(nb[1], BOS1);
        assert_eq!(nb[2], BOS2);
        let nb = doc.neighbours(&(6..9), 8);
        assert_eq!(nb[3], EOS1);
        assert_eq!(nb[4], EOS2);
        let mut all = Vec::new();
        doc.static_features(&(0..6), 0, &mut all);
        assert!(all.contains(&D_BIAS));
        assert!(all.iter().filter(|&&f| f < DENSE).count() >= 2);
    }
}
