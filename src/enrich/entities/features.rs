//! Feature extraction for the tagger. Features are 64-bit hashes (template id mixed with the
//! hashed value), computed once per token; the only features that depend on the decoder's
//! history (previous tags) are added in [`super::perceptron::Model::tag`].

use std::ops::Range;

use xxhash_rust::xxh3::xxh3_64;

use super::gazetteer::{flag, Gazetteer, Hit};
use crate::hash::IdSet;

/// Mixes two hashes into one (order-sensitive).
#[inline]
pub fn mix(a: u64, b: u64) -> u64 {
    (a.rotate_left(23) ^ b)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(31)
}

#[inline]
fn h(s: &str) -> u64 {
    xxh3_64(s.as_bytes())
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
    let class = |c: char| {
        if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_ascii_digit() {
            'd'
        } else {
            c
        }
    };
    capped_runs(word.chars().map(class), |s| out.push(s));
}

/// Passes on the shape classes of a word, keeping at most three of each run.
#[inline]
fn capped_runs<T: PartialEq + Copy>(classes: impl Iterator<Item = T>, mut keep: impl FnMut(T)) {
    let mut last = None;
    let mut run = 0;
    for s in classes {
        if last == Some(s) {
            run += 1;
        } else {
            run = 1;
            last = Some(s);
        }
        if run <= 3 {
            keep(s);
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

/// Longest word the hash fast paths below lower-case or shape on the stack.
const SHORT_WORD: usize = 32;

/// `h(lower_into(w, buf))`: the hash of the lower-cased word. Short ASCII words (nearly all)
/// are lower-cased into a stack array instead of the `String`.
pub fn lower_hash(w: &str, buf: &mut String) -> u64 {
    let bytes = w.as_bytes();
    if bytes.len() <= SHORT_WORD && bytes.is_ascii() {
        let mut lower = [0u8; SHORT_WORD];
        for (l, b) in lower.iter_mut().zip(bytes) {
            *l = b.to_ascii_lowercase();
        }
        return xxh3_64(&lower[..bytes.len()]);
    }
    h(lower_into(w, buf))
}

/// Shape class of each byte for [`token_hashes`]: `X` upper-case ASCII letter, `x` lower-case,
/// `d` digit, any other byte itself (as [`shape`] keeps other characters).
const SHAPE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = match c {
            b'A'..=b'Z' => b'X',
            b'a'..=b'z' => b'x',
            b'0'..=b'9' => b'd',
            _ => c,
        };
        b += 1;
    }
    table
};

/// Both hashes of a word, `h` of its lower-case form ([`lower_hash`]) and of its
/// [`shape`], in one pass over a short ASCII word's bytes (every token of a document needs
/// both; one pass instead of two saves ~27 K instructions per GUM story). Other words go
/// through the `String` versions.
fn token_hashes(w: &str, buf: &mut String) -> TokenHashes {
    let bytes = w.as_bytes();
    if bytes.len() <= SHORT_WORD && bytes.is_ascii() {
        let mut lower = [0u8; SHORT_WORD];
        let mut shape = [0u8; SHORT_WORD];
        let (mut n, mut last, mut run) = (0, 0u8, 0u32);
        for (l, &b) in lower.iter_mut().zip(bytes) {
            *l = b.to_ascii_lowercase();
            let class = SHAPE_CLASS[usize::from(b)];
            // runs of one class are kept up to three long, as `capped_runs` does
            run = if class == last && run > 0 { run + 1 } else { 1 };
            last = class;
            if run <= 3 {
                shape[n] = class;
                n += 1;
            }
        }
        return TokenHashes {
            lower: xxh3_64(&lower[..bytes.len()]),
            shape: xxh3_64(&shape[..n]),
        };
    }
    let lower = h(lower_into(w, buf));
    shape_into(w, buf);
    TokenHashes {
        lower,
        shape: h(buf),
    }
}

fn prefix(s: &str, n: usize) -> &str {
    // ASCII (nearly every word): characters are bytes
    if s.is_ascii() {
        return &s[..n.min(s.len())];
    }
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
        // only when n = 0: the empty suffix
        None => "",
    }
}

