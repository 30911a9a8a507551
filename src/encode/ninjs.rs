//! The ninjs 3.1 object of an event, as borrowed views of the story serialised directly.
//!
//! Every object's fields are declared in alphabetical order, the order a
//! `serde_json::Value` map writes them in, so events stay byte-identical to the ones built
//! as a `Value` tree before (a tree cost ~150 K instructions per story in map inserts,
//! string copies and drops). Absent properties are skipped, never written as `null`: the
//! ninjs schema allows no nulls.

use std::borrow::Cow;

use serde::Serialize;

use super::{rfc3339, urn_escape};
use crate::enrich::topics::{Vocabulary, CREATOR, MEDIATOPIC_URI};
use crate::story::{EntityKind, PubStatus, Story};

/// A ninjs 3.1 object (only properties the schema knows).
#[derive(Debug, Serialize)]
pub struct Ninjs<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    associations: Vec<Association<'a>>,
    bodies: [Text<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    descriptions: Option<[Text<'a>; 1]>,
    #[serde(rename = "edNote", skip_serializing_if = "Option::is_none")]
    ed_note: Option<String>,
    #[serde(rename = "embargoedUntil", skip_serializing_if = "Option::is_none")]
    embargoed_until: Option<String>,
    #[serde(rename = "firstCreated", skip_serializing_if = "Option::is_none")]
    first_created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headlines: Option<[Text<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    located: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    organisations: Vec<Mention<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    people: Vec<Mention<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    places: Vec<Place<'a>>,
    #[serde(rename = "pubStatus")]
    pub_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    slugline: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subjects: Vec<Subject<'a>>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    urgency: Option<u8>,
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(rename = "versionCreated", skip_serializing_if = "Option::is_none")]
    version_created: Option<String>,
}

/// A headline, body, summary or caption.
#[derive(Debug, Serialize)]
struct Text<'a> {
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    content_type: Option<&'static str>,
    role: &'static str,
    value: Cow<'a, str>,
}

/// A picture, video or other media item attached to the story.
#[derive(Debug, Serialize)]
struct Association<'a> {
    #[serde(rename = "copyrightHolder", skip_serializing_if = "Option::is_none")]
    copyright_holder: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    descriptions: Option<[Text<'a>; 1]>,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    uri: Cow<'a, str>,
}

/// A person or organisation the story mentions.
#[derive(Debug, Serialize)]
struct Mention<'a> {
    name: &'a str,
    rel: &'static str,
}

/// A place the story mentions, with its GeoNames link and point when resolved.
#[derive(Debug, Serialize)]
struct Place<'a> {
    #[serde(rename = "geoJSON", skip_serializing_if = "Option::is_none")]
    geo_json: Option<Point>,
    name: &'a str,
    rel: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
}

/// A GeoJSON point: `[longitude, latitude]`.
#[derive(Debug, Serialize)]
struct Point {
    coordinates: [f64; 2],
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A declared subject, a Media Topic or a keyword.
#[derive(Debug, Serialize)]
struct Subject<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<u8>,
    creator: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rel: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    relevance: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
}

fn text<'a>(
    role: &'static str,
    content_type: Option<&'static str>,
    value: impl Into<Cow<'a, str>>,
) -> [Text<'a>; 1] {
    [Text {
        content_type,
        role,
        value: value.into(),
    }]
}

/// Builds the ninjs 3.1 object of `story` published under `id`.
pub fn ninjs<'a>(story: &'a Story, id: &str) -> Ninjs<'a> {
    // the declared language; when the wire declared none, the detected one (also in
    // enrichment.language, with its confidence)
    let language = story.declared_language.as_deref().or(story
        .enrichment
        .language
        .as_ref()
        .map(|l| l.code.as_str()));
    let (people, organisations, places) = entities(story);
    Ninjs {
        associations: associations(story, id),
        bodies: text("main", Some("text/plain"), story.body_text()),
        by: story.byline.as_deref(),
        descriptions: story
            .enrichment
            .summary
            .as_deref()
            .map(|s| text("summary", Some("text/plain"), s)),
        ed_note: (!story.ed_notes.is_empty()).then(|| story.ed_notes.join("\n")),
        embargoed_until: story.embargoed_until.as_ref().map(rfc3339),
        first_created: story.first_created.as_ref().map(rfc3339),
        headlines: story.headline.as_deref().map(|h| text("main", None, h)),
        language,
        located: story.located.as_deref(),
        organisations,
        people,
        places,
        pub_status: match story.pub_status {
            PubStatus::Usable => "usable",
            PubStatus::Withheld => "withheld",
            PubStatus::Canceled => "canceled",
        },
        slugline: story.slugline.as_deref(),
        subjects: subjects(story),
        kind: "text",
        urgency: story.urgency,
        uri: format!("urn:copydesk:story:{}", urn_escape(id)),
        version: story.version.as_deref(),
        version_created: story.version_created.as_ref().map(rfc3339),
    }
}

