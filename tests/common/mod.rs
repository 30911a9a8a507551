//! Shared helpers for the Kafka integration tests: a real in-process broker (librdkafka's
//! mock cluster), a producer of test stories, a daemon runner and an output reader.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub mod schema;

use copydesk::app::Daemon;
use copydesk::config::{Config, RawValue};
use copydesk::kafka::embedded::EmbeddedBroker;
use copydesk::telemetry::{CounterSnapshot, Metrics};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const INPUT: &str = "stories.raw";
pub const OUTPUT: &str = "stories.enriched";
pub const DLQ: &str = "stories.dlq";
pub const STATE: &str = "stories.state";

/// A broker with the three topics created.
pub fn broker(input_partitions: i32) -> EmbeddedBroker {
    let broker = EmbeddedBroker::start(1).expect("mock cluster");
    broker
        .create_topic(INPUT, input_partitions)
        .expect("input topic");
    broker.create_topic(OUTPUT, 1).expect("output topic");
    broker.create_topic(DLQ, 1).expect("dlq topic");
    broker.create_topic(STATE, 1).expect("state topic");
    broker
}

/// Daemon configuration for `brokers` and `group`.
pub fn config(brokers: &str, group: &str) -> Config {
    if std::env::var_os("COPYDESK_TEST_LOG").is_some() {
        copydesk::telemetry::init_logging(&copydesk::config::LogConfig {
            level: "copydesk=debug".into(),
            ..Default::default()
        });
    }
    let mut config = Config::default();
    config.kafka.brokers = brokers.to_string();
    config.kafka.group_id = group.to_string();
    config.kafka.input_topic = INPUT.into();
    config.kafka.output_topic = OUTPUT.into();
    config.kafka.dlq_topic = DLQ.into();
    config.kafka.state_topic = STATE.into();
    config
        .kafka
        .consumer
        .insert("session.timeout.ms".into(), RawValue::Int(6000));
    config
        .kafka
        .consumer
        .insert("auto.commit.interval.ms".into(), RawValue::Int(100));
    config.shutdown.drain_timeout_ms = 10_000;
    config.http.address = "127.0.0.1:0".into();
    config
}

/// A JSON test story with a sequence number.
pub fn story(i: usize) -> Vec<u8> {
    serde_json::json!({
        "id": format!("s{i}"),
        "provider": "test",
        "headline": format!("Story number {i}"),
        "body": format!("Paragraph one of story {i}.\n\nParagraph two, with a few more words in it."),
    })
    .to_string()
    .into_bytes()
}

/// A record to produce: key, payload, headers.
pub type TestRecord<'a> = (String, Vec<u8>, Vec<(&'a str, &'a str)>);

