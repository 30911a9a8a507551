//! Typed configuration: defaults, `config/copydesk.toml`, `COPYDESK_…` environment overrides
//! and command-line flags, merged in that order, then validated.
//!
//! Every struct denies unknown keys, so a typo fails at start-up with the key's name instead
//! of silently keeping a default.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::decode::DecodeConfig;

/// Why a configuration was rejected. Always names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file, environment or flags could not be read into the typed config.
    #[error("{0}")]
    Load(Box<figment::Error>),
    /// A value was read but is not acceptable.
    #[error("invalid value for `{key}`: {reason}")]
    Invalid {
        /// Dotted key, e.g. `kafka.brokers`.
        key: String,
        /// Why it was rejected.
        reason: String,
    },
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        Self::Load(Box::new(err))
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Kafka connection, topics and delivery.
    #[serde(default)]
    pub kafka: KafkaConfig,
    /// Decode limits and stage selection.
    #[serde(default)]
    pub pipeline: PipelineConfig,
    /// Graceful shutdown.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Metrics and health endpoint.
    #[serde(default)]
    pub http: HttpConfig,
    /// Story versions, duplicates and kill notices, and the state behind them.
    #[serde(default)]
    pub dedup: crate::state::DedupConfig,
    /// What is published to the output topic.
    #[serde(default)]
    pub output: crate::encode::OutputConfig,
}

/// `[http]`: the `/metrics`, `/healthz`, `/readyz` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Serve the endpoint at all.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Listen address. Localhost by default: expose it deliberately (`0.0.0.0:9090`).
    /// Port 0 picks a free port (logged at start).
    #[serde(default = "default_http_address")]
    pub address: String,
    /// `/healthz` fails when the consume loop made no progress for this long.
    #[serde(default = "default_stall_timeout_ms")]
    pub stall_timeout_ms: u64,
}

fn default_http_address() -> String {
    "127.0.0.1:9090".into()
}
fn default_stall_timeout_ms() -> u64 {
    60_000
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            address: default_http_address(),
            stall_timeout_ms: default_stall_timeout_ms(),
        }
    }
}

/// A raw librdkafka setting value: TOML and the environment may give numbers or booleans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawValue {
    /// Boolean, written `true`/`false`.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Floating point.
    Float(f64),
    /// Anything else.
    Text(String),
}

impl RawValue {
    /// The value librdkafka gets: secret references are replaced by the environment
    /// variable's value (`${env:NAME}`) or the file's contents without the trailing newline
    /// (`${file:/run/secrets/kafka-password}`); anything else as written.
    pub fn resolve(&self) -> Result<String, String> {
        let Self::Text(text) = self else {
            return Ok(self.to_string());
        };
        let Some(reference) = text.strip_prefix("${").and_then(|r| r.strip_suffix('}')) else {
            return Ok(text.clone());
        };
        if let Some(name) = reference.strip_prefix("env:") {
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
        } else if let Some(path) = reference.strip_prefix("file:") {
            std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| format!("cannot read secret file {path}: {e}"))
        } else {
            Err(format!(
                "unknown secret reference ${{{reference}}}: use ${{env:NAME}} or ${{file:PATH}}"
            ))
        }
    }
}

