//! The body walk: NITF `body.content` and XHTML block markup as [`Block`]s, [`Media`] and
//! editor's notes, and HTML fragments (ninjs `body_html`) with a lenient fallback.

use super::dom::{parse, Node};
use super::entities::decode_lenient;
use super::{attr, child, children, descendant, text_of, text_without};
use crate::decode::{squash, Ctx};
use crate::story::{Block, BlockKind, Media};

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
        let name = c.name();
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
                for row in c.descendants().filter(|d| d.name() == "tr") {
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
    if let Ok(doc) = parse(&wrapped, "html", ctx) {
        let mut out = BodyOut::default();
        walk_body(doc.root_element(), &mut out);
        return out;
    }
    // Not well-formed: a lenient tag scan. Block tags end the current block; headings make
    // crossheads and text inside <blockquote> makes quotes.
    let mut out = BodyOut::default();
    let mut current = String::new();
    let mut kind = BlockKind::Paragraph;
    let mut quote_depth = 0usize;
    let flush = |out: &mut BodyOut, current: &mut String, kind: BlockKind| {
        let text = decode_lenient(&std::mem::take(current));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx::for_tests()
    }

    #[test]
    fn html_fragments_parse_or_fall_back() {
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
    }
}
