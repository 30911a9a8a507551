//! A greedy left-to-right averaged perceptron over BIO tags, its training, and its compact
//! binary model format (quantised 16-bit weights keyed by 64-bit feature hashes).
//!
//! Tagging a document costs one hash-table probe per distinct (feature, weights) pair it
//! needs: the weights of type features (a word and its neighbours, see
//! [`super::features::role_features`]) are summed once per distinct word and role, dense
//! features (flags, previous tags, bias) are read from a small array, and only word and
//! shape bigrams and the tag-and-word history features are probed per token. The table is
//! split into a 4-byte fingerprint array that probing walks (512 KiB for the shipped model,
//! so misses stay in L2) and a parallel weight array read only on a hit.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use super::features::{history, mix, DocFeatures, DENSE, ROLES};

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

/// Hasher for keys that already are hashes.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Why a model file cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    /// Wrong magic or version.
    #[error("not a copydesk NER model of this version (bad magic; expected CDNER02)")]
    Magic,
    /// The file ends early or has trailing bytes.
    #[error("NER model length does not match its header ({0} records declared)")]
    Length(u32),
    /// The weight scale is not a positive finite number.
    #[error("NER model has an invalid weight scale")]
    Scale,
}

const MAGIC: &[u8; 8] = b"CDNER02\n";
const HEADER: usize = 16;
/// Weights stored per feature: tags 1.. relative to tag 0 (O). Adding a constant to all of a
/// feature's weights changes no decision and no margin, so the O weight is made zero and
/// left out; eight 16-bit weights fill one SSE register.
const NW: usize = NT - 1;
const RECORD: usize = 8 + 2 * NW;

#[inline]
fn fingerprint(f: u64) -> u32 {
    (f as u32) | 1
}

type Scores = [i32; NW];

/// A trained tagger: dense features in an array, the others in an open-addressing table
/// (linear probing, load ≤ 2/3) of 32-bit fingerprints with a parallel weight array. The
/// slot index comes from the high bits of the key and the fingerprint from the low bits, so
/// a false match needs 2^-31 luck on top of sharing a probe run.
#[derive(Debug)]
pub struct Model {
    fps: Vec<u32>,
    weights: Vec<[i16; NW]>,
    dense: Vec<Scores>,
    shift: u32,
    len: usize,
    scale: f32,
    /// Process-unique id, so that per-thread caches of summed weights never outlive it.
    serial: u64,
}

fn next_serial() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Summed weights of one unit (word type with flags) in each role, and of its history
/// features after an O, cached per thread across documents: the same words recur story after
/// story.
#[derive(Clone, Copy)]
struct CachedUnit {
    key: u64,
    serial: u64,
    roles: [Scores; ROLES],
    after_o: Scores,
}

const UNIT_CACHE_BITS: u32 = 11;

thread_local! {
    static UNIT_CACHE: RefCell<Vec<CachedUnit>> = const { RefCell::new(Vec::new()) };
}

impl Default for Model {
    /// The empty model (tags everything O).
    fn default() -> Self {
        Self {
            fps: vec![0; 16],
            weights: vec![[0; NW]; 16],
            dense: vec![[0; NW]; DENSE as usize],
            shift: 60,
            len: 0,
            scale: 1.0,
            serial: next_serial(),
        }
    }
}

/// One tagged token: tag index and the margin of its score over the runner-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tagged {
    /// Tag index into [`TAGS`].
    pub tag: usize,
    /// Score margin over the best other allowed tag (model units).
    pub margin: f32,
}

#[inline]
fn add_to(scores: &mut Scores, w: &Scores) {
    for (s, x) in scores.iter_mut().zip(w) {
        *s += x;
    }
}