impl fmt::Display for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// `[kafka]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma-separated `host:port`.
    #[serde(default = "default_brokers")]
    pub brokers: String,
    /// Consumer group; instances with the same group share the input partitions.
    #[serde(default = "default_group_id")]
    pub group_id: String,
    /// Topic carrying raw wire stories.
    #[serde(default = "default_input_topic")]
    pub input_topic: String,
    /// Topic receiving enriched events (key = story id).
    #[serde(default = "default_output_topic")]
    pub output_topic: String,
    /// Dead-letter topic: original bytes plus `error.*` and `source.*` headers.
    #[serde(default = "default_dlq_topic")]
    pub dlq_topic: String,
    /// Compacted topic holding one record per known story (key = story id; value = its
    /// version, fingerprint and slug). Every instance of the group writes it and reads it
    /// back, so version and duplicate tracking is shared and survives restarts. Created
    /// (`cleanup.policy=compact`) when missing. Used only when `dedup.enabled`.
    #[serde(default = "default_state_topic")]
    pub state_topic: String,
    /// `at_least_once` (default: idempotent producer, offsets stored after delivery; a
    /// crash may repeat records) or `exactly_once` (transactional producer; output and
    /// input offsets committed atomically; consumers must read with
    /// `isolation.level=read_committed`).
    #[serde(default)]
    pub delivery: DeliveryMode,
    /// `transactional.id` for `delivery = "exactly_once"`: unique per instance and stable
    /// across its restarts (a restarted instance fences its previous incarnation). Empty:
    /// `<group_id>-<hostname>`.
    #[serde(default)]
    pub transactional_id: String,
    /// In `exactly_once` mode, a transaction is committed after this many records…
    #[serde(default = "default_transaction_max_records")]
    pub transaction_max_records: usize,
    /// …or after this long, whichever comes first.
    #[serde(default = "default_transaction_interval_ms")]
    pub transaction_interval_ms: u64,
    /// How long the producer keeps retrying one message before reporting it failed. A
    /// failed delivery stops the daemon without storing the offset, so this is how long a
    /// broker outage is ridden out before exiting for a supervised restart.
    #[serde(default = "default_message_timeout_ms")]
    pub message_timeout_ms: u64,
    /// Most records between consume and broker acknowledgement at once; bounds memory
    /// however large the backlog (back-pressure).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Raw librdkafka settings for both consumer and producer: TLS and SASL, e.g.
    /// `"security.protocol" = "SASL_SSL"`, `"sasl.password" = "${env:KAFKA_PASSWORD}"`.
    #[serde(default)]
    pub client: BTreeMap<String, RawValue>,
    /// Raw librdkafka consumer settings, passed through (e.g. `"fetch.max.bytes" = 52428800`).
    #[serde(default)]
    pub consumer: BTreeMap<String, RawValue>,
    /// Raw librdkafka producer settings, passed through (e.g. `"compression.type" = "zstd"`).
    #[serde(default)]
    pub producer: BTreeMap<String, RawValue>,
}

fn default_brokers() -> String {
    "localhost:9092".into()
}
fn default_group_id() -> String {
    "copydesk".into()
}
fn default_input_topic() -> String {
    "stories.raw".into()
}
fn default_output_topic() -> String {
    "stories.enriched".into()
}
fn default_dlq_topic() -> String {
    "stories.dlq".into()
}
fn default_state_topic() -> String {
    "stories.state".into()
}
fn default_transaction_max_records() -> usize {
    500
}
fn default_transaction_interval_ms() -> u64 {
    100
}

/// Delivery guarantee, see [`KafkaConfig::delivery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// Idempotent producer; offsets stored after delivery.
    #[default]
    AtLeastOnce,
    /// Transactional producer; offsets committed inside the output transaction.
    ExactlyOnce,
}

fn default_message_timeout_ms() -> u64 {
    120_000
}
fn default_max_in_flight() -> usize {
    2_000
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: default_brokers(),
            group_id: default_group_id(),
            input_topic: default_input_topic(),
            output_topic: default_output_topic(),
            dlq_topic: default_dlq_topic(),
            state_topic: default_state_topic(),
            delivery: DeliveryMode::default(),
            transactional_id: String::new(),
            transaction_max_records: default_transaction_max_records(),
            transaction_interval_ms: default_transaction_interval_ms(),
            message_timeout_ms: default_message_timeout_ms(),
            max_in_flight: default_max_in_flight(),
            client: BTreeMap::new(),
            consumer: BTreeMap::new(),
            producer: BTreeMap::new(),
        }
    }
}

/// `[pipeline]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Records larger than this go to the DLQ (class `oversize`) without being decoded.
    #[serde(default = "default_max_story_bytes")]
    pub max_story_bytes: usize,
    /// Records processed in parallel off the async reactor; 0 = number of CPUs.
    #[serde(default)]
    pub workers: usize,
    /// Reading speed used for `enrichment.reading_time_s`.
    #[serde(default = "default_words_per_minute")]
    pub words_per_minute: u32,
    /// Which stages run.
    #[serde(default)]
    pub stages: StagesConfig,
    /// Decoder settings.
    #[serde(default)]
    pub decode: DecodeConfig,
    /// Topic classifier settings.
    #[serde(default)]
    pub topics: TopicsConfig,
    /// Keyword extraction settings.
    #[serde(default)]
    pub keywords: KeywordsConfig,
    /// Summary settings.
    #[serde(default)]
    pub summary: SummaryConfig,
}

/// `[pipeline.topics]`: the IPTC Media Topics classifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicsConfig {
    /// Most top-level topics per story (each may bring up to two second-level topics).
    #[serde(default = "default_topics_max_top_level")]
    pub max_top_level: usize,
    /// Least confidence (0–100) a top-level topic needs to be reported; higher = fewer,
    /// surer topics.
    #[serde(default = "default_topics_min_confidence")]
    pub min_confidence: u8,
}

