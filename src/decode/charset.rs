//! Character sets: bytes → UTF-8 text, and repair of classic mojibake.
//!
//! Order of evidence: a byte-order mark (UTF-8, UTF-16LE/BE) wins; then a declared charset
//! (`content-type` `charset=` parameter — trusted strictly — or the XML prolog's `encoding`
//! — trusted unless the bytes contradict a UTF-8 claim); then detection: valid UTF-8 is
//! UTF-8, NUL-interleaved ASCII is UTF-16, anything else is Windows-1252 (the superset of
//! Latin-1 that wires actually send).
//!
//! Mojibake repair ([`repair`]) undoes text that was UTF-8, read once (or twice) as
//! Windows-1252 and written out again as UTF-8: `Ã©` → `é`, `â€™` → `’`. Only runs of
//! characters that map back to bytes forming valid multi-byte UTF-8 are changed, so correct
//! Latin text (`é` alone, `Ã` before a letter) is left alone.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

use super::DecodeError;
use crate::story::{Normalisation, Story};

/// Text in UTF-8 and the charset it was read from.
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    /// The text, without a BOM.
    pub text: Cow<'a, str>,
    /// Lower-case charset name (`utf-8`, `utf-16le`, `windows-1252`, …).
    pub charset: &'static str,
}

/// True when the bytes hold nothing but whitespace, BOMs and NULs.
pub(crate) fn is_blank(bytes: &[u8]) -> bool {
    // Fast path: read as UTF-8 or Windows-1252 (no BOM, no UTF-16 interleaving), every ASCII
    // byte is its own character, so the first byte that is neither ASCII whitespace nor NUL
    // settles it when it is ASCII. Only a non-ASCII byte there needs decoding.
    if bom_or_guess(bytes) == (UTF_8, 0) {
        let first = bytes
            .iter()
            .find(|&&b| !(b.is_ascii_whitespace() || b == 0x0b || b == 0));
        match first {
            None => return true,
            Some(&b) if b.is_ascii() => return false,
            Some(_) => {}
        }
    }
    is_blank_decoded(bytes)
}

/// [`is_blank`] by decoding the characters.
fn is_blank_decoded(bytes: &[u8]) -> bool {
    let blank = |limit| {
        sniff_prefix(bytes, limit)
            .chars()
            .all(|c| c.is_whitespace() || c == '\u{feff}' || c == '\0')
    };
    // Almost every record shows a non-blank character early: look at the head first.
    blank(4096) && (bytes.len() <= 4096 || blank(usize::MAX))
}

/// The first `limit` bytes as text, good enough for format detection (markup is ASCII).
pub(crate) fn sniff_prefix(bytes: &[u8], limit: usize) -> Cow<'_, str> {
    let (encoding, skip) = bom_or_guess(bytes);
    let body = &bytes[skip..];
    let body = &body[..body.len().min(limit)];
    if encoding == UTF_8 {
        return match std::str::from_utf8(body) {
            Ok(s) => Cow::Borrowed(s),
            // Cut inside a character by the limit: the valid part is enough.
            Err(e) if e.error_len().is_none() => {
                Cow::Borrowed(std::str::from_utf8(&body[..e.valid_up_to()]).unwrap_or(""))
            }
            Err(_) => WINDOWS_1252.decode_without_bom_handling(body).0,
        };
    }
    encoding.decode_without_bom_handling(body).0
}

/// A BOM, or NUL-interleaving that gives UTF-16 away; UTF-8 otherwise (and 0 bytes to skip).
fn bom_or_guess(bytes: &[u8]) -> (&'static Encoding, usize) {
    if let Some((encoding, len)) = Encoding::for_bom(bytes) {
        return (encoding, len);
    }
    match bytes {
        [0, b1, 0, b3, ..] if *b1 != 0 && *b3 != 0 => (UTF_16BE, 0),
        [b0, 0, b2, 0, ..] if *b0 != 0 && *b2 != 0 => (UTF_16LE, 0),
        _ => (UTF_8, 0),
    }
}

