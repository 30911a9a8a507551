//! `copydesk bench`: throughput and latency against a real broker, with baselines.
//!
//! For each mode it creates fresh topics, preloads N stories (a 2–6 KB mix of the bundled
//! formats, each made unique), starts the relay and times it until every story is answered:
//! - `raw`: a minimal rdkafka consume → produce loop that stores offsets after delivery —
//!   the ceiling for any relay on this broker and machine;
//! - `passthrough`: copydesk with every stage off (decode → encode);
//! - `full`: copydesk with the default stages.
//!
//! Then it offers a fixed load (default 1,000 stories/s) to the full pipeline and measures
//! end-to-end latency (input record timestamp → output record timestamp), and reports the
//! daemon's peak RSS after a 10 % backlog and after the full backlog. The copydesk modes run
//! the daemon as a child process (`copydesk run`), so its memory is measured apart from the
//! bench's own corpus, preloading producer and reader.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures::StreamExt as _;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, Timestamp, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::app::Daemon;
use crate::config::{Config, StagesConfig};
use crate::demo::SAMPLES;
use crate::kafka::admin;

/// Options of `copydesk bench`.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Broker to run against.
    pub brokers: String,
    /// Stories preloaded per mode.
    pub stories: usize,
    /// Partitions of the bench topics.
    pub partitions: i32,
    /// Offered load for the latency run (stories/s).
    pub rate: u32,
    /// Length of the latency run.
    pub latency_secs: u64,
}

/// A `copydesk run` child process with a config file of its own.
struct DaemonProcess {
    child: std::process::Child,
    config_path: std::path::PathBuf,
}

impl DaemonProcess {
    fn start(config: &Config) -> anyhow::Result<Self> {
        let config_path = std::env::temp_dir().join(format!(
            "copydesk-bench-{}-{}.toml",
            std::process::id(),
            config.kafka.group_id
        ));
        std::fs::write(&config_path, config.to_toml())
            .with_context(|| format!("cannot write {}", config_path.display()))?;
        let exe = std::env::current_exe().context("cannot find the copydesk binary")?;
        let child = std::process::Command::new(exe)
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("cannot start copydesk run")?;
        Ok(Self { child, config_path })
    }

    /// Peak resident set size so far (VmHWM), in kB.
    fn peak_rss_kb(&self) -> u64 {
        vm_hwm_kb(&format!("/proc/{}/status", self.child.id()))
    }

    /// User plus system CPU time the daemon has used so far, every thread included.
    fn cpu_time(&self) -> Option<Duration> {
        process_cpu(&format!("/proc/{}/stat", self.child.id()))
    }

    /// SIGTERM, then waits for a clean exit.
    fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .context("cannot run kill")?;
        let status = self.child.wait().context("cannot wait for copydesk")?;
        if !status.success() {
            bail!("copydesk exited with {status}");
        }
        Ok(())
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.config_path);
    }
}

/// One throughput result.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// Mode name.
    pub mode: &'static str,
    /// Stories answered.
    pub stories: usize,
    /// Wall time from start to last answer.
    pub elapsed: Duration,
    /// Input bytes.
    pub bytes: usize,
    /// Peak RSS of the daemon process (copydesk modes), in kB.
    pub peak_rss_kb: Option<u64>,
    /// CPU time of the daemon process over the whole run, start-up included (copydesk
    /// modes, where the kernel tells it).
    pub cpu: Option<Duration>,
}

impl Throughput {
    fn per_sec(&self) -> f64 {
        self.stories as f64 / self.elapsed.as_secs_f64()
    }
    fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }
    /// Daemon CPU per story, µs: unlike stories/s, hardly moved by what else the shared
    /// machine runs at the time, so runs compare.
    fn cpu_us_per_story(&self) -> Option<f64> {
        self.cpu
            .map(|cpu| cpu.as_secs_f64() * 1e6 / self.stories.max(1) as f64)
    }
}

