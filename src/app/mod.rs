//! Wiring: source → pipeline → sink, with shutdown and task ownership.
//!
//! Three tasks cooperate:
//! 1. the consume loop (this task) takes an in-flight permit, receives a record, registers it
//!    with the [`OffsetTracker`] and hands it to the worker channel;
//! 2. the process-and-send task runs the pipeline on the [`WorkerPool`] (`workers` threads
//!    fed from one queue a few stories deep) and enqueues outputs *in consumption order* (so
//!    per-partition order is kept from input to output);
//! 3. the offset task stores committable offsets whenever deliveries move them.
//!
//! The producer's delivery callback acknowledges records; a failed delivery cancels
//! everything and the run ends with an error without storing that record's offset.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt as _;
use rdkafka::consumer::{CommitMode, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::config::{Config, DeliveryMode};
use crate::kafka::offsets::{OffsetTracker, Ticket};
use crate::kafka::sink::{InputRecord, Sink};
use crate::kafka::source::{self, SourceConsumer};
use crate::pipeline::{Enriched, Failure, Pipeline, Processed};
use crate::state::topic::StateReader;
use crate::state::StoryIndex;
use crate::story::IdentityStatus;
use crate::telemetry::http::{self, Health};
use crate::telemetry::{CounterSnapshot, Metrics};
use workers::{WorkerError, WorkerPool};

mod exactly_once;
mod workers;

/// How long a revoked partition waits for records already handed to the producer.
const REVOKE_DRAIN: Duration = Duration::from_secs(5);
/// How often acknowledged offsets are stored even without a wake-up.
const STORE_INTERVAL: Duration = Duration::from_millis(200);
/// The consume loop proves it is alive at least this often, even on an idle topic.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Attempts at the final commit while a rebalance completes (250 ms apart).
const FINAL_COMMIT_ATTEMPTS: u32 = 40;

/// One consumed record on its way through the pipeline.
struct Work {
    record: InputRecord,
    ticket: Ticket,
    permit: OwnedSemaphorePermit,
}

/// A configured daemon, ready to run.
pub struct Daemon {
    config: Config,
    pipeline: Arc<Pipeline>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    /// Bound at construction so the address is known (port 0) before the run starts.
    http_listener: Option<std::net::TcpListener>,
}

/// Runs the daemon until `shutdown` resolves (graceful drain, commit, `Ok`) or an
/// infrastructure failure (`Err`).
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<CounterSnapshot> {
    Daemon::new(config)?.run(shutdown).await
}

impl Daemon {
    /// Builds the pipeline (tables and matchers are built once, here) and binds the HTTP
    /// endpoint when enabled.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let pipeline = Arc::new(Pipeline::from_config(&config, None));
        let http_listener = if config.http.enabled {
            let listener =
                std::net::TcpListener::bind(&config.http.address).with_context(|| {
                    format!("cannot listen on http.address {}", config.http.address)
                })?;
            listener.set_nonblocking(true).context("http listener")?;
            Some(listener)
        } else {
            None
        };
        let health = Arc::new(Health::new(Duration::from_millis(
            config.http.stall_timeout_ms,
        )));
        Ok(Self {
            config,
            pipeline,
            metrics: Arc::new(Metrics::new()),
            health,
            http_listener,
        })
    }

    /// The run's metrics, readable while it runs.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Where `/metrics`, `/healthz` and `/readyz` are served, when enabled.
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.http_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Runs until `shutdown` resolves or a fatal error.
    /// Serves `/metrics`, `/healthz` and `/readyz` on the bound listener until `stop`.
    fn serve_http(
        &self,
        listener: Option<std::net::TcpListener>,
        tasks: &TaskTracker,
        stop: &CancellationToken,
    ) -> anyhow::Result<()> {
        let Some(listener) = listener else {
            return Ok(());
        };
        let addr = listener.local_addr().context("http listener address")?;
        let listener = tokio::net::TcpListener::from_std(listener).context("http listener")?;
        tracing::info!(%addr, "serving /metrics, /healthz, /readyz");
        let (metrics, health, stop) = (self.metrics.clone(), self.health.clone(), stop.clone());
        tasks.spawn(async move {
            if let Err(err) = http::serve(listener, metrics, health, stop).await {
                tracing::error!(%err, "http endpoint failed");
            }
        });
        Ok(())
    }

    pub async fn run(
        mut self,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<CounterSnapshot> {
        if self.config.kafka.delivery == DeliveryMode::ExactlyOnce {
            return exactly_once::run(self, shutdown).await;
        }
        let http_listener = self.http_listener.take();
        let kafka = &self.config.kafka;
        let workers = self.config.pipeline.effective_workers();
        let drain = Duration::from_millis(self.config.shutdown.drain_timeout_ms);
        let tracker = Arc::new(OffsetTracker::new());
        let offsets_moved = Arc::new(Notify::new());
        // Cancelled by a failed delivery; the run then ends with an error.
        let fatal = CancellationToken::new();
        // Cancelled to stop consuming: on shutdown or on a fatal error.
        let stop = fatal.child_token();

        let consumer = Arc::new(
            source::create(
                kafka,
                tracker.clone(),
                self.metrics.clone(),
                self.health.clone(),
                REVOKE_DRAIN,
            )
            .context("cannot create the Kafka consumer")?,
        );
        let sink = Arc::new(
            Sink::create(
                kafka,
                tracker.clone(),
                self.metrics.clone(),
                offsets_moved.clone(),
                fatal.clone(),
                self.pipeline.output_format().schema(),
            )
            .context("cannot create the Kafka producer")?,
        );
        tracing::info!(
            brokers = %kafka.brokers,
            group = %kafka.group_id,
            input = %kafka.input_topic,
            output = %kafka.output_topic,
            dlq = %kafka.dlq_topic,
            workers,
            stages = ?self.pipeline.stage_names(),
            "copydesk running"
        );

        let tasks = TaskTracker::new();
        let telemetry_stop = CancellationToken::new();
        self.serve_http(http_listener, &tasks, &telemetry_stop)?;
        // However run() ends — returns, fails, or is dropped mid-way — background loops
        // (the state follower runs on a blocking thread) see the token cancelled and end.
        let _stop_background = telemetry_stop.clone().drop_guard();

        if let Some(index) = self.pipeline.story_index() {
            // Before the first input record: versions and duplicates are judged against
            // everything the group has published.
            if let Some(reader) = prepare_state(&self.config, index.clone(), sink.instance()).await
            {
                let (index, stop) = (index.clone(), telemetry_stop.clone());
                tasks.spawn_blocking(move || reader.follow(index, stop));
            }
        }
        let in_flight = Arc::new(Semaphore::new(kafka.max_in_flight));
        let pool = Arc::new(WorkerPool::new(workers).context("cannot start the worker threads")?);
        tasks.spawn(telemetry_loop(TelemetryLoop {
            metrics: self.metrics.clone(),
            health: self.health.clone(),
            sink: sink.clone(),
            in_flight: in_flight.clone(),
            max_in_flight: kafka.max_in_flight,
            progress_every: Duration::from_millis(self.config.log.progress_interval_ms),
            stop: telemetry_stop.clone(),
        }));
        let (work_tx, work_rx) = mpsc::channel::<Work>(pool.window());
        let sender = tasks.spawn(process_and_send(
            work_rx,
            self.pipeline.clone(),
            sink.clone(),
            self.metrics.clone(),
            pool,
            fatal.clone(),
        ));
        let offsets_stop = CancellationToken::new();
        let offsets_task = tasks.spawn(store_offsets_loop(
            consumer.clone(),
            tracker.clone(),
            offsets_moved.clone(),
            offsets_stop.clone(),
        ));
        tasks.close();

        let shutdown = async {
            shutdown.await;
            tracing::info!("shutdown requested: stop fetching, drain in-flight records");
        };
        tokio::pin!(shutdown);
        'consume: loop {
            self.health.beat();
            // The permit is taken before fetching: with max_in_flight records unacknowledged,
            // consumption pauses until the producer catches up.
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                _ = stop.cancelled() => break,
                permit = in_flight.clone().acquire_owned() => permit.context("in-flight semaphore closed")?,
            };
            let message = loop {
                self.health.beat();
                tokio::select! {
                    _ = &mut shutdown => break 'consume,
                    _ = stop.cancelled() => break 'consume,
                    message = consumer.recv() => break message,
                    // An idle topic is not a stalled loop: beat at least once a second.
                    _ = tokio::time::sleep(HEARTBEAT) => continue,
                }
            };
            let record = match message {
                Ok(message) => source::detach(&message),
                Err(err) => {
                    tracing::warn!(%err, "consumer error");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            self.metrics.consumed.inc();
            self.metrics
                .bytes_in
                .inc_by(u64::try_from(record.payload.len()).unwrap_or(0));
            let src = &record.source;
            let ticket = tracker.track(&src.topic, src.partition, src.offset);
            if work_tx
                .send(Work {
                    record,
                    ticket,
                    permit,
                })
                .await
                .is_err()
            {
                break; // the sender stopped: only after a fatal error
            }
        }
        drop(work_tx);

        // From here on nothing new is processed, but the consumer keeps being polled so that
        // a rebalance started meanwhile (another instance leaving or joining) can complete;
        // otherwise the group stays "rebalancing" and the final commit is refused. Records
        // fetched now are dropped untracked: their offsets are never stored, so the next
        // owner reads them again.
        let poller_stop = CancellationToken::new();
        let poller = tokio::spawn(serve_group(consumer.clone(), poller_stop.clone()));

        // Drain: finish processing and delivering what was consumed, within the deadline.
        let deadline = Instant::now() + drain;
        let sender_abort = sender.abort_handle();
        if tokio::time::timeout(drain, sender).await.is_err() {
            tracing::warn!("drain deadline reached while processing; dropping unprocessed records");
            sender_abort.abort();
        }
        let left = {
            let tracker = tracker.clone();
            let remaining = deadline.saturating_duration_since(Instant::now());
            tokio::task::spawn_blocking(move || tracker.wait_acknowledged(None, remaining))
                .await
                .unwrap_or(usize::MAX)
        };
        if left > 0 && !fatal.is_cancelled() {
            tracing::warn!(
                unacknowledged = left,
                "drain deadline reached; their offsets are not stored"
            );
        }
        let flush_sink = sink.clone();
        let _ =
            tokio::task::spawn_blocking(move || flush_sink.flush(Duration::from_millis(100))).await;
        offsets_stop.cancel();
        let _ = offsets_task.await;
        if let Err(err) = source::store(&*consumer, &tracker.take_committable()) {
            tracing::warn!(%err, "cannot store final offsets");
        }
        final_commit(&consumer).await;
        poller_stop.cancel();
        let _ = poller.await;
        telemetry_stop.cancel();
        tasks.wait().await;
        let snapshot = self.metrics.snapshot();
        tracing::info!(
            consumed = snapshot.consumed,
            events = snapshot.events,
            dead_letters = snapshot.dead_letters,
            "copydesk stopped"
        );
        if fatal.is_cancelled() {
            self.health.set_failed();
            let reason = sink
                .fatal_reason()
                .unwrap_or_else(|| "unknown failure".into());
            anyhow::bail!(
                "stopped after a failed delivery (offsets after it not stored): {reason}"
            );
        }
        Ok(snapshot)
    }
}

/// Most records one worker job takes at once. Under a backlog a job is a run of records
/// waiting in the work queue, so a worker thread and the task collecting results wake once
/// per batch instead of once per story (on a 2-core machine shared with the broker each
/// wake-up is a context switch that preempts a pipeline thread). At a low rate few records
/// wait at once and a batch is one or two stories, so latency does not grow.
pub(super) const MAX_BATCH: usize = 8;

/// How many of the `waiting` records one job takes: an even share per thread, at least one,
/// at most [`MAX_BATCH`]. A burst at a low rate is then not one thread's queue while the
/// other idles (taking up to 8 of whatever waited raised the bench's p99 to 41–129 ms).
fn batch_len(waiting: usize, threads: usize) -> usize {
    waiting.div_ceil(threads.max(1)).clamp(1, MAX_BATCH)
}

/// Runs the pipeline on the worker pool in batches of the records that are waiting
/// ([`batch_len`]), keeping the pool's queue [`WorkerPool::window`] batches deep, and
/// enqueues their outputs in consumption order.
async fn process_and_send(
    work_rx: mpsc::Receiver<Work>,
    pipeline: Arc<Pipeline>,
    sink: Arc<Sink>,
    metrics: Arc<Metrics>,
    pool: Arc<WorkerPool>,
    fatal: CancellationToken,
) {
    let window = pool.window();
    let finisher = pipeline.clone();
    let threads = pool.threads();
    let mut work_rx = work_rx;
    let incoming = futures::stream::poll_fn(move |cx| {
        let first = std::task::ready!(work_rx.poll_recv(cx));
        Poll::Ready(first.map(|first| {
            let take = batch_len(work_rx.len() + 1, threads);
            let mut batch = Vec::with_capacity(take);
            batch.push(first);
            while batch.len() < take {
                match work_rx.try_recv() {
                    Ok(work) => batch.push(work),
                    Err(_) => break,
                }
            }
            batch
        }))
    });
    let mut results = incoming
        .map(|batch: Vec<Work>| {
            let (pipeline, metrics) = (pipeline.clone(), metrics.clone());
            let mut records = Vec::with_capacity(batch.len());
            let mut receipts = Vec::with_capacity(batch.len());
            for Work {
                record,
                ticket,
                permit,
            } in batch
            {
                records.push(record);
                receipts.push((ticket, permit));
            }
            // Queued now, not when the stream polls the future: the window is the queue depth.
            let processed = process_on(&pool, pipeline, metrics, records);
            async move {
                processed.await.map(|done| {
                    done.into_iter()
                        .zip(receipts)
                        .map(|((record, result), (ticket, permit))| {
                            (record, result, ticket, permit)
                        })
                        .collect::<Vec<_>>()
                })
            }
        })
        .buffered(window);
    while let Some(joined) = results.next().await {
        if fatal.is_cancelled() {
            return;
        }
        let batch = match joined {
            Ok(done) => done,
            Err(err) => {
                // Only reachable if the worker pool is gone or a job panicked outside the
                // pipeline's own catch; the records stay unacknowledged, so their offsets
                // are never stored.
                tracing::error!(%err, "worker task lost");
                fatal.cancel();
                return;
            }
        };
        for (record, enriched, ticket, permit) in batch {
            if fatal.is_cancelled() {
                return;
            }
            let sent = send_result(
                &sink, &finisher, &metrics, &record, enriched, ticket, permit,
            )
            .await;
            if let Err(err) = sent {
                tracing::error!(%err, "cannot enqueue output");
                fatal.cancel();
                return;
            }
        }
    }
}

/// Finishes one enriched record ([`finish`]: identity and encode, in the order the callers
/// hand records here, which is consumption order) and hands its outputs to the producer: its
/// state record, then its event or dead letter — or, for a re-send dropped by
/// `dedup.drop_exact`, nothing (the record is acknowledged as answered).
async fn send_result(
    sink: &Sink,
    pipeline: &Pipeline,
    metrics: &Metrics,
    record: &InputRecord,
    enriched: Result<Enriched, Failure>,
    ticket: Ticket,
    permit: OwnedSemaphorePermit,
) -> Result<(), crate::kafka::sink::SinkError> {
    let span = tracing::debug_span!("story", topic = %record.source.topic, partition = record.source.partition, offset = record.source.offset);
    async {
        let result = finish(pipeline, metrics, record, enriched);
        match &result {
            Ok(processed) => {
                match processed.identity {
                    IdentityStatus::Duplicate | IdentityStatus::NearDuplicate => {
                        metrics.duplicates.inc();
                    }
                    IdentityStatus::Version => {
                        metrics.versions.inc();
                    }
                    IdentityStatus::New | IdentityStatus::Unknown => {}
                }
                if let Some(state) = &processed.state {
                    sink.send_state(&processed.key, state).await?;
                }
                if processed.dropped {
                    tracing::debug!(story_id = %processed.key, "re-send dropped");
                    sink.acknowledge_without_output(&ticket);
                    drop(permit);
                    return Ok(());
                }
                if !sink.event_fits(processed) {
                    let failure = Failure {
                        class: "oversize_output".into(),
                        message: format!(
                            "event of {} bytes does not fit the producer's message.max.bytes",
                            processed.payload.len()
                        ),
                        stage: "encode".into(),
                    };
                    tracing::warn!(class = %failure.class, reason = %failure.message, "dead letter");
                    return sink.send_dead_letter(record, &failure, ticket, permit).await;
                }
                tracing::debug!(story_id = %processed.key, "event");
                sink.send_event(processed, &record.source, ticket, permit).await
            }
            Err(failure) => {
                tracing::warn!(class = %failure.class, stage = %failure.stage, reason = %failure.message, "dead letter");
                sink.send_dead_letter(record, failure, ticket, permit).await
            }
        }
    }
    .instrument(span)
    .await
}

/// A record with what the worker threads made of it (decode and every stage).
type Answered = (InputRecord, Result<Enriched, Failure>);

/// The rest of a record's processing, identity and encode ([`Pipeline::finish_observed`]),
/// called in consumption order by [`send_result`], so that versions and re-sends of a story
/// are judged in the order they were published whichever worker thread finished first. A
/// panic becomes the record's failure, as in the workers.
fn finish(
    pipeline: &Pipeline,
    metrics: &Metrics,
    record: &InputRecord,
    enriched: Result<Enriched, Failure>,
) -> Result<Processed, Failure> {
    let enriched = enriched?;
    catch_unwind(AssertUnwindSafe(|| {
        pipeline.finish_observed(enriched, &record.source, &mut |stage, took| {
            metrics.observe_stage(stage, took);
        })
    }))
    .unwrap_or_else(|panic| Err(panic_failure(&panic)))
}

/// Queues a batch of records as one job on the worker pool; the future gives them back, in
/// order, each with its result (the stories enriched, for [`finish`]). A panic in the
/// pipeline becomes that record's failure (a dead letter), not a lost worker or a lost
/// batch.
fn process_on(
    pool: &WorkerPool,
    pipeline: Arc<Pipeline>,
    metrics: Arc<Metrics>,
    records: Vec<InputRecord>,
) -> impl Future<Output = Result<Vec<Answered>, WorkerError>> {
    pool.run(move || {
        records
            .into_iter()
            .map(|record| {
                let src = &record.source;
                let span = tracing::debug_span!("story", topic = %src.topic, partition = src.partition, offset = src.offset);
                let _entered = span.enter();
                let result = catch_unwind(AssertUnwindSafe(|| {
                    pipeline.enrich_observed(
                        &record.payload,
                        record.content_type(),
                        src,
                        &mut |stage, took| metrics.observe_stage(stage, took),
                    )
                }))
                .unwrap_or_else(|panic| Err(panic_failure(&panic)));
                (record, result)
            })
            .collect()
    })
}

/// Creates the state topic if needed, rebuilds `index` from it and returns the reader to
/// follow it with. Problems degrade duplicate detection to this instance's memory — they
/// are logged, never fatal: state is an optimisation, the stories are what matter.
/// `instance` is the sink's `copydesk.instance` header: the follower skips those records.
async fn prepare_state(
    config: &Config,
    index: Arc<StoryIndex>,
    instance: &str,
) -> Option<StateReader> {
    let topic = &config.kafka.state_topic;
    if let Err(err) = crate::state::topic::ensure(&config.kafka, &config.dedup).await {
        tracing::warn!(%err, "cannot create the state topic; duplicate tracking is local only");
        return None;
    }
    let kafka = config.kafka.clone();
    let instance = instance.to_string();
    let timeout = Duration::from_millis(config.dedup.rebuild_timeout_ms);
    let started = Instant::now();
    let rebuilt = tokio::task::spawn_blocking(move || {
        let reader = StateReader::connect(&kafka, &instance)?;
        let applied = reader.rebuild(&index, timeout)?;
        Ok::<_, crate::state::topic::StateTopicError>((reader, applied, index.len()))
    })
    .await;
    match rebuilt {
        Ok(Ok((reader, applied, known))) => {
            tracing::info!(%topic, records = applied, stories = known, took_ms = started.elapsed().as_millis() as u64, "story state rebuilt");
            Some(reader)
        }
        Ok(Err(err)) => {
            tracing::warn!(%err, "cannot rebuild story state; duplicate tracking is local only");
            None
        }
        Err(err) => {
            tracing::warn!(%err, "state rebuild task failed");
            None
        }
    }
}

fn panic_failure(panic: &(dyn std::any::Any + Send)) -> Failure {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "stage panicked".into());
    Failure {
        class: "panic".into(),
        message,
        stage: "pipeline".into(),
    }
}

