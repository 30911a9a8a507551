//! Word tokens for the repair stage: maximal runs of letters, each marked when it touches a
//! joiner (hyphen, apostrophe, digit, …) and so belongs to a compound, contraction or code.
//!
//! The tokenizer runs over every byte of the body, so pure-ASCII paragraphs (most wire copy)
//! take a path that classifies eight bytes at a time and finds word edges with bit scans;
//! other paragraphs go byte by byte, decoding only non-ASCII characters.

use super::words::ascii_bytes_in_range;

/// One alphabetic token in a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// Byte offset of the first letter.
    pub(crate) start: usize,
    /// Byte offset after the last letter.
    pub(crate) end: usize,
    /// Touches a hyphen, apostrophe or digit: part of a compound, contraction or code.
    pub(crate) joined: bool,
}

/// [`BYTE_CLASS`] values: an ASCII non-letter, an ASCII letter, a byte of a non-ASCII
/// character (decoded to decide).
const OTHER: u8 = 0;
const LETTER: u8 = 1;
const NON_ASCII: u8 = 2;

/// Class of every byte value, so the tokenizer's loops test one table entry per byte.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = if b >= 0x80 {
            NON_ASCII
        } else if (b as u8).is_ascii_alphabetic() {
            LETTER
        } else {
            OTHER
        };
        b += 1;
    }
    table
};

/// The letter tokens of `text`, into `out` (cleared first).
pub(crate) fn tokens(text: &str, out: &mut Vec<Token>) {
    out.clear();
    if text.is_ascii() {
        ascii_tokens(text.as_bytes(), out);
    } else {
        general_tokens(text, out);
    }
}

/// Bit `i` set when byte `i` of the 8-byte little-endian `lane` is an ASCII letter: OR-ing
/// 0x20 maps capitals onto small letters and nothing else into `a..=z`, and leaves bit 7
/// (non-ASCII) as it was.
fn letter_bits(lane: u64) -> u64 {
    let high = ascii_bytes_in_range(lane | 0x2020_2020_2020_2020, b'a', b'z');
    // Gathers the eight flag bits (bit 7 of each byte) into the low byte.
    (high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Bit `i` set when `window[i]` (at most 64 bytes) is an ASCII letter.
fn letter_mask(window: &[u8]) -> u64 {
    let mut mask = 0;
    let mut chunks = window.chunks_exact(8);
    for (k, chunk) in (&mut chunks).enumerate() {
        let mut lane = [0u8; 8];
        lane.copy_from_slice(chunk);
        mask |= letter_bits(u64::from_le_bytes(lane)) << (8 * k);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        // Zero padding is not a letter.
        let mut lane = [0u8; 8];
        lane[..tail.len()].copy_from_slice(tail);
        mask |= letter_bits(u64::from_le_bytes(lane)) << (window.len() - tail.len());
    }
    mask
}

/// Whether an ASCII byte next to a word joins it to something (hyphen, apostrophe, digit…).
fn ascii_joiner(b: u8) -> bool {
    ASCII_JOINER[usize::from(b)]
}

/// [`ascii_joiner`] as a table: one load per word edge instead of a chain of compares.
static ASCII_JOINER: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = matches!(c, b'-' | b'\'' | b'_' | b'/' | b'@') || c.is_ascii_digit();
        b += 1;
    }
    table
};

/// [`tokens`] for ASCII text: 64 bytes at a time become a letter mask; a word starts at each
/// letter whose predecessor is not one and ends at each non-letter whose predecessor is, so
/// both edge sets are two shifts of the mask, walked with trailing-zero counts.
fn ascii_tokens(bytes: &[u8], out: &mut Vec<Token>) {
    // Every token but the last is followed by a non-letter, so this bounds their number.
    out.reserve(bytes.len() / 2 + 1);
    let mut push = |start: usize, end: usize| {
        let joined = (start > 0 && ascii_joiner(bytes[start - 1]))
            || bytes.get(end).is_some_and(|&b| ascii_joiner(b));
        out.push(Token { start, end, joined });
    };
    // Bit 0 set when the byte before the window is a letter.
    let mut carry = 0u64;
    let mut open = 0usize;
    for (w, window) in bytes.chunks(64).enumerate() {
        let base = w * 64;
        let letters = letter_mask(window);
        let before = (letters << 1) | carry;
        let mut starts = letters & !before;
        let mut ends = !letters & before;
        if window.len() < 64 {
            // Past a short last window the mask reads non-letters: no end there (the end of
            // the text is handled after the loop).
            ends &= (1u64 << window.len()) - 1;
        }
        carry = letters >> 63;
        // Starts and ends alternate; an end in this window may close a word opened earlier.
        if ends != 0 && (starts == 0 || ends.trailing_zeros() < starts.trailing_zeros()) {
            push(open, base + ends.trailing_zeros() as usize);
            ends &= ends - 1;
        }
        while starts != 0 {
            let start = base + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if ends == 0 {
                open = start;
                break;
            }
            push(start, base + ends.trailing_zeros() as usize);
            ends &= ends - 1;
        }
    }
    // The end of the text is no edge in any window.
    if bytes.last().is_some_and(u8::is_ascii_alphabetic) {
        push(open, bytes.len());
    }
}

