//! Entity and character references: the five XML entities, numeric references and the HTML
//! names that NITF and XHTML bodies use without declaring them (NITF's external DTD, which
//! declares them, is never fetched).

/// HTML named entities that NITF and XHTML bodies use without declaring them.
const HTML_ENTITIES: &[(&str, u32)] = &[
    ("nbsp", 0xa0),
    ("ensp", 0x2002),
    ("emsp", 0x2003),
    ("thinsp", 0x2009),
    ("shy", 0xad),
    ("ndash", 0x2013),
    ("mdash", 0x2014),
    ("lsquo", 0x2018),
    ("rsquo", 0x2019),
    ("sbquo", 0x201a),
    ("ldquo", 0x201c),
    ("rdquo", 0x201d),
    ("bdquo", 0x201e),
    ("hellip", 0x2026),
    ("bull", 0x2022),
    ("middot", 0xb7),
    ("copy", 0xa9),
    ("reg", 0xae),
    ("trade", 0x2122),
    ("deg", 0xb0),
    ("euro", 0x20ac),
    ("pound", 0xa3),
    ("yen", 0xa5),
    ("cent", 0xa2),
    ("sect", 0xa7),
    ("para", 0xb6),
    ("laquo", 0xab),
    ("raquo", 0xbb),
    ("lsaquo", 0x2039),
    ("rsaquo", 0x203a),
    ("times", 0xd7),
    ("divide", 0xf7),
    ("plusmn", 0xb1),
    ("frac12", 0xbd),
    ("frac14", 0xbc),
    ("frac34", 0xbe),
    ("iexcl", 0xa1),
    ("iquest", 0xbf),
    ("dagger", 0x2020),
    ("prime", 0x2032),
    ("aacute", 0xe1),
    ("agrave", 0xe0),
    ("acirc", 0xe2),
    ("auml", 0xe4),
    ("atilde", 0xe3),
    ("aring", 0xe5),
    ("aelig", 0xe6),
    ("ccedil", 0xe7),
    ("eacute", 0xe9),
    ("egrave", 0xe8),
    ("ecirc", 0xea),
    ("euml", 0xeb),
    ("iacute", 0xed),
    ("igrave", 0xec),
    ("icirc", 0xee),
    ("iuml", 0xef),
    ("eth", 0xf0),
    ("ntilde", 0xf1),
    ("oacute", 0xf3),
    ("ograve", 0xf2),
    ("ocirc", 0xf4),
    ("ouml", 0xf6),
    ("otilde", 0xf5),
    ("oslash", 0xf8),
    ("uacute", 0xfa),
    ("ugrave", 0xf9),
    ("ucirc", 0xfb),
    ("uuml", 0xfc),
    ("yacute", 0xfd),
    ("yuml", 0xff),
    ("thorn", 0xfe),
    ("szlig", 0xdf),
    ("Aacute", 0xc1),
    ("Agrave", 0xc0),
    ("Acirc", 0xc2),
    ("Auml", 0xc4),
    ("Atilde", 0xc3),
    ("Aring", 0xc5),
    ("AElig", 0xc6),
    ("Ccedil", 0xc7),
    ("Eacute", 0xc9),
    ("Egrave", 0xc8),
    ("Ecirc", 0xca),
    ("Euml", 0xcb),
    ("Iacute", 0xcd),
    ("Igrave", 0xcc),
    ("Icirc", 0xce),
    ("Iuml", 0xcf),
    ("ETH", 0xd0),
    ("Ntilde", 0xd1),
    ("Oacute", 0xd3),
    ("Ograve", 0xd2),
    ("Ocirc", 0xd4),
    ("Ouml", 0xd6),
    ("Otilde", 0xd5),
    ("Oslash", 0xd8),
    ("Uacute", 0xda),
    ("Ugrave", 0xd9),
    ("Ucirc", 0xdb),
    ("Uuml", 0xdc),
    ("Yacute", 0xdd),
    ("THORN", 0xde),
    ("OElig", 0x152),
    ("oelig", 0x153),
    ("Scaron", 0x160),
    ("scaron", 0x161),
];

/// The character an entity or character reference names (`amp`, `#233`, `#xE9`, `nbsp`);
/// `None` when it names nothing known or an invalid code point.
pub(crate) fn resolve(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            if let Some(number) = name.strip_prefix('#') {
                // Digits only: Rust's integer parsers would also take a sign (`&#+65;`).
                let code = match number.strip_prefix(['x', 'X']) {
                    Some(hex) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                        u32::from_str_radix(hex, 16).ok()
                    }
                    Some(_) => None,
                    None if number.bytes().all(|b| b.is_ascii_digit()) => number.parse().ok(),
                    None => None,
                };
                // NUL is not an XML character, even as a reference.
                code.filter(|&c| c != 0).and_then(char::from_u32)
            } else {
                HTML_ENTITIES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, c)| char::from_u32(*c))
            }
        }
    }
}

/// Replaces every reference [`resolve`] knows, leaving unknown ones (and lone `&`) as they
/// are: for markup too broken to parse.
pub(crate) fn decode_lenient(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .bytes()
            .take(12)
            .position(|b| b == b';')
            .and_then(|semi| resolve(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_table() {
        for (name, want) in [
            ("amp", Some('&')),
            ("apos", Some('\'')),
            ("#233", Some('é')),
            ("#xE9", Some('é')),
            ("#Xe9", Some('é')),
            ("nbsp", Some('\u{a0}')),
            ("mdash", Some('\u{2014}')),
            ("#0", None),
            ("#xD800", None),
            ("#", None),
            ("#x", None),
            ("#+65", None),
            ("#x+41", None),
            ("#-1", None),
            ("bogus", None),
            ("", None),
        ] {
            assert_eq!(resolve(name), want, "{name}");
        }
    }

    #[test]
    fn lenient_decoding_keeps_what_it_cannot_resolve() {
        assert_eq!(decode_lenient("a &amp; b"), "a & b");
        assert_eq!(decode_lenient("AT&T &bogus; &#233;"), "AT&T &bogus; é");
        assert_eq!(decode_lenient("&"), "&");
    }
}