fn default_topics_max_top_level() -> usize {
    3
}
fn default_topics_min_confidence() -> u8 {
    40
}

impl Default for TopicsConfig {
    fn default() -> Self {
        Self {
            max_top_level: default_topics_max_top_level(),
            min_confidence: default_topics_min_confidence(),
        }
    }
}

/// `[pipeline.keywords]`: keyphrase extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordsConfig {
    /// Most keywords per story.
    #[serde(default = "default_keywords_max")]
    pub max: usize,
}

fn default_keywords_max() -> usize {
    10
}

impl Default for KeywordsConfig {
    fn default() -> Self {
        Self {
            max: default_keywords_max(),
        }
    }
}

/// `[pipeline.summary]`: the lede-based summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryConfig {
    /// Character budget; whole sentences are taken while they fit.
    #[serde(default = "default_summary_max_chars")]
    pub max_chars: usize,
    /// Most sentences.
    #[serde(default = "default_summary_max_sentences")]
    pub max_sentences: usize,
}

fn default_summary_max_chars() -> usize {
    300
}
fn default_summary_max_sentences() -> usize {
    3
}

impl Default for SummaryConfig {
    fn default() -> Self {
        Self {
            max_chars: default_summary_max_chars(),
            max_sentences: default_summary_max_sentences(),
        }
    }
}

fn default_max_story_bytes() -> usize {
    1_048_576
}
fn default_words_per_minute() -> u32 {
    230
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            max_story_bytes: default_max_story_bytes(),
            workers: 0,
            words_per_minute: default_words_per_minute(),
            stages: StagesConfig::default(),
            decode: DecodeConfig::default(),
            topics: TopicsConfig::default(),
            keywords: KeywordsConfig::default(),
            summary: SummaryConfig::default(),
        }
    }
}

impl PipelineConfig {
    /// Worker count with 0 resolved to the number of CPUs.
    pub fn effective_workers(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }
}

/// `[pipeline.stages]`: switch stages on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagesConfig {
    /// Normalise: Unicode NFC, control characters, odd and zero-width spaces, whitespace.
    #[serde(default = "default_normalise_unicode")]
    pub normalise_unicode: bool,
    /// Normalise: header, date, byline and dateline lines lifted into fields; captions and
    /// credits into media; crossheads marked; repeated paragraphs removed.
    #[serde(default = "default_normalise_layout")]
    pub normalise_layout: bool,
    /// Normalise: machine-translation repair (run-together words split; doubled words and
    /// likely garbles flagged) and the quality score.
    #[serde(default = "default_normalise_repair")]
    pub normalise_repair: bool,
    /// Word count and reading time.
    #[serde(default = "default_true")]
    pub text_stats: bool,
    /// Entities: people, organisations and places (statistical tagger + gazetteer), with
    /// merged mentions, roles, demonyms and places resolved to GeoNames.
    #[serde(default = "default_true")]
    pub entities: bool,
    /// Language detected from the headline and body (BCP 47 + confidence), apart from the
    /// declared language.
    #[serde(default = "default_language")]
    pub language: bool,
    /// Sentence spans of the body (news-aware: abbreviations, initials, quotes, datelines).
    #[serde(default = "default_sentences")]
    pub sentences: bool,
    /// Direct quotes and reported speech with speakers (resolved to entities when the
    /// entities stage runs).
    #[serde(default = "default_quotes")]
    pub quotes: bool,
    /// Date expressions normalised against the story's date (TIMEX3-like values).
    #[serde(default = "default_dates")]
    pub dates: bool,
    /// Fingerprint: 64-bit SimHash of the body (near-duplicate detection needs it).
    #[serde(default = "default_true")]
    pub fingerprint: bool,
    /// Topics: IPTC Media Topics (top level and second level) with relevance and
    /// confidence, from cue terms; provider-declared Media Topic codes are kept.
    #[serde(default = "default_topics")]
    pub topics: bool,
    /// Keywords: keyphrases scored by frequency and rarity, merged with entity names.
    #[serde(default = "default_keywords")]
    pub keywords: bool,
    /// Summary: the lede's first sentences within a character budget.
    #[serde(default = "default_summary")]
    pub summary: bool,
}

