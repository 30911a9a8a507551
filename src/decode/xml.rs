//! Shared XML plumbing for NITF and NewsML-G2: safe parsing (no DTD, bounded depth and node
//! count, HTML entities pre-substituted), namespace-agnostic navigation and the body walk
//! that turns NITF / XHTML block markup into [`Block`]s and [`Media`].

use std::borrow::Cow;

use roxmltree::{Document, Node, ParsingOptions};

use super::{squash, Ctx, DecodeError};
use crate::story::{Block, BlockKind, Media};

/// The local name of the root element, skipping the XML declaration, comments,
/// processing instructions and a DOCTYPE; `None` when the text does not start like XML.
pub(crate) fn root_name(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[r.find("?>")? + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->")? + 3..];
        } else if rest.starts_with("<!DOCTYPE") || rest.starts_with("<!doctype") {
            rest = &rest[doctype_len(rest)?..];
        } else {
            break;
        }
        rest = rest.trim_start();
    }
    let r = rest.strip_prefix('<')?;
    let end = r
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(r.len());
    let qname = &r[..end];
    let local = qname.rsplit(':').next().unwrap_or(qname);
    let first = local.chars().next()?;
    (first.is_alphabetic() || first == '_').then_some(local)
}

/// Byte length of a DOCTYPE declaration starting at `text[0]`, internal subset included.
fn doctype_len(text: &str) -> Option<usize> {
    let mut in_subset = false;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => in_subset = true,
            (None, ']') => in_subset = false,
            (None, '>') if !in_subset => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Parses XML safely. DOCTYPEs without an internal subset are dropped (NITF files name an
/// external DTD that is never fetched); an internal subset declaring entities is refused,
/// so billion-laughs documents never expand.
pub(crate) fn parse<'t>(
    text: &'t str,
    format: &'static str,
    ctx: &Ctx,
) -> Result<Document<'t>, DecodeError> {
    check_depth(text, format, ctx.max_depth)?;
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: ctx.max_nodes,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|e| {
        let pos = e.pos();
        match e {
            roxmltree::Error::NodesLimitReached => DecodeError::Limit {
                format,
                message: format!("more than {} XML nodes", ctx.max_nodes),
                position: text.len(),
            },
            roxmltree::Error::EntityReferenceLoop(_) | roxmltree::Error::DtdDetected => {
                DecodeError::Limit {
                    format,
                    message: "DTD or entity expansion refused".into(),
                    position: 0,
                }
            }
            other => DecodeError::Xml {
                format,
                message: other.to_string(),
                line: pos.row,
                column: pos.col,
            },
        }
    })
}

/// Prepares text for [`parse`]: removes a harmless DOCTYPE, refuses entity declarations and
/// rewrites HTML named entities (`&nbsp;`) as character references. Borrowed when there was
/// nothing to change.
pub(crate) fn prepare<'t>(
    text: &'t str,
    format: &'static str,
) -> Result<Cow<'t, str>, DecodeError> {
    let mut out: Cow<'t, str> = Cow::Borrowed(text);
    if let Some(start) = find_doctype(text) {
        let len = doctype_len(&text[start..]).ok_or_else(|| DecodeError::Xml {
            format,
            message: "unterminated DOCTYPE".into(),
            line: 1,
            column: 1,
        })?;
        let decl = &text[start..start + len];
        if decl.contains("<!ENTITY") || decl.contains("<!entity") {
            return Err(DecodeError::Limit {
                format,
                message: "DTD entity declarations are refused (no entity expansion)".into(),
                position: start + decl.find("<!").unwrap_or(0),
            });
        }
        let mut owned = String::with_capacity(text.len());
        owned.push_str(&text[..start]);
        owned.extend(std::iter::repeat_n(' ', len));
        owned.push_str(&text[start + len..]);
        out = Cow::Owned(owned);
    }
    if let Some(rewritten) = substitute_html_entities(&out) {
        out = Cow::Owned(rewritten);
    }
    Ok(out)
}

