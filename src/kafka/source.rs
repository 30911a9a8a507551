//! The consumer side: group membership, rebalance handling and offset storage.
//!
//! Auto-commit stays on, but `enable.auto.offset.store` is off: librdkafka commits only
//! offsets copydesk stored, and copydesk stores an offset only when the
//! [`OffsetTracker`] says every record up to it has been answered.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientConfig, ClientContext, Message, Offset, Timestamp, TopicPartitionList};

use super::offsets::{OffsetTracker, TopicPartition};
use super::sink::InputRecord;
use crate::config::KafkaConfig;
use crate::pipeline::Source;
use crate::telemetry::http::Health;
use crate::telemetry::Metrics;

/// Consumer callbacks: keep the tracker in step with the assignment.
pub struct SourceContext {
    tracker: Arc<OffsetTracker>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    input_topic: String,
    /// How long a revoke waits for records already being delivered.
    revoke_drain: Duration,
}

impl ClientContext for SourceContext {
    /// librdkafka statistics (every `statistics.interval.ms`): consumer lag of the partitions
    /// this instance currently fetches; partitions it no longer owns drop out of the gauges.
    fn stats(&self, statistics: Statistics) {
        let lags: Vec<(String, i32, i64)> = statistics
            .topics
            .get(&self.input_topic)
            .map(|topic| {
                topic
                    .partitions
                    .values()
                    .filter(|p| {
                        p.partition >= 0 && p.fetch_state == "active" && p.consumer_lag >= 0
                    })
                    .map(|p| (self.input_topic.clone(), p.partition, p.consumer_lag))
                    .collect()
            })
            .unwrap_or_default();
        self.metrics.set_lags(&lags);
    }
}

fn partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect()
}

impl ConsumerContext for SourceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.metrics.rebalances.inc();
        match rebalance {
            Rebalance::Assign(tpl) => {
                let tps = partitions(tpl);
                tracing::info!(partitions = ?tps, "partitions assigned");
                self.tracker.assign(&tps);
            }
            Rebalance::Revoke(tpl) => {
                let tps = partitions(tpl);
                // Give records already on their way to the broker a bounded chance to be
                // acknowledged, so the next owner repeats as little as possible. The delivery
                // callback runs on the producer's thread, so waiting here cannot deadlock.
                let left = self
                    .tracker
                    .wait_acknowledged(Some(&tps), self.revoke_drain);
                let offsets = self.tracker.revoke(&tps);
                tracing::info!(partitions = ?tps, unacknowledged_dropped = left, "partitions revoked");
                if let Err(err) = store(consumer, &offsets) {
                    tracing::warn!(%err, "cannot store offsets of revoked partitions");
                }
            }
            Rebalance::Error(err) => tracing::warn!(%err, "rebalance error"),
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, _rebalance: &Rebalance<'_>) {
        let owned = consumer.assignment().map(|tpl| tpl.count()).unwrap_or(0);
        self.health.set_assigned(owned > 0);
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        match result {
            Ok(()) => tracing::debug!(?offsets, "offsets committed"),
            Err(err) => tracing::warn!(%err, "offset commit failed"),
        }
    }
}

/// Stores next-offsets for the next (auto) commit.
pub fn store<C: Consumer<SourceContext>>(
    consumer: &C,
    offsets: &[(TopicPartition, i64)],
) -> KafkaResult<()> {
    if offsets.is_empty() {
        return Ok(());
    }
    let mut tpl = TopicPartitionList::new();
    for ((topic, partition), offset) in offsets {
        tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    consumer.store_offsets(&tpl)
}

/// The consumer type the daemon uses.
pub type SourceConsumer = StreamConsumer<SourceContext>;

/// Creates the group consumer and subscribes to the input topic.
pub fn create(
    config: &KafkaConfig,
    tracker: Arc<OffsetTracker>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    revoke_drain: Duration,
) -> KafkaResult<SourceConsumer> {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.brokers)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "true")
        // Stored offsets are committed every second (librdkafka's default is 5 s): after a
        // crash, at most about a second of answered records is repeated.
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "cooperative-sticky")
        // Feeds the consumer-lag gauges (see `stats`).
        .set("statistics.interval.ms", "5000")
        // Brokers that hold a fetch for the full wait even when data is there (seen with
        // tansu) add up to this much to every record's latency: 500 ms (librdkafka's
        // default) was the whole p50; 50 ms gave p99 ~140 ms and 10 ms ~35 ms at 1,000
        // stories/s (bench). Kafka answers a fetch as soon as data arrives, so there the
        // wait only paces an idle consumer's polling: ~100 fetches/s per broker connection.
        .set("fetch.wait.max.ms", "10")
        // Prefetch: librdkafka's default queue (64 MB) holds ~16,000 stories, eight seconds
        // of enrichment, and made peak RSS track the backlog (a 100,000-story backlog
        // started at 180 MB). 16 MB is still two seconds of the full pipeline and kept
        // pass-through at 97–102 % of the raw relay (bench).
        .set("queued.max.messages.kbytes", "16384");
    super::apply_raw(&mut client, &config.client)?;
    super::apply_raw(&mut client, &config.consumer)?;
    let consumer: SourceConsumer = client.create_with_context(SourceContext {
        tracker,
        metrics,
        health,
        input_topic: config.input_topic.clone(),
        revoke_drain,
    })?;
    consumer.subscribe(&[&config.input_topic])?;
    Ok(consumer)
}

/// Copies what the pipeline and the DLQ need out of a borrowed message.
pub fn detach(message: &BorrowedMessage<'_>) -> InputRecord {
    let headers = message
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                .collect()
        })
        .unwrap_or_default();
    let timestamp = match message.timestamp() {
        Timestamp::CreateTime(ms) | Timestamp::LogAppendTime(ms) => {
            chrono::DateTime::from_timestamp_millis(ms)
        }
        Timestamp::NotAvailable => None,
    };
    InputRecord {
        key: message.key().map(<[u8]>::to_vec),
        payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        headers,
        source: Source {
            topic: message.topic().to_string(),
            partition: message.partition(),
            offset: message.offset(),
            timestamp,
        },
    }
}
