//! The daemon's metrics, exposed at `/metrics` in Prometheus (OpenMetrics) text format.
//!
//! One [`Metrics`] per daemon (no process-global recorder), so several daemons in one process
//! — as in the tests — keep separate books. Every consumed record ends as exactly one event
//! or one dead letter, so `records_consumed = events_produced + dead_letters` once drained.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Label: error class of a dead letter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClassLabel {
    /// `error.class`.
    pub class: String,
}

/// Label: stage name.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabel {
    /// Stage name (`decode`, a stage's name, `encode`).
    pub stage: String,
}

/// Label: topic partition.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabel {
    /// Topic.
    pub topic: String,
    /// Partition number.
    pub partition: String,
}

type LatencyHistogram = Family<StageLabel, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 10 µs … ~10 s.
    Histogram::new(exponential_buckets(0.000_01, 2.0, 21))
}

/// Every metric of one daemon.
pub struct Metrics {
    registry: Registry,
    /// Records read from the input topic.
    pub consumed: Counter,
    /// Events acknowledged on the output topic.
    pub events: Counter,
    /// Dead letters acknowledged, by error class.
    pub dead_letters: Family<ClassLabel, Counter>,
    /// Deliveries that failed (each stops the daemon without storing its offset).
    pub failed_deliveries: Counter,
    /// Partition rebalance callbacks (assign and revoke).
    pub rebalances: Counter,
    /// Records between consumption and acknowledgement.
    pub in_flight: Gauge,
    /// Messages in the producer's queue.
    pub producer_queue: Gauge,
    /// Consumer lag of each partition this instance owns (from librdkafka statistics).
    pub consumer_lag: Family<PartitionLabel, Gauge>,
    /// Time spent in each stage.
    pub stage_seconds: LatencyHistogram,
    /// Record timestamp → output acknowledged.
    pub end_to_end_seconds: Histogram,
    /// Payload bytes consumed.
    pub bytes_in: Counter,
    /// Payload bytes acknowledged on the output and DLQ topics.
    pub bytes_out: Counter,
    /// Stories recognised as re-sends or near-duplicates (published or dropped).
    pub duplicates: Counter,
    /// Re-sends dropped by `dedup.drop_exact` (no output; offset stored).
    pub duplicates_dropped: Counter,
    /// New versions of known stories.
    pub versions: Counter,
    /// State records that could not be published to the state topic (not fatal).
    pub state_publish_failures: Counter,
    /// Exactly-once mode: transactions committed.
    pub transactions_committed: Counter,
    /// Exactly-once mode: transactions aborted (their batch is processed again).
    pub transactions_aborted: Counter,
    /// Exactly-once mode: the next input offset per partition sent with the last committed
    /// transaction — the position a restart resumes from.
    pub transaction_offsets: Family<PartitionLabel, Gauge>,
    /// Dead letters, summed over classes (kept alongside the family for cheap snapshots).
    dead_letters_total: AtomicU64,
    /// Consumer lag summed over owned partitions, for the progress log.
    lag_total: AtomicI64,
}