fn is_cap(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

fn is_open_punct(w: &str) -> bool {
    matches!(
        w,
        "\"" | "“" | "'" | "‘" | "(" | "[" | "-" | "–" | "—" | ":"
    )
}

/// Frequency class of a word as English (Zipf ×100 from the embedded, case-folded lexicon):
/// 0 for unknown words (most rare names), then rare … very common.
fn zipf_class(w: &str) -> u64 {
    match crate::normalise::Lexicon::get().zipf(w) {
        None => 0,
        Some(z) if z < 300 => 1,
        Some(z) if z < 400 => 2,
        Some(z) if z < 500 => 3,
        Some(z) if z < 600 => 4,
        Some(_) => 5,
    }
}

/// Whether a sentence is written in headline Title Case (or all capitals): every longer word
/// after the first is capitalised, so capitalisation says little about names. Body sentences
/// almost always have a lower-case word of five letters or more ("wrote", "leader").
fn title_case(sent: &[&str]) -> bool {
    let mut words = 0usize;
    for w in sent.iter().skip(1) {
        let Some(c) = w.chars().next() else { continue };
        if !c.is_alphabetic() || w.chars().count() < 5 {
            continue;
        }
        if !c.is_uppercase() {
            return false;
        }
        words += 1;
    }
    words >= 2
}

/// Per-token hashes shared by several templates.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenHashes {
    /// The lower-cased word.
    pub lower: u64,
    /// Its shape.
    pub shape: u64,
}

/// The static features of one sentence: a view into [`DocFeatures`].
#[derive(Debug, Clone, Copy)]
pub struct SentFeatures<'a> {
    feats: &'a [u64],
    /// Token `i` has `feats[offsets[i]..offsets[i + 1]]`.
    offsets: &'a [u32],
}

impl<'a> SentFeatures<'a> {
    /// A view over flat feature hashes; `offsets` has one entry per token plus one.
    pub fn new(feats: &'a [u64], offsets: &'a [u32]) -> Self {
        Self { feats, offsets }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether the sentence has no tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The feature hashes of token `i`.
    #[inline]
    pub fn token(&self, i: usize) -> &'a [u64] {
        &self.feats[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// Static features of every token of a document, stored flat (one allocation for all).
#[derive(Debug, Default)]
pub struct DocFeatures {
    feats: Vec<u64>,
    offsets: Vec<u32>,
    sents: Vec<Range<usize>>,
    /// Per sentence, per token: hashes used by history features.
    pub hashes: Vec<Vec<TokenHashes>>,
    /// Per sentence, per token: gazetteer and word-list flags.
    pub flags: Vec<Vec<u16>>,
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

    /// The features of sentence `si`.
    pub fn sentence(&self, si: usize) -> SentFeatures<'_> {
        let r = &self.sents[si];
        SentFeatures::new(&self.feats, &self.offsets[r.start..=r.end])
    }
}

const BOS: u64 = 0x5151_5151;
const EOS: u64 = 0x7272_7272;

/// What the tagger needs to know about a document before it computes any token's features:
/// per-token hashes and gazetteer flags, which sentences are in Title Case, and the document
/// statistics (words seen in lower case, capitalised words seen mid-sentence). A token's
/// own features are computed from it on demand ([`DocContext::token_features`]), so the
/// tagger can skip the tokens that cannot start a name. The gazetteer scan that flags the
/// tokens also finds the place and demonym hits post-processing falls back on, so they are
/// kept here rather than looked up again.
#[derive(Debug)]
pub struct DocContext<'s> {
    sentences: &'s [Vec<&'s str>],
    lower_seen: IdSet,
    cap_mid: IdSet,
    titled: Vec<bool>,
    /// Per sentence, per token: hashes used by history features.
    pub hashes: Vec<Vec<TokenHashes>>,
    /// Per sentence, per token: gazetteer and word-list flags.
    pub flags: Vec<Vec<u16>>,
    /// Per sentence: its gazetteer hits (token indices within the sentence).
    pub hits: Vec<Vec<Hit>>,
    /// Per sentence, per token: see [`DocContext::cannot_begin_name`].
    cannot_begin: Vec<Vec<bool>>,
}

