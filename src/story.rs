//! The `Story` model every stage shares: what a decoder fills from the wire, what normalise
//! and enrich stages refine, and what the encoder turns into an event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Publication status as ninjs names it. Kills and withholds must survive every stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PubStatus {
    /// Free to publish.
    #[default]
    Usable,
    /// Temporarily not to be published.
    Withheld,
    /// Killed: must be removed wherever it was published.
    Canceled,
}

impl PubStatus {
    /// Parses the common spellings wires use (`usable`, `withheld`, `canceled`/`cancelled`,
    /// `kill`); `None` for anything else so the caller can report it.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "usable" | "stat:usable" => Some(Self::Usable),
            "withheld" | "stat:withheld" => Some(Self::Withheld),
            "canceled" | "cancelled" | "stat:canceled" | "kill" | "killed" => Some(Self::Canceled),
            _ => None,
        }
    }
}

/// What a block of body text is, so consumers can render or skip it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// Ordinary body paragraph.
    Paragraph,
    /// A sub-heading inside the body.
    Crosshead,
    /// A block quotation set off from the text.
    Quote,
}

/// One block of body text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// What the block is.
    pub kind: BlockKind,
    /// Its text, one paragraph, without the trailing newline.
    pub text: String,
}

impl Block {
    /// A plain paragraph.
    pub fn paragraph(text: impl Into<String>) -> Self {
        Self {
            kind: BlockKind::Paragraph,
            text: text.into(),
        }
    }
}

/// A picture or other media item that travels with the story (caption and credit lines are
/// lifted here instead of staying in the body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Name inside the story, e.g. `image1`.
    pub name: String,
    /// Media type: `picture`, `video`, `graphic`.
    pub kind: String,
    /// Link to the media, when the wire gives one.
    pub uri: Option<String>,
    /// Caption text.
    pub caption: Option<String>,
    /// Credit / copyright holder.
    pub credit: Option<String>,
}

/// The wire format a record was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireFormat {
    /// Plain wire text: headline line, then paragraphs.
    Plain,
    /// A JSON envelope with configurable field names.
    Json,
    /// IPTC ninjs 1.x, 2.x or 3.x (JSON).
    Ninjs,
    /// IPTC NITF 3.x (XML).
    Nitf,
    /// IPTC NewsML-G2 newsItem / newsMessage (XML), with inline NITF or XHTML.
    #[serde(rename = "newsml_g2")]
    NewsMl,
    /// ANPA-1312 wire transmission (SYN/SOH/STX/ETX framing, Latin-1).
    #[serde(rename = "anpa_1312")]
    Anpa,
    /// IPTC 7901 wire transmission (SOH/STX/ETX framing).
    #[serde(rename = "iptc_7901")]
    Iptc7901,
}

impl WireFormat {
    /// The name used in events, headers and dead letters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Json => "json",
            Self::Ninjs => "ninjs",
            Self::Nitf => "nitf",
            Self::NewsMl => "newsml_g2",
            Self::Anpa => "anpa_1312",
            Self::Iptc7901 => "iptc_7901",
        }
    }
}

/// One audited change a normalise stage made to the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalisation {
    /// What kind of fix, e.g. `split_run_together`.
    pub kind: String,
    /// The text before.
    pub from: String,
    /// The text after.
    pub to: String,
    /// Byte offset in the body text where the change was made.
    pub at: usize,
}

/// Enrichment results. Stages fill what they know; the encoder writes it out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// Number of words in the body.
    pub word_count: usize,
    /// Estimated reading time in seconds.
    pub reading_time_s: u64,
    /// Every change normalisation made, in order.
    pub normalisation: Vec<Normalisation>,
    /// People, organisations and places named in the story (filled by `enrich::Entities`).
    pub entities: Vec<Entity>,
    /// Places resolved to gazetteer entries (filled by `enrich::Entities`).
    pub places: Vec<PlaceRef>,
    /// Language detected from the headline and body (filled by `enrich::Language`); `None`
    /// when the text is too short or too unclear to say. The wire's claim stays in
    /// [`Story::declared_language`].
    #[serde(default)]
    pub language: Option<DetectedLanguage>,
    /// Sentences of the body text, in order (filled by `enrich::Sentences`).
    #[serde(default)]
    pub sentences: Vec<Span>,
    /// Direct and reported quotes with their speakers (filled by `enrich::Quotes`).
    #[serde(default)]
    pub quotes: Vec<Quote>,
    /// Date expressions in the headline and body, resolved against the story's date (filled
    /// by `enrich::Dates`).
    #[serde(default)]
    pub dates: Vec<DateExpr>,
    /// IPTC Media Topics, top level first, each followed by its second-level topics
    /// (filled by `enrich::Topics`).
    #[serde(default)]
    pub topics: Vec<Topic>,
    /// Keyphrases and entity names, best first (filled by `enrich::Keywords`).
    #[serde(default)]
    pub keywords: Vec<Keyword>,
    /// A lede-based summary: the first sentences of the body (filled by `enrich::Summary`).
    #[serde(default)]
    pub summary: Option<String>,
    /// How damaged the copy looked, and where (filled by `normalise::Repair`).
    pub quality: Quality,
    /// 64-bit SimHash of the body (filled by `enrich::Fingerprint`).
    #[serde(default)]
    pub fingerprint: Option<u64>,
    /// Whether this is a new story, a version, a duplicate or a notice about another story
    /// (filled by `state::Identity`).
    #[serde(default)]
    pub identity: StoryIdentity,
}

