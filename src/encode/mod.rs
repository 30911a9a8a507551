//! Encode: [`Story`] → event JSON (`copydesk.event/1`): a ninjs 3.1 object plus the
//! enrichment envelope, source and processing provenance (see DESIGN.md "The output event").

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::pipeline::Source;
use crate::story::{PubStatus, Story};

/// Schema identifier written into every event and into the `copydesk.schema` header.
pub const EVENT_SCHEMA: &str = "copydesk.event/1";

/// The running version, written into events and dead letters.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why an event could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// JSON serialisation failed.
    #[error("event serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// `[output]`: what is published to the output topic.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// `event` (default): the whole `copydesk.event/1` envelope (ninjs + enrichment +
    /// source + processing). `ninjs`: only the ninjs 3.1 object, for consumers that want
    /// just the standard; the `copydesk.schema` header then says `ninjs/3.1`.
    #[serde(default)]
    pub format: OutputFormat,
}

/// See [`OutputConfig::format`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// The copydesk event envelope.
    #[default]
    Event,
    /// The bare ninjs object.
    Ninjs,
}

impl OutputFormat {
    /// The value of the `copydesk.schema` header for this format.
    pub fn schema(self) -> &'static str {
        match self {
            Self::Event => EVENT_SCHEMA,
            Self::Ninjs => NINJS_SCHEMA,
        }
    }
}

/// Schema identifier of a bare ninjs payload (`output.format = "ninjs"`).
pub const NINJS_SCHEMA: &str = "ninjs/3.1";