/// A point-in-time copy of the record counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Records read from the input topic.
    pub consumed: u64,
    /// Events acknowledged.
    pub events: u64,
    /// Dead letters acknowledged.
    pub dead_letters: u64,
    /// Failed deliveries.
    pub failed_deliveries: u64,
    /// Rebalances.
    pub rebalances: u64,
    /// Re-sends dropped by `dedup.drop_exact`.
    pub duplicates_dropped: u64,
    /// Stories marked duplicate or near-duplicate.
    pub duplicates: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric under the `copydesk_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("copydesk");
        let consumed = Counter::default();
        let events = Counter::default();
        let dead_letters = Family::<ClassLabel, Counter>::default();
        let failed_deliveries = Counter::default();
        let rebalances = Counter::default();
        let in_flight = Gauge::default();
        let producer_queue = Gauge::default();
        let consumer_lag = Family::<PartitionLabel, Gauge>::default();
        let stage_seconds: LatencyHistogram = Family::new_with_constructor(latency_histogram);
        let end_to_end_seconds = Histogram::new(exponential_buckets(0.000_1, 2.0, 20));
        let bytes_in = Counter::default();
        let bytes_out = Counter::default();
        let duplicates = Counter::default();
        let duplicates_dropped = Counter::default();
        let versions = Counter::default();
        let state_publish_failures = Counter::default();
        let transactions_committed = Counter::default();
        let transactions_aborted = Counter::default();
        let transaction_offsets = Family::<PartitionLabel, Gauge>::default();
        registry.register(
            "transactions_committed",
            "Exactly-once mode: transactions committed",
            transactions_committed.clone(),
        );
        registry.register(
            "transactions_aborted",
            "Exactly-once mode: transactions aborted (their batch is processed again)",
            transactions_aborted.clone(),
        );
        registry.register(
            "transaction_committed_offset",
            "Exactly-once mode: next input offset per partition committed with the last transaction",
            transaction_offsets.clone(),
        );
        registry.register(
            "duplicates",
            "Stories recognised as re-sends or near-duplicates of known stories",
            duplicates.clone(),
        );
        registry.register(
            "duplicates_dropped",
            "Re-sends dropped by dedup.drop_exact (no output, offset stored)",
            duplicates_dropped.clone(),
        );
        registry.register(
            "story_versions",
            "New versions of known stories",
            versions.clone(),
        );
        registry.register(
            "state_publish_failures",
            "State records the state topic did not accept (tracking degrades, nothing is lost)",
            state_publish_failures.clone(),
        );
        registry.register(
            "records_consumed",
            "Records read from the input topic",
            consumed.clone(),
        );
        registry.register(
            "events_produced",
            "Events acknowledged by the broker",
            events.clone(),
        );
        registry.register(
            "dead_letters",
            "Dead letters acknowledged by the broker, by error class",
            dead_letters.clone(),
        );
        registry.register(
            "failed_deliveries",
            "Outputs the broker never acknowledged",
            failed_deliveries.clone(),
        );
        registry.register(
            "rebalances",
            "Partition assign and revoke callbacks",
            rebalances.clone(),
        );
        registry.register(
            "in_flight_records",
            "Records between consumption and acknowledgement",
            in_flight.clone(),
        );
        registry.register(
            "producer_queue_messages",
            "Messages waiting in the producer queue",
            producer_queue.clone(),
        );
        registry.register(
            "consumer_lag_messages",
            "Consumer lag per owned partition",
            consumer_lag.clone(),
        );
        registry.register(
            "stage_duration_seconds",
            "Time spent in each pipeline stage",
            stage_seconds.clone(),
        );
        registry.register(
            "end_to_end_latency_seconds",
            "Input record timestamp to output acknowledgement",
            end_to_end_seconds.clone(),
        );
        registry.register("input_bytes", "Payload bytes consumed", bytes_in.clone());
        registry.register(
            "output_bytes",
            "Payload bytes acknowledged on output and DLQ topics",
            bytes_out.clone(),
        );
        Self {
            registry,
            consumed,
            events,
            dead_letters,
            failed_deliveries,
            rebalances,
            in_flight,
            producer_queue,
            consumer_lag,
            stage_seconds,
            end_to_end_seconds,
            bytes_in,
            bytes_out,
            duplicates,
            duplicates_dropped,
            versions,
            state_publish_failures,
            transactions_committed,
            transactions_aborted,
            transaction_offsets,
            dead_letters_total: AtomicU64::new(0),
            lag_total: AtomicI64::new(0),
        }
    }

    /// Counts one acknowledged dead letter of `class`.
    pub fn dead_letter(&self, class: &str) {
        self.dead_letters
            .get_or_create(&ClassLabel {
                class: class.to_string(),
            })
            .inc();
        self.dead_letters_total.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long `stage` took.
    pub fn observe_stage(&self, stage: &str, took: Duration) {
        self.stage_seconds
            .get_or_create(&StageLabel {
                stage: stage.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// Reads the record counters.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            consumed: self.consumed.get(),
            events: self.events.get(),
            dead_letters: self.dead_letters_total.load(Ordering::Relaxed),
            failed_deliveries: self.failed_deliveries.get(),
            rebalances: self.rebalances.get(),
            duplicates_dropped: self.duplicates_dropped.get(),
            duplicates: self.duplicates.get(),
        }
    }

    /// Replaces the consumer-lag gauges with `lags` (topic, partition, lag): partitions not
    /// listed — no longer owned — disappear from `/metrics`.
    pub fn set_lags(&self, lags: &[(String, i32, i64)]) {
        self.consumer_lag.clear();
        let mut total = 0;
        for (topic, partition, lag) in lags {
            self.consumer_lag
                .get_or_create(&PartitionLabel {
                    topic: topic.clone(),
                    partition: partition.to_string(),
                })
                .set(*lag);
            total += lag;
        }
        self.lag_total.store(total, Ordering::Relaxed);
    }

    /// Records the input offsets (topic, partition, next offset) a committed transaction
    /// carried.
    pub fn transaction_committed<'a>(
        &self,
        offsets: impl IntoIterator<Item = (&'a str, i32, i64)>,
    ) {
        self.transactions_committed.inc();
        for (topic, partition, next) in offsets {
            self.transaction_offsets
                .get_or_create(&PartitionLabel {
                    topic: topic.to_string(),
                    partition: partition.to_string(),
                })
                .set(next);
        }
    }

    /// The next input offset of `topic`/`partition` committed with the last transaction
    /// that carried it, if any.
    pub fn transaction_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        let label = PartitionLabel {
            topic: topic.to_string(),
            partition: partition.to_string(),
        };
        self.transaction_offsets.get(&label).map(|g| g.get())
    }

    /// Sum of consumer lag over owned partitions (as of the last statistics report).
    pub fn total_lag(&self) -> i64 {
        self.lag_total.load(Ordering::Relaxed)
    }

    /// Renders every metric in Prometheus/OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_has_every_family_and_counts() {
        let m = Metrics::new();
        m.consumed.inc();
        m.consumed.inc();
        m.events.inc();
        m.dead_letter("invalid_utf8");
        m.observe_stage("decode", Duration::from_micros(30));
        m.set_lags(&[("t".into(), 0, 5), ("t".into(), 1, 7)]);
        let text = m.render();
        for needle in [
            "copydesk_records_consumed_total 2",
            "copydesk_events_produced_total 1",
            "copydesk_dead_letters_total{class=\"invalid_utf8\"} 1",
            "copydesk_stage_duration_seconds_count{stage=\"decode\"} 1",
            "copydesk_consumer_lag_messages{topic=\"t\",partition=\"1\"} 7",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        assert_eq!(m.total_lag(), 12);
        m.set_lags(&[("t".into(), 1, 3)]);
        assert!(
            !m.render().contains("partition=\"0\""),
            "revoked partition dropped"
        );
        assert_eq!(m.snapshot().dead_letters, 1);
    }
}
