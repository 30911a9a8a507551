//! Story identity over a real Kafka connection (librdkafka's mock cluster): versions,
//! re-sends, near-duplicates and kills, with the state shared by a consumer group through
//! the compacted state topic and surviving a restart.

mod common;

use std::time::Duration;

use common::*;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::{json, Value};

const LONG: Duration = Duration::from_secs(60);

const BODY: &str = "Rescue teams searched collapsed buildings in the coastal city on Monday \
    after a magnitude 7.1 earthquake struck before dawn, killing at least 12 people and \
    injuring dozens more, the regional governor said. Power and water supplies were cut \
    across the province, and the main highway along the coast was closed by landslides \
    near the port. Hospitals treated the injured in tents set up in car parks as \
    aftershocks continued through the morning. The national weather agency lifted a \
    tsunami warning three hours after the quake, which was centred about 40 kilometres \
    offshore at a depth of 30 kilometres.";

fn wire(id: &str, provider: &str, version: u32, headline: &str, body: &str) -> Vec<u8> {
    json!({
        "id": id,
        "provider": provider,
        "version": version.to_string(),
        "headline": headline,
        "slugline": "QUAKE-COAST",
        "body": body,
    })
    .to_string()
    .into_bytes()
}

/// Produces one record to an explicit input partition.
async fn produce_to(brokers: &str, partition: i32, key: &str, payload: &[u8]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::to(INPUT)
                .partition(partition)
                .key(key)
                .payload(payload),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| e)
        .expect("delivered");
}

fn events(brokers: &str, n: usize) -> Vec<Value> {
    let outputs = read_outputs(brokers, &[OUTPUT], n, LONG);
    assert_eq!(outputs.len(), n, "events on the output topic");
    outputs.iter().map(Output::json).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn near_duplicate_on_another_instance_is_detected() {
    let broker = broker(2);
    let brokers = broker.bootstrap_servers();
    let cfg = config(&brokers, "g-near");
    let first = spawn_daemon(cfg.clone());
    let second = spawn_daemon(cfg);
    // Both members own one partition each once the group settles.
    let deadline = std::time::Instant::now() + LONG;
    while first.counters.snapshot().rebalances == 0 || second.counters.snapshot().rebalances == 0 {
        assert!(std::time::Instant::now() < deadline, "group never formed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let original = wire("q-1", "agency-a", 1, "Quake kills 12 on coast", BODY);
    produce_to(&brokers, 0, "q-1", &original).await;
    events(&brokers, 1);
    let rewrite = wire(
        "77-xyz",
        "agency-b",
        1,
        "Earthquake kills at least 12",
        &BODY.replace("before dawn", "before dawn local time"),
    );
    produce_to(&brokers, 1, "77-xyz", &rewrite).await;
    let all = events(&brokers, 2);
    let a = first.stop().await.expect("clean stop");
    let b = second.stop().await.expect("clean stop");
    assert_eq!(
        (a.events, b.events),
        (1, 1),
        "one story on each instance (the state crossed instances through the state topic)"
    );
    let second_event = all
        .iter()
        .find(|e| e["id"] == "agency-b:77-xyz")
        .expect("rewrite event");
    let identity = &second_event["enrichment"]["identity"];
    assert_eq!(identity["status"], "near_duplicate", "{identity}");
    assert_eq!(identity["duplicate_of"]["id"], "agency-a:q-1");
    assert!(identity["duplicate_of"]["similarity"].as_f64().unwrap() > 0.9);
    for e in &all {
        schema::assert_valid_event(e);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_version_tracking_and_drop_exact_drops_resends() {
    let broker = broker(1);
    let brokers = broker.bootstrap_servers();
    let mut cfg = config(&brokers, "g-versions");
    cfg.dedup.drop_exact = true;

    let v1 = wire("q-9", "agency-a", 1, "Quake kills 12 on coast", BODY);
    produce_to(&brokers, 0, "q-9", &v1).await;
    let daemon = spawn_daemon(cfg.clone());
    daemon.wait_answered(1, LONG).await;
    daemon.stop().await.expect("clean stop");

    // A new process: all it knows comes from the state topic.
    let body2 = BODY.replace("at least 12", "at least 15");
    let v2 = wire("q-9", "agency-a", 2, "Quake kills 15 on coast", &body2);
    produce_to(&brokers, 0, "q-9", &v2).await;
    produce_to(&brokers, 0, "q-9", &v2).await; // an identical re-send
    produce_to(&brokers, 0, "q-9", &v1).await; // an older version arriving late
    let mut kill = json!({
        "id": "q-9", "provider": "agency-a", "version": "3", "pubStatus": "canceled",
        "headline": "KILL - Quake kills 15 on coast", "body": "This story has been withdrawn."
    });
    produce_to(&brokers, 0, "q-9", kill.to_string().as_bytes()).await;
    kill["id"] = json!("q-10"); // a kill notice under its own id, naming the slug
    kill["slugline"] = json!("KILL-QUAKE-COAST");
    kill["pubStatus"] = json!("usable");
    produce_to(&brokers, 0, "q-10", kill.to_string().as_bytes()).await;

    let restarted = spawn_daemon(cfg);
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let s = restarted.counters.snapshot();
        if s.events + s.duplicates_dropped >= 5 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not answered: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let snapshot = restarted.stop().await.expect("clean stop");
    assert_eq!(
        snapshot.duplicates_dropped, 2,
        "re-send and older version dropped"
    );
    assert_eq!(
        snapshot.consumed,
        snapshot.events + snapshot.dead_letters + snapshot.duplicates_dropped
    );
    assert_eq!(
        committed(&brokers, "g-versions", 1),
        vec![6],
        "dropped offsets stored"
    );

    let all = events(&brokers, 4);
    let identity = |i: usize| all[i]["enrichment"]["identity"].clone();
    assert_eq!(identity(0)["status"], "new");
    assert_eq!(identity(1)["status"], "version", "{}", identity(1));
    let version_of = &identity(1)["version_of"];
    assert_eq!(version_of["previous_version"], "1");
    assert_eq!(version_of["headline_changed"], true);
    assert_eq!(identity(2)["notice"]["kind"], "kill");
    assert_eq!(identity(2)["notice"]["target"], "agency-a:q-9");
    assert_eq!(all[2]["ninjs"]["pubStatus"], "canceled");
    assert_eq!(identity(3)["notice"]["kind"], "kill");
    assert_eq!(
        identity(3)["notice"]["target"],
        "agency-a:q-9",
        "found by slug"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ninjs_output_format_publishes_bare_ninjs() {
    let broker = broker(1);
    let brokers = broker.bootstrap_servers();
    let mut cfg = config(&brokers, "g-ninjs");
    cfg.output.format = copydesk::encode::OutputFormat::Ninjs;
    produce_stories(&brokers, 0..3).await;
    let daemon = spawn_daemon(cfg);
    daemon.wait_answered(3, LONG).await;
    daemon.stop().await.expect("clean stop");
    let outputs = read_outputs(&brokers, &[OUTPUT], 3, LONG);
    assert_eq!(outputs.len(), 3);
    for o in &outputs {
        assert_eq!(o.headers["copydesk.schema"], "ninjs/3.1");
        let doc = o.json();
        assert!(doc.get("enrichment").is_none());
        assert!(schema::ninjs().is_valid(&doc), "{doc}");
    }
}
