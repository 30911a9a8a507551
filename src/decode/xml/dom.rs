//! A small read-only XML tree, built in one pass of quick-xml's streaming reader.
//!
//! Why not a general DOM: text is the bulk of a wire story, and a streaming reader finds the
//! next `<` or `&` with memchr, where a validating DOM checks every character. The tree keeps
//! only what the NITF and NewsML-G2 decoders read: elements with local names (namespaces are
//! ignored), attributes and text. Comments, processing instructions and the XML declaration
//! are skipped. Nodes are stored in document order, so a subtree is a contiguous range.
//!
//! Safety rules, checked while reading: no DTD entity declarations (a DOCTYPE naming an
//! external DTD is skipped unread), bounded nesting depth and node count, and references only
//! to the XML entities, character references and the HTML names NITF uses without declaring.

use std::borrow::Cow;
use std::ops::Range;

use quick_xml::events::attributes::Attribute as RawAttribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{entities, prolog_doctype};
use crate::decode::{Ctx, DecodeError};

/// Marks "no node" in the child and sibling links: index 0, the document node, which is never
/// anyone's child or sibling. `Node::text` relies on it not being a text node either.
const NONE: u32 = 0;

/// A parsed document: node 0 is the document itself, its one element child the root.
pub(crate) struct Document<'t> {
    nodes: Vec<NodeData<'t>>,
    attributes: Vec<Attribute<'t>>,
    root_element: u32,
}

/// One attribute, namespace prefix dropped, references resolved.
pub(crate) struct Attribute<'t> {
    /// Local name (`lang` for `xml:lang`).
    pub name: &'t str,
    /// Value with references resolved and whitespace characters turned into spaces.
    pub value: Cow<'t, str>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Document,
    Element,
    Text,
}

struct NodeData<'t> {
    kind: Kind,
    /// Local name of an element, empty otherwise.
    name: &'t str,
    /// Content of a text node (adjacent text, references and CDATA merged), empty otherwise.
    text: Cow<'t, str>,
    /// This element's attributes: `attributes[first_attribute..end_attribute]`.
    first_attribute: u32,
    end_attribute: u32,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
    /// One past the last node of this subtree.
    subtree_end: u32,
}

impl<'t> NodeData<'t> {
    fn new(kind: Kind, name: &'t str, text: Cow<'t, str>) -> Self {
        Self {
            kind,
            name,
            text,
            first_attribute: 0,
            end_attribute: 0,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            subtree_end: 0,
        }
    }
}

/// A node of a [`Document`]; cheap to copy.
#[derive(Clone, Copy)]
pub(crate) struct Node<'a, 't> {
    doc: &'a Document<'t>,
    id: u32,
}

impl<'t> Document<'t> {
    /// The root element.
    pub(crate) fn root_element(&self) -> Node<'_, 't> {
        self.node(self.root_element)
    }

    fn node(&self, id: u32) -> Node<'_, 't> {
        Node { doc: self, id }
    }
}

impl<'a, 't> Node<'a, 't> {
    fn data(&self) -> &'a NodeData<'t> {
        &self.doc.nodes[self.id as usize]
    }

    /// Position in document order; equal ids are the same node.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    pub(crate) fn is_element(&self) -> bool {
        self.data().kind == Kind::Element
    }

    pub(crate) fn is_text(&self) -> bool {
        self.data().kind == Kind::Text
    }

    /// Local name of an element; empty for text.
    pub(crate) fn name(&self) -> &'a str {
        self.data().name
    }

    /// A text node's content, or an element's first child when that is text.
    pub(crate) fn text(&self) -> Option<&'a str> {
        let data = self.data();
        match data.kind {
            Kind::Text => Some(&data.text),
            // With no children `first_child` is NONE, the document node, which is not text.
            _ => {
                let first = &self.doc.nodes[data.first_child as usize];
                (first.kind == Kind::Text).then_some(&*first.text)
            }
        }
    }

    /// This element's attributes in document order.
    pub(crate) fn attributes(&self) -> &'a [Attribute<'t>] {
        let data = self.data();
        &self.doc.attributes[data.first_attribute as usize..data.end_attribute as usize]
    }

    /// Child nodes in document order.
    pub(crate) fn children(&self) -> impl Iterator<Item = Node<'a, 't>> + 'a {
        let doc = self.doc;
        let mut next = self.data().first_child;
        std::iter::from_fn(move || {
            (next != NONE).then(|| {
                let node = doc.node(next);
                next = doc.nodes[next as usize].next_sibling;
                node
            })
        })
    }

    /// This node and every node below it, in document order.
    pub(crate) fn descendants(&self) -> impl Iterator<Item = Node<'a, 't>> + 'a {
        let doc = self.doc;
        (self.id..self.data().subtree_end).map(move |id| doc.node(id))
    }
}

