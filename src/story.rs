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
}

impl WireFormat {
    /// The name used in events, headers and dead letters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Json => "json",
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
    /// What the enrich stages found.
    pub enrichment: Enrichment,
}

impl Story {
    /// The body as plain text, blocks separated by blank lines.
    pub fn body_text(&self) -> String {
        let mut out = String::new();
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
