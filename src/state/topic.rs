//! The compacted state topic: rebuilt into the [`StoryIndex`] at start-up, then followed so
//! that what other instances of the group publish is known here too.
//!
//! The reader is a plain assigned consumer (no group, no commits): every instance reads
//! every partition from the beginning. Compaction keeps one record per story id, so the
//! topic stays about as large as the index.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::index::StoryIndex;
use super::record::StoryRecord;
use super::DedupConfig;
use crate::config::KafkaConfig;

/// Why the state topic could not be prepared or read.
#[derive(Debug, thiserror::Error)]
pub enum StateTopicError {
    /// A Kafka call failed.
    #[error("state topic {topic}: {source}")]
    Kafka {
        /// The state topic.
        topic: String,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// The topic could not be read to its end in time.
    #[error("state topic {topic}: not read to its end within {timeout_ms} ms")]
    Timeout {
        /// The state topic.
        topic: String,
        /// `dedup.rebuild_timeout_ms`.
        timeout_ms: u64,
    },
}

/// Creates the state topic (compacted, retention = `dedup.max_age_s`) unless it exists.
pub async fn ensure(kafka: &KafkaConfig, dedup: &DedupConfig) -> Result<(), StateTopicError> {
    let err = |source| StateTopicError::Kafka {
        topic: kafka.state_topic.clone(),
        source,
    };
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &kafka.brokers);
    crate::kafka::apply_raw(&mut client, &kafka.client).map_err(err)?;
    let admin: AdminClient<DefaultClientContext> = client.create().map_err(err)?;
    // Look first: creating needs admin rights (and an ACL) that reading and writing do not,
    // and some Kafka-protocol brokers do not implement CreateTopics at all.
    let exists = admin
        .inner()
        .fetch_metadata(Some(&kafka.state_topic), Duration::from_secs(10))
        .map_err(err)?
        .topics()
        .iter()
        .any(|t| {
            t.name() == kafka.state_topic && t.error().is_none() && !t.partitions().is_empty()
        });
    if exists {
        return Ok(());
    }
    let retention = (dedup.max_age_s.saturating_mul(1000)).to_string();
    let topic = NewTopic::new(&kafka.state_topic, 1, TopicReplication::Fixed(-1))
        .set("cleanup.policy", "compact,delete")
        .set("retention.ms", &retention);
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics([&topic], &options).await.map_err(err)? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(err(KafkaError::AdminOp(code))),
        }
    }
    Ok(())
}

/// Header on every state record naming the daemon run that wrote it ([`new_instance_id`]).
pub const INSTANCE_HEADER: &str = "copydesk.instance";

/// A new random id for the state records one daemon writes ([`INSTANCE_HEADER`]): its
/// follower skips its own records (their entries are in the index already, put there by the
/// identity step) without decoding them or taking the index lock. New for every run, so the
/// records of an earlier run are still applied at the rebuild; per daemon rather than per
/// process, so two daemons in one process (tests, the demo) still learn from each other.
pub fn new_instance_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS's random source (and differs per call); the pid
    // and the clock only guard against a platform where it is not.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_i64(Utc::now().timestamp_nanos_opt().unwrap_or_default());
    format!("{:016x}", hasher.finish())
}

/// An assigned reader of the state topic.
pub struct StateReader {
    consumer: BaseConsumer,
    topic: String,
    /// The [`INSTANCE_HEADER`] value of the records this daemon writes.
    own_instance: String,
}

