//! copydesk: a Kafka-side copy desk for news wire stories.
//!
//! It reads raw stories from an input topic, decodes any wire format into a [`story::Story`],
//! runs a chain of synchronous stages over it, and publishes a structured event (a ninjs 3.1
//! object plus an enrichment envelope) to an output topic — or a dead letter with the
//! original bytes and the reason to a DLQ topic. Delivery is at-least-once: an input offset is
//! stored only after its output, and every earlier output of its partition, is acknowledged.
//!
//! # Layout
//!
//! | module | role |
//! |---|---|
//! | [`cli`] | subcommands `run`, `demo`, `process`, `check-config`; exit codes |
//! | [`config`] | typed configuration, defaults, env overrides, validation |
//! | [`app`] | wires source → pipeline → sink; shutdown and task ownership |
//! | [`kafka`] | consumer ([`kafka::source`]), ordered offsets ([`kafka::offsets`]), producer and DLQ ([`kafka::sink`]), topic admin, embedded broker |
//! | [`story`] | the `Story` model shared by every stage |
//! | [`decode`] | bytes → `Story`: format detection, one file per format |
//! | [`pipeline`] | the `Stage` trait and the chain runner |
//! | [`normalise`] | one file per clean-up concern: unicode, layout, MT repair |
//! | [`enrich`] | one file per enrichment stage |
//! | [`encode`] | `Story` → event JSON |
//! | [`hash`] | the hasher for keys that already are hashes |
//! | [`telemetry`] | logs and counters |
//! | [`demo`] | `copydesk demo` on an embedded broker |
//! | [`bench`] | `copydesk bench`: throughput, latency and RSS against a real broker, with baselines |

pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod decode;
pub mod demo;
pub mod encode;
pub mod enrich;
pub mod hash;
pub mod kafka;
pub mod normalise;
pub mod pipeline;
pub mod state;
pub mod story;
pub mod telemetry;