/// Makes `n` distinct stories from the bundled samples (good ones only), 2–6 KB each.
pub fn corpus(n: usize) -> Vec<Vec<u8>> {
    let good: Vec<&[u8]> = SAMPLES
        .iter()
        .filter(|s| !s.name.starts_with("bad/"))
        .map(|s| s.bytes)
        .collect();
    (0..n)
        .map(|i| {
            let base = good[i % good.len()];
            let text = String::from_utf8_lossy(base);
            // Sizes vary from about 2 KB to 6 KB: trim or repeat the body.
            let target = 2_000 + (i * 7_919) % 4_000;
            if text.trim_start().starts_with('{') {
                let mut v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                v["id"] = format!("bench-{i}").into();
                if let Some(body) = v["body"].as_str().map(str::to_string) {
                    v["body"] = resize(&body, target).into();
                }
                v.to_string().into_bytes()
            } else {
                let (head, body) = text.split_once('\n').unwrap_or((&text, ""));
                format!("{head} ({i})\n{}", resize(body, target)).into_bytes()
            }
        })
        .collect()
}

fn resize(body: &str, target: usize) -> String {
    let mut out = String::with_capacity(target + 200);
    while out.len() < target {
        for para in body.split("\n\n") {
            if out.len() >= target {
                break;
            }
            out.push_str(para);
            out.push_str("\n\n");
        }
        if body.is_empty() {
            break;
        }
    }
    out
}

#[derive(Debug, Clone)]
struct BenchTopics {
    input: String,
    output: String,
    dlq: String,
    group: String,
}

async fn fresh_topics(brokers: &str, mode: &str, partitions: i32) -> anyhow::Result<BenchTopics> {
    let run = format!(
        "bench-{}-{mode}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let t = BenchTopics {
        input: format!("{run}.raw"),
        output: format!("{run}.enriched"),
        dlq: format!("{run}.dlq"),
        group: format!("{run}-group"),
    };
    admin::ensure_topics(
        brokers,
        &[(&t.input, partitions), (&t.output, partitions), (&t.dlq, 1)],
    )
    .await
    .context("create bench topics")?;
    Ok(t)
}

async fn preload(brokers: &str, topic: &str, stories: &[Vec<u8>]) -> anyhow::Result<()> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "1000000")
        .create()?;
    let mut pending = VecDeque::new();
    for (i, s) in stories.iter().enumerate() {
        let key = format!("k{i}");
        let f = producer
            .send_result(FutureRecord::to(topic).key(&key).payload(s))
            .map_err(|(e, _)| e)?;
        pending.push_back(f);
        while pending.len() > 10_000 {
            if let Some(f) = pending.pop_front() {
                f.await?.map_err(|(e, _)| e)?;
            }
        }
    }
    for f in pending {
        f.await?.map_err(|(e, _)| e)?;
    }
    Ok(())
}

/// Counts records on `topics` until `n` arrived, from the beginning; returns when done.
fn count_until(
    brokers: &str,
    topics: &[&str],
    partitions: i32,
    n: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<i64>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "copydesk-bench-reader")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for (i, topic) in topics.iter().enumerate() {
        for p in 0..(if i == 0 { partitions } else { 1 }) {
            tpl.add_partition_offset(topic, p, Offset::Beginning)?;
        }
    }
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + timeout;
    let mut seen = 0;
    let mut timestamps = Vec::with_capacity(n);
    while seen < n {
        if Instant::now() > deadline {
            bail!("timed out: {seen} of {n} answered");
        }
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m?;
            seen += 1;
            if let Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) = m.timestamp() {
                timestamps.push(t);
            }
        }
    }
    Ok(timestamps)
}

