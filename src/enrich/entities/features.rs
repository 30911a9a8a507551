//! Feature extraction for the tagger. Features are 64-bit hashes (template id mixed with the
//! hashed value), computed once per token; the only features that depend on the decoder's
//! history (previous tags) are added in [`super::perceptron::Model::tag`].

use std::collections::HashSet;

use xxhash_rust::xxh3::xxh3_64;

use super::gazetteer::{flag, Gazetteer};

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
    out
}

fn prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn suffix(s: &str, n: usize) -> &str {
    let count = s.chars().count();
    if count <= n {
        return s;
    }
    match s.char_indices().nth(count - n) {
        Some((i, _)) => &s[i..],
        None => s,
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

/// Per-token hashes shared by several templates.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenHashes {
    /// The lower-cased word.
    pub lower: u64,
    /// Its shape.
    pub shape: u64,
}

/// Static features of every token of a document.
#[derive(Debug, Default)]
pub struct DocFeatures {
    /// Per sentence, per token: feature hashes.
    pub sentences: Vec<Vec<Vec<u64>>>,
    /// Per sentence, per token: hashes used by history features.
    pub hashes: Vec<Vec<TokenHashes>>,
    /// Per sentence, per token: gazetteer and word-list flags.
    pub flags: Vec<Vec<u16>>,
}

const BOS: u64 = 0x5151_5151;
const EOS: u64 = 0x7272_7272;

/// Builds the static features of a document given as sentences of words.
pub fn doc_features(sentences: &[Vec<&str>], gaz: &Gazetteer) -> DocFeatures {
    // document statistics: words seen in lower case, capitalised words seen mid-sentence
    let mut lower_seen: HashSet<u64> = HashSet::new();
    let mut cap_mid: HashSet<u64> = HashSet::new();
    for sent in sentences {
        for (i, w) in sent.iter().enumerate() {
            let initial = i == 0 || is_open_punct(sent[i - 1]);
            if w.chars().next().is_some_and(char::is_lowercase) {
                lower_seen.insert(h(w));
            } else if is_cap(w) && !initial {
                cap_mid.insert(h(&w.to_lowercase()));
            }
        }
    }
    let mut out = DocFeatures::default();
    for sent in sentences {
        let flags = gaz.flags(sent);
        let n = sent.len();
        let lowers: Vec<String> = sent.iter().map(|w| w.to_lowercase()).collect();
        let hashes: Vec<TokenHashes> = sent
            .iter()
            .zip(&lowers)
            .map(|(w, l)| TokenHashes {
                lower: h(l),
                shape: h(&shape(w)),
            })
            .collect();
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
        let mut feats_sent = Vec::with_capacity(n);
        for (i, w) in sent.iter().enumerate() {
            let ii = i as isize;
            let lower = &lowers[i];
            let initial = i == 0 || is_open_punct(sent[i - 1]);
            let mut f = Vec::with_capacity(40);
            f.push(1);
            f.push(mix(2, h(w)));
            f.push(mix(3, lw(ii)));
            f.push(mix(4, sh(ii)));
            f.push(mix(5, h(prefix(lower, 3))));
            f.push(mix(6, h(suffix(lower, 2))));
            f.push(mix(7, h(suffix(lower, 3))));
            f.push(mix(8, h(suffix(lower, 4))));
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
                let key = h(lower);
                let seen_lower = lower_seen.contains(&h(lower));
                let seen_mid = cap_mid.contains(&key);
                f.push(mix(
                    40,
                    u64::from(seen_lower) * 4 + u64::from(seen_mid) * 2 + u64::from(initial),
                ));
            }
            feats_sent.push(f);
        }
        out.sentences.push(feats_sent);
        out.hashes.push(hashes);
        out.flags.push(flags);
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
        assert_eq!(prefix("Pu", 3), "Pu");
    }
}
