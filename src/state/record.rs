//! [`StoryRecord`]: what is remembered about one story, and its encoding as the value of
//! the compacted state topic (JSON, so operators can read the topic with any tool).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::pipeline::Source;
use crate::story::{PubStatus, Story};

/// Schema tag of state records; a reader skips records with another tag.
pub const STATE_SCHEMA: &str = "copydesk.state/1";

/// Most entity names kept per record (the most relevant first).
const MAX_ENTITIES: usize = 64;

/// What is remembered about one story id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryRecord {
    /// Always [`STATE_SCHEMA`].
    pub schema: String,
    /// Story id (also the record key).
    pub id: String,
    /// The wire's version string, when given.
    pub version: Option<String>,
    /// The wire's version-created time, when given.
    pub version_created: Option<DateTime<Utc>>,
    /// The story's own time (version created, else first created, else record time): the
    /// near-duplicate window is measured on it.
    pub story_time: DateTime<Utc>,
    /// SimHash of the body, as 16 hex digits (JSON numbers lose 64-bit precision).
    #[serde(with = "hex_u64")]
    pub fingerprint: Option<u64>,
    /// xxh3 of the headline.
    pub headline_hash: u64,
    /// xxh3 of the body text.
    pub body_hash: u64,
    /// Slugline, upper-cased, without notice markers (to match a later kill or correction).
    pub slug: Option<String>,
    /// Named entities' canonical names, to report what a new version added or removed.
    pub entities: NameList,
    /// The input record this state came from (`topic/partition/offset`): the same record
    /// read again after a crash is a replay, not a duplicate.
    pub source: String,
    /// When this instance processed it.
    pub seen_at: DateTime<Utc>,
    /// Whether the latest version killed the story.
    pub killed: bool,
}

fn hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// `topic/partition/offset`.
pub fn source_key(source: &Source) -> String {
    format!("{}/{}/{}", source.topic, source.partition, source.offset)
}

impl StoryRecord {
    /// The record for `story` (after the enrich stages) published under `id`.
    pub fn of(story: &Story, id: &str, source: &Source, now: DateTime<Utc>) -> Self {
        let mut entities: Vec<&crate::story::Entity> = story
            .enrichment
            .entities
            .iter()
            .filter(|e| e.named)
            .collect();
        entities.sort_by(|a, b| b.relevance.cmp(&a.relevance).then(a.name.cmp(&b.name)));
        let mut names: Vec<String> = entities
            .iter()
            .take(MAX_ENTITIES)
            .map(|e| e.name.clone())
            .collect();
        names.sort();
        names.dedup();
        let fingerprint = story
            .enrichment
            .fingerprint
            .or_else(|| crate::enrich::fingerprint::simhash(&story.body_text()));
        Self {
            schema: STATE_SCHEMA.into(),
            id: id.to_string(),
            version: story.version.clone(),
            version_created: story.version_created,
            story_time: story
                .version_created
                .or(story.first_created)
                .or(source.timestamp)
                .unwrap_or(now),
            fingerprint,
            headline_hash: hash(story.headline.as_deref().unwrap_or("")),
            body_hash: hash(&story.body_text()),
            slug: story.slugline.as_deref().map(super::identity::bare_slug),
            entities: NameList::from(names),
            source: source_key(source),
            seen_at: now,
            killed: story.pub_status == PubStatus::Canceled,
        }
    }

    /// JSON bytes for the state topic.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings, numbers and timestamps into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a state topic value; `None` for foreign or damaged records (they are skipped:
    /// state is an optimisation, never a reason to stop).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let record: Self = serde_json::from_slice(bytes).ok()?;
        (record.schema == STATE_SCHEMA).then_some(record)
    }
}

/// A story's entity names, held as one string (the names joined by newlines): the index
/// keeps up to `dedup.max_entries` records, and one allocation per record for all its names
/// instead of one per name keeps that memory about 2 KB per story smaller. Written to and
/// read from the state topic as a JSON array of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameList(Box<str>);

impl NameList {
    /// The names, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split('\n').filter(|name| !name.is_empty())
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no names.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: AsRef<str>> From<Vec<S>> for NameList {
    /// Joins the names; an empty name is dropped, a newline inside a name (which no entity
    /// name has) becomes a space.
    fn from(names: Vec<S>) -> Self {
        let mut joined = String::new();
        for name in names.iter().map(AsRef::as_ref).filter(|n| !n.is_empty()) {
            if !joined.is_empty() {
                joined.push('\n');
            }
            joined.extend(name.chars().map(|c| if c == '\n' { ' ' } else { c }));
        }
        Self(joined.into_boxed_str())
    }
}

impl Serialize for NameList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for NameList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<String>::deserialize(d).map(Self::from)
    }
}

mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(&format!("{v:016x}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| u64::from_str_radix(&t, 16).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::Block;

    #[test]
    fn round_trips_through_bytes() {
        let story = Story {
            guid: Some("g1".into()),
            headline: Some("Quake hits coast".into()),
            slugline: Some("QUAKE-JAPAN".into()),
            body: vec![Block::paragraph(
                "A strong earthquake struck the coast on Monday.",
            )],
            ..Story::default()
        };
        let source = Source {
            topic: "raw".into(),
            partition: 1,
            offset: 9,
            timestamp: None,
        };
        let record = StoryRecord::of(&story, "g1", &source, Utc::now());
        assert_eq!(record.source, "raw/1/9");
        assert!(record.fingerprint.is_some());
        let bytes = record.to_bytes();
        assert!(String::from_utf8_lossy(&bytes).contains("\"fingerprint\":\""));
        assert_eq!(StoryRecord::from_bytes(&bytes), Some(record));
    }

    #[test]
    fn entity_names_are_a_json_array() {
        for names in [
            vec![],
            vec!["Kim Jong-un"],
            vec!["Kim Jong-un", "Pyongyang", "Vladimir Putin"],
        ] {
            let list = NameList::from(names.clone());
            assert_eq!(list.iter().collect::<Vec<_>>(), names);
            assert_eq!(list.len(), names.len());
            let json = serde_json::to_string(&list).expect("serialises");
            assert_eq!(json, serde_json::to_string(&names).expect("serialises"));
            assert_eq!(
                serde_json::from_str::<NameList>(&json).expect("parses"),
                list
            );
        }
        // an empty name is dropped, a newline inside one cannot split it
        let odd = NameList::from(vec!["", "New\nYork"]);
        assert_eq!(odd.iter().collect::<Vec<_>>(), ["New York"]);
    }

    #[test]
    fn foreign_and_damaged_values_are_skipped() {
        assert_eq!(StoryRecord::from_bytes(b""), None);
        assert_eq!(StoryRecord::from_bytes(b"{\"schema\":\"other\"}"), None);
        assert_eq!(StoryRecord::from_bytes(&[0xff, 0x00, 0x7b]), None);
    }
}
