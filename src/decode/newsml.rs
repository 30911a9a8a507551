//! IPTC NewsML-G2 (`newsItem`, `newsMessage`) → [`Story`], with inline NITF or XHTML.
//!
//! | Story field | NewsML-G2 source |
//! | --- | --- |
//! | guid, version, language | `newsItem@guid`, `@version`, `contentMeta/language@tag` (else `@xml:lang`) |
//! | provider | `itemMeta/provider` (name, else qcode code, else uri), else `header/sender` |
//! | times | `itemMeta/firstCreated` (else `contentMeta/contentCreated`), `versionCreated`, `embargoed` |
//! | pub_status, ed_notes | `itemMeta/pubStatus@qcode` (`stat:canceled` = kill), `itemMeta/edNote` |
//! | headline, slugline, byline | `contentMeta/headline`, `slugline`, `by` (else inline NITF, else `creator/name`) |
//! | dateline, located | `contentMeta/dateline`, `located/name` (else its qcode) |
//! | urgency, subjects | `contentMeta/urgency`, `subject@qcode` (or `@uri`) |
//! | body | `contentSet/inlineXML` (NITF or XHTML), else `inlineData` text |
//! | media | other picture/video/graphic `newsItem`s of the same `newsMessage` |
//!
//! A document whose root is a bare `contentSet` or `contentMeta` fragment is read as far as
//! it goes.

use super::nitf::{self, set, worst};
use super::time::parse_time;
use super::xml::{self, attr, child, children, descendant, media_kind, text_of, BodyOut, Node};
use super::{paragraphs, squash, Ctx, DecodeError};
use crate::story::{Block, Media, PubStatus, Story};

const FORMAT: &str = "newsml_g2";

fn invalid(message: impl Into<String>) -> DecodeError {
    DecodeError::Invalid {
        format: FORMAT,
        message: message.into(),
    }
}

/// Decodes a NewsML-G2 document.
pub(crate) fn decode(text: &str, ctx: &Ctx) -> Result<Story, DecodeError> {
    let doc = xml::parse(text, FORMAT, ctx)?;
    let root = doc.root_element();
    let root_name = root.name();
    let mut story = Story::default();
    match root_name {
        "newsMessage" => {
            let items: Vec<Node<'_, '_>> = root
                .descendants()
                .filter(|d| d.is_element() && d.name() == "newsItem")
                .collect();
            let main = items
                .iter()
                .copied()
                .find(|i| is_text_item(*i))
                .or_else(|| items.first().copied())
                .ok_or_else(|| invalid("newsMessage holds no newsItem"))?;
            item(main, &mut story, ctx);
            for other in items.iter().filter(|i| i.id() != main.id()) {
                story.media.push(media_item(*other, story.media.len() + 1));
            }
            set(&mut story.provider, path_text(root, &["header", "sender"]));
        }
        "newsItem" | "packageItem" | "contentSet" | "contentMeta" => item(root, &mut story, ctx),
        other => {
            return Err(invalid(format!(
                "root element <{other}> is not a NewsML-G2 item"
            )))
        }
    }
    if story.headline.is_none() {
        return Err(invalid(
            "no headline (contentMeta/headline, itemMeta/title or inline NITF hl1)",
        ));
    }
    Ok(story)
}

fn path_text(node: Node<'_, '_>, steps: &[&str]) -> Option<String> {
    xml::path(node, steps).and_then(text_of)
}

fn item_class<'a>(item: Node<'a, '_>) -> Option<&'a str> {
    xml::path(item, &["itemMeta", "itemClass"]).and_then(|c| attr(c, "qcode"))
}

fn is_text_item(item: Node<'_, '_>) -> bool {
    match item_class(item) {
        Some(class) => class.ends_with(":text") || class.ends_with(":composite"),
        None => descendant(item, "inlineXML").is_some() || descendant(item, "inlineData").is_some(),
    }
}

/// A qcode's code part (`city:Moscow` → `Moscow`).
fn code_of(qcode: &str) -> &str {
    qcode.split_once(':').map_or(qcode, |(_, c)| c)
}