fn default_true() -> bool {
    true
}
fn default_normalise_unicode() -> bool {
    true
}
fn default_normalise_layout() -> bool {
    true
}
fn default_normalise_repair() -> bool {
    true
}
fn default_language() -> bool {
    true
}
fn default_sentences() -> bool {
    true
}
fn default_quotes() -> bool {
    true
}
fn default_dates() -> bool {
    true
}
fn default_topics() -> bool {
    true
}
fn default_keywords() -> bool {
    true
}
fn default_summary() -> bool {
    true
}

impl Default for StagesConfig {
    fn default() -> Self {
        Self {
            normalise_unicode: default_normalise_unicode(),
            normalise_layout: default_normalise_layout(),
            normalise_repair: default_normalise_repair(),
            text_stats: true,
            entities: true,
            language: default_language(),
            sentences: default_sentences(),
            quotes: default_quotes(),
            dates: default_dates(),
            fingerprint: true,
            topics: default_topics(),
            keywords: default_keywords(),
            summary: default_summary(),
        }
    }
}

/// `[shutdown]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// After SIGTERM/SIGINT, how long in-flight records may take to be delivered before the
    /// daemon commits what is acknowledged and exits.
    #[serde(default = "default_drain_timeout_ms")]
    pub drain_timeout_ms: u64,
}

fn default_drain_timeout_ms() -> u64 {
    10_000
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            drain_timeout_ms: default_drain_timeout_ms(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    #[serde(default)]
    pub format: LogFormat,
    /// Filter in `RUST_LOG` syntax, e.g. `info` or `copydesk=debug,rdkafka=warn`.
    #[serde(default = "default_log_level")]
    pub level: String,
    /// How often the daemon logs a one-line progress summary (stories/s, lag, DLQ count);
    /// 0 turns it off.
    #[serde(default = "default_progress_interval_ms")]
    pub progress_interval_ms: u64,
}

fn default_progress_interval_ms() -> u64 {
    10_000
}

fn default_log_level() -> String {
    "info".into()
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: default_log_level(),
            progress_interval_ms: default_progress_interval_ms(),
        }
    }
}

/// librdkafka keys copydesk sets itself because its delivery guarantee depends on them.
const MANAGED_CONSUMER_KEYS: &[&str] = &[
    "bootstrap.servers",
    "group.id",
    "enable.auto.offset.store",
    "enable.auto.commit",
];
const MANAGED_PRODUCER_KEYS: &[&str] = &[
    "bootstrap.servers",
    "enable.idempotence",
    "message.timeout.ms",
];

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

impl Config {
    /// Loads defaults, then `path` (if given), then `COPYDESK_*` environment variables
    /// (`COPYDESK_KAFKA__BROKERS` sets `kafka.brokers`), then `overrides`; validates.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = path {
            if !path.exists() {
                return Err(invalid(
                    "--config",
                    format!("file {} does not exist", path.display()),
                ));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment
            .merge(
                // Only nested keys (`COPYDESK_KAFKA__BROKERS`) are configuration; single-level
                // names such as COPYDESK_CONFIG or a test harness's COPYDESK_E2E_BROKERS are not.
                Env::prefixed("COPYDESK_")
                    .filter(|key| key.as_str().contains("__"))
                    .split("__"),
            )
            .merge(Serialized::defaults(overrides.as_tree()));
        let config: Config = figment.extract()?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML document alone (no environment), then validates.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()?;
        config.validate()?;
        Ok(config)
    }