/// Parses `text` into a [`Document`], or a typed error naming the format and position.
pub(crate) fn parse<'t>(
    text: &'t str,
    format: &'static str,
    ctx: &Ctx,
) -> Result<Document<'t>, DecodeError> {
    Builder::new(text, format, ctx).run()
}

struct Builder<'t, 'c> {
    text: &'t str,
    format: &'static str,
    ctx: &'c Ctx,
    doc: Document<'t>,
    /// Open elements, innermost last; the document node at the bottom.
    open: Vec<u32>,
}

impl<'t, 'c> Builder<'t, 'c> {
    fn new(text: &'t str, format: &'static str, ctx: &'c Ctx) -> Self {
        let mut document = NodeData::new(Kind::Document, "", Cow::Borrowed(""));
        document.subtree_end = 1;
        Self {
            text,
            format,
            ctx,
            doc: Document {
                nodes: vec![document],
                attributes: Vec::new(),
                root_element: NONE,
            },
            open: vec![0],
        }
    }

    fn run(mut self) -> Result<Document<'t>, DecodeError> {
        // A prolog DOCTYPE is cut out: the text before it and the text after it are read
        // as two runs of the reader.
        match self.doctype()? {
            Some(span) => {
                self.read(0..span.start)?;
                self.read(span.end..self.text.len())?;
            }
            None => self.read(0..self.text.len())?,
        }
        if let Some(&open) = self.open.get(1) {
            let name = self.doc.nodes[open as usize].name;
            return Err(self.malformed(
                format!("<{name}> is not closed before the end of the document"),
                self.text.len(),
            ));
        }
        if self.doc.root_element == NONE {
            return Err(self.malformed("no root element".into(), self.text.len()));
        }
        self.doc.nodes[0].subtree_end = self.node_count();
        Ok(self.doc)
    }

    /// Reads `text[span]` event by event into the tree.
    fn read(&mut self, span: Range<usize>) -> Result<(), DecodeError> {
        let base = span.start;
        let mut reader = Reader::from_str(&self.text[span]);
        // Spelled out because correctness depends on them (they are quick-xml's defaults):
        // end tags must match, `<a/>` stays one event, text is not trimmed, a bare `&` and
        // an unmatched end tag are errors.
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        config.allow_dangling_amp = false;
        config.allow_unmatched_ends = false;
        loop {
            let at = base + usize::try_from(reader.buffer_position()).unwrap_or(0);
            let event = reader.read_event().map_err(|e| {
                let position = usize::try_from(reader.error_position()).unwrap_or(0);
                self.malformed(e.to_string(), base + position)
            })?;
            match event {
                Event::Start(start) => {
                    let id = self.element(&start, at)?;
                    if self.open.len() > self.ctx.max_depth {
                        return Err(self.limit(
                            format!("XML nesting deeper than {}", self.ctx.max_depth),
                            at,
                        ));
                    }
                    self.open.push(id);
                }
                Event::Empty(start) => {
                    let id = self.element(&start, at)?;
                    self.doc.nodes[id as usize].subtree_end = id + 1;
                }
                Event::End(_) => {
                    // quick-xml has checked that the name matches the innermost open
                    // element, so the document node at the bottom is never popped.
                    if self.open.len() > 1 {
                        let id = self.open.pop().unwrap_or(NONE);
                        let end = self.node_count();
                        self.doc.nodes[id as usize].subtree_end = end;
                    }
                }
                Event::Text(raw) => self.input_text(&raw, at)?,
                Event::CData(raw) => self.input_text(&raw, at)?,
                Event::GeneralRef(name) => {
                    let name = self.input(&name);
                    let Some(c) = entities::resolve(&name) else {
                        return Err(
                            self.malformed(format!("unknown entity reference &{name};"), at)
                        );
                    };
                    // As written: `&#13;` stays a carriage return.
                    self.append_text(c.encode_utf8(&mut [0; 4]), None, at)?;
                }
                Event::DocType(_) => {
                    let message = "DOCTYPE must come once, before the root element";
                    return Err(self.malformed(message.into(), at));
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => return Ok(()),
            }
        }
    }

    /// The prolog's DOCTYPE, which is not read: NITF files name an external DTD that is
    /// never fetched. Entity declarations in an internal subset are refused, so
    /// billion-laughs documents never expand.
    fn doctype(&self) -> Result<Option<Range<usize>>, DecodeError> {
        match prolog_doctype(self.text) {
            None => Ok(None),
            Some(Err(start)) => Err(self.malformed("DOCTYPE is not closed".into(), start)),
            Some(Ok(span)) => {
                let decl = &self.text.as_bytes()[span.clone()];
                match memchr::memmem::find(decl, b"<!ENTITY")
                    .or_else(|| memchr::memmem::find(decl, b"<!entity"))
                {
                    Some(p) => Err(self.limit(
                        "DTD entity declarations are refused (no entity expansion)".into(),
                        span.start + p,
                    )),
                    None => Ok(Some(span)),
                }
            }
        }
    }

    fn node_count(&self) -> u32 {
        // `push` keeps the count within `max_nodes`, a u32.
        u32::try_from(self.doc.nodes.len()).unwrap_or(u32::MAX)
    }

    /// Byte offset in the input of `part`, a slice quick-xml borrowed from it.
    fn offset_of(&self, part: &[u8]) -> Option<usize> {
        let start = (part.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        (start.checked_add(part.len())? <= self.text.len()).then_some(start)
    }

    /// The part of the input that `part` (a slice quick-xml borrowed from it) covers.
    fn slice(&self, part: &[u8]) -> Option<&'t str> {
        let start = self.offset_of(part)?;
        self.text.get(start..start + part.len())
    }

    /// `part` as text borrowed from the input; a copy should quick-xml ever hand out bytes
    /// of its own (it does not when reading from a `&str`).
    fn input(&self, part: &[u8]) -> Cow<'t, str> {
        match self.slice(part) {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(String::from_utf8_lossy(part).into_owned()),
        }
    }

    /// Appends a node as the last child of the innermost open element.
    fn push(&mut self, node: NodeData<'t>, at: usize) -> Result<u32, DecodeError> {
        let id = self.node_count();
        if id >= self.ctx.max_nodes {
            return Err(self.limit(format!("more than {} XML nodes", self.ctx.max_nodes), at));
        }
        let parent = *self.open.last().unwrap_or(&0) as usize;
        match self.doc.nodes[parent].last_child {
            NONE => self.doc.nodes[parent].first_child = id,
            last => self.doc.nodes[last as usize].next_sibling = id,
        }
        self.doc.nodes[parent].last_child = id;
        self.doc.nodes.push(node);
        Ok(id)
    }

    fn element(&mut self, start: &BytesStart<'_>, at: usize) -> Result<u32, DecodeError> {
        if self.open.len() == 1 {
            if self.doc.root_element != NONE {
                return Err(self.malformed("a second root element".into(), at));
            }
            self.doc.root_element = self.node_count();
        }
        let qname = self.slice(start.name().as_ref()).unwrap_or_default();
        let mut node = NodeData::new(Kind::Element, local(qname), Cow::Borrowed(""));
        node.first_attribute = u32::try_from(self.doc.attributes.len()).unwrap_or(u32::MAX);
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| self.malformed(e.to_string(), at))?;
            if let Some(attribute) = self.attribute(attribute, at)? {
                self.doc.attributes.push(attribute);
            }
        }
        node.end_attribute = u32::try_from(self.doc.attributes.len()).unwrap_or(u32::MAX);
        self.push(node, at)
    }

    /// An attribute with its value resolved; `None` for namespace declarations.
    fn attribute(
        &self,
        raw: RawAttribute<'_>,
        at: usize,
    ) -> Result<Option<Attribute<'t>>, DecodeError> {
        let key = self.slice(raw.key.as_ref()).unwrap_or_default();
        if key == "xmlns" || key.starts_with("xmlns:") {
            return Ok(None);
        }
        let value = self.input(&raw.value);
        let needs_work = value
            .bytes()
            .any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'));
        let value = if needs_work {
            Cow::Owned(self.attribute_value(&value, at)?)
        } else {
            value
        };
        Ok(Some(Attribute {
            name: local(key),
            value,
        }))
    }

    /// Resolves references and normalises the literal text as XML does for attribute
    /// values: a `\r\n` pair or any single tab, line feed or carriage return becomes one
    /// space. Characters written as references (`&#10;`) are kept as they are.
    fn attribute_value(&self, raw: &str, at: usize) -> Result<String, DecodeError> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(amp) = rest.find('&') {
            push_attribute_literal(&mut out, &rest[..amp]);
            let after = &rest[amp + 1..];
            let resolved = after
                .find(';')
                .and_then(|semi| entities::resolve(&after[..semi]).map(|c| (c, semi)));
            let Some((c, semi)) = resolved else {
                return Err(self.malformed("bad reference in an attribute value".into(), at));
            };
            out.push(c);
            rest = &after[semi + 1..];
        }
        push_attribute_literal(&mut out, rest);
        Ok(out)
    }

    /// Text or CDATA from the input, line ends normalised. The reader splits text only at
    /// `&` and `<`, so a `\r\n` pair is never split between two pieces.
    fn input_text(&mut self, raw: &[u8], at: usize) -> Result<(), DecodeError> {
        let text = self.input(raw);
        if memchr::memchr(b'\r', text.as_bytes()).is_some() {
            self.append_text(&normalise_line_ends(&text), None, at)
        } else {
            match text {
                Cow::Borrowed(input) => self.append_text(input, Some(input), at),
                Cow::Owned(copy) => self.append_text(&copy, None, at),
            }
        }
    }

    /// Adds text to the innermost open element, merging with a text node just before it.
    /// `borrowed` is the same text as a slice of the input, when it is one: a new text node
    /// then borrows it instead of copying.
    fn append_text(
        &mut self,
        text: &str,
        borrowed: Option<&'t str>,
        at: usize,
    ) -> Result<(), DecodeError> {
        if text.is_empty() {
            return Ok(());
        }
        if self.open.len() == 1 {
            if text
                .bytes()
                .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            {
                return Ok(());
            }
            return Err(self.malformed("text outside the root element".into(), at));
        }
        let parent = *self.open.last().unwrap_or(&0) as usize;
        let last = self.doc.nodes[parent].last_child as usize;
        if last != NONE as usize && self.doc.nodes[last].kind == Kind::Text {
            self.doc.nodes[last].text.to_mut().push_str(text);
            return Ok(());
        }
        let text = borrowed.map_or_else(|| Cow::Owned(text.to_string()), Cow::Borrowed);
        let id = self.push(NodeData::new(Kind::Text, "", text), at)?;
        self.doc.nodes[id as usize].subtree_end = id + 1;
        Ok(())
    }

    fn malformed(&self, message: String, position: usize) -> DecodeError {
        let (line, column) = line_and_column(self.text, position);
        DecodeError::Xml {
            format: self.format,
            message,
            line,
            column,
        }
    }

    fn limit(&self, message: String, position: usize) -> DecodeError {
        DecodeError::Limit {
            format: self.format,
            message,
            position,
        }
    }
}

