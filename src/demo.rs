//! `copydesk demo`: the whole daemon against a broker, with nothing to set up.
//!
//! Starts an embedded Kafka-protocol broker (librdkafka's mock cluster) unless `--brokers`
//! names a real one, creates the topics, produces the bundled sample stories (plus three bad
//! records, to show dead letters), runs the real daemon code path until every story is
//! answered, prints the answers in input order, and stops the daemon gracefully.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context as _};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::{Headers, Message as _};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, TopicPartitionList};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::app::Daemon;
use crate::config::{Config, RawValue};
use crate::kafka::{admin, embedded::EmbeddedBroker};

/// A bundled sample record: file name and bytes, embedded at build time so that the demo
/// works from any directory.
pub struct Sample {
    /// File name under `examples/stories/`.
    pub name: &'static str,
    /// Raw bytes as a wire would send them.
    pub bytes: &'static [u8],
}

macro_rules! samples {
    ($($path:literal),* $(,)?) => {
        &[$(Sample { name: $path, bytes: include_bytes!(concat!("../examples/stories/", $path)) }),*]
    };
}

/// Every file in `examples/stories/` (a test checks the list is complete).
pub const SAMPLES: &[Sample] = samples![
    "geneva-water-talks.txt",
    "kharkiv-power-grid.txt",
    "nairobi-maize-prices.txt",
    "sao-paulo-metro-strike.txt",
    "manila-typhoon-recovery.txt",
    "oslo-salmon-levy.txt",
    "jakarta-rail-v1.json",
    "jakarta-rail-v2.json",
    "ottawa-wildfire-fund.json",
    "lagos-port-customs.json",
    "bad/truncated.json",
    "bad/binary.bin",
    "bad/empty.txt",
];

/// Options of `copydesk demo`.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Use this cluster instead of the embedded broker.
    pub brokers: Option<String>,
    /// One line per story instead of pretty JSON.
    pub summary: bool,
    /// Give up after this long.
    pub timeout: Duration,
}

/// What one input became.
#[derive(Debug, Clone)]
pub enum Answer {
    /// An event (parsed JSON).
    Event(Value),
    /// A dead letter: its headers.
    DeadLetter(Vec<(String, String)>),
}

/// Runs the demo and prints to stdout. Returns the answers in input order.
pub async fn run(
    base: Config,
    options: &DemoOptions,
) -> anyhow::Result<Vec<(&'static str, Answer)>> {
    let run_id = format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let embedded;
    let mut config = base;
    let (brokers, topics) = match &options.brokers {
        None => {
            embedded = EmbeddedBroker::start(1).context("cannot start the embedded broker")?;
            let brokers = embedded.bootstrap_servers();
            let topics = (
                "stories.raw".to_string(),
                "stories.enriched".to_string(),
                "stories.dlq".to_string(),
            );
            embedded.create_topic(&topics.0, 3)?;
            embedded.create_topic(&topics.1, 3)?;
            embedded.create_topic(&topics.2, 1)?;
            // The mock cluster does not implement CreateTopics; the daemon finds this one.
            embedded.create_topic(&config.kafka.state_topic, 1)?;
            tracing::info!(%brokers, "embedded broker started");
            (brokers, topics)
        }
        Some(brokers) => {
            // Run-specific topics, so a demo never mixes with real traffic.
            let topics = (
                format!("copydesk-demo-{run_id}.raw"),
                format!("copydesk-demo-{run_id}.enriched"),
                format!("copydesk-demo-{run_id}.dlq"),
            );
            admin::ensure_topics(brokers, &[(&topics.0, 3), (&topics.1, 3), (&topics.2, 1)])
                .await
                .context("cannot create demo topics")?;
            (brokers.clone(), topics)
        }
    };
    config.kafka.brokers = brokers.clone();
    config.kafka.group_id = format!("copydesk-demo-{run_id}");
    config.kafka.input_topic = topics.0.clone();
    config.kafka.output_topic = topics.1.clone();
    config.kafka.dlq_topic = topics.2.clone();
    if options.brokers.is_some() {
        config.kafka.state_topic = format!("copydesk-demo-{run_id}.state");
    }
    // The mock broker answers faster than a real one; a short heartbeat makes the group join
    // quick too.
    config
        .kafka
        .consumer
        .entry("session.timeout.ms".into())
        .or_insert(RawValue::Int(6000));

    let positions = produce_samples(&brokers, &topics.0).await?;
    // A free port, so the demo never collides with a daemon already serving 9090.
    config.http.address = "127.0.0.1:0".into();
    let daemon = Daemon::new(config)?;
    let stop = CancellationToken::new();
    let daemon_task = tokio::spawn({
        let stop = stop.clone();
        async move { daemon.run(stop.cancelled_owned()).await }
    });

    let collected = tokio::task::spawn_blocking({
        let brokers = brokers.clone();
        let topics = topics.clone();
        let timeout = options.timeout;
        move || collect_answers(&brokers, &topics.1, &topics.2, SAMPLES.len(), timeout)
    })
    .await
    .context("collector task failed")?;
    stop.cancel();
    let daemon_result = daemon_task.await.context("daemon task failed")?;
    if options.brokers.is_some() {
        let names = [topics.0.as_str(), topics.1.as_str(), topics.2.as_str()];
        if let Err(err) = admin::delete_topics(&brokers, &names).await {
            tracing::warn!(%err, "cannot delete demo topics");
        }
    }
    daemon_result?;
    let answers = collected?;

    let mut ordered = Vec::new();
    for (index, sample) in SAMPLES.iter().enumerate() {
        let position = positions[index];
        match answers.get(&position) {
            Some(answer) => ordered.push((sample.name, answer.clone())),
            None => bail!("no answer for {}", sample.name),
        }
    }
    print_answers(&ordered, options.summary)?;
    Ok(ordered)
}