    /// The effective configuration as TOML.
    pub fn to_toml(&self) -> String {
        // Serialising plain structs, maps and scalars into TOML cannot fail: every value is
        // representable and maps have string keys.
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let k = &self.kafka;
        if k.brokers.trim().is_empty() {
            return Err(invalid("kafka.brokers", "must name at least one host:port"));
        }
        if k.group_id.trim().is_empty() {
            return Err(invalid("kafka.group_id", "must not be empty"));
        }
        for (key, topic) in [
            ("kafka.input_topic", &k.input_topic),
            ("kafka.output_topic", &k.output_topic),
            ("kafka.dlq_topic", &k.dlq_topic),
        ] {
            if topic.trim().is_empty() {
                return Err(invalid(key, "must not be empty"));
            }
        }
        if k.output_topic == k.input_topic {
            return Err(invalid(
                "kafka.output_topic",
                "must differ from kafka.input_topic (it would consume its own output)",
            ));
        }
        if k.dlq_topic == k.input_topic {
            return Err(invalid(
                "kafka.dlq_topic",
                "must differ from kafka.input_topic",
            ));
        }
        if k.message_timeout_ms < 1_000 {
            return Err(invalid("kafka.message_timeout_ms", "must be at least 1000"));
        }
        if k.max_in_flight == 0 {
            return Err(invalid("kafka.max_in_flight", "must be at least 1"));
        }
        if self.dedup.enabled
            && [&k.input_topic, &k.output_topic, &k.dlq_topic].contains(&&k.state_topic)
        {
            return Err(invalid(
                "kafka.state_topic",
                "must differ from the input, output and dlq topics",
            ));
        }
        if k.transaction_max_records == 0 {
            return Err(invalid(
                "kafka.transaction_max_records",
                "must be at least 1",
            ));
        }
        self.dedup
            .validate()
            .map_err(|(key, reason)| invalid(key, reason))?;
        for (section, raw) in [
            ("client", &k.client),
            ("consumer", &k.consumer),
            ("producer", &k.producer),
        ] {
            for (key, value) in raw {
                if let Err(reason) = value.resolve() {
                    return Err(invalid(&format!("kafka.{section}.\"{key}\""), reason));
                }
            }
        }
        for key in k.client.keys() {
            if MANAGED_CONSUMER_KEYS.contains(&key.as_str())
                || MANAGED_PRODUCER_KEYS.contains(&key.as_str())
            {
                return Err(invalid(
                    &format!("kafka.client.\"{key}\""),
                    "is managed by copydesk; use the [kafka] options instead",
                ));
            }
        }
        for key in k.consumer.keys() {
            if MANAGED_CONSUMER_KEYS.contains(&key.as_str()) {
                return Err(invalid(&format!("kafka.consumer.\"{key}\""), "is managed by copydesk (at-least-once delivery depends on it); use the [kafka] options instead"));
            }
        }
        for key in k.producer.keys() {
            if MANAGED_PRODUCER_KEYS.contains(&key.as_str()) {
                return Err(invalid(
                    &format!("kafka.producer.\"{key}\""),
                    "is managed by copydesk; use the [kafka] options instead",
                ));
            }
        }
        if self.pipeline.max_story_bytes == 0 {
            return Err(invalid("pipeline.max_story_bytes", "must be at least 1"));
        }
        if self.pipeline.words_per_minute == 0 {
            return Err(invalid("pipeline.words_per_minute", "must be at least 1"));
        }
        if let Err((key, reason)) = self.pipeline.decode.validate() {
            return Err(invalid(key, &reason));
        }
        if self.shutdown.drain_timeout_ms == 0 {
            return Err(invalid("shutdown.drain_timeout_ms", "must be at least 1"));
        }
        if self.http.enabled && self.http.address.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "http.address",
                format!("{:?} is not an IP:port address", self.http.address),
            ));
        }
        if self.http.stall_timeout_ms < 1_000 {
            return Err(invalid("http.stall_timeout_ms", "must be at least 1000"));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(invalid("log.level", e.to_string()));
        }
        Ok(())
    }
}

/// Command-line flags that override the file and environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--brokers`
    pub brokers: Option<String>,
    /// `--group-id`
    pub group_id: Option<String>,
    /// `--input-topic`
    pub input_topic: Option<String>,
    /// `--output-topic`
    pub output_topic: Option<String>,
    /// `--dlq-topic`
    pub dlq_topic: Option<String>,
    /// `--log-format`
    pub log_format: Option<LogFormat>,
}

impl Overrides {
    fn as_tree(&self) -> serde_json::Value {
        let mut kafka = serde_json::Map::new();
        for (key, value) in [
            ("brokers", &self.brokers),
            ("group_id", &self.group_id),
            ("input_topic", &self.input_topic),
            ("output_topic", &self.output_topic),
            ("dlq_topic", &self.dlq_topic),
        ] {
            if let Some(v) = value {
                kafka.insert(key.into(), v.clone().into());
            }
        }
        let mut root = serde_json::Map::new();
        if !kafka.is_empty() {
            root.insert("kafka".into(), kafka.into());
        }
        if let Some(format) = self.log_format {
            root.insert("log".into(), serde_json::json!({ "format": format }));
        }
        root.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_is_the_default() {
        let shipped = include_str!("../config/copydesk.toml");
        assert_eq!(
            Config::from_toml(shipped).expect("shipped config loads"),
            Config::default()
        );
    }

    #[test]
    fn secret_references_resolve_from_env_and_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").expect("write");
        let file_ref = RawValue::Text(format!("${{file:{}}}", path.display()));
        assert_eq!(file_ref.resolve().as_deref(), Ok("s3cret"));
        assert_eq!(
            RawValue::Text("plain".into()).resolve().as_deref(),
            Ok("plain")
        );
        assert_eq!(RawValue::Int(5).resolve().as_deref(), Ok("5"));
        let env_ref = RawValue::Text("${env:PATH}".into());
        assert_eq!(env_ref.resolve().ok(), std::env::var("PATH").ok());
        // The effective config shows the reference, never the secret.
        let mut config = Config::default();
        config.kafka.client.insert("sasl.password".into(), file_ref);
        assert!(!config.to_toml().contains("s3cret"));
    }