/// Polls the consumer (dropping any record it returns) until `stop`, so group protocol
/// events keep being served during shutdown.
async fn serve_group(consumer: Arc<SourceConsumer>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            message = consumer.recv() => drop(message),
        }
    }
}

/// Commits stored offsets, retrying while the group is rebalancing (the poller completes the
/// rebalance meanwhile). Bounded: after the attempts, librdkafka's commit on close remains.
async fn final_commit(consumer: &Arc<SourceConsumer>) {
    for attempt in 1..=FINAL_COMMIT_ATTEMPTS {
        let commit_consumer = consumer.clone();
        let result = tokio::task::spawn_blocking(move || {
            commit_consumer.commit_consumer_state(CommitMode::Sync)
        })
        .await;
        match result {
            Ok(Ok(())) => {
                tracing::info!("offsets committed");
                return;
            }
            // Nothing stored since the last commit.
            Ok(Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset))) => return,
            Ok(Err(err)) => {
                tracing::debug!(%err, attempt, "final commit refused; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => {
                tracing::warn!(%err, "final commit task failed");
                return;
            }
        }
    }
    tracing::warn!("final commit not accepted; acknowledged offsets will be committed on close");
}

/// Stores committable offsets whenever deliveries move them (and on a timer as a backstop).
async fn store_offsets_loop(
    consumer: Arc<SourceConsumer>,
    tracker: Arc<OffsetTracker>,
    offsets_moved: Arc<Notify>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = offsets_moved.notified() => {}
            _ = tokio::time::sleep(STORE_INTERVAL) => {}
        }
        let offsets = tracker.take_committable();
        if let Err(err) = source::store(&*consumer, &offsets) {
            // Typically a partition revoked in the meantime; its new owner re-reads.
            tracing::debug!(%err, "cannot store offsets");
        }
    }
}