/// The part of a qualified name after its prefix.
fn local(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

/// Appends literal attribute text with its line ends and whitespace characters as spaces.
fn push_attribute_literal(out: &mut String, literal: &str) {
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\t' | '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// XML reads `\r\n` and a lone `\r` as `\n`.
fn normalise_line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(cr) = rest.find('\r') {
        out.push_str(&rest[..cr]);
        out.push('\n');
        rest = &rest[cr + 1..];
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, position: usize) -> (u32, u32) {
    let mut end = position.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx::for_tests()
    }

    fn parse_ok(text: &str) -> Document<'_> {
        match parse(text, "nitf", &ctx()) {
            Ok(doc) => doc,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    /// The tree as a compact string: elements as `name[attr=value](children)`, text quoted.
    fn shape(node: Node<'_, '_>) -> String {
        if node.is_text() {
            return format!("{:?}", node.text().unwrap_or_default());
        }
        let attributes: String = node
            .attributes()
            .iter()
            .map(|a| format!("[{}={}]", a.name, a.value))
            .collect();
        let children: Vec<String> = node.children().map(shape).collect();
        format!("{}{attributes}({})", node.name(), children.join(","))
    }

    #[test]
    fn tree_shape_table() {
        for (text, want) in [
            ("<a/>", "a()"),
            ("<a>x</a>", r#"a("x")"#),
            (
                "<n:a xmlns:n='u' xmlns='v' n:b='1'><c/>t<d>u</d></n:a>",
                r#"a[b=1](c(),"t",d("u"))"#,
            ),
            // Text, references and CDATA in a row are one node; comments and PIs vanish,
            // so the text around them is one node too.
            (
                "<a>x &amp; y&#233;<![CDATA[<z>]]><!-- c --><?pi?>w<b/></a>",
                r#"a("x & yé<z>w",b())"#,
            ),
            ("<a>caf&eacute;&nbsp;&mdash;</a>", r#"a("café\u{a0}—")"#),
            ("<a>l1\r\nl2\rl3</a>", r#"a("l1\nl2\nl3")"#),
            // Line ends are normalised in the text as written, not in references.
            (
                "<a>l1&#13;&#10;l2\r\n&amp;\r\n</a>",
                r#"a("l1\r\nl2\n&\n")"#,
            ),
            // Comments do not split text: `text()` sees all of it.
            ("<a>1<!-- c -->2</a>", r#"a("12")"#),
            // Attribute values: references resolved, whitespace characters become spaces.
            ("<a b='x&amp;y&#10;\tz'/>", "a[b=x&y\n z]()"),
            ("<a b='x\r\ny\rz'/>", "a[b=x y z]()"),
            (
                "<?xml version='1.0'?>\n<!DOCTYPE nitf SYSTEM \"nitf>3.6.dtd\">\n<nitf/>\n",
                "nitf()",
            ),
        ] {
            let doc = parse_ok(text);
            assert_eq!(shape(doc.root_element()), want, "{text}");
        }
    }

    /// Regression: each carriage return used to re-normalise the whole text node gathered
    /// so far, so a megabyte of `&#13;` references took quadratic time.
    #[test]
    fn many_references_in_one_text_node() {
        let text = format!("<a>{}</a>", "&#13;x\r\n".repeat(100_000));
        let doc = parse_ok(&text);
        let node = doc.root_element().children().next().unwrap();
        assert_eq!(node.text().map(str::len), Some(300_000));
        assert!(node.text().unwrap().starts_with("\rx\n\rx\n"));
    }

    #[test]
    fn navigation_follows_document_order() {
        let doc = parse_ok("<a><b><c>1</c></b><d>2</d></a>");
        let root = doc.root_element();
        let names: Vec<&str> = root.descendants().map(|n| n.name()).collect();
        assert_eq!(names, ["a", "b", "c", "", "d", ""]);
        let b = root.children().next().unwrap();
        assert_eq!(b.descendants().count(), 3);
        assert_eq!(b.text(), None);
        let d = root.children().nth(1).unwrap();
        assert_eq!(d.text(), Some("2"));
        assert_ne!(b.id(), d.id());
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
        let err = parse(bomb, "nitf", &ctx()).err().unwrap();
        assert_eq!(err.class(), "limit_exceeded");
        let external =
            r#"<!DOCTYPE nitf [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><nitf>&xxe;</nitf>"#;
        let err = parse(external, "nitf", &ctx()).err().unwrap();
        assert_eq!(err.class(), "limit_exceeded");
        // Without a declaration the reference is simply unknown.
        let err = parse("<nitf>&xxe;</nitf>", "nitf", &ctx()).err().unwrap();
        assert_eq!(err.class(), "malformed_xml");
    }

    #[test]
    fn depth_and_nodes_are_bounded() {
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        let err = parse(&deep, "nitf", &ctx()).err().unwrap();
        assert_eq!(err.class(), "limit_exceeded");
        let wide = format!("<a>{}</a>", "<b/>".repeat(20_000));
        let err = parse(&wide, "nitf", &ctx()).err().unwrap();
        assert_eq!(err.class(), "limit_exceeded");
        let ok = format!("{}{}", "<a x='>'>".repeat(200), "</a>".repeat(200));
        assert!(parse(&ok, "nitf", &ctx()).is_ok());
    }

    #[test]
    fn malformed_input_names_line_and_column_table() {
        for (text, want) in [
            ("<nitf>\n  <p>x</q>\n</nitf>", (2, 7)),
            ("<nitf>\n  <p>x</p>", (2, 11)),
            ("<a/><b/>", (1, 5)),
            ("<a/>tail", (1, 5)),
            ("<a>AT&T said; yes</a>", (1, 6)),
            ("<a b='&bogus;'/>", (1, 1)),
            ("<a b='1' b='2'/>", (1, 1)),
            ("<a><!DOCTYPE x></a>", (1, 4)),
            ("<!DOCTYPE a><!DOCTYPE b><a/>", (1, 13)),
            ("<!DOCTYPE a [ ", (1, 1)),
            ("junk <!DOCTYPE a><a/>", (1, 1)),
            ("  ", (1, 3)),
            ("<é>\n\u{e9}<", (2, 2)),
        ] {
            match parse(text, "nitf", &ctx()) {
                Err(DecodeError::Xml { line, column, .. }) => {
                    assert_eq!((line, column), want, "{text}")
                }
                Err(other) => panic!("{text}: {other:?}"),
                Ok(_) => panic!("{text}: parsed"),
            }
        }
    }
}