/// The `encoding="…"` of an XML declaration at the start of the bytes, if any.
pub(crate) fn xml_declared_encoding(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = bytes.get(start..)?;
    if !rest.starts_with(b"<?xml") {
        return None;
    }
    let end = rest.iter().take(512).position(|&b| b == b'>')?;
    let decl = std::str::from_utf8(&rest[..end]).ok()?;
    let after = &decl[decl.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    let value = &value[..value.find(quote)?];
    Some(value.trim().to_string()).filter(|v| !v.is_empty())
}

/// Transcodes to UTF-8. `strict` makes a declared UTF-8 that the bytes contradict an error
/// (for `content-type` declarations); otherwise such bytes fall back to Windows-1252.
pub(crate) fn transcode<'a>(
    bytes: &'a [u8],
    declared: Option<&str>,
    strict: bool,
    format: &'static str,
) -> Result<Decoded<'a>, DecodeError> {
    if let Some((encoding, len)) = Encoding::for_bom(bytes) {
        return Ok(decode_as(encoding, &bytes[len..]));
    }
    let declared = match declared {
        Some(label) => Some(Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            DecodeError::UnsupportedCharset {
                format,
                label: label.to_string(),
            }
        })?),
        None => None,
    };
    match declared {
        Some(encoding) if encoding == UTF_8 => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(utf8(text)),
            Err(e) if strict => Err(DecodeError::InvalidUtf8 {
                format,
                position: e.valid_up_to(),
            }),
            Err(_) => Ok(decode_as(WINDOWS_1252, bytes)),
        },
        Some(encoding) => {
            // An XML prolog saying ISO-8859-1 over bytes that are clean UTF-8 is a common
            // lie; multi-byte UTF-8 that is valid is almost never real Latin-1 text.
            if !strict && !bytes.is_ascii() {
                if let Ok(text) = std::str::from_utf8(bytes) {
                    if encoding == WINDOWS_1252 {
                        return Ok(utf8(text));
                    }
                }
            }
            Ok(decode_as(encoding, bytes))
        }
        None => match bom_or_guess(bytes) {
            (encoding, _) if encoding != UTF_8 => Ok(decode_as(encoding, bytes)),
            _ => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(utf8(text)),
                Err(_) => Ok(decode_as(WINDOWS_1252, bytes)),
            },
        },
    }
}

fn utf8(text: &str) -> Decoded<'_> {
    Decoded {
        text: Cow::Borrowed(text),
        charset: "utf-8",
    }
}

fn decode_as<'a>(encoding: &'static Encoding, bytes: &'a [u8]) -> Decoded<'a> {
    let (text, _had_errors) = encoding.decode_without_bom_handling(bytes);
    Decoded {
        text,
        charset: charset_name(encoding),
    }
}

fn charset_name(encoding: &'static Encoding) -> &'static str {
    match encoding.name() {
        "UTF-8" => "utf-8",
        "UTF-16LE" => "utf-16le",
        "UTF-16BE" => "utf-16be",
        "windows-1252" => "windows-1252",
        "ISO-8859-2" => "iso-8859-2",
        "ISO-8859-15" => "iso-8859-15",
        "windows-1250" => "windows-1250",
        "windows-1251" => "windows-1251",
        "KOI8-R" => "koi8-r",
        "Shift_JIS" => "shift_jis",
        "EUC-JP" => "euc-jp",
        "GBK" => "gbk",
        "gb18030" => "gb18030",
        "Big5" => "big5",
        "EUC-KR" => "euc-kr",
        other => other,
    }
}

/// Windows-1252 bytes 0x80–0x9F and the characters they stand for.
const CP1252_HIGH: [(u8, char); 27] = [
    (0x80, '\u{20ac}'),
    (0x82, '\u{201a}'),
    (0x83, '\u{0192}'),
    (0x84, '\u{201e}'),
    (0x85, '\u{2026}'),
    (0x86, '\u{2020}'),
    (0x87, '\u{2021}'),
    (0x88, '\u{02c6}'),
    (0x89, '\u{2030}'),
    (0x8a, '\u{0160}'),
    (0x8b, '\u{2039}'),
    (0x8c, '\u{0152}'),
    (0x8e, '\u{017d}'),
    (0x91, '\u{2018}'),
    (0x92, '\u{2019}'),
    (0x93, '\u{201c}'),
    (0x94, '\u{201d}'),
    (0x95, '\u{2022}'),
    (0x96, '\u{2013}'),
    (0x97, '\u{2014}'),
    (0x98, '\u{02dc}'),
    (0x99, '\u{2122}'),
    (0x9a, '\u{0161}'),
    (0x9b, '\u{203a}'),
    (0x9c, '\u{0153}'),
    (0x9e, '\u{017e}'),
    (0x9f, '\u{0178}'),
];

/// The Windows-1252 (or Latin-1) byte a non-ASCII character came from, if any.
fn cp1252_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    if (0xa0..=0xff).contains(&code) || (0x80..=0x9f).contains(&code) {
        return u8::try_from(code).ok();
    }
    CP1252_HIGH
        .iter()
        .find(|(_, ch)| *ch == c)
        .map(|(byte, _)| *byte)
}