/// How a story relates to the stories seen before it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoryIdentity {
    /// `new`, `version`, `duplicate` or `near_duplicate`; `unknown` when no state is kept.
    pub status: IdentityStatus,
    /// Set when this is a newer version of a story already seen under the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_of: Option<VersionOf>,
    /// Set for an identical or older re-send of a known story, or a near-duplicate of
    /// another story.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<DuplicateOf>,
    /// Set when the story kills, withholds or corrects a story.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
}

/// The identity classes, see [`StoryIdentity::status`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityStatus {
    /// No story state is kept (dedup disabled).
    #[default]
    Unknown,
    /// First time this id and content are seen.
    New,
    /// A newer version of a known id.
    Version,
    /// An identical or older re-send of a known id.
    Duplicate,
    /// Different id, nearly the same body as a recent story.
    NearDuplicate,
}

/// What a new version changed compared with the version seen before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionOf {
    /// The story id (same as the event's).
    pub id: String,
    /// The previous version's `version`, when the wire gave one.
    pub previous_version: Option<String>,
    /// Whether the headline changed.
    pub headline_changed: bool,
    /// Whether the body changed.
    pub body_changed: bool,
    /// Entity names present now but not before.
    pub entities_added: Vec<String>,
    /// Entity names present before but not now.
    pub entities_removed: Vec<String>,
}

/// Which earlier story this one duplicates, and how closely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateOf {
    /// The earlier story's id.
    pub id: String,
    /// Fingerprint similarity in 0.0–1.0 (1.0 for an identical re-send).
    pub similarity: f64,
    /// `identical`, `older_version` or `near_duplicate`.
    pub reason: String,
}

/// A kill, withhold or correction notice and the story it refers to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `kill`, `withhold` or `correction`.
    pub kind: String,
    /// Id of the story it retracts or corrects, when it could be identified.
    pub target: Option<String>,
    /// What gave the notice away: `pub_status`, `slugline` or `headline`.
    pub signal: String,
}

/// One problem a normalise stage noticed but did not (or may not) fix, e.g. a doubled word
/// or a likely machine-translation garble.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityIssue {
    /// What kind of problem, e.g. `doubled_word`, `likely_garble`.
    pub kind: String,
    /// The text concerned, as it stands in the body.
    pub text: String,
    /// Byte offset of `text` in the body text.
    pub at: usize,
}

/// A summary of how clean the copy is: 1.0 = nothing found, 0.0 = badly damaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Score in 0.0–1.0.
    pub score: f64,
    /// What lowered it, in body order.
    pub issues: Vec<QualityIssue>,
}

impl Default for Quality {
    fn default() -> Self {
        Self {
            score: 1.0,
            issues: Vec::new(),
        }
    }
}

/// What kind of thing an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    /// A human being.
    Person,
    /// A company, institution, government body, party, team, …
    Organisation,
    /// A country, region, city or other named location.
    Place,
}

/// One mention of an entity: a byte range into [`Story::body_text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

/// A person, organisation or place named in the story, all its mentions merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// What it is.
    #[serde(rename = "type")]
    pub kind: EntityKind,
    /// Canonical name (the fullest form used in the story; for places the gazetteer's name).
    pub name: String,
    /// Body mentions in text order (byte offsets into the body text).
    pub mentions: Vec<Mention>,
    /// Number of mentions, headline included.
    pub mention_count: usize,
    /// Whether the headline names it.
    pub in_headline: bool,
    /// False when the story only refers to it by an adjective or demonym ("North Korean").
    pub named: bool,
    /// How central it is to the story, 0–100 (position, frequency, headline).
    pub relevance: u8,
    /// How sure the tagger is, 0–100.
    pub confidence: u8,
    /// Titles and roles attached to a person ("President").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The country a person's role is attributed to ("Russian President" → Russia).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliation: Option<String>,
    /// For a place resolved to the gazetteer: its GeoNames id (see [`Enrichment::places`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geonames_id: Option<u32>,
}

