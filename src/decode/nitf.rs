//! NITF 3.x (News Industry Text Format, XML) → [`Story`].
//!
//! | Story field | NITF source |
//! | --- | --- |
//! | guid / provider | `docdata/doc-id@id-string` / `@regsrc`, else `doc.copyright@holder`, `distributor` |
//! | version / slugline | `docdata/du-key@version` / `@key`, else `<meta name="slug">` |
//! | headline | `body.head/hedline/hl1`, else `head/title` |
//! | byline, dateline, located | `body.head/byline`, `dateline`, `dateline/location` (or `docdata/evloc`) |
//! | times | `date.issue@norm` (version and first created), `date.release@norm` (embargo) |
//! | pub_status, ed_notes | `docdata@management-status`, `ed-msg` (`msg-type` kill / withhold) |
//! | urgency, language, subjects | `urgency@ed-urg`, `xml:lang`, `tobject.subject@tobject.subject.refnum`, `classifier@value` |
//! | body | `body.content` blocks: `p`, `hl2` crossheads, `bq` quotes, `media` associations |
//!
//! [`fill`] only sets fields that are still empty, so NewsML-G2 can let its own metadata win
//! and take the rest from inline NITF.

use super::time::parse_time;
use super::xml::{self, attr, child, children, path, text_of, BodyOut, Node};
use super::{squash, Ctx, DecodeError};
use crate::story::{BlockKind, PubStatus, Story};

const FORMAT: &str = "nitf";

/// Decodes a NITF document.
pub(crate) fn decode(text: &str, ctx: &Ctx) -> Result<Story, DecodeError> {
    let doc = xml::parse(text, FORMAT, ctx)?;
    let root = doc.root_element();
    if root.name() != "nitf" {
        return Err(DecodeError::Invalid {
            format: FORMAT,
            message: format!("root element is <{}>, expected <nitf>", root.name()),
        });
    }
    let mut story = Story::default();
    fill(root, &mut story, ctx);
    if story.headline.is_none() {
        return Err(DecodeError::Invalid {
            format: FORMAT,
            message: "no headline (body.head/hedline/hl1 or head/title)".into(),
        });
    }
    Ok(story)
}