impl Model {
    /// Reads a model written by [`Trainer::finish`]; an empty input is an empty model (tags
    /// everything O). Any other input that is not exactly such a file is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return Err(ModelError::Magic);
        }
        let scale = f32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if !scale.is_finite() || scale <= 0.0 {
            return Err(ModelError::Scale);
        }
        let declared = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        let n = declared as usize;
        let body = &bytes[HEADER..];
        if n.checked_mul(RECORD) != Some(body.len()) {
            return Err(ModelError::Length(declared));
        }
        let cap = (n + n / 2).next_power_of_two().max(16);
        let mut model = Self {
            fps: vec![0; cap],
            weights: vec![[0; NW]; cap],
            dense: vec![[0; NW]; DENSE as usize],
            shift: 64 - cap.trailing_zeros(),
            len: 0,
            scale,
            serial: next_serial(),
        };
        for r in body.chunks_exact(RECORD) {
            let mut key = [0u8; 8];
            key.copy_from_slice(&r[..8]);
            let mut w = [0i16; NW];
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
    fn insert(&mut self, f: u64, w: [i16; NW]) {
        self.len += 1;
        if f < DENSE {
            self.dense[f as usize] = w.map(i32::from);
            return;
        }
        let mask = self.fps.len() - 1;
        let mut i = self.home(f);
        while self.fps[i] != 0 {
            i = (i + 1) & mask;
        }
        self.fps[i] = fingerprint(f);
        self.weights[i] = w;
    }

    /// Adds the weights of feature `f` (dense or hashed) to `scores`.
    #[inline]
    fn add(&self, f: u64, scores: &mut Scores) {
        if f < DENSE {
            add_to(scores, &self.dense[f as usize]);
            return;
        }
        let fp = fingerprint(f);
        let mask = self.fps.len() - 1;
        let mut i = self.home(f);
        loop {
            let slot = self.fps[i];
            if slot == fp {
                for (s, &x) in scores.iter_mut().zip(&self.weights[i]) {
                    *s += i32::from(x);
                }
                return;
            }
            if slot == 0 {
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the model has no features.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Tags every sentence of a document greedily; one [`Tagged`] per token, in document
    /// order.
    pub fn tag_doc(&self, doc: &DocFeatures) -> Vec<Tagged> {
        let mut out = Vec::with_capacity(doc.tokens());
        if self.is_empty() {
            out.resize(
                doc.tokens(),
                Tagged {
                    tag: 0,
                    margin: 0.0,
                },
            );
            return out;
        }
        // unit features: summed once per distinct (word, flags) and role, and the
        // word-and-tag history features after an O (the usual case)
        let mut by_unit: Vec<[Scores; ROLES]> = Vec::with_capacity(doc.units.len());
        let mut after_o: Vec<Scores> = Vec::with_capacity(doc.units.len());
        UNIT_CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.is_empty() {
                cache.resize(
                    1 << UNIT_CACHE_BITS,
                    CachedUnit {
                        key: 0,
                        serial: 0,
                        roles: [[0; NW]; ROLES],
                        after_o: [0; NW],
                    },
                );
            }
            for (u, unit) in (0u32..).zip(&doc.units) {
                let t = &doc.types[unit.ty as usize];
                let key = mix(t.word, u64::from(unit.flags) + 1);
                let slot = &mut cache[(key >> (64 - UNIT_CACHE_BITS)) as usize];
                if slot.key != key || slot.serial != self.serial || u < 4 {
                    let mut roles = [[0; NW]; ROLES];
                    for (role, scores) in roles.iter_mut().enumerate() {
                        doc.unit_features(u, role, |x| self.add(x, scores));
                    }
                    let mut hist = [0; NW];
                    for &x in &history(0, 0, t)[2..] {
                        self.add(x, &mut hist);
                    }
                    *slot = CachedUnit {
                        key,
                        serial: self.serial,
                        roles,
                        after_o: hist,
                    };
                }
                by_unit.push(slot.roles);
                after_o.push(slot.after_o);
            }
        });
        for si in 0..doc.len() {
            let sent = doc.sentence(si);
            let (mut prev, mut prev2) = (0usize, 0usize);
            for i in sent.clone() {
                let nb = doc.neighbours(&sent, i);
                let mut scores = by_unit[nb[0] as usize][0];
                for role in 1..ROLES {
                    add_to(&mut scores, &by_unit[nb[role] as usize][role]);
                }
                for &x in doc.context(i) {
                    self.add(x, &mut scores);
                }
                let ty = doc.tok_type[i] as usize;
                let hist = history(prev, prev2, &doc.types[ty]);
                self.add(hist[0], &mut scores);
                self.add(hist[1], &mut scores);
                if prev == 0 {
                    add_to(&mut scores, &after_o[nb[0] as usize]);
                } else {
                    self.add(hist[2], &mut scores);
                    self.add(hist[3], &mut scores);
                }
                let mut all = [0i32; NT];
                all[1..].copy_from_slice(&scores);
                let (best, margin) = best_allowed(prev, &all);
                out.push(Tagged {
                    tag: best,
                    margin: margin as f32 * self.scale,
                });
                prev2 = prev;
                prev = best;
            }
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

    fn scores(&self, feats: &[u64]) -> [f32; NT] {
        let mut s = [0f32; NT];
        for f in feats {
            if let Some(p) = self.params.get(f) {
                for (slot, w) in s.iter_mut().zip(p.w) {
                    *slot += w;
                }
            }
        }
        s
    }

    fn update(&mut self, truth: usize, guess: usize, feats: &[u64]) {
        let step = self.step;
        for &f in feats {
            let p = self.params.entry(f).or_default();
            for (t, d) in [(truth, 1.0f32), (guess, -1.0)] {
                p.total[t] += f64::from(step - p.stamp[t]) * f64::from(p.w[t]);
                p.stamp[t] = step;
                p.w[t] += d;
            }
        }
    }

    /// One pass over sentence `si` of `doc` with gold tags; returns the number of tokens
    /// tagged right. `statics` holds the static features of every token of the sentence
    /// ([`DocFeatures::static_features`]), `offsets` one entry per token plus one.
    pub fn train_sentence(
        &mut self,
        doc: &DocFeatures,
        si: usize,
        statics: (&[u64], &[u32]),
        gold: &[usize],
    ) -> usize {
        let sent = doc.sentence(si);
        let (feats, offsets) = statics;
        let (mut prev, mut prev2) = (0usize, 0usize);
        let mut right = 0;
        let mut all: Vec<u64> = Vec::with_capacity(64);
        for (k, (i, &truth)) in sent.clone().zip(gold).enumerate() {
            all.clear();
            all.extend_from_slice(&feats[offsets[k] as usize..offsets[k + 1] as usize]);
            let ty = &doc.types[doc.tok_type[i] as usize];
            all.extend(history(prev, prev2, ty));
            self.step += 1;
            let scores = self.scores(&all);
            let (guess, _) = best_allowed(prev, &scores);
            if guess == truth {
                right += 1;
            } else {
                self.update(truth, guess, &all);
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
        let mut avg: Vec<(u64, [f32; NW])> = Vec::with_capacity(self.params.len());
        let mut max_abs = 0f32;
        for (&k, p) in &self.params {
            let mut w = [0f32; NT];
            for (t, slot) in w.iter_mut().enumerate() {
                let total = p.total[t] + (step - f64::from(p.stamp[t])) * f64::from(p.w[t]);
                *slot = (total / step) as f32;
            }
            let mut rel = [0f32; NW];
            for (r, x) in rel.iter_mut().zip(&w[1..]) {
                *r = x - w[0];
            }
            let m = rel.iter().fold(0f32, |a, &b| a.max(b.abs()));
            if m >= min_weight {
                max_abs = max_abs.max(m);
                avg.push((k, rel));
            }
        }
        avg.sort_by_key(|&(k, _)| k);
        let scale = if max_abs > 0.0 {
            max_abs / 32767.0
        } else {
            1.0
        };
        let mut out = Vec::with_capacity(HEADER + avg.len() * RECORD);
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

    fn toy() -> DocFeatures {
        let gaz = super::super::gazetteer::Gazetteer::load();
        let words = ["Zork", "Blanc", "ate", ".", "Zork", "slept", "."];
        super::super::features::doc_features(&words, &[0..4, 4..7], &gaz)
    }

    fn train(doc: &DocFeatures, gold: &[Vec<usize>]) -> Vec<u8> {
        let mut tr = Trainer::new();
        let statics: Vec<(Vec<u64>, Vec<u32>)> = (0..doc.len())
            .map(|si| {
                let sent = doc.sentence(si);
                let (mut f, mut o) = (Vec::new(), vec![0u32]);
                for i in sent.clone() {
                    doc.static_features(&sent, i, &mut f);
                    o.push(f.len() as u32);
                }
                (f, o)
            })
            .collect();
        for _ in 0..5 {
            for (si, g) in gold.iter().enumerate() {
                tr.train_sentence(doc, si, (&statics[si].0, &statics[si].1), g);
            }
        }
        tr.finish(0.0)
    }

    #[test]
    fn learns_and_round_trips() {
        let doc = toy();
        let gold = vec![vec![1, 2, 0, 0], vec![1, 0, 0]];
        let bytes = train(&doc, &gold);
        let model = Model::from_bytes(&bytes).unwrap();
        assert!(model.len() >= 5);
        let tags: Vec<usize> = model.tag_doc(&doc).iter().map(|t| t.tag).collect();
        assert_eq!(tags, gold.concat());
        // an empty model tags everything O
        let empty = Model::from_bytes(&[]).unwrap();
        assert!(empty.tag_doc(&doc).iter().all(|t| t.tag == 0));
    }

    #[test]
    fn bad_model_bytes_are_errors_not_panics() {
        let doc = toy();
        let good = train(&doc, &[vec![1, 2, 0, 0], vec![1, 0, 0]]);
        assert_eq!(
            Model::from_bytes(b"nonsense-bytes-here").unwrap_err(),
            ModelError::Magic
        );
        let mut old = good.clone();
        old[..8].copy_from_slice(b"CDNER01\n");
        assert_eq!(Model::from_bytes(&old).unwrap_err(), ModelError::Magic);
        assert!(matches!(
            Model::from_bytes(&good[..good.len() - 1]),
            Err(ModelError::Length(_))
        ));
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(
            Model::from_bytes(&long),
            Err(ModelError::Length(_))
        ));
        let mut huge = good.clone();
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            Model::from_bytes(&huge),
            Err(ModelError::Length(u32::MAX))
        ));
        for scale in [f32::NAN, f32::INFINITY, 0.0, -1.0] {
            let mut bad = good.clone();
            bad[8..12].copy_from_slice(&scale.to_le_bytes());
            assert_eq!(Model::from_bytes(&bad).unwrap_err(), ModelError::Scale);
        }
        // every truncation and a sweep of corruptions: errors or models, never panics
        for cut in 0..good.len().min(200) {
            let _ = Model::from_bytes(&good[..cut]);
        }
        let mut state = 0x1234_5678u32;
        for _ in 0..200 {
            let mut bad = good.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let at = state as usize % bad.len();
                bad[at] ^= (state >> 8) as u8 | 1;
            }
            if let Ok(m) = Model::from_bytes(&bad) {
                let _ = m.tag_doc(&doc);
            }
        }
    }
}