/// Where the story came from and how long it took: the non-ninjs parts of the envelope.
#[derive(Debug)]
pub struct Provenance<'a> {
    /// The input record's coordinates.
    pub source: &'a Source,
    /// When processing started.
    pub received_at: DateTime<Utc>,
    /// Time spent in decode and stages.
    pub duration_us: u64,
}

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Characters allowed unescaped in a URN's namespace-specific string (RFC 8141 pchar subset);
/// everything else is percent-encoded so that `uri` is always a valid URI.
fn urn_escape(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds the ninjs 3.1 object. Only properties the schema knows are written.
pub fn ninjs(story: &Story, id: &str) -> Value {
    let mut n = Map::new();
    n.insert(
        "uri".into(),
        json!(format!("urn:copydesk:story:{}", urn_escape(id))),
    );
    n.insert("type".into(), json!("text"));
    if let Some(v) = &story.version {
        n.insert("version".into(), json!(v));
    }
    if let Some(t) = &story.first_created {
        n.insert("firstCreated".into(), json!(rfc3339(t)));
    }
    if let Some(t) = &story.version_created {
        n.insert("versionCreated".into(), json!(rfc3339(t)));
    }
    if let Some(t) = &story.embargoed_until {
        n.insert("embargoedUntil".into(), json!(rfc3339(t)));
    }
    let status = match story.pub_status {
        PubStatus::Usable => "usable",
        PubStatus::Withheld => "withheld",
        PubStatus::Canceled => "canceled",
    };
    n.insert("pubStatus".into(), json!(status));
    if let Some(u) = story.urgency {
        n.insert("urgency".into(), json!(u));
    }
    // the declared language; when the wire declared none, the detected one (also in
    // enrichment.language, with its confidence)
    let language = story.declared_language.as_deref().or(story
        .enrichment
        .language
        .as_ref()
        .map(|l| l.code.as_str()));
    if let Some(lang) = language {
        n.insert("language".into(), json!(lang));
    }
    if let Some(h) = &story.headline {
        n.insert("headlines".into(), json!([{"role": "main", "value": h}]));
    }
    n.insert(
        "bodies".into(),
        json!([{"role": "main", "contentType": "text/plain", "value": story.body_text()}]),
    );
    if let Some(b) = &story.byline {
        n.insert("by".into(), json!(b));
    }
    if let Some(s) = &story.slugline {
        n.insert("slugline".into(), json!(s));
    }
    if let Some(l) = &story.located {
        n.insert("located".into(), json!(l));
    }
    if !story.ed_notes.is_empty() {
        n.insert("edNote".into(), json!(story.ed_notes.join("\n")));
    }
    insert_subjects(story, &mut n);
    if let Some(summary) = &story.enrichment.summary {
        n.insert(
            "descriptions".into(),
            json!([{"role": "summary", "contentType": "text/plain", "value": summary}]),
        );
    }
    if !story.media.is_empty() {
        let assoc: Vec<Value> = story
            .media
            .iter()
            .map(|m| {
                let mut a = Map::new();
                a.insert("name".into(), json!(m.name));
                a.insert("type".into(), json!(m.kind));
                // ninjs requires a uri on every association; media without a link get one
                // scoped to the story.
                let uri = m.uri.clone().unwrap_or_else(|| {
                    format!(
                        "urn:copydesk:story:{}:media:{}",
                        urn_escape(id),
                        urn_escape(&m.name)
                    )
                });
                a.insert("uri".into(), json!(uri));
                if let Some(credit) = &m.credit {
                    a.insert("copyrightHolder".into(), json!(credit));
                }
                if let Some(caption) = &m.caption {
                    a.insert(
                        "descriptions".into(),
                        json!([{"role": "caption", "value": caption}]),
                    );
                }
                Value::Object(a)
            })
            .collect();
        n.insert("associations".into(), Value::Array(assoc));
    }
    insert_entities(story, &mut n);
    Value::Object(n)
}

/// ninjs `subjects`: the provider's declared subjects (a declared Media Topic code is
/// written as the resolved topic instead), the Media Topics found (`uri`, `name`,
/// `relevance`, `confidence`; `creator` copydesk, or provider when declared) and the
/// keywords (`rel: keyword`, relevance = score × 100): ninjs has no keywords property, and
/// IPTC's own examples carry keywords as subjects.
fn insert_subjects(story: &Story, n: &mut Map<String, Value>) {
    use crate::enrich::topics::{Vocabulary, CREATOR, MEDIATOPIC_URI};
    let topics = &story.enrichment.topics;
    let mut subjects = Vec::new();
    for s in &story.declared_subjects {
        let mapped = !topics.is_empty()
            && Vocabulary::get()
                .declared_code(s)
                .is_some_and(|code| topics.iter().any(|t| t.code == code));
        if !mapped {
            subjects.push(json!({"name": s, "creator": "provider"}));
        }
    }
    for t in topics {
        subjects.push(json!({
            "uri": format!("{MEDIATOPIC_URI}{}", t.code),
            "name": t.name,
            "relevance": t.relevance,
            "confidence": t.confidence,
            "creator": if t.provider { "provider" } else { CREATOR },
        }));
    }
    for k in &story.enrichment.keywords {
        // Scores are 0.0–1.0; clamped before the cast.
        let relevance = (k.score * 100.0).round().clamp(0.0, 100.0) as u8;
        subjects.push(json!({
            "name": k.text,
            "rel": "keyword",
            "relevance": relevance,
            "creator": CREATOR,
        }));
    }
    if !subjects.is_empty() {
        n.insert("subjects".into(), Value::Array(subjects));
    }
}

/// ninjs `people`, `organisations` and `places` from the named entities (only the
/// properties the ninjs 3.1 schema allows: name, rel, uri, geoJSON).
fn insert_entities(story: &Story, n: &mut Map<String, Value>) {
    use crate::story::EntityKind;
    let (mut people, mut orgs, mut places) = (Vec::new(), Vec::new(), Vec::new());
    for e in story.enrichment.entities.iter().filter(|e| e.named) {
        match e.kind {
            EntityKind::Person => people.push(json!({"name": e.name, "rel": "mentioned"})),
            EntityKind::Organisation => orgs.push(json!({"name": e.name, "rel": "mentioned"})),
            EntityKind::Place => {
                let mut p = Map::new();
                p.insert("name".into(), json!(e.name));
                p.insert("rel".into(), json!("mentioned"));
                let resolved = e
                    .geonames_id
                    .and_then(|id| story.enrichment.places.iter().find(|p| p.geonames_id == id));
                if let Some(place) = resolved {
                    p.insert(
                        "uri".into(),
                        json!(format!("https://sws.geonames.org/{}/", place.geonames_id)),
                    );
                    if let (Some(lat), Some(lon)) = (place.lat, place.lon) {
                        p.insert(
                            "geoJSON".into(),
                            json!({"type": "Point", "coordinates": [lon, lat]}),
                        );
                    }
                }
                places.push(Value::Object(p));
            }
        }
    }
    for (key, list) in [
        ("people", people),
        ("organisations", orgs),
        ("places", places),
    ] {
        if !list.is_empty() {
            n.insert(key.into(), Value::Array(list));
        }
    }
}

/// The event as borrowed views of the story, serialised directly: the enrichment (most of
/// an event's bytes) never becomes a `serde_json::Value` tree.
#[derive(serde::Serialize)]
struct EventView<'a> {
    schema: &'static str,
    id: &'a str,
    ninjs: Value,
    enrichment: EnrichmentView<'a>,
    source: SourceView<'a>,
    processing: ProcessingView,
}