/// One pass of repair; `None` when nothing changed.
fn repair_once(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let Some(lead) = cp1252_byte(c) else {
            out.push(c);
            i += 1;
            continue;
        };
        let need = match lead {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 0,
        };
        if need > 0 && i + need <= chars.len() {
            let mut buf = [lead, 0, 0, 0];
            let complete = (1..need).all(|k| match cp1252_byte(chars[i + k]) {
                Some(b @ 0x80..=0xbf) => {
                    buf[k] = b;
                    true
                }
                _ => false,
            });
            if complete {
                if let Ok(s) = std::str::from_utf8(&buf[..need]) {
                    out.push_str(s);
                    changed = true;
                    i += need;
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    changed.then_some(out)
}

/// True when the text shows a typical mojibake pair: `Ã`, `Â`, `Ä`, `Å`, `Ð` or `Ñ` before a
/// character standing for a UTF-8 continuation byte, or `â` before `€`, `‚` or `„`. Text
/// without such a pair is never touched, so genuine sequences like `ß€` survive.
fn has_marker(text: &str) -> bool {
    // Every marker's first character (U+00C2–U+00E2) is encoded with the lead byte 0xC3,
    // which is never a continuation byte: only the characters starting at a 0xC3 byte need
    // decoding, and text without one (all ASCII copy) is done after one memchr pass.
    memchr::memchr_iter(0xC3, text.as_bytes()).any(|at| {
        let mut chars = text.get(at..).unwrap_or_default().chars();
        let (Some(prev), Some(c)) = (chars.next(), chars.next()) else {
            return false;
        };
        match prev {
            'Ã' | 'Â' | 'Ä' | 'Å' | 'Ð' | 'Ñ' => matches!(cp1252_byte(c), Some(0x80..=0xbf)),
            'â' => matches!(c, '€' | '‚' | '„'),
            _ => false,
        }
    })
}

/// Repairs mojibake (up to two layers); `None` when the text is clean.
pub fn repair(text: &str) -> Option<String> {
    if !has_marker(text) {
        return None;
    }
    let once = repair_once(text)?;
    if !has_marker(&once) {
        return Some(once);
    }
    Some(repair_once(&once).unwrap_or(once))
}

/// Repairs every text field of a story and records each change in
/// `enrichment.normalisation` (kind `repair_mojibake`; `at` is the byte offset in the body
/// text for body blocks, 0 for header fields, whose kind is `repair_mojibake:<field>`).
pub(crate) fn repair_story(story: &mut Story) {
    let mut log = Vec::new();
    for (field, value) in [
        ("headline", &mut story.headline),
        ("slugline", &mut story.slugline),
        ("byline", &mut story.byline),
        ("dateline", &mut story.dateline),
        ("located", &mut story.located),
    ] {
        if let Some(fixed) = value.as_deref().and_then(repair) {
            log.push(Normalisation {
                kind: format!("repair_mojibake:{field}"),
                from: value.take().unwrap_or_default(),
                to: fixed.clone(),
                at: 0,
            });
            *value = Some(fixed);
        }
    }
    let mut offset = 0;
    for block in &mut story.body {
        if let Some(fixed) = repair(&block.text) {
            log.push(Normalisation {
                kind: "repair_mojibake".into(),
                from: std::mem::replace(&mut block.text, fixed.clone()),
                to: fixed,
                at: offset,
            });
        }
        offset += block.text.len() + 2;
    }
    for media in &mut story.media {
        for value in [&mut media.caption, &mut media.credit] {
            if let Some(fixed) = value.as_deref().and_then(repair) {
                *value = Some(fixed);
            }
        }
    }
    for note in &mut story.ed_notes {
        if let Some(fixed) = repair(note) {
            *note = fixed;
        }
    }
    story.enrichment.normalisation.extend(log);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_classic_mojibake() {
        for (input, want) in [
            ("cafÃ©", Some("café")),
            ("Itâ€™s", Some("It’s")),
            ("â€œQuoteâ€\u{9d}", Some("“Quote”")),
            ("SÃ£o Paulo and ZÃ¼rich", Some("São Paulo and Zürich")),
            ("cafÃƒÂ©", Some("café")),
            ("café", None),
            ("Ã la carte", None),
            ("plain ascii", None),
            ("中文", None),
            ("Straße €5", None),
        ] {
            assert_eq!(repair(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn transcodes_by_evidence() {
        let d = transcode(b"\xff\xfeH\x00i\x00", None, false, "plain").unwrap();
        assert_eq!((d.text.as_ref(), d.charset), ("Hi", "utf-16le"));
        let d = transcode(b"\xfe\xff\x00H\x00i", None, false, "plain").unwrap();
        assert_eq!((d.text.as_ref(), d.charset), ("Hi", "utf-16be"));
        let d = transcode(b"\xef\xbb\xbfH\xc3\xa9", None, false, "plain").unwrap();
        assert_eq!((d.text.as_ref(), d.charset), ("Hé", "utf-8"));
        let d = transcode(b"H\xe9", Some("ISO-8859-1"), true, "plain").unwrap();
        assert_eq!((d.text.as_ref(), d.charset), ("Hé", "windows-1252"));
        let d = transcode(b"H\xe9", Some("utf-8"), false, "nitf").unwrap();
        assert_eq!((d.text.as_ref(), d.charset), ("Hé", "windows-1252"));
        let d = transcode("Hé".as_bytes(), Some("iso-8859-1"), false, "nitf").unwrap();
        assert_eq!((d.text.as_ref(), d.charset), ("Hé", "utf-8"));
        let d = transcode(b"<\x00a\x00/\x00>\x00", None, false, "nitf").unwrap();
        assert_eq!((d.text.as_ref(), d.charset), ("<a/>", "utf-16le"));
    }

    #[test]
    fn reads_xml_prolog() {
        assert_eq!(
            xml_declared_encoding(b"<?xml version=\"1.0\" encoding='ISO-8859-1'?><a/>"),
            Some("ISO-8859-1".into())
        );
        assert_eq!(xml_declared_encoding(b"<?xml version=\"1.0\"?><a/>"), None);
        assert_eq!(xml_declared_encoding(b"<a/>"), None);
    }

    #[test]
    fn blank_table() {
        for (input, want) in [
            (&b""[..], true),
            (b" \t\r\n\x0b\x0c\0", true),
            (b"\xef\xbb\xbf \n", true),
            (b"\xff\xfe \x00\n\x00", true),
            (b"\xc2\xa0\xe3\x80\x80", true),
            (b" \n x", false),
            (b"\xff\xfex\x00", false),
            (b"\xc2\xa0\xc3\xa9", false),
            (b"\x01", false),
        ] {
            assert_eq!(is_blank(input), want, "{input:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn blank_fast_path_agrees_with_decoding(
            bytes in proptest::collection::vec(proptest::sample::select(
                vec![0u8, b' ', b'\t', b'\n', 0x0b, 0x0c, b'x', 0x01, 0xc2, 0xa0, 0xe3, 0x80, 0xef, 0xbb, 0xbf, 0xff, 0xfe, 0x85]
            ), 0..12)
        ) {
            proptest::prop_assert_eq!(is_blank(&bytes), is_blank_decoded(&bytes));
        }
    }
}