/// Where a DOCTYPE starts, when it comes before the root element. Walks the `<` of the
/// prolog (declarations, comments) and stops at the first element start, so the body of a
/// document without a DOCTYPE is never searched.
fn find_doctype(text: &str) -> Option<usize> {
    let upto = text.len().min(64 * 1024);
    let head = &text.as_bytes()[..upto];
    // `Some(found)` ends the walk: at the DOCTYPE, or at the root element without one.
    memchr::memchr_iter(b'<', head).find_map(|i| match head.get(i + 1) {
        Some(b'?') => None,
        Some(b'!') => {
            let rest = &head[i..];
            (rest.starts_with(b"<!DOCTYPE") || rest.starts_with(b"<!doctype")).then_some(Some(i))
        }
        _ => Some(None),
    })?
}

/// Bounds element nesting with a cheap scan before building the tree.
fn check_depth(text: &str, format: &'static str, max_depth: usize) -> Result<(), DecodeError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(off) = bytes.get(i..).and_then(|rest| memchr::memchr(b'<', rest)) {
        let at = i + off;
        let rest = &bytes[at..];
        let skip_to = |needle: &[u8]| -> usize {
            memchr::memmem::find(rest, needle).map_or(bytes.len(), |p| at + p + needle.len())
        };
        i = match rest.get(1) {
            Some(b'/') => {
                depth = depth.saturating_sub(1);
                at + 2
            }
            Some(b'!') if rest.starts_with(b"<!--") => skip_to(b"-->"),
            Some(b'!') if rest.starts_with(b"<![CDATA[") => skip_to(b"]]>"),
            Some(b'!') | Some(b'?') => skip_to(b">"),
            Some(_) => {
                let end = tag_end(rest).map_or(bytes.len(), |p| at + p);
                if end > at && bytes.get(end.saturating_sub(1)) != Some(&b'/') {
                    depth += 1;
                    if depth > max_depth {
                        return Err(DecodeError::Limit {
                            format,
                            message: format!("XML nesting deeper than {max_depth}"),
                            position: at,
                        });
                    }
                }
                end + 1
            }
            None => bytes.len(),
        };
    }
    Ok(())
}

/// Index of the `>` that ends the tag at `tag[0]`, skipping quoted attribute values.
fn tag_end(tag: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in tag.iter().enumerate().skip(1) {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

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

/// Rewrites known HTML named entities as numeric references; `None` when there were none.
pub(crate) fn substitute_html_entities(text: &str) -> Option<String> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    for (amp, _) in text.match_indices('&') {
        let rest = &text[amp + 1..];
        let Some(semi) = rest.bytes().take(10).position(|b| b == b';') else {
            continue;
        };
        let name = &rest[..semi];
        let Some((_, code)) = HTML_ENTITIES.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
        buf.push_str(&text[copied..amp]);
        buf.push_str(&format!("&#{code};"));
        copied = amp + 1 + semi + 1;
    }
    let mut buf = out?;
    buf.push_str(&text[copied..]);
    Some(buf)
}

/// The first child element with this local name.
pub(crate) fn child<'a, 'i>(node: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == local)
}

/// Every child element with this local name.
pub(crate) fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == local)
}

/// The first descendant element (or the node itself) with this local name.
pub(crate) fn descendant<'a, 'i>(node: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    node.descendants()
        .find(|c| c.is_element() && c.tag_name().name() == local)
}

/// Follows a path of child local names.
pub(crate) fn path<'a, 'i>(node: Node<'a, 'i>, steps: &[&str]) -> Option<Node<'a, 'i>> {
    steps.iter().try_fold(node, |n, step| child(n, step))
}

/// An attribute by local name, whatever its namespace.
pub(crate) fn attr<'a>(node: Node<'a, '_>, local: &str) -> Option<&'a str> {
    node.attributes()
        .find(|a| a.name() == local)
        .map(|a| a.value())
        .filter(|v| !v.trim().is_empty())
}

/// All text below the node, whitespace collapsed; `None` when empty.
pub(crate) fn text_of(node: Node<'_, '_>) -> Option<String> {
    let mut raw = String::new();
    for d in node.descendants() {
        if d.is_text() {
            raw.push_str(d.text().unwrap_or(""));
        } else if d.is_element() && d.tag_name().name() == "br" {
            raw.push(' ');
        }
    }
    squash(&raw)
}

/// Text below the node, leaving out the subtrees of the named child elements.
pub(crate) fn text_without(node: Node<'_, '_>, skip: &[&str]) -> Option<String> {
    let mut raw = String::new();
    collect_text(node, skip, &mut raw, 0);
    squash(&raw)
}

