//! Shared XML plumbing for NITF and NewsML-G2: root sniffing for format detection, a safe
//! light tree ([`dom`]), namespace-agnostic navigation (here), reference resolution
//! ([`entities`]) and the body walk that turns NITF / XHTML block markup into blocks and
//! media ([`body`]).

mod body;
mod dom;
mod entities;

pub(crate) use body::{html_blocks, media_kind, walk_body, BodyOut};
pub(crate) use dom::{parse, Node};

use super::squash;

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

/// The prolog's DOCTYPE declaration as `start..end`; `Err(start)` when it never ends.
/// Quoted literals may hold `>` (`SYSTEM "a>b.dtd"`), which a bracket count alone misreads.
fn prolog_doctype(text: &str) -> Option<Result<std::ops::Range<usize>, usize>> {
    let start = find_doctype(text)?;
    Some(
        doctype_len(&text[start..])
            .map(|len| start..start + len)
            .ok_or(start),
    )
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

/// The first child element with this local name.
pub(crate) fn child<'a, 'i>(node: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.name() == local)
}

/// Every child element with this local name.
pub(crate) fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.name() == local)
}

/// The first descendant element (or the node itself) with this local name.
pub(crate) fn descendant<'a, 'i>(node: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    node.descendants()
        .find(|c| c.is_element() && c.name() == local)
}

/// Follows a path of child local names.
pub(crate) fn path<'a, 'i>(node: Node<'a, 'i>, steps: &[&str]) -> Option<Node<'a, 'i>> {
    steps.iter().try_fold(node, |n, step| child(n, step))
}

/// An attribute by local name, whatever its namespace.
pub(crate) fn attr<'a>(node: Node<'a, '_>, local: &str) -> Option<&'a str> {
    node.attributes()
        .iter()
        .find(|a| a.name == local)
        .map(|a| &*a.value)
        .filter(|v| !v.trim().is_empty())
}

/// All text below the node, whitespace collapsed; `None` when empty.
pub(crate) fn text_of(node: Node<'_, '_>) -> Option<String> {
    let mut raw = String::new();
    for d in node.descendants() {
        if d.is_text() {
            raw.push_str(d.text().unwrap_or(""));
        } else if d.is_element() && d.name() == "br" {
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
        } else if c.is_element() && !skip.contains(&c.name()) && depth < 512 {
            raw.push(' ');
            collect_text(c, skip, raw, depth + 1);
        }
    }
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

    #[test]
    fn prolog_doctype_spans_quoted_brackets() {
        let text = "<!DOCTYPE nitf SYSTEM \"a>b.dtd\"><nitf/>";
        assert_eq!(prolog_doctype(text), Some(Ok(0..32)));
        assert_eq!(prolog_doctype("<!DOCTYPE nitf [ <a> "), Some(Err(0)));
        assert_eq!(prolog_doctype("<nitf/>"), None);
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
}
