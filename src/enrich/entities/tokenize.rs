//! A news-aware word tokenizer close to the Universal Dependencies (GUM) conventions the
//! tagger was trained on: punctuation split off, hyphens between words are tokens of their
//! own, possessive `'s` split, abbreviations and initials keep their period. Tokens are
//! byte ranges into the text; nothing is copied.

use std::ops::Range;

/// One token: a byte range into the tokenized text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

/// Words that keep a following period (titles, company suffixes, months, common
/// abbreviations); single letters (initials) always keep it.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "corp", "gen", "gov",
    "sen", "rep", "lt", "col", "capt", "sgt", "mt", "ft", "vs", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "vol", "rev", "hon", "adm", "maj",
    "cmdr", "pres", "supt", "messrs", "mme", "mlle", "dept", "univ", "assn", "bros", "est",
];

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

fn keeps_period(word: &str) -> bool {
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    if word.contains('.') || (letters == 1 && word.chars().count() == 1) {
        return true;
    }
    ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

/// The character starting at byte `i` of `text` and its length; `None` at the end. `i` must
/// be a character boundary. ASCII, nearly every byte of English copy, is read directly.
#[inline]
fn char_at(text: &str, i: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b.is_ascii() {
        return Some((char::from(b), 1));
    }
    let c = text.get(i..)?.chars().next()?;
    Some((c, c.len_utf8()))
}

/// Splits `text` into tokens.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 5);
    let after = |i: usize| char_at(text, i).map(|(c, _)| c);
    let mut k = 0;
    while let Some((c, c_len)) = char_at(text, k) {
        if c.is_whitespace() {
            k += c_len;
            continue;
        }
        let start = k;
        if c.is_alphanumeric() {
            let mut j = k + c_len;
            let mut prev = c;
            let bytes = text.as_bytes();
            loop {
                // Fast path: ASCII letters and digits, the bulk of every word.
                if let Some(&b) = bytes.get(j) {
                    if b.is_ascii_alphanumeric() {
                        prev = char::from(b);
                        j += 1;
                        continue;
                    }
                    // Any other ASCII byte but these four ends the word (below, `takes` is
                    // false for it): most words end at a space, with no look ahead.
                    if b.is_ascii() && !matches!(b, b'.' | b',' | b'\'' | b'&') {
                        break;
                    }
                }
                let Some((d, d_len)) = char_at(text, j) else {
                    break;
                };
                let next_at = j + d_len;
                let next = char_at(text, next_at);
                let next_char = next.map(|(x, _)| x);
                let takes = if d.is_alphanumeric() || d == '\u{00AD}' {
                    true
                } else if d == '.' {
                    // U.S, 3.5, e.g, www.example
                    next_char.is_some_and(char::is_alphanumeric)
                } else if d == ',' {
                    prev.is_ascii_digit() && next_char.is_some_and(|x| x.is_ascii_digit())
                } else if is_apostrophe(d) {
                    if !(prev.is_alphabetic() && next_char.is_some_and(char::is_alphabetic)) {
                        false
                    } else {
                        // O'Brien stays whole; Russia's and don't split below.
                        let later = next.and_then(|(_, n_len)| after(next_at + n_len));
                        let poss = next_char.is_some_and(|x| x == 's' || x == 'S')
                            && !later.is_some_and(char::is_alphanumeric);
                        let nt = next_char.is_some_and(|x| x == 't' || x == 'T') && prev == 'n';
                        if poss || nt {
                            break;
                        }
                        true
                    }
                } else {
                    d == '&' && prev.is_uppercase() && next_char.is_some_and(char::is_uppercase)
                };
                if !takes {
                    break;
                }
                prev = d;
                j = next_at;
            }
            // currency prefixes: US$, A$, HK$
            if bytes.get(j) == Some(&b'$') && bytes[start..j].iter().all(u8::is_ascii_uppercase) {
                j += 1;
            }
            // keep the period of abbreviations and initials
            if bytes.get(j) == Some(&b'.') && keeps_period(&text[start..j]) {
                j += 1;
            }
            out.push(Token { start, end: j });
            k = j;
            continue;
        }
        if is_apostrophe(c) {
            // 's / 'S possessive clitic
            let next = after(k + c_len);
            if next.is_some_and(|x| x == 's' || x == 'S')
                && !after(k + c_len + 1).is_some_and(char::is_alphanumeric)
            {
                out.push(Token {
                    start: k,
                    end: k + c_len + 1,
                });
                k += c_len + 1;
                continue;
            }
        }
        out.push(Token {
            start: k,
            end: k + c_len,
        });
        k += c_len;
    }
    out
}

