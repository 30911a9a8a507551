//! `kafka.delivery = "exactly_once"`: consume–process–produce in Kafka transactions.
//!
//! Records are taken in batches (`transaction_max_records` or `transaction_interval_ms`).
//! Each batch is one transaction: its events, dead letters and state records, plus the
//! input offsets (`send_offsets_to_transaction`, with the consumer's group metadata so a
//! zombie from an older group generation is fenced, KIP-447). A `read_committed` consumer of
//! the output therefore sees each input answered exactly once, crash or not.
//!
//! Errors: an abortable one (a failed delivery, a rebalance that fenced the offsets) aborts
//! the transaction and rewinds the consumer to the batch's first offsets, so the batch is
//! processed again; a fatal one — above all being fenced by a newer instance with the same
//! `transactional.id` — stops the daemon with a message that says so.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt as _;
use rdkafka::consumer::Consumer as _;
use rdkafka::error::{KafkaError, RDKafkaError};
use rdkafka::producer::Producer as _;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::workers::WorkerPool;
use super::{prepare_state, process_on, send_result, Daemon, MAX_BATCH};
use crate::config::{KafkaConfig, RawValue};
use crate::kafka::offsets::OffsetTracker;
use crate::kafka::sink::{InputRecord, Sink};
use crate::kafka::source;
use crate::telemetry::CounterSnapshot;

/// How long one transaction call may take before the batch is treated as failed.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a batch could not be committed.
#[derive(Debug, thiserror::Error)]
enum BatchError {
    /// The transaction can be aborted and the batch retried.
    #[error("transaction aborted: {0}")]
    Abortable(String),
    /// The producer cannot go on (fenced, or a fatal broker or client error).
    #[error("{0}")]
    Fatal(String),
}