/// A place resolved to a gazetteer (GeoNames) entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceRef {
    /// Name of the place as the gazetteer spells it.
    pub name: String,
    /// GeoNames id.
    pub geonames_id: u32,
    /// ISO 3166-1 alpha-2 country code (empty for continents).
    pub country: String,
    /// First-level subdivision code, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin1: Option<String>,
    /// Latitude (for a country: its capital's), when known.
    pub lat: Option<f64>,
    /// Longitude (for a country: its capital's), when known.
    pub lon: Option<f64>,
    /// `country`, `region`, `continent` or `city`.
    pub kind: String,
}

/// An IPTC Media Topic the story is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    /// Media Topic code, e.g. `04000000`; the URI is
    /// `http://cv.iptc.org/newscodes/mediatopic/` followed by the code.
    pub code: String,
    /// The topic's English IPTC label.
    pub name: String,
    /// 1 for the 17 top-level topics, 2 for their children; deeper only for codes a
    /// provider declared.
    pub level: u8,
    /// Code of the broader topic (`None` at the top level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// How central the topic is to the story, 0–100 (100 = the strongest topic).
    pub relevance: u8,
    /// How sure the classifier is, 0–100 (100 for provider-declared codes).
    pub confidence: u8,
    /// Whether the provider declared this topic (or a narrower one).
    pub provider: bool,
    /// The cue terms that weighed most, strongest first (empty for declared-only topics).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<String>,
}

/// Where a keyword came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeywordKind {
    /// A phrase of one to three words picked from the text.
    Phrase,
    /// The canonical name of a person, organisation or place found by `enrich::Entities`.
    Entity,
}

/// A keyword or keyphrase of the story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyword {
    /// The keyword as written in the story (its most common spelling).
    pub text: String,
    /// Score in 0.0–1.0 relative to the best keyword (1.0).
    pub score: f64,
    /// How often it occurs in the headline and body (plural and case variants merged).
    pub count: usize,
    /// Phrase or entity name.
    pub kind: KeywordKind,
}

/// A byte range `start..end` into [`Story::body_text`], serialised compactly as
/// `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[usize; 2]", into = "[usize; 2]")]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl From<[usize; 2]> for Span {
    fn from([start, end]: [usize; 2]) -> Self {
        Self { start, end }
    }
}

impl From<Span> for [usize; 2] {
    fn from(span: Span) -> Self {
        [span.start, span.end]
    }
}

/// The language a story is written in, as detected from its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectedLanguage {
    /// BCP 47 tag: the ISO 639-1 two-letter code where one exists (`en`, `zh` for Mandarin,
    /// `fa` for Persian), else the ISO 639-3 code.
    pub code: String,
    /// The detector's ISO 639-3 code (`eng`, `cmn`, `pes`).
    pub iso639_3: String,
    /// How sure the detector is, 0–100.
    pub confidence: u8,
}

/// Whether a quote is given in the speaker's words or reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteKind {
    /// Inside quotation marks.
    Direct,
    /// Reported speech: `X said (that) …`, `according to X, …`.
    Reported,
}

/// A quote and who said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Direct or reported.
    pub kind: QuoteKind,
    /// The quoted words without quotation marks (paragraphs of a multi-paragraph quote
    /// joined by a blank line).
    pub text: String,
    /// Byte offset in the body text where the quoted words start (after the opening mark).
    pub start: usize,
    /// Byte offset one past the quoted words (before the closing mark).
    pub end: usize,
    /// The speaker as written ("he", "Putin", "a report by KCNA"), when attributed.
    pub speaker: Option<String>,
    /// Byte span of [`Quote::speaker`] in the body text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_span: Option<Span>,
    /// Canonical name of the entity the speaker refers to ("Vladimir Putin" for "Putin" or
    /// for a "he" that refers back to him), when it could be resolved.
    pub speaker_entity: Option<String>,
    /// The attribution cue: the speech verb (`said`, `added`) or `according to`.
    pub cue: Option<String>,
}

/// How precise a date expression's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateResolution {
    /// A calendar day: `2022-08-15`.
    Day,
    /// An ISO week: `2022-W32`.
    Week,
    /// A month: `2022-07`.
    Month,
    /// A year: `2019`.
    Year,
    /// A decade: `200X`.
    Decade,
    /// A century: `19XX`.
    Century,
    /// Recognised as a time expression, but with no calendar value ("century after century").
    None,
}

/// Where in a period an expression points: "the early 2000s", "mid-2023", "late July".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateModifier {
    /// Early part.
    Early,
    /// Middle.
    Mid,
    /// Late part.
    Late,
}

/// The relation a preceding word sets up with the date: "since 2014", "until June".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateRelation {
    /// From then on.
    Since,
    /// Up to then.
    Until,
    /// Before then.
    Before,
    /// After then.
    After,
}