fn associations<'a>(story: &'a Story, id: &str) -> Vec<Association<'a>> {
    story
        .media
        .iter()
        .map(|m| Association {
            copyright_holder: m.credit.as_deref(),
            descriptions: m.caption.as_deref().map(|c| text("caption", None, c)),
            name: &m.name,
            kind: &m.kind,
            // ninjs requires a uri on every association; media without a link get one
            // scoped to the story.
            uri: m.uri.as_deref().map_or_else(
                || {
                    Cow::Owned(format!(
                        "urn:copydesk:story:{}:media:{}",
                        urn_escape(id),
                        urn_escape(&m.name)
                    ))
                },
                Cow::Borrowed,
            ),
        })
        .collect()
}

/// ninjs `subjects`: the provider's declared subjects (a declared Media Topic code is
/// written as the resolved topic instead), the Media Topics found (`uri`, `name`,
/// `relevance`, `confidence`; `creator` copydesk, or provider when declared) and the
/// keywords (`rel: keyword`, relevance = score × 100): ninjs has no keywords property, and
/// IPTC's own examples carry keywords as subjects.
fn subjects(story: &Story) -> Vec<Subject<'_>> {
    let topics = &story.enrichment.topics;
    let mut subjects = Vec::new();
    for s in &story.declared_subjects {
        let mapped = !topics.is_empty()
            && Vocabulary::get()
                .declared_code(s)
                .is_some_and(|code| topics.iter().any(|t| t.code == code));
        if !mapped {
            subjects.push(Subject {
                confidence: None,
                creator: "provider",
                name: s,
                rel: None,
                relevance: None,
                uri: None,
            });
        }
    }
    subjects.extend(topics.iter().map(|t| Subject {
        confidence: Some(t.confidence),
        creator: if t.provider { "provider" } else { CREATOR },
        name: &t.name,
        rel: None,
        relevance: Some(t.relevance),
        uri: Some(format!("{MEDIATOPIC_URI}{}", t.code)),
    }));
    subjects.extend(story.enrichment.keywords.iter().map(|k| Subject {
        confidence: None,
        creator: CREATOR,
        name: &k.text,
        rel: Some("keyword"),
        // Scores are 0.0–1.0; clamped before the cast.
        relevance: Some((k.score * 100.0).round().clamp(0.0, 100.0) as u8),
        uri: None,
    }));
    subjects
}