/// The `transactional.id`: configured, or `<group_id>-<hostname>`.
fn transactional_id(kafka: &KafkaConfig) -> String {
    if !kafka.transactional_id.trim().is_empty() {
        return kafka.transactional_id.trim().to_string();
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{}-{host}", kafka.group_id)
}

/// Consumer settings for transactions: no auto-commit (offsets go through the producer)
/// and only committed input (a transactional upstream's aborted records are skipped).
fn consumer_config(kafka: &KafkaConfig) -> KafkaConfig {
    let mut k = kafka.clone();
    k.consumer
        .insert("enable.auto.commit".into(), RawValue::Text("false".into()));
    k.consumer
        .entry("isolation.level".into())
        .or_insert(RawValue::Text("read_committed".into()));
    k
}

fn classify(what: &str, err: KafkaError) -> BatchError {
    let txn: Option<&RDKafkaError> = match &err {
        KafkaError::Transaction(e) => Some(e),
        _ => None,
    };
    let fenced = matches!(
        err.rdkafka_error_code(),
        Some(RDKafkaErrorCode::Fenced)
            | Some(RDKafkaErrorCode::ProducerFenced)
            | Some(RDKafkaErrorCode::InvalidProducerEpoch)
    );
    if fenced {
        return BatchError::Fatal(format!(
            "{what}: fenced — another copydesk with the same transactional.id started; this \
             instance stops ({err})"
        ));
    }
    match txn {
        Some(e) if e.is_fatal() => BatchError::Fatal(format!("{what}: fatal: {err}")),
        _ => BatchError::Abortable(format!("{what}: {err}")),
    }
}

/// Logs why the loop stops and names the `transactional.id` in the error, so an operator
/// can tell which instance was fenced.
fn stopped(reason: BatchError, txn_id: &str) -> anyhow::Error {
    tracing::error!(%reason, transactional_id = %txn_id, "exactly-once loop stops");
    anyhow::anyhow!("{reason} [transactional.id {txn_id}]")
}

/// Runs the exactly-once loop until `shutdown`.
pub(super) async fn run(
    mut daemon: Daemon,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<CounterSnapshot> {
    let kafka = daemon.config.kafka.clone();
    let txn_id = transactional_id(&kafka);
    let pool = WorkerPool::new(daemon.config.pipeline.effective_workers())
        .context("cannot start the worker threads")?;
    let tracker = Arc::new(OffsetTracker::new());
    let fatal = CancellationToken::new();
    let consumer = Arc::new(
        source::create(
            &consumer_config(&kafka),
            tracker.clone(),
            daemon.metrics.clone(),
            daemon.health.clone(),
            Duration::ZERO,
        )
        .context("cannot create the Kafka consumer")?,
    );
    let sink = Arc::new(
        Sink::create_transactional(
            &kafka,
            tracker.clone(),
            daemon.metrics.clone(),
            fatal.clone(),
            daemon.pipeline.output_format().schema(),
            &txn_id,
        )
        .context("cannot create the transactional Kafka producer")?,
    );
    {
        let sink = sink.clone();
        tokio::task::spawn_blocking(move || sink.producer().init_transactions(TXN_TIMEOUT))
            .await
            .context("init_transactions task")?
            .map_err(|e| classify("init_transactions", e))
            .with_context(|| format!("cannot start transactions as {txn_id}"))?;
    }
    tracing::info!(
        brokers = %kafka.brokers,
        group = %kafka.group_id,
        transactional_id = %txn_id,
        input = %kafka.input_topic,
        output = %kafka.output_topic,
        "copydesk running, exactly-once"
    );

    let tasks = TaskTracker::new();
    let telemetry_stop = CancellationToken::new();
    // However run() ends — returns, fails, or is dropped mid-way — background loops (the
    // state follower runs on a blocking thread) see the token cancelled and end.
    let _stop_background = telemetry_stop.clone().drop_guard();
    let listener = daemon.http_listener.take();
    daemon.serve_http(listener, &tasks, &telemetry_stop)?;
    if let Some(index) = daemon.pipeline.story_index() {
        if let Some(reader) = prepare_state(&daemon.config, index.clone(), sink.instance()).await {
            let (index, stop) = (index.clone(), telemetry_stop.clone());
            tasks.spawn_blocking(move || reader.follow(index, stop));
        }
    }
    tasks.close();
    daemon.health.set_producer_ready();

    let in_flight = Arc::new(Semaphore::new(kafka.max_in_flight));
    let interval = Duration::from_millis(kafka.transaction_interval_ms);
    tokio::pin!(shutdown);
    let mut stopping = false;
    let mut result = Ok(());
    while !stopping {
        daemon.health.beat();
        // Collect one batch.
        let mut batch: Vec<InputRecord> = Vec::new();
        let until = tokio::time::Instant::now() + interval;
        while batch.len() < kafka.transaction_max_records {
            tokio::select! {
                _ = &mut shutdown => { stopping = true; break; }
                _ = tokio::time::sleep_until(until), if !batch.is_empty() => break,
                _ = tokio::time::sleep(Duration::from_secs(1)), if batch.is_empty() => break,
                message = consumer.recv() => match message {
                    Ok(message) => {
                        let record = source::detach(&message);
                        daemon.metrics.consumed.inc();
                        daemon.metrics.bytes_in.inc_by(u64::try_from(record.payload.len()).unwrap_or(0));
                        batch.push(record);
                    }
                    Err(err) => {
                        tracing::warn!(%err, "consumer error");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        if batch.is_empty() {
            continue;
        }
        // First offset per partition: where to rewind to if the transaction fails.
        let mut first: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for r in &batch {
            let tp = (r.source.topic.clone(), r.source.partition);
            first.entry(tp.clone()).or_insert(r.source.offset);
            next.insert(tp, r.source.offset + 1);
        }
        let outcome = transact(
            &daemon, &sink, &consumer, &in_flight, &tracker, batch, &next, &pool,
        )
        .await;
        match outcome {
            Ok(n) => tracing::debug!(records = n, "transaction committed"),
            Err(BatchError::Abortable(reason)) => {
                daemon.metrics.transactions_aborted.inc();
                tracing::warn!(%reason, "transaction aborted; the batch will be processed again");
                let sink2 = sink.clone();
                let aborted = tokio::task::spawn_blocking(move || {
                    sink2.producer().abort_transaction(TXN_TIMEOUT)
                })
                .await
                .context("abort task")?;
                if let Err(e) = aborted {
                    // A zombie learns it was fenced here as often as on the call that failed
                    // first (a delivery failing on AddPartitionsToTxn is only abortable), so
                    // the abort's error is classified and named like any other fatal one.
                    let reason = match classify("cannot abort the transaction", e) {
                        // Nothing is left to retry once the abort itself failed.
                        BatchError::Abortable(m) => BatchError::Fatal(m),
                        fatal => fatal,
                    };
                    result = Err(stopped(reason, &txn_id));
                    break;
                }
                for ((topic, partition), offset) in &first {
                    if let Err(e) = consumer.seek(
                        topic,
                        *partition,
                        Offset::Offset(*offset),
                        Duration::from_secs(10),
                    ) {
                        // Typically the partition was revoked meanwhile: its new owner
                        // starts from the last committed offset anyway.
                        tracing::debug!(%topic, partition, err = %e, "cannot rewind");
                    }
                }
            }
            Err(fatal @ BatchError::Fatal(_)) => {
                result = Err(stopped(fatal, &txn_id));
                break;
            }
        }
    }
    telemetry_stop.cancel();
    tasks.wait().await;
    consumer.unsubscribe();
    let snapshot = daemon.metrics.snapshot();
    tracing::info!(
        consumed = snapshot.consumed,
        events = snapshot.events,
        dead_letters = snapshot.dead_letters,
        "copydesk stopped"
    );
    if result.is_err() {
        daemon.health.set_failed();
    }
    result.map(|()| snapshot)
}

/// Processes `batch` and commits it, with its input offsets, in one transaction.
#[allow(clippy::too_many_arguments)]
async fn transact(
    daemon: &Daemon,
    sink: &Arc<Sink>,
    consumer: &Arc<source::SourceConsumer>,
    in_flight: &Arc<Semaphore>,
    tracker: &Arc<OffsetTracker>,
    batch: Vec<InputRecord>,
    next: &BTreeMap<(String, i32), i64>,
    pool: &WorkerPool,
) -> Result<usize, BatchError> {
    let n = batch.len();
    sink.producer()
        .begin_transaction()
        .map_err(|e| classify("begin_transaction", e))?;
    let mut results = futures::stream::iter(batch)
        .chunks(MAX_BATCH)
        .map(|records| {
            process_on(
                pool,
                daemon.pipeline.clone(),
                daemon.metrics.clone(),
                records,
            )
        })
        .buffered(pool.window());
    while let Some(joined) = results.next().await {
        let done = joined.map_err(|e| BatchError::Abortable(format!("worker task lost: {e}")))?;
        for (record, enriched) in done {
            let permit = in_flight
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| BatchError::Fatal(format!("in-flight semaphore: {e}")))?;
            let src = &record.source;
            let ticket = tracker.track(&src.topic, src.partition, src.offset);
            send_result(
                sink,
                &daemon.pipeline,
                &daemon.metrics,
                &record,
                enriched,
                ticket,
                permit,
            )
            .await
            .map_err(|e| BatchError::Abortable(e.to_string()))?;
        }
    }
    let mut offsets = TopicPartitionList::new();
    for ((topic, partition), offset) in next {
        offsets
            .add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .map_err(|e| BatchError::Fatal(format!("offset list: {e}")))?;
    }
    let metadata = consumer
        .group_metadata()
        .ok_or_else(|| BatchError::Abortable("consumer has no group metadata yet".into()))?;
    let sink = sink.clone();
    let metrics = daemon.metrics.clone();
    let committed: Vec<(String, i32, i64)> =
        next.iter().map(|((t, p), o)| (t.clone(), *p, *o)).collect();
    tokio::task::spawn_blocking(move || {
        let producer = sink.producer();
        producer
            .send_offsets_to_transaction(&offsets, &metadata, TXN_TIMEOUT)
            .map_err(|e| classify("send_offsets_to_transaction", e))?;
        producer
            .commit_transaction(TXN_TIMEOUT)
            .map_err(|e| classify("commit_transaction", e))?;
        // Recorded here, not by the caller: a commit that completes after the run was
        // dropped (a crash in a test) still shows where a restart resumes.
        metrics.transaction_committed(committed.iter().map(|(t, p, o)| (t.as_str(), *p, *o)));
        Ok(())
    })
    .await
    .map_err(|e| BatchError::Abortable(format!("commit task lost: {e}")))??;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactional_id_is_configured_or_derived() {
        let mut k = KafkaConfig {
            group_id: "desk".into(),
            ..KafkaConfig::default()
        };
        assert!(transactional_id(&k).starts_with("desk-"));
        k.transactional_id = " copydesk-7 ".into();
        assert_eq!(transactional_id(&k), "copydesk-7");
    }

    #[test]
    fn consumer_reads_committed_without_auto_commit() {
        let k = consumer_config(&KafkaConfig::default());
        assert_eq!(
            k.consumer.get("enable.auto.commit"),
            Some(&RawValue::Text("false".into()))
        );
        assert_eq!(
            k.consumer.get("isolation.level"),
            Some(&RawValue::Text("read_committed".into()))
        );
    }
}