/// See [`DocContext::cannot_begin_name`].
fn cannot_begin(w: &str, flags: u16) -> bool {
    if flags != 0 {
        return false;
    }
    let Some(first) = w.chars().next() else {
        return true;
    };
    if first.is_lowercase() {
        !is_name_particle(w) && !w.contains(['\'', '’'])
    } else {
        !first.is_alphanumeric() && !w.chars().any(char::is_alphanumeric)
    }
}

/// Lower-case words that begin names ("de Gaulle", "van Gogh", "al-Assad", "bin Salman").
fn is_name_particle(w: &str) -> bool {
    matches!(
        w,
        "al" | "bin"
            | "d"
            | "da"
            | "das"
            | "de"
            | "del"
            | "della"
            | "der"
            | "des"
            | "di"
            | "do"
            | "dos"
            | "du"
            | "el"
            | "la"
            | "le"
            | "ten"
            | "ter"
            | "van"
            | "von"
            | "y"
    )
}

impl<'s> DocContext<'s> {
    /// Reads the document given as sentences of words.
    pub fn new(sentences: &'s [Vec<&'s str>], gaz: &Gazetteer) -> Self {
        let tokens: usize = sentences.iter().map(Vec::len).sum();
        let mut lower_seen = IdSet::with_capacity_and_hasher(tokens, Default::default());
        let mut cap_mid = IdSet::with_capacity_and_hasher(tokens / 4, Default::default());
        let mut buf = String::with_capacity(32);
        let titled: Vec<bool> = sentences.iter().map(|s| title_case(s)).collect();
        let hashes: Vec<Vec<TokenHashes>> = sentences
            .iter()
            .map(|sent| sent.iter().map(|w| token_hashes(w, &mut buf)).collect())
            .collect();
        for ((sent, &tc), sent_hashes) in sentences.iter().zip(&titled).zip(&hashes) {
            for (i, w) in sent.iter().enumerate() {
                let initial = i == 0 || is_open_punct(sent[i - 1]);
                if w.chars().next().is_some_and(char::is_lowercase) {
                    lower_seen.insert(h(w));
                } else if is_cap(w) && !initial && !tc {
                    // the hash of the lower-cased word, computed above
                    cap_mid.insert(sent_hashes[i].lower);
                }
            }
        }
        let mut lower = Vec::new();
        let (flags, hits): (Vec<Vec<u16>>, Vec<Vec<Hit>>) = sentences
            .iter()
            .zip(&hashes)
            .map(|(s, hs)| {
                lower.clear();
                lower.extend(hs.iter().map(|t| t.lower));
                let scan = gaz.scan(s, &lower);
                (scan.flags, scan.hits)
            })
            .unzip();
        let cannot_begin = sentences
            .iter()
            .zip(&flags)
            .map(|(sent, fl)| {
                sent.iter()
                    .zip(fl)
                    .map(|(w, &f)| cannot_begin(w, f))
                    .collect()
            })
            .collect();
        Self {
            sentences,
            lower_seen,
            cap_mid,
            titled,
            hashes,
            flags,
            hits,
            cannot_begin,
        }
    }

    /// Whether token `i` of sentence `si` cannot begin a name, so that after an O tag the
    /// tagger may tag it O without scoring it: a token with no letter or digit, or a word
    /// starting with a lower-case letter that is neither a name particle (`de`, `van`,
    /// `al`…) nor elided (`d'Herbinville`), in both cases with no gazetteer or word-list
    /// flag. On the GUM training and dev documents this changes the committed model's tags
    /// in about one sentence in 200, mostly e-mail addresses and formulas
    /// (`postprocess::tests::skipping_cannot_begin_tokens_keeps_the_tags`).
    #[inline]
    pub fn cannot_begin_name(&self, si: usize, i: usize) -> bool {
        self.cannot_begin[si][i]
    }

    /// Appends the static features of token `i` of sentence `si` to `out` (`buf` is
    /// scratch space): [`DocContext::word_features`] then [`DocContext::context_features`].
    pub fn token_features(&self, si: usize, i: usize, buf: &mut String, out: &mut Vec<u64>) {
        self.word_features(si, i, buf, out);
        self.context_features(si, i, out);
    }

    /// A key for the word of token `i` of sentence `si` as written, the one thing
    /// [`DocContext::word_features`] depends on.
    pub fn word_key(&self, si: usize, i: usize) -> u64 {
        h(self.sentences[si][i])
    }

    /// Appends the features of token `i` of sentence `si` that depend on its word alone:
    /// the bias, the word, its lower-case form and shape, its prefix and suffixes.
    pub fn word_features(&self, si: usize, i: usize, buf: &mut String, out: &mut Vec<u64>) {
        let w = self.sentences[si][i];
        let hashes = &self.hashes[si][i];
        let lower = lower_into(w, buf);
        out.push(1);
        out.push(mix(2, h(w)));
        out.push(mix(3, hashes.lower));
        out.push(mix(4, hashes.shape));
        out.push(mix(5, h(prefix(lower, 3))));
        out.push(mix(6, h(suffix(lower, 2))));
        out.push(mix(7, h(suffix(lower, 3))));
        out.push(mix(8, h(suffix(lower, 4))));
    }

    /// Appends the static features of token `i` of sentence `si` that depend on where it
    /// stands: its neighbours, the sentence, the gazetteer flags and the document.
    pub fn context_features(&self, si: usize, i: usize, out: &mut Vec<u64>) {
        let sent = &self.sentences[si];
        let hashes = &self.hashes[si];
        let flags = &self.flags[si];
        let tc = self.titled[si];
        let n = sent.len();
        let lw = |j: isize| -> u64 {
            if j < 0 {
                BOS.wrapping_add(j.unsigned_abs() as u64)
            } else if j as usize >= n {
                EOS.wrapping_add(j as u64 - n as u64)
            } else {
                hashes[j as usize].lower
            }
        };
        let sh = |j: isize| -> u64 {
            if j < 0 {
                BOS
            } else if j as usize >= n {
                EOS
            } else {
                hashes[j as usize].shape
            }
        };
        let fl = |j: isize| -> u16 {
            if j < 0 || j as usize >= n {
                0
            } else {
                flags[j as usize]
            }
        };
        let w = sent[i];
        let ii = i as isize;
        let initial = i == 0 || is_open_punct(sent[i - 1]);
        let f = out;
        f.push(mix(9, lw(ii - 1)));
        f.push(mix(10, lw(ii - 2)));
        f.push(mix(11, lw(ii + 1)));
        f.push(mix(12, lw(ii + 2)));
        f.push(mix(13, sh(ii - 1)));
        f.push(mix(14, sh(ii + 1)));
        f.push(mix(15, mix(lw(ii - 1), lw(ii))));
        f.push(mix(16, mix(lw(ii), lw(ii + 1))));
        f.push(mix(17, mix(sh(ii - 1), sh(ii))));
        f.push(mix(18, mix(sh(ii), sh(ii + 1))));
        f.push(mix(19, mix(sh(ii), u64::from(initial))));
        f.push(mix(20, mix(lw(ii - 1), sh(ii))));
        f.push(mix(21, mix(sh(ii), lw(ii + 1))));
        // shape trigram and the words either side (skipping this one)
        f.push(mix(24, mix(mix(sh(ii - 1), sh(ii)), sh(ii + 1))));
        f.push(mix(25, mix(lw(ii - 1), lw(ii + 1))));
        if tc {
            f.push(mix(27, sh(ii)));
        }
        // at the start of a sentence capitals say little: how common the word is says
        // more ("However", "Police" vs a rare name). Not used mid-sentence, where the
        // frequency of famous names ("Putin", "London") would count against them.
        if initial {
            f.push(mix(28, zipf_class(w) * 2 + u64::from(is_cap(w))));
        }
        for (t, j) in [
            (30u64, ii),
            (31, ii - 1),
            (32, ii + 1),
            (33, ii + 2),
            (34, ii - 2),
        ] {
            let bits = fl(j);
            if bits == 0 {
                continue;
            }
            for b in 0..flag::COUNT {
                if bits & (1 << b) != 0 {
                    f.push(mix(t, u64::from(b)));
                }
            }
        }
        // gazetteer flag combined with capitalisation / sentence position
        if fl(ii) & flag::PLACE_B != 0 {
            f.push(mix(35, mix(u64::from(fl(ii)), u64::from(initial))));
        }
        if is_cap(w) {
            let key = hashes[i].lower;
            let seen_lower = self.lower_seen.contains(&key);
            let seen_mid = self.cap_mid.contains(&key);
            f.push(mix(
                40,
                u64::from(seen_lower) * 4 + u64::from(seen_mid) * 2 + u64::from(initial),
            ));
        }
    }
}