/// Produces every sample; returns each one's (partition, offset).
async fn produce_samples(brokers: &str, topic: &str) -> anyhow::Result<Vec<(i32, i64)>> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .create()
        .context("cannot create the demo producer")?;
    let mut positions = Vec::with_capacity(SAMPLES.len());
    for sample in SAMPLES {
        let delivered = producer
            .send(
                FutureRecord::to(topic)
                    .key(sample.name)
                    .payload(sample.bytes),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(err, _)| err)
            .with_context(|| format!("cannot produce {}", sample.name))?;
        positions.push((delivered.partition, delivered.offset));
    }
    tracing::info!(stories = SAMPLES.len(), %topic, "sample stories produced");
    Ok(positions)
}

type Answers = HashMap<(i32, i64), Answer>;

/// Reads the output and DLQ topics until `expected` answers arrived.
fn collect_answers(
    brokers: &str,
    output: &str,
    dlq: &str,
    expected: usize,
    timeout: Duration,
) -> anyhow::Result<Answers> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "copydesk-demo-reader")
        .set("enable.auto.commit", "false")
        .create()
        .context("cannot create the demo reader")?;
    let mut tpl = TopicPartitionList::new();
    for topic in [output, dlq] {
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        for t in metadata.topics() {
            for p in t.partitions() {
                tpl.add_partition_offset(topic, p.id(), rdkafka::Offset::Beginning)?;
            }
        }
    }
    consumer.assign(&tpl)?;
    let deadline = std::time::Instant::now() + timeout;
    let mut answers = Answers::new();
    while answers.len() < expected {
        if std::time::Instant::now() > deadline {
            bail!(
                "timed out after {timeout:?}: {} of {expected} stories answered",
                answers.len()
            );
        }
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message?;
        let headers: Vec<(String, String)> = message
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| {
                        let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                        (h.key.to_string(), value.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let position = (
            header("source.partition")
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1),
            header("source.offset")
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1),
        );
        let answer = if message.topic() == dlq {
            Answer::DeadLetter(headers)
        } else {
            let payload = message.payload().unwrap_or_default();
            Answer::Event(serde_json::from_slice(payload).context("event is not JSON")?)
        };
        answers.insert(position, answer);
    }
    Ok(answers)
}

fn print_answers(answers: &[(&str, Answer)], summary: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (name, answer) in answers {
        match (answer, summary) {
            (Answer::Event(event), true) => {
                let headline = event["ninjs"]["headlines"][0]["value"]
                    .as_str()
                    .unwrap_or("");
                writeln!(
                    out,
                    "event        {name:<30} {:<44} {:>5} words  {}",
                    event["id"].as_str().unwrap_or(""),
                    event["enrichment"]["word_count"],
                    headline
                )?;
            }
            (Answer::Event(event), false) => {
                writeln!(out, "{}", serde_json::to_string_pretty(event)?)?;
            }
            (Answer::DeadLetter(headers), _) => {
                let get = |k: &str| {
                    headers
                        .iter()
                        .find(|(key, _)| key == k)
                        .map_or("", |(_, v)| v.as_str())
                };
                if summary {
                    writeln!(
                        out,
                        "dead letter  {name:<30} {}: {}",
                        get("error.class"),
                        get("error.message")
                    )?;
                } else {
                    let object: serde_json::Map<String, Value> = headers
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect();
                    let wrapped =
                        serde_json::json!({ "dead_letter": { "input": name, "headers": object } });
                    writeln!(out, "{}", serde_json::to_string_pretty(&wrapped)?)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_file_is_bundled() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stories");
        let mut on_disk = Vec::new();
        for dir in [root.clone(), root.join("bad")] {
            for entry in std::fs::read_dir(&dir).expect("examples dir") {
                let path = entry.expect("entry").path();
                if path.is_file() && path.extension().is_some_and(|e| e != "md") {
                    let rel = path.strip_prefix(&root).expect("under root");
                    on_disk.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        on_disk.sort();
        let mut bundled: Vec<String> = SAMPLES.iter().map(|s| s.name.to_string()).collect();
        bundled.sort();
        assert_eq!(on_disk, bundled);
    }
}
