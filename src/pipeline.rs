//! The stage chain: bytes → `Story` (decode) → stages → event bytes (encode).
//!
//! A [`Stage`] is small, synchronous and I/O-free. [`Pipeline::process`] runs one record
//! through every stage and returns either the encoded event or a [`Failure`] that names the
//! stage and error class, ready to become a dead letter. The Kafka side never sees a `Story`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use std::sync::Arc;

use crate::config::{Config, PipelineConfig};
use crate::decode::{DecodeError, Decoder};
use crate::encode::{self, EncodeError, OutputFormat, Provenance};
use crate::enrich;
use crate::normalise;
use crate::state::{Identity, StoryIndex};
use crate::story::{IdentityStatus, Story};

/// Where a record came from: carried into the event and into dead-letter headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// Topic the record was read from (empty for `process`).
    pub topic: String,
    /// Partition the record was read from.
    pub partition: i32,
    /// Offset of the record.
    pub offset: i64,
    /// The record's timestamp, when the broker gave one.
    pub timestamp: Option<DateTime<Utc>>,
}

/// Error returned by a stage; the stage is named by the chain runner.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StageError {
    /// Short machine-readable class, e.g. `empty_body`.
    pub class: &'static str,
    /// Human-readable reason.
    pub message: String,
}

/// One processing step over a story.
pub trait Stage: Send + Sync {
    /// Stable name used in logs, metrics and `error.stage` headers.
    fn name(&self) -> &'static str;
    /// Transform the story, or explain why it cannot be processed.
    fn process(&self, story: Story) -> Result<Story, StageError>;
}

/// Why a record became a dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Error class (`oversize`, `decode`, a stage's class, `encode`).
    pub class: String,
    /// Human-readable reason.
    pub message: String,
    /// The stage that failed (`limits`, `decode`, a stage name, `encode`).
    pub stage: String,
}

impl From<DecodeError> for Failure {
    fn from(err: DecodeError) -> Self {
        Self {
            class: err.class().to_string(),
            message: err.to_string(),
            stage: "decode".into(),
        }
    }
}

impl From<EncodeError> for Failure {
    fn from(err: EncodeError) -> Self {
        Self {
            class: "encode".into(),
            message: err.to_string(),
            stage: "encode".into(),
        }
    }
}

/// A successfully processed record: what goes to the output topic.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Message key: the stable story id.
    pub key: String,
    /// The event as JSON bytes.
    pub payload: Vec<u8>,
    /// Wire format the record was decoded from (for the provenance header).
    pub format: &'static str,
    /// The story's state record for the compacted state topic, when identity is tracked.
    pub state: Option<Vec<u8>>,
    /// A re-send dropped by `dedup.drop_exact`: nothing goes to the output topic (the
    /// payload is empty), but the input offset is still stored.
    pub dropped: bool,
    /// How the story relates to known stories.
    pub identity: IdentityStatus,
}

/// A record decoded and run through every stage, waiting for [`Pipeline::finish_observed`].
#[derive(Debug)]
pub struct Enriched {
    story: Story,
    received_at: DateTime<Utc>,
    duration_us: u64,
}

/// The whole chain, built once at start-up and shared read-only by every worker.
pub struct Pipeline {
    max_story_bytes: usize,
    decoder: Decoder,
    stages: Vec<Box<dyn Stage>>,
    identity: Option<Identity>,
    output: OutputFormat,
}

impl Pipeline {
    /// Builds the decoder and every configured stage; no identity tracking, event output.
    pub fn new(config: &PipelineConfig) -> Self {
        Self {
            max_story_bytes: config.max_story_bytes,
            decoder: Decoder::new(&config.decode),
            stages: build_stages(config),
            identity: None,
            output: OutputFormat::Event,
        }
    }

    /// The whole configured pipeline: stages, identity tracking over `index` when
    /// `dedup.enabled`, and the configured output format.
    pub fn from_config(config: &Config, index: Option<Arc<StoryIndex>>) -> Self {
        let mut pipeline = Self::new(&config.pipeline);
        pipeline.output = config.output.format;
        if config.dedup.enabled {
            let index = index.unwrap_or_else(|| {
                Arc::new(StoryIndex::new(
                    config.dedup.max_entries,
                    config.dedup.max_age_s,
                ))
            });
            pipeline.identity = Some(Identity::new(index, &config.dedup));
        }
        pipeline
    }

    /// The story index identity tracking uses, when enabled.
    pub fn story_index(&self) -> Option<&Arc<StoryIndex>> {
        self.identity.as_ref().map(Identity::index)
    }

    /// The output format (for the `copydesk.schema` header).
    pub fn output_format(&self) -> OutputFormat {
        self.output
    }

