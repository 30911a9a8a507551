//! The producer side: events to the output topic, dead letters to the DLQ topic.
//!
//! Every message carries the [`Ticket`] of the input record it answers. The delivery
//! callback (on the producer's own thread) acknowledges the ticket only when the broker has
//! acknowledged the message; a failed delivery acknowledges nothing and trips the fatal
//! switch, so the record's offset is never stored and the daemon stops for a restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext, Message};
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;

use super::offsets::{OffsetTracker, Ticket};
use crate::config::KafkaConfig;
use crate::encode::VERSION;
use crate::pipeline::{Failure, Processed, Source};
use crate::telemetry::Metrics;

/// What kind of output a message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputKind {
    /// An enriched event.
    Event,
    /// A dead letter, with its error class.
    DeadLetter(String),
    /// A story state record for the compacted state topic (answers no input record).
    State,
}

/// Travels with a message through librdkafka and comes back in the delivery callback.
#[derive(Debug)]
pub struct Delivery {
    /// The input record this answers; `None` for state records.
    ticket: Option<Ticket>,
    kind: OutputKind,
    /// The input record's timestamp (ms since the epoch), for end-to-end latency.
    source_ms: Option<i64>,
    /// Released when the delivery is reported: the in-flight budget (back-pressure).
    _permit: Option<OwnedSemaphorePermit>,
}

/// Shared state the delivery callback updates.
pub struct SinkContext {
    tracker: Arc<OffsetTracker>,
    metrics: Arc<Metrics>,
    /// Woken when a partition's committable offset moved.
    offsets_moved: Arc<Notify>,
    /// Cancelled on the first failed delivery.
    fatal: CancellationToken,
    fatal_reason: Mutex<Option<String>>,
    /// Transactional mode: a failed delivery fails its transaction's commit, which the
    /// exactly-once loop aborts and retries; it is not fatal by itself.
    transactional: bool,
}

impl ClientContext for SinkContext {}

impl ProducerContext for SinkContext {
    type DeliveryOpaque = Box<Delivery>;

    fn delivery(&self, result: &DeliveryResult<'_>, delivery: Self::DeliveryOpaque) {
        match result {
            Ok(message) => {
                match &delivery.kind {
                    OutputKind::Event => {
                        self.metrics.events.inc();
                    }
                    OutputKind::DeadLetter(class) => self.metrics.dead_letter(class),
                    OutputKind::State => return,
                };
                let bytes = u64::try_from(message.payload_len()).unwrap_or(0);
                self.metrics.bytes_out.inc_by(bytes);
                if let Some(ms) = delivery.source_ms {
                    let age_ms = chrono::Utc::now().timestamp_millis().saturating_sub(ms);
                    self.metrics
                        .end_to_end_seconds
                        .observe(age_ms.max(0) as f64 / 1000.0);
                }
                if let Some(ticket) = &delivery.ticket {
                    if self.tracker.ack(ticket) {
                        self.offsets_moved.notify_one();
                    }
                }
            }
            Err((err, message)) => {
                if self.transactional {
                    // Includes messages purged by an abort: the commit result decides.
                    tracing::debug!(topic = message.topic(), %err, "delivery failed inside a transaction");
                    return;
                }
                let Some(ticket) = &delivery.ticket else {
                    // State is an optimisation: a lost state record degrades duplicate
                    // detection, it loses no story. Not fatal.
                    self.metrics.state_publish_failures.inc();
                    tracing::warn!(topic = message.topic(), %err, "state record not published");
                    return;
                };
                self.metrics.failed_deliveries.inc();
                let reason = format!(
                    "delivery to {} failed for input {}[{}]@{}: {err}",
                    message.topic(),
                    ticket.tp.0,
                    ticket.tp.1,
                    ticket.offset
                );
                tracing::error!("{reason}");
                let mut slot = self.fatal_reason.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(reason);
                self.fatal.cancel();
            }
        }
    }
}

/// Why a message could not be handed to the producer.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// librdkafka refused the message for a reason other than a full queue.
    #[error("cannot enqueue message for {topic}: {source}")]
    Enqueue {
        /// Destination topic.
        topic: String,
        /// librdkafka's error.
        source: KafkaError,
    },
}

/// The producer plus the topics it writes.
pub struct Sink {
    producer: ThreadedProducer<SinkContext>,
    output_topic: String,
    dlq_topic: String,
    state_topic: String,
    /// This daemon's `copydesk.instance` header on its state records
    /// ([`crate::state::topic::new_instance_id`]).
    instance: String,
    /// `copydesk.schema` header of output messages.
    schema: &'static str,
    /// The producer's `message.max.bytes`: librdkafka refuses larger messages outright, so
    /// outputs are sized against it before they are handed over.
    max_message_bytes: usize,
}

/// librdkafka's default `message.max.bytes`.
const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_000_000;

/// Room kept below `message.max.bytes` for record and batch framing.
const FRAMING_BYTES: usize = 4096;

/// Header on a dead letter whose original bytes did not fit: the original size. The payload
/// is then the first bytes of the original; the whole record stays in the input topic at
/// `source.partition` / `source.offset` for as long as its retention allows.
pub const TRUNCATED_HEADER: &str = "copydesk.payload.truncated";