impl StateReader {
    /// Connects and assigns every partition of the topic from the beginning; `own_instance`
    /// is the [`INSTANCE_HEADER`] value of the records this daemon writes.
    pub fn connect(kafka: &KafkaConfig, own_instance: &str) -> Result<Self, StateTopicError> {
        let err = |source| StateTopicError::Kafka {
            topic: kafka.state_topic.clone(),
            source,
        };
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &kafka.brokers)
            // librdkafka wants a group id even for manual assignment; this one never joins
            // a group or commits (no subscribe, no auto-commit).
            .set("group.id", format!("{}.state-reader", kafka.group_id))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("fetch.wait.max.ms", "100")
            // State records are small and applied as they arrive; librdkafka's 64 MB
            // default prefetch would only hold memory.
            .set("queued.max.messages.kbytes", "4096");
        crate::kafka::apply_raw(&mut client, &kafka.client).map_err(err)?;
        let consumer: BaseConsumer = client.create().map_err(err)?;
        let metadata = consumer
            .fetch_metadata(Some(&kafka.state_topic), Duration::from_secs(10))
            .map_err(err)?;
        let mut tpl = TopicPartitionList::new();
        for topic in metadata.topics() {
            for partition in topic.partitions() {
                tpl.add_partition_offset(&kafka.state_topic, partition.id(), Offset::Beginning)
                    .map_err(err)?;
            }
        }
        consumer.assign(&tpl).map_err(err)?;
        Ok(Self {
            consumer,
            topic: kafka.state_topic.clone(),
            own_instance: own_instance.to_string(),
        })
    }

    /// Whether this daemon wrote the record (its [`INSTANCE_HEADER`] says so).
    fn written_here(&self, message: &rdkafka::message::BorrowedMessage<'_>) -> bool {
        use rdkafka::message::Headers;
        message.headers().is_some_and(|headers| {
            headers
                .iter()
                .any(|h| h.key == INSTANCE_HEADER && h.value == Some(self.own_instance.as_bytes()))
        })
    }

    fn apply(&self, index: &StoryIndex, message: &rdkafka::message::BorrowedMessage<'_>) {
        match message.payload() {
            None => {
                if let Some(id) = message.key().and_then(|k| std::str::from_utf8(k).ok()) {
                    index.forget(id);
                }
            }
            Some(bytes) => match StoryRecord::from_bytes(bytes) {
                Some(record) => index.apply(record, Utc::now()),
                None => tracing::debug!(offset = message.offset(), "skipping foreign state record"),
            },
        }
    }

    /// Reads up to the end the topic had when called (blocking). Returns records applied.
    pub fn rebuild(&self, index: &StoryIndex, timeout: Duration) -> Result<usize, StateTopicError> {
        let err = |source| StateTopicError::Kafka {
            topic: self.topic.clone(),
            source,
        };
        let deadline = Instant::now() + timeout;
        let assignment = self.consumer.assignment().map_err(err)?;
        let mut ends = Vec::new();
        for el in assignment.elements() {
            let (low, high) = self
                .consumer
                .fetch_watermarks(&self.topic, el.partition(), Duration::from_secs(10))
                .map_err(err)?;
            if high > low {
                ends.push((el.partition(), high));
            }
        }
        let mut applied = 0;
        let mut positions: std::collections::HashMap<i32, i64> = Default::default();
        while ends
            .iter()
            .any(|(p, high)| positions.get(p).is_none_or(|pos| pos + 1 < *high))
        {
            if Instant::now() > deadline {
                return Err(StateTopicError::Timeout {
                    topic: self.topic.clone(),
                    timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                });
            }
            match self.consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    positions.insert(message.partition(), message.offset());
                    self.apply(index, &message);
                    applied += 1;
                }
                Some(Err(e)) => tracing::warn!(err = %e, "state topic read error"),
                None => {}
            }
        }
        Ok(applied)
    }

    /// Applies what arrives until `stop` (blocking; run on a blocking thread).
    pub fn follow(self, index: Arc<StoryIndex>, stop: CancellationToken) {
        while !stop.is_cancelled() {
            match self.consumer.poll(Duration::from_millis(200)) {
                // Its own records would only be decoded and re-applied as a no-op (same
                // entry, same seen_at) under the index lock the workers take per story.
                Some(Ok(message)) if self.written_here(&message) => {}
                Some(Ok(message)) => self.apply(&index, &message),
                Some(Err(e)) => tracing::debug!(err = %e, "state topic read error"),
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::embedded::EmbeddedBroker;
    use crate::pipeline::Source;
    use crate::story::{Block, Story};
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};

    fn record(id: &str) -> Vec<u8> {
        let story = Story {
            headline: Some(format!("Story {id}")),
            body: vec![Block::paragraph("Talks resumed in Geneva on Monday.")],
            ..Story::default()
        };
        StoryRecord::of(&story, id, &Source::default(), Utc::now()).to_bytes()
    }

    /// The follower applies what other daemons wrote and skips, without decoding, what this
    /// daemon wrote (its entry is in the index already).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn follower_skips_only_its_own_records() {
        let broker = EmbeddedBroker::start(1).expect("mock cluster");
        let kafka = KafkaConfig {
            brokers: broker.bootstrap_servers(),
            state_topic: "s.state".into(),
            ..KafkaConfig::default()
        };
        broker.create_topic(&kafka.state_topic, 1).expect("topic");
        let own = new_instance_id();
        let other = new_instance_id();
        assert_ne!(own, other, "every daemon gets its own id");
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &kafka.brokers)
            .create()
            .expect("producer");
        for (id, instance) in [
            ("mine", Some(&own)),
            ("theirs", Some(&other)),
            ("old", None),
        ] {
            let payload = record(id);
            let mut rec = FutureRecord::to(&kafka.state_topic)
                .key(id)
                .payload(&payload);
            if let Some(instance) = instance {
                rec = rec.headers(OwnedHeaders::new().insert(Header {
                    key: INSTANCE_HEADER,
                    value: Some(instance),
                }));
            }
            producer
                .send(rec, Duration::from_secs(5))
                .await
                .map_err(|(e, _)| e)
                .expect("produced");
        }
        let reader = StateReader::connect(&kafka, &own).expect("reader");
        let index = Arc::new(StoryIndex::new(100, 86_400));
        let stop = CancellationToken::new();
        let follower = {
            let (index, stop) = (index.clone(), stop.clone());
            std::thread::spawn(move || reader.follow(index, stop))
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while index.len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // "mine" was produced first: once the two after it are in, it has been read
        stop.cancel();
        follower.join().expect("follower");
        index.with(|view| {
            assert!(
                view.get("theirs").is_some(),
                "another daemon's record applied"
            );
            assert!(
                view.get("old").is_some(),
                "a record without the header applied"
            );
            assert!(
                view.get("mine").is_none(),
                "this daemon's own record skipped"
            );
        });
    }
}