/// [`tokens`] for text with non-ASCII characters: byte by byte, decoding only those.
fn general_tokens(text: &str, out: &mut Vec<Token>) {
    let is_joiner = |c: Option<char>| {
        c.is_some_and(|c| matches!(c, '-' | '\'' | '’' | '‐' | '_' | '/' | '@') || c.is_numeric())
    };
    let bytes = text.as_bytes();
    // Width of the letter starting at `i`, or 0 when the character there is not a letter.
    // ASCII is classified byte by byte; only other characters are decoded.
    let letter_at = |i: usize| -> usize {
        let b = bytes[i];
        if b.is_ascii() {
            usize::from(b.is_ascii_alphabetic())
        } else {
            text[i..]
                .chars()
                .next()
                .filter(|c| c.is_alphabetic())
                .map_or(0, char::len_utf8)
        }
    };
    // Width of the non-letter starting at `i` (at least 1).
    let other_at = |i: usize| -> usize {
        if bytes[i].is_ascii() {
            1
        } else {
            text[i..].chars().next().map_or(1, char::len_utf8)
        }
    };
    // Whether the character ending at / starting at byte `i` joins words; ASCII neighbours
    // (nearly all) are read as bytes.
    let joiner_before = |i: usize| match i.checked_sub(1).map(|p| bytes[p]) {
        None => false,
        Some(b) if b.is_ascii() => ascii_joiner(b),
        Some(_) => is_joiner(text[..i].chars().next_back()),
    };
    let joiner_at = |i: usize| match bytes.get(i) {
        None => false,
        Some(&b) if b.is_ascii() => ascii_joiner(b),
        Some(_) => is_joiner(text[i..].chars().next()),
    };
    let mut i = 0;
    // Two tight loops (between words, inside a word) keep the branches predictable.
    while i < bytes.len() {
        while i < bytes.len() && BYTE_CLASS[usize::from(bytes[i])] == OTHER {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let width = if bytes[i].is_ascii() { 1 } else { letter_at(i) };
        if width == 0 {
            i += other_at(i);
            continue;
        }
        let start = i;
        i += width;
        loop {
            while i < bytes.len() && BYTE_CLASS[usize::from(bytes[i])] == LETTER {
                i += 1;
            }
            if i < bytes.len() && !bytes[i].is_ascii() {
                let width = letter_at(i);
                if width > 0 {
                    i += width;
                    continue;
                }
            }
            break;
        }
        out.push(Token {
            start,
            end: i,
            joined: joiner_before(start) || joiner_at(i),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_mark_compounds() {
        let text = "Kim Jong-un’s 2022x co-op";
        let mut toks = Vec::new();
        tokens(text, &mut toks);
        let got: Vec<(&str, bool)> = toks
            .iter()
            .map(|t| (&text[t.start..t.end], t.joined))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Kim", false),
                ("Jong", true),
                ("un", true),
                ("s", true),
                ("x", true),
                ("co", true),
                ("op", true)
            ]
        );
    }

    /// The first, byte-at-a-time tokenizer: the specification the two-loop one must match.
    fn reference_tokens(text: &str, out: &mut Vec<Token>) {
        out.clear();
        let is_joiner = |c: Option<char>| {
            c.is_some_and(|c| {
                matches!(c, '-' | '\'' | '’' | '‐' | '_' | '/' | '@') || c.is_numeric()
            })
        };
        let bytes = text.as_bytes();
        let mut start: Option<usize> = None;
        let mut i = 0;
        while i < bytes.len() {
            // ASCII is classified byte by byte; only other characters are decoded.
            let (letter, width) = if bytes[i].is_ascii() {
                (bytes[i].is_ascii_alphabetic(), 1)
            } else {
                let c = text[i..].chars().next().unwrap_or(' ');
                (c.is_alphabetic(), c.len_utf8())
            };
            if letter {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                out.push(Token {
                    start: s,
                    end: i,
                    joined: is_joiner(text[..s].chars().next_back())
                        || is_joiner(text[i..].chars().next()),
                });
            }
            i += width;
        }
        if let Some(s) = start {
            out.push(Token {
                start: s,
                end: text.len(),
                joined: is_joiner(text[..s].chars().next_back()),
            });
        }
    }

    #[test]
    fn letter_bits_table() {
        for (lane, want) in [
            (*b"ab cD-Ef", 0b1101_1011),
            (*b"@[`{AZaz", 0b1111_0000),
            (*b"\0\x7F019 ZZ", 0b1100_0000),
        ] {
            assert_eq!(letter_bits(u64::from_le_bytes(lane)), want, "{lane:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ascii_tokens_match_the_reference(text in "[a-zA-Z0-9 .,'\\-_/@\n\t]{0,200}") {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            tokens(&text, &mut got);
            reference_tokens(&text, &mut want);
            proptest::prop_assert_eq!(got, want);
        }

        #[test]
        fn tokens_match_the_reference(text in "[a-zA-Z0-9 .,'’\\-_/@éÉß\u{301}\u{2014}\u{4E2D}\u{0663}]{0,60}") {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            tokens(&text, &mut got);
            reference_tokens(&text, &mut want);
            proptest::prop_assert_eq!(got, want);
        }
    }
}
