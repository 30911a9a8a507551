//! `kafka.delivery = "exactly_once"` on a real Kafka connection (librdkafka's mock cluster):
//! a clean run answers each input exactly once for a `read_committed` reader; a crash in the
//! middle of a transaction followed by a restart loses nothing.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use copydesk::config::{Config, DeliveryMode};

const LONG: Duration = Duration::from_secs(90);

fn eos_config(brokers: &str, group: &str, txn_id: &str) -> Config {
    let mut cfg = config(brokers, group);
    cfg.kafka.delivery = DeliveryMode::ExactlyOnce;
    cfg.kafka.transactional_id = txn_id.into();
    cfg.kafka.transaction_max_records = 40;
    cfg
}

async fn wait_consumed(daemon: &Running, n: u64) {
    let deadline = Instant::now() + LONG;
    while daemon.counters.snapshot().consumed < n {
        assert!(!daemon.handle.is_finished(), "daemon stopped early");
        assert!(Instant::now() < deadline, "nothing consumed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads the output (read_committed, librdkafka's default) until `total` inputs are
/// answered; asserts none is answered twice.
fn assert_exactly_once(brokers: &str, total: usize) {
    let outputs = read_outputs(brokers, &[OUTPUT], total, LONG);
    let unique: HashSet<(i32, i64)> = outputs.iter().map(Output::source).collect();
    assert_eq!(unique.len(), total, "every input answered");
    assert_eq!(outputs.len(), total, "no input answered twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_run_answers_each_input_exactly_once() {
    let broker = broker(2);
    let brokers = broker.bootstrap_servers();
    produce_stories(&brokers, 0..300).await;
    let daemon = spawn_daemon(eos_config(&brokers, "g-eos-clean", "eos-clean"));
    assert_exactly_once(&brokers, 300);
    let snapshot = daemon.stop().await.expect("clean stop");
    assert_eq!(snapshot.consumed, 300, "no batch was aborted and re-read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_transaction_then_restart_loses_nothing() {
    let broker = broker(2);
    let brokers = broker.bootstrap_servers();
    let inputs = produce_stories(&brokers, 0..400).await;
    let cfg = eos_config(&brokers, "g-eos", "eos-crash");

    let victim = spawn_daemon(cfg.clone());
    wait_consumed(&victim, 150).await;
    // A crash: the task is dropped mid-batch, no commit, no abort.
    victim.handle.abort();
    let _ = victim.handle.await;

    // What the victim's committed transactions carried: outputs and, per partition, the
    // next input offset sent with them. Every input below that offset must be answered
    // exactly once. Outputs at or above it can only come from the transaction that was open
    // at the crash: a real broker hides them from read_committed readers once the restarted
    // instance's init_transactions aborts it, but librdkafka's mock cluster serves every
    // record to read_committed readers (its Fetch answers LastStableOffset = high watermark
    // and no aborted transactions), so the test sets them apart itself. A commit still
    // running on a blocking thread when the task was dropped may land a moment later, hence
    // the bounded wait for outputs and offsets to settle.
    let deadline = Instant::now() + LONG;
    let (before, resume) = loop {
        let resume: Vec<i64> = (0..2)
            .map(|p| victim.counters.transaction_offset(INPUT, p).unwrap_or(0))
            .collect();
        let visible = read_outputs(&brokers, &[OUTPUT], 400, Duration::from_secs(3));
        let below = |(p, o): &(i32, i64)| *o < resume[*p as usize];
        let committed_part: Vec<(i32, i64)> =
            visible.iter().map(Output::source).filter(below).collect();
        let unique: HashSet<(i32, i64)> = committed_part.iter().copied().collect();
        if unique.len() as i64 == resume.iter().sum::<i64>() {
            assert_eq!(
                committed_part.len(),
                unique.len(),
                "no committed input answered twice"
            );
            break (count_sources(&visible), resume);
        }
        assert!(
            Instant::now() < deadline,
            "{} committed outputs for transaction offsets {resume:?}",
            unique.len()
        );
    };
    let resumed_at: i64 = resume.iter().sum();
    assert!(resumed_at < 400, "the crash came before the end");
    for (&(p, o), &n) in &before {
        assert!(
            o < resume[p as usize] || n == 1,
            "({p}, {o}) of the open transaction written {n} times"
        );
    }

    // A real broker stores those offsets as the group's committed offsets when the
    // transaction commits (TxnOffsetCommit). The mock accepts the request but does not store
    // it (its handler only validates), so the test commits the same offsets through the
    // ordinary OffsetCommit API — the one step the mock leaves out.
    if committed(&brokers, "g-eos", 2).iter().any(|&o| o < 0) {
        commit_offsets(&brokers, "g-eos", &resume);
    }
    let restarted = spawn_daemon(cfg);
    let rest = 400 - resumed_at as u64;
    restarted.wait_answered(rest, LONG).await;
    let snapshot = restarted.stop().await.expect("clean stop");
    assert_eq!(
        snapshot.consumed, rest,
        "the restart resumed at the committed offsets"
    );
    let written = before.values().sum::<usize>() + rest as usize;
    let after = count_sources(&read_outputs(&brokers, &[OUTPUT], written, LONG));
    // What a read_committed reader of a real broker sees: the victim's committed outputs
    // plus everything the restart wrote — each input exactly once.
    for &(p, o) in &inputs {
        {
            let was = before.get(&(p, o)).copied().unwrap_or(0);
            let now = after.get(&(p, o)).copied().unwrap_or(0);
            let committed_before = usize::from(o < resume[p as usize]);
            let by_restart = now - was;
            assert_eq!(
                committed_before + by_restart,
                1,
                "input ({p}, {o}): {committed_before} committed before the crash, {by_restart} after"
            );
        }
    }
}

/// How many outputs answer each input.
fn count_sources(outputs: &[Output]) -> std::collections::HashMap<(i32, i64), usize> {
    let mut counts = std::collections::HashMap::new();
    for o in outputs {
        *counts.entry(o.source()).or_default() += 1;
    }
    counts
}

/// Commits `offsets` (one per input partition) for `group` with a plain OffsetCommit, as a
/// member of the group (the mock refuses commits from outside an existing group).
fn commit_offsets(brokers: &str, group: &str, offsets: &[i64]) {
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
    use rdkafka::{ClientConfig, Offset, TopicPartitionList};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        // The daemon's protocol (a member with another one would block its join) and a short
        // session, in case the leave below is not seen.
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", "6000")
        .create()
        .expect("consumer");
    consumer.subscribe(&[INPUT]).expect("subscribe");
    let mut tpl = TopicPartitionList::new();
    for (p, o) in offsets.iter().enumerate() {
        tpl.add_partition_offset(INPUT, p as i32, Offset::Offset(*o))
            .expect("offset");
    }
    // The join completes once the group has dropped the crashed member.
    let deadline = Instant::now() + LONG;
    loop {
        let _ = consumer.poll(Duration::from_millis(200));
        let owned = consumer.assignment().map(|a| a.count()).unwrap_or(0);
        if owned == offsets.len() {
            match consumer.commit(&tpl, CommitMode::Sync) {
                Ok(()) => {
                    consumer.unsubscribe();
                    for _ in 0..5 {
                        let _ = consumer.poll(Duration::from_millis(100));
                    }
                    return;
                }
                Err(err) => assert!(Instant::now() < deadline, "commit: {err}"),
            }
        }
        assert!(Instant::now() < deadline, "never joined {group}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_instance_stops_with_a_clear_message() {
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    let broker = broker(2);
    let brokers = broker.bootstrap_servers();
    produce_stories(&brokers, 0..40).await;
    let cfg = eos_config(&brokers, "g-eos-fence", "eos-fence");
    let daemon = spawn_daemon(cfg);
    daemon.wait_answered(40, LONG).await;
    // What the transaction coordinator answers a zombie once a newer instance with the same
    // transactional.id has bumped the epoch. (The mock gives a second instance a new
    // producer id instead of bumping the epoch, so the answer is injected.)
    let cluster = broker.cluster();
    for api in [RDKafkaApiKey::AddPartitionsToTxn, RDKafkaApiKey::EndTxn] {
        cluster.request_errors(api, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_PRODUCER_FENCED; 8]);
    }
    produce_stories(&brokers, 40..80).await;
    let deadline = Instant::now() + LONG;
    while !daemon.handle.is_finished() {
        assert!(Instant::now() < deadline, "a fenced instance keeps running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let err = daemon
        .handle
        .await
        .expect("daemon task")
        .expect_err("a fenced instance fails");
    let message = format!("{err:#}");
    assert!(message.contains("fenced"), "{message}");
    assert!(
        message.contains("eos-fence"),
        "names the transactional.id: {message}"
    );
    // Nothing of the fenced batch is committed: the group's offsets stay at the first 40.
    let stored = committed(&brokers, "g-eos-fence", 2);
    assert!(stored.iter().all(|&o| o <= 40), "{stored:?}");
}