impl Sink {
    /// Creates the idempotent producer.
    pub fn create(
        config: &KafkaConfig,
        tracker: Arc<OffsetTracker>,
        metrics: Arc<Metrics>,
        offsets_moved: Arc<Notify>,
        fatal: CancellationToken,
        schema: &'static str,
    ) -> Result<Self, KafkaError> {
        Self::create_with(config, tracker, metrics, offsets_moved, fatal, schema, None)
    }

    /// Creates a transactional producer with `transactional_id` (exactly-once mode).
    pub fn create_transactional(
        config: &KafkaConfig,
        tracker: Arc<OffsetTracker>,
        metrics: Arc<Metrics>,
        fatal: CancellationToken,
        schema: &'static str,
        transactional_id: &str,
    ) -> Result<Self, KafkaError> {
        let moved = Arc::new(Notify::new());
        Self::create_with(
            config,
            tracker,
            metrics,
            moved,
            fatal,
            schema,
            Some(transactional_id),
        )
    }

    fn create_with(
        config: &KafkaConfig,
        tracker: Arc<OffsetTracker>,
        metrics: Arc<Metrics>,
        offsets_moved: Arc<Notify>,
        fatal: CancellationToken,
        schema: &'static str,
        transactional_id: Option<&str>,
    ) -> Result<Self, KafkaError> {
        let mut client = ClientConfig::new();
        if let Some(id) = transactional_id {
            client
                .set("transactional.id", id)
                // librdkafka requires message.timeout.ms <= transaction.timeout.ms.
                .set(
                    "transaction.timeout.ms",
                    config.message_timeout_ms.max(60_000).to_string(),
                );
        }
        client
            .set("bootstrap.servers", &config.brokers)
            // Idempotence gives acks=all, ordered retries and no duplicates from retries.
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", config.message_timeout_ms.to_string())
            .set("linger.ms", "5")
            .set("compression.type", "lz4");
        super::apply_raw(&mut client, &config.client)?;
        super::apply_raw(&mut client, &config.producer)?;
        let max_message_bytes = client
            .get("message.max.bytes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MAX_MESSAGE_BYTES);
        let context = SinkContext {
            tracker,
            metrics,
            offsets_moved,
            fatal,
            fatal_reason: Mutex::new(None),
            transactional: transactional_id.is_some(),
        };
        Ok(Self {
            producer: client.create_with_context(context)?,
            output_topic: config.output_topic.clone(),
            dlq_topic: config.dlq_topic.clone(),
            state_topic: config.state_topic.clone(),
            instance: crate::state::topic::new_instance_id(),
            schema,
            max_message_bytes,
        })
    }

    /// Payload bytes a message with `key_and_headers` bytes of key and headers may carry.
    fn payload_room(&self, key_and_headers: usize) -> usize {
        self.max_message_bytes
            .saturating_sub(FRAMING_BYTES)
            .saturating_sub(key_and_headers)
    }

    /// Whether `processed`'s event fits in one message (`message.max.bytes`); one that does
    /// not must become a dead letter, since librdkafka would refuse it.
    pub fn event_fits(&self, processed: &Processed) -> bool {
        // key, the fixed headers and the source.* headers (topic name and numbers)
        let overhead = processed.key.len() + 512;
        processed.payload.len() <= self.payload_room(overhead)
    }

    /// The first delivery failure, if any.
    pub fn fatal_reason(&self) -> Option<String> {
        let context = self.producer.context();
        context
            .fatal_reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Enqueues an event. Waits (without blocking the reactor) while the producer queue is
    /// full: that is the back-pressure path.
    pub async fn send_event(
        &self,
        processed: &Processed,
        source: &Source,
        ticket: Ticket,
        permit: OwnedSemaphorePermit,
    ) -> Result<(), SinkError> {
        let headers = source_headers(OwnedHeaders::new(), source)
            .insert(Header {
                key: "content-type",
                value: Some("application/json"),
            })
            .insert(Header {
                key: "copydesk.schema",
                value: Some(self.schema),
            })
            .insert(Header {
                key: "copydesk.version",
                value: Some(VERSION),
            })
            .insert(Header {
                key: "source.format",
                value: Some(processed.format),
            });
        let delivery = Box::new(Delivery {
            ticket: Some(ticket),
            kind: OutputKind::Event,
            source_ms: source.timestamp.map(|t| t.timestamp_millis()),
            _permit: Some(permit),
        });
        let record = BaseRecord::with_opaque_to(&self.output_topic, delivery)
            .key(processed.key.as_bytes())
            .payload(processed.payload.as_slice())
            .headers(headers);
        self.enqueue(record).await
    }

    /// Enqueues a dead letter: the original key, bytes and headers, plus `error.*`,
    /// `source.*` and `copydesk.version` headers.
    pub async fn send_dead_letter(
        &self,
        original: &InputRecord,
        failure: &Failure,
        ticket: Ticket,
        permit: OwnedSemaphorePermit,
    ) -> Result<(), SinkError> {
        let mut headers = OwnedHeaders::new();
        for (key, value) in &original.headers {
            headers = headers.insert(Header {
                key,
                value: value.as_deref(),
            });
        }
        let headers = source_headers(headers, &original.source)
            .insert(Header {
                key: "error.class",
                value: Some(failure.class.as_str()),
            })
            .insert(Header {
                key: "error.message",
                value: Some(failure.message.as_str()),
            })
            .insert(Header {
                key: "error.stage",
                value: Some(failure.stage.as_str()),
            })
            .insert(Header {
                key: "copydesk.version",
                value: Some(VERSION),
            });
        // Original bytes too large for one message: keep the head and say so (the whole
        // record is still in the input topic). Otherwise librdkafka would refuse the dead
        // letter, the daemon would stop, and the same record would stop it again after
        // every restart.
        let header_bytes: usize = original
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
            .sum::<usize>()
            + failure.class.len()
            + failure.message.len()
            + failure.stage.len()
            + 512;
        let key_bytes = original.key.as_ref().map_or(0, Vec::len);
        let room = self.payload_room(header_bytes + key_bytes);
        let original_len = original.payload.len().to_string();
        let (payload, headers) = if original.payload.len() > room {
            let headers = headers.insert(Header {
                key: TRUNCATED_HEADER,
                value: Some(original_len.as_str()),
            });
            (&original.payload[..room], headers)
        } else {
            (original.payload.as_slice(), headers)
        };
        let delivery = Box::new(Delivery {
            ticket: Some(ticket),
            kind: OutputKind::DeadLetter(failure.class.clone()),
            source_ms: original.source.timestamp.map(|t| t.timestamp_millis()),
            _permit: Some(permit),
        });
        let mut record = BaseRecord::with_opaque_to(&self.dlq_topic, delivery)
            .payload(payload)
            .headers(headers);
        if let Some(key) = &original.key {
            record = record.key(key.as_slice());
        }
        self.enqueue(record).await
    }

    /// The `copydesk.instance` header value of the state records this sink writes.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Enqueues a story state record (key = story id) for the compacted state topic.
    /// Its delivery acknowledges no input record.
    pub async fn send_state(&self, key: &str, value: &[u8]) -> Result<(), SinkError> {
        let delivery = Box::new(Delivery {
            ticket: None,
            kind: OutputKind::State,
            source_ms: None,
            _permit: None,
        });
        let record = BaseRecord::with_opaque_to(&self.state_topic, delivery)
            .key(key.as_bytes())
            .payload(value)
            .headers(OwnedHeaders::new().insert(Header {
                key: crate::state::topic::INSTANCE_HEADER,
                value: Some(&self.instance),
            }));
        self.enqueue(record).await
    }

    /// Answers an input record with no output at all (a re-send dropped by
    /// `dedup.drop_exact`): its offset may be stored as if an output had been delivered.
    pub fn acknowledge_without_output(&self, ticket: &Ticket) {
        let context = self.producer.context();
        context.metrics.duplicates_dropped.inc();
        if context.tracker.ack(ticket) {
            context.offsets_moved.notify_one();
        }
    }

    async fn enqueue(
        &self,
        mut record: BaseRecord<'_, [u8], [u8], Box<Delivery>>,
    ) -> Result<(), SinkError> {
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((source, back)) => {
                    return Err(SinkError::Enqueue {
                        topic: back.topic.to_string(),
                        source,
                    })
                }
            }
        }
    }

