//! Byte tricks that stages share, eight bytes at a time:
//! - [`find_any`]: the first of a few given bytes in a text. Stages that jump from one mark
//!   to the next across the whole body (quotation marks, sentence ends) spent most of their
//!   scan comparing every byte with each of their marks.
//! - [`folded_word`]: a short ASCII word lower-cased into one integer, which keywords and
//!   the fingerprint compare with their packed stopwords instead of lower-casing byte by
//!   byte.

/// One in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte.
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `y`, exactly up to the first zero byte (above it a
/// borrow may flag a byte that is not zero; callers take the lowest flag only).
#[inline]
fn zero_bytes(y: u64) -> u64 {
    y.wrapping_sub(ONES) & !y & HIGHS
}

/// Position of the first byte of `bytes` that is one of `needles`.
#[inline]
pub fn find_any<const N: usize>(bytes: &[u8], needles: [u8; N]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // a byte equal to `n` is a zero byte of `x ^ n·ONES`
        let found = needles
            .iter()
            .fold(0, |acc, &n| acc | zero_bytes(x ^ (ONES * u64::from(n))));
        if found != 0 {
            // Little-endian: the lowest flag is the earliest byte.
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|b| needles.contains(b))
        .map(|k| at + k)
}

/// Bit 5 of each of eight bytes.
const FOLD: u64 = 0x2020_2020_2020_2020;

/// The `n` bytes of `bytes` from `start` (1 ≤ `n` ≤ 8; they must be in `bytes`) as a
/// little-endian integer with zeros above them, bit 5 of each set. For ASCII letters,
/// digits, `-` and `'` (which have it already) setting bit 5 lower-cases the word, so this
/// is the packing of the lower-case word. Eight bytes are read at once (a fixed-size load)
/// when the text goes on that far, else the word alone is copied; the mask keeps the
/// word's own bytes either way.
#[inline]
pub fn folded_word(bytes: &[u8], start: usize, n: usize) -> u64 {
    debug_assert!((1..=8).contains(&n), "{n} bytes");
    let mut raw = [0u8; 8];
    match bytes.get(start..start + 8) {
        Some(eight) => raw.copy_from_slice(eight),
        None => raw[..n].copy_from_slice(&bytes[start..start + n]),
    }
    // `n` is 1..=8, so the shift is 0..=56
    let mask = u64::MAX >> (8 * (8 - n));
    (u64::from_le_bytes(raw) | FOLD) & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_first_needle() {
        for (text, want) in [
            (&b""[..], None),
            (b"abc", None),
            (b"abcdefghijklmnop", None),
            (b"\"", Some(0)),
            (b"abcdefgh\"", Some(8)),
            (b"abcdefg\"\n", Some(7)),
            // a byte one below a needle borrows into the next byte: not a match
            (b"!\"", Some(1)),
            (b"\x00\"xxxxxxxxxx", Some(1)),
            (b"xxxxxxxxxxxxxxx\n", Some(15)),
            ("x – y".as_bytes(), Some(2)),
        ] {
            assert_eq!(find_any(text, [b'"', b'\n', 0xC2, 0xE2]), want, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn finds_what_a_byte_by_byte_scan_finds(
            bytes in proptest::collection::vec(
                prop_oneof![
                    any::<u8>(),
                    proptest::sample::select(vec![b'"', b'\n', b'.', 0xC2, 0xE2, 0xC3, 0xE1, b'#', b'!', 0x00, 0x01]),
                ],
                0..48,
            )
        ) {
            let needles = [b'"', b'\n', 0xC2, 0xE2];
            prop_assert_eq!(find_any(&bytes, needles), bytes.iter().position(|b| needles.contains(b)));
            let needles = [b'.', b'!', b'?', b'\n', 0xE2];
            prop_assert_eq!(find_any(&bytes, needles), bytes.iter().position(|b| needles.contains(b)));
        }
    }

    proptest! {
        /// A folded word is its lower-cased bytes packed little-endian, wherever it ends.
        #[test]
        fn folded_word_packs_the_lower_case_word(
            text in "[A-Za-z0-9'-]{1,20}",
            start in 0usize..20,
            n in 1usize..=8,
        ) {
            let bytes = text.as_bytes();
            prop_assume!(start + n <= bytes.len());
            let want = bytes[start..start + n]
                .iter()
                .enumerate()
                .fold(0u64, |acc, (i, b)| acc | u64::from(b.to_ascii_lowercase()) << (8 * i));
            prop_assert_eq!(folded_word(bytes, start, n), want);
        }
    }
}
