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
    if word.contains('.') {
        return true;
    }
    let mut chars = word.chars();
    if chars.next().is_some_and(char::is_alphabetic) && chars.next().is_none() {
        return true;
    }
    word.len() <= 6 && ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

/// The character at byte `i` of `text` and its length in bytes (ASCII without decoding).
#[inline]
fn char_at(text: &str, i: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b < 0x80 {
        Some((char::from(b), 1))
    } else {
        text.get(i..)?.chars().next().map(|c| (c, c.len_utf8()))
    }
}

#[inline]
fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric()
    }
}

/// Splits `text` into tokens.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 5 + 1);
    tokenize_into(text, &mut out);
    out
}

/// [`tokenize`] appending to `out`.
pub fn tokenize_into(text: &str, out: &mut Vec<Token>) {
    let at = |i: usize| char_at(text, i);
    let bytes = text.as_bytes();
    let mut k = 0;
    while let Some((c, cl)) = at(k) {
        if c.is_whitespace() {
            k += cl;
            continue;
        }
        let start = k;
        if is_alnum(c) {
            let mut j = k + cl;
            let mut prev = c;
            loop {
                // ASCII letters and digits, the common case, without decoding
                let run = bytes[j..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric())
                    .count();
                if run > 0 {
                    j += run;
                    prev = char::from(bytes[j - 1]);
                }
                let Some((d, dl)) = at(j) else {
                    break;
                };
                if is_alnum(d) || d == '\u{00AD}' {
                    j += dl;
                    prev = d;
                    continue;
                }
                let next = at(j + dl);
                let nextc = next.map(|x| x.0);
                let take = if d == '.' {
                    // U.S, 3.5, e.g, www.example
                    nextc.is_some_and(is_alnum)
                } else if d == ',' {
                    prev.is_ascii_digit() && nextc.is_some_and(|x| x.is_ascii_digit())
                } else if is_apostrophe(d) {
                    if prev.is_alphabetic() && nextc.is_some_and(char::is_alphabetic) {
                        // O'Brien stays whole; Russia's and don't split below.
                        let after = next.and_then(|(_, nl)| at(j + dl + nl)).map(|x| x.0);
                        let poss = nextc.is_some_and(|x| x == 's' || x == 'S')
                            && !after.is_some_and(is_alnum);
                        let nt = nextc.is_some_and(|x| x == 't' || x == 'T') && prev == 'n';
                        !(poss || nt)
                    } else {
                        false
                    }
                } else if d == '&' {
                    prev.is_uppercase() && nextc.is_some_and(char::is_uppercase)
                } else {
                    false
                };
                if !take {
                    break;
                }
                j += dl;
                prev = d;
            }
            // currency prefixes: US$, A$, HK$
            if text.as_bytes().get(j) == Some(&b'$')
                && text.as_bytes()[start..j].iter().all(u8::is_ascii_uppercase)
            {
                j += 1;
            }
            // keep the period of abbreviations and initials
            if text.as_bytes().get(j) == Some(&b'.') && keeps_period(&text[start..j]) {
                j += 1;
            }
            out.push(Token { start, end: j });
            k = j;
            continue;
        }
        if is_apostrophe(c) {
            // 's / 'S possessive clitic
            let s = k + cl;
            if matches!(text.as_bytes().get(s), Some(b's' | b'S'))
                && !at(s + 1).is_some_and(|x| is_alnum(x.0))
            {
                out.push(Token { start, end: s + 1 });
                k = s + 1;
                continue;
            }
        }
        out.push(Token { start, end: k + cl });
        k += cl;
    }
}

/// Sentence boundaries as ranges of token indices: a sentence ends after `.`, `!` or `?`
/// (and closing quotes after them) when the next token does not start lower-case, and at
/// every blank line.
pub fn sentences(text: &str, tokens: &[Token]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let word = |i: usize| &bytes[tokens[i].start..tokens[i].end];
    let is_end = |w: &[u8]| matches!(w, b"." | b"!" | b"?");
    let is_closing =
        |w: &[u8]| matches!(w, b"\"" | b"'" | b")") || w == "”".as_bytes() || w == "’".as_bytes();
    for i in 0..tokens.len().saturating_sub(1) {
        let gap = &bytes[tokens[i].end..tokens[i + 1].start];
        let newline_break = gap.contains(&b'\n');
        let tok = word(i);
        let ends = is_end(tok) || (is_closing(tok) && i > 0 && is_end(word(i - 1)));
        let breaks = newline_break
            || (ends && {
                let next = &text[tokens[i + 1].start..tokens[i + 1].end];
                let next_lower = next.chars().next().is_some_and(char::is_lowercase);
                !next_lower && !is_closing(next.as_bytes())
            });
        if breaks {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < tokens.len() {
        out.push(start..tokens.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