/// Sentence boundaries as ranges of token indices: a sentence ends after `.`, `!` or `?`
/// (and closing quotes after them) when the next token does not start lower-case, and at
/// every blank line.
pub fn sentences(text: &str, tokens: &[Token]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let word = |i: usize| &text[tokens[i].start..tokens[i].end];
    let is_end = |w: &str| matches!(w, "." | "!" | "?");
    let is_closing = |w: &str| matches!(w, "\"" | "”" | "’" | "'" | ")");
    for i in 0..tokens.len().saturating_sub(1) {
        let newline_break = bytes[tokens[i].end..tokens[i + 1].start].contains(&b'\n');
        if !newline_break {
            // Most tokens end nothing: decide that before looking at the next one.
            let tok = word(i);
            let ends = is_end(tok) || (is_closing(tok) && i > 0 && is_end(word(i - 1)));
            if !ends {
                continue;
            }
            let next = word(i + 1);
            if next.chars().next().is_some_and(char::is_lowercase) || is_closing(next) {
                continue;
            }
        }
        out.push(start..i + 1);
        start = i + 1;
    }
    if start < tokens.len() {
        out.push(start..tokens.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The tokenizer as it was before it read bytes: a vector of every character first. Kept
    // as the oracle of `same_tokens_as_the_character_vector_version`.
    fn keeps_period_old(word: &str) -> bool {
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        if word.contains('.') || (letters == 1 && word.chars().count() == 1) {
            return true;
        }
        let lower = word.to_ascii_lowercase();
        ABBREVIATIONS.contains(&lower.as_str())
    }

    /// Splits `text` into tokens.
    fn tokenize_by_chars(text: &str) -> Vec<Token> {
        let mut out = Vec::with_capacity(text.len() / 5);
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let n = chars.len();
        let byte_at = |k: usize| if k < n { chars[k].0 } else { text.len() };
        let mut k = 0;
        while k < n {
            let c = chars[k].1;
            if c.is_whitespace() {
                k += 1;
                continue;
            }
            let start = k;
            if c.is_alphanumeric() {
                let mut j = k + 1;
                while j < n {
                    let d = chars[j].1;
                    let next = chars.get(j + 1).map(|x| x.1);
                    let prev = chars[j - 1].1;
                    if d.is_alphanumeric() || d == '\u{00AD}' {
                        j += 1;
                    } else if d == '.' && next.is_some_and(char::is_alphanumeric) {
                        // U.S, 3.5, e.g, www.example
                        j += 1;
                    } else if d == ','
                        && prev.is_ascii_digit()
                        && next.is_some_and(|x| x.is_ascii_digit())
                    {
                        j += 1;
                    } else if is_apostrophe(d)
                        && prev.is_alphabetic()
                        && next.is_some_and(char::is_alphabetic)
                    {
                        // O'Brien stays whole; Russia's and don't split below.
                        let after = chars.get(j + 2).map(|x| x.1);
                        let poss = next.is_some_and(|x| x == 's' || x == 'S')
                            && !after.is_some_and(char::is_alphanumeric);
                        let nt = next.is_some_and(|x| x == 't' || x == 'T') && prev == 'n';
                        if poss || nt {
                            break;
                        }
                        j += 1;
                    } else if d == '&'
                        && prev.is_uppercase()
                        && next.is_some_and(char::is_uppercase)
                    {
                        j += 1;
                    } else {
                        break;
                    }
                }
                // currency prefixes: US$, A$, HK$
                if j < n
                    && chars[j].1 == '$'
                    && chars[start..j].iter().all(|x| x.1.is_ascii_uppercase())
                {
                    j += 1;
                }
                // keep the period of abbreviations and initials
                if j < n && chars[j].1 == '.' {
                    let word = &text[byte_at(start)..byte_at(j)];
                    if keeps_period_old(word) {
                        j += 1;
                    }
                }
                out.push(Token {
                    start: byte_at(start),
                    end: byte_at(j),
                });
                k = j;
                continue;
            }
            if is_apostrophe(c) {
                // 's / 'S possessive clitic
                let next = chars.get(k + 1).map(|x| x.1);
                let after = chars.get(k + 2).map(|x| x.1);
                if next.is_some_and(|x| x == 's' || x == 'S')
                    && !after.is_some_and(char::is_alphanumeric)
                {
                    out.push(Token {
                        start: byte_at(k),
                        end: byte_at(k + 2),
                    });
                    k += 2;
                    continue;
                }
            }
            out.push(Token {
                start: byte_at(k),
                end: byte_at(k + 1),
            });
            k += 1;
        }
        out
    }

    fn sentences_old(text: &str, tokens: &[Token]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = text.as_bytes();
        for i in 0..tokens.len() {
            if i + 1 == tokens.len() {
                break;
            }
            let gap = &bytes[tokens[i].end..tokens[i + 1].start];
            let newline_break = gap.iter().filter(|&&b| b == b'\n').count() >= 1;
            let tok = &text[tokens[i].start..tokens[i].end];
            let next = &text[tokens[i + 1].start..tokens[i + 1].end];
            let closing = matches!(tok, "\"" | "”" | "’" | "'" | ")");
            let prev_end = i > 0
                && matches!(
                    &text[tokens[i - 1].start..tokens[i - 1].end],
                    "." | "!" | "?"
                );
            let ends = matches!(tok, "." | "!" | "?") || (closing && prev_end);
            let next_lower = next.chars().next().is_some_and(char::is_lowercase);
            let next_closing = matches!(next, "\"" | "”" | "’" | "'" | ")");
            if newline_break || (ends && !next_lower && !next_closing) {
                out.push(start..i + 1);
                start = i + 1;
            }
        }
        if start < tokens.len() {
            out.push(start..tokens.len());
        }
        out
    }

    proptest! {
        #[test]
        fn same_sentences_as_before(text in "[A-Za-z .!?\"”’')\n]{0,60}") {
            let toks = tokenize(&text);
            prop_assert_eq!(sentences(&text, &toks), sentences_old(&text, &toks));
        }

        #[test]
        fn same_tokens_as_the_character_vector_version(
            text in "[A-Za-z0-9 .,'’&$\\-\u{ad}“”()éÉßİ\u{3000}\n]{0,40}"
        ) {
            prop_assert_eq!(tokenize(&text), tokenize_by_chars(&text));
        }

        #[test]
        fn same_tokens_on_any_text(text in "\\PC{0,40}") {
            prop_assert_eq!(tokenize(&text), tokenize_by_chars(&text));
        }
    }

    fn words(text: &str) -> Vec<&str> {
        tokenize(text)
            .iter()
            .map(|t| &text[t.start..t.end])
            .collect()
    }

    #[test]
    fn tokenizes_news_text() {
        for (text, want) in [
            (
                "Kim Jong-un met Putin.",
                vec!["Kim", "Jong", "-", "un", "met", "Putin", "."],
            ),
            ("Russia's leader", vec!["Russia", "'s", "leader"]),
            ("Russia’s gradual", vec!["Russia", "’s", "gradual"]),
            (
                "the U.S. and Mr. Smith",
                vec!["the", "U.S.", "and", "Mr.", "Smith"],
            ),
            ("L. Ron Hubbard", vec!["L.", "Ron", "Hubbard"]),
            ("US$ 20,000 bail", vec!["US$", "20,000", "bail"]),
            ("O'Brien", vec!["O'Brien"]),
            ("“expand (its)”", vec!["“", "expand", "(", "its", ")", "”"]),
            ("AT&T said", vec!["AT&T", "said"]),
        ] {
            assert_eq!(words(text), want, "{text}");
        }
    }

    #[test]
    fn splits_sentences() {
        let text = "Putin said so. Kim agreed! “Yes.” He left.\n\nNew para";
        let toks = tokenize(text);
        let sents = sentences(text, &toks);
        let firsts: Vec<&str> = sents
            .iter()
            .map(|r| &text[toks[r.start].start..toks[r.start].end])
            .collect();
        assert_eq!(firsts, vec!["Putin", "Kim", "“", "He", "New"]);
    }
}