/// The minimal relay: consume, produce, store the offset after delivery (in order).
async fn raw_relay(brokers: &str, t: &BenchTopics, stop: CancellationToken) -> anyhow::Result<()> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", &t.group)
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[&t.input])?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        .create()?;
    let mut inflight = futures::stream::FuturesOrdered::new();
    let mut stream = consumer.stream();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            Some(done) = inflight.next(), if !inflight.is_empty() => {
                let (topic, partition, offset): (String, i32, i64) = done;
                consumer.store_offset(&topic, partition, offset)?;
            }
            Some(message) = stream.next(), if inflight.len() < 2_000 => {
                let m = message?;
                let record = FutureRecord::to(&t.output)
                    .payload(m.payload().unwrap_or_default())
                    .key(m.key().unwrap_or_default());
                let delivery = producer.send_result(record).map_err(|(e, _)| e)?;
                let coords = (m.topic().to_string(), m.partition(), m.offset());
                inflight.push_back(async move {
                    let _ = delivery.await;
                    coords
                });
            }
        }
    }
    Ok(())
}

fn vm_hwm_kb(status_path: &str) -> u64 {
    std::fs::read_to_string(status_path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// utime + stime of `/proc/<pid>/stat`, in clock ticks of USER_HZ: 100 on every
/// architecture Linux runs on (the kernel converts to it for user space), so not asked.
fn process_cpu(stat_path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields after it follow
    // the last ')'. utime and stime are fields 14 and 15, the 12th and 13th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn all_stages_off() -> StagesConfig {
    // Every switch in StagesConfig is a bool: turn them all off without naming them, so new
    // stages are covered automatically.
    let mut v = serde_json::to_value(StagesConfig::default()).unwrap_or_default();
    if let Some(map) = v.as_object_mut() {
        for value in map.values_mut() {
            *value = serde_json::Value::Bool(false);
        }
    }
    serde_json::from_value(v).unwrap_or_default()
}

fn daemon_config(base: &Config, brokers: &str, t: &BenchTopics) -> Config {
    let mut c = base.clone();
    c.kafka.brokers = brokers.into();
    c.kafka.group_id = t.group.clone();
    c.kafka.input_topic = t.input.clone();
    c.kafka.output_topic = t.output.clone();
    c.kafka.dlq_topic = t.dlq.clone();
    c.kafka.state_topic = format!("{}.state", t.group);
    c.http.enabled = false;
    c.log.progress_interval_ms = 0;
    c
}

async fn run_mode(
    mode: &'static str,
    base: &Config,
    options: &BenchOptions,
    stories: &[Vec<u8>],
) -> anyhow::Result<Throughput> {
    let brokers = &options.brokers;
    let t = fresh_topics(brokers, mode, options.partitions).await?;
    preload(brokers, &t.input, stories).await?;
    let stop = CancellationToken::new();
    let started = Instant::now();
    let (relay, daemon) = match mode {
        "raw" => {
            let (brokers, stop) = (brokers.clone(), stop.clone());
            let topics = t.clone();
            let relay = tokio::spawn(async move { raw_relay(&brokers, &topics, stop).await });
            (Some(relay), None)
        }
        _ => {
            let mut config = daemon_config(base, brokers, &t);
            if mode == "passthrough" {
                config.pipeline.stages = all_stages_off();
                config.dedup.enabled = false;
            }
            (None, Some(DaemonProcess::start(&config)?))
        }
    };
    let (b, out, dlq, n, p) = (
        brokers.clone(),
        t.output.clone(),
        t.dlq.clone(),
        stories.len(),
        options.partitions,
    );
    tokio::task::spawn_blocking(move || {
        count_until(&b, &[&out, &dlq], p, n, Duration::from_secs(1800))
    })
    .await??;
    let elapsed = started.elapsed();
    stop.cancel();
    if let Some(relay) = relay {
        relay.await??;
    }
    let peak_rss_kb = daemon.as_ref().map(DaemonProcess::peak_rss_kb);
    let cpu = daemon.as_ref().and_then(DaemonProcess::cpu_time);
    if let Some(daemon) = daemon {
        daemon.stop()?;
    }
    let _ = admin::delete_topics(brokers, &[&t.input, &t.output, &t.dlq]).await;
    let result = Throughput {
        mode,
        stories: stories.len(),
        elapsed,
        bytes: stories.iter().map(Vec::len).sum(),
        peak_rss_kb,
        cpu,
    };
    tracing::info!(
        mode,
        stories_per_s = format!("{:.0}", result.per_sec()),
        mb_per_s = format!("{:.1}", result.mb_per_sec()),
        "bench mode done"
    );
    Ok(result)
}

/// Latency at a fixed offered load through the full pipeline: (p50, p99) in ms.
async fn latency(base: &Config, options: &BenchOptions) -> anyhow::Result<(f64, f64, usize)> {
    let brokers = &options.brokers;
    let t = fresh_topics(brokers, "latency", options.partitions).await?;
    let daemon = Daemon::new(daemon_config(base, brokers, &t))?;
    let metrics = daemon.metrics();
    let stop = CancellationToken::new();
    let run = tokio::spawn({
        let stop = stop.clone();
        async move { daemon.run(stop.cancelled_owned()).await.map(|_| ()) }
    });
    // Wait for the group join (a first story answered) before offering load.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "0")
        .create()?;
    let warm = corpus(1);
    producer
        .send(
            FutureRecord::to(&t.input).key("warm").payload(&warm[0]),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| e)?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while metrics.snapshot().events == 0 {
        if Instant::now() > deadline {
            bail!("latency run: daemon never answered");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let n = (u64::from(options.rate) * options.latency_secs) as usize;
    let stories = corpus(n);
    let interval = Duration::from_secs_f64(1.0 / f64::from(options.rate.max(1)));
    let start = Instant::now();
    let mut sent_ms: Vec<i64> = Vec::with_capacity(n);
    for (i, s) in stories.iter().enumerate() {
        let due = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due.into()).await;
        let key = format!("l{i}");
        let now = chrono::Utc::now().timestamp_millis();
        sent_ms.push(now);
        producer
            .send_result(
                FutureRecord::to(&t.input)
                    .key(&key)
                    .payload(s)
                    .timestamp(now),
            )
            .map_err(|(e, _)| e)?;
    }
    let (b, out, dlq, p) = (
        brokers.clone(),
        t.output.clone(),
        t.dlq.clone(),
        options.partitions,
    );
    // The output's create time is set by copydesk's producer when it enqueues the event; the
    // input's is the time it was offered. Latencies come from the events' source headers.
    let outputs =
        tokio::task::spawn_blocking(move || latencies(&b, &out, &dlq, p, n + 1)).await??;
    stop.cancel();
    run.await??;
    let _ = admin::delete_topics(brokers, &[&t.input, &t.output, &t.dlq]).await;
    let mut lat = outputs;
    lat.sort_by(f64::total_cmp);
    let q = |f: f64| lat[((lat.len() as f64 - 1.0) * f).round() as usize];
    Ok((q(0.5), q(0.99), lat.len()))
}

/// Reads `n` outputs and returns, for each, output timestamp − `source.timestamp` in ms.
fn latencies(
    brokers: &str,
    output: &str,
    dlq: &str,
    partitions: i32,
    n: usize,
) -> anyhow::Result<Vec<f64>> {
    use rdkafka::message::Headers as _;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "copydesk-bench-latency")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(output, p, Offset::Beginning)?;
    }
    tpl.add_partition_offset(dlq, 0, Offset::Beginning)?;
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut out = Vec::with_capacity(n);
    let mut seen = 0;
    while seen < n && Instant::now() < deadline {
        let Some(m) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = m?;
        seen += 1;
        let produced = match m.timestamp() {
            Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => t,
            Timestamp::NotAvailable => continue,
        };
        let source = m.headers().and_then(|hs| {
            hs.iter()
                .find(|h| h.key == "source.timestamp")
                .and_then(|h| std::str::from_utf8(h.value?).ok())
                .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
                .map(|t| t.timestamp_millis())
        });
        if let Some(s) = source {
            out.push((produced - s) as f64);
        }
    }
    if seen < n {
        bail!("latency run: {seen} of {n} answered");
    }
    Ok(out)
}

/// Runs every measurement and returns the report as Markdown.
pub async fn run(base: Config, options: &BenchOptions) -> anyhow::Result<String> {
    let stories = corpus(options.stories);
    let small = &stories[..(options.stories / 10).max(1)];
    let mut results = Vec::new();
    for mode in ["raw", "passthrough"] {
        results.push(run_mode(mode, &base, options, &stories).await?);
    }
    let full_small = run_mode("full", &base, options, small).await?;
    let rss_small = full_small.peak_rss_kb.unwrap_or(0);
    let full = run_mode("full", &base, options, &stories).await?;
    let rss_full = full.peak_rss_kb.unwrap_or(0);
    results.push(full.clone());
    let (p50, p99, measured) = latency(&base, options).await?;

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut md = String::new();
    let _ = writeln!(md, "# copydesk benchmark\n");
    let _ = writeln!(
        md,
        "- date: {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(
        md,
        "- machine: {cores} cores ({cpu}); broker co-located on the same cores"
    );
    let _ = writeln!(
        md,
        "- broker: {} ; topics with {} partitions",
        options.brokers, options.partitions
    );
    let _ = writeln!(
        md,
        "- corpus: {} stories, 2–6 KB, mix of the bundled formats\n",
        options.stories
    );
    let _ = writeln!(
        md,
        "| mode | stories | seconds | stories/s | MB/s | daemon CPU µs/story |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
    for r in &results {
        let cpu = r
            .cpu_us_per_story()
            .map_or_else(|| "—".to_string(), |us| format!("{us:.0}"));
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {:.0} | {:.1} | {cpu} |",
            r.mode,
            r.stories,
            r.elapsed.as_secs_f64(),
            r.per_sec(),
            r.mb_per_sec()
        );
    }
    let raw = results[0].per_sec();
    let pass = results[1].per_sec();
    let _ = writeln!(
        md,
        "\n- pass-through / raw: **{:.0} %** (target ≥ 80 %)",
        100.0 * pass / raw
    );
    let _ = writeln!(
        md,
        "- full / pass-through: **{:.0} %**",
        100.0 * full.per_sec() / pass
    );
    let _ = writeln!(
        md,
        "- full pipeline: **{:.0} stories/s** (target ≥ 3,000)",
        full.per_sec()
    );
    let _ = writeln!(md, "- end-to-end latency at {} stories/s for {} s ({measured} stories): p50 **{p50:.0} ms**, p99 **{p99:.0} ms** (target p99 ≤ 50 ms)", options.rate, options.latency_secs);
    let _ = writeln!(
        md,
        "- peak RSS of the daemon process: {:.0} MB after a {}-story backlog, {:.0} MB after {} ({:+.0} %; target within 20 %)",
        rss_small as f64 / 1024.0,
        full_small.stories,
        rss_full as f64 / 1024.0,
        full.stories,
        100.0 * (rss_full as f64 - rss_small as f64) / (rss_small.max(1) as f64)
    );
    let _ = writeln!(md, "\nThe daemon runs as its own process (`copydesk run`), so its RSS excludes the bench's corpus, preloading producer and reader.");
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_cpu_reads_utime_and_stime_after_the_command_name() {
        let dir = std::env::temp_dir().join(format!("copydesk-stat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (line, want_ms) in [
            // a command name with a space and a parenthesis must not shift the fields
            (
                "4242 (copy desk) R) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0",
                Some(3_250),
            ),
            (
                "4242 (copydesk) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0",
                Some(0),
            ),
            ("4242 (copydesk) S 1 1", None),
            ("garbage", None),
        ] {
            let path = dir.join("stat");
            std::fs::write(&path, line).expect("write stat");
            let got = process_cpu(path.to_str().expect("utf-8 path"));
            assert_eq!(got, want_ms.map(Duration::from_millis), "{line}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        // and the real thing: this process has used some CPU by now
        assert!(process_cpu("/proc/self/stat").is_some());
    }
}