    /// The producer, for the transaction calls of the exactly-once loop.
    pub fn producer(&self) -> &ThreadedProducer<SinkContext> {
        &self.producer
    }

    /// Waits up to `timeout` for every enqueued message to be delivered or failed.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.producer.flush(timeout)
    }

    /// Messages enqueued but not yet reported.
    pub fn in_flight(&self) -> i32 {
        self.producer.in_flight_count()
    }

    /// Whether the producer can reach the brokers (a metadata round trip; blocking).
    pub fn reaches_brokers(&self, timeout: Duration) -> bool {
        self.producer
            .client()
            .fetch_metadata(Some(&self.output_topic), timeout)
            .is_ok()
    }
}

fn source_headers(headers: OwnedHeaders, source: &Source) -> OwnedHeaders {
    let timestamp = source
        .timestamp
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    headers
        .insert(Header {
            key: "source.topic",
            value: Some(source.topic.as_str()),
        })
        .insert(Header {
            key: "source.partition",
            value: Some(source.partition.to_string().as_str()),
        })
        .insert(Header {
            key: "source.offset",
            value: Some(source.offset.to_string().as_str()),
        })
        .insert(Header {
            key: "source.timestamp",
            value: Some(timestamp.as_str()),
        })
}

/// An input record detached from the consumer: what the pipeline and the DLQ need.
#[derive(Debug, Clone)]
pub struct InputRecord {
    /// Record key.
    pub key: Option<Vec<u8>>,
    /// Record value (empty for a tombstone).
    pub payload: Vec<u8>,
    /// Record headers in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Coordinates.
    pub source: Source,
}

impl InputRecord {
    /// The `content-type` header, if present and UTF-8.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .and_then(|(_, v)| v.as_deref())
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}