/// Produces records; returns (partition, offset) of each.
pub async fn produce(brokers: &str, records: &[TestRecord<'_>]) -> Vec<(i32, i64)> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    let futures: Vec<_> = records
        .iter()
        .map(|(key, payload, headers)| {
            let mut hs = OwnedHeaders::new();
            for (k, v) in headers {
                hs = hs.insert(rdkafka::message::Header {
                    key: k,
                    value: Some(*v),
                });
            }
            producer.send(
                FutureRecord::to(INPUT)
                    .key(key)
                    .payload(payload)
                    .headers(hs),
                Duration::from_secs(30),
            )
        })
        .collect();
    let mut positions = Vec::with_capacity(records.len());
    for f in futures {
        let d = f.await.map_err(|(e, _)| e).expect("delivered");
        positions.push((d.partition, d.offset));
    }
    positions
}

/// Produces `n` test stories keyed by their id.
pub async fn produce_stories(brokers: &str, range: std::ops::Range<usize>) -> Vec<(i32, i64)> {
    let records: Vec<_> = range.map(|i| (format!("s{i}"), story(i), vec![])).collect();
    produce(brokers, &records).await
}

/// A daemon running in the background.
pub struct Running {
    pub stop: CancellationToken,
    pub counters: Arc<Metrics>,
    pub http: Option<std::net::SocketAddr>,
    pub handle: JoinHandle<anyhow::Result<CounterSnapshot>>,
}

pub fn spawn_daemon(config: Config) -> Running {
    let daemon = Daemon::new(config).expect("daemon");
    let counters = daemon.metrics();
    let http = daemon.http_addr();
    let stop = CancellationToken::new();
    let handle = tokio::spawn({
        let stop = stop.clone();
        async move { daemon.run(stop.cancelled_owned()).await }
    });
    Running {
        stop,
        counters,
        http,
        handle,
    }
}

impl Running {
    pub async fn stop(self) -> anyhow::Result<CounterSnapshot> {
        self.stop.cancel();
        self.handle.await.expect("daemon task")
    }

    /// Waits until the daemon has answered at least `n` records (events + dead letters).
    pub async fn wait_answered(&self, n: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.counters.snapshot();
            if s.events + s.dead_letters >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {n} answers: {s:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One output record.
#[derive(Debug, Clone)]
pub struct Output {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub headers: HashMap<String, String>,
    pub raw_headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Output {
    /// The input (partition, offset) this answers, from the `source.*` headers.
    pub fn source(&self) -> (i32, i64) {
        (
            self.headers["source.partition"]
                .parse()
                .expect("partition header"),
            self.headers["source.offset"]
                .parse()
                .expect("offset header"),
        )
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.payload).expect("event JSON")
    }
}

/// Reads every record of `topics` from the beginning until `n` arrived or `timeout`.
pub fn read_outputs(brokers: &str, topics: &[&str], n: usize, timeout: Duration) -> Vec<Output> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .expect("reader");
    let mut tpl = TopicPartitionList::new();
    for topic in topics {
        let md = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        for t in md.topics() {
            for p in t.partitions() {
                tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
                    .expect("tpl");
            }
        }
    }
    consumer.assign(&tpl).expect("assign");
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    // Once `n` records arrived, read on to the end of every partition as it is then: a
    // retry may have written duplicates, and stopping at `n` would hide later originals.
    let mut ends: Option<HashMap<(String, i32), i64>> = None;
    let mut positions: HashMap<(String, i32), i64> = HashMap::new();
    while Instant::now() < deadline {
        if out.len() >= n && ends.is_none() {
            let mut e = HashMap::new();
            for el in tpl.elements() {
                let (_, high) = consumer
                    .fetch_watermarks(el.topic(), el.partition(), Duration::from_secs(10))
                    .expect("watermarks");
                e.insert((el.topic().to_string(), el.partition()), high);
            }
            ends = Some(e);
        }
        if let Some(e) = &ends {
            // The consumer's position, not the last record's offset: transaction markers
            // occupy offsets no record is returned for.
            let position = consumer.position().expect("position");
            let at_end = e.iter().all(|((topic, partition), high)| {
                *high == 0
                    || position
                        .find_partition(topic, *partition)
                        .and_then(|el| el.offset().to_raw())
                        .is_some_and(|p| p >= *high)
                    || positions
                        .get(&(topic.clone(), *partition))
                        .is_some_and(|p| p + 1 >= *high)
            });
            if at_end {
                break;
            }
        }
        let Some(msg) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let msg = msg.expect("message");
        positions.insert((msg.topic().to_string(), msg.partition()), msg.offset());
        let raw_headers: Vec<(String, Option<Vec<u8>>)> = msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        let headers = raw_headers
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    String::from_utf8_lossy(v.as_deref().unwrap_or_default()).into_owned(),
                )
            })
            .collect();
        out.push(Output {
            topic: msg.topic().to_string(),
            key: msg.key().map(<[u8]>::to_vec),
            payload: msg.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            headers,
            raw_headers,
        });
    }
    out
}

/// The group's committed offsets for the input topic's partitions.
pub fn committed(brokers: &str, group: &str, partitions: i32) -> Vec<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(INPUT, p);
    }
    let committed = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed");
    (0..partitions)
        .map(
            |p| match committed.find_partition(INPUT, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => o,
                _ => -1,
            },
        )
        .collect()
}

/// Number of records per input partition, from produced positions.
pub fn per_partition(positions: &[(i32, i64)], partitions: i32) -> Vec<i64> {
    (0..partitions)
        .map(|p| positions.iter().filter(|(pp, _)| *pp == p).count() as i64)
        .collect()
}

/// A plain HTTP/1.1 GET on loopback: (status code, body).
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The value of an unlabelled sample (`name value`) in a metrics text.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}
