//! A greedy left-to-right averaged perceptron over BIO tags, its training, and its compact
//! binary model format (quantised 16-bit weights keyed by 64-bit feature hashes).

use std::sync::atomic::{AtomicU64, Ordering};

use super::features::{mix, SentFeatures, TokenHashes};
use crate::hash::IdMap;

/// The tag set: O plus B-/I- for person, organisation, place and other names.
pub const TAGS: [&str; 9] = [
    "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC",
];
/// Number of tags.
pub const NT: usize = TAGS.len();

/// Index of a tag name.
pub fn tag_index(name: &str) -> Option<usize> {
    TAGS.iter().position(|t| *t == name)
}

/// Whether tag `t` may follow `prev` (I-X only after B-X or I-X).
pub fn allowed(prev: usize, t: usize) -> bool {
    if t == 0 || t % 2 == 1 {
        return true;
    }
    // t is I-X; B-X is t - 1
    prev == t || prev == t - 1
}

/// History features: previous tag(s) combined with the token.
fn history(prev: usize, prev2: usize, tok: &TokenHashes, out: &mut [u64; 4]) {
    let p = prev as u64;
    out[0] = mix(50, p);
    out[1] = mix(51, p * 16 + prev2 as u64);
    out[2] = mix(52, mix(p, tok.lower));
    out[3] = mix(53, mix(p, tok.shape));
}

/// Why a model file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Wrong magic or version.
    #[error("not a copydesk NER model (bad magic)")]
    Magic,
    /// The file ends early.
    #[error("truncated NER model")]
    Truncated,
}

const MAGIC: &[u8; 8] = b"CDNER01\n";

/// One slot of the weight table: a 32-bit fingerprint of the feature hash (0 = empty) and
/// its quantised weights, 24 bytes. The slot index comes from the high bits of the hash and
/// the fingerprint from the low bits, so a false match needs 2^-31 luck on top of sharing a
/// probe run; the table stays ~1.5 MB for the shipped model.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
struct Slot {
    fp: u32,
    w: [i16; NT],
}

#[inline]
fn fingerprint(f: u64) -> u32 {
    (f as u32) | 1
}

/// A trained tagger: an open-addressing (linear probing, load ≤ 2/3) table of weights.
#[derive(Debug, Default)]
pub struct Model {
    slots: Vec<Slot>,
    shift: u32,
    len: usize,
    scale: f32,
    /// Tells models apart for caches of their scores ([`WordScores`]); 0 for the empty one.
    id: u64,
}

/// Source of [`Model::id`].
static NEXT_MODEL_ID: AtomicU64 = AtomicU64::new(1);

/// One tagged token: tag index and the margin of its score over the runner-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tagged {
    /// Tag index into [`TAGS`].
    pub tag: usize,
    /// Score margin over the best other allowed tag (model units).
    pub margin: f32,
}