#[derive(serde::Serialize)]
struct EnrichmentView<'a> {
    word_count: usize,
    reading_time_s: u64,
    dateline: &'a Option<String>,
    body_blocks: &'a [crate::story::Block],
    normalisation: &'a [crate::story::Normalisation],
    quality: &'a crate::story::Quality,
    entities: &'a [crate::story::Entity],
    places: &'a [crate::story::PlaceRef],
    language: &'a Option<crate::story::DetectedLanguage>,
    sentences: &'a [crate::story::Span],
    sentence_count: usize,
    quotes: &'a [crate::story::Quote],
    dates: &'a [crate::story::DateExpr],
    topics: &'a [crate::story::Topic],
    keywords: &'a [crate::story::Keyword],
    summary: &'a Option<String>,
    fingerprint: Option<String>,
    identity: &'a crate::story::StoryIdentity,
}

#[derive(serde::Serialize)]
struct SourceView<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    timestamp: Option<String>,
    format: Option<&'static str>,
    charset: &'a Option<String>,
}

#[derive(serde::Serialize)]
struct ProcessingView {
    copydesk: &'static str,
    received_at: String,
    duration_us: u64,
}

fn event_view<'a>(story: &'a Story, id: &'a str, provenance: &Provenance<'a>) -> EventView<'a> {
    let source = provenance.source;
    let e = &story.enrichment;
    EventView {
        schema: EVENT_SCHEMA,
        id,
        ninjs: ninjs(story, id),
        enrichment: EnrichmentView {
            word_count: e.word_count,
            reading_time_s: e.reading_time_s,
            dateline: &story.dateline,
            body_blocks: &story.body,
            normalisation: &e.normalisation,
            quality: &e.quality,
            entities: &e.entities,
            places: &e.places,
            language: &e.language,
            sentences: &e.sentences,
            sentence_count: e.sentences.len(),
            quotes: &e.quotes,
            dates: &e.dates,
            topics: &e.topics,
            keywords: &e.keywords,
            summary: &e.summary,
            fingerprint: e.fingerprint.map(|f| format!("{f:016x}")),
            identity: &e.identity,
        },
        source: SourceView {
            topic: &source.topic,
            partition: source.partition,
            offset: source.offset,
            timestamp: source.timestamp.as_ref().map(rfc3339),
            format: story.format.map(|f| f.as_str()),
            charset: &story.charset,
        },
        processing: ProcessingView {
            copydesk: VERSION,
            received_at: provenance
                .received_at
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            duration_us: provenance.duration_us,
        },
    }
}

/// Builds the whole event as a JSON value (what [`encode_event`] writes).
pub fn event(story: &Story, id: &str, provenance: &Provenance<'_>) -> Value {
    // Serialising plain data (strings, numbers, derived structs) into a Value cannot fail;
    // Null is unreachable.
    serde_json::to_value(event_view(story, id, provenance)).unwrap_or(Value::Null)
}

/// Encodes the event to bytes.
pub fn encode_event(
    story: &Story,
    id: &str,
    provenance: &Provenance<'_>,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(16 * 1024);
    serde_json::to_writer(&mut out, &event_view(story, id, provenance))?;
    Ok(out)
}

/// Encodes the output payload in the configured format.
pub fn encode(
    format: OutputFormat,
    story: &Story,
    id: &str,
    provenance: &Provenance<'_>,
) -> Result<Vec<u8>, EncodeError> {
    match format {
        OutputFormat::Event => encode_event(story, id, provenance),
        OutputFormat::Ninjs => Ok(serde_json::to_vec(&ninjs(story, id))?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::Block;

    #[test]
    fn uri_is_escaped() {
        assert_eq!(urn_escape("nw:a b/é"), "nw:a%20b%2F%C3%A9");
    }

    #[test]
    fn event_shape() {
        let story = Story {
            headline: Some("H".into()),
            body: vec![Block::paragraph("p")],
            pub_status: PubStatus::Withheld,
            ..Story::default()
        };
        let source = Source {
            topic: "t".into(),
            partition: 2,
            offset: 7,
            timestamp: None,
        };
        let prov = Provenance {
            source: &source,
            received_at: Utc::now(),
            duration_us: 5,
        };
        let ev = event(&story, "x:1", &prov);
        assert_eq!(ev["schema"], EVENT_SCHEMA);
        assert_eq!(ev["ninjs"]["uri"], "urn:copydesk:story:x:1");
        assert_eq!(ev["ninjs"]["pubStatus"], "withheld");
        assert_eq!(ev["ninjs"]["headlines"][0]["value"], "H");
        assert_eq!(ev["ninjs"]["bodies"][0]["value"], "p");
        assert_eq!(ev["source"]["offset"], 7);
        assert_eq!(ev["processing"]["copydesk"], VERSION);
    }
}
