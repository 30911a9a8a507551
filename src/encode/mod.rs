//! Encode: [`Story`] → event JSON (`copydesk.event/1`): a ninjs 3.1 object plus the
//! enrichment envelope, source and processing provenance (see DESIGN.md "The output event").

mod ninjs;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

pub use ninjs::{ninjs, Ninjs};

use crate::pipeline::Source;
use crate::story::Story;

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

/// The event as borrowed views of the story, serialised directly: the enrichment (most of
/// an event's bytes) never becomes a `serde_json::Value` tree.
#[derive(serde::Serialize)]
struct EventView<'a> {
    schema: &'static str,
    id: &'a str,
    ninjs: Ninjs<'a>,
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
    // An event is 6-7 times its body (the body twice, entities with every mention, places,
    // topics): sized so that the buffer is not grown, and copied, while it is written.
    let body: usize = story.body.iter().map(|b| b.text.len()).sum();
    let mut out = Vec::with_capacity(16 * 1024 + 8 * body);
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
    use crate::story::{Block, PubStatus};

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