impl Model {
    /// Reads a model written by [`Trainer::finish`]; an empty input is an empty model (tags
    /// everything O).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        if bytes.len() < 16 || &bytes[..8] != MAGIC {
            return Err(ModelError::Magic);
        }
        let scale = f32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let n = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        let rec = 8 + 2 * NT;
        let body = &bytes[16..];
        if body.len() < n * rec {
            return Err(ModelError::Truncated);
        }
        let cap = (n + n / 2).next_power_of_two().max(16);
        let shift = 64 - cap.trailing_zeros();
        let mut model = Self {
            slots: vec![Slot::default(); cap],
            shift,
            len: 0,
            scale,
            id: NEXT_MODEL_ID.fetch_add(1, Ordering::Relaxed),
        };
        for r in body.chunks_exact(rec).take(n) {
            let mut key = [0u8; 8];
            key.copy_from_slice(&r[..8]);
            let mut w = [0i16; NT];
            for (t, slot) in w.iter_mut().enumerate() {
                *slot = i16::from_le_bytes([r[8 + 2 * t], r[9 + 2 * t]]);
            }
            model.insert(u64::from_le_bytes(key), w);
        }
        Ok(model)
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Inserts a feature (keys in a model file are unique; a fingerprint twin goes to the
    /// next free slot and is shadowed, which the loader accepts as a ~2^-31 event).
    fn insert(&mut self, f: u64, w: [i16; NT]) {
        let fp = fingerprint(f);
        let mask = self.slots.len() - 1;
        let mut i = self.home(f);
        while self.slots[i].fp != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { fp, w };
        self.len += 1;
    }

    #[inline]
    fn get(&self, f: u64) -> Option<&[i16; NT]> {
        if self.slots.is_empty() {
            return None;
        }
        let fp = fingerprint(f);
        let mask = self.slots.len() - 1;
        let mut i = self.home(f);
        loop {
            let slot = &self.slots[i];
            if slot.fp == fp {
                return Some(&slot.w);
            }
            if slot.fp == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Asks the CPU to start loading the slot of feature `f` (the table is larger than L2).
    #[inline]
    fn prefetch(&self, f: u64) {
        #[cfg(target_arch = "x86_64")]
        if let Some(slot) = self.slots.get(self.home(f)) {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: prefetching is a hint; any address is allowed and this one is valid.
            #[allow(unused_unsafe)]
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(slot).cast::<i8>());
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = f;
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the model has no features.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn add(&self, f: u64, scores: &mut [i32; NT]) {
        if let Some(w) = self.get(f) {
            for t in 0..NT {
                scores[t] += i32::from(w[t]);
            }
        }
    }

    /// The summed weights of `feats`.
    pub fn scores(&self, feats: &[u64]) -> [i32; NT] {
        let mut scores = [0; NT];
        for &f in feats {
            self.add(f, &mut scores);
        }
        scores
    }

    /// Tags one sentence greedily, given every token's static features.
    pub fn tag(&self, feats: SentFeatures<'_>, hashes: &[TokenHashes]) -> Vec<Tagged> {
        let n = feats.len().min(hashes.len());
        self.tag_with(
            &hashes[..n],
            |i, out, _| out.extend_from_slice(feats.token(i)),
            |_| false,
        )
    }

    /// Tags one sentence greedily. `features(i, out, partial)` gives token `i`'s static
    /// features: it appends them to `out`, or adds the summed weights of some of them to
    /// `partial` (zero when called) instead, as [`WordScores`] does for the word's own. A
    /// token for which `cannot_begin(i)` holds is tagged O without being scored when the
    /// previous tag is O (so only the features of tokens that are scored are computed).
    pub fn tag_with(
        &self,
        hashes: &[TokenHashes],
        mut features: impl FnMut(usize, &mut Vec<u64>, &mut [i32; NT]),
        cannot_begin: impl Fn(usize) -> bool,
    ) -> Vec<Tagged> {
        let n = hashes.len();
        let mut out = Vec::with_capacity(n);
        let (mut prev, mut prev2) = (0usize, 0usize);
        let mut hist = [0u64; 4];
        let mut feats: Vec<u64> = Vec::with_capacity(64);
        // The weight table is larger than L2, so a lookup waits on memory unless its load
        // was started early: the features of the next token that will be scored whatever
        // the tags are (`ahead_at`) are computed and their slots prefetched one scored
        // token in advance.
        let mut ahead: Vec<u64> = Vec::with_capacity(64);
        let mut ahead_partial = [0i32; NT];
        let mut ahead_at = usize::MAX;
        let mut scanned = 0;
        for (i, tok) in hashes.iter().enumerate() {
            let best = if prev == 0 && cannot_begin(i) {
                out.push(Tagged {
                    tag: 0,
                    margin: 0.0,
                });
                0
            } else {
                let partial = if ahead_at == i {
                    std::mem::swap(&mut feats, &mut ahead);
                    ahead_at = usize::MAX;
                    ahead_partial
                } else {
                    feats.clear();
                    let mut partial = [0; NT];
                    features(i, &mut feats, &mut partial);
                    feats.iter().for_each(|&x| self.prefetch(x));
                    partial
                };
                if ahead_at == usize::MAX {
                    let mut j = (i + 1).max(scanned);
                    while j < n && cannot_begin(j) {
                        j += 1;
                    }
                    scanned = j + 1;
                    if j < n {
                        ahead.clear();
                        ahead_partial = [0; NT];
                        features(j, &mut ahead, &mut ahead_partial);
                        ahead.iter().for_each(|&x| self.prefetch(x));
                        ahead_at = j;
                    }
                }
                history(prev, prev2, tok, &mut hist);
                let mut scores = partial;
                for &x in feats.iter().chain(&hist) {
                    self.add(x, &mut scores);
                }
                let (best, margin) = best_allowed(prev, &scores);
                out.push(Tagged {
                    tag: best,
                    margin: margin as f32 * self.scale,
                });
                best
            };
            prev2 = prev;
            prev = best;
        }
        out
    }
}

fn best_allowed<T: Copy + PartialOrd + std::ops::Sub<Output = T>>(
    prev: usize,
    scores: &[T; NT],
) -> (usize, T) {
    let mut best = 0;
    for t in 1..NT {
        if allowed(prev, t) && scores[t] > scores[best] {
            best = t;
        }
    }
    let mut second: Option<usize> = None;
    for t in 0..NT {
        if t != best && allowed(prev, t) && second.is_none_or(|s| scores[t] > scores[s]) {
            second = Some(t);
        }
    }
    let margin = match second {
        Some(s) => scores[best] - scores[s],
        // No other tag is allowed: the margin is zero (computed in T, which has no literal).
        #[allow(clippy::eq_op)]
        None => scores[best] - scores[best],
    };
    (best, margin)
}

/// The summed weights of the features that depend on a word alone (the bias, the word, its
/// lower-case form, shape, prefix and suffixes: `DocContext::word_features`), per word seen
/// before. A story's scored tokens are mostly names, which recur across a wire's stories
/// ("Putin", "Ukraine"), so most tokens look up one entry here instead of hashing the word
/// four more times and looking up eight features in the model's table. Per thread (each
/// worker keeps its own) and per model; emptied when full, so its size is bounded. Share of
/// lookups answered here: 70 % over 59 texts of GUM's training documents read once, 90 % on
/// GUM's news dev stories read four times, 99.8 % on `copydesk bench`'s corpus.
#[derive(Debug, Default)]
pub struct WordScores {
    model: u64,
    words: IdMap<[i32; NT]>,
    scratch: Vec<u64>,
}

impl WordScores {
    /// Most words kept. The table is allocated at this size on first use, so that memory
    /// does not grow with the stories seen: 4,096 buckets of 48 bytes, ~200 KB, which stays
    /// in a core's L2. (32,768 words, ~3 MB a thread, was no faster.)
    const MAX_WORDS: usize = 3_584;

    /// The scores of the word keyed `key` (a hash of the word as written) under `model`;
    /// `word_features` appends its features when it is not known yet.
    pub fn get(
        &mut self,
        model: &Model,
        key: u64,
        word_features: impl FnOnce(&mut Vec<u64>),
    ) -> [i32; NT] {
        if self.model != model.id || self.words.capacity() < Self::MAX_WORDS {
            self.words = IdMap::with_capacity_and_hasher(Self::MAX_WORDS, Default::default());
            self.model = model.id;
        }
        if let Some(scores) = self.words.get(&key) {
            return *scores;
        }
        if self.words.len() >= Self::MAX_WORDS {
            // clear() keeps the allocation
            self.words.clear();
        }
        self.scratch.clear();
        word_features(&mut self.scratch);
        let scores = model.scores(&self.scratch);
        self.words.insert(key, scores);
        scores
    }
}

#[derive(Clone, Copy, Default)]
struct Param {
    w: [f32; NT],
    total: [f64; NT],
    stamp: [u32; NT],
}

/// Averaged-perceptron trainer.
#[derive(Default)]
pub struct Trainer {
    params: IdMap<Param>,
    step: u32,
}

impl Trainer {
    /// A fresh trainer.
    pub fn new() -> Self {
        Self::default()
    }

    fn scores(&self, feats: &[u64], hist: &[u64; 4]) -> [f32; NT] {
        let mut s = [0f32; NT];
        for f in feats.iter().chain(hist) {
            if let Some(p) = self.params.get(f) {
                for (slot, w) in s.iter_mut().zip(p.w) {
                    *slot += w;
                }
            }
        }
        s
    }

    fn update(&mut self, truth: usize, guess: usize, feats: &[u64], hist: &[u64; 4]) {
        let step = self.step;
        for &f in feats.iter().chain(hist) {
            let p = self.params.entry(f).or_default();
            for (t, d) in [(truth, 1.0f32), (guess, -1.0)] {
                p.total[t] += f64::from(step - p.stamp[t]) * f64::from(p.w[t]);
                p.stamp[t] = step;
                p.w[t] += d;
            }
        }
    }

    /// One pass over one sentence with gold tags; returns the number of tokens tagged right.
    pub fn train_sentence(
        &mut self,
        feats: SentFeatures<'_>,
        hashes: &[TokenHashes],
        gold: &[usize],
    ) -> usize {
        let (mut prev, mut prev2) = (0usize, 0usize);
        let mut hist = [0u64; 4];
        let mut right = 0;
        for (i, (tok, &truth)) in hashes.iter().zip(gold).enumerate().take(feats.len()) {
            let f = feats.token(i);
            self.step += 1;
            history(prev, prev2, tok, &mut hist);
            let scores = self.scores(f, &hist);
            let (guess, _) = best_allowed(prev, &scores);
            if guess == truth {
                right += 1;
            } else {
                self.update(truth, guess, f, &hist);
            }
            prev2 = prev;
            // predicted history, as at tagging time
            prev = guess;
        }
        right
    }

    /// Averages, prunes features whose largest averaged weight is below `min_weight`,
    /// quantises and serialises the model. Deterministic: records are sorted by key.
    pub fn finish(&self, min_weight: f32) -> Vec<u8> {
        let step = f64::from(self.step.max(1));
        let mut avg: Vec<(u64, [f32; NT])> = Vec::with_capacity(self.params.len());
        let mut max_abs = 0f32;
        for (&k, p) in &self.params {
            let mut w = [0f32; NT];
            for (t, slot) in w.iter_mut().enumerate() {
                let total = p.total[t] + (step - f64::from(p.stamp[t])) * f64::from(p.w[t]);
                *slot = (total / step) as f32;
            }
            let m = w.iter().fold(0f32, |a, &b| a.max(b.abs()));
            if m >= min_weight {
                max_abs = max_abs.max(m);
                avg.push((k, w));
            }
        }
        avg.sort_by_key(|&(k, _)| k);
        let scale = if max_abs > 0.0 {
            max_abs / 32767.0
        } else {
            1.0
        };
        let mut out = Vec::with_capacity(16 + avg.len() * (8 + 2 * NT));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&scale.to_le_bytes());
        out.extend_from_slice(&u32::try_from(avg.len()).unwrap_or(u32::MAX).to_le_bytes());
        for (k, w) in avg {
            out.extend_from_slice(&k.to_le_bytes());
            for x in w {
                let q = (x / scale).round().clamp(-32767.0, 32767.0) as i16;
                out.extend_from_slice(&q.to_le_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bio_constraint() {
        assert!(allowed(0, 1));
        assert!(!allowed(0, 2));
        assert!(allowed(1, 2));
        assert!(allowed(2, 2));
        assert!(!allowed(3, 2));
    }

    #[test]
    fn learns_and_round_trips() {
        let mut tr = Trainer::new();
        let flat = [1, 100, 1, 200, 1, 0];
        let offsets = [0, 2, 4, 6];
        let feats = SentFeatures::new(&flat, &offsets);
        let hashes = vec![TokenHashes::default(); 3];
        let gold = vec![1, 2, 0];
        for _ in 0..5 {
            tr.train_sentence(feats, &hashes, &gold);
        }
        let model = Model::from_bytes(&tr.finish(0.0)).unwrap();
        assert!(model.len() >= 5);
        let tags: Vec<usize> = model.tag(feats, &hashes).iter().map(|t| t.tag).collect();
        assert_eq!(tags, gold);
        assert!(Model::from_bytes(b"nonsense-bytes-here").is_err());
    }
}
