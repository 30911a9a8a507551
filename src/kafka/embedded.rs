//! An in-process Kafka-protocol broker: librdkafka's mock cluster. Used by `copydesk demo`
//! (zero setup) and by the fast integration tests. It speaks the real protocol over real
//! sockets; it is plaintext only and keeps everything in memory.

use rdkafka::error::KafkaResult;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

/// A running mock cluster. Dropping it stops the brokers.
pub struct EmbeddedBroker {
    cluster: MockCluster<'static, DefaultProducerContext>,
}

impl EmbeddedBroker {
    /// Starts `brokers` in-process brokers on free loopback ports.
    pub fn start(brokers: i32) -> KafkaResult<Self> {
        Ok(Self {
            cluster: MockCluster::new(brokers)?,
        })
    }

    /// `host:port,…` to give clients.
    pub fn bootstrap_servers(&self) -> String {
        self.cluster.bootstrap_servers()
    }

    /// Creates a topic with replication factor 1.
    pub fn create_topic(&self, name: &str, partitions: i32) -> KafkaResult<()> {
        self.cluster.create_topic(name, partitions, 1)
    }

    /// The underlying mock cluster, for fault injection in tests.
    pub fn cluster(&self) -> &MockCluster<'static, DefaultProducerContext> {
        &self.cluster
    }
}