    /// Names of the stages in order (for logs and `check-config`).
    pub fn stage_names(&self) -> Vec<&'static str> {
        self.stages.iter().map(|s| s.name()).collect()
    }

    /// Runs one record through decode, every stage, and encode.
    pub fn process(
        &self,
        payload: &[u8],
        content_type: Option<&str>,
        source: &Source,
    ) -> Result<Processed, Failure> {
        self.process_observed(payload, content_type, source, &mut |_, _| {})
    }

    /// Like [`Pipeline::process`], reporting each step's duration (`decode`, every stage by
    /// name, `identity`, `encode`) to `observe` — the daemon feeds its stage-latency
    /// histograms this way. It is [`Pipeline::enrich_observed`] then
    /// [`Pipeline::finish_observed`].
    pub fn process_observed(
        &self,
        payload: &[u8],
        content_type: Option<&str>,
        source: &Source,
        observe: &mut dyn FnMut(&'static str, Duration),
    ) -> Result<Processed, Failure> {
        let enriched = self.enrich_observed(payload, content_type, source, observe)?;
        self.finish_observed(enriched, source, observe)
    }

    /// Decode and every stage: the work that depends on the record alone, which the daemon
    /// runs on its worker threads, many records at once.
    pub fn enrich_observed(
        &self,
        payload: &[u8],
        content_type: Option<&str>,
        source: &Source,
        observe: &mut dyn FnMut(&'static str, Duration),
    ) -> Result<Enriched, Failure> {
        let started = Instant::now();
        if payload.len() > self.max_story_bytes {
            return Err(Failure {
                class: "oversize".into(),
                message: format!(
                    "record is {} bytes, over max_story_bytes = {}",
                    payload.len(),
                    self.max_story_bytes
                ),
                stage: "limits".into(),
            });
        }
        let mut story = self.decoder.decode(payload, content_type)?;
        story.record_timestamp = source.timestamp;
        let mut mark = Instant::now();
        observe("decode", mark - started);
        for stage in &self.stages {
            story = stage.process(story).map_err(|err| Failure {
                class: err.class.to_string(),
                message: err.message,
                stage: stage.name().to_string(),
            })?;
            let now = Instant::now();
            observe(stage.name(), now - mark);
            mark = now;
        }
        Ok(Enriched {
            story,
            received_at: Utc::now(),
            duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        })
    }

    /// Identity (duplicates and versions against the stories seen before) and encode. The
    /// daemon calls this in each partition's offset order, after the worker threads: which
    /// of two versions of a story came first must not depend on which thread finished
    /// first (a later version observed before an earlier one made the earlier look older,
    /// and `dedup.drop_exact` dropped it).
    pub fn finish_observed(
        &self,
        enriched: Enriched,
        source: &Source,
        observe: &mut dyn FnMut(&'static str, Duration),
    ) -> Result<Processed, Failure> {
        let Enriched {
            mut story,
            received_at,
            duration_us,
        } = enriched;
        let mut mark = Instant::now();
        let provenance = Provenance {
            source,
            received_at,
            duration_us,
        };
        let format = story.format.map_or("unknown", |f| f.as_str());
        let key = story.id();
        let mut state = None;
        if let Some(identity) = &self.identity {
            let outcome = identity.observe(&mut story, &key, source);
            observe("identity", mark.elapsed());
            mark = Instant::now();
            if outcome.drop {
                return Ok(Processed {
                    key,
                    payload: Vec::new(),
                    format,
                    state: Some(outcome.record.to_bytes()),
                    dropped: true,
                    identity: story.enrichment.identity.status,
                });
            }
            state = Some(outcome.record.to_bytes());
        }
        let payload = encode::encode(self.output, &story, &key, &provenance)?;
        observe("encode", mark.elapsed());
        Ok(Processed {
            key,
            payload,
            format,
            state,
            dropped: false,
            identity: story.enrichment.identity.status,
        })
    }
}

/// Builds the configured chain, in order: normalise stages first (they clean the copy),
/// then enrich stages (they read it). Adding a stage is one file, one config switch in
/// [`crate::config::StagesConfig`] and one line here.
pub fn build_stages(config: &PipelineConfig) -> Vec<Box<dyn Stage>> {
    let stages_on = &config.stages;
    let mut stages: Vec<Box<dyn Stage>> = Vec::new();
    // --- normalise ---
    if stages_on.normalise_unicode {
        stages.push(Box::new(normalise::Unicode::new()));
    }
    if stages_on.normalise_layout {
        stages.push(Box::new(normalise::Layout::new()));
    }
    if stages_on.normalise_repair {
        stages.push(Box::new(normalise::Repair::new()));
    }
    // --- enrich ---
    if stages_on.text_stats {
        stages.push(Box::new(enrich::TextStats::new(config.words_per_minute)));
    }
    if stages_on.language {
        stages.push(Box::new(enrich::Language::new()));
    }
    if stages_on.sentences {
        stages.push(Box::new(enrich::Sentences::new()));
    }
    if stages_on.entities {
        stages.push(Box::new(enrich::Entities::new()));
    }
    // quotes resolve speakers to entities, so they come after them
    if stages_on.quotes {
        stages.push(Box::new(enrich::Quotes::new()));
    }
    if stages_on.dates {
        stages.push(Box::new(enrich::Dates::new()));
    }
    if stages_on.topics {
        stages.push(Box::new(enrich::Topics::new(
            config.topics.max_top_level,
            config.topics.min_confidence,
        )));
    }
    // keywords merge entity names, so they come after entities
    if stages_on.keywords {
        stages.push(Box::new(enrich::Keywords::new(config.keywords.max)));
    }
    if stages_on.summary {
        stages.push(Box::new(enrich::Summary::new(
            config.summary.max_chars,
            config.summary.max_sentences,
        )));
    }
    if stages_on.fingerprint {
        stages.push(Box::new(enrich::fingerprint::Fingerprint));
    }
    stages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_megabytes_are_rejected_before_decoding() {
        let pipeline = Pipeline::new(&PipelineConfig::default());
        // Valid JSON all the way: only the size check can refuse it.
        let mut huge = br#"{"headline": "big", "body": ""#.to_vec();
        huge.resize(50 * 1024 * 1024, b'a');
        huge.extend_from_slice(br#""}"#);
        let failure = pipeline
            .process(&huge, None, &Source::default())
            .expect_err("over max_story_bytes");
        assert_eq!(
            (failure.class.as_str(), failure.stage.as_str()),
            ("oversize", "limits")
        );
        assert!(
            failure.message.contains("52428802 bytes"),
            "{}",
            failure.message
        );
    }
}