    #[test]
    fn round_trip_through_toml() {
        let mut config = Config::default();
        config.kafka.brokers = "a:1,b:2".into();
        config
            .kafka
            .producer
            .insert("linger.ms".into(), RawValue::Int(5));
        config
            .kafka
            .consumer
            .insert("fetch.max.bytes".into(), RawValue::Text("100".into()));
        config.pipeline.decode.json.headline = "meta.title".into();
        let again = Config::from_toml(&config.to_toml()).expect("round trip");
        assert_eq!(again, config);
    }

    #[test]
    fn rejections_name_the_key() {
        let cases = [
            ("[kafka]\nbrokerz = \"x\"", "brokerz"),
            ("[kafka]\nbrokers = \"\"", "kafka.brokers"),
            (
                "[kafka]\noutput_topic = \"stories.raw\"",
                "kafka.output_topic",
            ),
            ("[kafka]\nmax_in_flight = 0", "kafka.max_in_flight"),
            ("[kafka]\nmax_in_flight = -3", "max_in_flight"),
            (
                "[kafka.consumer]\n\"enable.auto.offset.store\" = true",
                "enable.auto.offset.store",
            ),
            (
                "[kafka.producer]\n\"enable.idempotence\" = false",
                "enable.idempotence",
            ),
            (
                "[pipeline]\nmax_story_bytes = 0",
                "pipeline.max_story_bytes",
            ),
            ("[pipeline.stages]\nmagic = true", "magic"),
            ("[pipeline.decode.json]\ntitle = \"t\"", "title"),
            (
                "[shutdown]\ndrain_timeout_ms = \"soon\"",
                "drain_timeout_ms",
            ),
            ("[log]\nformat = \"xml\"", "format"),
            ("[log]\nlevel = \"copydesk=loud\"", "log.level"),
            ("[http]\naddress = \"localhost\"", "http.address"),
            ("[http]\nport = 1", "port"),
            ("[surprise]\n", "surprise"),
        ];
        for (toml, needle) in cases {
            let err = Config::from_toml(toml).expect_err(toml).to_string();
            assert!(err.contains(needle), "{toml:?} → {err}");
        }
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail fixes the closure type
    fn environment_and_flags_override_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "[kafka]\nbrokers = \"file:1\"\ngroup_id = \"g-file\"\n",
            )?;
            jail.set_env("COPYDESK_KAFKA__BROKERS", "env:2");
            jail.set_env("COPYDESK_PIPELINE__MAX_STORY_BYTES", "4096");
            jail.set_env("COPYDESK_CONFIG", "ignored-by-the-loader.toml");
            // Regression: a harness variable with the prefix but no nesting broke start-up.
            jail.set_env("COPYDESK_E2E_BROKERS", "127.0.0.1:1");
            let config = Config::load(Some(Path::new("c.toml")), &Overrides::default())
                .map_err(|e| e.to_string())?;
            assert_eq!(config.kafka.brokers, "env:2");
            assert_eq!(config.kafka.group_id, "g-file");
            assert_eq!(config.pipeline.max_story_bytes, 4096);
            let flags = Overrides {
                brokers: Some("flag:3".into()),
                log_format: Some(LogFormat::Json),
                ..Overrides::default()
            };
            let config =
                Config::load(Some(Path::new("c.toml")), &flags).map_err(|e| e.to_string())?;
            assert_eq!(config.kafka.brokers, "flag:3");
            assert_eq!(config.log.format, LogFormat::Json);
            jail.set_env("COPYDESK_KAFKA__NOPE", "1");
            let err = Config::load(None, &Overrides::default()).expect_err("unknown env key");
            assert!(err.to_string().contains("nope"), "{err}");
            Ok(())
        });
    }
}