/// A date expression found in the headline or body, normalised against the story's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateExpr {
    /// The expression as written ("last July", "15 August 2022").
    pub text: String,
    /// Byte offset of its first byte in the body text (in the headline when
    /// [`DateExpr::in_headline`]).
    pub start: usize,
    /// Byte offset one past its last byte.
    pub end: usize,
    /// Whether the span is in the headline rather than the body.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_headline: bool,
    /// TIMEX3-like value: `2022-08-15`, `2022-W33`, `2022-07`, `2019`, `200X` (decade),
    /// `19XX` (century); `None` when it has no calendar value or needs a reference date the
    /// story lacks.
    pub value: Option<String>,
    /// How precise `value` is.
    pub resolution: DateResolution,
    /// Whether the value depended on the story's reference date ("yesterday", "last July",
    /// "15 August" without a year).
    pub relative: bool,
    /// Early / mid / late part of the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modifier: Option<DateModifier>,
    /// Since / until / before / after the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<DateRelation>,
}

/// A news story as it moves through the pipeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Story {
    /// Provider's identifier for the story (guid), when the wire gives one.
    pub guid: Option<String>,
    /// Provider (agency) name.
    pub provider: Option<String>,
    /// Version number or string as the wire sends it.
    pub version: Option<String>,
    /// Main headline.
    pub headline: Option<String>,
    /// Slugline / keyword line.
    pub slugline: Option<String>,
    /// Byline ("By Jane Doe").
    pub byline: Option<String>,
    /// Dateline text as written ("GENEVA, March 2 (Northwire) -").
    pub dateline: Option<String>,
    /// Place the story was filed from.
    pub located: Option<String>,
    /// Language the wire declared (BCP 47), kept apart from detected language.
    pub declared_language: Option<String>,
    /// When the story was first created.
    pub first_created: Option<DateTime<Utc>>,
    /// When this version was created.
    pub version_created: Option<DateTime<Utc>>,
    /// Embargo end, when the story must not be published before.
    pub embargoed_until: Option<DateTime<Utc>>,
    /// Publication status.
    pub pub_status: PubStatus,
    /// Editorial urgency 1 (highest) – 9.
    pub urgency: Option<u8>,
    /// Subject codes or labels the wire declared.
    pub declared_subjects: Vec<String>,
    /// Body blocks in order.
    pub body: Vec<Block>,
    /// Media associations.
    pub media: Vec<Media>,
    /// Editor's notes.
    pub ed_notes: Vec<String>,
    /// The wire format it came in.
    pub format: Option<WireFormat>,
    /// The character set it was decoded from.
    pub charset: Option<String>,
    /// The input record's timestamp (Kafka), set by the pipeline before the stages run: the
    /// last-resort reference date for relative dates.
    pub record_timestamp: Option<DateTime<Utc>>,
    /// What the enrich stages found.
    pub enrichment: Enrichment,
}

impl Story {
    /// The body as plain text, blocks separated by blank lines.
    pub fn body_text(&self) -> String {
        // Sized up front: growing it block by block reallocated ~70 times per story.
        let len = self.body.iter().map(|b| b.text.len() + 2).sum::<usize>();
        let mut out = String::with_capacity(len);
        for block in &self.body {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&block.text);
        }
        out
    }

    /// A stable story id: `provider:guid` when the wire gives a guid, else a content-derived
    /// id so that re-sends of the same text share a key.
    pub fn id(&self) -> String {
        match (&self.provider, &self.guid) {
            (Some(provider), Some(guid)) => format!("{provider}:{guid}"),
            (None, Some(guid)) => guid.clone(),
            _ => {
                let mut hasher = xxhash_rust::xxh3::Xxh3::new();
                hasher.update(self.headline.as_deref().unwrap_or("").as_bytes());
                hasher.update(b"\0");
                hasher.update(self.body_text().as_bytes());
                format!("copydesk:{:032x}", hasher.digest128())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_prefers_provider_and_guid() {
        let story = Story {
            provider: Some("northwire".into()),
            guid: Some("abc".into()),
            ..Story::default()
        };
        assert_eq!(story.id(), "northwire:abc");
    }

    #[test]
    fn content_id_is_stable_and_depends_on_text() {
        let a = Story {
            headline: Some("Head".into()),
            body: vec![Block::paragraph("one")],
            ..Story::default()
        };
        let mut b = a.clone();
        assert_eq!(a.id(), b.id());
        b.body.push(Block::paragraph("two"));
        assert_ne!(a.id(), b.id());
        assert!(a.id().starts_with("copydesk:"));
    }

    #[test]
    fn pub_status_parses_wire_spellings() {
        for (input, want) in [
            ("usable", Some(PubStatus::Usable)),
            ("Cancelled", Some(PubStatus::Canceled)),
            ("stat:withheld", Some(PubStatus::Withheld)),
            ("KILL", Some(PubStatus::Canceled)),
            ("draft", None),
        ] {
            assert_eq!(PubStatus::parse(input), want, "{input}");
        }
    }
}