/// Sets `slot` when it is empty.
pub(crate) fn set<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// Fills the empty fields of `story` from a `<nitf>` element.
pub(crate) fn fill(nitf: Node<'_, '_>, story: &mut Story, ctx: &Ctx) {
    let head = child(nitf, "head");
    let docdata = head.and_then(|h| child(h, "docdata"));
    let body = child(nitf, "body");
    let body_head = body.and_then(|b| child(b, "body.head"));

    if let Some(dd) = docdata {
        let doc_id = child(dd, "doc-id");
        set(
            &mut story.guid,
            doc_id.and_then(|d| attr(d, "id-string")).and_then(squash),
        );
        set(
            &mut story.provider,
            doc_id.and_then(|d| attr(d, "regsrc")).and_then(squash),
        );
        set(
            &mut story.provider,
            child(dd, "doc.copyright")
                .and_then(|d| attr(d, "holder"))
                .and_then(squash),
        );
        let du_key = child(dd, "du-key");
        set(
            &mut story.version,
            du_key.and_then(|d| attr(d, "version")).and_then(squash),
        );
        set(
            &mut story.slugline,
            du_key.and_then(|d| attr(d, "key")).and_then(squash),
        );
        if story.urgency.is_none() {
            story.urgency = child(dd, "urgency")
                .and_then(|u| attr(u, "ed-urg"))
                .and_then(|v| v.trim().parse::<u8>().ok())
                .filter(|u| (1..=9).contains(u));
        }
        let issue = child(dd, "date.issue")
            .and_then(|d| attr(d, "norm"))
            .and_then(|t| parse_time(t, ctx.tz));
        let release = child(dd, "date.release")
            .and_then(|d| attr(d, "norm"))
            .and_then(|t| parse_time(t, ctx.tz));
        set(&mut story.version_created, issue);
        set(&mut story.first_created, issue);
        if release.is_some() && (issue.is_none() || release > issue) {
            set(&mut story.embargoed_until, release);
        }
        set(
            &mut story.located,
            child(dd, "evloc")
                .and_then(|e| attr(e, "city").or_else(|| attr(e, "country-code")))
                .and_then(squash),
        );
        let status = attr(dd, "management-status")
            .or_else(|| child(dd, "management-status").and_then(|m| attr(m, "info").or(m.text())));
        let mut pub_status = status.and_then(PubStatus::parse);
        for msg in children(dd, "ed-msg") {
            let kind = attr(msg, "msg-type").unwrap_or("").to_ascii_lowercase();
            if kind.contains("kill") || kind.contains("cancel") {
                pub_status = Some(PubStatus::Canceled);
            } else if kind.contains("withh") && pub_status != Some(PubStatus::Canceled) {
                pub_status = Some(PubStatus::Withheld);
            }
            if let Some(note) = attr(msg, "info").and_then(squash).or_else(|| text_of(msg)) {
                story.ed_notes.push(note);
            }
        }
        if let Some(status) = pub_status {
            story.pub_status = worst(story.pub_status, status);
        }
        if story.declared_subjects.is_empty() {
            for d in dd.descendants().filter(|d| d.is_element()) {
                let code = match d.name() {
                    "tobject.subject" => {
                        attr(d, "tobject.subject.refnum").map(|r| format!("subj:{}", r.trim()))
                    }
                    "classifier" => attr(d, "value").map(|v| v.trim().to_string()),
                    _ => None,
                };
                if let Some(code) = code {
                    if !story.declared_subjects.contains(&code) {
                        story.declared_subjects.push(code);
                    }
                }
            }
        }
    }
    if let Some(h) = head {
        set(&mut story.headline, child(h, "title").and_then(text_of));
        for meta in children(h, "meta") {
            let name = attr(meta, "name").unwrap_or("").to_ascii_lowercase();
            let content = attr(meta, "content").and_then(squash);
            match name.as_str() {
                "slug" | "slugline" => set(&mut story.slugline, content),
                "language" | "lang" => set(&mut story.declared_language, content),
                _ => {}
            }
        }
    }
    set(
        &mut story.declared_language,
        attr(nitf, "lang").and_then(squash),
    );
    if let Some(bh) = body_head {
        // hedline/hl1 beats head/title: replace a title-only headline.
        if let Some(hl1) = path(bh, &["hedline", "hl1"]).and_then(text_of) {
            if story.headline.is_none()
                || head.and_then(|h| child(h, "title")).and_then(text_of) == story.headline
            {
                story.headline = Some(hl1);
            }
        }
        set(&mut story.byline, child(bh, "byline").and_then(text_of));
        let dateline = child(bh, "dateline");
        set(&mut story.dateline, dateline.and_then(text_of));
        set(
            &mut story.located,
            dateline
                .and_then(|d| child(d, "location"))
                .and_then(text_of),
        );
        set(
            &mut story.provider,
            child(bh, "distributor").and_then(text_of),
        );
        for note in children(bh, "note") {
            if let Some(t) = text_of(note) {
                story.ed_notes.push(t);
            }
        }
    }
    if story.body.is_empty() {
        if let Some(b) = body {
            let mut out = BodyOut::default();
            if let Some(content) = child(b, "body.content") {
                xml::walk_body(content, &mut out);
            }
            if let Some(end) = child(b, "body.end") {
                for tag in children(end, "tagline") {
                    if let Some(t) = text_of(tag) {
                        out.blocks.push(crate::story::Block {
                            kind: BlockKind::Paragraph,
                            text: t,
                        });
                    }
                }
            }
            story.body = out.blocks;
            story.media.extend(out.media);
            story.ed_notes.extend(out.ed_notes);
        }
    }
}

/// The more restrictive of two statuses: a kill or withhold must never be lost.
pub(crate) fn worst(a: PubStatus, b: PubStatus) -> PubStatus {
    let rank = |s: PubStatus| match s {
        PubStatus::Usable => 0,
        PubStatus::Withheld => 1,
        PubStatus::Canceled => 2,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Offset, Utc};

    fn ctx() -> Ctx {
        Ctx {
            tz: Utc.fix(),
            max_depth: 256,
            max_nodes: 100_000,
        }
    }

    #[test]
    fn minimal_and_errors() {
        let story = decode("<nitf><head><title>T</title></head></nitf>", &ctx()).unwrap();
        assert_eq!(story.headline.as_deref(), Some("T"));
        let err = decode("<nitf><body/></nitf>", &ctx()).unwrap_err();
        assert_eq!(err.class(), "invalid_story");
        let err = decode("<nitf><body>", &ctx()).unwrap_err();
        assert_eq!(err.class(), "malformed_xml");
    }

    #[test]
    fn kill_survives() {
        let story = decode(
            r#"<nitf><head><docdata><ed-msg msg-type="kill" info="KILL: legal"/></docdata></head>
               <body><body.head><hedline><hl1>H</hl1></hedline></body.head></body></nitf>"#,
            &ctx(),
        )
        .unwrap();
        assert_eq!(story.pub_status, PubStatus::Canceled);
        assert_eq!(story.ed_notes, vec!["KILL: legal".to_string()]);
    }
}