/// Fills the story from one item (or fragment).
fn item(node: Node<'_, '_>, story: &mut Story, ctx: &Ctx) {
    let is = |n: Node<'_, '_>, name: &str| n.name() == name;
    let item_meta = child(node, "itemMeta");
    let content_meta = if is(node, "contentMeta") {
        Some(node)
    } else {
        child(node, "contentMeta")
    };
    let content_set = if is(node, "contentSet") {
        Some(node)
    } else {
        child(node, "contentSet")
    };

    story.guid = attr(node, "guid").and_then(squash);
    story.version = attr(node, "version").and_then(squash);
    let time_of = |parent: Option<Node<'_, '_>>, name: &str| {
        parent
            .and_then(|p| child(p, name))
            .and_then(|t| t.text())
            .and_then(|t| parse_time(t, ctx.tz))
    };
    if let Some(im) = item_meta {
        story.provider = child(im, "provider").and_then(|p| {
            child(p, "name")
                .and_then(text_of)
                .or_else(|| attr(p, "qcode").map(|q| code_of(q).to_string()))
                .or_else(|| attr(p, "uri").map(str::to_string))
        });
        story.version_created = time_of(Some(im), "versionCreated");
        story.first_created = time_of(Some(im), "firstCreated");
        story.embargoed_until = time_of(Some(im), "embargoed");
        if let Some(status) = child(im, "pubStatus")
            .and_then(|p| attr(p, "qcode"))
            .and_then(PubStatus::parse)
        {
            story.pub_status = worst(story.pub_status, status);
        }
        for note in children(im, "edNote") {
            if let Some(t) = text_of(note) {
                story.ed_notes.push(t);
            }
        }
        story.headline = child(im, "title").and_then(text_of);
    }
    if let Some(cm) = content_meta {
        set(
            &mut story.first_created,
            time_of(Some(cm), "contentCreated"),
        );
        story.urgency = child(cm, "urgency")
            .and_then(|u| u.text())
            .and_then(|u| u.trim().parse::<u8>().ok())
            .filter(|u| (1..=9).contains(u));
        story.located = child(cm, "located").and_then(|l| {
            child(l, "name")
                .and_then(text_of)
                .or_else(|| attr(l, "qcode").map(|q| code_of(q).to_string()))
        });
        story.dateline = child(cm, "dateline").and_then(text_of);
        story.byline = child(cm, "by").and_then(text_of);
        story.slugline = child(cm, "slugline").and_then(text_of);
        story.declared_language = child(cm, "language")
            .and_then(|l| attr(l, "tag"))
            .and_then(squash);
        let headlines: Vec<Node<'_, '_>> = children(cm, "headline").collect();
        let main = headlines
            .iter()
            .find(|h| attr(**h, "role").is_some_and(|r| r.ends_with("main")))
            .or_else(|| headlines.first());
        if let Some(h) = main.and_then(|h| text_of(*h)) {
            story.headline = Some(h);
        }
        for subject in children(cm, "subject") {
            if let Some(code) = attr(subject, "qcode").or_else(|| attr(subject, "uri")) {
                let code = code.trim().to_string();
                if !story.declared_subjects.contains(&code) {
                    story.declared_subjects.push(code);
                }
            }
        }
        // Editorial notes can also sit in contentMeta as description role edNote.
        for d in children(cm, "description") {
            if attr(d, "role").is_some_and(|r| r.to_ascii_lowercase().contains("ednote")) {
                if let Some(t) = text_of(d) {
                    story.ed_notes.push(t);
                }
            }
        }
    }
    set(
        &mut story.declared_language,
        attr(node, "lang").and_then(squash),
    );
    if let Some(cs) = content_set {
        content(cs, story, ctx);
    }
    set(
        &mut story.byline,
        content_meta.and_then(|cm| path_text(cm, &["creator", "name"])),
    );
}

/// Reads the body from a `contentSet`.
fn content(cs: Node<'_, '_>, story: &mut Story, ctx: &Ctx) {
    for inline in children(cs, "inlineXML") {
        let Some(doc) = inline.children().find(|c| c.is_element()) else {
            continue;
        };
        match doc.name() {
            "nitf" => nitf::fill(doc, story, ctx),
            _ => {
                let body = descendant(doc, "body").unwrap_or(doc);
                set(
                    &mut story.headline,
                    descendant(doc, "title").and_then(text_of),
                );
                if story.body.is_empty() {
                    let mut out = BodyOut::default();
                    xml::walk_body(body, &mut out);
                    story.body = out.blocks;
                    story.media.extend(out.media);
                    story.ed_notes.extend(out.ed_notes);
                }
            }
        }
        if !story.body.is_empty() {
            return;
        }
    }
    if story.body.is_empty() {
        if let Some(data) = child(cs, "inlineData").and_then(|d| d.text()) {
            story.body = paragraphs(data).into_iter().map(Block::paragraph).collect();
        }
    }
}

/// A picture / video / graphic item of a newsMessage as a media association.
fn media_item(node: Node<'_, '_>, n: usize) -> Media {
    let kind = media_kind(item_class(node).unwrap_or("picture"));
    let cm = child(node, "contentMeta");
    let caption = cm.and_then(|cm| {
        children(cm, "description")
            .find(|d| attr(*d, "role").is_none_or(|r| r.contains("caption")))
            .and_then(text_of)
            .or_else(|| child(cm, "headline").and_then(text_of))
    });
    let credit = cm
        .and_then(|cm| child(cm, "creditline").and_then(text_of))
        .or_else(|| path_text(node, &["rightsInfo", "copyrightHolder", "name"]));
    Media {
        name: format!("{kind}{n}"),
        uri: descendant(node, "remoteContent")
            .and_then(|r| attr(r, "href").or_else(|| attr(r, "residref")))
            .map(str::to_string)
            .or_else(|| attr(node, "guid").map(str::to_string)),
        caption,
        credit,
        kind,
    }
}