/// What the telemetry loop samples.
struct TelemetryLoop {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    sink: Arc<Sink>,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    progress_every: Duration,
    stop: CancellationToken,
}

/// Once a second: gauges (in-flight, producer queue) and the producer's reachability; every
/// `progress_every`: one info line with throughput, lag and dead letters.
async fn telemetry_loop(t: TelemetryLoop) {
    let mut last_progress = Instant::now();
    let mut last = t.metrics.snapshot();
    let mut producer_ready = false;
    loop {
        tokio::select! {
            _ = t.stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let used = t
            .max_in_flight
            .saturating_sub(t.in_flight.available_permits());
        t.metrics
            .in_flight
            .set(i64::try_from(used).unwrap_or(i64::MAX));
        t.metrics.producer_queue.set(i64::from(t.sink.in_flight()));
        if !producer_ready {
            let sink = t.sink.clone();
            producer_ready =
                tokio::task::spawn_blocking(move || sink.reaches_brokers(Duration::from_secs(2)))
                    .await
                    .unwrap_or(false);
            if producer_ready {
                t.health.set_producer_ready();
            }
        }
        if !t.progress_every.is_zero() && last_progress.elapsed() >= t.progress_every {
            let now = t.metrics.snapshot();
            let secs = last_progress.elapsed().as_secs_f64();
            let answered =
                (now.events + now.dead_letters).saturating_sub(last.events + last.dead_letters);
            tracing::info!(
                stories_per_s = format!("{:.0}", answered as f64 / secs),
                consumed = now.consumed,
                events = now.events,
                dead_letters = now.dead_letters,
                lag = t.metrics.total_lag(),
                in_flight = used,
                "progress"
            );
            last = now;
            last_progress = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::batch_len;

    #[test]
    fn a_batch_is_an_even_share_of_what_waits() {
        // (waiting, threads, records one job takes)
        for (waiting, threads, want) in [
            (1, 2, 1),
            (2, 2, 1),
            (3, 2, 2),
            (8, 2, 4),
            (16, 2, 8),
            (19, 2, 8),
            (100, 4, 8),
            (5, 1, 5),
            (0, 2, 1),
            (3, 0, 3),
        ] {
            assert_eq!(
                batch_len(waiting, threads),
                want,
                "{waiting} waiting, {threads} threads"
            );
        }
    }
}