/// Builds the static features of every token of a document given as sentences of words
/// (for training, which scores every token).
pub fn doc_features(sentences: &[Vec<&str>], gaz: &Gazetteer) -> DocFeatures {
    let ctx = DocContext::new(sentences, gaz);
    let total: usize = sentences.iter().map(Vec::len).sum();
    let mut out = DocFeatures {
        feats: Vec::with_capacity(total * 32),
        offsets: Vec::with_capacity(total + 1),
        sents: Vec::with_capacity(sentences.len()),
        hashes: Vec::new(),
        flags: Vec::new(),
    };
    out.offsets.push(0);
    let mut buf = String::with_capacity(32);
    for (si, sent) in sentences.iter().enumerate() {
        let first_tok = out.offsets.len() - 1;
        for i in 0..sent.len() {
            ctx.token_features(si, i, &mut buf, &mut out.feats);
            out.offsets
                .push(u32::try_from(out.feats.len()).unwrap_or(u32::MAX));
        }
        out.sents.push(first_tok..first_tok + sent.len());
    }
    out.hashes = ctx.hashes;
    out.flags = ctx.flags;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn hash_fast_paths_match_the_string_versions(w in "[A-Za-z0-9.'&$\\-]{0,40}|\\PC{0,12}") {
            let mut buf = String::new();
            let want_lower = h(lower_into(&w, &mut buf));
            prop_assert_eq!(lower_hash(&w, &mut buf), want_lower);
            let both = token_hashes(&w, &mut buf);
            prop_assert_eq!(both.lower, want_lower);
            prop_assert_eq!(both.shape, h(&shape(&w)));
        }

        #[test]
        fn affixes_are_whole_characters(w in "[A-Za-z0-9.'&$\\-]{0,12}|\\PC{0,12}", n in 0usize..6) {
            let chars: Vec<char> = w.chars().collect();
            let want_prefix: String = chars.iter().take(n).collect();
            let want_suffix: String = chars[chars.len().saturating_sub(n)..].iter().collect();
            prop_assert_eq!(prefix(&w, n), want_prefix.as_str());
            prop_assert_eq!(suffix(&w, n), want_suffix.as_str());
        }
    }

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
        assert_eq!(prefix("Pu", 3), "Pu");
    }
}