/// ninjs `people`, `organisations` and `places` from the named entities (only the
/// properties the ninjs 3.1 schema allows: name, rel, uri, geoJSON).
fn entities(story: &Story) -> (Vec<Mention<'_>>, Vec<Mention<'_>>, Vec<Place<'_>>) {
    let (mut people, mut orgs, mut places) = (Vec::new(), Vec::new(), Vec::new());
    for e in story.enrichment.entities.iter().filter(|e| e.named) {
        let mention = Mention {
            name: &e.name,
            rel: "mentioned",
        };
        match e.kind {
            EntityKind::Person => people.push(mention),
            EntityKind::Organisation => orgs.push(mention),
            EntityKind::Place => {
                let resolved = e
                    .geonames_id
                    .and_then(|id| story.enrichment.places.iter().find(|p| p.geonames_id == id));
                places.push(Place {
                    geo_json: resolved.and_then(|p| {
                        Some(Point {
                            coordinates: [p.lon?, p.lat?],
                            kind: "Point",
                        })
                    }),
                    name: &e.name,
                    rel: "mentioned",
                    uri: resolved.map(|p| format!("https://sws.geonames.org/{}/", p.geonames_id)),
                });
            }
        }
    }
    (people, orgs, places)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::{Block, Entity, Keyword, KeywordKind, Media, PlaceRef, Topic};

    fn entity(kind: EntityKind, name: &str, geonames_id: Option<u32>) -> Entity {
        Entity {
            kind,
            name: name.into(),
            mentions: Vec::new(),
            mention_count: 1,
            in_headline: false,
            named: true,
            relevance: 50,
            confidence: 90,
            roles: Vec::new(),
            affiliation: None,
            geonames_id,
        }
    }

    /// A story with every property the ninjs object can carry.
    fn full_story() -> Story {
        let t = chrono::DateTime::parse_from_rfc3339("2022-08-16T09:30:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        let mut story = Story {
            headline: Some("Putin writes to \"Kim\"".into()),
            body: vec![Block::paragraph("First."), Block::paragraph("Second.")],
            byline: Some("By A. Reporter".into()),
            slugline: Some("KOREA-RUSSIA".into()),
            located: Some("Seoul".into()),
            version: Some("2".into()),
            urgency: Some(3),
            first_created: Some(t),
            version_created: Some(t),
            embargoed_until: Some(t),
            declared_language: Some("en".into()),
            ed_notes: vec!["Corrects spelling".into(), "Adds quote".into()],
            declared_subjects: vec!["Politics".into()],
            pub_status: PubStatus::Withheld,
            media: vec![
                Media {
                    name: "photo1".into(),
                    kind: "picture".into(),
                    uri: None,
                    caption: Some("Leaders meet".into()),
                    credit: Some("Agency".into()),
                },
                Media {
                    name: "v".into(),
                    kind: "video".into(),
                    uri: Some("https://example.com/v.mp4".into()),
                    caption: None,
                    credit: None,
                },
            ],
            ..Story::default()
        };
        let e = &mut story.enrichment;
        e.summary = Some("Putin wrote.".into());
        e.entities = vec![
            entity(EntityKind::Person, "Vladimir Putin", None),
            entity(EntityKind::Organisation, "KCNA", None),
            entity(EntityKind::Place, "Pyongyang", Some(1_871_859)),
            entity(EntityKind::Place, "Donbas", None),
        ];
        e.places = vec![PlaceRef {
            name: "Pyongyang".into(),
            geonames_id: 1_871_859,
            country: "KP".into(),
            admin1: None,
            lat: Some(39.03),
            lon: Some(125.75),
            kind: "city".into(),
        }];
        e.topics = vec![Topic {
            code: "11000000".into(),
            name: "politics".into(),
            level: 1,
            parent: None,
            relevance: 80,
            confidence: 70,
            provider: false,
            cues: Vec::new(),
        }];
        e.keywords = vec![Keyword {
            text: "letter".into(),
            score: 0.756,
            count: 2,
            kind: KeywordKind::Phrase,
        }];
        story
    }

    /// The fields of every object are declared in the order a `serde_json::Value` map (a
    /// sorted map) writes them: serialising the views directly gives the same bytes as
    /// serialising their `Value`.
    #[test]
    fn fields_are_in_value_order() {
        for story in [full_story(), Story::default()] {
            let view = ninjs(&story, "nw:1");
            let direct = serde_json::to_string(&view).expect("serialises");
            let value = serde_json::to_value(&view).expect("to value");
            assert_eq!(direct, value.to_string());
        }
    }

    #[test]
    fn full_story_properties() {
        let story = full_story();
        let v = serde_json::to_value(ninjs(&story, "nw:1")).expect("to value");
        assert_eq!(v["bodies"][0]["value"], "First.\n\nSecond.");
        assert_eq!(v["edNote"], "Corrects spelling\nAdds quote");
        assert_eq!(
            v["associations"][0]["uri"],
            "urn:copydesk:story:nw:1:media:photo1"
        );
        assert_eq!(v["associations"][1]["uri"], "https://example.com/v.mp4");
        assert_eq!(
            v["associations"][0]["descriptions"][0]["value"],
            "Leaders meet"
        );
        assert_eq!(v["places"][0]["geoJSON"]["coordinates"][0], 125.75);
        assert_eq!(v["places"][0]["uri"], "https://sws.geonames.org/1871859/");
        assert!(v["places"][1].get("uri").is_none());
        assert_eq!(v["subjects"][0]["creator"], "provider");
        assert_eq!(
            v["subjects"][1]["uri"],
            "http://cv.iptc.org/newscodes/mediatopic/11000000"
        );
        assert_eq!(v["subjects"][2]["relevance"], 76);
        assert_eq!(v["people"][0]["name"], "Vladimir Putin");
        assert_eq!(v["organisations"][0]["name"], "KCNA");
        // nothing absent is written as null
        let empty = serde_json::to_string(&ninjs(&Story::default(), "x")).expect("serialises");
        assert!(!empty.contains("null"), "{empty}");
    }
}