fn collect_text(node: Node<'_, '_>, skip: &[&str], raw: &mut String, depth: usize) {
    for c in node.children() {
        if c.is_text() {
            raw.push_str(c.text().unwrap_or(""));
        } else if c.is_element() && !skip.contains(&c.tag_name().name()) && depth < 512 {
            raw.push(' ');
            collect_text(c, skip, raw, depth + 1);
        }
    }
}

/// What a body walk found.
#[derive(Debug, Default)]
pub(crate) struct BodyOut {
    /// Body blocks in order.
    pub blocks: Vec<Block>,
    /// Media found in the body.
    pub media: Vec<Media>,
    /// Editor's notes found in the body.
    pub ed_notes: Vec<String>,
}

impl BodyOut {
    fn push(&mut self, kind: BlockKind, text: Option<String>) {
        if let Some(text) = text {
            self.blocks.push(Block { kind, text });
        }
    }
}

/// Walks NITF `body.content` or an XHTML `body`, block by block.
pub(crate) fn walk_body(node: Node<'_, '_>, out: &mut BodyOut) {
    walk(node, out, 0);
}

fn walk(node: Node<'_, '_>, out: &mut BodyOut, depth: usize) {
    // Depth is bounded by the parse-time check; this guard keeps the walk stack-safe even
    // if that limit is configured very high.
    if depth > 1024 {
        return;
    }
    let mut loose = String::new();
    for c in node.children() {
        if c.is_text() {
            loose.push_str(c.text().unwrap_or(""));
            continue;
        }
        if !c.is_element() {
            continue;
        }
        let name = c.tag_name().name();
        if is_inline(name) {
            if let Some(t) = text_of(c) {
                loose.push(' ');
                loose.push_str(&t);
                loose.push(' ');
            }
            continue;
        }
        out.push(BlockKind::Paragraph, squash(&std::mem::take(&mut loose)));
        match name {
            "p" | "li" | "pre" | "dd" | "dt" | "fn" | "tagline" | "address" => {
                out.push(BlockKind::Paragraph, text_of(c))
            }
            "hl1" | "hl2" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                out.push(BlockKind::Crosshead, text_of(c))
            }
            "bq" | "blockquote" | "q" => out.push(
                BlockKind::Quote,
                text_without(c, &["credit", "cite", "footer"]),
            ),
            "media" => out.media.push(nitf_media(c, out.media.len() + 1)),
            "img" => out.media.push(Media {
                name: format!("image{}", out.media.len() + 1),
                kind: "picture".into(),
                uri: attr(c, "src").map(str::to_string),
                caption: attr(c, "alt").and_then(squash),
                credit: None,
            }),
            "figure" => out.media.push(figure_media(c, out.media.len() + 1)),
            "note" | "ed-msg" => {
                if let Some(t) = text_of(c) {
                    out.ed_notes.push(t);
                }
            }
            "table" | "nitf-table" => {
                for row in c.descendants().filter(|d| d.tag_name().name() == "tr") {
                    let cells: Vec<String> = row
                        .children()
                        .filter(|d| d.is_element())
                        .filter_map(text_of)
                        .collect();
                    if !cells.is_empty() {
                        out.push(BlockKind::Paragraph, Some(cells.join(" | ")));
                    }
                }
            }
            "br" | "hr" | "script" | "style" | "head" | "title" | "meta" | "link" | "object"
            | "credit" => {}
            _ => walk(c, out, depth + 1),
        }
    }
    out.push(BlockKind::Paragraph, squash(&loose));
}

fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "b"
            | "i"
            | "em"
            | "strong"
            | "span"
            | "u"
            | "sub"
            | "sup"
            | "small"
            | "abbr"
            | "cite"
            | "code"
            | "person"
            | "org"
            | "location"
            | "city"
            | "state"
            | "country"
            | "region"
            | "event"
            | "function"
            | "object.title"
            | "money"
            | "num"
            | "chron"
            | "copyrite"
            | "virtloc"
            | "classifier"
            | "alt-code"
            | "pronounce"
            | "lang"
            | "frac"
            | "sub-point"
            | "postaddr"
            | "br"
    )
}

/// Media kind from a NITF `media-type` / G2 item class.
pub(crate) fn media_kind(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    let lower = lower.rsplit(':').next().unwrap_or(&lower);
    match lower {
        "photo" | "image" | "picture" | "still" => "picture".into(),
        "video" | "movie" => "video".into(),
        "audio" | "sound" => "audio".into(),
        "graphic" | "chart" | "map" | "illustration" => "graphic".into(),
        "" => "picture".into(),
        other => other.to_string(),
    }
}

/// A NITF `<media>` element.
fn nitf_media(node: Node<'_, '_>, n: usize) -> Media {
    let kind = media_kind(attr(node, "media-type").unwrap_or("picture"));
    let reference = child(node, "media-reference");
    let credits: Vec<String> = children(node, "media-producer")
        .filter_map(text_of)
        .collect();
    let credit = (!credits.is_empty())
        .then(|| credits.join(", "))
        .or_else(|| {
            children(node, "media-metadata")
                .find(|m| attr(*m, "name").is_some_and(|n| n.eq_ignore_ascii_case("credit")))
                .and_then(|m| attr(m, "value"))
                .and_then(squash)
        });
    Media {
        name: attr(node, "id").map_or_else(|| format!("{kind}{n}"), str::to_string),
        uri: reference
            .and_then(|r| attr(r, "source").or_else(|| attr(r, "data")))
            .map(str::to_string),
        caption: child(node, "media-caption").and_then(text_of),
        credit,
        kind,
    }
}

/// An XHTML `<figure>`: image source, `figcaption`, and a credit marked by class.
fn figure_media(node: Node<'_, '_>, n: usize) -> Media {
    let credit_node = node
        .descendants()
        .find(|d| d.is_element() && attr(*d, "class").is_some_and(|c| c.contains("credit")));
    let caption = descendant(node, "figcaption")
        .and_then(|f| text_without(f, &[]))
        .map(|c| match credit_node.and_then(text_of) {
            Some(credit) => squash(&c.replace(&credit, "")).unwrap_or(c),
            None => c,
        });
    Media {
        name: format!("image{n}"),
        kind: "picture".into(),
        uri: descendant(node, "img")
            .and_then(|i| attr(i, "src"))
            .map(str::to_string),
        caption,
        credit: credit_node.and_then(text_of),
    }
}

/// An HTML/XHTML fragment (ninjs `body_html`, XHTML bodies) as blocks: parsed as XML when
/// it is well-formed enough, otherwise tags are stripped and block tags become breaks.
pub(crate) fn html_blocks(html: &str, ctx: &Ctx) -> BodyOut {
    let wrapped = format!("<div>{html}</div>");
    if let Ok(prepared) = prepare(&wrapped, "html") {
        if let Ok(doc) = parse(&prepared, "html", ctx) {
            let mut out = BodyOut::default();
            walk_body(doc.root_element(), &mut out);
            return out;
        }
    }
    // Not well-formed: a lenient tag scan. Block tags end the current block; headings make
    // crossheads and text inside <blockquote> makes quotes.
    let mut out = BodyOut::default();
    let mut current = String::new();
    let mut kind = BlockKind::Paragraph;
    let mut quote_depth = 0usize;
    let flush = |out: &mut BodyOut, current: &mut String, kind: BlockKind| {
        let text = decode_basic_entities(&std::mem::take(current));
        out.push(kind, squash(&text));
    };
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        current.push_str(&rest[..lt]);
        let after = &rest[lt..];
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        let closing = after.starts_with("</");
        let tag = after[..end]
            .trim_start_matches(['<', '/'])
            .to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        rest = &after[end..];
        let base = if quote_depth > 0 {
            BlockKind::Quote
        } else {
            BlockKind::Paragraph
        };
        match name.as_str() {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                flush(&mut out, &mut current, kind);
                kind = if closing { base } else { BlockKind::Crosshead };
            }
            "blockquote" => {
                flush(&mut out, &mut current, kind);
                quote_depth = if closing {
                    quote_depth.saturating_sub(1)
                } else {
                    quote_depth + 1
                };
                kind = if quote_depth > 0 {
                    BlockKind::Quote
                } else {
                    BlockKind::Paragraph
                };
            }
            "p" | "br" | "div" | "li" | "tr" | "ul" | "ol" | "table" | "section" => {
                flush(&mut out, &mut current, kind);
                kind = base;
            }
            _ => {}
        }
    }
    current.push_str(rest);
    flush(&mut out, &mut current, kind);
    out
}

/// Decodes the XML predefined entities, numeric references and known HTML names.
fn decode_basic_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.bytes().take(12).position(|b| b == b';');
        let decoded = semi.and_then(|s| {
            let name = &after[..s];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ if name.starts_with("#x") || name.starts_with("#X") => {
                    u32::from_str_radix(&name[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
                _ => HTML_ENTITIES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, c)| char::from_u32(*c)),
            };
            c.map(|c| (c, s))
        });
        match decoded {
            Some((c, s)) => {
                out.push(c);
                rest = &after[s + 1..];
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
    fn doctype_only_in_the_prolog_table() {
        for (text, want) in [
            (
                "<?xml version=\"1.0\"?><!DOCTYPE nitf SYSTEM \"x\"><nitf/>",
                Some(21),
            ),
            ("<!-- c --><!doctype nitf><nitf/>", Some(10)),
            ("<nitf><!DOCTYPE x></nitf>", None),
            // Comments are not parsed: a tag inside one ends the prolog, as it always did.
            ("<!-- <p> --><!DOCTYPE x><a/>", None),
            ("<a/>", None),
            ("no markup", None),
        ] {
            assert_eq!(find_doctype(text), want, "{text}");
        }
    }
    use chrono::{FixedOffset, Offset, Utc};

    fn ctx() -> Ctx {
        let _: FixedOffset = Utc.fix();
        Ctx {
            tz: Utc.fix(),
            max_depth: 256,
            max_nodes: 10_000,
        }
    }

    #[test]
    fn root_names() {
        assert_eq!(
            root_name("<?xml version='1.0'?><!-- x --><a:b/>"),
            Some("b")
        );
        assert_eq!(
            root_name("<!DOCTYPE nitf [ <!ENTITY x 'y'> ]>\n<nitf>"),
            Some("nitf")
        );
        assert_eq!(root_name("< nitf>"), None);
        assert_eq!(root_name("<?xml unterminated"), None);
    }

    #[test]
    fn billion_laughs_is_refused_not_expanded() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<nitf>&lol3;</nitf>"#;
        let err = prepare(bomb, "nitf").unwrap_err();
        assert_eq!(err.class(), "limit_exceeded");
        let external =
            r#"<!DOCTYPE nitf [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><nitf>&xxe;</nitf>"#;
        assert_eq!(
            prepare(external, "nitf").unwrap_err().class(),
            "limit_exceeded"
        );
    }

    #[test]
    fn external_doctype_is_dropped_and_entities_substituted() {
        let text = "<!DOCTYPE nitf SYSTEM \"nitf-3-6.dtd\">\n<nitf>a&nbsp;b&amp;c&mdash;</nitf>";
        let prepared = prepare(text, "nitf").unwrap();
        let doc = parse(&prepared, "nitf", &ctx()).unwrap();
        assert_eq!(doc.root_element().text(), Some("a\u{a0}b&c\u{2014}"));
    }

    #[test]
    fn depth_and_nodes_are_bounded() {
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        let err = parse(&deep, "nitf", &ctx()).unwrap_err();
        assert_eq!(err.class(), "limit_exceeded");
        let wide = format!("<a>{}</a>", "<b/>".repeat(20_000));
        assert_eq!(
            parse(&wide, "nitf", &ctx()).unwrap_err().class(),
            "limit_exceeded"
        );
        let broken = html_blocks("<p>One &amp; <b>two</p><h2>Cross</h2>", &ctx());
        assert_eq!(broken.blocks.len(), 2);
        assert_eq!(broken.blocks[0].text, "One & two");
        let good = html_blocks(
            "<p>One&nbsp;</p><h2>Cross</h2><blockquote><p>Q</p></blockquote>",
            &ctx(),
        );
        let kinds: Vec<BlockKind> = good.blocks.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            vec![BlockKind::Paragraph, BlockKind::Crosshead, BlockKind::Quote]
        );
        let ok = format!("{}{}", "<a x='>'>".repeat(200), "</a>".repeat(200));
        assert!(parse(&ok, "nitf", &ctx()).is_ok());
    }

    #[test]
    fn malformed_xml_names_line_and_column() {
        let err = parse("<nitf>\n  <p>x</q>\n</nitf>", "nitf", &ctx()).unwrap_err();
        match err {
            DecodeError::Xml { line, column, .. } => assert_eq!((line, column), (2, 7)),
            other => panic!("{other:?}"),
        }
    }
}
